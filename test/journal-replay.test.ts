// `gatehouse journal replay`: a known trading day, written with real
// JournalStreams and real encoded messages in the order a lane writes them,
// whose original decisions come from a real RiskEngine under the original
// config (as a lane's would). Replayed with the same limits it must agree
// with every one of them; with tightened limits it must name exactly the
// orders past the new limit, with the engine's reason, limit and observed
// value. Times are the journal's own, so nothing here sleeps.
import t, { type Test } from 'tap'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { AccountCounters, RiskControl } from '../checks/risk-control.js'
import { RiskEngine, newRiskVerdict, type InstrumentRisk, type RiskContext } from '../checks/risk-engine.js'
import { type GatewayConfig } from '../config/config.js'
import { resolveConfig } from '../config/load.js'
import { type LaneName } from '../protocol/lanes.js'
import { DEFAULT_CONFIG } from '../config/defaults.js'
import { DEMO_APP_ID } from '../protocol/demo-identity.js'
import { createRiskControl } from '../config/risk-config.js'
import { DEFAULT_INSTRUMENTS } from '../exchange-sim/instruments.js'
import { encodeClientEnvelope } from '../protocol/client-codec.js'
import { encodeLinkFrame } from '../protocol/link-codec.js'
import { ExecType, RejectReason, Side, TimeInForce, v1, type ClientEnvelopeInit, type LinkEnvelopeInit } from '../protocol/messages.js'
import { CLIENT_BODY_FIELDS, DecisionStage, LINK_BODY_FIELDS, newDecisionScratch, writeDecision } from '../journal/gateway-records.js'
import { Direction, LANE_CODES, RecordKind, newRecordHead } from '../journal/record-format.js'
import { JournalStream } from '../journal/segment-writer.js'
import { REPLAY_HELP, runReplayCommand, type OrderDifference, type ReplayResult } from '../tools/journal/replay-command.js'

const DAY_1 = '20260102'
const DAY_2 = '20260105'
/** 01:30 UTC on each trading day, in µs. */
const DAY_1_US = Date.UTC(2026, 0, 2, 1, 30) * 1000
const DAY_2_US = Date.UTC(2026, 0, 5, 1, 30) * 1000
const MS = 1000
/** Session IDs as lane.ts numbers them: (lane index + 1) × 10^9 + n. */
const PLATFORM_SESSION = 2_000_000_001
const HFT_SESSION = 3_000_000_001

const demo = DEFAULT_CONFIG.accounts[0]!
/**
 * The gateway's config at the time. Small tables; rateRingSize stays 1024
 * because the default hft throttle is 1000. ACC2 has an order-size limit
 * of its own, which refuses one of its orders.
 */
const BASE_CONFIG = {
  accounts: [{ ...demo, id: 'ACC1' }, { ...demo, id: 'ACC2' }],
  risk: {
    capacity: { accounts: 8, accountInstrumentLimitRows: 16, appIds: 4, instruments: 16, instrumentsPerAccount: 8, openOrdersPerAccount: 256, rateRingSize: 1024 },
    limits: { accounts: { ACC2: { maxOrderLots: 20 } } },
  },
}

// ---- writing a day as a lane does -------------------------------------------------

interface Session {
  lane: LaneName
  id: number
  account: string
  ctx: RiskContext
}

interface Placed {
  session: Session
  /** Seq of its LINK_OUT newOrder; 0 if it was not sent. */
  linkSeq: number
  clientOrderId: number
  passed: boolean
  linkOrderId: number
  slot: number
  instrument: InstrumentRisk
  lots: number
  price: number
  filledLots: number
}

interface LaneWriter {
  stream: JournalStream
  engine: RiskEngine
  nextLinkOrderId: number
  /** Link seqs each way: gateway → exchange (orders, cancels) and exchange → gateway (reports). */
  outSeq: number
  inSeq: number
  /** The last report's envelope, for a resend. */
  lastReport: LinkEnvelopeInit | null
  instruments: Map<string, InstrumentRisk>
}

/**
 * One gateway run's lanes: writes each lane's stream record by record as
 * the lane does, and decides each order with a real RiskEngine over a
 * RiskControl built from the config, so the CHECK_DECISIONs are ones the
 * engine really made.
 */
class GatewayRun {
  nowUs: number
  private readonly control: RiskControl
  private readonly lanes = new Map<LaneName, LaneWriter>()
  private readonly verdict = newRiskVerdict(64)
  private readonly decision = newDecisionScratch()

  constructor (private readonly root: string, config: GatewayConfig, startUs: number) {
    this.control = createRiskControl(config)
    this.nowUs = startUs
  }

  private lane (name: LaneName): LaneWriter {
    let lane = this.lanes.get(name)
    if (lane === undefined) {
      lane = {
        stream: JournalStream.open({ stream: name, root: this.root, fsync: 'never', clockUs: () => this.nowUs }),
        engine: new RiskEngine(this.control.buffers, ['terminal', 'platform', 'hft'].indexOf(name)),
        nextLinkOrderId: 1000,
        outSeq: 0,
        inSeq: 0,
        lastReport: null,
        instruments: new Map(),
      }
      this.lanes.set(name, lane)
    }
    return lane
  }

  /** Appends one record; each record is 10 µs after the one before, as on a busy lane. */
  private append (lane: LaneName, kind: number, sessionId: number, account: string, msgType: number, payload: Uint8Array): void {
    const direction = kind === RecordKind.CLIENT_IN || kind === RecordKind.LINK_IN ? Direction.IN : kind === RecordKind.CHECK_DECISION ? Direction.NONE : Direction.OUT
    this.lane(lane).stream.append(newRecordHead({ kind, lane: LANE_CODES[lane], direction, sessionId, account, msgType }), payload, this.nowUs)
    this.nowUs += 10
  }

  private clientIn (session: Session, body: ClientEnvelopeInit, field: string, account = session.account): void {
    this.append(session.lane, RecordKind.CLIENT_IN, session.id, account, CLIENT_BODY_FIELDS[field]!, encodeClientEnvelope(body))
  }

  private linkIn (lane: LaneName, body: LinkEnvelopeInit, field: string): void {
    this.append(lane, RecordKind.LINK_IN, 0, '', LINK_BODY_FIELDS[field]!, encodeLinkFrame(body).subarray(4))
  }

  private linkOut (session: Session, body: LinkEnvelopeInit, field: string): number {
    body.seq = ++this.lane(session.lane).outSeq
    this.append(session.lane, RecordKind.LINK_OUT, session.id, session.account, LINK_BODY_FIELDS[field]!, encodeLinkFrame(body).subarray(4))
    return body.seq
  }

  at (ms: number, startUs: number): this {
    this.nowUs = Math.max(this.nowUs, startUs + ms * MS)
    return this
  }

  /** The exchange's logon reply: the trading day and every listed instrument. */
  linkUp (name: LaneName, tradingDay: string, nextExpectedSeq = this.lane(name).outSeq + 1): void {
    const lane = this.lane(name)
    this.linkIn(name, { logonReply: { ok: true, nextExpectedSeq, tradingDay, environment: 'test', instruments: [...DEFAULT_INSTRUMENTS] } }, 'logonReply')
    lane.engine.rollTradingDay(Number(tradingDay))
    for (const init of DEFAULT_INSTRUMENTS) lane.instruments.set(init.symbol!, lane.engine.instrumentRisk(v1.Instrument.create(init))!)
    lane.stream.commit()
  }

  /** Authenticate and logon, journaled before the session is logged on (no account in the head yet). */
  logOn (lane: LaneName, id: number, account: string): Session {
    const index = this.control.accountIndex(account) ?? this.control.registerAccount(account)
    const session: Session = { lane, id, account, ctx: { lane: ['terminal', 'platform', 'hft'].indexOf(lane), app: this.control.appIndex(DEMO_APP_ID)!, account: index } }
    this.clientIn(session, { authenticate: { appId: DEMO_APP_ID, account, proof: Buffer.alloc(32) } }, 'authenticate', '')
    this.clientIn(session, { logon: { account, password: '' } }, 'logon', '')
    this.lane(lane).stream.commit()
    return session
  }

  /**
   * CLIENT_IN newOrder, the engine's decision, and the LINK_OUT newOrder if
   * it passed. With the link down the link sends (and journals) nothing:
   * the lane releases the order and rejects it to its client.
   */
  order (session: Session, clientOrderId: number, side: number, lots: number, price: number, symbol = 'rb2605', linkDown = false): Placed {
    const lane = this.lane(session.lane)
    const nowMs = Math.floor(this.nowUs / 1000)
    const order = { clientOrderId, instrument: symbol, side, price, quantityLots: lots, timeInForce: TimeInForce.GFD }
    this.clientIn(session, { seq: clientOrderId, newOrder: order }, 'newOrder')
    const instrument = lane.instruments.get(symbol)!
    const linkOrderId = lane.nextLinkOrderId + 1
    const slot = lane.engine.checkNewOrder(session.ctx, instrument, side, price, lots, TimeInForce.GFD, false, linkOrderId, nowMs, this.verdict)
    const passed = slot >= 0
    if (passed) lane.nextLinkOrderId = linkOrderId
    const v = this.verdict
    writeDecision(this.decision.bytes, this.decision.f64, passed, DecisionStage.RISK, passed ? 0 : v.reason, slot, clientOrderId, passed ? linkOrderId : 0, passed ? 0 : v.limit, passed ? 0 : v.observed)
    this.append(session.lane, RecordKind.CHECK_DECISION, session.id, session.account, passed ? 0 : v.reason, this.decision.bytes)
    let linkSeq = 0
    if (passed && !linkDown) {
      linkSeq = this.linkOut(session, { newOrder: { orderId: linkOrderId, account: session.account, instrument: symbol, side, price, quantityLots: lots, timeInForce: TimeInForce.GFD } }, 'newOrder')
    } else if (passed) {
      lane.engine.onOrderDone(session.ctx, slot, instrument, false, this.verdict)
      this.rejectedToClient(session, clientOrderId, side, lots, price, symbol)
    }
    lane.stream.commit()
    return { session, linkSeq, clientOrderId, passed, linkOrderId: passed ? linkOrderId : 0, slot, instrument, lots, price, filledLots: 0 }
  }

  private rejectedToClient (session: Session, clientOrderId: number, side: number, lots: number, price: number, symbol: string): void {
    const report = { clientOrderId, execType: ExecType.REJECTED, instrument: symbol, side, price, quantityLots: lots, reason: RejectReason.EXCHANGE_UNAVAILABLE }
    this.append(session.lane, RecordKind.CLIENT_OUT, session.id, session.account, CLIENT_BODY_FIELDS.executionReport!, encodeClientEnvelope({ executionReport: report }))
  }

  private report (placed: Placed, execType: number, lastLots = 0): void {
    const lane = this.lane(placed.session.lane)
    lane.lastReport = {
      seq: ++lane.inSeq,
      report: {
        orderId: placed.linkOrderId,
        execType,
        exchangeOrderId: placed.linkOrderId + 500_000,
        lastPrice: lastLots > 0 ? placed.price : 0,
        lastLots,
        cumulativeLots: placed.filledLots,
        leavesLots: execType === ExecType.CANCELLED || execType === ExecType.FILL ? 0 : placed.lots - placed.filledLots,
        transactTimeUs: this.nowUs,
      },
    }
    this.linkIn(placed.session.lane, lane.lastReport, 'report')
    lane.stream.commit()
  }

  /** The exchange resends the lane's last report after a reconnect: the link journals it, then drops it. */
  resendLastReport (name: LaneName): void {
    const lane = this.lane(name)
    this.linkIn(name, { ...lane.lastReport!, possibleDuplicate: true }, 'report')
    lane.stream.commit()
  }

  /** The exchange's NEW acknowledgement. */
  ack (placed: Placed): Placed {
    this.report(placed, ExecType.ACK)
    return placed
  }

  fill (placed: Placed, lots: number): void {
    placed.filledLots += lots
    const done = placed.filledLots === placed.lots
    this.report(placed, done ? ExecType.FILL : ExecType.PARTIAL_FILL, lots)
    const lane = this.lane(placed.session.lane)
    lane.engine.onFill(placed.session.ctx.account, placed.slot, lots)
    if (done) lane.engine.onOrderDone(placed.session.ctx, placed.slot, placed.instrument, false, this.verdict)
  }

  /** CLIENT_IN cancelOrder, the cancel out, and the exchange's CANCELLED. */
  cancel (placed: Placed): void {
    const { session } = placed
    const lane = this.lane(session.lane)
    this.clientIn(session, { cancelOrder: { clientOrderId: placed.clientOrderId } }, 'cancelOrder')
    if (!lane.engine.checkCancel(session.ctx, placed.slot, placed.instrument, Math.floor(this.nowUs / 1000), this.verdict)) throw new Error('cancel refused')
    this.linkOut(session, { cancel: { orderId: placed.linkOrderId } }, 'cancel')
    lane.stream.commit()
    this.report(placed, ExecType.CANCELLED)
    lane.engine.onOrderDone(session.ctx, placed.slot, placed.instrument, true, this.verdict)
  }

  /**
   * The link failed after the order was sent and before the exchange had
   * it: the exchange's next logon reply expects the order's own seq, and
   * the lane finishes the order itself (lane.ts onLinkUp). Its session is
   * gone by then, so no report goes to a client either.
   */
  loseWithLink (placed: Placed, tradingDay: string): void {
    const { session } = placed
    this.linkUp(session.lane, tradingDay, placed.linkSeq)
    this.lane(session.lane).engine.onOrderDone(session.ctx, placed.slot, placed.instrument, false, this.verdict)
  }

  /** The account's counters in this run's shared risk state, as the ops port shows them. */
  counters (account: string): AccountCounters {
    return this.control.counters(account)
  }

  close (): void {
    for (const lane of this.lanes.values()) lane.stream.close()
  }
}

/**
 * Two trading days, each its own gateway run (state starts empty).
 *
 * 20260102, platform: ACC1 d1 filled; ACC9 (not in the config) e1; ACC1 d2
 * lost with the link (the exchange never had it); ACC1 d3; ACC1 d4 passed
 * the checks while the link was down, so it was never sent; ACC1 d5.
 *
 * 20260105, ACC1 on platform (rb2605), ACC2 on hft (au2606), the terminal
 * lane up but idle; times in ms:
 *   100 c1 BUY 2@3200   150 a1 BUY 1@880.00   250 a1 filled
 *   200 c2 BUY 1@3199   350 a2 BUY 2@880.00   450 a2 1 lot filled, and resent
 *   300 c3 SELL 3@3210  550 a3 BUY 30@880.00: refused, ACC2 maxOrderLots 20
 *   400 c4 BUY 2@3198   650 a2 cancelled (1 lot working)
 *   500 c5 BUY 1@3197   750 a4 BUY 1@879.00
 *   600 c1 filled       850 a5 SELL 1@882.00
 *   700 c6 BUY 1@3196
 *   800 c2 cancelled
 *   900 c7 SELL 1@3211
 */
/** Writes both days; returns the accounts' counters at the end of the second, as the lanes left them. */
function writeJournal (root: string): AccountCounters[] {
  const config = resolveConfig(BASE_CONFIG)
  const day1 = new GatewayRun(root, config, DAY_1_US)
  const at1 = (ms: number): GatewayRun => day1.at(ms, DAY_1_US)
  at1(0).linkUp('platform', DAY_1)
  const p1 = at1(10).logOn('platform', PLATFORM_SESSION, 'ACC1')
  const p9 = at1(20).logOn('platform', PLATFORM_SESSION + 1, 'ACC9')
  const d1 = day1.ack(at1(100).order(p1, 1, Side.BUY, 1, 3200))
  at1(200).fill(d1, 1)
  day1.ack(at1(300).order(p9, 1, Side.BUY, 1, 3200))
  const d2 = at1(400).order(p1, 2, Side.BUY, 1, 3190)
  at1(500).loseWithLink(d2, DAY_1)
  day1.ack(at1(600).order(p1, 3, Side.BUY, 1, 3191))
  at1(700).order(p1, 4, Side.BUY, 1, 3192, 'rb2605', true)
  day1.ack(at1(800).order(p1, 5, Side.BUY, 1, 3193))
  day1.close()

  const day2 = new GatewayRun(root, config, DAY_2_US)
  const at2 = (ms: number): GatewayRun => day2.at(ms, DAY_2_US)
  // Every lane links up; nobody trades on the terminal lane.
  at2(0).linkUp('platform', DAY_2)
  at2(1).linkUp('hft', DAY_2)
  at2(2).linkUp('terminal', DAY_2)
  const acc1 = at2(10).logOn('platform', PLATFORM_SESSION, 'ACC1')
  const acc2 = at2(20).logOn('hft', HFT_SESSION, 'ACC2')
  const c1 = day2.ack(at2(100).order(acc1, 1, Side.BUY, 2, 3200))
  const a1 = day2.ack(at2(150).order(acc2, 1, Side.BUY, 1, 88000, 'au2606'))
  const c2 = day2.ack(at2(200).order(acc1, 2, Side.BUY, 1, 3199))
  at2(250).fill(a1, 1)
  day2.ack(at2(300).order(acc1, 3, Side.SELL, 3, 3210))
  const a2 = day2.ack(at2(350).order(acc2, 2, Side.BUY, 2, 88000, 'au2606'))
  day2.ack(at2(400).order(acc1, 4, Side.BUY, 2, 3198))
  at2(450).fill(a2, 1)
  day2.resendLastReport('hft')
  day2.ack(at2(500).order(acc1, 5, Side.BUY, 1, 3197))
  const a3 = at2(550).order(acc2, 3, Side.BUY, 30, 88000, 'au2606')
  if (a3.passed) throw new Error('a3 should be refused by ACC2 maxOrderLots')
  at2(600).fill(c1, 2)
  at2(650).cancel(a2)
  day2.ack(at2(700).order(acc1, 6, Side.BUY, 1, 3196))
  day2.ack(at2(750).order(acc2, 4, Side.BUY, 1, 87900, 'au2606'))
  at2(800).cancel(c2)
  day2.ack(at2(850).order(acc2, 5, Side.SELL, 1, 88200, 'au2606'))
  day2.ack(at2(900).order(acc1, 7, Side.SELL, 1, 3211))
  day2.close()
  return ['ACC1', 'ACC2'].map((account) => day2.counters(account))
}

// One fixture directory for the file (a second t.testdir() here would
// replace the first): the limits files, and the journal beside them.
const files = t.testdir({
  'config.json': JSON.stringify(BASE_CONFIG),
  'same.json': '{}',
  'acc1-open-3.json': JSON.stringify({ risk: { limits: { accounts: { ACC1: { maxOpenOrders: 3 } } } } }),
  'acc2-long-2.json': JSON.stringify({ risk: { limits: { accounts: { ACC2: { maxLongLots: 2 } } } } }),
  'acc2-long-3.json': JSON.stringify({ risk: { limits: { accounts: { ACC2: { maxLongLots: 3 } } } } }),
  'acc2-loose.json': JSON.stringify({ risk: { limits: { accounts: { ACC2: { maxOrderLots: 50, maxOpenOrders: 2 } } } } }),
  'acc1-session-3.json': JSON.stringify({ risk: { limits: { accounts: { ACC1: { sessionMessagesPerSecond: 3 } } } } }),
  'acc1-open-1.json': JSON.stringify({ risk: { limits: { accounts: { ACC1: { maxOpenOrders: 1 } } } } }),
  'two-accounts.json': JSON.stringify({ risk: { capacity: { accounts: 2 } } }),
  'acc1-open-2.json': JSON.stringify({ risk: { limits: { accounts: { ACC1: { maxOpenOrders: 2 } } } } }),
  'bad-value.json': JSON.stringify({ risk: { limits: { accounts: { ACC1: { maxOpenOrders: -1 } } } } }),
  'bad-name.json': JSON.stringify({ risk: { limits: { accounts: { ACC1: { maxOpenOrder: 3 } } } } }),
  'bad-account.json': JSON.stringify({ risk: { limits: { accounts: { NOPE: { maxOpenOrders: 3 } } } } }),
  'not-json.json': '{ "risk": ',
})
const file = (name: string): string => join(files, name)
const journalRoot = join(files, 'journal')
const countersAtEnd = writeJournal(journalRoot)

interface Run {
  code: number
  out: string
  err: string
}

function run (...argv: string[]): Run {
  const out: string[] = []
  const err: string[] = []
  const code = runReplayCommand(argv, { out: (text) => out.push(text), err: (text) => err.push(text) })
  return { code, out: out.join('\n'), err: err.join('\n') }
}

/** An in-process run with --json, parsed; fails the test if it did not exit 0. */
function replay (t: Test, limits: string, ...more: string[]): ReplayResult {
  const r = run(journalRoot, '--config', file('config.json'), '--limits', file(limits), '--json', ...more)
  t.equal(r.code, 0, `exit 0 (${r.err})`)
  return JSON.parse(r.out) as ReplayResult
}

/** account/clientOrderId: reason limit observed, one comparable line per order. */
function lines (list: OrderDifference[], of: 'replay' | 'original' = 'replay'): string[] {
  return list.map((d) => `${d.account}/${d.clientOrderId}: ${d[of].reason} limit ${d[of].limit} observed ${d[of].observed}`)
}

t.test('the same limits as at the time: the replay agrees with every decision', async (t) => {
  const r = replay(t, 'same.json')
  t.equal(r.day, DAY_2, 'the latest day by default')
  t.same(r.daysInJournal, [DAY_1, DAY_2])
  t.same(r.lanes, ['terminal', 'platform', 'hft'])
  t.equal(r.ordersReplayed, 12)
  t.equal(r.originallyPassed, 11)
  t.equal(r.originallyRejected, 1)
  t.same(r.originallyRejectedByStage, { risk: 1 })
  t.same(r.wouldReject, [], 'no order that passed would be refused')
  t.same(r.wouldPass, [], 'the refused order is refused again (QUANTITY_ABOVE_MAX)')
  t.same(r.byReason, {})
  t.same(r.cancels, { checked: 2, wouldThrottle: 0 })
  t.same(r.unconfiguredAccounts, [])
  t.same(r.accountsAtEnd, countersAtEnd, 'the day ends with the positions, working orders and counters the lanes had')
})

t.test('ACC1 maxOpenOrders 3: exactly the orders past it, none of ACC2\'s', async (t) => {
  const r = replay(t, 'acc1-open-3.json')
  // c1 c2 c3 open; c4 and c5 would be the 4th; c1's fill frees one for c6,
  // c2's cancel one for c7.
  t.same(lines(r.wouldReject), [
    'ACC1/4: MAX_OPEN_ORDERS limit 3 observed 4',
    'ACC1/5: MAX_OPEN_ORDERS limit 3 observed 4',
  ])
  t.same(r.byReason, { MAX_OPEN_ORDERS: 2 })
  const c4 = r.wouldReject[0]!
  t.match(c4, {
    lane: 'platform', sessionId: PLATFORM_SESSION, instrument: 'rb2605', side: 'BUY', lots: 2, price: 3198, priceText: '3198',
    timeInForce: 'GFD', linkOrderId: 1004, time: '2026-01-05T01:30:00.400Z',
    original: { passed: true }, replay: { passed: false, stage: 'risk', reasonCode: RejectReason.MAX_OPEN_ORDERS },
    suppressedFills: { fills: 0, lots: 0 },
  })
  t.same(r.wouldPass, [])
  t.match(r.notes.join('\n'), /never reaches the exchange/)
})

t.test('ACC2 maxLongLots 2: a fill makes the position, and a refused order\'s fill is left out', async (t) => {
  const r = replay(t, 'acc2-long-2.json')
  // a1's fill makes ACC2 long 1, so a2 (2 more) would be long 3. Had a2's
  // 1-lot fill been applied, a4 would be long 3 too; it is long 2.
  t.same(lines(r.wouldReject), ['ACC2/2: POSITION_LIMIT_LONG limit 2 observed 3'])
  t.match(r.wouldReject[0], { lane: 'hft', instrument: 'au2606', priceText: '880.00', suppressedFills: { fills: 1, lots: 1 } })
  t.same(r.suppressedFills, { orders: 1, fills: 1, lots: 1 })
  t.same(r.cancels, { checked: 1, wouldThrottle: 0 }, 'the refused order\'s cancel is not checked; c2\'s is')
})

t.test('ACC2 maxLongLots 3: fills move lots from working to the position, each report once', async (t) => {
  // a1 filled (long 1), a2 +2 = 3, a2 partly filled and cancelled (long 2),
  // a4 +1 = 3. Applying the resent fill as well would make a4 long 4.
  const r = replay(t, 'acc2-long-3.json')
  t.same(r.wouldReject, [])
  t.match(r.notes.join('\n'), /resent after a reconnect, dropped as the link drops it: 1 exchange report/)
})

t.test('ACC2 loosened: the refused order would pass, and trying it leaves nothing behind', async (t) => {
  // maxOpenOrders 2: a3's trial took ACC2's 2nd slot; had it kept it, a5
  // (2 working: a4, a5) would be the 3rd.
  const r = replay(t, 'acc2-loose.json')
  t.same(r.wouldReject, [])
  t.same(lines(r.wouldPass, 'original'), ['ACC2/3: QUANTITY_ABOVE_MAX limit 20 observed 30'])
  t.match(r.wouldPass[0], { lots: 30, linkOrderId: 0, original: { passed: false, stage: 'risk' }, replay: { passed: true, reason: '' } })
})

t.test('ACC1 sessionMessagesPerSecond 3: the session throttle is replayed too', async (t) => {
  // c1-c3 fill the window from 100 ms; c4 to c7 (and the cancel at 800 ms)
  // all fall inside it. Refused messages are not counted, as in the lane.
  const r = replay(t, 'acc1-session-3.json')
  t.same(lines(r.wouldReject), [4, 5, 6, 7].map((id) => `ACC1/${id}: THROTTLED_SESSION limit 3 observed 4`))
  t.equal(r.wouldReject[0]!.replay.stage, 'throttle')
  t.same(r.cancels, { checked: 2, wouldThrottle: 1 })
})

t.test('--day picks an earlier day; orders lost with the link or never sent are released', async (t) => {
  const same = replay(t, 'same.json', '--day', DAY_1)
  t.equal(same.day, DAY_1)
  t.equal(same.ordersReplayed, 6)
  t.equal(same.originallyPassed, 5)
  t.same(same.originallyRejectedByStage, { link: 1 }, 'd4 passed the checks but never went out')
  t.same(same.wouldReject, [])
  t.same(same.unconfiguredAccounts, ['ACC9'], 'an account the config does not list is checked with the wider limits')
  const notes = same.notes.join('\n')
  t.match(notes, /lost with the exchange link before the exchange had it, released as the lane did: 1 order/)
  t.match(notes, /passed by the checks at the time but not sent \(the link was down\), counted as refused at the link stage: 1 order/)
  // d1 filled, d2 lost with the link: d3 is ACC1's only working order. d4
  // would be the 2nd, but it never reached the exchange at the time either;
  // d5 is the 2nd.
  const one = replay(t, 'acc1-open-1.json', '--day', DAY_1)
  t.same(lines(one.wouldReject), ['ACC1/5: MAX_OPEN_ORDERS limit 1 observed 2'], 'd4 is not listed: it was not sent')
  t.same(one.byReason, { MAX_OPEN_ORDERS: 1 })
  t.same(one.originallyRejectedByStage, { link: 1 })
  // With room for 2, d4 passes the replay's checks, is released as unsent, and d5 fits.
  const two = replay(t, 'acc1-open-2.json', '--day', DAY_1)
  t.same(two.wouldReject, [])
  // No room for ACC9 once ACC1 and ACC2 are registered.
  const full = replay(t, 'two-accounts.json', '--day', DAY_1)
  t.same(full.skippedAccounts, [{ account: 'ACC9', orders: 1, why: 'no room for account ACC9: risk.capacity.accounts is 2' }])
  t.equal(full.ordersReplayed, 5)
})

t.test('--lane replays one lane\'s stream', async (t) => {
  const r = replay(t, 'acc1-open-3.json', '--lane', 'hft')
  t.same(r.lanes, ['hft'])
  t.equal(r.ordersReplayed, 5)
  t.same(r.wouldReject, [], 'ACC1 trades only on platform')
})

t.test('a day the journal does not hold exits 1 and names the days it does', async (t) => {
  const r = run(journalRoot, '--config', file('config.json'), '--limits', file('same.json'), '--day', '20990101')
  t.equal(r.code, 1)
  t.match(r.err, `trading day 20990101 is not in the journal; it holds ${DAY_1}, ${DAY_2}`)
  t.equal(r.out, '')
  const empty = run(t.testdir(), '--config', file('config.json'), '--limits', file('same.json'))
  t.equal(empty.code, 1, 'a journal with no logon reply has no day')
  t.match(empty.err, /no exchange logon reply/)
  const idle = run(journalRoot, '--config', file('config.json'), '--limits', file('same.json'), '--lane', 'terminal', '--json')
  t.equal(idle.code, 1, 'a day with no orders')
  t.match(idle.err, `trading day ${DAY_2} has no orders on the terminal lane`)
  t.match(JSON.parse(idle.out), { day: DAY_2, lanes: ['terminal'], ordersReplayed: 0 }, 'what was replayed is still printed')
})

t.test('a bad limits file exits 2 naming the field', async (t) => {
  const cases: Array<[string, string]> = [
    ['bad-value.json', 'risk.limits.accounts.ACC1.maxOpenOrders: must be at least 0'],
    ['bad-name.json', 'risk.limits.accounts.ACC1: unknown field "maxOpenOrder"'],
    ['bad-account.json', 'risk.limits.accounts.NOPE: account "NOPE" is not in accounts[]'],
    ['not-json.json', 'not-json.json: not valid JSON'],
  ]
  for (const [name, problem] of cases) {
    const r = run(journalRoot, '--config', file('config.json'), '--limits', file(name))
    t.equal(r.code, 2, name)
    t.match(r.err, problem, name)
  }
  const noAccounts = run(journalRoot, '--limits', file('acc1-open-3.json'))
  t.equal(noAccounts.code, 2, 'the embedded defaults have no ACC1')
  t.match(noAccounts.err, 'risk.limits.accounts.ACC1: account "ACC1" is not in accounts[]')
})

t.test('the command line', async (t) => {
  const help = run('--help')
  t.equal(help.code, 0)
  t.equal(help.out, REPLAY_HELP)
  t.match(REPLAY_HELP, /offline, in this process/)
  const usage: Array<[string[], string]> = [
    [[journalRoot], '--limits FILE is required'],
    [['--limits', file('same.json')], 'give exactly one DIR'],
    [[journalRoot, '--limits', file('same.json'), '--day', '2026-01-05'], 'must be a trading day as YYYYMMDD'],
    [[journalRoot, '--limits', file('same.json'), '--lane', 'fix'], 'must be one of terminal, platform, hft'],
    [[journalRoot, '--limits', file('same.json'), '--fast'], 'Unknown option \'--fast\''],
    [[join(files, 'nowhere'), '--limits', file('same.json')], 'no such directory'],
  ]
  for (const [argv, message] of usage) {
    const r = run(...argv)
    t.equal(r.code, 2, argv.join(' '))
    t.match(r.err, message, argv.join(' '))
  }
})

t.test('the table for people', async (t) => {
  const r = run(journalRoot, '--config', file('config.json'), '--limits', file('acc2-long-2.json'))
  t.equal(r.code, 0)
  t.match(r.out, /^trading day 20260105 \(lanes: terminal, platform, hft; days in the journal: 20260102, 20260105\)/)
  t.match(r.out, /would reject: 1 order that passed at the time/)
  t.match(r.out, /time \(UTC\)\s+lane\s+session\s+account\s+order\s+instrument\s+side\s+lots@price\s+original\s+replay/)
  t.match(r.out, /01:30:00\.350\s+hft\s+3000000001\s+ACC2\s+2\s+au2606\s+BUY\s+2@880\.00\s+passed\s+POSITION_LIMIT_LONG limit 2 observed 3 \(1 lot filled, left out\)/)
  t.match(r.out, /orders replayed\s+12 \(11 passed at the time, 1 refused: risk 1\)/)
  t.match(r.out, /would reject\s+1 \(POSITION_LIMIT_LONG 1\)/)
  t.match(r.out, /would pass\s+0/)
  // a2 refused here, so its fill is left out: ACC2 is long 1, not 2.
  t.match(r.out, /at the end of the day \(replayed\)\n  ACC1: 5 working orders \(8 lots\), 8 actions, 2 lots traded\n    rb2605: long 2 today \/ 0 yesterday, short 0 today \/ 0 yesterday, working 4 buy \/ 4 sell, 2 traded, 1 cancel\n  ACC2: 2 working orders \(2 lots\), 3 actions, 1 lot traded\n    au2606: long 1 today \/ 0 yesterday,/)
})

t.test('the real CLI, as a compliance officer runs it', async (t) => {
  const cli = fileURLToPath(new URL('../cli/cli.js', import.meta.url))
  const { stdout } = await promisify(execFile)('node', [cli, 'journal', 'replay', journalRoot, '--config', file('config.json'), '--limits', file('acc1-open-3.json'), '--json'])
  const r = JSON.parse(stdout) as ReplayResult
  t.equal(r.day, DAY_2)
  t.same(lines(r.wouldReject), ['ACC1/4: MAX_OPEN_ORDERS limit 3 observed 4', 'ACC1/5: MAX_OPEN_ORDERS limit 3 observed 4'])
  t.same(r, replay(t, 'acc1-open-3.json'), 'the same result as in process')
})
