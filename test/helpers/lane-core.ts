// A lane's order path without sockets, for tests that drive it in-process:
// the real OrderLifecycle, OrderEntry and RiskEngine (over a real
// RiskControl's shared buffers), and optionally the lane's real journal
// stream in a directory. At the edges, two ports stand where the lane's
// sockets stand: RecordingLink implements ExchangeLinkPort (numbering and
// journaling link messages as the exchange link does) and RecordingClients
// implements the lifecycle's client port (messages are numbered and
// journaled by ClientSession.numberOutgoing, as the lane sends them).
import { decodeLinkEnvelope, encodeLinkFrame } from '../../protocol/link-codec.js'
import { LINK_LENGTH_PREFIX_BYTES } from '../../protocol/constants.js'
import { encodeClientEnvelope } from '../../protocol/client-codec.js'
import { CLIENT_BODY_FIELDS } from '../../journal/gateway-records.js'
import { RiskEngine, newRiskVerdict } from '../../checks/risk-engine.js'
import type { RiskControl } from '../../checks/risk-control.js'
import { resolveConfig } from '../../config/load.js'
import { createRiskControl } from '../../config/risk-config.js'
import { DEFAULT_INSTRUMENTS } from '../../exchange-sim/instruments.js'
import { DEMO_APP_ID } from '../../protocol/demo-identity.js'
import { LANE_NAMES, type LaneName } from '../../protocol/lanes.js'
import { v1, type ClientEnvelopeInit, type Instrument, type LinkEnvelopeInit, type LinkExecutionReport, type NewOrder } from '../../protocol/messages.js'
import { ClientSession } from '../../lane/client-session.js'
import type { ExchangeLinkPort } from '../../lane/exchange-link-port.js'
import type { LaneJournal, SessionJournalHeads } from '../../lane/lane-journal.js'
import { LaneMetrics, LaneMetricsReader, createLaneMetricsBuffer } from '../../lane/lane-metrics.js'
import { FRAME_TIME_US, OrderEntry } from '../../lane/order-entry.js'
import { nowMicros } from '../../protocol/clock.js'
import { OrderLifecycle, type LifecyclePort, type MonitorAlert } from '../../lane/order-lifecycle.js'
import type { ReportLog } from '../../lane/report-log.js'

export const INSTRUMENTS: Instrument[] = DEFAULT_INSTRUMENTS.map((init) => v1.Instrument.create(init))

/** Few accounts: the defaults size the tables for 1024. The limits' defaults need the ring and order table sizes. */
export const SMALL_CAPACITY = { accounts: 8, appIds: 4, instruments: 16, instrumentsPerAccount: 4, openOrdersPerAccount: 256, rateRingSize: 1024 }

/** A RiskControl with these accounts registered (and the demo AppID), as the supervisor builds it from config. */
export function riskControlFor (accounts: readonly string[], risk: Record<string, unknown> = {}): RiskControl {
  const demo = resolveConfig({}).accounts[0]!
  const config = resolveConfig({
    accounts: accounts.map((id) => ({ ...demo, id })),
    risk: { capacity: SMALL_CAPACITY, ...risk },
  })
  return createRiskControl(config)
}

/** The exchange link as a port: numbers and journals what it is given, and keeps it for the test to read. */
export class RecordingLink implements ExchangeLinkPort {
  isUp = true
  lastSentSeq = 0
  readonly sent: LinkEnvelopeInit[] = []

  constructor (private readonly journal: LaneJournal | null = null) {}

  send (envelope: LinkEnvelopeInit, cause: SessionJournalHeads | null): number {
    if (!this.isUp) return 0
    envelope.seq = ++this.lastSentSeq
    envelope.sentTimeUs = Date.now() * 1000
    if (this.journal !== null) this.journal.linkOut(cause, encodeLinkFrame(envelope).subarray(LINK_LENGTH_PREFIX_BYTES), envelope)
    this.sent.push(envelope)
    return envelope.seq
  }

  /** The link logged on again: numbering continues from what the exchange has seen, as ExchangeLink does. */
  loggedOn (nextExpectedSeq: number): void {
    this.isUp = true
    if (nextExpectedSeq > 0) this.lastSentSeq = nextExpectedSeq - 1
  }
}

/** The client side as a port: what each open session was sent, numbered and journaled as the lane sends it. */
export class RecordingClients implements LifecyclePort {
  readonly open = new Set<ClientSession>()
  readonly sent = new Map<ClientSession, ClientEnvelopeInit[]>()
  readonly alerts: MonitorAlert[] = []
  /** Per session, when it last received or sent a frame (a count of frames on the lane). */
  readonly lastActive = new Map<ClientSession, number>()
  private frames = 0

  constructor (private readonly journal: LaneJournal | null = null) {}

  touch (session: ClientSession): void {
    this.lastActive.set(session, ++this.frames)
  }

  sendToClient (session: ClientSession, envelope: ClientEnvelopeInit): boolean {
    if (!this.open.has(session)) return false
    this.touch(session)
    session.numberOutgoing(envelope, this.journal)
    let list = this.sent.get(session)
    if (list === undefined) this.sent.set(session, list = [])
    list.push(envelope)
    return true
  }

  /** Execution reports held for an account with no session (journaled as the lane does). */
  readonly held: Array<{ account: string, envelope: ClientEnvelopeInit }> = []

  holdReport (account: string, envelope: ClientEnvelopeInit): void {
    this.journal?.reportHeld(account, encodeClientEnvelope(envelope))
    this.held.push({ account, envelope })
  }

  monitorAlert (alert: MonitorAlert): void {
    this.alerts.push(alert)
  }

  firstReportQueued (): void {}
}

/** One lane's order path. */
export class LaneCore {
  readonly laneIndex: number
  readonly engine: RiskEngine
  readonly metricsBuffer = createLaneMetricsBuffer()
  readonly metrics = new LaneMetricsReader(this.metricsBuffer)
  readonly link: RecordingLink
  readonly clients: RecordingClients
  readonly lifecycle: OrderLifecycle
  readonly entry: OrderEntry
  private nextSessionId: number

  /** `firstSessionId`: session IDs are unique for the gateway's life (lane/session-ids.ts), across restarts too. */
  /** `reports`: the lane's report log (numbering and holding execution reports, as the lane does); none by default. */
  constructor (readonly name: LaneName, readonly control: RiskControl, readonly journal: LaneJournal | null = null, firstSessionId = 1,
    reports: ReportLog | null = null) {
    this.laneIndex = LANE_NAMES.indexOf(name)
    this.nextSessionId = firstSessionId
    this.engine = new RiskEngine(control.buffers, this.laneIndex)
    this.link = new RecordingLink(journal)
    this.clients = new RecordingClients(journal)
    const laneMetrics = new LaneMetrics(this.metricsBuffer)
    this.lifecycle = new OrderLifecycle(this.engine, newRiskVerdict(64), laneMetrics, this.clients, this.link, reports)
    this.entry = new OrderEntry(this.lifecycle, this.engine, laneMetrics, this.clients, this.link, journal)
  }

  /** A connection, not logged on yet. */
  connect (): ClientSession {
    const session = new ClientSession(this.nextSessionId++, '127.0.0.1', Date.now(), 1024)
    session.journal = this.journal?.sessionHeads(session.id) ?? null
    this.clients.open.add(session)
    return session
  }

  /** The gateway's clock (µs); a test may drive it. */
  clockUs: () => number = nowMicros

  /**
   * A client frame as received at clockUs(), journaled with that time (the
   * time its checks run at, as the lane does); numbered with the session's
   * next client seq unless it has one.
   */
  receive (session: ClientSession, envelope: ClientEnvelopeInit): void {
    envelope.seq ??= session.lastClientSeq + 1
    this.clients.touch(session)
    const timeUs = this.clockUs()
    this.entry.orderClockMs[FRAME_TIME_US] = timeUs
    const bytes = encodeClientEnvelope(envelope)
    this.journal?.clientIn(session.journal!, bytes, CLIENT_BODY_FIELDS[Object.keys(envelope).find((k) => k in CLIENT_BODY_FIELDS) ?? ''] ?? 0, 0, timeUs)
    session.lastClientSeq = Number(envelope.seq)
  }

  /** A NewOrder frame from the session, received and entered. */
  newOrder (session: ClientSession, order: NewOrder): void {
    this.receive(session, { newOrder: order })
    this.entry.newOrder(session, order)
  }

  /** A CancelOrder frame from the session, received and entered. */
  cancel (session: ClientSession, clientOrderId: number): void {
    this.receive(session, { cancelOrder: { clientOrderId } })
    this.entry.cancel(session, { clientOrderId }, session.lastClientSeq)
  }

  /** The Logon frame (journaled before the account is known) has passed its checks: the session is logged on as `account` and takes over the account's orders. */
  logOn (session: ClientSession, account: string, cancelOnDisconnect = false): { resumedOrders: number, lastClientSeq: number } {
    this.receive(session, { logon: { account, password: '', cancelOnDisconnect } })
    session.stage = 'logged-on'
    session.account = account
    session.journalAs(account)
    session.risk.lane = this.laneIndex
    session.risk.account = this.control.accountIndex(account)!
    session.risk.app = this.control.appIndex(DEMO_APP_ID) ?? -1
    session.cancelOnDisconnect = cancelOnDisconnect
    const resumed = this.lifecycle.sessionLoggedOn(session)
    this.clients.sendToClient(session, { logonReply: { ok: true, sessionId: session.id, resumedOrders: resumed.resumedOrders, lastClientSeq: resumed.lastClientSeq } })
    return resumed
  }

  /** Logout: the goodbye is sent, then the connection closes. */
  logout (session: ClientSession): void {
    this.receive(session, { logout: {} })
    this.clients.sendToClient(session, { logout: { text: 'goodbye' } })
    this.close(session)
  }

  /** The connection closed. */
  close (session: ClientSession): void {
    this.clients.open.delete(session)
    if (session.account !== null) this.lifecycle.sessionClosed(session, session.cancelOnDisconnect)
  }

  /**
   * The gateway dies: the link is gone and every open session closes with
   * it, in the order they were last active (what recovery assumes of a
   * crash: the journal shows no closes).
   */
  crash (): void {
    this.linkDown()
    const open = [...this.clients.open].sort((a, b) => (this.clients.lastActive.get(a) ?? 0) - (this.clients.lastActive.get(b) ?? 0))
    for (const session of open) this.close(session)
  }

  /** Last exchange report seq processed: the link drops duplicates at or below it, as ExchangeLink does. */
  lastReceivedSeq = 0
  /** The exchange's last report seq. */
  exchangeSeq = 0

  /** The exchange's logon reply, journaled as the link records it, then linkUp. */
  linkUp (tradingDay: string, nextExpectedSeq: number): void {
    this.receiveFromLink({ seq: 0, logonReply: { ok: true, tradingDay, environment: 'production', instruments: INSTRUMENTS, nextExpectedSeq } })
    this.link.loggedOn(nextExpectedSeq)
    this.lifecycle.linkUp({ tradingDay, environment: 'production', instruments: INSTRUMENTS, nextExpectedSeq })
  }

  linkDown (): void {
    this.link.isUp = false
    this.lifecycle.linkDown()
  }

  /** An execution report with the exchange's next seq (or a resend of `seq`), journaled, deduplicated and handed to the lifecycle. */
  exchangeReport (report: Partial<LinkExecutionReport>, seq = ++this.exchangeSeq): void {
    const envelope = this.receiveFromLink({ seq, report: { execType: 0, cumulativeLots: 0, leavesLots: 0, lastLots: 0, lastPrice: 0, reason: 0, text: '', transactTimeUs: 0, exchangeOrderId: 0, cancelRejected: false, ...report } as never })
    if (seq <= this.lastReceivedSeq) return
    this.lastReceivedSeq = seq
    this.lifecycle.report(envelope.report as LinkExecutionReport)
  }

  /** A link frame as the link receives it: encoded, decoded and journaled. */
  private receiveFromLink (envelope: LinkEnvelopeInit): ReturnType<typeof decodeLinkEnvelope> {
    const body = encodeLinkFrame(envelope).subarray(LINK_LENGTH_PREFIX_BYTES)
    const decoded = decodeLinkEnvelope(body)
    this.journal?.linkIn(body, decoded)
    return decoded
  }

  /** Commits the journal: what the lane does before anything it covers leaves. */
  commit (): void {
    this.journal?.commit()
  }

  /** What the session was sent, in order. */
  sentTo (session: ClientSession): ClientEnvelopeInit[] {
    return this.clients.sent.get(session) ?? []
  }
}
