// The client edge of a lane: its uWebSockets.js listener, the frames of
// its connections, and what leaves to them. It checks every frame (binary
// only, size limit, decode, field limits), journals it as received,
// charges the session's message throttle, and hands it on: logon steps to
// the logon gate (logon-gate.ts), orders and cancels to order entry
// (order-entry.ts). Every callback is contained: an exception never
// reaches uWebSockets.js; it is counted, journaled, alerted and answered.
//
// Journal (write-ahead): nothing is sent as it is produced. Client sends
// are numbered, journaled and queued, and flushed at the end of the
// event-loop turn (or of the exchange link's TCP chunk), one ws.cork()
// per session, after one journal commit for the whole turn. So a turn's
// records reach the OS together, before any byte they cover leaves.
import uWS from 'uWebSockets.js'
import { listenExclusive } from '../platform/exclusive-listen.js'
import { explainListenFailure, sectionFields } from '../platform/listen-failure.js'
import { decodeClientFrame, encodeClientEnvelope } from '../protocol/client-codec.js'
import { HotClientDecoder } from '../protocol/hot-codec.js'
import { WireScratch } from '../protocol/wire-scratch.js'
import {
  RejectReason, wireInt,
  type CancelOrder, type ClientEnvelope, type ClientEnvelopeInit, type Logon, type NewOrder, type Query,
} from '../protocol/messages.js'
import type { gatehouse } from '../protocol/generated/gatehouse.js'
import { echoableId, validateClientEnvelope, type FieldViolation } from '../protocol/field-limits.js'
import { salvageEnvelopeIds } from '../protocol/envelope-salvage.js'
import { IN_NOW_MS, type RiskEngine } from '../checks/risk-engine.js'
import { Limit } from '../checks/limits.js'
import { ClientSession, THROTTLE_WINDOW_MS, chargeSessionThrottle, type SessionUserData } from './client-session.js'
import type { LaneConfig } from '../config/config.js'
import type { LaneName } from '../protocol/lanes.js'
import type { LaneJournal, SessionJournalHeads } from './lane-journal.js'
import { CLIENT_BODY_FIELDS, DecisionStage, FLAG_DIGEST, FLAG_TEXT_FRAME, frameDigest } from '../journal/gateway-records.js'
import type { LifecyclePort, MonitorAlert, OrderLifecycle } from './order-lifecycle.js'
import { microsAt } from '../protocol/clock.js'
import { FRAME_TIME_US, ORDER_DECODED, ORDER_RECEIVED, type OrderEntry } from './order-entry.js'
import type { LogonGate, ClientOutlet } from './logon-gate.js'
import type { ReportBatching } from './exchange-side.js'
import type { LaneToSupervisor } from './worker-contract.js'
import type { LaneMetrics } from './lane-metrics.js'
import type { SessionIds } from './session-ids.js'
import { journalWholeBeforeLogon, spendPreLogonFrame } from './pre-logon-budget.js'
import { UnauthenticatedCaps } from './unauthenticated-caps.js'
import { AccountQueries, NO_DAY_REPORTS, type DayReports } from './account-queries.js'
import { AccountSnapshots } from '../checks/account-snapshot.js'

/** Frames up to this multiple of maxFrameBytes get a FRAME_TOO_LARGE reject; uWS drops a connection sending anything larger (the client sees 1006). */
const HARD_FRAME_LIMIT_FACTOR = 4

/** A session is closed once the throttle refuses more than max(limit, this) of its messages in one window. */
const MIN_REFUSALS_BEFORE_CUT_OFF = 100

export interface ClientEdgeOptions {
  name: LaneName
  laneConfig: LaneConfig
  /** The largest sessionMessagesPerSecond config or live tuning accepts (limits.ts, RING_BOUND_LIMITS). */
  maxThrottleLimit: number
  /** Unique for the gateway's life and unpredictable (session-ids.ts). */
  sessionIds: SessionIds
  /** The lane's retention journal stream; null only when journal.enabled is false (benchmarks). */
  journal: LaneJournal | null
  metrics: LaneMetrics
  risk: RiskEngine
  notify: (message: LaneToSupervisor) => void
}

/** The stages a decoded message goes on to (set once by attach(), before the edge listens). */
export interface EdgeStages {
  gate: LogonGate
  orderEntry: OrderEntry
  lifecycle: OrderLifecycle
  /** The day's execution reports the orders and trades queries read (the lane's report log, now); none held if absent. */
  dayReports?: () => DayReports
  /** The exchange link, whose writes a latency lane holds to the end of each message (FLUSH_AT_END_OF_MESSAGE). */
  link?: HeldFlushes
}

/** What the edge asks of the exchange link on a latency lane (exchange-link.ts). */
export interface HeldFlushes {
  holdFlushes (): void
  releaseFlushes (): void
}

/**
 * Lanes that flush at the end of each client message's handling rather than
 * at the end of the event-loop turn: hft trades a write(2) per message for
 * never waiting behind other I/O; the others keep batching a turn's work.
 */
export const FLUSH_AT_END_OF_MESSAGE: Readonly<Record<LaneName, boolean>> = { terminal: false, platform: false, hft: true }

export class ClientEdge implements ClientOutlet, ReportBatching, LifecyclePort {
  readonly name: LaneName
  private readonly laneConfig: LaneConfig
  private readonly app: uWS.TemplatedApp
  private listenSocket: uWS.us_listen_socket | null = null
  readonly sessions = new Set<ClientSession>()
  private readonly risk: RiskEngine
  private gate!: LogonGate
  private orderEntry!: OrderEntry
  private lifecycle!: OrderLifecycle
  private queries!: AccountQueries
  private readonly maxThrottleLimit: number
  private readonly sessionIds: SessionIds
  private readonly journal: LaneJournal | null
  /** Set when the journal failed: the lane sends nothing more and takes no connections (fail closed). */
  private journalFailed = false
  private flushScheduled = false
  /**
   * The latency lane (FLUSH_AT_END_OF_MESSAGE) commits, writes to the link
   * and sends to clients at the end of each message's handling instead of
   * on setImmediate, where an order could wait behind the previous order's
   * report chunk handled first in the same turn.
   */
  private readonly flushAtEndOfMessage: boolean
  /** Set while one message is handled on such a lane: its sends wait for releaseFlushes(). */
  private flushesHeld = false
  private link: HeldFlushes | null = null
  private readonly flushBound = (): void => { this.flushClientSends() }
  /**
   * Client sends are queued per session and flushed under one ws.cork()
   * each, at the end of the turn or of the link chunk: sends outside a uWS
   * callback are otherwise one write(2) apiece, which the profile showed
   * as 47% of the platform lane's CPU; and the journal commits once for
   * all of them first.
   */
  private batchingReports = false
  /**
   * Frames are decoded into one reused envelope (hot-codec.ts): what the
   * handlers read of an order or a cancel is valid while they run, and
   * nothing keeps it.
   */
  private readonly decoder = new HotClientDecoder()
  /** Execution reports are encoded into this and queued as views; it is reset once they are sent (flushClientSends). */
  private readonly outScratch = new WireScratch()
  private readonly sessionsWithPendingOut: ClientSession[] = []
  private flushingSession: ClientSession | null = null
  private readonly flushPendingOut = (): void => {
    const session = this.flushingSession!
    for (const bytes of session.pendingOut) session.ws!.send(bytes, true)
  }
  private readonly metrics: LaneMetrics
  private readonly notify: (message: LaneToSupervisor) => void
  /**
   * Receive times of the orders whose first report was queued this turn:
   * their round trips end at the flush, once the journal has committed
   * and just before the sends. Grows in fixed steps, rarely.
   */
  private roundTripStartsMs = new Float64Array(64)
  private roundTripCount = 0
  /** Connections not logged on yet, capped per lane and per IP at the upgrade. */
  private readonly unauthenticated: UnauthenticatedCaps
  /** Journal heads for faults no client session is part of (session 0). */
  private readonly laneHeads: SessionJournalHeads | null
  /** Test-only injected fault (config lanes.<lane>.testFaults); 0: none. */
  private readonly faultHeartbeatTestId: number

  constructor (options: ClientEdgeOptions) {
    this.name = options.name
    this.laneConfig = options.laneConfig
    this.maxThrottleLimit = options.maxThrottleLimit
    this.sessionIds = options.sessionIds
    this.journal = options.journal
    this.metrics = options.metrics
    this.risk = options.risk
    this.notify = options.notify
    this.unauthenticated = new UnauthenticatedCaps(this.laneConfig.policy.maxUnauthenticatedConnections, this.laneConfig.policy.maxUnauthenticatedPerIp)
    this.laneHeads = this.journal?.sessionHeads(0) ?? null
    this.faultHeartbeatTestId = this.laneConfig.testFaults?.throwOnHeartbeatTestId ?? 0
    this.flushAtEndOfMessage = FLUSH_AT_END_OF_MESSAGE[this.name]
    const tls = this.laneConfig.tls
    this.app = tls === undefined
      ? uWS.App()
      : uWS.SSLApp({ cert_file_name: tls.certFile, key_file_name: tls.keyFile, passphrase: tls.passphrase })
    this.app.ws<SessionUserData>('/*', {
      compression: uWS.DISABLED,
      maxPayloadLength: this.laneConfig.maxFrameBytes * HARD_FRAME_LIMIT_FACTOR,
      idleTimeout: this.laneConfig.idleTimeoutS,
      maxBackpressure: this.laneConfig.maxBackpressureBytes,
      closeOnBackpressureLimit: 1,
      // Every callback is contained (contain()): an exception never reaches uWebSockets.js.
      upgrade: this.contained('upgrade', (res, req, context) => {
        // Read everything from req/res now: both are invalid after return.
        const remoteAddress = Buffer.from(res.getRemoteAddressAsText()).toString()
        if (this.journalFailed) {
          res.writeStatus('503 Service Unavailable').end('the gateway cannot record messages on this lane (journal failure); it accepts no connections until restarted')
          return
        }
        if (!this.gate.admitConnection(remoteAddress)) {
          res.writeStatus('429 Too Many Requests').end(`more than ${this.laneConfig.policy.maxConnectionsPerIpPerSecond} new connections per second from this address`)
          return
        }
        // Beside the rate limit: how many not logged on are held now.
        const refusal = this.unauthenticated.check(remoteAddress)
        if (refusal !== null) {
          this.metrics.reject(RejectReason.TOO_MANY_UNAUTHENTICATED)
          res.writeStatus(refusal.status).end(refusal.text)
          return
        }
        let sessionId: number
        try {
          sessionId = this.sessionIds.next()
        } catch (err) {
          // The run directory cannot record the next block of IDs: refuse
          // the connection rather than risk reusing an ID after a restart.
          res.writeStatus('503 Service Unavailable').end(`the gateway cannot issue a session ID: ${(err as Error).message}`)
          return
        }
        const session = new ClientSession(sessionId, remoteAddress, Date.now(), this.maxThrottleLimit)
        session.journal = this.journal?.sessionHeads(session.id) ?? null
        res.upgrade<SessionUserData>({ session },
          req.getHeader('sec-websocket-key'),
          req.getHeader('sec-websocket-protocol'),
          req.getHeader('sec-websocket-extensions'),
          context)
      }, null, (res) => {
        res.writeStatus('500 Internal Server Error').end('INTERNAL_ERROR: the gateway failed accepting this connection; retry')
      }),
      open: this.contained('open', (ws) => {
        const session = ws.getUserData().session
        session.ws = ws
        this.unauthenticated.add(session.remoteAddress)
        session.countedUnauthenticated = true
        this.sessions.add(session)
        this.metrics.sessionOpened()
        this.notify({ type: 'logon-event', lane: this.name, sessionId: session.id, ip: session.remoteAddress, step: 'connect', reason: 0, text: '' })
        this.gate.sendChallenge(session)
      }, (ws) => ws.getUserData().session),
      // Written out rather than through contained(): the hot path allocates nothing per message.
      message: (ws, message, isBinary) => {
        const session = ws.getUserData().session
        if (this.flushAtEndOfMessage) this.holdFlushes()
        try {
          this.onMessage(session, message, isBinary)
        } catch (err) {
          this.contain('message', session, err)
        }
        if (this.flushAtEndOfMessage) this.releaseFlushes()
      },
      close: this.contained('close', (ws) => {
        const session = ws.getUserData().session
        session.ws = null
        this.releaseUnauthenticated(session)
        this.sessions.delete(session)
        this.metrics.sessionClosed(session.account !== null)
        this.notify({ type: 'logon-event', lane: this.name, sessionId: session.id, ip: session.remoteAddress, step: 'disconnect', account: session.account ?? undefined, reason: 0, text: '' })
        if (session.account === null) return
        this.notify({ type: 'session-closed', lane: this.name, sessionId: session.id, account: session.account })
        // Working orders stay at the exchange unless the session asked for
        // cancel-on-disconnect or the account's limit forces it; they wait
        // for the account's next session on this lane, which takes them
        // over (their reports, and cancels by client_order_id).
        this.lifecycle.sessionClosed(session, session.cancelOnDisconnect || this.risk.limitsFor(session.risk, -1, -1)[Limit.cancelOnDisconnect] === 1)
      }, (ws) => ws.getUserData().session),
    })
    this.app.any('/*', (res) => {
      res.writeStatus('426 Upgrade Required').end('Gatehouse lanes speak WebSocket only; see the README.')
    })
  }

  /** The stages messages go on to; once, before listen(). */
  attach (stages: EdgeStages): void {
    this.gate = stages.gate
    this.orderEntry = stages.orderEntry
    this.lifecycle = stages.lifecycle
    this.link = stages.link ?? null
    this.queries = new AccountQueries({
      snapshots: new AccountSnapshots(this.risk),
      workingOrders: stages.lifecycle.orders,
      dayReports: stages.dayReports ?? (() => NO_DAY_REPORTS),
      send: (session, envelope) => this.send(session, envelope),
      metrics: this.metrics,
    })
  }

  /** Listens on the lane's host and port. Resolves with the bound port. */
  listen (): Promise<number> {
    const { host, port } = this.laneConfig
    return new Promise((resolve, reject) => {
      listenExclusive(this.app, host, port, (listenSocket) => {
        if (listenSocket === false) {
          void explainListenFailure(sectionFields(`lanes.${this.name}`), host, port).then((reason) => { reject(new Error(reason)) })
          return
        }
        this.listenSocket = listenSocket
        resolve(uWS.us_socket_local_port(listenSocket))
      })
    })
  }

  /**
   * Closes the listener and every connection inside this thread (a thread
   * that exits holding uWS sockets aborts the process), their last queued
   * messages first.
   */
  close (): void {
    if (this.listenSocket !== null) {
      uWS.us_listen_socket_close(this.listenSocket)
      this.listenSocket = null
    }
    for (const session of [...this.sessions]) session.ws?.end(1001, 'gateway shutting down')
    this.flushClientSends()
    this.app.close()
  }

  // ---- frames in -------------------------------------------------------

  private onMessage (session: ClientSession, message: ArrayBuffer, isBinary: boolean): void {
    const receivedMs = performance.now()
    // The frame's time on the gateway's clock, from the same reading: its
    // journal record carries it and its checks run at it, so recovery
    // replays them at exactly that time.
    this.orderEntry.orderClockMs[FRAME_TIME_US] = microsAt(receivedMs)
    session.messagesIn++
    this.metrics.messageIn()
    if (this.journalFailed) return
    // The ArrayBuffer is valid only during this callback: the journal
    // copies the bytes, decoding copies what it keeps.
    const bytes = new Uint8Array(message)
    if (!session.loggedOn && !this.spendPreLogon(session, bytes)) return
    // A logged-on session's frames all count against its throttle, even
    // those refused before decoding, so junk cannot flood the journal faster
    // than orders could.
    if (session.loggedOn && (!isBinary || message.byteLength > this.laneConfig.maxFrameBytes) && !this.admitUndecoded(session, bytes, isBinary)) return
    if (!isBinary) {
      this.recordIn(session, bytes, 0, FLAG_TEXT_FRAME)
      this.sendReject(session, RejectReason.TEXT_FRAME_NOT_ALLOWED, 'send one binary frame per ClientEnvelope; text frames are not part of the protocol', 0, 0)
      return
    }
    if (message.byteLength > this.laneConfig.maxFrameBytes) {
      this.recordIn(session, bytes, 0, 0)
      this.sendReject(session, RejectReason.FRAME_TOO_LARGE,
        `frame of ${message.byteLength} bytes exceeds this lane's ${this.laneConfig.maxFrameBytes}-byte limit`, 0, 0)
      return
    }
    let envelope: ClientEnvelope
    try {
      envelope = decodeClientFrame(this.decoder, bytes)
    } catch (err) {
      if (session.loggedOn && !this.admitUndecoded(session, bytes, true)) return
      this.recordIn(session, bytes, 0, 0)
      const cause = (err as Error).cause as Error | undefined
      // What decoded before the damage still names the message, if it got that far.
      const ids = salvageEnvelopeIds(bytes)
      this.sendReject(session, RejectReason.MALFORMED_FRAME, `frame is not a valid ClientEnvelope: ${cause?.message ?? 'decode failed'}`, ids.refSeq, ids.clientOrderId)
      return
    }
    this.recordIn(session, bytes, CLIENT_BODY_FIELDS[envelope.body ?? ''] ?? 0, 0)
    // Unsafe seqs decode as NaN (long-off.ts): never echoed, never kept.
    const refSeq = echoableId(envelope.seq)
    session.lastClientSeq = refSeq
    const violation = validateClientEnvelope(envelope)
    if (violation !== null) {
      // Refused frames of a logged-on session count against its throttle
      // too, so junk cannot be answered faster than orders would be.
      if (session.loggedOn && !this.admitRefused(session, refSeq)) return
      this.refuseInvalidField(session, envelope, refSeq, violation)
      return
    }
    if (envelope.body === 'newOrder') {
      // The check path is timed from here (decoded and journaled) to the
      // decision; the round trip from the frame's arrival.
      this.orderEntry.orderClockMs[ORDER_RECEIVED] = receivedMs
      this.orderEntry.orderClockMs[ORDER_DECODED] = performance.now()
      this.metrics.order()
    }
    if (session.loggedOn && envelope.body !== 'logout') {
      // Every message of a logged-on session counts, cancels and
      // heartbeats included; refused ones do not, so the session recovers
      // as soon as its rate falls.
      // The time goes through the engine's input array: a double held
      // there is never boxed (see IN_NOW_MS).
      const limit = this.chargeThrottle(session)
      if (limit >= 0) {
        this.refuseThrottled(session, envelope, refSeq, limit, session.throttle.countInWindow(this.risk.input[IN_NOW_MS]!, THROTTLE_WINDOW_MS) + 1)
        return
      }
    }
    switch (envelope.body) {
      case 'newOrder':
        if (!this.gate.requireLogon(session, refSeq, wireInt(envelope.newOrder!.clientOrderId))) return
        this.orderEntry.newOrder(session, envelope.newOrder as NewOrder)
        return
      case 'cancelOrder':
        if (!this.gate.requireLogon(session, refSeq, wireInt(envelope.cancelOrder!.clientOrderId))) return
        this.orderEntry.cancel(session, envelope.cancelOrder as CancelOrder, refSeq)
        return
      case 'query':
        if (!this.gate.requireLogon(session, refSeq, 0)) return
        if (!this.admitQuery(session, refSeq)) return
        // Answered whole now, before the next message is read: at most one query is ever in flight.
        session.queryThrottle.chargeScan(Date.now(), this.queries.answer(session, envelope.query as Query), this.laneConfig.queryScanReportsPerSecond)
        return
      case 'authenticate':
        this.gate.onAuthenticate(session, envelope.authenticate as gatehouse.v1.Authenticate, refSeq).catch(this.containAsync('authenticate', session))
        return
      case 'terminalInfo':
        this.gate.onTerminalInfo(session, envelope.terminalInfo as gatehouse.v1.TerminalInfo, refSeq).catch(this.containAsync('terminal info', session))
        return
      case 'logon':
        this.gate.onLogon(session, envelope.logon as Logon, refSeq).catch(this.containAsync('logon', session))
        return
      case 'resendRequest':
        if (!this.gate.requireLogon(session, refSeq, 0)) return
        if (!this.admitQuery(session, refSeq)) return
        this.resend(session, wireInt(envelope.resendRequest!.afterReportSeq))
        return
      case 'heartbeat':
        if (this.faultHeartbeatTestId !== 0 && wireInt(envelope.heartbeat!.testId) === this.faultHeartbeatTestId) {
          throw new Error(`test fault: heartbeat test_id ${this.faultHeartbeatTestId} (lanes.${this.name}.testFaults)`)
        }
        this.send(session, { heartbeat: { testId: wireInt(envelope.heartbeat!.testId) } })
        return
      case 'logout':
        if (session.account !== null) {
          this.notify({ type: 'logon-event', lane: this.name, sessionId: session.id, ip: session.remoteAddress, step: 'logout', account: session.account, reason: 0, text: '' })
        }
        this.send(session, { logout: { text: 'goodbye' } })
        this.endSession(session, 1000, 'logout')
        return
      case 'logonReply':
      case 'executionReport':
      case 'reject':
      case 'authChallenge':
      case 'authenticateReply':
      case 'terminalInfoReply':
      case 'resendComplete':
      case 'queryReply':
        this.sendReject(session, RejectReason.UNEXPECTED_MESSAGE, `${envelope.body} is sent by the gateway, never by a client`, refSeq, 0)
        return
      default:
        this.sendReject(session, RejectReason.UNKNOWN_MESSAGE, 'envelope carries no message this gateway knows (protocol gatehouse.v1)', refSeq, 0)
    }
  }

  /**
   * ResendRequest: the account's held reports after `after`, each again
   * with possible_duplicate set and otherwise as first sent, then one
   * ResendComplete (its query throttle is charged first: admitQuery). One
   * request queues at most maxResendReports reports and, beyond its first,
   * at most half of maxBackpressureBytes less what the socket still
   * buffers: a big resend is paged (more = true), so it can neither grow
   * the lane's memory without bound nor trip the slow-consumer limit by
   * itself.
   */
  private resend (session: ClientSession, after: number): void {
    const account = session.account!
    const reports = this.lifecycle.reports
    const last = reports?.lastReportSeq(account) ?? 0
    const oldest = reports?.oldestReportSeq(account) ?? 0
    const complete = { afterReportSeq: after, resent: 0, lastReportSeq: last, oldestReportSeq: oldest, more: false, reason: 0, text: '' }
    if (after < last && (oldest === 0 || after + 1 < oldest)) {
      complete.reason = RejectReason.RESEND_UNAVAILABLE
      complete.text = oldest === 0
        ? `report_seq ${after + 1} to ${last} are no longer held (lanes.${this.name}.resendWindowReports); nothing was resent`
        : `report_seq ${after + 1} to ${oldest - 1} are no longer held (lanes.${this.name}.resendWindowReports); ask after ${oldest - 1} for the rest`
      this.metrics.reject(RejectReason.RESEND_UNAVAILABLE)
      this.send(session, { resendComplete: complete })
      return
    }
    const ws = session.ws
    const byteBudget = this.laneConfig.maxBackpressureBytes / 2 - (ws === null ? 0 : ws.getBufferedAmount())
    const maxReports = this.laneConfig.maxResendReports
    let queuedBytes = 0
    reports?.forEachReportAfter(account, after, (report) => {
      if (complete.resent >= maxReports || (complete.resent > 0 && queuedBytes >= byteBudget)) {
        complete.more = true
        return false
      }
      if (!this.send(session, { executionReport: { ...report, possibleDuplicate: true } })) return false
      queuedBytes += session.pendingOut[session.pendingOut.length - 1]!.length
      complete.resent++
      return true
    })
    complete.text = complete.more
      ? `resent ${complete.resent} reports; more follow: ask again after the last one received`
      : `resent ${complete.resent} reports`
    this.send(session, { resendComplete: complete })
    session.queryThrottle.chargeScan(Date.now(), complete.resent, this.laneConfig.queryScanReportsPerSecond)
  }

  private refuseThrottled (session: ClientSession, envelope: ClientEnvelope, refSeq: number, limit: number, observed: number): void {
    // Cut off or not, a refused order's decision is journaled: replay and
    // search find every order decided.
    const flooded = this.floodedPastThrottle(session, limit)
    const text = `more than ${limit} messages per second on this session; slow down (the window is exact and admits again as soon as the rate falls)`
    if (envelope.body === 'newOrder') {
      this.orderEntry.refuseOrder(session, envelope.newOrder as NewOrder, DecisionStage.THROTTLE, RejectReason.THROTTLED_SESSION, text, limit, observed, null, !flooded)
      return
    }
    if (flooded) return
    const clientOrderId = envelope.body === 'cancelOrder' ? wireInt(envelope.cancelOrder!.clientOrderId) : 0
    this.metrics.reject(RejectReason.THROTTLED_SESSION)
    this.send(session, { reject: { reason: RejectReason.THROTTLED_SESSION, text, refSeq, clientOrderId, limit, observed } })
  }

  /**
   * Charges a query (Query or ResendRequest) to the session's query
   * throttle (lanes.<lane>.queriesPerSecond, query-throttle.ts): false when
   * it is refused, in which case the client got a Reject THROTTLED_QUERY
   * with the limit and the count observed, counted in the lane's rejects.
   * Queries count against the session's message throttle as every message
   * does, and never against the order throttles.
   */
  admitQuery (session: ClientSession, refSeq: number): boolean {
    const nowMs = Date.now()
    const scanBudget = this.laneConfig.queryScanReportsPerSecond
    if (!session.queryThrottle.scanAllowed(nowMs, scanBudget)) {
      const debt = Math.ceil(session.queryThrottle.scanDebtAt(nowMs, scanBudget))
      this.metrics.reject(RejectReason.THROTTLED_QUERY)
      this.send(session, {
        reject: {
          reason: RejectReason.THROTTLED_QUERY,
          text: `this session's queries and resends read ${debt} held reports not yet paid back at ${scanBudget} a second ` +
            `(lanes.${this.name}.queryScanReportsPerSecond); ask again in ${Math.ceil((debt - scanBudget) * 1000 / scanBudget)} ms, or per instrument`,
          refSeq, clientOrderId: 0, limit: scanBudget, observed: debt,
        },
      })
      return false
    }
    const limit = this.laneConfig.queriesPerSecond
    const observed = session.queryThrottle.admit(nowMs, limit)
    if (observed < 0) return true
    this.metrics.reject(RejectReason.THROTTLED_QUERY)
    this.send(session, {
      reject: {
        reason: RejectReason.THROTTLED_QUERY,
        text: `more than ${limit} queries per second on this session (Query and ResendRequest count); ask again once the oldest leaves the 1 s window`,
        refSeq, clientOrderId: 0, limit, observed,
      },
    })
    return false
  }

  /**
   * Charges a frame to a connection not logged on. False when it is past
   * its budget: the frame is journaled as a digest, refused, and the
   * connection closed (or it is already closing and the frame is dropped).
   */
  private spendPreLogon (session: ClientSession, bytes: Uint8Array): boolean {
    const budget = session.preLogon
    if (budget.exceeded) return false
    const over = spendPreLogonFrame(budget, this.laneConfig.policy, bytes.length)
    if (over === null) return true
    budget.exceeded = true
    this.recordIn(session, bytes, 0, 0)
    this.sendReject(session, RejectReason.PRE_LOGON_BUDGET_EXCEEDED, over, 0, 0)
    this.endSession(session, 1008, 'pre-logon budget exceeded')
    return false
  }

  /**
   * The session throttle for a logged-on session's frame refused before it
   * is decoded (text, oversized, undecodable): false when throttled, in
   * which case it is journaled and refused with THROTTLED_SESSION.
   */
  private admitUndecoded (session: ClientSession, bytes: Uint8Array, isBinary: boolean): boolean {
    const limit = this.chargeThrottle(session)
    if (limit < 0) return true
    this.recordIn(session, bytes, 0, isBinary ? 0 : FLAG_TEXT_FRAME)
    this.refuseThrottledFrame(session, 0, limit)
    return false
  }

  /**
   * The session throttle for a decoded frame that is refused anyway (a
   * field outside its limit), already journaled: false when throttled, in
   * which case it is refused with THROTTLED_SESSION instead.
   */
  private admitRefused (session: ClientSession, refSeq: number): boolean {
    const limit = this.chargeThrottle(session)
    if (limit < 0) return true
    this.refuseThrottledFrame(session, refSeq, limit)
    return false
  }

  /**
   * Charges one message to a logged-on session's throttle: -1 when it is
   * admitted, else the sessionMessagesPerSecond limit that refused it. The
   * time is left in the engine's input array (IN_NOW_MS), where a double is
   * never boxed, for the caller's observed count. The time is the frame's
   * own (FRAME_TIME_US, the message's one clock reading), the time its
   * risk checks run at too: only called while a message is handled.
   */
  private chargeThrottle (session: ClientSession): number {
    this.risk.input[IN_NOW_MS] = this.orderEntry.orderClockMs[FRAME_TIME_US]! / 1000
    return chargeSessionThrottle(session, this.risk)
  }

  private refuseThrottledFrame (session: ClientSession, refSeq: number, limit: number): void {
    if (this.floodedPastThrottle(session, limit)) return
    const observed = session.throttle.countInWindow(this.risk.input[IN_NOW_MS]!, THROTTLE_WINDOW_MS) + 1
    const text = `more than ${limit} messages per second on this session; slow down (the window is exact and admits again as soon as the rate falls)`
    this.metrics.reject(RejectReason.THROTTLED_SESSION)
    this.send(session, { reject: { reason: RejectReason.THROTTLED_SESSION, text, refSeq, clientOrderId: 0, limit, observed } })
  }

  /**
   * A session that keeps sending past its throttle is cut off: once more
   * messages are refused within one throttle window than the limit admits
   * (it sends at over twice its rate, or ignores every refusal), it gets a
   * last THROTTLED_SESSION reject and is closed with 1008. Without this, a
   * flood is still answered and journaled message by message, and a lane
   * thread spends itself on one client while the others wait.
   * True when the session was (or is being) closed for it.
   */
  private floodedPastThrottle (session: ClientSession, limit: number): boolean {
    if (session.floodClosed) return true
    const nowMs = this.risk.input[IN_NOW_MS]!
    if (nowMs - session.refusedWindowStartMs >= THROTTLE_WINDOW_MS) {
      session.refusedWindowStartMs = nowMs
      session.refusedInWindow = 0
    }
    if (++session.refusedInWindow <= Math.max(limit, MIN_REFUSALS_BEFORE_CUT_OFF)) return false
    session.floodClosed = true
    this.metrics.reject(RejectReason.THROTTLED_SESSION)
    this.sendReject(session, RejectReason.THROTTLED_SESSION,
      `more than ${Math.max(limit, MIN_REFUSALS_BEFORE_CUT_OFF)} messages refused by the throttle within ${THROTTLE_WINDOW_MS} ms: the session is closed; reconnect and stay under ${limit} per second`, 0, 0)
    this.notify({ type: 'logon-event', lane: this.name, sessionId: session.id, ip: session.remoteAddress, step: 'disconnect', account: session.account ?? undefined, reason: RejectReason.THROTTLED_SESSION, text: 'closed: kept sending past its throttle' })
    this.endSession(session, 1008, 'kept sending past the throttle')
    return true
  }

  releaseUnauthenticated (session: ClientSession): void {
    if (!session.countedUnauthenticated) return
    session.countedUnauthenticated = false
    this.unauthenticated.release(session.remoteAddress)
  }

  // ---- contained faults -------------------------------------------------

  /**
   * A uWS callback whose exceptions are contained: an exception escaping
   * into uWebSockets.js would end the process. sessionOf names the client
   * involved (to answer and journal); onFault answers what is left to.
   */
  private contained<A extends unknown[]> (where: string, handler: (...args: A) => void,
    sessionOf: ((...args: A) => ClientSession) | null = null, onFault: ((...args: A) => void) | null = null): (...args: A) => void {
    return (...args: A) => {
      try {
        handler(...args)
      } catch (err) {
        let session: ClientSession | null = null
        try {
          session = sessionOf?.(...args) ?? null
        } catch {}
        this.contain(where, session, err)
        try {
          onFault?.(...args)
        } catch {}
      }
    }
  }

  /** For a logon step's promise: its failure is contained, and the session may take the next step. */
  private containAsync (where: string, session: ClientSession): (err: unknown) => void {
    return (err) => {
      session.stepInFlight = false
      this.contain(where, session, err)
    }
  }

  /**
   * An exception was caught in a lane handler: counted, journaled (a
   * decision record with stage internal and INTERNAL_ERROR), sent to ops as
   * a lane-fault event, and answered to the client if there is one. Never
   * throws: it is the last line.
   */
  contain (where: string, session: ClientSession | null, err: unknown, clientOrderId = 0): void {
    try {
      const error = err instanceof Error ? err.message : String(err)
      this.metrics.internalError()
      const heads = session?.journal ?? this.laneHeads
      if (this.journal !== null && heads !== null) {
        this.journal.decision(heads, false, DecisionStage.INTERNAL, RejectReason.INTERNAL_ERROR, -1, clientOrderId, 0, 0, 0)
        this.scheduleFlush()
      }
      this.notify({ type: 'lane-fault', lane: this.name, where, sessionId: session?.id ?? 0, error })
      if (session !== null && session.ws !== null) {
        this.sendReject(session, RejectReason.INTERNAL_ERROR,
          `the gateway failed handling this (${where}); ops are alerted. The session stays open: check the state of your orders`, 0, clientOrderId)
      }
    } catch {}
  }

  /**
   * A field outside its documented limit (protocol/field-limits.ts): the
   * message is refused whole, naming the field, with its seq and order ID
   * when those arrived exactly. A refused logon step is audited like any
   * other failed step.
   */
  private refuseInvalidField (session: ClientSession, envelope: ClientEnvelope, refSeq: number, violation: FieldViolation): void {
    const body = envelope.body
    const clientOrderId = body === 'newOrder'
      ? echoableId(envelope.newOrder!.clientOrderId)
      : body === 'cancelOrder' ? echoableId(envelope.cancelOrder!.clientOrderId) : 0
    const step = body === 'authenticate' ? 'authenticate' : body === 'terminalInfo' ? 'terminal-info' : body === 'logon' ? 'logon' : null
    if (step !== null) {
      const account = body === 'authenticate' ? envelope.authenticate!.account : body === 'logon' ? envelope.logon!.account : session.authenticatedAccount
      this.notify({ type: 'logon-event', lane: this.name, sessionId: session.id, ip: session.remoteAddress, step, account: account ?? undefined, reason: RejectReason.INVALID_FIELD, text: violation.text })
    }
    this.sendReject(session, RejectReason.INVALID_FIELD, violation.text, refSeq, clientOrderId)
  }

  sendReject (session: ClientSession, reason: number, text: string, refSeq: number, clientOrderId: number): void {
    this.metrics.reject(reason)
    this.send(session, { reject: { reason, text, refSeq, clientOrderId } })
  }

  /**
   * Numbers, encodes and journals one message, and queues it for the end
   * of the turn (flushClientSends); false if the session is gone.
   */
  send (session: ClientSession, envelope: ClientEnvelopeInit): boolean {
    if (session.ws === null || this.journalFailed) return false
    const bytes = session.numberOutgoing(envelope, this.journal, this.outScratch)
    this.metrics.messageOut()
    if (session.pendingOut.length === 0) this.sessionsWithPendingOut.push(session)
    session.pendingOut.push(bytes)
    // Inside a link chunk, onChunkEnd flushes.
    if (!this.batchingReports) this.scheduleFlush()
    return true
  }

  private scheduleFlush (): void {
    if (this.flushScheduled || this.flushesHeld) return
    this.flushScheduled = true
    setImmediate(this.flushBound)
  }

  /** A latency lane starts handling one message: nothing is scheduled for the end of the turn. */
  private holdFlushes (): void {
    this.flushesHeld = true
    this.link?.holdFlushes()
  }

  /**
   * ...and has handled it: the journal commits (write(2) returned) before
   * the link write and before the client sends, as at the end of a turn.
   */
  private releaseFlushes (): void {
    this.flushesHeld = false
    try {
      // The link's flush commits first; flushClientSends commits whatever
      // the link did not (a reject, a record with nothing sent).
      this.link?.releaseFlushes()
      this.flushClientSends()
    } catch (err) {
      this.contain('message flush', null, err)
    }
  }

  /**
   * Commits the journal (one write(2) for the turn's records), then sends
   * every queued client message, one ws.cork() per session. If the journal
   * cannot be written, nothing is sent.
   */
  private flushClientSends (): void {
    this.flushScheduled = false
    if (this.journal !== null && !this.journal.commit()) return
    if (this.roundTripCount > 0) this.endRoundTrips()
    for (const session of this.sessionsWithPendingOut) {
      if (session.ws !== null) {
        this.flushingSession = session
        // 0 means queued behind backpressure (still delivered); past
        // maxBackpressureBytes uWS drops and, with closeOnBackpressureLimit,
        // closes the slow consumer rather than buffering without bound.
        session.ws.cork(this.flushPendingOut)
      }
      session.pendingOut.length = 0
    }
    this.sessionsWithPendingOut.length = 0
    this.flushingSession = null
    // uWS copied every queued view into its socket buffers, and the
    // journal copied them when they were appended: none is pending.
    this.outScratch.reset()
  }

  /** A first report is queued for an order received at receivedMs: its round trip ends at the flush. */
  private queueRoundTrip (receivedMs: number): void {
    if (this.roundTripCount === this.roundTripStartsMs.length) {
      const grown = new Float64Array(this.roundTripStartsMs.length * 2)
      grown.set(this.roundTripStartsMs)
      this.roundTripStartsMs = grown
    }
    this.roundTripStartsMs[this.roundTripCount++] = receivedMs
  }

  /**
   * The turn's first reports are committed and about to leave: their
   * round trips end now. Counted before the sends, so a client holding
   * its report always finds it counted in /metrics.
   */
  private endRoundTrips (): void {
    const nowMs = performance.now()
    for (let i = 0; i < this.roundTripCount; i++) this.metrics.roundTrip(nowMs - this.roundTripStartsMs[i]!)
    this.roundTripCount = 0
  }

  /** Sends what is queued (the session's last words), then closes it. */
  endSession (session: ClientSession, code: number, reason: string): void {
    this.flushClientSends()
    session.ws?.end(code, reason)
  }

  /** Journals a client frame as received. */
  private recordIn (session: ClientSession, bytes: Uint8Array, msgType: number, flags: number): void {
    if (this.journal === null) return
    // Before logon, past the connection's allowance, the evidence is the
    // frame's digest rather than its bytes.
    if (!session.loggedOn && !journalWholeBeforeLogon(session.preLogon, this.laneConfig.policy, bytes.length)) {
      this.journal.clientIn(session.journal!, frameDigest(bytes), msgType, flags | FLAG_DIGEST, this.orderEntry.orderClockMs[FRAME_TIME_US])
    } else {
      this.journal.clientIn(session.journal!, bytes, msgType, flags, this.orderEntry.orderClockMs[FRAME_TIME_US])
    }
    // Commit at the end of the turn even if nothing is sent back.
    this.scheduleFlush()
  }

  /**
   * The journal cannot be written: fail closed. Nothing can be recorded,
   * so nothing may be sent: queued messages are dropped, clients are
   * disconnected (a close frame carries no trading message) and new
   * connections get 503.
   */
  failClosed (): void {
    if (this.journalFailed) return
    this.journalFailed = true
    for (const session of this.sessionsWithPendingOut) session.pendingOut.length = 0
    this.sessionsWithPendingOut.length = 0
    this.roundTripCount = 0
    for (const session of [...this.sessions]) session.ws?.end(1011, 'journal unavailable: the gateway cannot record messages')
  }

  // ---- ReportBatching: an exchange link chunk's reports ---------------------

  startReportBatch (): void {
    this.batchingReports = true
  }

  endReportBatch (): void {
    this.batchingReports = false
    this.flushClientSends()
  }

  // ---- LifecyclePort: what the lifecycle and order entry send -----------

  sendToClient (session: ClientSession, envelope: ClientEnvelopeInit): boolean {
    return this.send(session, envelope)
  }

  /** A report no session took: journaled (REPORT_HELD, committed with the turn) and held for a resend. */
  holdReport (account: string, envelope: ClientEnvelopeInit): void {
    if (this.journal === null || this.journalFailed) return
    this.journal.reportHeld(account, encodeClientEnvelope(envelope))
    if (!this.batchingReports) this.scheduleFlush()
  }

  monitorAlert (alert: MonitorAlert): void {
    this.notify({ type: 'risk-alert', lane: this.name, ...alert })
  }

  firstReportQueued (receivedMs: number): void {
    this.queueRoundTrip(receivedMs)
  }
}
