// Recovery at start: the lanes' state for the current trading day is
// rebuilt from their journal streams before any lane listens or dials the
// exchange, by feeding the recorded events back through the same code the
// live lane runs: the order lifecycle (lane/order-lifecycle.ts) and the
// same risk-engine calls, in the same order, each at its recorded time.
// Nothing here decides what an order's life is; it only says which event
// each record is.
//
//   record                              event
//   CLIENT_IN (any decoded frame)       the session's last client seq; Logon: its
//                                       cancel-on-disconnect; a new order's or a
//                                       cancel's time (the risk engine's clock)
//   CLIENT_OUT                          the session's seq; LogonReply ok: the
//                                       session logged on (sessionLoggedOn, after
//                                       the sessions it took over from closed);
//                                       Logout: it closed (sessionClosed);
//                                       ExecutionReport (not a resend): kept in the
//                                       day's report log (report-log.ts restore)
//   REPORT_HELD                         a report no session took: kept in the log too
//   CHECK_DECISION passed               the order about to go out; refused by the
//                                       risk engine: the account's slot for the
//                                       instrument (the check took it), and with
//                                       SELF_MATCH_PREVENTED the self-trade count
//   LINK_OUT newOrder                   RiskEngine.restoreOrder (booked as the check
//                                       booked it, whatever the limits say now: the
//                                       exchange has it), then orderSent
//   LINK_OUT cancel                     a client's: restoreCancel (the action it
//                                       counted); every cancel: cancelSent, with its
//                                       link seq
//   LINK_IN logonReply                  linkUp (trading day, reference data, lost
//                                       orders and cancels by next_expected_seq);
//                                       the report log's startDay, as linkUp's
//   LINK_IN instrumentUpdate, report    instrumentUpdate, report (reports
//                                       dropped as repeats by advanceReportSeq,
//                                       the link's own rule)
//   segment seal closing a run          the run ended (orderly stop or crash): its
//                                       open sessions closed, as now at the end
//   POSITIONS_CARRIED                   positions held when a lane rolled into this
//                                       day: added to yesterday's lots
//                                       (RiskEngine.restoreCarriedPosition); or an
//                                       account handed over by another instance:
//                                       today's lots and counters too
//                                       (carried-positions.ts, as installed live)
//
// The lifecycle's outputs go nowhere here (a silent client port and
// SILENT_LINK): what the live lane sent is in the journal. So are the
// execution reports it numbered, sent (CLIENT_OUT) or held (REPORT_HELD):
// the day's report log is rebuilt from their bytes, as they went out, not
// from the replayed lifecycle (which numbers nothing), so that numbering
// continues with no gap and no repeat and a resend serves them unchanged. A cancel owed
// (cancel-on-disconnect of a session the crash closed, or one the link
// lost, by the exchange's next_expected_seq at the next link logon) is
// sent by the lane at its first link-up.
//
// All lanes are replayed in one thread, their records merged in recorded
// time order: they share the risk state (the daily monitors count every
// lane's actions in one ring per account), and the result must not depend
// on how threads would interleave.
//
// The window is the current trading day: from the first segment labelled
// with the newest trading day (the lane labels segments with the day its
// link logon reply announced, and that reply opens the segment) to the
// end, across any restarts in between.
import { closeSync, openSync, readSync } from 'node:fs'
import { join } from 'node:path'
import { readStream, type ReadRecord } from '../journal/reader.js'
import { HEADER_TRADING_DAY, RecordKind, SealReason, decodeRecord, decodeSegmentHeader, decodeSegmentSeal, recordLengthAt } from '../journal/record-format.js'
import { listSegments } from '../journal/segment-names.js'
import { applyPositionsCarried } from './carried-positions.js'
import { CLIENT_BODY_FIELDS, DecisionStage, FLAG_DIGEST, FLAG_TEXT_FRAME, decodeDecision, decodePositionsCarried } from '../journal/gateway-records.js'
import { decodeLinkEnvelope } from '../protocol/link-codec.js'
import { decodeClientEnvelope } from '../protocol/client-codec.js'
import { echoableId } from '../protocol/field-limits.js'
import { LANE_NAMES, type LaneName } from '../protocol/lanes.js'
import { HedgeFlag, OffsetFlag, RejectReason, wireInt, type ClientEnvelope, type Instrument, type LinkExecutionReport, type NewOrder } from '../protocol/messages.js'
import { IN_LINK_ORDER_ID, IN_NOW_MS, IN_PRICE, RiskEngine, newRiskVerdict, type RiskContext } from '../checks/risk-engine.js'
import type { RiskBuffers } from '../checks/risk-layout.js'
import { Limit } from '../checks/limits.js'
import { ClientSession, type WorkingOrder } from './client-session.js'
import { SILENT_LINK, advanceReportSeq } from './exchange-link-port.js'
import { LaneMetrics, createLaneMetricsBuffer } from './lane-metrics.js'
import { OrderLifecycle, type AccountSeqs, type LifecyclePort, type RecoveredLifecycle } from './order-lifecycle.js'
import { NO_SLOT } from './working-orders.js'
import { DEFAULT_RESEND_WINDOW_REPORTS, ReportLog, type HeldReport, type PlainDayReports } from './report-log.js'

/** What one lane rebuilt; plain data, handed to the lane's thread. */
export interface LaneRecovery extends RecoveredLifecycle {
  /** The trading day recovered, or null when the stream holds none (a first start). */
  tradingDay: string | null
  environment: string
  /** Reference data as last seen. */
  instruments: Instrument[]
  /** Orders still working at the exchange, owned by no session yet; `cancelOwed` marks those owed a cancel at the first link-up. */
  orders: WorkingOrder[]
  /** The last exchange report seq processed: the link asks the exchange to resend after it. */
  lastReceivedSeq: number
  /** The highest link order ID the lane has used (IDs must not repeat per link session). */
  maxLinkOrderId: number
  accountSeqs: Map<string, AccountSeqs>
  /** The day's execution reports as journaled, within the lane's resend window (report-log.ts). */
  reports: PlainDayReports | null
  /** Records read and segments they came from. */
  records: number
  segments: number
  /** Orders booked again, and finished ones replayed for the daily counters. */
  ordersReplayed: number
  /** What could not be restored, for the start log (e.g. an account no longer configured). */
  problems: string[]
}

/**
 * The start log lists at most this many recovery problems: a journal whose
 * every order hits one (an account since removed, a full order table)
 * must not grow the list, and the supervisor's memory, with it.
 */
const MAX_PROBLEMS_LISTED = 100

function noteProblem (result: { problems: string[] }, text: string): void {
  if (result.problems.length < MAX_PROBLEMS_LISTED) result.problems.push(text)
  else if (result.problems.length === MAX_PROBLEMS_LISTED) result.problems.push(`more than ${MAX_PROBLEMS_LISTED} problems; the rest are not listed`)
}

const HEADER_PROBE_BYTES = 4096

/**
 * The stream's newest trading day and the segment number recovery starts
 * at: the first one labelled with that day. Nulls if no segment is.
 */
function newestTradingDay (streamDir: string, stream: string): { day: string | null, fromSegment: number | null } {
  const segments = listSegments(streamDir, stream)
  let newestDay: string | null = null
  let start: number | null = null
  for (let i = segments.length - 1; i >= 0; i--) {
    const file = segments[i]!
    const header = readSegmentHeader(file.path)
    if (header === null || (header.flags & HEADER_TRADING_DAY) === 0) continue
    if (newestDay === null) newestDay = header.day
    if (header.day !== newestDay) break
    start = file.segment
  }
  return { day: newestDay, fromSegment: start }
}

/**
 * The trading day the gateway recovers: the newest any lane journaled.
 * Every lane must recover the same day, since they share one risk state
 * and its one trading day: a lane that has not traded since an earlier
 * day (disabled, or no link logon since) would otherwise roll the shared
 * day back and replay that day's orders over today's counters.
 */
export function gatewayRecoveryDay (root: string, lanes: readonly string[]): string | null {
  let newest: string | null = null
  for (const lane of lanes) {
    const { day } = newestTradingDay(join(root, lane), lane)
    if (day !== null && (newest === null || day > newest)) newest = day
  }
  return newest
}

function readSegmentHeader (path: string): ReturnType<typeof decodeSegmentHeader> {
  const fd = openSync(path, 'r')
  try {
    const buf = Buffer.alloc(HEADER_PROBE_BYTES)
    const n = readSync(fd, buf, 0, HEADER_PROBE_BYTES, 0)
    if (n < 8 || recordLengthAt(buf, 0) > n) return null
    const record = decodeRecord(buf.subarray(0, n), 0)
    return record.kind === RecordKind.SEGMENT_HEADER ? decodeSegmentHeader(record.payload) : null
  } catch {
    return null
  } finally {
    closeSync(fd)
  }
}

/**
 * Rebuilds every listed lane's state from its stream's newest trading day,
 * if that is `gatewayDay` (gatewayRecoveryDay): an older day's orders
 * expired with it, and its counters are not today's. The lanes' records
 * are replayed merged in recorded-time order (equal times: in LANE_NAMES
 * order), into the shared risk state behind `buffers`. Each lane's report
 * log keeps at most `resendWindowReports(lane)` reports, as the lane does.
 */
export function recoverLanes (root: string, lanes: readonly LaneName[], buffers: RiskBuffers,
  accountIndexes: ReadonlyMap<string, number>, gatewayDay: string | null,
  resendWindowReports: (lane: LaneName) => number = () => DEFAULT_RESEND_WINDOW_REPORTS): Map<LaneName, LaneRecovery> {
  const results = new Map<LaneName, LaneRecovery>()
  const replays: Array<{ replay: LaneReplay, records: Iterator<ReadRecord>, head: ReadRecord | null }> = []
  for (const lane of lanes) {
    const result = emptyRecovery()
    results.set(lane, result)
    const streamDir = join(root, lane)
    const { day: newestDay, fromSegment: from } = newestTradingDay(streamDir, lane)
    if (from === null) continue
    if (gatewayDay !== null && newestDay !== gatewayDay) {
      noteProblem(result, `this lane's journal ends on trading day ${newestDay ?? '?'}, before the gateway's ${gatewayDay} (another lane's newest): ` +
        'nothing recovered; that day\'s orders ended with it')
      continue
    }
    result.segments = listSegments(streamDir, lane).filter((f) => f.segment >= from).length
    const records = readStream(streamDir, lane, { fromSegment: from, includeMeta: true })
    const first = records.next()
    const reports = new ReportLog(lane, resendWindowReports(lane))
    replays.push({ replay: new LaneReplay(LANE_NAMES.indexOf(lane), buffers, accountIndexes, result, reports), records, head: first.done === true ? null : first.value })
  }
  for (;;) {
    let next: typeof replays[number] | null = null
    for (const r of replays) {
      if (r.head !== null && (next === null || r.head.timeUs < next.head!.timeUs)) next = r
    }
    if (next === null) break
    next.replay.apply(next.head!)
    const following = next.records.next()
    next.head = following.done === true ? null : following.value
  }
  for (const { replay } of replays) replay.finish()
  return results
}

function emptyRecovery (): LaneRecovery {
  return {
    tradingDay: null,
    environment: '',
    instruments: [],
    orders: [],
    lastReceivedSeq: 0,
    maxLinkOrderId: 0,
    accountSeqs: new Map(),
    reports: null,
    records: 0,
    segments: 0,
    ordersReplayed: 0,
    problems: [],
  }
}

/** The decision of the order being sent: its LINK_OUT newOrder follows, after any self-match cancels. */
interface PassedDecision {
  clientOrderId: number
  linkOrderId: number
  selfMatchCancels: number
  /** When the client frame that carried the order was received: the time the check ran at. */
  frameTimeUs: number
}

/** In recovery (and what-if replay) nothing reaches a client: what the live lane sent is in the journal. */
export const SILENT_CLIENTS: LifecyclePort = Object.freeze({
  sendToClient: () => false,
  holdReport: () => {},
  monitorAlert: () => {},
  firstReportQueued: () => {},
})

/** Segment seals that end a run of the gateway: an orderly stop, or found unsealed at the next start. */
const RUN_ENDS: ReadonlySet<number> = new Set([SealReason.CLOSED, SealReason.RESUMED, SealReason.RECOVERED])

/**
 * A run of the gateway ended at this record (a segment seal of an orderly
 * stop, or one found unsealed at the next start): its sessions closed with
 * it. Recovery and what-if replay (tools/journal/replay-command.ts) close them.
 */
export function endsRun (record: ReadRecord): boolean {
  if (record.kind !== RecordKind.SEGMENT_SEAL) return false
  const seal = decodeSegmentSeal(record.payload)
  return seal !== null && RUN_ENDS.has(seal.reason)
}

/**
 * The sessions a logon shows had closed. The journal does not show closes
 * other than by Logout, but the logon reply says how many orders the
 * session took over, which only orders of closed sessions can be: when the
 * account's orders owned by other sessions (or by none) are exactly that
 * many, their owners had closed. Recovery and what-if replay close them
 * before the session logs on.
 */
export function ownersClosedBeforeLogon (orders: Iterable<WorkingOrder>, session: ClientSession, account: string, resumedOrders: number): Set<ClientSession> {
  const owners = new Set<ClientSession>()
  if (resumedOrders === 0) return owners
  let claimable = 0
  for (const order of orders) {
    if (order.account !== account || order.session === session) continue
    claimable++
    if (order.session !== null) owners.add(order.session)
  }
  if (claimable !== resumedOrders) owners.clear()
  return owners
}

/** One lane's stream replayed through its own lifecycle. */
class LaneReplay {
  private readonly engine: RiskEngine
  private readonly lifecycle: OrderLifecycle
  /** Sessions of the replayed runs by ID (IDs are unique for the gateway's life, lane/session-ids.ts). */
  private readonly sessions = new Map<number, ClientSession>()
  /** Open sessions, with the index of their last record: at a run's end they close in that order. */
  private readonly openSessions = new Map<ClientSession, number>()
  private readonly contexts = new Map<string, RiskContext | null>()
  private decision: PassedDecision | null = null
  private prev: ReadRecord | null = null

  constructor (private readonly laneIndex: number, buffers: RiskBuffers,
    private readonly accountIndexes: ReadonlyMap<string, number>, private readonly result: LaneRecovery,
    /** The day's execution reports, rebuilt from the journaled ones. */
    private readonly reports: ReportLog) {
    this.engine = new RiskEngine(buffers, laneIndex)
    // Counted for nobody: a restart's /metrics start from zero.
    const metrics = new LaneMetrics(createLaneMetricsBuffer())
    this.lifecycle = new OrderLifecycle(this.engine, newRiskVerdict(0), metrics, SILENT_CLIENTS, SILENT_LINK)
  }

  apply (record: ReadRecord): void {
    switch (record.kind) {
      case RecordKind.SEGMENT_SEAL:
        if (endsRun(record)) this.endRun()
        return
      case RecordKind.CLIENT_IN:
        this.clientIn(record)
        break
      case RecordKind.CLIENT_OUT:
        this.clientOut(record)
        break
      case RecordKind.CHECK_DECISION:
        this.checkDecision(record)
        break
      case RecordKind.LINK_OUT:
        this.linkOut(record)
        break
      case RecordKind.LINK_IN:
        this.linkIn(record)
        break
      case RecordKind.REPORT_HELD: {
        // Not an event of any session's: the frame-time rules (prev) skip it.
        const envelope = decodeClientEnvelopeOrNull(record.payload)
        if (envelope?.executionReport != null) this.keepReport(record.account, envelope.executionReport)
        this.result.records++
        return
      }
      case RecordKind.POSITIONS_CARRIED:
        this.positionsCarried(record)
        break
      default:
        // Segment headers and batch seals carry no event.
        return
    }
    this.result.records++
    this.prev = record
  }

  /** The end of the stream: the gateway stopped or died here. */
  finish (): void {
    this.endRun()
    const lifecycle = this.lifecycle
    const result = this.result
    result.tradingDay = lifecycle.tradingDay === '' ? null : lifecycle.tradingDay
    result.environment = lifecycle.exchangeEnvironment
    result.instruments = [...lifecycle.instruments.values()].map((traded) => traded.instrument)
    result.orders = [...lifecycle.orders.values()]
    result.accountSeqs = lifecycle.accountSeqs
    result.reports = this.reports.toPlain()
  }

  private sessionOf (sessionId: number): ClientSession {
    let session = this.sessions.get(sessionId)
    if (session === undefined) {
      session = new ClientSession(sessionId, '', 0, 1)
      this.sessions.set(sessionId, session)
    }
    this.openSessions.set(session, this.result.records)
    return session
  }

  private contextOf (account: string): RiskContext | null {
    let ctx = this.contexts.get(account)
    if (ctx === undefined) {
      const index = this.accountIndexes.get(account)
      ctx = index === undefined ? null : { lane: this.laneIndex, account: index, app: -1 }
      if (ctx === null) noteProblem(this.result, `account ${account} is in the journal but not configured: its orders are not booked`)
      this.contexts.set(account, ctx)
    }
    return ctx
  }

  /** When the client frame just before this record (same session) arrived: the clock its check ran on. Else the record's own time. */
  private frameTimeUs (record: ReadRecord): number {
    const prev = this.prev
    return prev !== null && prev.kind === RecordKind.CLIENT_IN && prev.sessionId === record.sessionId ? prev.timeUs : record.timeUs
  }

  private clientIn (record: ReadRecord): void {
    const session = this.sessionOf(record.sessionId)
    // Text frames and digests were never decoded as envelopes here.
    if ((record.flags & (FLAG_TEXT_FRAME | FLAG_DIGEST)) !== 0) return
    const envelope = decodeClientEnvelopeOrNull(record.payload)
    if (envelope === null) return
    session.lastClientSeq = echoableId(envelope.seq)
    // A refused Logon may be retried: the last one before success counts.
    if (envelope.body === 'logon') session.cancelOnDisconnect = envelope.logon!.cancelOnDisconnect === true
  }

  private clientOut (record: ReadRecord): void {
    const session = this.sessionOf(record.sessionId)
    const envelope = decodeClientEnvelopeOrNull(record.payload)
    if (envelope === null) return
    if (envelope.body === 'logonReply' && envelope.logonReply!.ok === true && record.account !== '') {
      this.logOn(session, record.account, envelope.logonReply!.resumedOrders ?? 0)
    }
    session.outSeq = echoableId(envelope.seq)
    if (envelope.executionReport != null) this.keepReport(record.account, envelope.executionReport)
    if (record.msgType === CLIENT_BODY_FIELDS.logout) this.close(session)
  }

  /**
   * An execution report the live lane numbered, as journaled: into the
   * day's log. Resends (possible_duplicate) were numbered before, and a
   * journal written before reports were numbered has report_seq 0.
   */
  private keepReport (account: string, report: HeldReport): void {
    if (report.possibleDuplicate === true || wireInt(report.reportSeq) === 0) return
    const problem = this.reports.restore(account, report)
    if (problem !== null) noteProblem(this.result, `execution reports: ${problem}`)
  }

  /** The session logged on, after the sessions its logon shows had closed (ownersClosedBeforeLogon). */
  private logOn (session: ClientSession, account: string, resumedOrders: number): void {
    const ctx = this.contextOf(account)
    if (ctx === null) return
    for (const owner of ownersClosedBeforeLogon(this.lifecycle.orders.values(), session, account, resumedOrders)) this.close(owner)
    session.account = account
    session.risk.lane = ctx.lane
    session.risk.account = ctx.account
    session.stage = 'logged-on'
    this.lifecycle.sessionLoggedOn(session)
  }

  /** The session closed: with cancel-on-disconnect (asked at Logon, or the account's limit as it stands now), its orders are owed cancels. */
  private close (session: ClientSession): void {
    this.openSessions.delete(session)
    if (session.account === null) return
    // AppID-scope values are not known here (no session, app -1).
    const cancelOnDisconnect = session.cancelOnDisconnect || this.engine.limitsFor(session.risk, -1, -1)[Limit.cancelOnDisconnect] === 1
    this.lifecycle.sessionClosed(session, cancelOnDisconnect)
    session.account = null
  }

  /** A run of the gateway ended: its sessions closed with it, in the order they were last active. */
  private endRun (): void {
    const open = [...this.openSessions].sort((a, b) => a[1] - b[1])
    for (const [session] of open) this.close(session)
    this.decision = null
  }

  private checkDecision (record: ReadRecord): void {
    const d = decodeDecision(record.payload)
    if (d === null) return
    if (d.passed) {
      this.decision = { clientOrderId: d.clientOrderId, linkOrderId: d.linkOrderId, selfMatchCancels: 0, frameTimeUs: this.frameTimeUs(record) }
      return
    }
    const prev = this.prev
    if (d.stage !== DecisionStage.RISK || prev?.kind !== RecordKind.CLIENT_IN || prev.sessionId !== record.sessionId) return
    const order = decodeClientEnvelopeOrNull(prev.payload)?.newOrder as NewOrder | null | undefined
    const traded = order == null ? undefined : this.lifecycle.instruments.get(order.instrument)
    const ctx = this.contextOf(record.account)
    if (traded === undefined || ctx === null) return
    // The check gave the account its slot for the instrument before it
    // refused (the counters list it from then on); a close refused before
    // any position was held is often an account's first order there.
    this.engine.positionSlot(ctx.account, traded.risk.index)
    // The attempt counted for the self-trade monitor when it was refused.
    if (d.reason === RejectReason.SELF_MATCH_PREVENTED) this.engine.restoreSelfTrade(ctx, traded.risk)
  }

  private linkOut (record: ReadRecord): void {
    const envelope = decodeLinkEnvelope(record.payload)
    if (envelope.body === 'newOrder') {
      this.newOrderSent(record, envelope.newOrder!, wireInt(envelope.seq))
    } else if (envelope.body === 'cancel') {
      const linkOrderId = wireInt(envelope.cancel!.orderId)
      const orders = this.lifecycle.orders
      const slot = orders.slotOf(linkOrderId)
      if (this.decision !== null) {
        // A self-match cancel ahead of the order (cancel-resting mode).
        this.decision.selfMatchCancels++
      } else if (slot !== NO_SLOT && record.sessionId !== 0 && this.prev?.kind === RecordKind.CLIENT_IN && this.prev.sessionId === record.sessionId) {
        // Only a client's own cancel counted as an action when it was
        // checked; cancel-on-disconnect, kill-switch and restart cancels did not.
        this.engine.input[IN_NOW_MS] = this.prev.timeUs / 1000
        this.engine.restoreCancel(orders.riskContext(slot), orders.riskSlot[slot]!, orders.instrumentRisk(slot), this.lifecycle.verdict)
      }
      this.lifecycle.cancelSent(linkOrderId, wireInt(envelope.seq))
    }
  }

  private newOrderSent (record: ReadRecord, sent: NonNullable<ReturnType<typeof decodeLinkEnvelope>['newOrder']>, linkSeq: number): void {
    const result = this.result
    const linkOrderId = wireInt(sent.orderId)
    if (linkOrderId > result.maxLinkOrderId) result.maxLinkOrderId = linkOrderId
    const d = this.decision !== null && this.decision.linkOrderId === linkOrderId ? this.decision : null
    this.decision = null
    const account = sent.account ?? ''
    const ctx = this.contextOf(account)
    const traded = this.lifecycle.instruments.get(sent.instrument ?? '')
    if (ctx === null || traded === undefined) return
    const input = this.engine.input
    input[IN_PRICE] = wireInt(sent.price)
    input[IN_LINK_ORDER_ID] = linkOrderId
    input[IN_NOW_MS] = (d?.frameTimeUs ?? record.timeUs) / 1000
    const lots = sent.quantityLots ?? 0
    const offsetFlag = sent.offsetFlag || OffsetFlag.OFFSET_OPEN
    const hedgeFlag = sent.hedgeFlag || HedgeFlag.HEDGE_SPECULATION
    const riskSlot = this.engine.restoreOrder(ctx, traded.risk, sent.side ?? 0, lots, sent.timeInForce ?? 0, offsetFlag, hedgeFlag, this.lifecycle.verdict)
    if (riskSlot < 0) {
      noteProblem(result, `order ${linkOrderId} of ${account} could not be booked: the account's order table is full`)
      return
    }
    if (d !== null && d.selfMatchCancels > 0) this.engine.restoreSelfTrade(ctx, traded.risk)
    const owner = this.sessions.get(record.sessionId)
    const slot = this.lifecycle.orderSent(linkOrderId, linkSeq,
      owner !== undefined && owner.account === account && this.openSessions.has(owner) ? owner : null,
      account, ctx, d?.clientOrderId ?? 0, traded.risk, sent.side ?? 0, wireInt(sent.price), lots, sent.timeInForce ?? 0,
      offsetFlag, hedgeFlag, riskSlot, null,
      // Received by an earlier run: no round trip to time.
      0)
    if (slot === NO_SLOT) {
      // Only if the lane's bound shrank since the journal was written (risk.capacity changed).
      this.engine.onOrderDone(ctx, riskSlot, traded.risk, false, this.lifecycle.verdict)
      noteProblem(result, `order ${linkOrderId} of ${account} could not be booked: the lane's working-order table is full (${this.lifecycle.orders.maxSlots})`)
      return
    }
    result.ordersReplayed++
  }

  /**
   * Positions held before this day, as the lane that rolled into it
   * journaled them: the day's records only start there. Added to what the
   * replay booked so far (see restoreCarriedPosition).
   */
  private positionsCarried (record: ReadRecord): void {
    const doc = decodePositionsCarried(record.payload)
    if (doc === null) {
      noteProblem(this.result, `a positions-carried record (seq ${record.seq}) does not decode: the positions it carried are not restored`)
      return
    }
    // The live handover (Lane.installHandover) applies the same records the same way.
    for (const problem of applyPositionsCarried(this.engine, doc, (account) => this.contextOf(account)?.account ?? null)) noteProblem(this.result, problem)
  }

  private linkIn (record: ReadRecord): void {
    // Type 0: refused as it arrived (malformed or out of range) and the
    // link dropped for it; nothing acted on it, so neither does recovery.
    if (record.msgType === 0) return
    const envelope = decodeLinkEnvelope(record.payload)
    switch (envelope.body) {
      case 'logonReply': {
        const reply = envelope.logonReply!
        if (reply.ok !== true) return
        // The rule linkUp applies to the live lane's log (order-lifecycle.ts).
        this.reports.startDay(reply.tradingDay ?? '')
        this.lifecycle.linkUp({
          tradingDay: reply.tradingDay ?? '',
          environment: reply.environment ?? '',
          instruments: (reply.instruments ?? []) as Instrument[],
          nextExpectedSeq: wireInt(reply.nextExpectedSeq),
        })
        return
      }
      case 'instrumentUpdate':
        this.lifecycle.instrumentUpdate(envelope.instrumentUpdate!.instrument as Instrument)
        return
      case 'report': {
        const seq = wireInt(envelope.seq)
        const lastReceivedSeq = advanceReportSeq(this.result.lastReceivedSeq, seq)
        if (lastReceivedSeq < 0) return
        this.result.lastReceivedSeq = lastReceivedSeq
        this.lifecycle.report(envelope.report as LinkExecutionReport)
      }
    }
  }
}

function decodeClientEnvelopeOrNull (frame: Uint8Array): ClientEnvelope | null {
  try {
    return decodeClientEnvelope(frame)
  } catch {
    return null
  }
}
