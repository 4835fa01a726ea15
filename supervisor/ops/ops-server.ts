// The ops HTTP listener on the supervisor thread: /healthz, /metrics and,
// read-only, an account's risk counters behind a bearer token.
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
}

/** Why the ops port refused a request or failed it: the label of gatehouse_ops_http_errors_total. */
export const OPS_ERROR_REASONS = ['bad_request', 'unauthorized', 'not_found', 'method_not_allowed', 'body_refused', 'busy', 'internal'] as const
export type OpsErrorReason = typeof OPS_ERROR_REASONS[number]

/** Longest account ID /accounts/<id>/counters looks up (config IDs are at most 32). */
export const MAX_ACCOUNT_ID_CHARS = 64
/**
 * /metrics collections running at once. Each one holds the response open
 * while prom-client walks every collector, so a burst of scrapers would
 * queue work on the supervisor thread without bound; past this they get 503.
 */
export const MAX_CONCURRENT_SCRAPES = 4

/** The methods every ops route answers. */
const ALLOW = 'GET, HEAD'
const STATUS_TEXT: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  401: 'Unauthorized',
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
  /** The request carries a body (Content-Length above 0 or any Transfer-Encoding). */
  hasBody: boolean
}

type Route = { kind: 'healthz' } | { kind: 'metrics' } | { kind: 'counters', rawAccount: string }

const COUNTERS_PATH = /^\/accounts\/([^/]+)\/counters$/

function matchRoute (path: string): Route | null {
  if (path === '/healthz') return { kind: 'healthz' }
  if (path === '/metrics') return { kind: 'metrics' }
  const counters = COUNTERS_PATH.exec(path)
  return counters === null ? null : { kind: 'counters', rawAccount: counters[1]! }
}

const json = (status: number, value: unknown, error?: OpsErrorReason): Reply =>
  ({ status, body: JSON.stringify(value), contentType: 'application/json', ...(error === undefined ? {} : { error }) })
const text = (status: number, body: string, error?: OpsErrorReason, headers?: Record<string, string>): Reply =>
  ({ status, body, contentType: 'text/plain; charset=utf-8', ...(error === undefined ? {} : { error }), ...(headers === undefined ? {} : { headers }) })

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest()

export class OpsServer {
  private readonly app: uWS.TemplatedApp
  private listenSocket: uWS.us_listen_socket | null = null
  private readonly tokenDigest: Buffer
  private scrapesInFlight = 0
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
        hasBody: req.getHeader('transfer-encoding') !== '' || !/^0*$/.test(req.getHeader('content-length')),
      }
      const reply = this.route(facts)
      if (reply instanceof Promise) {
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

  private route (request: RequestFacts): Reply | Promise<Reply> {
    const route = matchRoute(request.path)
    if (route === null || (route.kind === 'metrics' && this.options.metrics === undefined)) {
      return text(404, 'not found; try /healthz, /metrics or /accounts/<id>/counters\n', 'not_found')
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
      (body): Reply => ({ status: 200, body, contentType: registry.contentType }),
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
    if (this.listenSocket !== null) uWS.us_listen_socket_close(this.listenSocket)
    this.listenSocket = null
    this.app.close()
  }
}
