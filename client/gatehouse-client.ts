/**
 * GatehouseClient: a small typed client for the Gatehouse client protocol
 * (protocol/gatehouse/v1/client.proto). Platform vendors can use it as is
 * or as a reference; the tests and `gatehouse demo` use it.
 *
 * Every inbound message is emitted as 'message' (the decoded envelope), and
 * every execution report also as 'executionReport' (the report and whether
 * its exec_id was seen before); `next()` waits for the first message
 * matching a predicate, so callers await events instead of sleeping.
 * `resend()` and `query()` are the request/answer exchanges of the
 * protocol (docs/protocol.md): they resolve with the whole answer or
 * reject with a ClientRequestError.
 */
import { EventEmitter, once } from 'node:events'
import WebSocket from 'ws'
import { decodeClientEnvelope, encodeClientEnvelope } from '../protocol/client-codec.js'
import {
  ExecType, HedgeFlag, OffsetFlag, OrderState, PositionDirection, QueryKind, RejectReason, Side, TimeInForce, reasonName, v1, wireInt,
  type ClientEnvelope, type ClientEnvelopeInit, type ExecutionReport, type LogonReply, type Reject,
} from '../protocol/messages.js'
import { computeAuthProof } from '../protocol/auth-proof.js'
import type { gatehouse } from '../protocol/generated/gatehouse.js'
import { GatehouseError } from '../protocol/gatehouse-error.js'
import type { ErrorCode } from '../protocol/error-codes.js'

export type TerminalInfoInit = gatehouse.v1.TerminalInfo.$Properties
export type AuthenticateReply = gatehouse.v1.AuthenticateReply
export type TerminalInfoReply = gatehouse.v1.TerminalInfoReply
export type ResendComplete = gatehouse.v1.ResendComplete
export type QueryReply = gatehouse.v1.QueryReply
export type PositionInfo = gatehouse.v1.PositionInfo
export type OrderInfo = gatehouse.v1.OrderInfo
export type TradeInfo = gatehouse.v1.TradeInfo
export type FundsInfo = gatehouse.v1.FundsInfo

/** The software's identity for the Authenticate step. */
export interface SoftwareIdentity {
  appId: string
  /** Issued by the broker for this AppID; never sent, only used as the HMAC key. */
  authCode: string
}

/**
 * Who is logging on, beyond the account: the software (AppID and its
 * AuthCode, issued by the broker) and the terminal it runs on. Required:
 * the client has no default, so a platform can never log on by accident
 * as some other software or from a terminal it did not collect.
 */
export interface ClientIdentity extends SoftwareIdentity {
  /** Terminal info as collected on this machine (collected_time_us is filled in if 0). */
  terminalInfo: TerminalInfoInit
}

export interface LogonOptions extends ClientIdentity {
  /** Ask the gateway to cancel this session's working orders when the connection ends. */
  cancelOnDisconnect?: boolean
}

/** What is missing from a logon's identity, or null when it is complete. JavaScript callers can pass anything. */
function identityProblem (options: unknown): string | null {
  if (typeof options !== 'object' || options === null) return 'logon options are required: { appId, authCode, terminalInfo }'
  const { appId, authCode, terminalInfo } = options as Partial<LogonOptions>
  const missing = [
    typeof appId === 'string' && appId !== '' ? null : 'appId',
    typeof authCode === 'string' && authCode !== '' ? null : 'authCode',
    typeof terminalInfo === 'object' && terminalInfo !== null ? null : 'terminalInfo',
  ].filter((name) => name !== null)
  return missing.length === 0 ? null : `logon options must give ${missing.join(', ')}: the client has no default software identity or terminal`
}

/** A LogonReply, or for a failure before Logon, one built from the step that failed. */
export type LogonResult = LogonReply & { failedStep?: 'authenticate' | 'terminal-info' | 'logon' }

export { ExecType, HedgeFlag, OffsetFlag, OrderState, PositionDirection, QueryKind, Side, TimeInForce }

export interface OrderRequest {
  clientOrderId: number
  instrument: string
  side: number
  /** Limit price in integer price units (see Instrument.price_decimals). */
  price: number
  quantityLots: number
  timeInForce?: number
  /** Close orders only: with offsetFlag unset the order is a plain close (OFFSET_CLOSE). */
  reduceOnly?: boolean
  /**
   * Open, close, close today or close yesterday. Left unset it travels
   * unset and the gateway applies the default: OFFSET_OPEN, or OFFSET_CLOSE
   * on a reduceOnly order. Reports carry the flag applied.
   */
  offsetFlag?: OffsetFlag
  /** Speculation (the gateway's default when unset), arbitrage or hedge. */
  hedgeFlag?: HedgeFlag
}

/** What `resend()` collected: the resent reports in report_seq order, and the ResendComplete that ended them. */
export interface ResendResult {
  reports: ExecutionReport[]
  /**
   * Check `complete.reason`: RESEND_UNAVAILABLE means nothing was resent
   * (the request reached before `oldest_report_seq`); `complete.more`
   * means ask again after the last report received.
   */
  complete: ResendComplete
}

/** A query's answer, its pages merged in the order they came. */
export interface QueryAnswer {
  positions: PositionInfo[]
  orders: OrderInfo[]
  trades: TradeInfo[]
  /** QUERY_FUNDS only; null otherwise. */
  funds: FundsInfo | null
  /** How many QueryReply pages the answer came in. */
  pages: number
}

export interface QueryFilter {
  /** QUERY_POSITIONS, QUERY_ORDERS, QUERY_TRADES: only this instrument. */
  instrument?: string
  /** QUERY_ORDER_STATUS: the order asked about. */
  clientOrderId?: number
}

/**
 * How many exec_ids the client remembers to tell a duplicate report: the
 * newest 100,000 (a few MB at most). A report repeating an older one than
 * that is not recognised; a trading day of one account on one lane rarely
 * has that many reports, and `lastReportSeq` tells a resend where to start.
 */
export const SEEN_EXEC_IDS = 100_000

/** Milliseconds `resend()` and `query()` wait for the whole answer by default. */
export const DEFAULT_ANSWER_TIMEOUT_MS = 5000

/**
 * A resend or query the gateway refused (code GH_ERR_CLIENT_REFUSED, with
 * the RejectReason in `reason`, e.g. THROTTLED_QUERY or UNKNOWN_ORDER), one
 * that got no complete answer (GH_ERR_CLIENT_NO_ANSWER: timed out or the
 * connection closed), or one whose answer outgrew maxAnswerEntries
 * (GH_ERR_CLIENT_ANSWER_TOO_LARGE). `reason` is 0 but for a refusal.
 */
export class ClientRequestError extends GatehouseError {
  constructor (code: Extract<ErrorCode, 'GH_ERR_CLIENT_REFUSED' | 'GH_ERR_CLIENT_NO_ANSWER' | 'GH_ERR_CLIENT_ANSWER_TOO_LARGE'>, message: string,
    /** The gateway's RejectReason; REASON_UNSPECIFIED (0) for GH_ERR_CLIENT_NO_ANSWER. */
    readonly reason = 0,
    /** For a throttle: the limit applied and the count observed (0 otherwise). */
    readonly limit = 0, readonly observed = 0) {
    super(code, message)
  }
}

export interface ConnectOptions {
  /** PEM CA certificate(s) to trust for wss:// (e.g. a self-signed lane cert). */
  ca?: string | Buffer
  /** Local address to connect from, e.g. 127.0.0.7 (Linux routes all of 127/8 to lo). */
  localAddress?: string
  /** Milliseconds to wait for the WebSocket to open (default: no limit). */
  handshakeTimeoutMs?: number
  /** How many exec_ids to remember for isDuplicate() (default SEEN_EXEC_IDS, 100,000); ignored with `reports`. */
  seenExecIds?: number
  /**
   * The previous connection's `client.reports`, to carry what it received
   * over a reconnect: isDuplicate() then knows its exec_ids and
   * lastReportSeq starts at its highest report_seq. Default: a new, empty one.
   */
  reports?: ReportMemory
  /** Most entries (reports of a resend, entries of a query's pages) one answer may bring (default MAX_ANSWER_ENTRIES, 100,000). */
  maxAnswerEntries?: number
}

/** How many WRONG_INSTANCE redirects one logonAt() follows before it gives up (GH_ERR_CLIENT_REDIRECT_LOOP). */
export const MAX_REDIRECTS = 3

export interface LogonAtOptions extends LogonOptions {
  /**
   * On WRONG_INSTANCE, close the connection and log on again at the
   * endpoint the reply names (default true). False: return the refused
   * reply (its redirectEndpoint says where to go).
   */
  followRedirects?: boolean
}

/** What logonAt() ends with: the connected client (logged on, or refused as `reply` says), its URL, and the URLs it was sent to on the way. */
export interface LogonAtResult {
  client: GatehouseClient
  reply: LogonResult
  url: string
  redirects: string[]
}

/** A redirect's endpoint is followed only if it is a ws:// or wss:// URL. */
function redirectTarget (endpoint: string): string | null {
  try {
    const url = new URL(endpoint)
    return url.protocol === 'ws:' || url.protocol === 'wss:' ? endpoint : null
  } catch {
    return null
  }
}

/** Most entries one resend or query answer may bring before the client gives up on it (GH_ERR_CLIENT_ANSWER_TOO_LARGE). */
export const MAX_ANSWER_ENTRIES = 100_000

/**
 * What a client knows of the execution reports it received: the highest
 * report_seq, and the exec_ids seen most recently, to tell a report seen
 * before. Bounded: a ring of the newest `capacity` distinct exec_ids and a
 * set over them; the oldest is forgotten when a new one comes. One memory
 * can serve the connections of one account on one lane in turn.
 */
export class ReportMemory {
  private readonly ring: string[] = []
  private readonly seen = new Set<string>()
  private next = 0
  private highestReportSeq = 0

  constructor (readonly capacity = SEEN_EXEC_IDS) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new GatehouseError('GH_ERR_CLIENT_OPTIONS', `seenExecIds must be a whole number from 1; got ${String(capacity)}`)
  }

  /** Remembers `execId`; true when it was already remembered (a duplicate). An empty exec_id (none given) is never a duplicate. */
  remember (execId: string): boolean {
    if (execId === '') return false
    if (this.seen.has(execId)) return true
    if (this.ring.length < this.capacity) {
      this.ring.push(execId)
    } else {
      this.seen.delete(this.ring[this.next]!)
      this.ring[this.next] = execId
      this.next = (this.next + 1) % this.capacity
    }
    this.seen.add(execId)
    return false
  }

  /** Notes a received report (its report_seq and exec_id); true when its exec_id was remembered already. */
  note (report: ExecutionReport): boolean {
    const reportSeq = wireInt(report.reportSeq)
    if (reportSeq > this.highestReportSeq) this.highestReportSeq = reportSeq
    return this.remember(report.execId)
  }

  /** The highest report_seq noted; 0 before the first. */
  get lastReportSeq (): number {
    return this.highestReportSeq
  }

  /** How many exec_ids are remembered (at most `capacity`). */
  get size (): number {
    return this.seen.size
  }
}

export class GatehouseClient extends EventEmitter {
  /** Every message received, in order. */
  readonly received: ClientEnvelope[] = []
  private outSeq = 0
  private closed = false
  /** Index in `received` of the last AuthChallenge already used for a proof. */
  private usedChallengeIndex = -1
  private readonly waiters = new Set<{ match: (m: ClientEnvelope) => boolean, resolve: (m: ClientEnvelope) => void }>()
  /** The reports received on this connection (or carried over from an earlier one, see ConnectOptions.reports). */
  readonly reports: ReportMemory
  /** Reports whose exec_id had been seen when they arrived (see isDuplicate). */
  private readonly duplicates = new WeakSet<ExecutionReport>()
  private lastRequestId = 0
  /** Resends run one at a time: ResendComplete names no request, so answers are told apart by order. */
  private resendQueue: Promise<unknown> = Promise.resolve()
  private readonly maxAnswerEntries: number
  /** Resends and queries awaiting their answer: each sees every message that arrives, and the close. */
  private readonly requests = new Set<{ message: (m: ClientEnvelope) => void, closed: () => void }>()

  private constructor (private readonly socket: WebSocket, options: ConnectOptions) {
    super()
    this.reports = options.reports ?? new ReportMemory(options.seenExecIds ?? SEEN_EXEC_IDS)
    this.maxAnswerEntries = options.maxAnswerEntries ?? MAX_ANSWER_ENTRIES
    socket.binaryType = 'nodebuffer'
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return
      let envelope: ClientEnvelope
      try {
        envelope = decodeClientEnvelope(data)
      } catch (err) {
        this.emit('transport-error', err)
        return
      }
      this.received.push(envelope)
      const report = envelope.body === 'executionReport' ? envelope.executionReport as ExecutionReport : null
      const duplicate = report !== null && this.noteReport(report)
      for (const waiter of this.waiters) {
        if (waiter.match(envelope)) {
          this.waiters.delete(waiter)
          waiter.resolve(envelope)
        }
      }
      for (const request of this.requests) request.message(envelope)
      this.emit('message', envelope)
      if (report !== null) this.emit('executionReport', report, duplicate)
    })
    socket.on('close', (code: number, reason: Buffer) => {
      this.closed = true
      for (const request of this.requests) request.closed()
      this.emit('close', code, reason.toString())
    })
    socket.on('error', (err) => { this.emit('transport-error', err) })
  }

  /** Opens a WebSocket to a lane, e.g. ws://127.0.0.1:7002. */
  static async connect (url: string, options: ConnectOptions = {}): Promise<GatehouseClient> {
    const socket = new WebSocket(url, { ca: options.ca, perMessageDeflate: false, localAddress: options.localAddress, handshakeTimeout: options.handshakeTimeoutMs })
    // Listen before the socket opens: the gateway's AuthChallenge can arrive
    // in the same read as the upgrade response, before `open` resolves.
    const client = new GatehouseClient(socket, options)
    await once(socket, 'open')
    return client
  }

  /**
   * Connects to `url` and logs on (logon()); when the account is held by
   * another instance of a cluster (WRONG_INSTANCE with a redirect
   * endpoint), closes that connection and does the same at the endpoint,
   * at most MAX_REDIRECTS times. Rejects with GatehouseError
   * GH_ERR_CLIENT_REDIRECT_LOOP past that, GH_ERR_CLIENT_REDIRECT_ENDPOINT
   * for an endpoint that is not ws:// or wss://. Any other refusal is
   * returned in `reply`, the connection left open as logon() leaves it.
   */
  static async logonAt (url: string, account: string, password: string, options: LogonAtOptions, connectOptions: ConnectOptions = {}): Promise<LogonAtResult> {
    const problem = identityProblem(options)
    if (problem !== null) throw new GatehouseError('GH_ERR_CLIENT_OPTIONS', problem)
    const redirects: string[] = []
    let at = url
    for (;;) {
      const client = await GatehouseClient.connect(at, connectOptions)
      let reply: LogonResult
      try {
        reply = await client.logon(account, password, options)
      } catch (err) {
        await client.close()
        throw err
      }
      if (reply.reason !== RejectReason.WRONG_INSTANCE || options.followRedirects === false) return { client, reply, url: at, redirects }
      await client.close()
      if (reply.redirectEndpoint === '') {
        throw new GatehouseError('GH_ERR_CLIENT_REDIRECT_LOOP', `logon of ${account} at ${at}: WRONG_INSTANCE names instance "${reply.redirectInstance}" but no endpoint for this lane (${reply.text})`)
      }
      const next = redirectTarget(reply.redirectEndpoint)
      if (next === null) throw new GatehouseError('GH_ERR_CLIENT_REDIRECT_ENDPOINT', `logon of ${account} at ${at}: the redirect endpoint "${reply.redirectEndpoint.slice(0, 200)}" is not a ws:// or wss:// URL`)
      if (redirects.length >= MAX_REDIRECTS) {
        throw new GatehouseError('GH_ERR_CLIENT_REDIRECT_LOOP', `logon of ${account}: redirected ${redirects.length} times (${[url, ...redirects].join(' -> ')}) and again to ${next}; the instances disagree about which holds the account`)
      }
      redirects.push(next)
      at = next
    }
  }

  get isClosed (): boolean {
    return this.closed
  }

  /** The highest report_seq of any execution report received (live or resent); 0 before the first. Ask a resend after it. */
  get lastReportSeq (): number {
    return this.reports.lastReportSeq
  }

  /**
   * True when this report, as this client received it, repeats the
   * exec_id of one received before (a resend of a report already had, or
   * any report sent twice). Remembers the newest SEEN_EXEC_IDS exec_ids.
   * The 'executionReport' event carries the same answer as its second
   * argument.
   */
  isDuplicate (report: ExecutionReport): boolean {
    return this.duplicates.has(report)
  }

  private noteReport (report: ExecutionReport): boolean {
    const duplicate = this.reports.note(report)
    if (duplicate) this.duplicates.add(report)
    return duplicate
  }

  /** Sends one envelope, numbering it with this client's next seq. Returns the seq. */
  send (envelope: ClientEnvelopeInit): number {
    envelope.seq = ++this.outSeq
    envelope.sentTimeUs = Date.now() * 1000
    this.socket.send(encodeClientEnvelope(envelope), { binary: true })
    return this.outSeq
  }

  /** Stops reading from the socket (a slow consumer); the gateway's sends back up. */
  pause (): void {
    this.socket.pause()
  }

  resume (): void {
    this.socket.resume()
  }

  /** Bytes queued to send but not yet handed to the kernel. */
  get bufferedAmount (): number {
    return this.socket.bufferedAmount
  }

  /** Sends raw bytes or text as one frame (for protocol tests). */
  sendRaw (data: Uint8Array | string): void {
    this.socket.send(data, { binary: typeof data !== 'string' })
  }

  /** Resolves with the first message (already received or future) that matches. */
  next (match: (message: ClientEnvelope) => boolean, timeoutMs = 5000): Promise<ClientEnvelope> {
    const seen = this.received.find(match)
    if (seen !== undefined) return Promise.resolve(seen)
    return this.nextNew(match, timeoutMs)
  }

  /** Like next(), but only messages that arrive from now on. */
  nextNew (match: (message: ClientEnvelope) => boolean, timeoutMs = 5000): Promise<ClientEnvelope> {
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve: (m: ClientEnvelope) => { clearTimeout(timer); resolve(m) } }
      const timer = setTimeout(() => {
        this.waiters.delete(waiter)
        reject(new Error(`no matching message within ${timeoutMs} ms (received ${this.received.length} so far)`))
      }, timeoutMs)
      this.waiters.add(waiter)
    })
  }

  /**
   * Step 1: waits for a fresh AuthChallenge and proves the AuthCode over it
   * (HMAC-SHA256, protocol/auth-proof.ts). Each challenge is used once.
   */
  async authenticate (software: SoftwareIdentity, account: string): Promise<AuthenticateReply> {
    const challenge = await this.next((m) => m.body === 'authChallenge' && this.received.indexOf(m) > this.usedChallengeIndex)
    this.usedChallengeIndex = this.received.indexOf(challenge)
    const { nonce, lane } = challenge.authChallenge!
    const proof = computeAuthProof(software.authCode, nonce!, software.appId, account, lane!)
    const reply = this.nextNew((m) => m.body === 'authenticateReply')
    this.send({ authenticate: { appId: software.appId, account, proof } })
    return (await reply).authenticateReply as AuthenticateReply
  }

  /** Step 2: submits the terminal fingerprint. */
  async submitTerminalInfo (info: TerminalInfoInit): Promise<TerminalInfoReply> {
    const reply = this.nextNew((m) => m.body === 'terminalInfoReply')
    this.send({ terminalInfo: { ...info, collectedTimeUs: wireInt(info.collectedTimeUs) || Date.now() * 1000 } })
    return (await reply).terminalInfoReply as TerminalInfoReply
  }

  /** Step 3: the account's password. With cancelOnDisconnect, the gateway cancels this session's working orders when it disconnects. */
  async login (account: string, password: string, cancelOnDisconnect = false): Promise<LogonReply> {
    const reply = this.nextNew((m) => m.body === 'logonReply')
    this.send({ logon: { account, password, cancelOnDisconnect } })
    return (await reply).logonReply as LogonReply
  }

  /**
   * The whole look-through logon: authenticate, terminal info, login. Stops
   * at the first refused step and reports it (failedStep, reason, text).
   * Rejects with GatehouseError GH_ERR_CLIENT_OPTIONS, sending nothing,
   * when the identity is incomplete.
   */
  async logon (account: string, password: string, options: LogonOptions): Promise<LogonResult> {
    const problem = identityProblem(options)
    if (problem !== null) throw new GatehouseError('GH_ERR_CLIENT_OPTIONS', problem)
    const authenticated = await this.authenticate(options, account)
    if (!authenticated.ok) {
      return Object.assign(v1.LogonReply.create({ ok: false, reason: authenticated.reason, text: authenticated.text, retryAfterMs: authenticated.retryAfterMs, redirectEndpoint: authenticated.redirectEndpoint, redirectInstance: authenticated.redirectInstance }) as LogonReply, { failedStep: 'authenticate' as const })
    }
    const terminal = await this.submitTerminalInfo(options.terminalInfo)
    if (!terminal.ok) {
      return Object.assign(v1.LogonReply.create({ ok: false, reason: terminal.reason, text: terminal.text }) as LogonReply, { failedStep: 'terminal-info' as const })
    }
    const reply: LogonResult = await this.login(account, password, options.cancelOnDisconnect ?? false)
    if (!reply.ok) reply.failedStep = 'logon'
    return reply
  }

  /**
   * Asks for the execution reports of this account on this lane after
   * `afterReportSeq` (0: the whole trading day's; usually lastReportSeq)
   * and collects them until the ResendComplete. Resent reports carry
   * possible_duplicate; isDuplicate() tells which this client already had.
   * One resend at a time: a second call waits for the first. Rejects with
   * ClientRequestError: GH_ERR_CLIENT_REFUSED (e.g. THROTTLED_QUERY) or
   * GH_ERR_CLIENT_NO_ANSWER.
   */
  resend (afterReportSeq: number, timeoutMs = DEFAULT_ANSWER_TIMEOUT_MS): Promise<ResendResult> {
    if (!Number.isSafeInteger(afterReportSeq) || afterReportSeq < 0) {
      return Promise.reject(new GatehouseError('GH_ERR_CLIENT_OPTIONS', `resend: afterReportSeq must be a whole number from 0 below 2^53; got ${String(afterReportSeq)}`))
    }
    const run = (): Promise<ResendResult> => {
      const reports: ExecutionReport[] = []
      return this.request({ resendRequest: { afterReportSeq } }, `resend after report ${afterReportSeq}`, timeoutMs, (message) => {
        if (message.body === 'executionReport' && message.executionReport!.possibleDuplicate === true) {
          reports.push(message.executionReport as ExecutionReport)
          this.checkAnswerSize(reports.length, `resend after report ${afterReportSeq}`)
          return undefined
        }
        if (message.body !== 'resendComplete') return undefined
        return { reports, complete: message.resendComplete as ResendComplete }
      })
    }
    const result = this.resendQueue.then(run, run)
    this.resendQueue = result.catch(() => undefined)
    return result
  }

  /**
   * Asks the gateway about the account (positions, orders, trades, funds,
   * one order's status) and merges the answer's pages. Each query has a
   * fresh request_id, so answers never mix. Rejects with
   * ClientRequestError: GH_ERR_CLIENT_REFUSED when the gateway refuses it
   * (`reason`: THROTTLED_QUERY, UNKNOWN_ORDER, INVALID_FIELD, …),
   * GH_ERR_CLIENT_NO_ANSWER when the answer does not complete.
   */
  query (kind: QueryKind, filter: QueryFilter = {}, timeoutMs = DEFAULT_ANSWER_TIMEOUT_MS): Promise<QueryAnswer> {
    const clientOrderId = filter.clientOrderId ?? 0
    if (!Number.isSafeInteger(clientOrderId) || clientOrderId < 0) {
      return Promise.reject(new GatehouseError('GH_ERR_CLIENT_OPTIONS', `query: clientOrderId must be a whole number from 0 below 2^53; got ${String(clientOrderId)}`))
    }
    const requestId = ++this.lastRequestId
    const what = `${QueryKind[kind] ?? `query kind ${String(kind)}`} (request ${requestId})`
    const answer: QueryAnswer = { positions: [], orders: [], trades: [], funds: null, pages: 0 }
    return this.request({ query: { requestId, kind, instrument: filter.instrument ?? '', clientOrderId } }, what, timeoutMs, (message) => {
      if (message.body !== 'queryReply' || wireInt(message.queryReply!.requestId) !== requestId) return undefined
      const page = message.queryReply as QueryReply
      if (page.reason !== 0) throw refusal(what, page.reason, page.text)
      answer.pages++
      answer.positions.push(...page.positions as PositionInfo[])
      answer.orders.push(...page.orders as OrderInfo[])
      answer.trades.push(...page.trades as TradeInfo[])
      if (page.funds != null) answer.funds = page.funds as FundsInfo
      this.checkAnswerSize(answer.positions.length + answer.orders.length + answer.trades.length, what)
      return page.last ? answer : undefined
    })
  }

  /** The account's positions, one entry per instrument and direction (CTP's ReqQryInvestorPosition); optionally one instrument's. */
  async positions (instrument?: string): Promise<PositionInfo[]> {
    return (await this.query(QueryKind.QUERY_POSITIONS, { instrument })).positions
  }

  /** The trading day's orders of this account on this lane, with their states (CTP's ReqQryOrder). */
  async orders (instrument?: string): Promise<OrderInfo[]> {
    return (await this.query(QueryKind.QUERY_ORDERS, { instrument })).orders
  }

  /** The trading day's fills of this account on this lane (CTP's ReqQryTrade). */
  async trades (instrument?: string): Promise<TradeInfo[]> {
    return (await this.query(QueryKind.QUERY_TRADES, { instrument })).trades
  }

  /** The account's funds: limit, reserved, available, in fen (CTP's ReqQryTradingAccount). */
  async funds (): Promise<FundsInfo> {
    const answer = await this.query(QueryKind.QUERY_FUNDS)
    if (answer.funds === null) throw new ClientRequestError('GH_ERR_CLIENT_NO_ANSWER', 'QUERY_FUNDS: the answer carried no funds')
    return answer.funds
  }

  /** One order's current state; an unknown client_order_id rejects with GH_ERR_CLIENT_REFUSED, reason UNKNOWN_ORDER. */
  async orderStatus (clientOrderId: number): Promise<OrderInfo> {
    const answer = await this.query(QueryKind.QUERY_ORDER_STATUS, { clientOrderId })
    const order = answer.orders[0]
    if (order === undefined) throw new ClientRequestError('GH_ERR_CLIENT_NO_ANSWER', `QUERY_ORDER_STATUS of order ${clientOrderId}: the answer carried no order`)
    return order
  }

  private checkAnswerSize (entries: number, what: string): void {
    if (entries > this.maxAnswerEntries) throw new ClientRequestError('GH_ERR_CLIENT_ANSWER_TOO_LARGE', `${what}: the answer brought more than ${this.maxAnswerEntries} entries`)
  }

  /**
   * Sends one request and feeds every message that arrives after it to
   * `take` until it returns the answer or throws. A Reject of the request
   * (its ref_seq is the request's seq) ends it as a refusal; so do the
   * timeout and the connection closing.
   */
  private request<T> (envelope: ClientEnvelopeInit, what: string, timeoutMs: number, take: (message: ClientEnvelope) => T | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let seq = 0
      const finish = (err: unknown, value?: T): void => {
        clearTimeout(timer)
        this.requests.delete(request)
        if (err === null) resolve(value as T)
        else reject(err)
      }
      const onMessage = (message: ClientEnvelope): void => {
        if (message.body === 'reject' && wireInt(message.reject!.refSeq) === seq) {
          const refused = message.reject as Reject
          finish(refusal(what, refused.reason, refused.text, wireInt(refused.limit), wireInt(refused.observed)))
          return
        }
        let value: T | undefined
        try {
          value = take(message)
        } catch (err) {
          finish(err)
          return
        }
        if (value !== undefined) finish(null, value)
      }
      const onClose = (): void => { finish(new ClientRequestError('GH_ERR_CLIENT_NO_ANSWER', `${what}: the connection closed before the answer was complete`)) }
      const request = { message: onMessage, closed: onClose }
      const timer = setTimeout(() => { finish(new ClientRequestError('GH_ERR_CLIENT_NO_ANSWER', `${what}: no complete answer within ${timeoutMs} ms`)) }, timeoutMs)
      if (this.closed) {
        onClose()
        return
      }
      this.requests.add(request)
      seq = this.send(envelope)
    })
  }

  newOrder (order: OrderRequest): number {
    return this.send({ newOrder: { timeInForce: TimeInForce.GFD, ...order } })
  }

  cancel (clientOrderId: number): number {
    return this.send({ cancelOrder: { clientOrderId } })
  }

  /** Waits for an execution report of an order, optionally of one exec type. */
  async report (clientOrderId: number, execType?: number, timeoutMs?: number): Promise<ExecutionReport> {
    const envelope = await this.next((m) => m.body === 'executionReport' &&
      wireInt(m.executionReport!.clientOrderId) === clientOrderId &&
      (execType === undefined || m.executionReport!.execType === execType), timeoutMs)
    return envelope.executionReport as ExecutionReport
  }

  /** Waits for a Reject, optionally the one answering the message with `refSeq`. */
  async reject (refSeq?: number, timeoutMs?: number): Promise<Reject> {
    const envelope = await this.next((m) => m.body === 'reject' &&
      (refSeq === undefined || wireInt(m.reject!.refSeq) === refSeq), timeoutMs)
    return envelope.reject as Reject
  }

  /** Logs out and waits for the gateway to close the socket. */
  async logout (): Promise<void> {
    if (this.closed) return
    const closed = once(this, 'close')
    this.send({ logout: {} })
    await closed
  }

  /** Closes the socket without logging out. */
  async close (): Promise<void> {
    if (this.closed) return
    const closed = once(this, 'close')
    this.socket.close()
    await closed
  }
}

/** The error of a refused request, naming the reason and, for a throttle, its limit and count. */
function refusal (what: string, reason: number, text: string, limit = 0, observed = 0): ClientRequestError {
  const numbers = limit !== 0 || observed !== 0 ? ` (limit ${limit}, observed ${observed})` : ''
  return new ClientRequestError('GH_ERR_CLIENT_REFUSED', `${what} refused: ${reasonName(reason)}${numbers}${text === '' ? '' : `: ${text}`}`, reason, limit, observed)
}
