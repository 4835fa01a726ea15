// `gatehouse journal replay DIR --limits FILE`: a what-if for limits. Re-runs
// one past trading day's new orders, in journal order, through the real
// pre-trade check engine with proposed limits, and lists the orders that
// would have been refused (and the refused ones that would have passed),
// against what the lanes actually decided.
//
// Offline, in this process: one RiskControl built from the effective config
// and, per lane, the lane's own order entry (lane/order-entry.ts) and order
// lifecycle (lane/order-lifecycle.ts) over a RiskEngine, as the supervisor
// and the lane threads hold them, but fed from the journal instead of
// sockets. Nothing here mirrors the lane's order handling: the replay only
// turns records into the events the lane's code takes. What the lane sent
// is in the journal, so the replay sends nothing: its link is the recorded
// one, its client messages go nowhere. Replay could run in the piscina pool
// or offline; this is the offline form, so it never touches a running
// gateway.
//
// What drives what, per lane stream (journal/gateway-records.ts):
//
//   LINK_IN logonReply         linkUp: the trading day, reference data, orders the
//                              exchange never got are lost
//   LINK_IN instrumentUpdate   instrumentUpdate: reference data
//   CLIENT_IN, logged on       the session message throttle, replayed
//   CLIENT_IN newOrder    ─┐   one order: order entry runs when its decision is read,
//   CHECK_DECISION        ─┘   which says what the lane decided at the time
//   LINK_OUT newOrder          the order went out with this seq: the lane writes it
//                              right after the passed decision (only self-match
//                              cancels come between); without it the link refused it
//   CLIENT_IN cancelOrder      order entry's cancel: checkCancel (counts toward the
//                              throttles), the link down if the lane's next record
//                              answers it EXCHANGE_UNAVAILABLE
//   LINK_OUT cancel            cancelSent: a cancel on its way, whoever sent it
//   CLIENT_IN logout           sessionClosed: its orders wait for the next session
//   CLIENT_OUT logonReply      sessionLoggedOn: the session takes over the account's
//                              orders; how many it took says which earlier sessions
//                              had closed without a logout (nothing else records it)
//   segment seal ending a run  the gateway stopped or died: its sessions closed
//   POSITIONS_CARRIED          positions held before the day, added to yesterday's
//                              lots (RiskEngine.restoreCarriedPosition)
//   LINK_IN report             report: fills and done of orders working in the
//                              replay, each seq once (resends after a reconnect are
//                              journaled too)
//
// Exit codes: 0 the day was replayed (with or without differences), 1 no
// such day or no orders on it, or a damaged journal, 2 the command line,
// config or limits file is wrong.
import { existsSync, statSync } from 'node:fs'
import { MAX_JSON_FILE_BYTES, readBoundedFile } from '../../journal/read-bounded-file.js'
import { parseArgs } from 'node:util'
import { EXIT_OK, EXIT_USAGE, failCommand, parseCommandLine, processIo, refuseUsage, type CommandIo } from '../../platform/cli-kit.js'
import type { AccountCounters, RiskControl } from '../../checks/risk-control.js'
import { IN_NOW_MS, RiskEngine, newRiskVerdict } from '../../checks/risk-engine.js'
import {
  ACCOUNT_CTL_STRIDE, ACCOUNT_FIELDS, ORDER_FIELDS, POSITION_FIELDS, type RiskViews,
} from '../../checks/risk-layout.js'
import { ConfigError, mergeConfig, validateConfig, type GatewayConfig } from '../../config/config.js'
import { loadConfigFile } from '../../config/load.js'
import { LANE_NAMES, type LaneName } from '../../protocol/lanes.js'
import { DEFAULT_CONFIG } from '../../config/defaults.js'
import { createRiskControl } from '../../config/risk-config.js'
import { decodeClientEnvelope } from '../../protocol/client-codec.js'
import { validateClientEnvelope } from '../../protocol/field-limits.js'
import { decodeLinkEnvelope } from '../../protocol/link-codec.js'
import {
  ExecType, RejectReason, Side, TimeInForce, reasonName, wireInt,
  type CancelOrder, type Instrument, type LinkEnvelope, type LinkEnvelopeInit, type LinkExecutionReport, type NewOrder,
} from '../../protocol/messages.js'
import { JournalError, journalErrorCodes } from '../../journal/errors.js'
import {
  CLIENT_BODY_FIELDS, DecisionStage, FLAG_DIGEST, LINK_BODY_FIELDS, decisionStageName, decodeDecision, decodePositionsCarried,
} from '../../journal/gateway-records.js'
import { readJournal, type ReadRecord } from '../../journal/reader.js'
import { countJournalSegments, noSegmentsText } from './search-command.js'
import { DAY_PATTERN, RecordKind, isMetaKind, laneName } from '../../journal/record-format.js'
import { ClientSession, THROTTLE_WINDOW_MS, chargeSessionThrottle } from '../../lane/client-session.js'
import { SILENT_LINK, advanceReportSeq, type ExchangeLinkPort } from '../../lane/exchange-link-port.js'
import type { SessionJournalHeads } from '../../lane/lane-journal.js'
import { LaneMetrics, createLaneMetricsBuffer } from '../../lane/lane-metrics.js'
import { FRAME_TIME_US, MAX_SELF_MATCH_CANCELS, OrderEntry, type DecisionRecorder } from '../../lane/order-entry.js'
import { OrderLifecycle } from '../../lane/order-lifecycle.js'
import { SILENT_CLIENTS, endsRun, ownersClosedBeforeLogon } from '../../lane/recovery.js'

export const REPLAY_HELP = `usage: gatehouse journal replay DIR --limits FILE [--config FILE] [--day YYYYMMDD] [--lane NAME] [--json]

Re-runs one trading day's new orders from the journal under DIR through the
real pre-trade check engine with proposed limits, and lists the orders that
would have been refused, and why, against what actually happened. It runs
offline, in this process (one RiskControl, and per lane the lane's own order
entry and order lifecycle, as the gateway holds them): never on a live lane,
and not in the piscina pool.

The effective config is --config FILE (or the embedded defaults) with the
--limits FILE merged over it, e.g.
  { "risk": { "limits": { "accounts": { "ACC1": { "maxOpenOrders": 3 } } } } }
and it is validated exactly as the gateway validates its config.

The day runs from each lane's exchange logon reply for it to a logon reply
for another day. Reference data comes from the logon reply and instrument
updates; the session message throttle and every risk check are replayed;
fills and done reports move the state of orders that went out under the
proposed limits. Cancels count toward the throttles, but the exchange's
answers drive state. An order the proposed limits refuse would never have
reached the exchange, so its later fills are not applied (each such order
lists them). Orders the lane refused at the time are counted by stage;
those refused by a risk check that the proposed limits would pass are
listed as would-pass. Prices are in integer price units, as on the wire.
Each account that traded ends with its positions, working orders and daily
counters as the replay leaves them (with the limits of the day: as the
gateway had them).

  --limits FILE   proposed limits: a config fragment merged over the config (required)
  --config FILE   the gateway's config file (default: the embedded defaults)
  --day YYYYMMDD  trading day to replay (default: the latest in the journal)
  --lane NAME     only this lane's stream: ${LANE_NAMES.join(', ')}
  --json          print the whole result as one JSON object
  -h, --help      show this help

Exit codes: 0 the day was replayed (with or without would-rejects), 1 no
such day or no orders on it, or the journal is damaged (run verify), 2 the
command line, the config or the limits file is wrong.
`

export interface ReplayOptions {
  /** Trading day, YYYYMMDD; the latest in the journal if absent. */
  day?: string
  /** Only this lane's stream; every lane stream if absent. */
  lane?: LaneName
}

/** A decision as reported: the lane's at the time, or the replay's. */
export interface DecisionSummary {
  passed: boolean
  /** Pipeline stage that refused (decisionStageName); 'none' when passed. */
  stage: string
  /** RejectReason name; '' when passed. */
  reason: string
  reasonCode: number
  /** null when the scope had no limit. */
  limit: number | null
  observed: number
}

/** One order whose outcome differs between the original run and the replay. */
export interface OrderDifference {
  /** ISO time of the order's CLIENT_IN record. */
  time: string
  timeUs: number
  lane: string
  sessionId: number
  account: string
  clientOrderId: number
  /** The link order ID it went out with; 0 if it never went out. */
  linkOrderId: number
  instrument: string
  side: string
  lots: number
  /** Integer price units, as on the wire. */
  price: number
  /** The price in currency units, per the instrument's price decimals. */
  priceText: string
  timeInForce: string
  reduceOnly: boolean
  original: DecisionSummary
  replay: DecisionSummary
  /** would-reject only: the original order's fills, left out of the replay. */
  suppressedFills?: { fills: number, lots: number }
}

export interface ReplayResult {
  day: string
  /** Every trading day the journal's lane streams hold, ascending. */
  daysInJournal: string[]
  /** Lanes that had a logon reply for the day. */
  lanes: string[]
  /** New orders of logged-on sessions decided on the day (passed or refused at the time). */
  ordersReplayed: number
  originallyPassed: number
  originallyRejected: number
  originallyRejectedByStage: Record<string, number>
  wouldReject: OrderDifference[]
  wouldPass: OrderDifference[]
  /** would-reject count per RejectReason name. */
  byReason: Record<string, number>
  /** Cancels of orders working in the replay, and how many its throttles would have refused. */
  cancels: { checked: number, wouldThrottle: number }
  /** Fills of would-reject orders that the replay left out. */
  suppressedFills: { orders: number, fills: number, lots: number }
  /** Accounts traded on the day that the config does not list: checked with the wider scopes' limits. */
  unconfiguredAccounts: string[]
  /** Accounts that could not be registered (risk.capacity.accounts): their orders are not replayed. */
  skippedAccounts: Array<{ account: string, orders: number, why: string }>
  /**
   * Each account that traded in the replay, as the replay's shared risk
   * state ends the day: positions, working orders and daily counters, in
   * the shape of the ops port's /accounts/<id>/counters.
   */
  accountsAtEnd: AccountCounters[]
  notes: string[]
}

const NEW_ORDER = CLIENT_BODY_FIELDS.newOrder!
const CANCEL_ORDER = CLIENT_BODY_FIELDS.cancelOrder!
const CLIENT_LOGOUT = CLIENT_BODY_FIELDS.logout!
const AUTHENTICATE = CLIENT_BODY_FIELDS.authenticate!
const CLIENT_LOGON_REPLY = CLIENT_BODY_FIELDS.logonReply!
const CLIENT_REJECT = CLIENT_BODY_FIELDS.reject!
const LINK_LOGON_REPLY = LINK_BODY_FIELDS.logonReply!
const LINK_NEW_ORDER = LINK_BODY_FIELDS.newOrder!
const LINK_CANCEL = LINK_BODY_FIELDS.cancel!
const LINK_REPORT = LINK_BODY_FIELDS.report!
const LINK_INSTRUMENT_UPDATE = LINK_BODY_FIELDS.instrumentUpdate!
/**
 * Refusals that come from a switch or a state an operator sets live (kill
 * switches, halted and reducing accounts), not from limits: the journal's
 * supervisor stream holds those changes, the replay does not apply them, so
 * such an order is never listed as would-pass.
 */
const NOT_LIMIT_REASONS: ReadonlySet<number> = new Set([RejectReason.KILL_SWITCH, RejectReason.ACCOUNT_HALTED, RejectReason.ACCOUNT_REDUCING])

const SIDE_NAMES = Side as unknown as Record<number, string>
const TIF_NAMES = TimeInForce as unknown as Record<number, string>

// ---- config ------------------------------------------------------------------

function readJsonObject (path: string): Record<string, unknown> {
  let text: string
  try {
    text = readBoundedFile(path, MAX_JSON_FILE_BYTES, 'limits file').toString('utf8')
  } catch (cause) {
    throw new ConfigError([`cannot read the limits file: ${(cause as Error).message}`], { cause })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (cause) {
    throw new ConfigError([`${path}: not valid JSON (${(cause as Error).message})`], { cause })
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new ConfigError([`${path}: must hold a JSON object (a config fragment)`])
  return json as Record<string, unknown>
}

/**
 * The config the replay checks against: the gateway's config (or the
 * embedded defaults) with the proposed limits file merged over it, validated
 * as a whole. Throws ConfigError naming each bad field.
 */
export function resolveReplayConfig (limitsPath: string, configPath?: string): GatewayConfig {
  const base: unknown = configPath === undefined ? structuredClone(DEFAULT_CONFIG) : loadConfigFile(configPath)
  return validateConfig(mergeConfig(base, readJsonObject(limitsPath)))
}

// ---- days ------------------------------------------------------------------------

function laneStreams (lane: LaneName | undefined): readonly string[] {
  return lane === undefined ? LANE_NAMES : [lane]
}

function decodeLink (record: ReadRecord): LinkEnvelope | null {
  try {
    return decodeLinkEnvelope(record.payload)
  } catch {
    return null
  }
}

/** The trading days the lanes' exchange logon replies name, ascending. */
export function journalTradingDays (dir: string, options: { lane?: LaneName } = {}): string[] {
  const days = new Set<string>()
  for (const record of readJournal(dir, { streams: laneStreams(options.lane) })) {
    if (record.kind !== RecordKind.LINK_IN || record.msgType !== LINK_LOGON_REPLY) continue
    const reply = decodeLink(record)?.logonReply
    const day = reply?.tradingDay
    if (reply?.ok === true && typeof day === 'string' && DAY_PATTERN.test(day)) days.add(day)
  }
  return [...days].sort()
}

// ---- the replay --------------------------------------------------------------------

/**
 * The exchange link as the journal recorded it. A new order goes out with
 * the seq of its LINK_OUT record when the journal holds one right after
 * its decision, and is refused by the link otherwise, as the lane's link
 * refused it at the time. Cancels never go out here: the journaled LINK_OUT
 * cancels are fed to the lifecycle as they come (cancelSent), whoever sent
 * them at the time (a client, cancel-on-disconnect, self-match prevention,
 * a resend at link-up).
 */
class RecordedLink implements ExchangeLinkPort {
  /**
   * Up but for a cancel the lane answered EXCHANGE_UNAVAILABLE. Orders the
   * link refused at the time (stage link) are not replayed: every other
   * one met the link up.
   */
  isUp = true
  /** The link order ID and seq of the LINK_OUT newOrder after the decision being replayed; 0 when none. */
  sentOrderId = 0
  sentSeq = 0

  send (envelope: LinkEnvelopeInit): number {
    const order = envelope.newOrder
    return order != null && wireInt(order.orderId) === this.sentOrderId ? this.sentSeq : 0
  }
}

/** The decision order entry made, read where the lane would have journaled it. */
class DecisionCapture implements DecisionRecorder {
  passed = false
  stage = 0
  reason = 0
  limit = 0
  observed = 0

  decision (_heads: SessionJournalHeads, passed: boolean, stage: number, reason: number, _riskSlot: number,
    _clientOrderId: number, _linkOrderId: number, limit: number, observed: number): void {
    this.passed = passed
    this.stage = stage
    this.reason = reason
    this.limit = limit
    this.observed = observed
  }

  summary (): DecisionSummary {
    return summary(this.passed, this.stage, this.reason, this.limit, this.observed)
  }
}

/** One lane of the replay: the live lane's order entry and order lifecycle over the replay's shared risk state. */
interface LaneReplay {
  name: LaneName
  engine: RiskEngine
  lifecycle: OrderLifecycle
  entry: OrderEntry
  link: RecordedLink
  decisions: DecisionCapture
  /** The lane's link is in the replayed day: its records count. */
  inDay: boolean
  /** Orders that went out originally but the replay refused: their reports are left out. */
  suppressed: Map<number, { difference: OrderDifference, linkSeq: number }>
  /** A new order read, its decision not yet: the lane writes them one after the other. */
  pending: PendingOrder | null
  /**
   * An order passed at the time, replayed once the lane's next record
   * (past any self-match cancels) shows whether it went out.
   */
  held: HeldOrder | null
  /** A client's cancel of a working order, replayed once the lane's next record shows whether the link was up. */
  heldCancel: HeldCancel | null
  /** The last exchange report seq applied: the link drops resends at or below it. */
  lastReportSeq: number
}

interface SessionReplay {
  key: string
  lane: LaneName
  account: string
  /** The session as the lane holds it: risk context, throttle, open orders, last client order ID. */
  client: ClientSession
  /** false: the account could not be registered; its messages are skipped. */
  registered: boolean
}

interface PendingOrder {
  record: ReadRecord
  session: SessionReplay
  order: NewOrder
  /** The replayed session throttle's answer; limit/observed when it refused. */
  admitted: boolean
  throttleLimit: number
  throttleObserved: number
}

interface HeldCancel {
  record: ReadRecord
  session: SessionReplay
  cancel: CancelOrder
}

interface HeldOrder {
  pending: PendingOrder
  /** The lane's decision at the time (it passed). */
  original: DecisionSummary
  linkOrderId: number
}

/** "1 order", "2 orders": the notes and tables are read by people. */
function count (n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`
}

function finite (value: number): number | null {
  return value === Infinity ? null : value
}

function summary (passed: boolean, stage: number, reason: number, limit: number, observed: number): DecisionSummary {
  return {
    passed,
    stage: passed ? 'none' : decisionStageName(stage),
    reason: passed ? '' : reasonName(reason),
    reasonCode: passed ? 0 : reason,
    limit: passed ? null : finite(limit),
    observed: passed ? 0 : observed,
  }
}

function priceText (price: number, instrument: Instrument | undefined): string {
  if (instrument === undefined || instrument.priceDecimals === 0) return String(price)
  return (price / 10 ** instrument.priceDecimals).toFixed(instrument.priceDecimals)
}

/**
 * One account's slice of the shared risk state, copied so that a trial
 * check (would an order refused at the time pass now?) can be undone
 * completely: the refused order never went out, so nothing it reserved or
 * counted may stay. Buffers are allocated once and reused.
 */
class AccountSnapshot {
  private readonly control = new Int32Array(ACCOUNT_CTL_STRIDE)
  private readonly accountState = new Float64Array(ACCOUNT_FIELDS)
  private readonly rateRing: Float64Array
  private readonly positions: Float64Array
  private readonly orders: Float64Array
  private readonly orderSlots: Int32Array

  constructor (private readonly views: RiskViews) {
    const { capacity } = views
    this.rateRing = new Float64Array(capacity.rateRingSize)
    this.positions = new Float64Array(capacity.instrumentsPerAccount * POSITION_FIELDS)
    this.orders = new Float64Array(capacity.openOrdersPerAccount * ORDER_FIELDS)
    this.orderSlots = new Int32Array(capacity.openOrdersPerAccount)
  }

  take (account: number): void {
    this.copy(account, true)
  }

  restore (account: number): void {
    this.copy(account, false)
  }

  private copy (account: number, take: boolean): void {
    const v = this.views
    const c = v.capacity
    const move = <T extends Int32Array | Float64Array>(shared: T, saved: T, start: number): void => {
      if (take) saved.set(shared.subarray(start, start + saved.length))
      else shared.set(saved, start)
    }
    move(v.control, this.control, v.accountCtl(account))
    move(v.accountState, this.accountState, account * ACCOUNT_FIELDS)
    move(v.rateRing, this.rateRing, account * c.rateRingSize)
    move(v.positions, this.positions, account * c.instrumentsPerAccount * POSITION_FIELDS)
    move(v.orders, this.orders, account * c.openOrdersPerAccount * ORDER_FIELDS)
    move(v.orderSlots, this.orderSlots, account * c.openOrdersPerAccount)
  }
}


/**
 * One day's replay: the shared risk state, and per lane the live lane's
 * OrderEntry and OrderLifecycle fed from the journal instead of sockets.
 * What the lane sent is in the journal, so the replay sends nothing: the
 * link is the recorded one and client messages go nowhere.
 */
class DayReplay {
  private readonly lanes = new Map<string, LaneReplay>()
  /** Logged-on sessions by lane/session ID, in the order they were first seen. */
  private readonly sessions = new Map<string, SessionReplay>()
  /** AppID each session authenticated with, by session key: AppID-scope limits apply to its orders. */
  private readonly sessionApps = new Map<string, string>()
  private readonly configured: Set<string>
  private readonly unconfigured = new Set<string>()
  private readonly skipped = new Map<string, { orders: number, why: string }>()
  /** Registered accounts with a logged-on session in the day: the ones accountsAtEnd lists. */
  private readonly loggedOnAccounts = new Set<string>()
  private readonly snapshot: AccountSnapshot
  private readonly maxThrottleLimit: number
  private readonly lanesInDay = new Set<string>()
  private readonly result: ReplayResult
  private undecidedOrders = 0
  private unmatchedDecisions = 0
  private missingInstrument = 0
  private notLimitRefusals = 0
  private notSent = 0
  private lostWithLink = 0
  private duplicateReports = 0
  private inferredCloses = 0

  constructor (private readonly control: RiskControl, config: GatewayConfig, readonly day: string, daysInJournal: string[]) {
    this.configured = new Set(config.accounts.map((a) => a.id))
    this.snapshot = new AccountSnapshot(control.views)
    this.maxThrottleLimit = config.risk.capacity.rateRingSize
    this.result = {
      day,
      daysInJournal,
      lanes: [],
      ordersReplayed: 0,
      originallyPassed: 0,
      originallyRejected: 0,
      originallyRejectedByStage: {},
      wouldReject: [],
      wouldPass: [],
      byReason: {},
      cancels: { checked: 0, wouldThrottle: 0 },
      suppressedFills: { orders: 0, fills: 0, lots: 0 },
      unconfiguredAccounts: [],
      skippedAccounts: [],
      accountsAtEnd: [],
      notes: [],
    }
  }

  private laneOf (record: ReadRecord): LaneReplay | null {
    const name = (LANE_NAMES as readonly string[]).includes(record.stream) ? record.stream as LaneName : laneName(record.lane) as LaneName
    if (!(LANE_NAMES as readonly string[]).includes(name)) return null
    let lane = this.lanes.get(name)
    if (lane === undefined) {
      const engine = new RiskEngine(this.control.buffers, LANE_NAMES.indexOf(name))
      const metrics = new LaneMetrics(createLaneMetricsBuffer())
      const link = new RecordedLink()
      const decisions = new DecisionCapture()
      const lifecycle = new OrderLifecycle(engine, newRiskVerdict(MAX_SELF_MATCH_CANCELS), metrics, SILENT_CLIENTS, SILENT_LINK)
      lane = {
        name,
        engine,
        lifecycle,
        entry: new OrderEntry(lifecycle, engine, metrics, SILENT_CLIENTS, link, decisions),
        link,
        decisions,
        inDay: false,
        suppressed: new Map(),
        pending: null,
        held: null,
        heldCancel: null,
        lastReportSeq: 0,
      }
      this.lanes.set(name, lane)
    }
    return lane
  }

  /** Feeds one record, in journal order. */
  apply (record: ReadRecord): void {
    const lane = this.laneOf(record)
    if (lane === null) return
    if (isMetaKind(record.kind)) {
      if (endsRun(record)) this.endRun(lane)
      return
    }
    if (lane.heldCancel !== null) this.resolveCancel(lane, record)
    if (lane.held !== null && !(record.kind === RecordKind.LINK_OUT && record.msgType === LINK_CANCEL) && this.resolveHeld(lane, record)) return
    if (record.kind === RecordKind.LINK_IN && record.msgType === LINK_LOGON_REPLY) {
      this.onLinkUp(lane, record)
      return
    }
    // The AppID is given before logon, possibly before the link is up.
    if (record.kind === RecordKind.CLIENT_IN && record.msgType === AUTHENTICATE) this.onAuthenticate(lane, record)
    if (!lane.inDay) return
    switch (record.kind) {
      case RecordKind.CLIENT_IN: this.onClientIn(lane, record); break
      case RecordKind.CLIENT_OUT: this.onClientOut(lane, record); break
      case RecordKind.CHECK_DECISION: this.onDecision(lane, record); break
      case RecordKind.LINK_IN: this.onLinkIn(lane, record); break
      case RecordKind.LINK_OUT: this.onLinkOut(lane, record); break
      case RecordKind.POSITIONS_CARRIED: this.onPositionsCarried(lane, record); break
    }
  }

  /** Positions held before the day (the lane that rolled into it journaled them): the day's closes close them. */
  private onPositionsCarried (lane: LaneReplay, record: ReadRecord): void {
    const doc = decodePositionsCarried(record.payload)
    if (doc === null) return
    for (const entry of doc.positions) {
      const account = this.accountIndex(entry.account)
      const instrument = lane.engine.instrumentIndex(entry.instrument, entry.exchange)
      if (account !== null && instrument >= 0) lane.engine.restoreCarriedPosition(account, instrument, entry.longYesterdayLots, entry.shortYesterdayLots)
    }
  }

  private onLinkUp (lane: LaneReplay, record: ReadRecord): void {
    const reply = decodeLink(record)?.logonReply
    if (reply == null || reply.ok !== true) return
    lane.inDay = reply.tradingDay === this.day
    if (!lane.inDay) return
    this.lanesInDay.add(lane.name)
    const nextExpectedSeq = wireInt(reply.nextExpectedSeq)
    const working = lane.lifecycle.orders.size
    lane.lifecycle.linkUp({
      tradingDay: this.day,
      environment: reply.environment ?? '',
      instruments: reply.instruments as Instrument[],
      nextExpectedSeq,
    })
    this.lostWithLink += working - lane.lifecycle.orders.size
    for (const [orderId, refused] of [...lane.suppressed]) {
      if (refused.linkSeq >= nextExpectedSeq) lane.suppressed.delete(orderId)
    }
  }

  private onAuthenticate (lane: LaneReplay, record: ReadRecord): void {
    // A new connection: after a restart session IDs start again, so one
    // already seen now names a different session, and the old one is gone.
    const key = `${lane.name}/${record.sessionId}`
    const old = this.sessions.get(key)
    if (old !== undefined) this.closeSession(lane, old)
    try {
      const appId = decodeClientEnvelope(record.payload).authenticate?.appId
      if (typeof appId === 'string' && appId !== '') this.sessionApps.set(key, appId)
    } catch {
      // Undecodable: the lane refused it too, so no AppID came of it.
    }
  }

  /** The session of a logged-on client record; null before logon (the lane throttles and checks nothing then). */
  private sessionOf (lane: LaneReplay, record: ReadRecord): SessionReplay | null {
    if (record.account === '') return null
    const key = `${lane.name}/${record.sessionId}`
    let session = this.sessions.get(key)
    if (session !== undefined) return session
    const account = this.accountIndex(record.account)
    const appId = this.sessionApps.get(key)
    const client = new ClientSession(record.sessionId, '', 0, this.maxThrottleLimit)
    client.account = record.account
    client.stage = 'logged-on'
    client.risk.lane = lane.engine.lane
    client.risk.app = appId === undefined ? -1 : (this.control.appIndex(appId) ?? -1)
    client.risk.account = account ?? -1
    if (account !== null) this.loggedOnAccounts.add(record.account)
    session = { key, lane: lane.name, account: record.account, client, registered: account !== null }
    this.sessions.set(key, session)
    return session
  }

  /** The account's index, registering one the config does not list; null if there is no room. */
  private accountIndex (account: string): number | null {
    const known = this.control.accountIndex(account)
    if (known !== undefined) return known
    try {
      const index = this.control.registerAccount(account)
      if (!this.configured.has(account)) this.unconfigured.add(account)
      return index
    } catch (err) {
      if (!this.skipped.has(account)) this.skipped.set(account, { orders: 0, why: (err as Error).message })
      return null
    }
  }

  /**
   * The session is gone: its orders wait for the account's next session.
   * Cancel-on-disconnect is not asked of the lifecycle here: the cancels
   * the lane sent for it are in the journal and come as LINK_OUT records.
   */
  private closeSession (lane: LaneReplay, session: SessionReplay): void {
    this.sessions.delete(session.key)
    if (session.registered) lane.lifecycle.sessionClosed(session.client, false)
  }

  private nowMs (record: ReadRecord): number {
    return Math.floor(record.timeUs / 1000)
  }

  private onClientIn (lane: LaneReplay, record: ReadRecord): void {
    // Frames before logon are journaled as digests past the pre-logon
    // allowance; the lane throttles and checks nothing before logon.
    if ((record.flags & FLAG_DIGEST) !== 0) return
    const session = this.sessionOf(lane, record)
    if (session === null) return
    if (record.msgType === CLIENT_LOGOUT) {
      // The lane ends the session on its logout; a logout never reaches the throttle.
      this.closeSession(lane, session)
      return
    }
    if (record.msgType === NEW_ORDER && lane.pending !== null) {
      this.undecidedOrders++
      lane.pending = null
    }
    // Every other frame of a logged-on session counts, undecodable ones
    // included; refused ones do not.
    const nowMs = this.nowMs(record)
    let limit = -1
    if (session.registered) {
      lane.engine.input[IN_NOW_MS] = nowMs
      limit = chargeSessionThrottle(session.client, lane.engine)
    }
    const admitted = limit < 0
    if (record.msgType === NEW_ORDER) {
      let order: NewOrder
      try {
        const envelope = decodeClientEnvelope(record.payload)
        // Refused with INVALID_FIELD right after decode: counted by the throttle, never an order.
        if (validateClientEnvelope(envelope) !== null) return
        order = envelope.newOrder as NewOrder
      } catch {
        return
      }
      lane.pending = {
        record,
        session,
        order,
        admitted,
        throttleLimit: limit,
        throttleObserved: admitted ? 0 : session.client.throttle.countInWindow(nowMs, THROTTLE_WINDOW_MS) + 1,
      }
    } else if (record.msgType === CANCEL_ORDER && session.registered) {
      this.onCancel(lane, session, record, admitted)
    }
  }

  private onCancel (lane: LaneReplay, session: SessionReplay, record: ReadRecord, admitted: boolean): void {
    let cancel: CancelOrder
    try {
      const envelope = decodeClientEnvelope(record.payload)
      if (validateClientEnvelope(envelope) !== null) return
      cancel = envelope.cancelOrder as CancelOrder
    } catch {
      return
    }
    // Not working in the replay (refused, or already done): the lane
    // answers UNKNOWN_ORDER without counting anything.
    if (!session.client.openOrders.has(wireInt(cancel.clientOrderId))) return
    this.result.cancels.checked++
    if (!admitted) {
      this.result.cancels.wouldThrottle++
      return
    }
    lane.heldCancel = { record, session, cancel }
  }

  /**
   * Replays a client's cancel once the lane's next record shows whether
   * the link was up for it: the lane answers a cancel it cannot send with
   * EXCHANGE_UNAVAILABLE at once, and the link going down is not journaled.
   */
  private resolveCancel (lane: LaneReplay, next: ReadRecord | null): void {
    const { record, session, cancel } = lane.heldCancel!
    lane.heldCancel = null
    let linkDown = false
    if (next !== null && next.kind === RecordKind.CLIENT_OUT && next.msgType === CLIENT_REJECT && next.sessionId === record.sessionId) {
      try {
        linkDown = decodeClientEnvelope(next.payload).reject?.reason === RejectReason.EXCHANGE_UNAVAILABLE
      } catch {
        // Undecodable: no evidence the link was down.
      }
    }
    // The checks run at the client frame's time, which its record carries.
    lane.entry.orderClockMs[FRAME_TIME_US] = record.timeUs
    lane.link.isUp = !linkDown
    const passed = lane.entry.cancel(session.client, cancel, 0)
    lane.link.isUp = true
    if (!passed && !linkDown) this.result.cancels.wouldThrottle++
  }

  /**
   * The lane's answer to a logon: the session took over the account's
   * orders then, after the sessions that answer shows had closed without
   * a logout (a dropped connection leaves no other record).
   */
  private onClientOut (lane: LaneReplay, record: ReadRecord): void {
    if (record.msgType !== CLIENT_LOGON_REPLY) return
    let resumedOrders: number
    try {
      const reply = decodeClientEnvelope(record.payload).logonReply
      if (reply?.ok !== true) return
      resumedOrders = reply.resumedOrders ?? 0
    } catch {
      return
    }
    const session = this.sessionOf(lane, record)
    if (session === null || !session.registered) return
    for (const owner of ownersClosedBeforeLogon(lane.lifecycle.orders.values(), session.client, session.account, resumedOrders)) {
      const closed = this.sessions.get(`${lane.name}/${owner.id}`)
      if (closed === undefined) continue
      this.inferredCloses++
      this.closeSession(lane, closed)
    }
    lane.lifecycle.sessionLoggedOn(session.client)
  }

  /**
   * The gateway stopped or died here: a passed order whose LINK_OUT is not
   * journaled by then was never sent, and the run's sessions closed with it.
   */
  private endRun (lane: LaneReplay): void {
    if (lane.held !== null) this.resolveHeld(lane, null)
    if (lane.heldCancel !== null) this.resolveCancel(lane, null)
    if (lane.pending !== null) {
      this.undecidedOrders++
      lane.pending = null
    }
    for (const session of [...this.sessions.values()]) if (session.lane === lane.name) this.closeSession(lane, session)
  }

  private onDecision (lane: LaneReplay, record: ReadRecord): void {
    const decision = decodeDecision(record.payload)
    const pending = lane.pending
    lane.pending = null
    if (decision === null || pending === null || pending.record.sessionId !== record.sessionId ||
      wireInt(pending.order.clientOrderId) !== decision.clientOrderId) {
      this.unmatchedDecisions++
      return
    }
    const { session, order } = pending
    if (!session.registered) {
      this.skipped.get(session.account)!.orders++
      return
    }
    const r = this.result
    r.ordersReplayed++
    const original = summary(decision.passed, decision.stage, decision.reason, decision.limit, decision.observed)
    if (decision.passed) {
      r.originallyPassed++
      lane.held = { pending, original, linkOrderId: decision.linkOrderId }
      return
    }
    r.originallyRejected++
    const stage = decisionStageName(decision.stage)
    r.originallyRejectedByStage[stage] = (r.originallyRejectedByStage[stage] ?? 0) + 1
    // Only the risk engine's refusals are replayed: the stages before it
    // (client order ID, validity, link) do not depend on limits, and the
    // engine never saw what they refused.
    if (decision.stage !== DecisionStage.RISK || !pending.admitted) return
    if (NOT_LIMIT_REASONS.has(decision.reason)) {
      this.notLimitRefusals++
      return
    }
    const traded = lane.lifecycle.instruments.get(order.instrument)
    if (traded === undefined) {
      this.missingInstrument++
      return
    }
    // Refused at the time, so it never went out: a pass now is undone
    // completely, since what followed in the journal happened without it.
    // The position slot first, outside the snapshot: the engine caches it,
    // so restoring it to free would leave the cache pointing at nothing.
    const account = session.client.risk.account
    lane.engine.positionSlot(account, traded.risk.index)
    this.snapshot.take(account)
    const nextLinkOrderId = lane.entry.nextLinkOrderId
    const replay = this.enter(lane, pending, 0, 0)
    lane.entry.nextLinkOrderId = nextLinkOrderId
    if (!replay.passed) return
    this.snapshot.restore(account)
    r.wouldPass.push(this.difference(lane, pending, original, replay.summary(), 0))
  }

  /** Runs order entry on a new order as the lane did, the link sending it with `linkSeq` (0: not sent). */
  private enter (lane: LaneReplay, pending: PendingOrder, linkOrderId: number, linkSeq: number): DecisionCapture {
    lane.entry.orderClockMs[FRAME_TIME_US] = pending.record.timeUs
    lane.link.sentOrderId = linkOrderId
    lane.link.sentSeq = linkSeq
    lane.entry.newOrder(pending.session.client, pending.order)
    lane.link.sentOrderId = 0
    lane.link.sentSeq = 0
    return lane.decisions
  }

  /**
   * Replays an order passed at the time, given the lane's record after its
   * decision and self-match cancels: its LINK_OUT newOrder if it went out.
   * Anything else means the link refused it (down between the check and
   * the send) and the lane released it at once. True when the record was
   * that LINK_OUT newOrder (nothing more to do with it).
   */
  private resolveHeld (lane: LaneReplay, record: ReadRecord | null): boolean {
    const { pending, original, linkOrderId } = lane.held!
    lane.held = null
    let linkSeq = 0
    if (record !== null && record.kind === RecordKind.LINK_OUT && record.msgType === LINK_NEW_ORDER) {
      const envelope = decodeLink(record)
      if (wireInt(envelope?.newOrder?.orderId) === linkOrderId) linkSeq = wireInt(envelope!.seq)
    }
    const r = this.result
    if (linkSeq === 0) {
      this.notSent++
      r.originallyPassed--
      r.originallyRejected++
      r.originallyRejectedByStage.link = (r.originallyRejectedByStage.link ?? 0) + 1
    }
    if (!pending.admitted) {
      // The replayed session throttle refuses it: the checks never see it.
      const refused = summary(false, DecisionStage.THROTTLE, RejectReason.THROTTLED_SESSION, pending.throttleLimit, pending.throttleObserved)
      if (linkSeq !== 0) this.wouldReject(lane, this.difference(lane, pending, original, refused, linkOrderId), linkSeq)
      return linkSeq !== 0
    }
    if (!lane.lifecycle.instruments.has(pending.order.instrument)) {
      this.missingInstrument++
      return linkSeq !== 0
    }
    // The same link order ID as at the time: self-match prevention names resting orders by it.
    lane.entry.nextLinkOrderId = linkOrderId - 1
    const replay = this.enter(lane, pending, linkOrderId, linkSeq)
    // Refused now but not sent then either: not a difference.
    if (!replay.passed && linkSeq !== 0) this.wouldReject(lane, this.difference(lane, pending, original, replay.summary(), linkOrderId), linkSeq)
    return linkSeq !== 0
  }

  private difference (lane: LaneReplay, pending: PendingOrder, original: DecisionSummary, replay: DecisionSummary, linkOrderId: number): OrderDifference {
    const { order, session } = pending
    return {
      time: new Date(pending.record.timeUs / 1000).toISOString(),
      timeUs: pending.record.timeUs,
      lane: lane.name,
      sessionId: session.client.id,
      account: session.account,
      clientOrderId: wireInt(order.clientOrderId),
      linkOrderId,
      instrument: order.instrument,
      side: SIDE_NAMES[order.side] ?? String(order.side),
      lots: order.quantityLots,
      price: wireInt(order.price),
      priceText: priceText(wireInt(order.price), lane.lifecycle.instruments.get(order.instrument)?.instrument),
      timeInForce: TIF_NAMES[order.timeInForce] ?? String(order.timeInForce),
      reduceOnly: order.reduceOnly,
      original,
      replay,
    }
  }

  /** An order that went out at the time and that the replay refuses: its reports are left out from now on. */
  private wouldReject (lane: LaneReplay, difference: OrderDifference, linkSeq: number): void {
    difference.suppressedFills = { fills: 0, lots: 0 }
    this.result.wouldReject.push(difference)
    const reason = difference.replay.reason
    this.result.byReason[reason] = (this.result.byReason[reason] ?? 0) + 1
    lane.suppressed.set(difference.linkOrderId, { difference, linkSeq })
  }

  private onLinkOut (lane: LaneReplay, record: ReadRecord): void {
    if (record.msgType !== LINK_CANCEL) return
    const envelope = decodeLink(record)
    const orderId = wireInt(envelope?.cancel?.orderId)
    if (orderId !== 0) lane.lifecycle.cancelSent(orderId, wireInt(envelope!.seq))
  }

  private onLinkIn (lane: LaneReplay, record: ReadRecord): void {
    if (record.msgType === LINK_INSTRUMENT_UPDATE) {
      const instrument = decodeLink(record)?.instrumentUpdate?.instrument
      if (instrument != null) lane.lifecycle.instrumentUpdate(instrument as Instrument)
      return
    }
    if (record.msgType !== LINK_REPORT) return
    const envelope = decodeLink(record)
    const report = envelope?.report as LinkExecutionReport | null | undefined
    if (report == null) return
    const lastReportSeq = advanceReportSeq(lane.lastReportSeq, wireInt(envelope!.seq))
    if (lastReportSeq < 0) {
      this.duplicateReports++
      return
    }
    lane.lastReportSeq = lastReportSeq
    const orderId = wireInt(report.orderId)
    if (lane.lifecycle.orders.has(orderId)) {
      lane.lifecycle.report(report)
      return
    }
    const refused = lane.suppressed.get(orderId)?.difference
    if (refused === undefined || report.cancelRejected) return
    const execType = report.execType
    if ((execType === ExecType.PARTIAL_FILL || execType === ExecType.FILL) && report.lastLots > 0) {
      refused.suppressedFills!.fills++
      refused.suppressedFills!.lots += report.lastLots
      this.result.suppressedFills.fills++
      this.result.suppressedFills.lots += report.lastLots
    }
    if (execType === ExecType.FILL || execType === ExecType.CANCELLED || execType === ExecType.REJECTED) lane.suppressed.delete(orderId)
  }

  /** The result, with the notes that say what the numbers leave out. */
  finishDay (): ReplayResult {
    // A passed decision that ends a stream: its LINK_OUT never came.
    for (const lane of this.lanes.values()) {
      if (lane.held !== null) this.resolveHeld(lane, null)
      if (lane.heldCancel !== null) this.resolveCancel(lane, null)
    }
    const r = this.result
    r.lanes = LANE_NAMES.filter((name) => this.lanesInDay.has(name))
    r.wouldReject.sort((a, b) => a.timeUs - b.timeUs)
    r.wouldPass.sort((a, b) => a.timeUs - b.timeUs)
    r.suppressedFills.orders = r.wouldReject.filter((d) => d.suppressedFills!.fills > 0).length
    r.unconfiguredAccounts = [...this.unconfigured].sort()
    r.skippedAccounts = [...this.skipped].map(([account, s]) => ({ account, ...s }))
    r.accountsAtEnd = [...this.loggedOnAccounts].sort().map((account) => this.control.counters(account))
    const notes = r.notes
    if (r.wouldReject.length > 0) {
      notes.push('a would-reject order never reaches the exchange: its later fills and done reports are not applied ' +
        `(${count(r.suppressedFills.fills, 'fill')}, ${count(r.suppressedFills.lots, 'lot')} in all), and its cancels are unknown orders (they count for the session throttle only)`)
    }
    if (r.unconfiguredAccounts.length > 0) {
      notes.push(`accounts not in the config, checked with the lane, exchange and global limits only: ${r.unconfiguredAccounts.join(', ')}`)
    }
    // "what: how many", so the wording holds for one as for many.
    const counted: Array<[number, string, string]> = [
      [this.notLimitRefusals, 'order', 'refused at the time by a kill switch or the account\'s trading state (live changes, not limits), not replayed'],
      [this.missingInstrument, 'order', 'naming an instrument missing from the lane\'s reference data in the journal, not replayed'],
      [this.unmatchedDecisions, 'check decision', 'not right after its order\'s CLIENT_IN record, skipped'],
      [this.undecidedOrders, 'new order', 'with no check decision after it, skipped'],
      [this.notSent, 'order', 'passed by the checks at the time but not sent (the link was down), counted as refused at the link stage'],
      [this.lostWithLink, 'order', 'lost with the exchange link before the exchange had it, released as the lane did'],
      [this.duplicateReports, 'exchange report', 'resent after a reconnect, dropped as the link drops it'],
      [this.inferredCloses, 'session', 'closed without a logout, as the orders the account\'s next logon took over show'],
    ]
    for (const [n, noun, what] of counted) if (n > 0) notes.push(`${what}: ${count(n, noun)}`)
    notes.push('working orders and daily counters start empty at the day\'s first logon reply, positions at what the day\'s positions-carried records say (orders left from an earlier day are not known); live limit, kill-switch and trading-state changes of the day are not applied')
    return r
  }
}

/**
 * Replays one trading day of the journal under `dir` with `config`'s risk
 * section. Throws JournalError INVALID_OPTION when the journal has no such
 * day (or no day at all), and CORRUPT when a segment is damaged.
 */
export function replayJournal (dir: string, config: GatewayConfig, options: ReplayOptions = {}): ReplayResult {
  const days = journalTradingDays(dir, { lane: options.lane })
  const where = options.lane === undefined ? 'the journal' : `the ${options.lane} stream`
  if (days.length === 0) {
    throw new JournalError(journalErrorCodes.INVALID_OPTION, `${where} under ${dir} has no exchange logon reply, so no trading day to replay`)
  }
  const day = options.day ?? days[days.length - 1]!
  if (!days.includes(day)) {
    throw new JournalError(journalErrorCodes.INVALID_OPTION, `trading day ${day} is not in ${where}; it holds ${days.join(', ')}`)
  }
  const replay = new DayReplay(createRiskControl(config), config, day, days)
  for (const record of readJournal(dir, { streams: laneStreams(options.lane), includeMeta: true })) replay.apply(record)
  return replay.finishDay()
}

// ---- output ------------------------------------------------------------------------

function table (header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: string[]): string => cells.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}

function decisionText (d: DecisionSummary): string {
  if (d.passed) return 'passed'
  return `${d.reason} limit ${d.limit ?? 'none'} observed ${d.observed}`
}

function differenceRows (list: OrderDifference[], showSuppressed: boolean): string[][] {
  return list.map((d) => [
    d.time.slice(11, 23),
    d.lane,
    String(d.sessionId),
    d.account,
    String(d.clientOrderId),
    d.instrument,
    d.side,
    `${d.lots}@${d.priceText}`,
    d.original.passed ? 'passed' : `${d.original.stage}: ${decisionText(d.original)}`,
    decisionText(d.replay) + (showSuppressed && d.suppressedFills!.lots > 0 ? ` (${count(d.suppressedFills!.lots, 'lot')} filled, left out)` : ''),
  ])
}

const HEADER = ['time (UTC)', 'lane', 'session', 'account', 'order', 'instrument', 'side', 'lots@price', 'original', 'replay']

/** The result as tables and a summary, for people. */
export function formatReplayResult (r: ReplayResult): string {
  const out: string[] = []
  out.push(`trading day ${r.day} (lanes: ${r.lanes.join(', ') || 'none'}; days in the journal: ${r.daysInJournal.join(', ')})`)
  out.push('')
  if (r.wouldReject.length > 0) {
    out.push(`would reject: ${count(r.wouldReject.length, 'order')} that passed at the time`)
    out.push(table(HEADER, differenceRows(r.wouldReject, true)))
  } else {
    out.push('would reject: none')
  }
  out.push('')
  if (r.wouldPass.length > 0) {
    out.push(`would pass: ${count(r.wouldPass.length, 'order')} a risk check refused at the time`)
    out.push(table(HEADER, differenceRows(r.wouldPass, false)))
  } else {
    out.push('would pass: none')
  }
  out.push('')
  const stages = Object.entries(r.originallyRejectedByStage).map(([stage, n]) => `${stage} ${n}`).join(', ')
  const reasons = Object.entries(r.byReason).sort((a, b) => b[1] - a[1]).map(([reason, n]) => `${reason} ${n}`).join(', ')
  out.push('summary')
  out.push(`  orders replayed   ${r.ordersReplayed} (${r.originallyPassed} passed at the time, ${r.originallyRejected} refused${stages === '' ? '' : `: ${stages}`})`)
  out.push(`  would reject      ${r.wouldReject.length}${reasons === '' ? '' : ` (${reasons})`}`)
  out.push(`  would pass        ${r.wouldPass.length}`)
  out.push(`  cancels checked   ${r.cancels.checked} (${r.cancels.wouldThrottle} over the proposed throttles)`)
  for (const s of r.skippedAccounts) out.push(`  skipped account   ${s.account}: ${count(s.orders, 'order')} (${s.why})`)
  if (r.accountsAtEnd.length > 0) {
    out.push('at the end of the day (replayed)')
    for (const a of r.accountsAtEnd) {
      out.push(`  ${a.account}: ${count(a.openOrders, 'working order')} (${count(a.openLots, 'lot')}), ${count(a.actionsToday, 'action')}, ${count(a.tradedLotsToday, 'lot')} traded`)
      for (const i of a.instruments) {
        out.push(`    ${i.instrument}: long ${i.longTodayLots} today / ${i.longYesterdayLots} yesterday, short ${i.shortTodayLots} today / ${i.shortYesterdayLots} yesterday, ` +
          `working ${i.workingBuyLots} buy / ${i.workingSellLots} sell, ${i.tradedLotsToday} traded, ${count(i.cancelsToday, 'cancel')}`)
      }
    }
  }
  if (r.notes.length > 0) {
    out.push('notes')
    for (const note of r.notes) out.push(`  - ${note}`)
  }
  return out.join('\n')
}

// ---- command -------------------------------------------------------------------------

function parseReplayArgs (argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      limits: { type: 'string' },
      config: { type: 'string' },
      day: { type: 'string' },
      lane: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}

const COMMAND = 'gatehouse journal replay'

export function runReplayCommand (argv: readonly string[], io: CommandIo = processIo): number {
  const parsed = parseCommandLine(io, COMMAND, REPLAY_HELP, () => parseReplayArgs(argv))
  if (!parsed.ok) return parsed.exitCode
  const { values, positionals } = parsed.value
  if (values.help === true) {
    io.out(REPLAY_HELP)
    return EXIT_OK
  }
  const usage = (problem: string): number => refuseUsage(io, COMMAND, problem, REPLAY_HELP)
  if (positionals.length !== 1) return usage('give exactly one DIR')
  if (values.limits === undefined) return usage('--limits FILE is required: the proposed limits to replay with')
  if (values.day !== undefined && !DAY_PATTERN.test(values.day)) return usage(`--day ${values.day}: must be a trading day as YYYYMMDD`)
  if (values.lane !== undefined && !(LANE_NAMES as readonly string[]).includes(values.lane)) {
    return usage(`--lane ${values.lane}: must be one of ${LANE_NAMES.join(', ')}`)
  }
  const dir = positionals[0]!
  if (!existsSync(dir) || !statSync(dir).isDirectory()) return failCommand(io, COMMAND, `no such directory: ${dir}`, EXIT_USAGE)
  // A directory with no segments at all (the runDir given for its journal,
  // an empty one) used to say only "no exchange logon reply"; say that it
  // is no journal and which directory is. Still exit 1, as for a journal
  // without a trading day (test/journal-replay.test.ts relies on that).
  if (countJournalSegments(dir) === 0) {
    return failCommand(io, COMMAND, `the journal under ${dir} has no exchange logon reply, so no trading day to replay: ${noSegmentsText(dir)}`)
  }

  let config: GatewayConfig
  try {
    config = resolveReplayConfig(values.limits, values.config)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    return failCommand(io, COMMAND, `the config with the proposed limits (${values.limits}) is not valid:\n  - ${err.problems.join('\n  - ')}`, EXIT_USAGE)
  }

  let result: ReplayResult
  try {
    result = replayJournal(dir, config, { day: values.day, lane: values.lane as LaneName | undefined })
  } catch (err) {
    if (!(err instanceof JournalError)) throw err
    return failCommand(io, COMMAND, err.code === journalErrorCodes.CORRUPT ? `${err.message}\nrun \`gatehouse journal verify ${dir}\` for the full report` : err.message)
  }
  io.out((values.json === true ? JSON.stringify(result, null, 2) : formatReplayResult(result)) + '\n')
  if (result.ordersReplayed === 0) {
    return failCommand(io, COMMAND, `trading day ${result.day} has no orders${values.lane === undefined ? '' : ` on the ${values.lane} lane`}`)
  }
  return EXIT_OK
}
