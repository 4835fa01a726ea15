// The exchange simulator: a TCP server speaking the link protocol
// (link.proto) in front of the matching engine. Tests, the benchmark and
// the gateway's embedded default all run it; `gatehouse exchange-sim`
// runs it on its own (main.ts).
//
// Per link session name it keeps, across reconnects:
//   - the next gateway -> exchange seq it expects;
//   - the reports it sent (seq 1, 2, 3, ...), the last
//     RESEND_HISTORY_CAPACITY of them, for resend on reconnect;
//   - the session's working orders (in the engine). Orders are not
//     cancelled on disconnect: cancel-on-disconnect is the gateway's job.
// Reports for a session that is not connected go into its history only
// and are resent when it logs on again asking for them.
//
// Logon rules (LinkLogon.next_expected_seq = N, 0 read as 1):
//   - N within the history: reports N.. are resent, possible_duplicate set.
//   - N older than the history: ok, resent from the oldest held; the reply
//     text says which seqs are lost.
//   - N beyond the last seq sent: refused, unless nothing was ever sent on
//     that name here (a simulator restarted under a running gateway), in
//     which case numbering continues at N.
//   - the name already logged on elsewhere: refused (ok=false, text says
//     why); the other connection is untouched.
// Incoming application seqs: the expected one is taken; a lower one is a
// duplicate and ignored; a higher one is a gap, taken and reported as an
// event; 0 is a protocol error (logout and close).
//
// Trading-day roll (rollTradingDay(), SIGUSR2 to `gatehouse exchange-sim`):
// the engine rolls positions and expires the day's orders (their CANCELLED
// reports go out first), the day advances one calendar day, and every
// logged-on link is logged out so its gateway reconnects and learns the
// new day from the logon reply. Seqs and resend histories are per session
// name and carry on across the roll: a gateway resuming after the logout
// asks for what it missed exactly as after any reconnect.
import { createServer, type Server, type Socket } from 'node:net'
import {
  RejectReason, wireInt,
  type InstrumentInit, type LinkEnvelope, type LinkEnvelopeInit, type LinkExecutionReportInit,
} from '../protocol/messages.js'
import { LinkFrameDecoder, decodeLinkFrame } from '../protocol/link-codec.js'
import { HotLinkOrderDecoder } from '../protocol/hot-codec.js'
import { ProtocolError } from '../protocol/errors.js'
import {
  CLOSE_GRACE_MS, DEFAULT_SIM_HOST, HEARTBEAT_TIMEOUT_INTERVALS, LOGON_TIMEOUT_MS, MAX_BEHIND_BYTES,
  MIN_HEARTBEAT_CHECK_MS, RESEND_HISTORY_CAPACITY,
} from './constants.js'
import { DEFAULT_INSTRUMENTS } from './instruments.js'
import { LinkFrameWriter } from './link-frame-writer.js'
import { MatchingEngine, type NewOrderInput, type PositionView } from './matching-engine.js'
import { OrderRecorder } from './order-recorder.js'
import { ResendHistory } from './resend-history.js'
import { nowMicros } from '../protocol/clock.js'

/** Faults injected on request; 0 turns each off. */
export interface SimFaults {
  /** Reject every Nth new order (counted over all sessions) with EXCHANGE_REJECTED. */
  rejectEvery: number
  /** Delay every report by this many milliseconds. */
  delayMs: number
  /** Silently drop every Nth new order: no report at all. */
  dropEvery: number
}

/** Something worth telling an operator; main.ts prints each as a JSON line. */
export interface SimEvent {
  event: string
  [field: string]: unknown
}

export interface ExchangeSimulatorOptions {
  /** Listen address (default 127.0.0.1). */
  host?: string
  /** Listen port; 0 picks a free one (default 0). */
  port?: number
  /** Reference data (default DEFAULT_INSTRUMENTS). */
  instruments?: readonly InstrumentInit[]
  /** Append one JSON line per new order received to this file. */
  recordFile?: string
  /** Reported in the logon reply (default "production"). */
  environment?: 'production' | 'test'
  /** Reported in the logon reply, YYYYMMDD (default: today, local time). */
  tradingDay?: string
  faults?: Partial<SimFaults>
  /** Receives operator events (logons, disconnects, slow consumers); default: discarded. */
  onEvent?: (event: SimEvent) => void
  /** Reports kept per session for resend; a power of two (default RESEND_HISTORY_CAPACITY). */
  historyCapacity?: number
  /** Drop a connection this many bytes behind (default MAX_BEHIND_BYTES). */
  maxBehindBytes?: number
  /** Member accounts holding positions at once (default DEFAULT_MAX_ACCOUNTS); one more is refused. */
  maxAccounts?: number
}

const NO_FAULTS: SimFaults = Object.freeze({ rejectEvery: 0, delayMs: 0, dropEvery: 0 })

/** Today as YYYYMMDD in local time. */
export function todayTradingDay (now = new Date()): string {
  const mm = String(now.getMonth() + 1).padStart(2, '0')
  const dd = String(now.getDate()).padStart(2, '0')
  return `${now.getFullYear()}${mm}${dd}`
}

/** A trading day YYYYMMDD as a UTC date, or null when it is not a real date. */
export function tradingDayDate (day: string): Date | null {
  const m = /^(\d{4})(\d{2})(\d{2})$/.exec(day)
  if (m === null) return null
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])))
  return date.getUTCMonth() === Number(m[2]) - 1 && date.getUTCDate() === Number(m[3]) ? date : null
}

/** The calendar day after `day` (YYYYMMDD); weekends and holidays are not skipped. Throws RangeError on anything but a real date. */
export function nextCalendarDay (day: string): string {
  const date = tradingDayDate(day)
  if (date === null) throw new RangeError(`trading day must be a real date as YYYYMMDD, got ${JSON.stringify(day)}`)
  date.setUTCDate(date.getUTCDate() + 1)
  return `${date.getUTCFullYear()}${String(date.getUTCMonth() + 1).padStart(2, '0')}${String(date.getUTCDate()).padStart(2, '0')}`
}

/** State of one link session name; outlives its connections. */
class LinkSession {
  connection: SimConnection | null = null
  /** Next gateway -> exchange seq expected. */
  nextInSeq = 1
  readonly history: ResendHistory<LinkExecutionReportInit>
  constructor (readonly name: string, historyCapacity: number) {
    this.history = new ResendHistory(historyCapacity)
  }
}

/** One TCP connection; bound to a session once its logon succeeds. */
class SimConnection {
  session: LinkSession | null = null
  readonly decoder = new LinkFrameDecoder()
  /** New orders and cancels decode by hand into its reused envelope (valid until the next frame); the rest through protobufjs. */
  readonly hot = new HotLinkOrderDecoder()
  out!: LinkFrameWriter
  onFrame!: (body: Buffer) => void
  heartbeatIntervalMs = 0
  heartbeatTimer: NodeJS.Timeout | null = null
  lastReceivedMs = Date.now()
  /** Reading is paused while our writes to this peer are backed up. */
  readPaused = false
  closing = false
  readonly closed: Promise<void>
  readonly remote: string
  constructor (readonly socket: Socket) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()))
  }
}

/**
 * The exchange simulator. `start()` listens and resolves with the bound
 * address; `stop()` logs every connection out, closes the server and the
 * record file. Everything runs on the caller's event loop, so the benchmark
 * can run it in-process.
 */
export class ExchangeSimulator {
  readonly host: string
  readonly requestedPort: number
  readonly instruments: readonly InstrumentInit[]
  readonly environment: 'production' | 'test'
  readonly faults: SimFaults
  readonly engine: MatchingEngine

  private readonly recordFile: string | undefined
  private readonly onEvent: (event: SimEvent) => void
  private readonly historyCapacity: number
  private readonly maxBehindBytes: number
  private readonly sessions = new Map<string, LinkSession>()
  private readonly connections = new Set<SimConnection>()
  private server: Server | null = null
  private recorder: OrderRecorder | null = null
  private newOrderCount = 0
  private stopping: Promise<void> | null = null
  // One envelope object reused for every report sent: encode() is
  // synchronous and reads it immediately, so nothing can see it change.
  private readonly reportEnvelope: LinkEnvelopeInit = { seq: 0, sentTimeUs: 0, possibleDuplicate: false, report: null }

  constructor (options: ExchangeSimulatorOptions = {}) {
    this.host = options.host ?? DEFAULT_SIM_HOST
    this.requestedPort = options.port ?? 0
    this.instruments = options.instruments ?? DEFAULT_INSTRUMENTS
    this.environment = options.environment ?? 'production'
    const tradingDay = options.tradingDay ?? todayTradingDay()
    nextCalendarDay(tradingDay) // the roll needs a real date: refuse anything else now, not at the roll
    this.faults = Object.freeze({ ...NO_FAULTS, ...options.faults })
    this.recordFile = options.recordFile
    this.onEvent = options.onEvent ?? (() => {})
    this.historyCapacity = options.historyCapacity ?? RESEND_HISTORY_CAPACITY
    this.maxBehindBytes = options.maxBehindBytes ?? MAX_BEHIND_BYTES
    const delayMs = this.faults.delayMs
    this.engine = new MatchingEngine(this.instruments, delayMs > 0
      ? (sessionName, report) => { setTimeout(this.deliver, delayMs, sessionName, report).unref() }
      : this.deliver, nowMicros, { tradingDay, maxAccounts: options.maxAccounts })
  }

  /** Trading day reported at logon, YYYYMMDD; advances at rollTradingDay(). */
  get tradingDay (): string {
    return this.engine.tradingDay
  }

  /**
   * Ends the trading day: positions roll (today's lots become yesterday's),
   * every working order expires (CANCELLED), the day advances one calendar
   * day, and every logged-on link is logged out so its gateway reconnects
   * and learns the new day at logon. Returns the new day.
   */
  rollTradingDay (): string {
    const from = this.engine.tradingDay
    const to = nextCalendarDay(from)
    const expired = this.engine.rollTradingDay(to)
    const loggedOn: SimConnection[] = []
    for (const conn of this.connections) if (conn.session !== null && !conn.closing) loggedOn.push(conn)
    this.onEvent({ event: 'trading-day-roll', from, to, expired_orders: expired, links_logged_out: loggedOn.length, accounts: this.engine.accountCount })
    for (const conn of loggedOn) {
      this.closeWithLogout(conn, `trading day ${from} ended; the trading day is now ${to}: log on again`)
    }
    return to
  }

  /** An account's positions per instrument (nothing held or frozen: not listed). For tests and inspection. */
  positionsOf (account: string): PositionView[] {
    return this.engine.positionsOf(account)
  }

  /** Opens the record file (if any) and listens. Resolves with the bound address. */
  async start (): Promise<{ host: string, port: number }> {
    if (this.server !== null) throw new Error('exchange simulator already started')
    if (this.recordFile !== undefined) this.recorder = await OrderRecorder.open(this.recordFile)
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket))
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.requestedPort, this.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    const address = server.address()
    const port = typeof address === 'object' && address !== null ? address.port : this.requestedPort
    return { host: this.host, port }
  }

  /** Logs every connection out, closes the server, flushes and closes the record file. */
  stop (): Promise<void> {
    this.stopping ??= this.shutdown()
    return this.stopping
  }

  /** Number of open TCP connections (logged on or not). */
  get connectionCount (): number {
    return this.connections.size
  }

  private async shutdown (): Promise<void> {
    const server = this.server
    const serverClosed = server === null
      ? Promise.resolve()
      : new Promise<void>((resolve) => server.close(() => resolve()))
    const closing: Array<Promise<void>> = []
    for (const conn of this.connections) {
      this.closeWithLogout(conn, 'exchange simulator shutting down')
      closing.push(conn.closed)
    }
    await Promise.all(closing)
    await serverClosed
    if (this.recorder !== null) await this.recorder.close()
  }

  private accept (socket: Socket): void {
    if (this.stopping !== null) {
      socket.destroy()
      return
    }
    const conn = new SimConnection(socket)
    conn.out = new LinkFrameWriter(socket,
      (behindBytes) => this.dropSlowConsumer(conn, behindBytes),
      (blocked) => this.setReadPaused(conn, blocked),
      this.maxBehindBytes)
    conn.onFrame = (body) => this.handleFrame(conn, body)
    this.connections.add(conn)
    socket.on('data', (chunk: Buffer) => this.handleData(conn, chunk))
    socket.on('error', () => {}) // 'close' follows and cleans up; a reset peer is routine
    socket.on('close', () => this.handleClose(conn))
    setTimeout(() => {
      if (conn.session === null && !conn.closing) this.closeWithLogout(conn, `no LinkLogon within ${LOGON_TIMEOUT_MS} ms`)
    }, LOGON_TIMEOUT_MS).unref()
  }

  private handleData (conn: SimConnection, chunk: Buffer): void {
    if (conn.closing) return
    conn.lastReceivedMs = Date.now()
    try {
      conn.decoder.push(chunk, conn.onFrame)
    } catch (err) {
      // Only framing errors escape (handleFrame catches its own): the
      // stream cannot be resynchronised after a bad length.
      const text = err instanceof ProtocolError ? `${err.code}: ${err.message}` : String(err)
      this.closeWithLogout(conn, text)
    }
  }

  private handleFrame (conn: SimConnection, body: Buffer): void {
    if (conn.closing) return
    let env: LinkEnvelope
    try {
      env = decodeLinkFrame(conn.hot, body)
    } catch (err) {
      this.closeWithLogout(conn, `${(err as ProtocolError).code}: ${(err as Error).message}`)
      return
    }
    const session = conn.session
    if (session === null) {
      if (env.body === 'logon') this.handleLogon(conn, env)
      else this.closeWithLogout(conn, `first message must be LinkLogon, got ${env.body ?? 'an empty envelope'}`)
      return
    }
    switch (env.body) {
      case 'newOrder':
        if (this.acceptSeq(conn, session, env)) this.handleNewOrder(session, wireInt(env.seq), env.newOrder as NewOrderInput)
        break
      case 'cancel':
        if (this.acceptSeq(conn, session, env)) this.engine.cancel(session.name, wireInt(env.cancel!.orderId))
        break
      case 'massCancel':
        if (this.acceptSeq(conn, session, env)) {
          this.engine.massCancel(session.name, env.massCancel!.account ?? '', env.massCancel!.instrument ?? '')
        }
        break
      case 'heartbeat':
        break // lastReceivedMs was updated on arrival; nothing to answer
      case 'logout':
        this.closeWithLogout(conn, 'logout acknowledged', env.logout?.text ?? '')
        break
      case 'logon':
        this.closeWithLogout(conn, `session "${session.name}" is already logged on on this connection`)
        break
      case undefined:
        // A body this version does not know (a newer peer): skip it rather than fail the link.
        this.onEvent({ event: 'link-unknown-message', session: session.name, seq: wireInt(env.seq) })
        break
      default:
        this.closeWithLogout(conn, `${env.body} is not a gateway -> exchange message`)
    }
  }

  /**
   * Sequence check of an incoming application message. In order: accept.
   * Below the expected seq: a duplicate, ignored. Above it: a gap (the
   * gateway lost or skipped messages), accepted and reported. Seq 0 on an
   * application message is a protocol error.
   */
  private acceptSeq (conn: SimConnection, session: LinkSession, env: LinkEnvelope): boolean {
    const seq = wireInt(env.seq)
    const expected = session.nextInSeq
    if (seq === expected) {
      session.nextInSeq = seq + 1
      return true
    }
    if (seq === 0) {
      this.closeWithLogout(conn, `application message ${env.body ?? ''} carries seq 0; expected seq ${expected}`)
      return false
    }
    if (seq < expected) {
      this.onEvent({ event: 'link-duplicate-ignored', session: session.name, seq, expected, possible_duplicate: env.possibleDuplicate })
      return false
    }
    this.onEvent({ event: 'link-seq-gap', session: session.name, seq, expected })
    session.nextInSeq = seq + 1
    return true
  }

  private handleNewOrder (session: LinkSession, seq: number, order: NewOrderInput): void {
    if (this.recorder !== null) this.recorder.record(nowMicros(), session.name, seq, order)
    const n = ++this.newOrderCount
    const { dropEvery, rejectEvery } = this.faults
    if (dropEvery > 0 && n % dropEvery === 0) return
    if (rejectEvery > 0 && n % rejectEvery === 0) {
      this.engine.rejectOrder(session.name, order, RejectReason.EXCHANGE_REJECTED,
        `fault injection: every ${rejectEvery}th order is rejected`)
      return
    }
    this.engine.newOrder(session.name, order)
  }

  private handleLogon (conn: SimConnection, env: LinkEnvelope): void {
    const logon = env.logon!
    const name = logon.sessionName ?? ''
    if (name === '') {
      this.refuseLogon(conn, name, 'session_name is required')
      return
    }
    let session = this.sessions.get(name)
    if (session?.connection != null) {
      this.refuseLogon(conn, name, `session "${name}" is already logged on from ${session.connection.remote}; ` +
        'log out there first (a dead connection is closed after 3 missed heartbeat intervals)')
      return
    }
    if (session === undefined) {
      session = new LinkSession(name, this.historyCapacity)
      this.sessions.set(name, session)
    }
    const history = session.history
    let requested = wireInt(logon.nextExpectedSeq)
    if (requested === 0) requested = 1
    if (requested > history.nextSeq) {
      if (history.nextSeq !== 1) {
        this.refuseLogon(conn, name, `next_expected_seq ${requested} is beyond the last seq sent on "${name}" (${history.nextSeq - 1})`)
        return
      }
      // Nothing was ever sent on this name here: the gateway is resuming a
      // session of an earlier simulator run, so continue its numbering.
      history.startAt(requested)
    }
    let text = ''
    const from = Math.max(requested, history.firstSeq)
    if (from > requested) {
      text = `reports ${requested}..${from - 1} are no longer held (history keeps the last ${history.capacity}); resending from ${from}`
    }

    session.connection = conn
    conn.session = session
    conn.out.send({
      seq: 0,
      sentTimeUs: nowMicros(),
      logonReply: {
        ok: true,
        text,
        nextExpectedSeq: session.nextInSeq,
        tradingDay: this.tradingDay,
        environment: this.environment,
        instruments: this.instruments as InstrumentInit[],
      },
    })
    const env2 = this.reportEnvelope
    const end = history.nextSeq
    for (let seq = from; seq < end; seq++) {
      env2.seq = seq
      env2.sentTimeUs = nowMicros()
      env2.possibleDuplicate = true
      env2.report = history.get(seq)
      conn.out.send(env2)
    }
    this.startHeartbeats(conn, logon.heartbeatIntervalMs ?? 0)
    this.onEvent({
      event: 'link-logon',
      session: name,
      member_id: logon.memberId ?? '',
      remote: conn.remote,
      next_expected_seq: requested,
      resent: end - from,
      ...(text === '' ? {} : { text }),
    })
  }

  private refuseLogon (conn: SimConnection, name: string, text: string): void {
    conn.closing = true
    conn.out.send({
      seq: 0,
      sentTimeUs: nowMicros(),
      logonReply: { ok: false, text, tradingDay: this.tradingDay, environment: this.environment },
    })
    conn.out.end()
    this.destroyAfterGrace(conn)
    this.onEvent({ event: 'link-logon-refused', session: name, remote: conn.remote, text })
  }

  /** Sends one report to its session, or only into its history while it is disconnected. */
  private readonly deliver = (sessionName: string, report: LinkExecutionReportInit): void => {
    const session = this.sessions.get(sessionName)
    if (session === undefined) return // only sessions that logged on have orders
    const seq = session.history.append(report)
    const conn = session.connection
    if (conn === null) return
    const env = this.reportEnvelope
    env.seq = seq
    env.sentTimeUs = nowMicros()
    env.possibleDuplicate = false
    env.report = report
    conn.out.send(env)
  }

  private startHeartbeats (conn: SimConnection, intervalMs: number): void {
    conn.heartbeatIntervalMs = intervalMs
    if (intervalMs <= 0) return
    const checkMs = Math.max(MIN_HEARTBEAT_CHECK_MS, Math.floor(intervalMs / 4))
    conn.heartbeatTimer = setInterval(() => {
      const now = Date.now()
      if (!conn.readPaused && now - conn.lastReceivedMs >= HEARTBEAT_TIMEOUT_INTERVALS * intervalMs) {
        this.closeWithLogout(conn, `nothing received for ${now - conn.lastReceivedMs} ms (${HEARTBEAT_TIMEOUT_INTERVALS} heartbeat intervals of ${intervalMs} ms)`)
        return
      }
      if (now - conn.out.lastSentMs >= intervalMs) {
        conn.out.send({ seq: 0, sentTimeUs: nowMicros(), heartbeat: {} })
        conn.out.flush()
      }
    }, checkMs)
    conn.heartbeatTimer.unref()
  }

  private setReadPaused (conn: SimConnection, paused: boolean): void {
    // A peer that does not read its reports stops getting its orders read:
    // TCP pushes the backlog back to the gateway instead of into our memory.
    conn.readPaused = paused
    if (paused) conn.socket.pause()
    else {
      conn.lastReceivedMs = Date.now()
      conn.socket.resume()
    }
  }

  private dropSlowConsumer (conn: SimConnection, behindBytes: number): void {
    this.onEvent({
      event: 'link-slow-consumer',
      session: conn.session?.name ?? '',
      remote: conn.remote,
      behind_bytes: behindBytes,
      text: `dropped: more than ${this.maxBehindBytes} bytes behind; its reports stay in the session history for resend`,
    })
    this.unbind(conn)
    conn.closing = true
    conn.socket.destroy()
  }

  /**
   * Says why in a LinkLogout, then closes. The session is released at once
   * so the gateway may log on again while this socket is still closing.
   */
  private closeWithLogout (conn: SimConnection, text: string, peerText?: string): void {
    if (conn.closing) return
    conn.closing = true
    const sessionName = conn.session?.name ?? ''
    this.unbind(conn)
    conn.out.send({ seq: 0, sentTimeUs: nowMicros(), logout: { text } })
    conn.out.end()
    this.destroyAfterGrace(conn)
    this.onEvent({
      event: 'link-logout',
      session: sessionName,
      remote: conn.remote,
      text,
      ...(peerText === undefined ? {} : { peer_text: peerText }),
    })
  }

  private destroyAfterGrace (conn: SimConnection): void {
    // end() waits for the peer's FIN; a peer that never sends one must not
    // keep the socket (or stop()) waiting forever.
    setTimeout(() => conn.socket.destroy(), CLOSE_GRACE_MS).unref()
  }

  private unbind (conn: SimConnection): void {
    if (conn.heartbeatTimer !== null) {
      clearInterval(conn.heartbeatTimer)
      conn.heartbeatTimer = null
    }
    const session = conn.session
    if (session !== null && session.connection === conn) session.connection = null
  }

  private handleClose (conn: SimConnection): void {
    conn.out.close()
    this.connections.delete(conn)
    const wasBound = conn.session !== null && conn.session.connection === conn
    this.unbind(conn)
    if (wasBound && !conn.closing) {
      this.onEvent({ event: 'link-disconnect', session: conn.session!.name, remote: conn.remote })
    }
    conn.closing = true
  }
}
