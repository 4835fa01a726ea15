// `gatehouse journal replay DIR --limits FILE`: a what-if for limits. Re-runs
// one past trading day's new orders, in journal order, through the real
// pre-trade check engine with proposed limits, and lists the orders that
// would have been refused (and the refused ones that would have passed),
// against what the lanes actually decided.
//
// Offline, in this process: one RiskControl built from the effective config
// and one RiskEngine per lane over its buffers, as the supervisor and the
// lane threads hold them, but fed from the journal instead of sockets.
// Replay could run in the piscina pool or offline; this is the
// offline form, so it never touches a running gateway.
//
// What drives what, per lane stream (journal/gateway-records.ts):
//
//   LINK_IN logonReply         the lane's trading day; reference data (instrumentRisk)
//   LINK_IN instrumentUpdate   reference data
//   CLIENT_IN, logged on       the session message throttle, replayed
//   CLIENT_IN newOrder    ─┐   one order: checked when its decision is read,
//   CHECK_DECISION        ─┘   which says what the lane decided at the time
//   CLIENT_IN cancelOrder      checkCancel (counts toward the throttles)
//   LINK_OUT newOrder          the order went out: the lane writes it right after
//                              the passed decision (only self-match cancels come
//                              between); without it the order was never sent
//   LINK_IN report             fills and done of orders working in the replay, each
//                              seq once (resends after a reconnect are journaled too)
//   LINK_IN logonReply again   orders the exchange never got are lost (lane onLinkUp)
//
// Exit codes: 0 the day was replayed (with or without differences), 1 no
// such day or no orders on it, or a damaged journal, 2 the command line,
// config or limits file is wrong.
import { existsSync, statSync } from 'node:fs'
import { MAX_JSON_FILE_BYTES, readBoundedFile } from '../../journal/read-bounded-file.js'
import { parseArgs } from 'node:util'
import { Limit } from '../../checks/limits.js'
import type { AccountCounters, RiskControl } from '../../checks/risk-control.js'
import {
  IN_LINK_ORDER_ID, IN_NOW_MS, IN_PRICE, RiskEngine, newRiskVerdict,
  type InstrumentRisk, type RiskContext, type RiskVerdict,
} from '../../checks/risk-engine.js'
import {
  ACCOUNT_CTL_STRIDE, ACCOUNT_FIELDS, ORDER_FIELDS, POSITION_FIELDS, type RiskViews,
} from '../../checks/risk-layout.js'
import { SessionThrottle } from '../../checks/sliding-window.js'
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
  type Instrument, type LinkEnvelope, type LinkExecutionReport, type NewOrder,
} from '../../protocol/messages.js'
import { JournalError, journalErrorCodes } from '../../journal/errors.js'
import {
  CLIENT_BODY_FIELDS, DecisionStage, FLAG_DIGEST, LINK_BODY_FIELDS, decisionStageName, decodeDecision,
} from '../../journal/gateway-records.js'
import { readJournal, type ReadRecord } from '../../journal/reader.js'
import { countJournalSegments, noSegmentsText } from './search-command.js'
import { DAY_PATTERN, RecordKind, laneName } from '../../journal/record-format.js'

export const REPLAY_HELP = `usage: gatehouse journal replay DIR --limits FILE [--config FILE] [--day YYYYMMDD] [--lane NAME] [--json]

Re-runs one trading day's new orders from the journal under DIR through the
real pre-trade check engine with proposed limits, and lists the orders that
would have been refused, and why, against what actually happened. It runs
offline, in this process (one RiskControl and one RiskEngine per lane, as
the gateway holds them): never on a live lane, and not in the piscina pool.

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

/** Where the command's output goes; tests pass their own to capture it. */
export interface ReplayIo {
  out: (text: string) => void
  err: (text: string) => void
}

const PROCESS_IO: ReplayIo = {
  out: (text) => { process.stdout.write(text + '\n') },
  err: (text) => { process.stderr.write(text + '\n') },
}

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
const LINK_LOGON_REPLY = LINK_BODY_FIELDS.logonReply!
const LINK_NEW_ORDER = LINK_BODY_FIELDS.newOrder!
const LINK_CANCEL = LINK_BODY_FIELDS.cancel!
const LINK_REPORT = LINK_BODY_FIELDS.report!
const LINK_INSTRUMENT_UPDATE = LINK_BODY_FIELDS.instrumentUpdate!
/** The lane's session throttle window (lane.ts THROTTLE_WINDOW_MS). */
const SESSION_THROTTLE_WINDOW_MS = 1000
/** Self-match cancel-resting lists at most this many resting orders (lane.ts MAX_SELF_MATCH_CANCELS). */
const MAX_SELF_MATCH_CANCELS = 64
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

interface TradedInstrument {
  instrument: Instrument
  risk: InstrumentRisk
}

interface LaneReplay {
  name: LaneName
  engine: RiskEngine
  /** The lane's link is in the replayed day: its records count. */
  inDay: boolean
  instruments: Map<string, TradedInstrument>
  /** Orders working in the replay, by link order ID (unique per lane link). */
  working: Map<number, WorkingOrder>
  /** Orders that went out originally but the replay refused: their reports are left out. */
  suppressed: Map<number, { difference: OrderDifference, linkSeq: number }>
  /** A new order read, its decision not yet: the lane writes them one after the other. */
  pending: PendingOrder | null
  /** An order passed at the time whose LINK_OUT newOrder must be the lane's next record but for self-match cancels. */
  awaiting: AwaitingSend | null
  /** The last exchange report seq applied: the link drops resends at or below it. */
  lastReportSeq: number
}

interface AwaitingSend {
  linkOrderId: number
  /** The order working in the replay, or its would-reject entry. */
  working: WorkingOrder | null
  refused: OrderDifference | null
}

interface SessionReplay {
  key: string
  /** Logged out, or a new connection reused its ID (the gateway restarted): its orders may be taken over. */
  closed: boolean
  sessionId: number
  account: string
  /** null: the account could not be registered; its messages are skipped. */
  ctx: RiskContext | null
  throttle: SessionThrottle
  /** Orders working in the replay, by client order ID. */
  orders: Map<number, WorkingOrder>
}

interface WorkingOrder {
  /** The session that may cancel it: the one that sent it, or one that took it over. */
  session: SessionReplay
  ctx: RiskContext
  account: string
  linkOrderId: number
  clientOrderId: number
  slot: number
  instrument: InstrumentRisk
  /** Seq of its LINK_OUT newOrder, and the exchange's ID once a report names it (lost-order rule). */
  linkSeq: number
  exchangeOrderId: number
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

/** One day's replay: the shared state, the lanes' engines and the sessions seen. */
class DayReplay {
  private readonly lanes = new Map<string, LaneReplay>()
  private readonly sessions = new Map<string, SessionReplay>()
  /** AppID each session authenticated with, by session key: AppID-scope limits apply to its orders. */
  private readonly sessionApps = new Map<string, string>()
  private readonly configured: Set<string>
  private readonly unconfigured = new Set<string>()
  private readonly skipped = new Map<string, { orders: number, why: string }>()
  /** Registered accounts with a logged-on session in the day: the ones accountsAtEnd lists. */
  private readonly loggedOnAccounts = new Set<string>()
  private readonly verdict: RiskVerdict = newRiskVerdict(MAX_SELF_MATCH_CANCELS)
  private readonly snapshot: AccountSnapshot
  private readonly maxThrottleLimit: number
  private readonly lanesInDay = new Set<string>()
  private readonly dayNumber: number
  private readonly result: ReplayResult
  private undecidedOrders = 0
  private unmatchedDecisions = 0
  private missingInstrument = 0
  private notLimitRefusals = 0
  private notSent = 0
  private lostWithLink = 0
  private duplicateReports = 0

  constructor (private readonly control: RiskControl, config: GatewayConfig, readonly day: string, daysInJournal: string[]) {
    this.configured = new Set(config.accounts.map((a) => a.id))
    this.snapshot = new AccountSnapshot(control.views)
    this.maxThrottleLimit = config.risk.capacity.rateRingSize
    this.dayNumber = Number(day)
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
      lane = {
        name,
        engine: new RiskEngine(this.control.buffers, LANE_NAMES.indexOf(name)),
        inDay: false,
        instruments: new Map(),
        working: new Map(),
        suppressed: new Map(),
        pending: null,
        awaiting: null,
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
    if (lane.awaiting !== null && !(record.kind === RecordKind.LINK_OUT && record.msgType === LINK_CANCEL)) this.resolveSend(lane, record)
    if (record.kind === RecordKind.LINK_IN && record.msgType === LINK_LOGON_REPLY) {
      this.onLinkUp(lane, record)
      return
    }
    // The AppID is given before logon, possibly before the link is up.
    if (record.kind === RecordKind.CLIENT_IN && record.msgType === AUTHENTICATE) this.onAuthenticate(lane, record)
    if (!lane.inDay) return
    switch (record.kind) {
      case RecordKind.CLIENT_IN: this.onClientIn(lane, record); break
      case RecordKind.CHECK_DECISION: this.onDecision(lane, record); break
      case RecordKind.LINK_IN: this.onLinkIn(lane, record); break
    }
  }

  private onLinkUp (lane: LaneReplay, record: ReadRecord): void {
    const reply = decodeLink(record)?.logonReply
    if (reply == null || reply.ok !== true) return
    lane.inDay = reply.tradingDay === this.day
    if (!lane.inDay) return
    this.lanesInDay.add(lane.name)
    // As lane.ts onLinkUp: daily counters start again (the first lane to see
    // the day clears them), and the reference data is the exchange's anew.
    lane.engine.rollTradingDay(this.dayNumber)
    lane.instruments.clear()
    for (const instrument of reply.instruments as Instrument[]) this.onInstrument(lane, instrument)
    // Orders sent at or after the exchange's next expected seq were lost
    // with the old connection: the lane finishes them without a report.
    const nextExpectedSeq = wireInt(reply.nextExpectedSeq)
    for (const order of [...lane.working.values()]) {
      if (order.exchangeOrderId === 0 && order.linkSeq >= nextExpectedSeq) {
        this.lostWithLink++
        this.finish(lane, order, false)
      }
    }
    for (const [orderId, refused] of [...lane.suppressed]) {
      if (refused.linkSeq >= nextExpectedSeq) lane.suppressed.delete(orderId)
    }
  }

  private onInstrument (lane: LaneReplay, instrument: Instrument): void {
    const risk = lane.engine.instrumentRisk(instrument)
    if (risk !== null) lane.instruments.set(instrument.symbol, { instrument, risk })
  }

  private onAuthenticate (lane: LaneReplay, record: ReadRecord): void {
    // A new connection: after a restart session IDs start again, so one
    // already seen now names a different session.
    const key = `${lane.name}/${record.sessionId}`
    const old = this.sessions.get(key)
    if (old !== undefined) {
      old.closed = true
      this.sessions.delete(key)
    }
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
    if (account !== null) this.loggedOnAccounts.add(record.account)
    const appId = this.sessionApps.get(key)
    const app = appId === undefined ? -1 : (this.control.appIndex(appId) ?? -1)
    session = {
      key,
      closed: false,
      sessionId: record.sessionId,
      account: record.account,
      ctx: account === null ? null : { lane: lane.engine.lane, app, account },
      throttle: new SessionThrottle(64, this.maxThrottleLimit),
      orders: new Map(),
    }
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

  private nowMs (record: ReadRecord): number {
    return Math.floor(record.timeUs / 1000)
  }

  private onClientIn (lane: LaneReplay, record: ReadRecord): void {
    // Logouts never reach the throttle, nor frames before logon (journaled
    // as digests past the pre-logon allowance); every other frame of a
    // logged-on session counts, undecodable ones included.
    if ((record.flags & FLAG_DIGEST) !== 0) return
    const session = this.sessionOf(lane, record)
    if (session === null) return
    if (record.msgType === CLIENT_LOGOUT) {
      // The lane ends the session on its logout: its orders wait for the
      // account's next session, which takes them over.
      session.closed = true
      return
    }
    if (record.msgType === NEW_ORDER && lane.pending !== null) {
      this.undecidedOrders++
      lane.pending = null
    }
    const nowMs = this.nowMs(record)
    let admitted = true
    let limit = Infinity
    if (session.ctx !== null) {
      // As lane.ts onMessage: every message of a logged-on session counts,
      // refused ones do not.
      limit = lane.engine.limitsFor(session.ctx, -1, -1)[Limit.sessionMessagesPerSecond]!
      admitted = session.throttle.admit(nowMs, limit, SESSION_THROTTLE_WINDOW_MS)
    }
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
        throttleObserved: admitted ? 0 : session.throttle.countInWindow(nowMs, SESSION_THROTTLE_WINDOW_MS) + 1,
      }
    } else if (record.msgType === CANCEL_ORDER && session.ctx !== null) {
      this.onCancel(lane, session, record, admitted)
    }
  }

  private onCancel (lane: LaneReplay, session: SessionReplay, record: ReadRecord, admitted: boolean): void {
    let clientOrderId: number
    try {
      clientOrderId = wireInt(decodeClientEnvelope(record.payload).cancelOrder?.clientOrderId)
    } catch {
      return
    }
    // Not working in the replay (refused, or already done): the lane would
    // have answered UNKNOWN_ORDER without counting anything.
    const order = session.orders.get(clientOrderId) ?? this.takeOver(lane, session, clientOrderId)
    if (order === undefined) return
    this.result.cancels.checked++
    if (!admitted) {
      this.result.cancels.wouldThrottle++
      return
    }
    lane.engine.input[IN_NOW_MS] = this.nowMs(record)
    if (!lane.engine.checkCancelInput(session.ctx!, order.slot, order.instrument, this.verdict)) this.result.cancels.wouldThrottle++
  }

  /**
   * An order of the account whose session is gone (the gateway restarted):
   * the account's next session on the lane takes it over (lane.ts
   * claimOrders), so its cancels refer to it.
   */
  private takeOver (lane: LaneReplay, session: SessionReplay, clientOrderId: number): WorkingOrder | undefined {
    for (const order of lane.working.values()) {
      if (order.clientOrderId !== clientOrderId || order.account !== session.account || !order.session.closed) continue
      order.session.orders.delete(clientOrderId)
      order.session = session
      session.orders.set(clientOrderId, order)
      return order
    }
    return undefined
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
    const ctx = session.ctx
    if (ctx === null) {
      this.skipped.get(session.account)!.orders++
      return
    }
    const r = this.result
    r.ordersReplayed++
    const traded = lane.instruments.get(order.instrument)
    const original = summary(decision.passed, decision.stage, decision.reason, decision.limit, decision.observed)
    const difference = (replay: DecisionSummary, linkOrderId: number): OrderDifference => ({
      time: new Date(pending.record.timeUs / 1000).toISOString(),
      timeUs: pending.record.timeUs,
      lane: lane.name,
      sessionId: session.sessionId,
      account: session.account,
      clientOrderId: decision.clientOrderId,
      linkOrderId,
      instrument: order.instrument,
      side: SIDE_NAMES[order.side] ?? String(order.side),
      lots: order.quantityLots,
      price: wireInt(order.price),
      priceText: priceText(wireInt(order.price), traded?.instrument),
      timeInForce: TIF_NAMES[order.timeInForce] ?? String(order.timeInForce),
      reduceOnly: order.reduceOnly,
      original,
      replay,
    })

    if (!decision.passed) {
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
      if (traded === undefined) {
        this.missingInstrument++
        return
      }
      const slot = this.trialCheck(lane, ctx, pending, traded.risk)
      if (slot >= 0) r.wouldPass.push(difference(summary(true, 0, 0, 0, 0), 0))
      return
    }

    r.originallyPassed++
    const linkOrderId = decision.linkOrderId
    if (!pending.admitted) {
      const refused = difference(summary(false, DecisionStage.THROTTLE, RejectReason.THROTTLED_SESSION, pending.throttleLimit, pending.throttleObserved), linkOrderId)
      this.wouldReject(refused)
      lane.awaiting = { linkOrderId, working: null, refused }
      return
    }
    if (traded === undefined) {
      this.missingInstrument++
      return
    }
    const slot = this.check(lane, ctx, pending, traded.risk, linkOrderId)
    if (slot < 0) {
      const v = this.verdict
      const refused = difference(summary(false, DecisionStage.RISK, v.reason, v.limit, v.observed), linkOrderId)
      this.wouldReject(refused)
      lane.awaiting = { linkOrderId, working: null, refused }
      return
    }
    const working: WorkingOrder = {
      session, ctx, account: session.account, linkOrderId, clientOrderId: decision.clientOrderId, slot, instrument: traded.risk, linkSeq: 0, exchangeOrderId: 0,
    }
    lane.working.set(linkOrderId, working)
    session.orders.set(working.clientOrderId, working)
    lane.awaiting = { linkOrderId, working, refused: null }
  }

  /**
   * The record after a passed decision (and any self-match cancels): the
   * order's LINK_OUT newOrder if it went out. Anything else means the link
   * refused it (down between the check and the send) and the lane released
   * it at once: it was refused at the link stage, not sent.
   */
  private resolveSend (lane: LaneReplay, record: ReadRecord | null): void {
    const awaiting = lane.awaiting!
    lane.awaiting = null
    if (record !== null && record.kind === RecordKind.LINK_OUT && record.msgType === LINK_NEW_ORDER) {
      const envelope = decodeLink(record)
      if (wireInt(envelope?.newOrder?.orderId) === awaiting.linkOrderId) {
        const linkSeq = wireInt(envelope!.seq)
        if (awaiting.working !== null) awaiting.working.linkSeq = linkSeq
        else lane.suppressed.set(awaiting.linkOrderId, { difference: awaiting.refused!, linkSeq })
        return
      }
    }
    this.notSent++
    const r = this.result
    r.originallyPassed--
    r.originallyRejected++
    r.originallyRejectedByStage.link = (r.originallyRejectedByStage.link ?? 0) + 1
    if (awaiting.working !== null) {
      this.finish(lane, awaiting.working, false)
      return
    }
    // Not a difference after all: it never reached the exchange either.
    const reason = awaiting.refused!.replay.reason
    r.wouldReject.splice(r.wouldReject.indexOf(awaiting.refused!), 1)
    if (--r.byReason[reason]! === 0) delete r.byReason[reason]
  }

  private check (lane: LaneReplay, ctx: RiskContext, pending: PendingOrder, instrument: InstrumentRisk, linkOrderId: number): number {
    const { engine } = lane
    const { order } = pending
    engine.input[IN_PRICE] = wireInt(order.price)
    engine.input[IN_LINK_ORDER_ID] = linkOrderId
    engine.input[IN_NOW_MS] = this.nowMs(pending.record)
    return engine.checkNewOrderInput(ctx, instrument, order.side, order.quantityLots, order.timeInForce, order.reduceOnly, this.verdict)
  }

  /**
   * Checks an order the lane refused at the time. A refusal stands as it
   * is (the engine ran then too, with the same side effects, e.g. a
   * prevented self-trade counted); a pass is undone, because the order
   * never went out and what followed in the journal happened without it.
   */
  private trialCheck (lane: LaneReplay, ctx: RiskContext, pending: PendingOrder, instrument: InstrumentRisk): number {
    // The position slot first, outside the snapshot: the engine caches it,
    // so restoring it to free would leave the cache pointing at nothing.
    lane.engine.positionSlot(ctx.account, instrument.index)
    this.snapshot.take(ctx.account)
    const slot = this.check(lane, ctx, pending, instrument, 0)
    if (slot >= 0) this.snapshot.restore(ctx.account)
    return slot
  }

  private wouldReject (difference: OrderDifference): void {
    difference.suppressedFills = { fills: 0, lots: 0 }
    this.result.wouldReject.push(difference)
    const reason = difference.replay.reason
    this.result.byReason[reason] = (this.result.byReason[reason] ?? 0) + 1
  }

  private onLinkIn (lane: LaneReplay, record: ReadRecord): void {
    if (record.msgType === LINK_INSTRUMENT_UPDATE) {
      const instrument = decodeLink(record)?.instrumentUpdate?.instrument
      if (instrument != null) this.onInstrument(lane, instrument as Instrument)
      return
    }
    if (record.msgType !== LINK_REPORT) return
    const envelope = decodeLink(record)
    const report = envelope?.report as LinkExecutionReport | null | undefined
    if (report == null) return
    // As the link does: a resend of a report already processed is dropped.
    const seq = wireInt(envelope!.seq)
    if (seq !== 0 && seq <= lane.lastReportSeq) {
      this.duplicateReports++
      return
    }
    if (seq !== 0) lane.lastReportSeq = seq
    if (report.cancelRejected) return
    const orderId = wireInt(report.orderId)
    const execType = report.execType
    const isFill = execType === ExecType.PARTIAL_FILL || execType === ExecType.FILL
    const isDone = execType === ExecType.FILL || execType === ExecType.CANCELLED || execType === ExecType.REJECTED
    const order = lane.working.get(orderId)
    if (order === undefined) {
      const refused = lane.suppressed.get(orderId)?.difference
      if (refused === undefined) return
      if (isFill && report.lastLots > 0) {
        refused.suppressedFills!.fills++
        refused.suppressedFills!.lots += report.lastLots
        this.result.suppressedFills.fills++
        this.result.suppressedFills.lots += report.lastLots
      }
      if (isDone) lane.suppressed.delete(orderId)
      return
    }
    // As lane.ts onReport: fills move the position and release their
    // reservation; the done report frees the slot (a cancel counts for the monitors).
    if (wireInt(report.exchangeOrderId) !== 0) order.exchangeOrderId = wireInt(report.exchangeOrderId)
    if (isFill && report.lastLots > 0) lane.engine.onFill(order.ctx.account, order.slot, report.lastLots)
    if (isDone) this.finish(lane, order, execType === ExecType.CANCELLED)
  }

  private finish (lane: LaneReplay, order: WorkingOrder, cancelled: boolean): void {
    lane.working.delete(order.linkOrderId)
    order.session.orders.delete(order.clientOrderId)
    lane.engine.onOrderDone(order.ctx, order.slot, order.instrument, cancelled, this.verdict)
  }

  /** The result, with the notes that say what the numbers leave out. */
  finishDay (): ReplayResult {
    // A passed decision that ends a stream: its LINK_OUT never came.
    for (const lane of this.lanes.values()) if (lane.awaiting !== null) this.resolveSend(lane, null)
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
    ]
    for (const [n, noun, what] of counted) if (n > 0) notes.push(`${what}: ${count(n, noun)}`)
    notes.push('positions, working orders and daily counters start empty at the day\'s first logon reply (orders left from an earlier day are not known); live limit, kill-switch and trading-state changes of the day are not applied')
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
  for (const record of readJournal(dir, { streams: laneStreams(options.lane) })) replay.apply(record)
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

export function runReplayCommand (argv: readonly string[], io: ReplayIo = PROCESS_IO): number {
  let parsed: ReturnType<typeof parseReplayArgs>
  try {
    parsed = parseReplayArgs(argv)
  } catch (err) {
    // Unknown options and missing option values (node:util parseArgs).
    io.err(`${(err as Error).message}\n\n${REPLAY_HELP}`)
    return 2
  }
  const { values, positionals } = parsed
  if (values.help === true) {
    io.out(REPLAY_HELP)
    return 0
  }
  const usage = (problem: string): number => {
    io.err(`${problem}\n\n${REPLAY_HELP}`)
    return 2
  }
  if (positionals.length !== 1) return usage('give exactly one DIR')
  if (values.limits === undefined) return usage('--limits FILE is required: the proposed limits to replay with')
  if (values.day !== undefined && !DAY_PATTERN.test(values.day)) return usage(`--day ${values.day}: must be a trading day as YYYYMMDD`)
  if (values.lane !== undefined && !(LANE_NAMES as readonly string[]).includes(values.lane)) {
    return usage(`--lane ${values.lane}: must be one of ${LANE_NAMES.join(', ')}`)
  }
  const dir = positionals[0]!
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    io.err(`no such directory: ${dir}`)
    return 2
  }
  // A directory with no segments at all (the runDir given for its journal,
  // an empty one) used to say only "no exchange logon reply"; say that it
  // is no journal and which directory is. Still exit 1, as for a journal
  // without a trading day (test/journal-replay.test.ts relies on that).
  if (countJournalSegments(dir) === 0) {
    io.err(`the journal under ${dir} has no exchange logon reply, so no trading day to replay: ${noSegmentsText(dir)}`)
    return 1
  }

  let config: GatewayConfig
  try {
    config = resolveReplayConfig(values.limits, values.config)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    io.err(`the config with the proposed limits (${values.limits}) is not valid:\n  - ${err.problems.join('\n  - ')}`)
    return 2
  }

  let result: ReplayResult
  try {
    result = replayJournal(dir, config, { day: values.day, lane: values.lane as LaneName | undefined })
  } catch (err) {
    if (!(err instanceof JournalError)) throw err
    io.err(err.code === journalErrorCodes.CORRUPT ? `${err.message}\nrun \`gatehouse journal verify ${dir}\` for the full report` : err.message)
    return 1
  }
  io.out(values.json === true ? JSON.stringify(result, null, 2) : formatReplayResult(result))
  if (result.ordersReplayed === 0) {
    io.err(`trading day ${result.day} has no orders${values.lane === undefined ? '' : ` on the ${values.lane} lane`}`)
    return 1
  }
  return 0
}
