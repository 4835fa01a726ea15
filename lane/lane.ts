// A lane: one listener for one access model (terminal, platform, hft), run
// entirely on its own worker thread. It owns its client sockets, decodes
// every frame, decides, and forwards over its own exchange link, so nothing
// on the order path crosses a thread boundary.
//
// Per-message pipeline (onMessage), in order:
//   1. frame checks: binary only, size limit
//   2. decode
//   3. session state: the look-through logon gate (authenticate, terminal
//      info, logon; the checks themselves run on the supervisor)
//   4. session message throttle, then for orders the pre-trade checks
//      (checks/): validity, then the risk engine's atomic check-and-reserve
//      on the shared risk state
//   5. forward on the exchange link
// Reports from the exchange run the same way back: update order and risk
// state (positions, reservations, monitors), encode, send.
//
// Journal (write-ahead): every frame in, every decision, every frame out
// (client and link) is appended to the lane's journal stream as it
// happens. Nothing is sent as it is produced: client sends are queued and
// flushed at the end of the event-loop turn (or of the link's TCP chunk),
// link frames in the link's own per-turn flush, and each flush first
// commits the journal with one write(2). So a turn's records reach the OS
// together, before any byte they cover leaves.
import { randomBytes } from 'node:crypto'
import uWS from 'uWebSockets.js'
import { listenExclusive } from '../platform/exclusive-listen.js'
import { explainListenFailure, sectionFields } from '../platform/listen-failure.js'
import { LRUCache } from 'lru-cache'
import { decodeClientEnvelope } from '../protocol/client-codec.js'
import {
  RejectReason, v1, wireInt,
  type CancelOrder, type ClientEnvelope, type ClientEnvelopeInit, type Instrument,
  type LinkExecutionReport, type Logon, type NewOrder,
} from '../protocol/messages.js'
import type { gatehouse } from '../protocol/generated/gatehouse.js'
import { echoableId, validateClientEnvelope, type FieldViolation } from '../protocol/field-limits.js'
import { salvageEnvelopeIds } from '../protocol/envelope-salvage.js'
import { RiskEngine, newRiskVerdict, IN_NOW_MS } from '../checks/risk-engine.js'
import { Limit } from '../checks/limits.js'
import type { RiskBuffers } from '../checks/risk-layout.js'
import type { KillScope } from '../checks/risk-control.js'
import { ClientSession, THROTTLE_WINDOW_MS, chargeSessionThrottle, type SessionUserData } from './client-session.js'
import { ExchangeLink, type ExchangeLinkHandler, type LinkRecorder } from './exchange-link.js'
import { journalDir, type GatewayConfig, type LaneConfig } from '../config/config.js'
import { LANE_NAMES, type LaneName } from '../protocol/lanes.js'
import { LaneJournal, type SessionJournalHeads } from './lane-journal.js'
import { CLIENT_BODY_FIELDS, DecisionStage, FLAG_DIGEST, FLAG_TEXT_FRAME, frameDigest } from '../journal/gateway-records.js'
import type { LinkEnvelope, LinkEnvelopeInit } from '../protocol/messages.js'
import { OrderLifecycle, type LifecyclePort, type LinkUpInfo, type MonitorAlert } from './order-lifecycle.js'
import { MAX_SELF_MATCH_CANCELS, OrderEntry, FRAME_TIME_US, ORDER_DECODED, ORDER_RECEIVED } from './order-entry.js'
import type { AccessRequest, AccessResult, LaneRecoveryReport, LaneToSupervisor } from './worker-contract.js'
import type { SessionInfo } from './worker-contract.js'
import type { LaneRecovery } from './recovery.js'
import { LaneMetrics, createLaneMetricsBuffer } from './lane-metrics.js'
import { SessionIds } from './session-ids.js'
import { SessionThrottle, nextPowerOfTwo } from '../checks/sliding-window.js'
import { journalWholeBeforeLogon, spendPreLogonFrame } from './pre-logon-budget.js'
import { UnauthenticatedCaps } from './unauthenticated-caps.js'
import { DiskWatermark, type DiskReading } from './disk-watermark.js'

/** Asks the supervisor's access control to decide one logon step. */
export type RequestAccess = (session: ClientSession, request: AccessRequest) => Promise<AccessResult>

const NONCE_BYTES = 32
/** How often unfinished logons are swept for the logon timeout. */
const LOGON_SWEEP_INTERVAL_MS = 250

/** Frames up to this multiple of maxFrameBytes get a FRAME_TOO_LARGE reject; uWS drops a connection sending anything larger (the client sees 1006). */
const HARD_FRAME_LIMIT_FACTOR = 4

/** A session is closed once the throttle refuses more than max(limit, this) of its messages in one window. */
const MIN_REFUSALS_BEFORE_CUT_OFF = 100

export class Lane implements ExchangeLinkHandler, LinkRecorder, LifecyclePort {
  private readonly laneConfig: LaneConfig
  private readonly app: uWS.TemplatedApp
  private listenSocket: uWS.us_listen_socket | null = null
  private readonly link: ExchangeLink
  private readonly sessions = new Set<ClientSession>()
  private readonly risk: RiskEngine
  /** The working orders and what happens to them (order-lifecycle.ts). */
  private readonly lifecycle: OrderLifecycle
  /** New orders and cancels, from decoded message to link (order-entry.ts). */
  private readonly orderEntry: OrderEntry
  private readonly laneIndex: number
  /** The largest sessionMessagesPerSecond config or live tuning accepts (limits.ts, RING_BOUND_LIMITS). */
  private readonly maxThrottleLimit: number
  /** Unique for the gateway's life and unpredictable (session-ids.ts). */
  private readonly sessionIds: SessionIds
  /** New connections per source IP in the last second (sliding); LRU-bounded against address spraying. */
  private readonly connectionsPerIp: LRUCache<string, SessionThrottle>
  private logonSweep: NodeJS.Timeout | null = null
  /** The lane's retention journal stream; null only when journal.enabled is false (benchmarks). */
  private readonly journal: LaneJournal | null
  /** Set when the journal failed: the lane sends nothing more and takes no connections (fail closed). */
  private journalFailed = false
  private flushScheduled = false
  private readonly journalRoot: string
  private readonly flushBound = (): void => { this.flushClientSends() }
  /**
   * Client sends are queued per session and flushed under one ws.cork()
   * each, at the end of the turn or of the link chunk: sends outside a uWS
   * callback are otherwise one write(2) apiece, which the profile showed
   * as 47% of the platform lane's CPU; and the journal commits once for
   * all of them first.
   */
  private batchingReports = false
  private readonly sessionsWithPendingOut: ClientSession[] = []
  private flushingSession: ClientSession | null = null
  private readonly flushPendingOut = (): void => {
    const session = this.flushingSession!
    for (const bytes of session.pendingOut) session.ws!.send(bytes, true)
  }
  /** This lane's counters for /metrics, in shared memory the supervisor reads at scrape time (lane-metrics.ts). */
  private readonly metrics: LaneMetrics
  /**
   * Receive times of the orders whose first report was queued this turn:
   * their round trips end at the flush, once the journal has committed
   * and just before the sends. Grows in fixed steps, rarely.
   */
  private roundTripStartsMs = new Float64Array(64)
  private roundTripCount = 0
  /** Connections not logged on yet, capped per lane and per IP at the upgrade. */
  private readonly unauthenticated: UnauthenticatedCaps
  /** Free space of the journal's file system; null when the journal is off. */
  private readonly disk: DiskWatermark | null
  private readonly diskFloorBytes: number
  /** Journal heads for faults no client session is part of (session 0). */
  private readonly laneHeads: SessionJournalHeads | null
  /** Test-only injected faults (config lanes.<lane>.testFaults); 0: none. */
  private readonly faultHeartbeatTestId: number
  private readonly faultReportClientOrderId: number

  constructor (
    readonly name: LaneName,
    config: GatewayConfig,
    private readonly notify: (message: LaneToSupervisor) => void,
    private readonly requestAccess: RequestAccess,
    riskBuffers: RiskBuffers,
    metricsBuffer: SharedArrayBuffer = createLaneMetricsBuffer(),
  ) {
    this.metrics = new LaneMetrics(metricsBuffer)
    this.laneConfig = config.lanes[name]
    this.laneIndex = LANE_NAMES.indexOf(name)
    this.maxThrottleLimit = config.risk.capacity.rateRingSize
    this.risk = new RiskEngine(riskBuffers, this.laneIndex)
    this.journalRoot = journalDir(config)
    this.journal = config.journal.enabled
      ? new LaneJournal({ lane: name, root: journalDir(config), fsync: config.journal.fsync, maxSegmentBytes: config.journal.maxSegmentBytes, metrics: this.metrics })
      : null
    if (this.journal !== null) this.journal.onFailure = (err) => { this.failClosed(err) }
    this.connectionsPerIp = new LRUCache({ max: config.security.maxTrackedEntries })
    this.sessionIds = new SessionIds(config.runDir, name, this.laneIndex, LANE_NAMES.length)
    this.unauthenticated = new UnauthenticatedCaps(this.laneConfig.policy.maxUnauthenticatedConnections, this.laneConfig.policy.maxUnauthenticatedPerIp)
    this.laneHeads = this.journal?.sessionHeads(0) ?? null
    this.diskFloorBytes = config.journal.disk.floorBytes
    this.disk = this.journal === null ? null : new DiskWatermark(this.journalRoot, config.journal.disk, (reading, previous) => { this.onDiskReading(reading, previous) })
    this.faultHeartbeatTestId = this.laneConfig.testFaults?.throwOnHeartbeatTestId ?? 0
    this.faultReportClientOrderId = this.laneConfig.testFaults?.throwOnReportClientOrderId ?? 0
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
        if (!this.admitConnection(remoteAddress)) {
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
        this.sendChallenge(session)
      }, (ws) => ws.getUserData().session),
      // Written out rather than through contained(): the hot path allocates nothing per message.
      message: (ws, message, isBinary) => {
        const session = ws.getUserData().session
        try {
          this.onMessage(session, message, isBinary)
        } catch (err) {
          this.contain('message', session, err)
        }
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
        // cancel-on-disconnect or the account's limit forces it; their
        // reports still update the shared risk state after the close.
        // Its working orders wait for the account's next session on this
        // lane, which takes them over (their reports, and cancels by
        // client_order_id).
        this.lifecycle.sessionClosed(session, session.cancelOnDisconnect || this.risk.limitsFor(session.risk, -1, -1)[Limit.cancelOnDisconnect] === 1)
      }, (ws) => ws.getUserData().session),
    })
    this.app.any('/*', (res) => {
      res.writeStatus('426 Upgrade Required').end('Gatehouse lanes speak WebSocket only; see the README.')
    })
    this.link = new ExchangeLink({
      host: config.exchange.host,
      port: config.exchange.port,
      memberId: config.exchange.memberId,
      sessionName: `${config.gatewayId}-${name}`,
      heartbeatIntervalMs: config.exchange.heartbeatIntervalMs,
      reconnectDelayMs: config.exchange.reconnectDelayMs,
      maxReconnectDelayMs: config.exchange.maxReconnectDelayMs,
    }, this, this.journal === null ? null : this)
    this.lifecycle = new OrderLifecycle(this.risk, newRiskVerdict(MAX_SELF_MATCH_CANCELS), this.metrics, this, this.link)
    this.orderEntry = new OrderEntry(this.lifecycle, this.risk, this.metrics, this, this.link, this.journal)
  }

  /**
   * Takes over what the supervisor rebuilt from this lane's journal
   * (lane/recovery.ts): working orders (with the cancels owed for them,
   * sent at the first link-up), reference data, the link's report seq and
   * order IDs, and where each account's sessions left off. Runs before
   * the lane listens or dials, so no message meets half-rebuilt state.
   */
  recover (recovered: LaneRecovery | null): LaneRecoveryReport | null {
    if (recovered === null) return null
    // Handed over between threads as plain data.
    this.lifecycle.adopt(recovered, (plain) => v1.Instrument.create(plain))
    if (recovered.maxLinkOrderId >= this.orderEntry.nextLinkOrderId) this.orderEntry.nextLinkOrderId = recovered.maxLinkOrderId
    this.link.resumeAfter(recovered.lastReceivedSeq)
    return {
      lane: this.name,
      tradingDay: recovered.tradingDay,
      records: recovered.records,
      segments: recovered.segments,
      ordersReplayed: recovered.ordersReplayed,
      workingOrders: recovered.orders.length,
      lastReceivedSeq: recovered.lastReceivedSeq,
      problems: recovered.problems,
    }
  }

  /** Listens and starts the exchange link. Resolves with the bound port. */
  start (): Promise<number> {
    const { host, port } = this.laneConfig
    return new Promise((resolve, reject) => {
      listenExclusive(this.app, host, port, (listenSocket) => {
        if (listenSocket === false) {
          void explainListenFailure(sectionFields(`lanes.${this.name}`), host, port).then((reason) => { reject(new Error(reason)) })
          return
        }
        this.listenSocket = listenSocket
        this.link.connect()
        this.logonSweep = setInterval(() => { this.closeExpiredLogons() }, LOGON_SWEEP_INTERVAL_MS)
        this.logonSweep.unref()
        this.disk?.start()
        resolve(uWS.us_socket_local_port(listenSocket))
      })
    })
  }

  /**
   * Closes the listener and every connection inside this thread (a thread
   * that exits holding uWS sockets aborts the process), then the link.
   */
  async stop (): Promise<void> {
    if (this.logonSweep !== null) clearInterval(this.logonSweep)
    this.disk?.stop()
    if (this.listenSocket !== null) {
      uWS.us_listen_socket_close(this.listenSocket)
      this.listenSocket = null
    }
    for (const session of [...this.sessions]) session.ws?.end(1001, 'gateway shutting down')
    this.flushClientSends()
    this.app.close()
    await this.link.close()
    this.journal?.close()
  }

  // ---- client side ----------------------------------------------------

  private onMessage (session: ClientSession, message: ArrayBuffer, isBinary: boolean): void {
    const receivedMs = performance.now()
    // The frame's time on the gateway's clock (protocol/clock.ts nowMicros,
    // from the same reading): its journal record carries it and its checks
    // run at it, so recovery replays them at exactly that time.
    this.orderEntry.orderClockMs[FRAME_TIME_US] = Math.floor((performance.timeOrigin + receivedMs) * 1000)
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
      envelope = decodeClientEnvelope(bytes)
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
        if (!this.requireLogon(session, refSeq, wireInt(envelope.newOrder!.clientOrderId))) return
        this.orderEntry.newOrder(session, envelope.newOrder as NewOrder)
        return
      case 'cancelOrder':
        if (!this.requireLogon(session, refSeq, wireInt(envelope.cancelOrder!.clientOrderId))) return
        this.orderEntry.cancel(session, envelope.cancelOrder as CancelOrder, refSeq)
        return
      case 'authenticate':
        this.onAuthenticate(session, envelope.authenticate as gatehouse.v1.Authenticate, refSeq).catch(this.containAsync('authenticate', session))
        return
      case 'terminalInfo':
        this.onTerminalInfo(session, envelope.terminalInfo as gatehouse.v1.TerminalInfo, refSeq).catch(this.containAsync('terminal info', session))
        return
      case 'logon':
        this.onLogon(session, envelope.logon as Logon, refSeq).catch(this.containAsync('logon', session))
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
        this.sendReject(session, RejectReason.UNEXPECTED_MESSAGE, `${envelope.body} is sent by the gateway, never by a client`, refSeq, 0)
        return
      default:
        this.sendReject(session, RejectReason.UNKNOWN_MESSAGE, 'envelope carries no message this gateway knows (protocol gatehouse.v1)', refSeq, 0)
    }
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
   * never boxed, for the caller's observed count.
   */
  private chargeThrottle (session: ClientSession): number {
    this.risk.input[IN_NOW_MS] = Date.now()
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

  private releaseUnauthenticated (session: ClientSession): void {
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
  private contain (where: string, session: ClientSession | null, err: unknown, clientOrderId = 0): void {
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

  // ---- journal disk -------------------------------------------------------

  private onDiskReading (reading: DiskReading, previous: DiskReading['state'] | null): void {
    try {
      this.metrics.diskReading(reading.freeBytes, reading.lowWatermarkBytes, reading.state === 'ok' ? 0 : reading.state === 'low' ? 1 : 2)
      if (reading.state === previous || (previous === null && reading.state === 'ok')) return
      const floorBytes = this.disk === null ? 0 : this.diskFloorBytes
      this.notify({ type: 'disk-space', lane: this.name, state: reading.state, freeBytes: reading.freeBytes, lowWatermarkBytes: reading.lowWatermarkBytes, floorBytes })
      if (reading.state === 'floor') this.failClosed(new Error(`the journal's disk has ${reading.freeBytes} bytes free, below journal.disk.floorBytes (${floorBytes})`))
    } catch (err) {
      this.contain('disk reading', null, err)
    }
  }

  private requireLogon (session: ClientSession, refSeq: number, clientOrderId: number): boolean {
    if (session.loggedOn) return true
    this.sendReject(session, RejectReason.NOT_AUTHENT, 'log on first: Authenticate, TerminalInfo and Logon must all succeed before orders or cancels', refSeq, clientOrderId)
    return false
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

  // ---- look-through logon ----------------------------------------------

  /** At most maxConnectionsPerIpPerSecond new connections per address in any sliding second: no burst of twice the cap at a window's edge. */
  private admitConnection (ip: string): boolean {
    const limit = this.laneConfig.policy.maxConnectionsPerIpPerSecond
    let window = this.connectionsPerIp.get(ip)
    if (window === undefined) {
      window = new SessionThrottle(nextPowerOfTwo(limit), nextPowerOfTwo(limit))
      this.connectionsPerIp.set(ip, window)
    }
    return window.admit(Date.now(), limit, 1000)
  }

  private sendChallenge (session: ClientSession): void {
    session.nonce = randomBytes(NONCE_BYTES)
    session.nonceIssuedMs = Date.now()
    this.send(session, { authChallenge: { nonce: session.nonce, expiresInMs: this.laneConfig.policy.nonceTtlMs, lane: this.name } })
  }

  /** A logon step may start only from the stage before it, one at a time. */
  private expectStage (session: ClientSession, stage: ClientSession['stage'], step: string, refSeq: number): boolean {
    if (session.stepInFlight) {
      this.sendReject(session, RejectReason.LOGON_STEP_OUT_OF_ORDER, `${step} arrived while the previous logon step is still being checked; wait for its reply`, refSeq, 0)
      return false
    }
    if (session.stage === 'logged-on') {
      this.sendReject(session, RejectReason.ALREADY_LOGGED_ON, `session is already logged on as ${session.account}`, refSeq, 0)
      return false
    }
    if (session.stage !== stage) {
      const expected = session.stage === 'challenged' ? 'Authenticate' : session.stage === 'authenticated' ? 'TerminalInfo' : 'Logon'
      this.sendReject(session, RejectReason.LOGON_STEP_OUT_OF_ORDER, `${step} is out of order: the next logon step is ${expected}`, refSeq, 0)
      return false
    }
    return true
  }

  private async onAuthenticate (session: ClientSession, authenticate: gatehouse.v1.Authenticate, refSeq: number): Promise<void> {
    if (!this.expectStage(session, 'challenged', 'Authenticate', refSeq)) return
    const refuse = (reason: number, text: string): void => {
      this.notify({ type: 'logon-event', lane: this.name, sessionId: session.id, ip: session.remoteAddress, step: 'authenticate', account: authenticate.account, reason, text })
      this.send(session, { authenticateReply: { ok: false, reason, text } })
      this.sendChallenge(session)
    }
    // Each nonce is good for one attempt; a failure issues a fresh one, so a
    // captured proof can never be replayed.
    if (Date.now() - session.nonceIssuedMs > this.laneConfig.policy.nonceTtlMs) {
      refuse(RejectReason.NONCE_EXPIRED, `the nonce expired (${this.laneConfig.policy.nonceTtlMs} ms); prove over the new AuthChallenge`)
      return
    }
    session.stepInFlight = true
    const result = await this.requestAccess(session, {
      step: 'authenticate',
      appId: authenticate.appId,
      account: authenticate.account,
      nonce: session.nonce,
      proof: authenticate.proof,
      exchangeEnvironment: this.lifecycle.exchangeEnvironment,
    })
    session.stepInFlight = false
    if (result.reason === 0) {
      session.stage = 'authenticated'
      session.appId = authenticate.appId
      session.authenticatedAccount = authenticate.account
      this.send(session, { authenticateReply: { ok: true } })
      return
    }
    this.send(session, { authenticateReply: { ok: false, reason: result.reason, text: result.text, retryAfterMs: result.retryAfterMs ?? 0 } })
    this.sendChallenge(session)
  }

  private async onTerminalInfo (session: ClientSession, info: gatehouse.v1.TerminalInfo, refSeq: number): Promise<void> {
    if (!this.expectStage(session, 'authenticated', 'TerminalInfo', refSeq)) return
    // Each attempt may try another fingerprint: a connection gets a few,
    // then is closed, so one cannot walk through terminals.
    const maxAttempts = this.laneConfig.policy.maxTerminalInfoAttempts
    if (++session.terminalInfoAttempts > maxAttempts) {
      const text = `more than ${maxAttempts} TerminalInfo attempts on one connection; closing`
      this.notify({ type: 'logon-event', lane: this.name, sessionId: session.id, ip: session.remoteAddress, step: 'terminal-info', account: session.authenticatedAccount ?? undefined, reason: RejectReason.TERMINAL_INFO_ATTEMPTS, text })
      this.send(session, { terminalInfoReply: { ok: false, reason: RejectReason.TERMINAL_INFO_ATTEMPTS, text } })
      this.endSession(session, 1008, 'too many terminal info attempts')
      return
    }
    session.stepInFlight = true
    // Re-encoded for the supervisor, which decodes its own copy.
    const encoded = v1.TerminalInfo.encode(info).finish()
    const result = await this.requestAccess(session, { step: 'terminal-info', account: session.authenticatedAccount!, info: encoded })
    session.stepInFlight = false
    if (result.reason === 0) {
      session.stage = 'terminal-verified'
      session.fingerprintId = result.fingerprintId ?? null
    }
    this.send(session, {
      terminalInfoReply: {
        ok: result.reason === 0,
        reason: result.reason,
        text: result.text,
        newFingerprint: result.newFingerprint ?? false,
        fingerprintId: result.fingerprintId ?? '',
      },
    })
  }

  /** Closes connections that have not completed logon in time. */
  private closeExpiredLogons (): void {
    const deadline = Date.now() - this.laneConfig.policy.logonTimeoutMs
    for (const session of this.sessions) {
      if (session.stage !== 'logged-on' && session.connectedAtMs < deadline) {
        const text = `logon not completed within ${this.laneConfig.policy.logonTimeoutMs} ms; closing`
        this.notify({ type: 'logon-event', lane: this.name, sessionId: session.id, ip: session.remoteAddress, step: 'timeout', reason: RejectReason.LOGON_TIMEOUT, text })
        this.sendReject(session, RejectReason.LOGON_TIMEOUT, text, 0, 0)
        this.endSession(session, 1008, 'logon timeout')
      }
    }
  }

  private async onLogon (session: ClientSession, logon: Logon, refSeq: number): Promise<void> {
    if (!this.expectStage(session, 'terminal-verified', 'Logon', refSeq)) return
    if (this.disk !== null && this.disk.state !== 'ok') {
      const reading = this.disk.last!
      const text = `the journal's disk is below its low watermark (${reading.freeBytes} bytes free, watermark ${reading.lowWatermarkBytes}): new logons are refused until ops free space; retry later`
      this.metrics.reject(RejectReason.DISK_SPACE_LOW)
      this.send(session, { logonReply: { ok: false, reason: RejectReason.DISK_SPACE_LOW, text, lane: this.name } })
      return
    }
    if (logon.account !== session.authenticatedAccount) {
      this.send(session, { logonReply: { ok: false, reason: RejectReason.NOT_AUTHENT, text: `Authenticate was for account ${session.authenticatedAccount}, not ${logon.account}`, lane: this.name } })
      return
    }
    session.stepInFlight = true
    const result = await this.requestAccess(session, { step: 'logon', account: logon.account, password: logon.password, appId: session.appId!, fingerprintId: session.fingerprintId ?? undefined })
    session.stepInFlight = false
    if (result.reason !== 0) {
      this.send(session, { logonReply: { ok: false, reason: result.reason, text: result.text, lane: this.name, retryAfterMs: result.retryAfterMs ?? 0 } })
      return
    }
    if (session.ws === null) {
      // Closed while the supervisor was checking: give the place back.
      this.notify({ type: 'session-closed', lane: this.name, sessionId: session.id, account: logon.account })
      return
    }
    session.stage = 'logged-on'
    session.account = logon.account
    this.releaseUnauthenticated(session)
    this.metrics.sessionLoggedOn()
    session.journalAs(logon.account)
    session.logonTimeMs = Date.now()
    session.risk.lane = this.laneIndex
    session.risk.account = result.accountIndex!
    session.risk.app = result.appIndex ?? -1
    session.cancelOnDisconnect = logon.cancelOnDisconnect
    const { resumedOrders, lastClientSeq } = this.lifecycle.sessionLoggedOn(session)
    this.send(session, {
      logonReply: {
        ok: true,
        sessionId: session.id,
        lane: this.name,
        tradingDay: this.lifecycle.tradingDay,
        heartbeatIntervalMs: this.laneConfig.idleTimeoutS * 1000 / 2,
        instruments: [...this.lifecycle.instruments.values()].map((traded) => traded.instrument),
        lastClientSeq,
        resumedOrders,
        text: this.link.isUp ? '' : 'logged on, but the exchange link is down: orders are rejected until it is back',
      },
    })
  }

  private sendReject (session: ClientSession, reason: number, text: string, refSeq: number, clientOrderId: number): void {
    this.metrics.reject(reason)
    this.send(session, { reject: { reason, text, refSeq, clientOrderId } })
  }

  /**
   * Numbers, encodes and journals one message, and queues it for the end
   * of the turn (flushClientSends); false if the session is gone.
   */
  private send (session: ClientSession, envelope: ClientEnvelopeInit): boolean {
    if (session.ws === null || this.journalFailed) return false
    const bytes = session.numberOutgoing(envelope, this.journal)
    this.metrics.messageOut()
    if (session.pendingOut.length === 0) this.sessionsWithPendingOut.push(session)
    session.pendingOut.push(bytes)
    // Inside a link chunk, onChunkEnd flushes.
    if (!this.batchingReports) this.scheduleFlush()
    return true
  }

  private scheduleFlush (): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    setImmediate(this.flushBound)
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
  private endSession (session: ClientSession, code: number, reason: string): void {
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

  // ---- journal (LinkRecorder: the link records through the lane) --------

  recordLinkOut (body: Uint8Array, envelope: LinkEnvelopeInit, cause: SessionJournalHeads | null): void {
    this.journal!.linkOut(cause, body, envelope)
  }

  recordLinkIn (body: Uint8Array, envelope: LinkEnvelope | null): void {
    this.journal!.linkIn(body, envelope)
  }

  commitJournal (): boolean {
    return this.journal!.commit()
  }

  /**
   * The journal cannot be written: fail closed. Nothing can be recorded,
   * so nothing may be sent. Clients are disconnected (a close frame
   * carries no trading message), new connections get 503, and the link
   * is closed; orders already at the exchange stay there. Ops see a
   * 'journal-failed' event and must restart once the disk is fixed.
   */
  private failClosed (err: Error): void {
    if (this.journalFailed) return
    this.journalFailed = true
    for (const session of this.sessionsWithPendingOut) session.pendingOut.length = 0
    this.sessionsWithPendingOut.length = 0
    this.roundTripCount = 0
    this.notify({ type: 'journal-failed', lane: this.name, error: err.message })
    for (const session of [...this.sessions]) session.ws?.end(1011, 'journal unavailable: the gateway cannot record messages')
    void this.link.close()
  }

  // ---- exchange side --------------------------------------------------

  onLinkUp (info: LinkUpInfo): void {
    try {
      this.linkUp(info)
    } catch (err) {
      this.contain('link up', null, err)
    }
  }

  private linkUp (info: LinkUpInfo): void {
    this.lifecycle.linkUp(info)
    this.notify({ type: 'link-state', lane: this.name, state: 'up', detail: `trading day ${info.tradingDay}, ${info.environment}, ${info.instruments.length} instruments`, environment: info.environment })
  }

  onLinkDown (reason: string): void {
    this.lifecycle.linkDown()
    this.notify({ type: 'link-state', lane: this.name, state: 'down', detail: reason })
  }

  onChunkStart (): void {
    this.batchingReports = true
  }

  onChunkEnd (): void {
    this.batchingReports = false
    try {
      this.flushClientSends()
    } catch (err) {
      this.contain('link chunk flush', null, err)
    }
  }

  onInstrumentUpdate (instrument: Instrument): void {
    try {
      this.lifecycle.instrumentUpdate(instrument)
    } catch (err) {
      this.contain('link instrument update', null, err)
    }
  }

  /** This lane's sessions, for the admin socket. */
  sessionsInfo (): SessionInfo[] {
    return [...this.sessions].map((session) => ({
      lane: this.name,
      sessionId: session.id,
      account: session.account,
      appId: session.appId,
      ip: session.remoteAddress,
      logonTime: session.logonTimeMs === 0 ? null : new Date(session.logonTimeMs).toISOString(),
      connectedTime: new Date(session.connectedAtMs).toISOString(),
      messagesIn: session.messagesIn,
      messagesOut: session.messagesOut,
      workingOrders: session.openOrders.size,
    }))
  }

  /** Closes one session (admin socket): its last queued messages go first. False if it is not on this lane. */
  disconnect (sessionId: number, reason: string): boolean {
    for (const session of this.sessions) {
      if (session.id !== sessionId) continue
      this.endSession(session, 1008, `disconnected by ops: ${reason}`.slice(0, 120))
      return true
    }
    return false
  }

  /**
   * Kill switch with mass-cancel: cancels every working order of this lane
   * in the scope. Each lane cancels its own orders on its own link; the
   * kill switch itself is already set in shared memory, so no new order
   * in the scope gets through meanwhile.
   */
  massCancel (scope: KillScope): number {
    return this.lifecycle.massCancel(scope, this.name)
  }

  onReport (report: LinkExecutionReport): void {
    try {
      this.report(report)
    } catch (err) {
      const order = this.lifecycle.orders.get(wireInt(report.orderId))
      this.contain('link report', order?.session ?? null, err, order?.clientOrderId ?? 0)
    }
  }

  private report (report: LinkExecutionReport): void {
    if (this.faultReportClientOrderId !== 0 && this.lifecycle.orders.get(wireInt(report.orderId))?.clientOrderId === this.faultReportClientOrderId) {
      throw new Error(`test fault: report for client_order_id ${this.faultReportClientOrderId} (lanes.${this.name}.testFaults)`)
    }
    this.lifecycle.report(report)
  }

  // ---- LifecyclePort: what the lifecycle and order entry send -----------

  sendToClient (session: ClientSession, envelope: ClientEnvelopeInit): boolean {
    return this.send(session, envelope)
  }

  monitorAlert (alert: MonitorAlert): void {
    this.notify({ type: 'risk-alert', lane: this.name, ...alert })
  }

  firstReportQueued (receivedMs: number): void {
    this.queueRoundTrip(receivedMs)
  }
}
