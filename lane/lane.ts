// A lane: one listener for one access model (terminal, platform, hft), run
// entirely on its own worker thread. It owns its client sockets, decodes
// every frame, decides, and forwards over its own exchange link, so nothing
// on the order path crosses a thread boundary.
//
// This file composes the lane's stages, each in its own file:
//
//   client ─▶ client-edge ─▶ logon-gate             (logon steps)
//                        └─▶ order-entry ─▶ link    (orders and cancels)
//                                  │
//                                  ▼
//                          order-lifecycle ◀─ exchange-side ◀─ link
//                                  │                (link up/down, reports)
//   client ◀─ client-edge ◀────────┘                (reports, rejects)
//
// - client-edge.ts: uWebSockets.js, frame checks, the session throttle,
//   the per-turn flush; every callback contained;
// - logon-gate.ts: the look-through logon (Authenticate, TerminalInfo,
//   Logon), decided by the supervisor's access control;
// - order-entry.ts: validity, risk check-and-reserve, decision, link send;
// - order-lifecycle.ts: the working orders and what happens to them, the
//   same code recovery (recovery.ts) replays the journal through;
// - exchange-side.ts: the link's events and reports into the lifecycle,
//   and the link's journaling; the link is an ExchangeLinkPort
//   (exchange-link-port.ts), exchange-link.ts its TCP implementation.
//
// Journal (write-ahead): every frame in, every decision, every frame out
// (client and link) is appended to the lane's journal stream as it
// happens, and committed with one write(2) before anything it covers
// leaves (client-edge.ts, exchange-link.ts).
import { RiskEngine, newRiskVerdict } from '../checks/risk-engine.js'
import { applyPositionsCarried } from './carried-positions.js'
import { positionsCarriedDocuments } from '../journal/gateway-records.js'
import type { HandoverInstall } from './worker-contract.js'
import type { RiskBuffers } from '../checks/risk-layout.js'
import type { KillScope } from '../checks/risk-control.js'
import { v1 } from '../protocol/messages.js'
import { journalDir, type GatewayConfig, type LaneConfig } from '../config/config.js'
import { LANE_NAMES, type LaneName } from '../protocol/lanes.js'
import { ClientEdge } from './client-edge.js'
import { ExchangeLink } from './exchange-link.js'
import { ExchangeSide } from './exchange-side.js'
import { LaneJournal } from './lane-journal.js'
import { LaneMetrics, createLaneMetricsBuffer } from './lane-metrics.js'
import { LogonGate, type RequestAccess } from './logon-gate.js'
import { MAX_SELF_MATCH_CANCELS, OrderEntry } from './order-entry.js'
import { OrderLifecycle } from './order-lifecycle.js'
import { ReportLog } from './report-log.js'
import type { LaneRecovery } from './recovery.js'
import { SessionIds } from './session-ids.js'
import { DiskWatermark, type DiskReading } from './disk-watermark.js'
import type { LaneRecoveryReport, LaneToSupervisor, SessionInfo } from './worker-contract.js'

export type { RequestAccess } from './logon-gate.js'

/** How often unfinished logons are swept for the logon timeout. */
const LOGON_SWEEP_INTERVAL_MS = 250

export class Lane {
  private readonly laneConfig: LaneConfig
  private readonly edge: ClientEdge
  private readonly gate: LogonGate
  private readonly link: ExchangeLink
  /** The working orders and what happens to them (order-lifecycle.ts). */
  private readonly lifecycle: OrderLifecycle
  /** This thread's view of the shared risk state. */
  private readonly risk: RiskEngine
  /** New orders and cancels, from decoded message to link (order-entry.ts). */
  private readonly orderEntry: OrderEntry
  private logonSweep: NodeJS.Timeout | null = null
  /** The lane's retention journal stream; null only when journal.enabled is false (benchmarks). */
  private readonly journal: LaneJournal | null
  private journalFailed = false
  /** This lane's counters for /metrics, in shared memory the supervisor reads at scrape time (lane-metrics.ts). */
  private readonly metrics: LaneMetrics
  /** Free space of the journal's file system; null when the journal is off. */
  private readonly disk: DiskWatermark | null
  private readonly diskFloorBytes: number

  constructor (
    readonly name: LaneName,
    config: GatewayConfig,
    private readonly notify: (message: LaneToSupervisor) => void,
    requestAccess: RequestAccess,
    riskBuffers: RiskBuffers,
    metricsBuffer: SharedArrayBuffer = createLaneMetricsBuffer(),
  ) {
    this.metrics = new LaneMetrics(metricsBuffer)
    this.laneConfig = config.lanes[name]
    const laneIndex = LANE_NAMES.indexOf(name)
    const risk = new RiskEngine(riskBuffers, laneIndex)
    this.risk = risk
    this.journal = config.journal.enabled
      ? new LaneJournal({ lane: name, root: journalDir(config), fsync: config.journal.fsync, maxSegmentBytes: config.journal.maxSegmentBytes, chain: config.journal.chain, metrics: this.metrics })
      : null
    if (this.journal !== null) this.journal.onFailure = (err) => { this.failClosed(err) }
    this.diskFloorBytes = config.journal.disk.floorBytes
    this.disk = this.journal === null ? null : new DiskWatermark(journalDir(config), config.journal.disk, (reading, previous) => { this.onDiskReading(reading, previous) })
    this.edge = new ClientEdge({
      name,
      laneConfig: this.laneConfig,
      maxThrottleLimit: config.risk.capacity.rateRingSize,
      sessionIds: new SessionIds(config.runDir, name, laneIndex, LANE_NAMES.length),
      journal: this.journal,
      metrics: this.metrics,
      risk,
      notify,
    })
    const exchangeSide = new ExchangeSide({
      name,
      journal: this.journal,
      edge: this.edge,
      notify,
      faultReportClientOrderId: this.laneConfig.testFaults?.throwOnReportClientOrderId ?? 0,
    })
    this.link = new ExchangeLink({
      host: config.exchange.host,
      port: config.exchange.port,
      memberId: config.exchange.memberId,
      sessionName: `${config.gatewayId}-${name}`,
      heartbeatIntervalMs: config.exchange.heartbeatIntervalMs,
      reconnectDelayMs: config.exchange.reconnectDelayMs,
      maxReconnectDelayMs: config.exchange.maxReconnectDelayMs,
    }, exchangeSide, exchangeSide.recorder)
    this.lifecycle = new OrderLifecycle(risk, newRiskVerdict(MAX_SELF_MATCH_CANCELS), this.metrics, this.edge, this.link,
      new ReportLog(name, this.laneConfig.resendWindowReports))
    exchangeSide.drive(this.lifecycle)
    this.orderEntry = new OrderEntry(this.lifecycle, risk, this.metrics, this.edge, this.link, this.journal)
    this.gate = new LogonGate({
      name,
      laneIndex,
      laneConfig: this.laneConfig,
      maxTrackedEntries: config.security.maxTrackedEntries,
      edge: this.edge,
      lifecycle: this.lifecycle,
      link: this.link,
      metrics: this.metrics,
      disk: this.disk,
      notify,
      requestAccess,
    })
    // Read through a getter: the queries see the lane's report log as it is now.
    this.edge.attach({ gate: this.gate, orderEntry: this.orderEntry, lifecycle: this.lifecycle, dayReports: () => this.lifecycle.reports!, link: this.link })
  }

  /**
   * Takes over what the supervisor rebuilt from this lane's journal
   * (lane/recovery.ts): working orders (with the cancels owed for them,
   * sent at the first link-up), reference data, the link's report seq and
   * order IDs, where each account's sessions left off, and the day's
   * execution reports (numbering continues, resends serve them). Runs before
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
  async start (): Promise<number> {
    const port = await this.edge.listen()
    this.link.connect()
    this.logonSweep = setInterval(() => { this.gate.closeExpiredLogons() }, LOGON_SWEEP_INTERVAL_MS)
    this.logonSweep.unref()
    this.disk?.start()
    return port
  }

  /**
   * Closes the listener and every connection inside this thread (a thread
   * that exits holding uWS sockets aborts the process), then the link.
   */
  async stop (): Promise<void> {
    if (this.logonSweep !== null) clearInterval(this.logonSweep)
    this.disk?.stop()
    this.edge.close()
    await this.link.close()
    this.journal?.close()
  }

  /** This lane's sessions, for the admin socket. */
  sessionsInfo (): SessionInfo[] {
    return [...this.edge.sessions].map((session) => ({
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
    for (const session of this.edge.sessions) {
      if (session.id !== sessionId) continue
      this.edge.endSession(session, 1008, `disconnected by ops: ${reason}`.slice(0, 120))
      return true
    }
    return false
  }

  /**
   * An account handed over by another instance of the cluster: journaled
   * first (POSITIONS_CARRIED with its handover, in today's segment, where
   * recovery finds it after a crash), then added to the shared risk state
   * by the function recovery uses (carried-positions.ts).
   */
  installHandover (install: HandoverInstall, accountIndexes: Record<string, number>): { ok: boolean, text: string, tradingDay: string } {
    const tradingDay = this.lifecycle.tradingDay
    if (tradingDay === '') return { ok: false, text: `lane ${this.name}: the exchange link has not announced a trading day yet`, tradingDay }
    const docs = this.journal === null
      ? positionsCarriedDocuments(tradingDay, install.positions, { handover: install.handover, accounts: install.accounts })
      : this.journal.positionsCarried(tradingDay, install.positions, { handover: install.handover, accounts: install.accounts })
    if (docs === null) return { ok: false, text: `lane ${this.name}: the handover could not be journaled (the lane's journal has failed)`, tradingDay }
    const problems = docs.flatMap((doc) => applyPositionsCarried(this.risk, doc, (account) => accountIndexes[account] ?? null))
    return problems.length === 0 ? { ok: true, text: '', tradingDay } : { ok: false, text: problems.join('; '), tradingDay }
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

  /**
   * The journal cannot be written: fail closed. Nothing can be recorded,
   * so nothing may be sent. Clients are disconnected, new connections get
   * 503, and the link is closed; orders already at the exchange stay
   * there. Ops see a 'journal-failed' event and must restart once the
   * disk is fixed.
   */
  private failClosed (err: Error): void {
    if (this.journalFailed) return
    this.journalFailed = true
    this.notify({ type: 'journal-failed', lane: this.name, error: err.message })
    this.edge.failClosed()
    void this.link.close()
  }

  private onDiskReading (reading: DiskReading, previous: DiskReading['state'] | null): void {
    try {
      this.metrics.diskReading(reading.freeBytes, reading.lowWatermarkBytes, reading.state === 'ok' ? 0 : reading.state === 'low' ? 1 : 2)
      if (reading.state === previous || (previous === null && reading.state === 'ok')) return
      const floorBytes = this.disk === null ? 0 : this.diskFloorBytes
      this.notify({ type: 'disk-space', lane: this.name, state: reading.state, freeBytes: reading.freeBytes, lowWatermarkBytes: reading.lowWatermarkBytes, floorBytes })
      if (reading.state === 'floor') this.failClosed(new Error(`the journal's disk has ${reading.freeBytes} bytes free, below journal.disk.floorBytes (${floorBytes})`))
    } catch (err) {
      this.edge.contain('disk reading', null, err)
    }
  }
}
