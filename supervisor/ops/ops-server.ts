// The ops HTTP listener on the supervisor thread: /healthz, /livez,
// /readyz, /metrics, the live status page (/status, its snapshot and its
// server-sent event feed) and, read-only, an account's risk counters
// behind a bearer token.
//
// It shares its thread with access control and the admin socket, so no
// request may throw out of a handler: an exception escaping into
// uWebSockets.js ends the process, every lane with it. One handler takes
// every request; routing, the method and body rules, auth and the answer
// are plain functions of what the request said, and whatever goes wrong
// becomes a 500 that is counted. Every refusal is counted by reason
// (gatehouse_ops_http_errors_total).
import { createHash, timingSafeEqual } from 'node:crypto'
import uWS from 'uWebSockets.js'
import type { Registry } from 'prom-client'
import { listenExclusive } from '../../platform/exclusive-listen.js'
import { explainListenFailure, sectionFields } from '../../platform/listen-failure.js'
import { isLoopbackHost } from '../../platform/loopback.js'
import { STATUS_PAGE_CSP, STATUS_PAGE_HTML } from './status-page.js'
import type { StatusWindow } from './status-window.js'
import { nowMillis } from '../../protocol/clock.js'

export interface OpsServerOptions {
  host: string
  port: number
  /** Serve HTTPS with this certificate and key (uWS SSLApp). */
  tls?: { certFile: string, keyFile: string, passphrase?: string | undefined } | undefined
  /** The bearer token every route but /healthz and /metrics requires. */
  token: string
  /** Current health: HTTP 200 when `ok`, 503 otherwise. */
  health: () => { ok: boolean, body: unknown }
  /** An account's risk counters (RiskControl.counters), or null if the account is unknown. */
  counters: (account: string) => unknown
  /** The Prometheus registry /metrics exposes (metrics.ts); without one, /metrics is 404. */
  metrics?: Registry
  /** Readiness for /readyz: HTTP 200 when `ok`, 503 otherwise. Without it, /readyz answers as /healthz. */
  readiness?: () => { ok: boolean, body: unknown }
  /** What the status page shows (status-window.ts); without one, the /status routes are 404. */
  status?: StatusWindow
}

/** Why the ops port refused a request or failed it: the label of gatehouse_ops_http_errors_total. */
export const OPS_ERROR_REASONS = ['bad_request', 'unauthorized', 'forbidden', 'not_found', 'method_not_allowed', 'body_refused', 'busy', 'internal'] as const
export type OpsErrorReason = typeof OPS_ERROR_REASONS[number]

/** Longest account ID /accounts/<id>/counters looks up (config IDs are at most 32). */
export const MAX_ACCOUNT_ID_CHARS = 64
/**
 * /metrics collections running at once. Each one holds the response open
 * while prom-client walks every collector, so a burst of scrapers would
 * queue work on the supervisor thread without bound; past this they get 503.
 */
export const MAX_CONCURRENT_SCRAPES = 4
/**
 * Status feeds (/status/events) open at once. Each holds a connection and
 * gets a snapshot a second, built once and written to all; past this a
 * new one gets 503, so watchers cannot grow the supervisor's work without bound.
 */
export const MAX_STATUS_FEEDS = 8
/** A feed whose client has not taken a snapshot for this long is closed (a stalled reader must not hold a slot). */
export const STATUS_FEED_STALL_MS = 30_000
/** The session cookie the status page's token prompt sets (off loopback); scoped to /status. */
export const STATUS_COOKIE = 'gatehouse_status'

/** The methods every ops route answers. */
const ALLOW = 'GET, HEAD'
const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Content Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
}

interface Reply {
  status: number
  body: string
  contentType: string
  headers?: Record<string, string>
  /** Set on refusals: counted under this reason. */
  error?: OpsErrorReason
}

/** What the handler reads from uWS's request before anything else: the request is gone once the handler returns. */
interface RequestFacts {
  method: string
  path: string
  authorization: string
  /** The Cookie and Host headers: the status routes' credentials off loopback, and the guard against DNS rebinding on it. */
  cookie: string
  host: string
  /** The request carries a body (Content-Length above 0 or any Transfer-Encoding). */
  hasBody: boolean
}

type Route = { kind: 'healthz' } | { kind: 'livez' } | { kind: 'readyz' } | { kind: 'metrics' } | { kind: 'counters', rawAccount: string }
  | { kind: 'status-page' } | { kind: 'status-snapshot' } | { kind: 'status-events' } | { kind: 'status-login' }

const COUNTERS_PATH = /^\/accounts\/([^/]+)\/counters$/
const FIXED_ROUTES: Readonly<Record<string, Route>> = {
  '/healthz': { kind: 'healthz' },
  '/livez': { kind: 'livez' },
  '/readyz': { kind: 'readyz' },
  '/metrics': { kind: 'metrics' },
  '/status': { kind: 'status-page' },
  '/status/snapshot': { kind: 'status-snapshot' },
  '/status/events': { kind: 'status-events' },
  '/status/login': { kind: 'status-login' },
}

function matchRoute (path: string): Route | null {
  const fixed = Object.hasOwn(FIXED_ROUTES, path) ? FIXED_ROUTES[path]! : undefined
  if (fixed !== undefined) return fixed
  const counters = COUNTERS_PATH.exec(path)
  return counters === null ? null : { kind: 'counters', rawAccount: counters[1]! }
}

const json = (status: number, value: unknown, error?: OpsErrorReason, headers?: Record<string, string>): Reply =>
  ({ status, body: JSON.stringify(value), contentType: 'application/json', ...(error === undefined ? {} : { error }), ...(headers === undefined ? {} : { headers }) })
const text = (status: number, body: string, error?: OpsErrorReason, headers?: Record<string, string>): Reply =>
  ({ status, body, contentType: 'text/plain; charset=utf-8', ...(error === undefined ? {} : { error }), ...(headers === undefined ? {} : { headers }) })

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest()

/** What the page's cookie holds: derived from the token (never the token itself), so it changes when the token does. */
const statusCookieValue = (token: string): string => createHash('sha256').update(`gatehouse-status-cookie\0${token}`).digest('base64url')

/** A Host header naming this machine's loopback (with or without a port): what a browser on this host sends to a loopback ops port. */
function loopbackHostHeader (host: string): boolean {
  const name = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+)(:\d{1,5})?$/.exec(host)?.[1]
  return name !== undefined && isLoopbackHost(name.toLowerCase())
}

/** One open /status/events response. */
interface Feed {
  res: uWS.HttpResponse
  /** When a write last left data buffered (the client is behind); 0 when it is not. */
  behindSinceMs: number
}

/** A handler's answer when it has taken the response over (the status feed). */
const STREAMING = Symbol('streaming')

export class OpsServer {
  private readonly app: uWS.TemplatedApp
  private listenSocket: uWS.us_listen_socket | null = null
  private readonly tokenDigest: Buffer
  private scrapesInFlight = 0
  private readonly feeds = new Set<Feed>()
  private readonly cookieDigest: Buffer
  /** On loopback the status routes need no token (as the issue asks); off it they do. */
  private readonly statusOpen: boolean
  /** Requests refused or failed since start, by reason (read by /metrics). */
  readonly errors: Record<OpsErrorReason, number> = Object.fromEntries(OPS_ERROR_REASONS.map((reason) => [reason, 0])) as Record<OpsErrorReason, number>

  constructor (private readonly options: OpsServerOptions) {
    const tls = options.tls
    this.app = tls === undefined
      ? uWS.App()
      : uWS.SSLApp({ cert_file_name: tls.certFile, key_file_name: tls.keyFile, ...(tls.passphrase === undefined ? {} : { passphrase: tls.passphrase }) })
    // Compared as digests: equal lengths, so the comparison's time says
    // nothing about the token, its length included.
    this.tokenDigest = sha256(options.token)
    this.cookieDigest = sha256(statusCookieValue(options.token))
    this.statusOpen = isLoopbackHost(options.host)
    if (options.status !== undefined) options.status.onTick = () => { this.broadcast() }
    this.app.any('/*', (res, req) => { this.handle(res, req) })
  }

  private handle (res: uWS.HttpResponse, req: uWS.HttpRequest): void {
    let done = false
    let aborted = false
    let facts: RequestFacts | null = null
    const send = (reply: Reply): void => {
      if (done || aborted) return
      done = true
      if (reply.error !== undefined) this.errors[reply.error]++
      res.cork(() => {
        res.writeStatus(`${reply.status} ${STATUS_TEXT[reply.status] ?? ''}`)
          .writeHeader('content-type', reply.contentType)
          .writeHeader('cache-control', 'no-store')
        for (const [name, value] of Object.entries(reply.headers ?? {})) res.writeHeader(name, value)
        if (facts?.method === 'HEAD') {
          // uWS sends end()'s body even to HEAD, and endWithoutBody(length)
          // leaves the response open: the length goes in as a header.
          res.writeHeader('content-length', String(Buffer.byteLength(reply.body))).endWithoutBody()
        } else {
          // uWS skips a body nobody reads, but would go on reading one of any
          // length; a request that sent one is answered and its connection closed.
          res.end(reply.body, facts?.hasBody ?? false)
        }
      })
    }
    const fail = (err: unknown): void => {
      this.errors.internal++
      if (done || aborted) return
      try {
        send(text(500, `ops request failed: ${err instanceof Error ? err.message : String(err)}\n`))
      } catch {
        // The response itself is broken; uWS closes the connection.
      }
    }
    try {
      facts = {
        method: req.getCaseSensitiveMethod(),
        path: req.getUrl(),
        authorization: req.getHeader('authorization'),
        cookie: req.getHeader('cookie'),
        host: req.getHeader('host'),
        hasBody: req.getHeader('transfer-encoding') !== '' || !/^0*$/.test(req.getHeader('content-length')),
      }
      const reply = this.route(facts)
      if (reply === STREAMING) {
        this.openFeed(res)
      } else if (reply instanceof Promise) {
        // uWS forbids touching a response after the client went away.
        res.onAborted(() => { aborted = true })
        reply.then(send, fail).catch(fail)
      } else {
        send(reply)
      }
    } catch (err) {
      fail(err)
    }
  }

  private route (request: RequestFacts): Reply | Promise<Reply> | typeof STREAMING {
    const route = matchRoute(request.path)
    if (route === null || (route.kind === 'metrics' && this.options.metrics === undefined) ||
      (route.kind.startsWith('status-') && this.options.status === undefined)) {
      return text(404, 'not found; try /healthz, /livez, /readyz, /metrics, /status or /accounts/<id>/counters\n', 'not_found')
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return text(405, `${request.method} is not allowed; the ops port is read-only (${ALLOW})\n`, 'method_not_allowed', { allow: ALLOW })
    }
    if (request.hasBody) return text(413, 'the ops port takes no request body\n', 'body_refused')
    switch (route.kind) {
      case 'healthz': {
        const { ok, body } = this.options.health()
        return json(ok ? 200 : 503, body)
      }
      case 'livez':
        // The process answers: that is all liveness means. A restart would not mend a down link.
        return json(200, { status: 'alive' })
      case 'readyz': {
        const { ok, body } = (this.options.readiness ?? this.options.health)()
        return json(ok ? 200 : 503, body)
      }
      case 'status-page':
        // The page holds no figure (it fetches them): it is served to anyone, so it can ask for the token.
        return {
          status: 200,
          body: STATUS_PAGE_HTML,
          contentType: 'text/html; charset=utf-8',
          headers: { 'content-security-policy': STATUS_PAGE_CSP, 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY' },
        }
      case 'status-snapshot':
        return this.statusRefusal(request) ?? json(200, this.options.status!.snapshot())
      case 'status-events': {
        const refusal = this.statusRefusal(request)
        if (refusal !== null) return refusal
        if (request.method === 'HEAD') return { status: 200, body: '', contentType: 'text/event-stream' }
        if (this.feeds.size >= MAX_STATUS_FEEDS) {
          return text(503, `${MAX_STATUS_FEEDS} status feeds are already open; close one or retry later\n`, 'busy', { 'retry-after': '5' })
        }
        return STREAMING
      }
      case 'status-login':
        return this.statusLogin(request)
      case 'metrics':
        return this.scrape(this.options.metrics!)
      case 'counters':
        return this.authorized(request.authorization) ?? this.counters(route.rawAccount)
    }
  }

  /** Null when the request carries the token; else the 401 to send. */
  private authorized (authorization: string): Reply | null {
    const match = /^Bearer +(\S+) *$/i.exec(authorization)
    if (match !== null && timingSafeEqual(sha256(match[1]!), this.tokenDigest)) return null
    const challenge = match === null ? 'Bearer realm="gatehouse-ops"' : 'Bearer realm="gatehouse-ops", error="invalid_token"'
    return text(401, match === null
      ? 'this route needs the ops token: send "Authorization: Bearer <token>" (the token file is named in the start banner)\n'
      : 'the ops token is wrong\n', 'unauthorized', { 'www-authenticate': challenge })
  }

  /**
   * Null when a status route may be answered; else the refusal. On a
   * loopback port anyone on the host may read it, but only under a
   * loopback Host name: a page elsewhere whose name a DNS rebinding
   * points at 127.0.0.1 sends its own name and is refused. Off loopback
   * the ops token is needed, as a bearer header (curl) or as the cookie
   * /status/login set (the page: an EventSource cannot send headers).
   */
  private statusRefusal (request: RequestFacts): Reply | null {
    if (this.statusOpen) {
      if (loopbackHostHeader(request.host)) return null
      return text(403, 'the status page on a loopback port answers only to a loopback Host name (127.0.0.1, [::1] or localhost)\n', 'forbidden')
    }
    if (request.authorization !== '') return this.authorized(request.authorization)
    for (const pair of request.cookie.split(';')) {
      const [name, value] = pair.trim().split('=', 2)
      if (name === STATUS_COOKIE && value !== undefined && timingSafeEqual(sha256(value), this.cookieDigest)) return null
    }
    return text(401, 'the status page needs the ops token: open /status and enter it, or send "Authorization: Bearer <token>"\n', 'unauthorized',
      { 'www-authenticate': 'Bearer realm="gatehouse-ops"' })
  }

  // GET /status/login with the bearer token: sets the status page's session cookie.
  private statusLogin (request: RequestFacts): Reply {
    const refusal = this.authorized(request.authorization)
    if (refusal !== null) return refusal
    // HttpOnly: the page's script never holds it; SameSite=Strict: another
    // site cannot make the browser send it; Secure when the port speaks TLS.
    const secure = this.options.tls === undefined ? '' : '; Secure'
    return json(200, { status: 'ok' }, undefined, { 'set-cookie': `${STATUS_COOKIE}=${statusCookieValue(this.options.token)}; Path=/status; HttpOnly; SameSite=Strict${secure}` })
  }

  /** Takes over a /status/events response: headers now, then a snapshot each tick until the client goes. */
  private openFeed (res: uWS.HttpResponse): void {
    const feed: Feed = { res, behindSinceMs: 0 }
    this.feeds.add(feed)
    res.onAborted(() => { this.feeds.delete(feed) })
    res.onWritable(() => {
      feed.behindSinceMs = 0
      return true
    })
    res.cork(() => {
      res.writeStatus('200 OK')
        .writeHeader('content-type', 'text/event-stream; charset=utf-8')
        .writeHeader('cache-control', 'no-store')
      // The reconnection delay an EventSource uses if the connection drops.
      res.write('retry: 2000\n\n')
    })
    this.send(feed, this.event())
  }

  private event (): string {
    return `data: ${JSON.stringify(this.options.status!.snapshot())}\n\n`
  }

  /** One snapshot to every feed. A client still behind is skipped (it gets the next one it can take), and closed once stalled. */
  private broadcast (): void {
    if (this.feeds.size === 0) return
    let data: string
    try {
      data = this.event()
    } catch {
      this.errors.internal++
      return
    }
    for (const feed of this.feeds) this.send(feed, data)
  }

  private send (feed: Feed, data: string): void {
    const now = nowMillis()
    try {
      if (feed.behindSinceMs !== 0) {
        if (now - feed.behindSinceMs > STATUS_FEED_STALL_MS) {
          this.feeds.delete(feed)
          feed.res.close()
        }
        return
      }
      let written = true
      feed.res.cork(() => { written = feed.res.write(data) })
      if (!written) feed.behindSinceMs = now
    } catch {
      // The response is gone (uWS throws on a closed one): forget it.
      this.feeds.delete(feed)
      this.errors.internal++
    }
  }

  // GET /accounts/<id>/counters: what the limits see for one account.
  private counters (rawAccount: string): Reply {
    let account: string
    try {
      account = decodeURIComponent(rawAccount)
    } catch {
      return json(400, { error: 'the account ID is not valid percent-encoding' }, 'bad_request')
    }
    if (account.length > MAX_ACCOUNT_ID_CHARS) {
      return json(400, { error: `the account ID is longer than ${MAX_ACCOUNT_ID_CHARS} characters` }, 'bad_request')
    }
    const counters = this.options.counters(account)
    if (counters === null) return json(404, { error: `no account ${account}` }, 'not_found')
    return json(200, counters)
  }

  private scrape (registry: Registry): Reply | Promise<Reply> {
    if (this.scrapesInFlight >= MAX_CONCURRENT_SCRAPES) {
      return text(503, `${MAX_CONCURRENT_SCRAPES} scrapes are already running; retry shortly\n`, 'busy', { 'retry-after': '1' })
    }
    this.scrapesInFlight++
    return registry.metrics().then(
      // prom-client 15 writes NaN as "Nan" (nodejs_eventloop_lag_mean_seconds
      // before its first sample); the exposition format spells it "NaN".
      (body): Reply => ({ status: 200, body: body.replace(/ Nan$/gm, ' NaN'), contentType: registry.contentType }),
      (err: Error): Reply => text(500, `metrics collection failed: ${err.message}\n`, 'internal'),
    ).finally(() => { this.scrapesInFlight-- })
  }

  /** Listens on ops.host:ops.port, that port alone (no SO_REUSEPORT); rejects with a one-line reason naming ops.port. */
  listen (): Promise<number> {
    const { host, port } = this.options
    return new Promise((resolve, reject) => {
      listenExclusive(this.app, host, port, (listenSocket) => {
        if (listenSocket === false) {
          explainListenFailure(sectionFields('ops'), host, port).then((reason) => { reject(new Error(reason)) }, reject)
          return
        }
        this.listenSocket = listenSocket
        resolve(uWS.us_socket_local_port(listenSocket))
      })
    })
  }

  close (): void {
    for (const feed of this.feeds) {
      try {
        feed.res.cork(() => { feed.res.end() })
      } catch {
        // Already gone.
      }
    }
    this.feeds.clear()
    if (this.listenSocket !== null) uWS.us_listen_socket_close(this.listenSocket)
    this.listenSocket = null
    this.app.close()
  }
}
