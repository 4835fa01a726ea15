// Each pre-trade check of the risk engine at its boundary: the limit itself
// passes, one past it is refused with the right reason, limit and observed
// value. A RiskControl (the supervisor's live-tuning API) and one or two
// RiskEngines (lane threads) share the same buffers in this thread. Time is
// the injected nowMs, never the clock, so nothing here sleeps.
import t from 'tap'
import { RiskControlError } from '../checks/errors.js'
import type { LimitSet, RiskControl } from '../checks/risk-control.js'
import {
  KILL_SCOPE_ACCOUNT, KILL_SCOPE_GLOBAL, KILL_SCOPE_INSTRUMENT, KILL_SCOPE_LANE, RiskEngine, marginPerLotFen, newRiskVerdict,
  notionalFen, type CarriedPosition, type InstrumentRisk, type RiskContext, type RiskVerdict,
} from '../checks/risk-engine.js'
import { TRADING_HALTED } from '../checks/risk-layout.js'
import { resolveConfig } from '../config/load.js'
import { DEMO_APP_ID } from '../protocol/demo-identity.js'
import { createRiskControl } from '../config/risk-config.js'
import { DEFAULT_INSTRUMENTS } from '../exchange-sim/instruments.js'
import { HedgeFlag, OffsetFlag, RejectReason, Side, TimeInForce, reasonName, v1, type Instrument } from '../protocol/messages.js'

// Small tables: the defaults size them for 1024 accounts (about 60 MiB).
// rateRingSize stays at 1024 because the default hft lane throttle is 1000.
const CAPACITY = { accounts: 4, appIds: 4, instruments: 16, instrumentsPerAccount: 4, openOrdersPerAccount: 256, rateRingSize: 1024 }
const MAKER = 'demo-maker'
const TAKER = 'demo-taker'
// Lane indexes, as RISK_LANES orders them.
const TERMINAL = 0
const PLATFORM = 1
const HFT = 2
const T0 = Date.UTC(2026, 0, 5, 1, 30)
/**
 * Rate checks are lifted unless a test sets them, so that tests of other
 * checks can send many messages at the same instant.
 */
const QUIET: LimitSet = { accountActionsPerSecond: null, hfPerSecondWarn: null, hfPerSecondBlock: null }

/**
 * Not listed anywhere: a margin rate and price whose margin per lot is not
 * a whole number of fen (123457 × 7 × 3.33% / 100 = 28777.8267 fen), and
 * whose multiples are not exact doubles in currency units (287.78 × 100 is
 * 28777.999999999996).
 */
const ODD: Instrument = v1.Instrument.create({
  symbol: 'zz2609', exchange: 'GFEX', priceDecimals: 2, tickSize: 1, multiplier: 7, referencePrice: 123457,
  lowerLimitPrice: 100000, upperLimitPrice: 150000, maxOrderLots: 100, marginRateBps: 333,
})

function listed (symbol: string): Instrument {
  if (symbol === ODD.symbol) return ODD
  const init = DEFAULT_INSTRUMENTS.find((i) => i.symbol === symbol)
  if (init === undefined) throw new Error(`no instrument ${symbol}`)
  return v1.Instrument.create(init)
}

/** What a check said, as one comparable line. */
function refusal (reason: number, limit: number, observed: number): string {
  return `${reasonName(reason)} limit ${limit} observed ${observed}`
}

function warningOf (verdict: RiskVerdict): string {
  if (verdict.warningMonitor === 0) return 'none'
  return `${reasonName(verdict.warningMonitor)} ${verdict.warningObserved}/${verdict.warningLevel} block ${verdict.blockingLevel}${verdict.alert ? ' alert' : ''}`
}

interface OrderOptions {
  symbol?: string
  timeInForce?: number
  reduceOnly?: boolean
  linkOrderId?: number
  /** OffsetFlag; unset: open (a plain close on a reduce_only order). */
  offset?: number
  hedge?: number
}

/**
 * A plain close (SELL closes long lots, BUY short lots): on rb2605 (SHFE)
 * it takes yesterday's lots only, elsewhere today's first.
 */
const CLOSE = { offset: OffsetFlag.OFFSET_CLOSE }
/** A close of today's lots, the one close of them SHFE (rb2605) takes. */
const CLOSE_TODAY = { offset: OffsetFlag.OFFSET_CLOSE_TODAY }

/** One account trading on one lane: a session's view of the risk engine. */
class Desk {
  readonly ctx: RiskContext
  readonly verdict: RiskVerdict
  nowMs = T0
  private nextLinkOrderId = 1
  private readonly instrumentOf = new Map<number, InstrumentRisk>()

  constructor (readonly control: RiskControl, readonly engine: RiskEngine, readonly account: string, app = control.appIndex(DEMO_APP_ID)!, verdictRoom = 8) {
    this.ctx = { lane: engine.lane, app, account: control.accountIndex(account)! }
    this.verdict = newRiskVerdict(verdictRoom)
  }

  instrument (symbol: string): InstrumentRisk {
    return this.engine.instrumentRisk(listed(symbol))!
  }

  order (side: number, lots: number, price: number, options: OrderOptions = {}): number {
    const instrument = this.instrument(options.symbol ?? 'rb2605')
    const slot = this.engine.checkNewOrder(this.ctx, instrument, side, price, lots, options.timeInForce ?? TimeInForce.GFD,
      options.reduceOnly ?? false, options.linkOrderId ?? this.nextLinkOrderId++, this.nowMs, this.verdict, options.offset ?? 0, options.hedge ?? 0)
    if (slot >= 0) this.instrumentOf.set(slot, instrument)
    return slot
  }

  buy (lots: number, price = 3200, options?: OrderOptions): number {
    return this.order(Side.BUY, lots, price, options)
  }

  sell (lots: number, price = 3200, options?: OrderOptions): number {
    return this.order(Side.SELL, lots, price, options)
  }

  /** The risk check of a cancel request (the exchange has not answered yet). */
  requestCancel (slot: number): boolean {
    return this.engine.checkCancel(this.ctx, slot, this.instrumentOf.get(slot)!, this.nowMs, this.verdict)
  }

  /** The exchange confirmed the cancel. */
  cancelled (slot: number): void {
    this.engine.onOrderDone(this.ctx, slot, this.instrumentOf.get(slot)!, true, this.verdict)
    this.instrumentOf.delete(slot)
  }

  cancel (slot: number): boolean {
    if (!this.requestCancel(slot)) return false
    this.cancelled(slot)
    return true
  }

  /** A fill; a fully filled order is done. Returns the lots still working. */
  fill (slot: number, lots: number): number {
    const leaves = this.engine.onFill(this.ctx.account, slot, lots)
    if (leaves === 0) this.done(slot)
    return leaves
  }

  /** Done without a cancel: filled, expired or rejected by the exchange. */
  done (slot: number): void {
    this.engine.onOrderDone(this.ctx, slot, this.instrumentOf.get(slot)!, false, this.verdict)
    this.instrumentOf.delete(slot)
  }

  /** 'pass' or the refusal, for the slot (or cancel verdict) just returned. */
  outcome (result: number | boolean): string {
    if (result === true || (typeof result === 'number' && result >= 0)) return 'pass'
    return refusal(this.verdict.reason, this.verdict.limit, this.verdict.observed)
  }

  counters () {
    return this.control.counters(this.account)
  }

  position (symbol = 'rb2605') {
    const found = this.counters().instruments.find((i) => i.instrument === symbol)
    if (found === undefined) throw new Error(`${this.account} has no slot for ${symbol}`)
    return found
  }
}

/** A fresh shared state from the default config, with `limits` set at both demo accounts' scope. */
function setup (limits: LimitSet = {}): { control: RiskControl, desk: (lane?: number, account?: string, verdictRoom?: number) => Desk } {
  const control = createRiskControl(resolveConfig({ risk: { capacity: CAPACITY } }))
  for (const account of [MAKER, TAKER]) control.setLimits({ kind: 'account', account }, { ...QUIET, ...limits })
  const engines = new Map<number, RiskEngine>()
  const desk = (lane = PLATFORM, account = MAKER, verdictRoom = 8): Desk => {
    let engine = engines.get(lane)
    if (engine === undefined) {
      engine = new RiskEngine(control.buffers, lane)
      engines.set(lane, engine)
    }
    return new Desk(control, engine, account, control.appIndex(DEMO_APP_ID)!, verdictRoom)
  }
  return { control, desk }
}

t.test('quantity: maxOrderLots', async (t) => {
  const d = setup({ maxOrderLots: 5 }).desk()
  t.equal(d.outcome(d.buy(5)), 'pass', 'the limit itself passes')
  t.equal(d.outcome(d.buy(6)), refusal(RejectReason.QUANTITY_ABOVE_MAX, 5, 6))
  t.equal(d.counters().openLots, 5, 'the refused order reserved nothing')
})

t.test('price band: priceBandBps around the reference price', async (t) => {
  const d = setup({ priceBandBps: 500 }).desk()
  // rb2605: reference 3200, ±5% is 3040..3360 exactly.
  t.equal(d.outcome(d.buy(1, 3360)), 'pass', 'upper edge passes')
  t.equal(d.outcome(d.buy(1, 3361)), refusal(RejectReason.PRICE_OUTSIDE_BAND, 3360, 3361))
  t.equal(d.outcome(d.buy(1, 3040)), 'pass', 'lower edge passes')
  t.equal(d.outcome(d.buy(1, 3039)), refusal(RejectReason.PRICE_OUTSIDE_BAND, 3040, 3039))

  // IF2606: reference 45000 (4500.0), ±3.33% is 43501.5..46498.5; the
  // reported edges are the innermost whole prices inside the band.
  const e = setup({ priceBandBps: 333 }).desk()
  t.equal(e.outcome(e.buy(1, 46498, { symbol: 'IF2606' })), 'pass')
  t.equal(e.outcome(e.buy(1, 46499, { symbol: 'IF2606' })), refusal(RejectReason.PRICE_OUTSIDE_BAND, 46498, 46499))
  t.equal(e.outcome(e.buy(1, 43502, { symbol: 'IF2606' })), 'pass')
  t.equal(e.outcome(e.buy(1, 43501, { symbol: 'IF2606' })), refusal(RejectReason.PRICE_OUTSIDE_BAND, 43502, 43501))

  // Off by default; the terminal lane's preset (500 bps) applies there only.
  const { desk } = setup()
  const platform = desk(PLATFORM)
  const terminal = desk(TERMINAL)
  t.equal(platform.outcome(platform.buy(1, 3900)), 'pass', 'no band on the platform lane')
  t.equal(terminal.outcome(terminal.buy(1, 3361)), refusal(RejectReason.PRICE_OUTSIDE_BAND, 3360, 3361), 'terminal lane preset')
})

t.test('notional: maxNotionalPerOrder, compared in fen', async (t) => {
  const d = setup({ maxNotionalPerOrder: 320_000 }).desk()
  t.equal(notionalFen(d.instrument('rb2605'), 3200, 10), 32_000_000)
  t.equal(d.outcome(d.buy(10, 3200)), 'pass', '10 lots × 3200 × 10 = 320000 exactly')
  t.equal(d.outcome(d.buy(11, 3200)), refusal(RejectReason.NOTIONAL_ABOVE_MAX, 32_000_000, 35_200_000))

  // A price with decimals: IF2606 at 4500.1 points × 300 = 1350030 per lot.
  const e = setup({ maxNotionalPerOrder: 1_350_030 }).desk()
  t.equal(e.outcome(e.buy(1, 45001, { symbol: 'IF2606' })), 'pass')
  t.equal(e.outcome(e.buy(2, 45001, { symbol: 'IF2606' })), refusal(RejectReason.NOTIONAL_ABOVE_MAX, 135_003_000, 270_006_000))

  // A limit with cents: 8641.71 is 864171 fen (8641.71 × 100 is
  // 864170.9999999999 in binary), exactly one lot of zz2609 at 1234.53.
  const f = setup({ maxNotionalPerOrder: 8641.71 }).desk()
  t.equal(notionalFen(f.instrument(ODD.symbol), 123453, 1), 864_171)
  t.equal(f.outcome(f.buy(1, 123453, { symbol: ODD.symbol })), 'pass', 'a limit in cents is exact')
  t.equal(f.outcome(f.buy(2, 123453, { symbol: ODD.symbol })), refusal(RejectReason.NOTIONAL_ABOVE_MAX, 864_171, 1_728_342))
})

t.test('maxOpenOrders counts working orders; a done order frees its place', async (t) => {
  const d = setup({ maxOpenOrders: 3 }).desk()
  const a = d.buy(1)
  const b = d.buy(1)
  const c = d.buy(1)
  t.same([a, b, c].map((s) => d.outcome(s)), ['pass', 'pass', 'pass'], 'the 3rd order passes')
  t.equal(d.outcome(d.buy(1)), refusal(RejectReason.MAX_OPEN_ORDERS, 3, 4), 'the 4th is refused')
  t.equal(d.counters().openOrders, 3)
  d.fill(c, 1)
  const e = d.buy(1)
  t.equal(d.outcome(e), 'pass', 'a filled order frees its place')
  t.equal(d.outcome(d.buy(1)), refusal(RejectReason.MAX_OPEN_ORDERS, 3, 4))
  t.ok(d.cancel(a))
  t.equal(d.outcome(d.buy(1)), 'pass', 'a cancelled order frees its place')
  d.done(b)
  t.equal(d.outcome(d.buy(1)), 'pass', 'an order the exchange rejected frees its place')
  t.equal(d.outcome(d.buy(1)), refusal(RejectReason.MAX_OPEN_ORDERS, 3, 4))

  // No limit: the account's order table (openOrdersPerAccount) still caps it.
  const u = setup({ maxOpenOrders: null }).desk()
  let passed = 0
  for (let i = 0; i < CAPACITY.openOrdersPerAccount; i++) if (u.buy(1) >= 0) passed++
  t.equal(passed, CAPACITY.openOrdersPerAccount)
  t.equal(u.outcome(u.buy(1)), refusal(RejectReason.MAX_OPEN_ORDERS, 256, 257))
})

t.test('maxLongLots counts long lots held and working opening buys, never closes', async (t) => {
  const d = setup({ maxLongLots: 10 }).desk()
  // Buys below and sells above 3200 never cross each other.
  const a = d.buy(6, 3100)
  const b = d.buy(4, 3100)
  t.same([d.outcome(a), d.outcome(b)], ['pass', 'pass'], '6 + 4 working = 10 passes')
  t.equal(d.outcome(d.buy(1, 3100)), refusal(RejectReason.POSITION_LIMIT_LONG, 10, 11))
  d.fill(a, 6)
  t.match(d.position(), { longTodayLots: 6, workingOpenLongLots: 4 })
  t.equal(d.outcome(d.buy(1, 3100)), refusal(RejectReason.POSITION_LIMIT_LONG, 10, 11), 'the filled lots count as position')
  t.ok(d.cancel(b))
  t.equal(d.outcome(d.buy(4, 3100)), 'pass', 'the cancelled lots no longer count')
  t.equal(d.outcome(d.buy(1, 3100)), refusal(RejectReason.POSITION_LIMIT_LONG, 10, 11))
  const s = d.sell(3, 3300, CLOSE_TODAY)
  t.equal(d.outcome(s), 'pass', 'a close is not a long')
  t.equal(d.outcome(d.buy(1, 3100)), refusal(RejectReason.POSITION_LIMIT_LONG, 10, 11), 'a working close does not make room')
  t.equal(d.outcome(d.sell(5, 3300)), 'pass', 'an opening sell is a short: not counted here')
  d.fill(s, 3)
  t.equal(d.outcome(d.buy(3, 3100)), 'pass', 'a filled close does: 3 held + 4 + 3 working')
  t.equal(d.outcome(d.buy(1, 3100)), refusal(RejectReason.POSITION_LIMIT_LONG, 10, 11))
  t.match(d.position(), { longTodayLots: 3, workingOpenLongLots: 7, workingBuyLots: 7, shortTodayLots: 0, workingOpenShortLots: 5, workingSellLots: 5 })
  // A buy that closes a short is not counted either: open a short, then buy it back beyond maxLongLots' room.
  const e = setup({ maxLongLots: 2 }).desk()
  e.fill(e.sell(5, 3300), 5)
  t.equal(e.outcome(e.buy(5, 3100, CLOSE_TODAY)), 'pass', 'buying back 5 short lots with 2 of long room')
  t.equal(e.outcome(e.buy(3, 3100)), refusal(RejectReason.POSITION_LIMIT_LONG, 2, 3))
})

t.test('maxShortLots counts short lots held and working opening sells; long and short are held apart', async (t) => {
  const d = setup({ maxShortLots: 10 }).desk()
  const a = d.sell(10, 3300)
  t.equal(d.outcome(a), 'pass')
  t.equal(d.outcome(d.sell(1, 3300)), refusal(RejectReason.POSITION_LIMIT_SHORT, 10, 11))
  d.fill(a, 10)
  t.match(d.position(), { shortTodayLots: 10, longTodayLots: 0 })
  t.equal(d.outcome(d.sell(1, 3300)), refusal(RejectReason.POSITION_LIMIT_SHORT, 10, 11), 'the filled lots count as position')
  d.fill(d.buy(4, 3100, CLOSE_TODAY), 4)
  t.equal(d.outcome(d.sell(4, 3300)), 'pass', 'buying back makes room')
  t.equal(d.outcome(d.sell(1, 3300)), refusal(RejectReason.POSITION_LIMIT_SHORT, 10, 11))

  // A long position is no room for a short one: futures hold both sides apart.
  d.fill(d.buy(5, 2900, { symbol: 'm2605' }), 5)
  t.equal(d.outcome(d.sell(11, 3000, { symbol: 'm2605' })), refusal(RejectReason.POSITION_LIMIT_SHORT, 10, 11))
  t.equal(d.outcome(d.sell(5, 3000, { symbol: 'm2605', offset: OffsetFlag.OFFSET_CLOSE })), 'pass', 'closing the long is not limited')
  t.equal(d.outcome(d.sell(10, 3000, { symbol: 'm2605' })), 'pass', 'opening 10 short beside it')
  t.equal(d.outcome(d.sell(1, 3000, { symbol: 'm2605' })), refusal(RejectReason.POSITION_LIMIT_SHORT, 10, 11))
})

t.test('funds: margin reserved exactly in fen, released to exactly 0', async (t) => {
  const d = setup({ funds: 6720 }).desk()
  const rb = d.instrument('rb2605')
  t.equal(marginPerLotFen(rb, 3200), 224_000, '3200 × 10 × 7% = 2240.00')
  const a = d.buy(2)
  t.equal(marginPerLotFen(rb, 3300), 231_000)
  t.equal(d.outcome(d.sell(1, 3300)), refusal(RejectReason.INSUFFICIENT_FUNDS, 672_000, 679_000), 'opening sells reserve margin too')
  const c = d.buy(1)
  t.equal(d.outcome(c), 'pass', '3 lots × 2240 = 6720 exactly')
  t.equal(d.counters().reservedFen, 672_000)
  t.equal(d.outcome(d.buy(1)), refusal(RejectReason.INSUFFICIENT_FUNDS, 672_000, 896_000))
  t.equal(d.fill(a, 1), 1)
  t.equal(d.counters().reservedFen, 448_000, 'a partial fill releases its lots')
  const e1 = d.buy(1)
  t.equal(d.outcome(e1), 'pass')
  t.equal(d.fill(a, 1), 0)
  t.ok(d.cancel(c))
  t.match(d.counters(), { reservedFen: 224_000, openOrders: 1, openLots: 1 })
  t.ok(d.cancel(e1))
  t.match(d.counters(), { reservedFen: 0, openOrders: 0, openLots: 0 })

  // Margin per lot is rounded up to whole fen; the funds limit is given in
  // currency units with cents, and must admit exactly that many fen.
  const e = setup({ funds: 1151.12 }).desk()
  const odd = e.instrument(ODD.symbol)
  t.equal(marginPerLotFen(odd, 123457), 28_778, '28777.8267 fen rounds up')
  const big = e.buy(4, 123457, { symbol: ODD.symbol })
  t.equal(e.outcome(big), 'pass', '4 × 28778 = 115112 fen = 1151.12 exactly')
  t.equal(e.counters().reservedFen, 115_112)
  t.equal(e.outcome(e.buy(1, 123457, { symbol: ODD.symbol })), refusal(RejectReason.INSUFFICIENT_FUNDS, 115_112, 143_890))
  e.fill(big, 1)
  t.equal(e.counters().reservedFen, 86_334)
  e.fill(big, 2)
  t.equal(e.counters().reservedFen, 28_778)
  t.ok(e.cancel(big))
  t.match(e.counters(), { reservedFen: 0, openOrders: 0, openLots: 0 }, 'back to exactly 0')
  const single = setup({ funds: 287.78 }).desk()
  t.equal(single.outcome(single.buy(1, 123457, { symbol: ODD.symbol })), 'pass', 'funds of 287.78 admit 28778 fen')
})

t.test('maxDailyVolumeLots: lots traded today plus lots working', async (t) => {
  const d = setup({ maxDailyVolumeLots: 20 }).desk()
  d.fill(d.buy(8, 3100), 8)
  const b = d.sell(12, 3300)
  t.equal(d.outcome(b), 'pass', '8 traded + 12 working = 20')
  t.equal(d.outcome(d.buy(1, 3100)), refusal(RejectReason.DAILY_VOLUME_LIMIT, 20, 21))
  t.ok(d.cancel(b))
  const c = d.sell(12, 3300)
  t.equal(d.outcome(c), 'pass', 'cancelled lots were never traded')
  d.fill(c, 5)
  t.equal(d.outcome(d.buy(1, 3100)), refusal(RejectReason.DAILY_VOLUME_LIMIT, 20, 21), 'a fill moves lots from working to traded')
  t.match(d.counters(), { tradedLotsToday: 13, openLots: 7 })
})

t.test('reduce-only: close orders only, within the lots held', async (t) => {
  const d = setup().desk()
  d.fill(d.buy(5, 3100), 5)
  // rb2605 is SHFE: a plain close takes yesterday's lots, so make them so.
  t.ok(d.engine.rollTradingDay(20260105))
  const ro = { reduceOnly: true }
  const a = d.sell(3, 3300, ro)
  const b = d.sell(2, 3300, ro)
  t.same([d.outcome(a), d.outcome(b)], ['pass', 'pass'], 'an unset offset on reduce_only is a plain close: selling the 5 held')
  t.match(d.position(), { longYesterdayLots: 5, longYesterdayFrozenLots: 5 })
  t.equal(d.outcome(d.sell(1, 3300, ro)), refusal(RejectReason.CLOSE_EXCEEDS_POSITION, 0, 1), 'lots frozen by working closes are spent')
  t.equal(d.outcome(d.buy(1, 3100, ro)), refusal(RejectReason.CLOSE_EXCEEDS_POSITION, 0, 1), 'a reduce_only buy closes a short: there is none')
  t.equal(d.outcome(d.buy(1, 3100, { reduceOnly: true, offset: OffsetFlag.OFFSET_OPEN })), refusal(RejectReason.REDUCE_ONLY_WOULD_INCREASE, 0, 1), 'a reduce_only open')
  t.equal(d.outcome(d.sell(4, 3300, { reduceOnly: true, offset: OffsetFlag.OFFSET_OPEN })), refusal(RejectReason.REDUCE_ONLY_WOULD_INCREASE, 0, 4), 'observed: its lots')
  t.equal(d.outcome(d.buy(1, 3100)), 'pass', 'an ordinary order is not affected')
  t.ok(d.cancel(b))
  t.match(d.position(), { longYesterdayFrozenLots: 3 }, 'a cancelled close releases what it froze')
  t.equal(d.outcome(d.sell(3, 3300, ro)), refusal(RejectReason.CLOSE_EXCEEDS_POSITION, 2, 3))
  t.equal(d.outcome(d.sell(2, 3300, ro)), 'pass')
  // No position at all: nothing to close.
  t.equal(d.outcome(d.sell(1, 3000, { symbol: 'm2605', reduceOnly: true })), refusal(RejectReason.CLOSE_EXCEEDS_POSITION, 0, 1))
})

t.test('reducing state: close orders only; cancels pass', async (t) => {
  const { control, desk } = setup()
  const d = desk()
  d.fill(d.buy(5, 3100), 5)
  d.fill(d.sell(4, 3000, { symbol: 'm2605' }), 4)
  // rb2605 is SHFE: a plain close takes yesterday's lots, so make them so.
  t.ok(d.engine.rollTradingDay(20260105))
  const resting = d.buy(1, 3000)
  t.same(control.setTradingState(MAKER, 'reducing'), { before: 'active', after: 'reducing' })
  t.equal(d.outcome(d.buy(1, 3100)), refusal(RejectReason.ACCOUNT_REDUCING, 0, 1), 'an open is refused, observed: its lots')
  t.equal(d.outcome(d.sell(6, 3300)), refusal(RejectReason.ACCOUNT_REDUCING, 0, 6), 'an opening sell too, even against a long')
  t.equal(d.outcome(d.sell(6, 3300, CLOSE)), refusal(RejectReason.CLOSE_EXCEEDS_POSITION, 5, 6), 'a close beyond the lots held')
  const a = d.sell(5, 3300, CLOSE)
  t.equal(d.outcome(a), 'pass', 'closing the whole long')
  t.ok(d.cancel(a), 'cancels pass')
  t.ok(d.cancel(resting))
  t.equal(d.outcome(d.sell(1, 3000, { symbol: 'm2605' })), refusal(RejectReason.ACCOUNT_REDUCING, 0, 1), 'a short grows by opening sells')
  t.equal(d.outcome(d.buy(4, 2900, { symbol: 'm2605', offset: OffsetFlag.OFFSET_CLOSE })), 'pass', 'buying back the whole short')
  t.equal(d.outcome(d.buy(1, 2900, { symbol: 'm2605', offset: OffsetFlag.OFFSET_CLOSE })), refusal(RejectReason.CLOSE_EXCEEDS_POSITION, 0, 1))
  control.setTradingState(MAKER, 'active')
  t.equal(d.outcome(d.buy(1, 3100)), 'pass', 'active again')
})

t.test('halted: new orders refused, cancels pass, fills still count', async (t) => {
  const { control, desk } = setup()
  const d = desk()
  const a = d.buy(2, 3100)
  const b = d.sell(3, 3300)
  control.setTradingState(MAKER, 'halted')
  t.equal(d.outcome(d.buy(1, 3100)), refusal(RejectReason.ACCOUNT_HALTED, 0, TRADING_HALTED))
  t.equal(d.outcome(d.sell(1, 3300, { reduceOnly: true })), refusal(RejectReason.ACCOUNT_HALTED, 0, TRADING_HALTED), 'even reducing')
  t.equal(d.outcome(d.requestCancel(b)), 'pass', 'cancel passes')
  d.cancelled(b)
  d.fill(a, 2)
  t.match(d.counters(), { tradingState: 'halted', openOrders: 0, reservedFen: 0, openLots: 0 })
  t.match(d.position(), { longTodayLots: 2, shortTodayLots: 0 })
  control.setTradingState(MAKER, 'active')
  t.equal(d.outcome(d.buy(1, 3100)), 'pass')
})

t.test('kill switches: global, lane, account and instrument scopes', async (t) => {
  const { control, desk } = setup()
  const d = desk(PLATFORM)
  const hft = desk(HFT)
  const taker = desk(PLATFORM, TAKER)
  const cases = [
    { scope: { kind: 'global' } as const, code: KILL_SCOPE_GLOBAL, spared: null },
    { scope: { kind: 'lane', lane: 'platform' } as const, code: KILL_SCOPE_LANE, spared: () => hft.buy(1, 3100) },
    { scope: { kind: 'account', account: MAKER } as const, code: KILL_SCOPE_ACCOUNT, spared: () => taker.buy(1, 3100) },
    { scope: { kind: 'instrument', instrument: 'rb2605' } as const, code: KILL_SCOPE_INSTRUMENT, spared: () => d.buy(1, 2900, { symbol: 'm2605' }) },
  ]
  for (const { scope, code, spared } of cases) {
    const working = d.buy(1, 3100)
    t.same(control.setKillSwitch(scope, true), { before: false, after: true })
    t.ok(control.killSwitch(scope))
    t.equal(d.outcome(d.buy(1, 3100)), refusal(RejectReason.KILL_SWITCH, 0, code), `${scope.kind}: order refused`)
    t.equal(d.outcome(d.requestCancel(working)), 'pass', `${scope.kind}: cancel passes`)
    d.cancelled(working)
    if (spared !== null) t.equal(d.outcome(spared()), 'pass', `${scope.kind}: outside the scope is not affected`)
    control.setKillSwitch(scope, false)
    t.equal(d.outcome(d.buy(1, 3100)), 'pass', `${scope.kind}: switched off`)
  }
  // Several on at once: the widest is reported.
  control.setKillSwitch({ kind: 'instrument', instrument: 'rb2605' }, true)
  control.setKillSwitch({ kind: 'account', account: MAKER }, true)
  t.equal(d.outcome(d.buy(1, 3100)), refusal(RejectReason.KILL_SWITCH, 0, KILL_SCOPE_ACCOUNT))
})

t.test('cancels monitor: FAK/FOK not counted, warning then block per contract', async (t) => {
  const d = setup({ cancelsWarn: 3, cancelsBlock: 5 }).desk()
  for (const timeInForce of [TimeInForce.FAK, TimeInForce.FOK]) {
    t.ok(d.cancel(d.buy(1, 3100, { timeInForce })))
    t.equal(warningOf(d.verdict), 'none')
  }
  d.fill(d.buy(1, 3100), 1)
  t.equal(d.position().cancelsToday, 0, 'FAK, FOK and fills are not cancels')
  const warnings: string[] = []
  for (let i = 0; i < 4; i++) {
    t.ok(d.cancel(d.buy(1, 3100)))
    warnings.push(warningOf(d.verdict))
  }
  t.same(warnings, ['none', 'none', 'CANCEL_LIMIT 3/3 block 5 alert', 'CANCEL_LIMIT 4/3 block 5'], 'alert once, at the crossing')
  const working = d.buy(1, 3100)
  t.ok(d.cancel(d.buy(1, 3100)))
  t.equal(d.position().cancelsToday, 5)
  t.equal(d.outcome(d.buy(1, 3100)), refusal(RejectReason.CANCEL_LIMIT, 5, 5), 'blocked at cancelsBlock')
  t.equal(d.outcome(d.requestCancel(working)), 'pass', 'cancels still pass')
  d.cancelled(working)
  t.equal(d.position().cancelsToday, 6)
  t.equal(d.outcome(d.buy(1, 2900, { symbol: 'm2605' })), 'pass', 'another contract is not blocked')
})

t.test('large-order cancels: by largeOrderMinLots and by largeOrderPctOfMax', async (t) => {
  const d = setup({ largeOrderMinLots: 100, largeOrderPctOfMax: null, largeCancelsWarn: 1, largeCancelsBlock: 2 }).desk()
  t.ok(d.cancel(d.buy(99, 3100)))
  t.match(d.position(), { cancelsToday: 1, largeCancelsToday: 0 }, '99 lots is not large')
  t.ok(d.cancel(d.buy(100, 3100)))
  t.equal(warningOf(d.verdict), 'LARGE_CANCEL_LIMIT 1/1 block 2 alert')
  t.ok(d.cancel(d.buy(100, 3100, { timeInForce: TimeInForce.FAK })))
  t.equal(d.position().largeCancelsToday, 1, 'a FAK is not counted')
  t.ok(d.cancel(d.buy(150, 3100)))
  t.equal(warningOf(d.verdict), 'LARGE_CANCEL_LIMIT 2/1 block 2')
  t.equal(d.outcome(d.buy(1, 3100)), refusal(RejectReason.LARGE_CANCEL_LIMIT, 2, 2), 'even a small order is refused')

  // The exchange presets: SHFE counts orders of >= 300 lots, DCE orders of
  // >= 80% of the contract's max_order_lots (m2605: 1000, so 800).
  const { control, desk } = setup()
  const e = desk()
  t.ok(e.cancel(e.buy(299, 3100)))
  t.ok(e.cancel(e.buy(799, 2900, { symbol: 'm2605' })))
  t.same([e.position().largeCancelsToday, e.position('m2605').largeCancelsToday], [0, 0])
  t.ok(e.cancel(e.buy(300, 3100)))
  t.ok(e.cancel(e.buy(800, 2900, { symbol: 'm2605' })))
  t.same([e.position().largeCancelsToday, e.position('m2605').largeCancelsToday], [1, 1])
  control.setLimit({ kind: 'account-instrument', account: MAKER, instrument: 'm2605' }, 'largeCancelsBlock', 1)
  t.equal(e.outcome(e.buy(1, 2900, { symbol: 'm2605' })), refusal(RejectReason.LARGE_CANCEL_LIMIT, 1, 1))
  t.equal(e.outcome(e.buy(1, 3100)), 'pass', 'rb2605 keeps the SHFE level')
})

t.test('self-trade monitor and self-match prevention, reject-incoming mode', async (t) => {
  const { desk } = setup({ selfTradesWarn: 2, selfTradesBlock: 3 })
  const d = desk()
  const taker = desk(PLATFORM, TAKER)
  t.equal(d.outcome(d.sell(1, 3200)), 'pass')
  const bid = d.buy(1, 3199)
  t.equal(d.outcome(bid), 'pass', 'not crossing')
  t.equal(d.outcome(d.buy(1, 3200)), refusal(RejectReason.SELF_MATCH_PREVENTED, 3200, 3200), 'a buy at the resting sell price')
  t.equal(warningOf(d.verdict), 'none')
  t.equal(taker.outcome(taker.sell(1, 3199)), 'pass', 'another account may trade with it')
  t.equal(d.outcome(d.buy(1, 3250)), refusal(RejectReason.SELF_MATCH_PREVENTED, 3250, 3200), 'observed is the resting price')
  t.equal(warningOf(d.verdict), 'SELF_TRADE_LIMIT 2/2 block 3 alert')
  t.equal(d.outcome(d.sell(1, 3199)), refusal(RejectReason.SELF_MATCH_PREVENTED, 3199, 3199), 'a sell at the resting buy price')
  t.equal(warningOf(d.verdict), 'SELF_TRADE_LIMIT 3/2 block 3')
  t.match(d.position(), { selfTradesToday: 3, workingBuyOrders: 1, workingSellOrders: 1 }, 'refused orders reserve nothing')
  t.equal(d.outcome(d.buy(1, 3000)), refusal(RejectReason.SELF_TRADE_LIMIT, 3, 3), 'blocked, crossing or not')
  t.equal(d.outcome(d.buy(1, 2900, { symbol: 'm2605' })), 'pass', 'per contract')
})

t.test('self-match prevention, cancel-resting mode: same lane cancels first, another lane refuses', async (t) => {
  const { desk } = setup({ selfMatchMode: 1, selfTradesWarn: null, selfTradesBlock: null })
  const d = desk(PLATFORM)
  const h = desk(HFT)
  d.sell(1, 3200, { linkOrderId: 101 })
  d.sell(1, 3210, { linkOrderId: 102 })
  d.sell(1, 3230, { linkOrderId: 103 })
  t.equal(d.outcome(d.buy(1, 3210, { linkOrderId: 104 })), 'pass')
  t.same([...d.verdict.cancelLinkOrderIds.subarray(0, d.verdict.cancelCount)].sort(), [101, 102], 'the crossing resting orders, to cancel first')
  t.equal(d.position().selfTradesToday, 1)
  t.equal(d.outcome(d.buy(1, 3210)), 'pass', 'orders already being cancelled on this link do not cross')
  t.equal(d.verdict.cancelCount, 0)
  t.equal(d.position().selfTradesToday, 1)

  t.equal(h.outcome(h.sell(1, 3220)), 'pass', 'hft lane, not crossing')
  t.equal(d.outcome(d.buy(1, 3220)), refusal(RejectReason.SELF_MATCH_PREVENTED, 3220, 3220), 'a crossing order on another lane refuses')
  t.equal(d.verdict.cancelCount, 0)
  t.match(h.outcome(h.buy(1, 3210)), /^SELF_MATCH_PREVENTED limit 3210 /, 'another lane cannot rely on this link\'s cancels')
  t.equal(d.position().selfTradesToday, 3)

  // More crossing orders than the verdict can list: refused, nothing marked.
  const e = setup({ selfMatchMode: 1 })
  const narrow = e.desk(PLATFORM, MAKER, 1)
  narrow.sell(1, 3200)
  narrow.sell(1, 3201)
  t.equal(narrow.outcome(narrow.buy(1, 3201)), refusal(RejectReason.SELF_MATCH_PREVENTED, 3201, 3201))
  const wide = e.desk(PLATFORM, MAKER, 4)
  t.equal(wide.outcome(wide.buy(1, 3201)), 'pass')
  t.equal(wide.verdict.cancelCount, 2, 'both still working, both listed')
})

t.test('HF: a burst is counted at most once a second', async (t) => {
  const d = setup({ hfBurstOrders: 3, hfBurstsWarn: 100, hfBurstsReporting: 100 }).desk()
  const seen: number[] = []
  // Ten orders a second for five seconds: every window holds a burst, but
  // only one occasion a second is counted.
  for (let k = 0; k < 50; k++) {
    d.nowMs = T0 + k * 100
    d.done(d.buy(1, 3100, { timeInForce: TimeInForce.FAK }))
    seen.push(d.counters().hfBurstsToday)
  }
  t.same([seen[1], seen[2], seen[11], seen[12], seen[49]], [0, 1, 1, 2, 5])
})

t.test('HF: an unconfirmed account is refused after hfBurstsReporting bursts; a confirmed one passes', async (t) => {
  const { control, desk } = setup({ hfBurstOrders: 2, hfBurstsWarn: 2, hfBurstsReporting: 3 })
  control.setProgrammaticReport(TAKER, 'confirmed')
  const maker = desk(PLATFORM, MAKER)
  const taker = desk(PLATFORM, TAKER)
  const working = maker.buy(1, 3000)
  for (const d of [maker, taker]) {
    const warnings: string[] = []
    for (let second = 0; second < 3; second++) {
      d.nowMs = T0 + 1000 + second * 1000
      d.buy(1, 3100)
      d.nowMs += 1
      d.buy(1, 3100)
      warnings.push(warningOf(d.verdict))
    }
    t.same(warnings, ['none', 'HF_REPORT_REQUIRED 2/2 block 3 alert', 'HF_REPORT_REQUIRED 3/2 block 3'], `${d.account}: warned`)
    t.equal(d.counters().hfBurstsToday, 3)
    d.nowMs = T0 + 10_000
  }
  t.equal(maker.counters().programmaticReport, 'none')
  t.equal(maker.outcome(maker.buy(1, 3100)), refusal(RejectReason.HF_REPORT_REQUIRED, 3, 3), 'report not confirmed')
  t.equal(taker.outcome(taker.buy(1, 3100)), 'pass', 'report confirmed')
  t.equal(maker.outcome(maker.requestCancel(working)), 'pass', 'cancels pass')
  control.setProgrammaticReport(MAKER, 'filed')
  t.equal(maker.outcome(maker.buy(1, 3100)), refusal(RejectReason.HF_REPORT_REQUIRED, 3, 3), 'filed is not confirmed')
  control.setProgrammaticReport(MAKER, 'confirmed')
  t.equal(maker.outcome(maker.buy(1, 3100)), 'pass')
})

t.test('HF: hfPerSecondWarn and hfPerSecondBlock', async (t) => {
  const d = setup({ hfPerSecondWarn: 3, hfPerSecondBlock: 4 }).desk()
  const warnings: string[] = []
  const first = d.buy(1, 3100)
  for (let i = 1; i < 4; i++) {
    d.nowMs = T0 + i
    d.buy(1, 3100)
    warnings.push(warningOf(d.verdict))
  }
  t.same(warnings, ['none', 'HF_RATE_LIMIT 3/3 block 4 alert', 'HF_RATE_LIMIT 4/3 block 4'])
  d.nowMs = T0 + 4
  t.equal(d.outcome(d.buy(1, 3100)), refusal(RejectReason.HF_RATE_LIMIT, 4, 5))
  d.nowMs = T0 + 5
  t.equal(d.outcome(d.requestCancel(first)), 'pass', 'cancels are not blocked, and count')
  d.nowMs = T0 + 999
  t.equal(d.outcome(d.buy(1, 3100)), refusal(RejectReason.HF_RATE_LIMIT, 4, 6))
  d.nowMs = T0 + 1000
  t.equal(d.outcome(d.buy(1, 3100)), refusal(RejectReason.HF_RATE_LIMIT, 4, 5), 'the window is (now - 1 s, now]')
  d.nowMs = T0 + 1001
  t.equal(d.outcome(d.buy(1, 3100)), 'pass')
  t.equal(warningOf(d.verdict), 'HF_RATE_LIMIT 4/3 block 4', 'not alerted within a second of the last alert')
  d.nowMs = T0 + 1002
  t.equal(d.outcome(d.buy(1, 3100)), 'pass')
  t.equal(warningOf(d.verdict), 'HF_RATE_LIMIT 4/3 block 4 alert', 'alerted again a second later')
})

t.test('HF: hfDailyWarn and hfDailyBlock; cancels still pass', async (t) => {
  const d = setup({ hfDailyWarn: 3, hfDailyBlock: 5 }).desk()
  const a = d.buy(1, 3100)
  const b = d.buy(1, 3100)
  d.buy(1, 3100)
  t.equal(warningOf(d.verdict), 'HF_DAILY_LIMIT 3/3 block 5 alert')
  t.ok(d.requestCancel(a))
  t.equal(warningOf(d.verdict), 'HF_DAILY_LIMIT 4/3 block 5')
  t.equal(d.outcome(d.buy(1, 3100)), 'pass', 'the 5th action')
  t.equal(d.outcome(d.buy(1, 3100)), refusal(RejectReason.HF_DAILY_LIMIT, 5, 6))
  t.equal(d.outcome(d.requestCancel(b)), 'pass', 'cancels pass')
  t.equal(d.counters().actionsToday, 6, 'and count')
  t.ok(d.engine.rollTradingDay(20260106))
  t.equal(d.outcome(d.buy(1, 3100)), 'pass', 'a new day')
})

t.test('account throttle: THROTTLED_ACCOUNT for orders and cancels, across lanes', async (t) => {
  const { desk } = setup({ accountActionsPerSecond: 3 })
  const d = desk(PLATFORM)
  const h = desk(HFT)
  const at = (ms: number): void => { d.nowMs = T0 + ms; h.nowMs = T0 + ms }
  d.buy(1, 3100)
  at(10)
  const b = h.buy(1, 3100)
  at(20)
  t.equal(d.outcome(d.buy(1, 3100)), 'pass', 'the 3rd in one second')
  at(30)
  t.equal(d.outcome(d.buy(1, 3100)), refusal(RejectReason.THROTTLED_ACCOUNT, 3, 4))
  t.equal(h.outcome(h.requestCancel(b)), refusal(RejectReason.THROTTLED_ACCOUNT, 3, 4), 'cancels too, and on the other lane')
  at(999)
  t.equal(d.outcome(d.buy(1, 3100)), refusal(RejectReason.THROTTLED_ACCOUNT, 3, 4))
  at(1000)
  t.equal(d.outcome(d.buy(1, 3100)), 'pass', 'the first has left the window')
  at(1005)
  t.equal(h.outcome(h.buy(1, 3100)), refusal(RejectReason.THROTTLED_ACCOUNT, 3, 4), 'refusals were not recorded: 10, 20, 1000')
  at(1010)
  t.equal(h.outcome(h.requestCancel(b)), 'pass')
  t.equal(d.counters().actionsToday, 5)
})

t.test('scope precedence: account-instrument > account > app > lane > exchange > global', async (t) => {
  const { control, desk } = setup()
  const d = desk(PLATFORM)
  // Listed, as a lane does when the exchange sends reference data: live
  // scopes name only known instruments.
  d.instrument('rb2605')
  d.instrument('m2605')
  const noApp = new Desk(control, d.engine, MAKER, -1)
  const scopes = [
    [{ kind: 'account-instrument', account: MAKER, instrument: 'rb2605' }, 5],
    [{ kind: 'account', account: MAKER }, 10],
    [{ kind: 'app', appId: DEMO_APP_ID }, 20],
    [{ kind: 'lane', lane: 'platform' }, 30],
    [{ kind: 'exchange', exchange: 'SHFE' }, 40],
    [{ kind: 'global' }, 50],
  ] as const
  for (const [scope, value] of scopes) control.setLimit(scope, 'maxOrderLots', value)
  const effective = (): number | null => control.effectiveLimits({ lane: 'platform', appId: DEMO_APP_ID, account: MAKER, instrument: 'rb2605', exchange: 'SHFE' }).maxOrderLots
  for (let i = 0; i < scopes.length; i++) {
    const [scope, value] = scopes[i]!
    t.equal(d.outcome(d.buy(100, 3100)), refusal(RejectReason.QUANTITY_ABOVE_MAX, value, 100), `${scope.kind} wins`)
    t.equal(effective(), value)
    if (scope.kind === 'global') break
    t.same(control.setLimit(scope, 'maxOrderLots', undefined), { before: value, after: undefined })
    t.equal(control.limitAt(scope, 'maxOrderLots'), undefined, `${scope.kind} cleared`)
  }
  for (const [scope, value] of scopes) if (scope.kind !== 'global') control.setLimit(scope, 'maxOrderLots', value)
  t.equal(noApp.outcome(noApp.buy(100, 3100)), refusal(RejectReason.QUANTITY_ABOVE_MAX, 5, 100), 'no AppID still sees the account-instrument scope')
  control.setLimit({ kind: 'account-instrument', account: MAKER, instrument: 'rb2605' }, 'maxOrderLots', undefined)
  control.setLimit({ kind: 'account', account: MAKER }, 'maxOrderLots', undefined)
  t.equal(noApp.outcome(noApp.buy(100, 3100)), refusal(RejectReason.QUANTITY_ABOVE_MAX, 30, 100), 'no AppID skips the app scope')
  t.equal(d.outcome(d.buy(100, 2900, { symbol: 'm2605' })), refusal(RejectReason.QUANTITY_ABOVE_MAX, 20, 100), 'other instrument, app scope')
  control.setLimit({ kind: 'app', appId: DEMO_APP_ID }, 'maxOrderLots', undefined)
  control.setLimit({ kind: 'lane', lane: 'platform' }, 'maxOrderLots', undefined)
  t.equal(d.outcome(d.buy(100, 2900, { symbol: 'm2605' })), refusal(RejectReason.QUANTITY_ABOVE_MAX, 50, 100), 'DCE does not get the SHFE preset')
  const hft = desk(HFT)
  t.equal(hft.outcome(hft.buy(100, 3100)), refusal(RejectReason.QUANTITY_ABOVE_MAX, 40, 100), 'SHFE preset on another lane')
  control.setLimit({ kind: 'global' }, 'maxOrderLots', null)
  control.setLimit({ kind: 'exchange', exchange: 'SHFE' }, 'maxOrderLots', undefined)
  t.equal(d.outcome(d.buy(100, 3100)), 'pass', 'null at global: no limit')
})

t.test('setLimits validates every value first and changes nothing if one is wrong', async (t) => {
  const { control, desk } = setup({ maxOpenOrders: 5 })
  const d = desk()
  const scope = { kind: 'account', account: MAKER } as const
  const before = control.limitsAt(scope)
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['negative', { maxOpenOrders: 7, funds: -1 }, 'funds: must be a number of at least 0'],
    ['NaN', { maxOpenOrders: 7, funds: NaN }, 'funds: must be a number of at least 0'],
    ['fractional lots', { maxOpenOrders: 7, maxOrderLots: 1.5 }, 'maxOrderLots: must be a whole number'],
    ['past the rate ring', { maxOpenOrders: 7, hfBurstOrders: 2048 }, 'hfBurstOrders: must be at most 1024 (risk.capacity.rateRingSize)'],
    ['past the order table', { maxOpenOrders: 257 }, 'maxOpenOrders: must be at most 256 (risk.capacity.openOrdersPerAccount)'],
    ['switch out of range', { maxOpenOrders: 7, selfMatchMode: 2 }, 'selfMatchMode: must be 0 or 1'],
    ['switch lifted', { maxOpenOrders: 7, cancelOnDisconnect: null }, 'cancelOnDisconnect: is a switch'],
    ['unknown name', { maxOpenOrders: 7, maxOpenOrder: 3 }, 'maxOpenOrder: no such limit'],
    ['inherited property name', { maxOpenOrders: 7, toString: 3 }, 'toString: no such limit'],
    ['__proto__ from JSON', JSON.parse('{"maxOpenOrders": 7, "__proto__": 3}') as Record<string, unknown>, '__proto__: no such limit'],
  ]
  for (const [what, values, message] of cases) {
    t.throws(() => control.setLimits(scope, values as LimitSet), { name: 'RiskControlError', code: 'GH_ERR_INVALID_LIMIT' }, what)
    try {
      control.setLimits(scope, values as LimitSet)
    } catch (err) {
      t.ok(err instanceof RiskControlError && err.message.includes(message), `${what}: says "${message}"`)
    }
    t.same(control.limitsAt(scope), before, `${what}: nothing changed`)
  }
  t.throws(() => control.setLimits({ kind: 'global' }, { maxOpenOrders: undefined }), { code: 'GH_ERR_INVALID_LIMIT', message: /the global scope must set every limit/ })
  t.equal(control.limitAt({ kind: 'global' }, 'maxOpenOrders'), 200)
  t.throws(() => control.setLimits({ kind: 'account', account: 'nobody' }, { maxOpenOrders: 7 }), { code: 'GH_ERR_UNKNOWN_ACCOUNT' })
  for (let i = 0; i < 5; i++) d.buy(1, 3100)
  t.equal(d.outcome(d.buy(1, 3100)), refusal(RejectReason.MAX_OPEN_ORDERS, 5, 6), 'the engine still sees 5')
  t.same(control.setLimits(scope, { maxOpenOrders: 7, funds: 100_000.5 }), {
    maxOpenOrders: { before: 5, after: 7 },
    funds: { before: undefined, after: 100_000.5 },
  }, 'a valid change reports before and after')
  t.equal(d.outcome(d.buy(1, 3100)), 'pass', 'and takes effect on the next order')
})

t.test('rollTradingDay clears daily counters, not positions or working orders', async (t) => {
  const { desk } = setup({ cancelsWarn: 1, cancelsBlock: 2, hfBurstOrders: 2 })
  const d = desk(PLATFORM)
  const h = desk(HFT)
  t.ok(d.engine.rollTradingDay(20260105))
  d.sell(1, 3300)
  t.equal(d.outcome(d.buy(1, 3300)), refusal(RejectReason.SELF_MATCH_PREVENTED, 3300, 3300))
  d.fill(d.buy(3, 3100), 3)
  t.ok(d.cancel(d.buy(300, 3100)))
  t.ok(d.cancel(d.buy(1, 3100)))
  t.equal(d.outcome(d.buy(1, 3100)), refusal(RejectReason.CANCEL_LIMIT, 2, 2))
  t.match(d.counters(), { tradedLotsToday: 3, actionsToday: 6, hfBurstsToday: 1 })
  t.match(d.position(), { tradedLotsToday: 3, cancelsToday: 2, largeCancelsToday: 1, selfTradesToday: 1 })

  t.ok(d.engine.rollTradingDay(20260106), 'the first thread to see the day clears')
  t.notOk(h.engine.rollTradingDay(20260106), 'the others find it done')
  t.notOk(d.engine.rollTradingDay(20260106))
  t.match(d.counters(), { tradedLotsToday: 0, actionsToday: 0, hfBurstsToday: 0, openOrders: 1, openLots: 1, reservedFen: marginPerLotFen(d.instrument('rb2605'), 3300) })
  t.match(d.position(), {
    tradedLotsToday: 0, cancelsToday: 0, largeCancelsToday: 0, selfTradesToday: 0, workingSellLots: 1,
    longTodayLots: 0, longYesterdayLots: 3, openedLotsToday: 0, workingOpenShortLots: 1,
  }, 'the 3 lots bought are yesterday\'s now; the working sell still works')
  t.equal(d.outcome(d.buy(1, 3100)), 'pass', 'no longer blocked')
})

t.test('an account has room for instrumentsPerAccount contracts', async (t) => {
  const d = setup().desk()
  for (const symbol of ['rb2605', 'm2605', 'IF2606', ODD.symbol]) {
    const price = d.instrument(symbol).referencePrice
    t.equal(d.outcome(d.buy(1, price, { symbol })), 'pass', symbol)
  }
  t.equal(d.outcome(d.buy(1, 5600, { symbol: 'SR605' })), refusal(RejectReason.INSTRUMENT_SLOTS_EXHAUSTED, 4, 5))
})

// ---- futures positions: offsets, the close rules, the opening-volume monitor, the roll ----

t.test('closes: the lots available by offset flag and the exchange\'s rule, else CLOSE_EXCEEDS_POSITION', async (t) => {
  const { desk } = setup()
  const d = desk()
  t.ok(d.engine.rollTradingDay(20260105))
  // SHFE (rb2605): a plain close takes yesterday's lots only.
  d.fill(d.buy(5, 3100), 5)
  t.equal(d.outcome(d.sell(1, 3300, CLOSE)), refusal(RejectReason.CLOSE_EXCEEDS_POSITION, 0, 1), 'SHFE: today\'s lots need OFFSET_CLOSE_TODAY')
  t.equal(d.outcome(d.sell(1, 3300, { offset: OffsetFlag.OFFSET_CLOSE_YESTERDAY })), refusal(RejectReason.CLOSE_EXCEEDS_POSITION, 0, 1))
  const today = d.sell(5, 3300, { offset: OffsetFlag.OFFSET_CLOSE_TODAY })
  t.equal(d.outcome(today), 'pass')
  t.equal(d.outcome(d.sell(1, 3300, { offset: OffsetFlag.OFFSET_CLOSE_TODAY })), refusal(RejectReason.CLOSE_EXCEEDS_POSITION, 0, 1), 'all 5 frozen')
  t.ok(d.cancel(today))
  t.ok(d.engine.rollTradingDay(20260106))
  t.match(d.position(), { longTodayLots: 0, longYesterdayLots: 5 })
  t.equal(d.outcome(d.sell(6, 3300, CLOSE)), refusal(RejectReason.CLOSE_EXCEEDS_POSITION, 5, 6), 'limit: the lots available')
  t.equal(d.outcome(d.sell(3, 3300, CLOSE)), 'pass', 'SHFE: a plain close takes yesterday\'s')
  t.equal(d.outcome(d.sell(1, 3300, { offset: OffsetFlag.OFFSET_CLOSE_TODAY })), refusal(RejectReason.CLOSE_EXCEEDS_POSITION, 0, 1))
  t.match(d.position(), { longYesterdayFrozenLots: 3, longTodayFrozenLots: 0 })

  // DCE (m2605): a plain close takes today's first, then yesterday's.
  d.fill(d.sell(4, 3000, { symbol: 'm2605' }), 4)
  t.ok(d.engine.rollTradingDay(20260107))
  d.fill(d.sell(2, 3000, { symbol: 'm2605' }), 2)
  t.match(d.position('m2605'), { shortTodayLots: 2, shortYesterdayLots: 4 })
  const all = d.buy(5, 2900, { symbol: 'm2605', offset: OffsetFlag.OFFSET_CLOSE })
  t.equal(d.outcome(all), 'pass')
  t.match(d.position('m2605'), { shortTodayFrozenLots: 2, shortYesterdayFrozenLots: 3 }, 'today\'s 2 first, then 3 of yesterday\'s')
  t.equal(d.outcome(d.buy(2, 2900, { symbol: 'm2605', offset: OffsetFlag.OFFSET_CLOSE })), refusal(RejectReason.CLOSE_EXCEEDS_POSITION, 1, 2))
  t.equal(d.outcome(d.buy(1, 2900, { symbol: 'm2605', offset: OffsetFlag.OFFSET_CLOSE_TODAY })), refusal(RejectReason.CLOSE_EXCEEDS_POSITION, 0, 1))
  t.equal(d.outcome(d.buy(1, 2900, { symbol: 'm2605', offset: OffsetFlag.OFFSET_CLOSE_YESTERDAY })), 'pass')
  // A partial fill takes today's frozen lots first; the cancel releases the rest.
  d.fill(all, 3)
  t.match(d.position('m2605'), { shortTodayLots: 0, shortYesterdayLots: 3, shortTodayFrozenLots: 0, shortYesterdayFrozenLots: 3 })
  t.ok(d.cancel(all))
  t.match(d.position('m2605'), { shortYesterdayLots: 3, shortYesterdayFrozenLots: 1 }, 'only the OFFSET_CLOSE_YESTERDAY order\'s lot stays frozen')
})

t.test('margin is reserved for opens only; closes are not counted by the per-side limits', async (t) => {
  const rb = listed('rb2605')
  const perLot = 224_000 // 3200 × 10 × 7%
  const d = setup({ funds: 2240, maxShortLots: 0 }).desk()
  d.fill(d.buy(1, 3200), 1)
  t.equal(d.counters().reservedFen, 0)
  t.equal(d.outcome(d.buy(1, 3200)), 'pass', 'one lot of margin')
  t.equal(d.counters().reservedFen, perLot)
  t.equal(d.outcome(d.sell(1, 3300)), refusal(RejectReason.POSITION_LIMIT_SHORT, 0, 1), 'an opening sell is a short')
  const close = d.sell(1, 3300, { offset: OffsetFlag.OFFSET_CLOSE_TODAY })
  t.equal(d.outcome(close), 'pass', 'a close needs no margin and no short room')
  t.equal(d.counters().reservedFen, perLot, 'and reserves none')
  d.fill(close, 1)
  t.match(d.counters(), { reservedFen: perLot, openOrders: 1 })
  t.match(d.position(rb.symbol), { longTodayLots: 0, longTodayFrozenLots: 0 })
})

t.test('opening-volume monitor: filled and working opens per contract per day; closes and hedge orders not counted', async (t) => {
  const { desk } = setup({ openVolumeWarn: 4, openVolumeBlock: 8, cancelsWarn: 1, cancelsBlock: 2 })
  const d = desk()
  t.ok(d.engine.rollTradingDay(20260105))
  const warnings: string[] = []
  const a = d.buy(2, 3100)
  warnings.push(warningOf(d.verdict))
  const b = d.sell(2, 3300)
  warnings.push(warningOf(d.verdict))
  const c = d.buy(1, 3100)
  warnings.push(warningOf(d.verdict))
  t.same([a, b, c].map((slot) => d.outcome(slot)), ['pass', 'pass', 'pass'])
  t.same(warnings, ['none', 'OPEN_VOLUME_LIMIT 4/4 block 8 alert', 'OPEN_VOLUME_LIMIT 5/4 block 8'], 'both sides count; alert once, at the crossing')
  d.fill(a, 2)
  d.fill(b, 2)
  t.match(d.position(), { openedLotsToday: 4, workingOpenLongLots: 1, workingOpenShortLots: 0 })
  t.equal(d.outcome(d.buy(3, 3100)), refusal(RejectReason.OPEN_VOLUME_LIMIT, 8, 8), 'an open that would reach the blocking level')
  t.equal(d.outcome(d.buy(2, 3100)), 'pass', '4 opened + 1 + 2 working = 7')
  t.equal(d.outcome(d.buy(1, 3100)), refusal(RejectReason.OPEN_VOLUME_LIMIT, 8, 8))
  t.equal(d.outcome(d.sell(2, 3300, { offset: OffsetFlag.OFFSET_CLOSE_TODAY })), 'pass', 'closes pass and are not counted')
  const hedge = d.buy(5, 3100, { hedge: HedgeFlag.HEDGE_HEDGE })
  t.equal(d.outcome(hedge), 'pass', 'hedge orders are not counted')
  t.equal(warningOf(d.verdict), 'none')
  t.ok(d.cancel(hedge))
  t.equal(d.position().cancelsToday, 0, 'nor are their cancels')
  d.fill(d.buy(1, 3100, { hedge: HedgeFlag.HEDGE_HEDGE }), 1)
  t.match(d.position(), { openedLotsToday: 4, longTodayLots: 3 })
  t.equal(d.outcome(d.buy(1, 2900, { symbol: 'm2605' })), 'pass', 'per contract')
  t.ok(d.cancel(c))
  t.equal(d.outcome(d.buy(1, 3100)), 'pass', 'a cancelled open no longer counts')
  t.ok(d.engine.rollTradingDay(20260106))
  t.equal(d.position().openedLotsToday, 0, 'daily')
})

t.test('rollTradingDay: every book and every working close\'s split roll, under the account lock; carried positions listed', async (t) => {
  const { control, desk } = setup()
  const d = desk()
  const taker = desk(PLATFORM, TAKER)
  t.ok(d.engine.rollTradingDay(20260105))
  d.fill(d.buy(5, 2900, { symbol: 'm2605' }), 5)
  taker.fill(taker.sell(3, 3300), 3)
  const close = d.sell(4, 3000, { symbol: 'm2605', offset: OffsetFlag.OFFSET_CLOSE })
  t.match(d.position('m2605'), { longTodayLots: 5, longTodayFrozenLots: 4 })
  const carried: CarriedPosition[] = []
  t.ok(d.engine.rollTradingDay(20260106, carried))
  t.match(d.position('m2605'), { longTodayLots: 0, longYesterdayLots: 5, longTodayFrozenLots: 0, longYesterdayFrozenLots: 4 })
  t.same(carried.map((c) => [c.account, c.instrument, c.longYesterdayLots, c.shortYesterdayLots]), [
    [control.accountIndex(MAKER), d.instrument('m2605').index, 5, 0],
    [control.accountIndex(TAKER), d.instrument('rb2605').index, 0, 3],
  ])
  // The working close now holds yesterday's lots: its fill and cancel take them back exactly.
  d.fill(close, 1)
  t.match(d.position('m2605'), { longYesterdayLots: 4, longYesterdayFrozenLots: 3 })
  t.ok(d.cancel(close))
  t.match(d.position('m2605'), { longYesterdayLots: 4, longYesterdayFrozenLots: 0 })
  t.equal(d.outcome(d.sell(4, 3000, { symbol: 'm2605', offset: OffsetFlag.OFFSET_CLOSE_YESTERDAY })), 'pass')
})

t.test('self-match prevention compares buys and sells whatever their offset', async (t) => {
  const d = setup().desk()
  d.fill(d.buy(2, 3100), 2)
  t.equal(d.outcome(d.buy(1, 3200)), 'pass', 'an opening buy (long book)')
  t.equal(d.outcome(d.sell(1, 3200, { offset: OffsetFlag.OFFSET_CLOSE_TODAY })), refusal(RejectReason.SELF_MATCH_PREVENTED, 3200, 3200),
    'a closing sell (the long book) would trade with it')
  t.equal(d.outcome(d.sell(1, 3150)), refusal(RejectReason.SELF_MATCH_PREVENTED, 3150, 3200), 'an opening sell (short book) too')
})
