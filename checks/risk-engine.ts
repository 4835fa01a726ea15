// The pre-trade risk engine, one instance per lane thread, all of them
// working on the same shared risk state (risk-layout.ts). It decides every
// new order and cancel inline, on the lane thread, and keeps positions,
// reservations and counters current from execution reports.
//
// Per new order (checkNewOrder), in order:
//   1. limits resolved for this order's scopes (seqlock read)
//   2. kill switches, trading state, per-order checks: size, band, notional
//   3. under the account lock, atomically check and reserve:
//      monitors' blocking levels, throttle, reducing/reduce-only (close
//      orders only), open orders; a close: the lots it may close
//      (position-book.ts); an open: the per-side position limit and the
//      opening-volume monitor; daily volume, funds (opens only), self-match
//      prevention; then take an order slot, freeze the close's lots or
//      count the open's working lots and reserve its margin, count the action
//
// Positions are futures positions (checks/position-book.ts, the one place
// their arithmetic is written): long and short held separately, today's
// and yesterday's, with the lots working close orders froze.
//
// Cancels are never refused for risk: only throttles apply to them.
// Nothing here allocates per order: verdicts go into a caller-owned object
// and scratch arrays are reused.
import { HedgeFlag, RejectReason, Side, TimeInForce, wireInt, type Instrument } from '../protocol/messages.js'
import {
  BOOK_LONG_TODAY, BOOK_LONG_YESTERDAY, BOOK_SHORT_TODAY, BOOK_SHORT_YESTERDAY, availableToClose, bucketOf, closeKind,
  closeRuleOf, effectiveOffset, fillClose, fillOpen, freezeClose, heldLots, isClose, releaseClose, rollBook, rollFrozen,
  type CloseRule,
} from './position-book.js'
import { lockSlot, unlockSlot } from './account-lock.js'
import { Limit, LIMIT_COUNT, SELF_MATCH_CANCEL_RESTING } from './limits.js'
import {
  ACCOUNT_CTL_USED_SLOTS, ACCOUNT_CTL_KILL, ACCOUNT_CTL_LOCK, ACCOUNT_CTL_PROGRAMMATIC_REPORT, ACCOUNT_CTL_TRADING_STATE,
  ACCOUNT_DAILY_ACTIONS, ACCOUNT_DAILY_TRADED_LOTS, ACCOUNT_FIELDS, ACCOUNT_HF_BURSTS, ACCOUNT_HF_RATE_ALERT_MS,
  ACCOUNT_LAST_BURST_MS, ACCOUNT_OPEN_LOTS, ACCOUNT_OPEN_ORDERS, ACCOUNT_RESERVED_FEN, ACCOUNT_RING_HEAD,
  CTL_GLOBAL_LOCK, CTL_INSTRUMENT_COUNT, CTL_KILL_GLOBAL, CTL_KILL_LANE, CTL_LIMITS_SEQ, CTL_TRADING_DAY, EXCHANGES,
  INSTRUMENT_CTL_EXCHANGE, INSTRUMENT_CTL_KILL, ORDER_CANCEL_SENT, ORDER_FIELDS, ORDER_FREE, ORDER_FROZEN, ORDER_HEDGE, ORDER_LANE, ORDER_LARGE, ORDER_LIST_INDEX, ORDER_OFFSET,
  ORDER_LEAVES_LOTS, ORDER_LINK_ORDER_ID, ORDER_MARGIN_PER_LOT_FEN, ORDER_POSITION_SLOT, ORDER_PRICE,
  ORDER_QUANTITY_LOTS, ORDER_SIDE, ORDER_STATE, ORDER_TIME_IN_FORCE, ORDER_WORKING, POSITION_DAILY_CANCELS,
  POSITION_DAILY_LARGE_CANCELS, POSITION_DAILY_SELF_TRADES, POSITION_DAILY_TRADED_LOTS, POSITION_FIELDS,
  POSITION_INSTRUMENT, POSITION_LIMIT_ROW, POSITION_MAX_BUY_PRICE, POSITION_MIN_SELL_PRICE, POSITION_WORKING_BUY_LOTS, POSITION_WORKING_BUY_ORDERS,
  POSITION_WORKING_SELL_LOTS, POSITION_WORKING_SELL_ORDERS, REPORT_CONFIRMED, ROW_FIRST_EXCHANGE, ROW_FIRST_LANE,
  ROW_GLOBAL, SYMBOL_BYTES, TRADING_HALTED, ACCOUNT_NAME_BYTES, POSITION_BOOK, POSITION_DAILY_OPENED_LOTS,
  POSITION_WORKING_OPEN_LONG_LOTS, POSITION_WORKING_OPEN_SHORT_LOTS, POSITION_WORKING_OPEN_HEDGE_LOTS, TRADING_REDUCING, RiskViews, accountInstrumentRow, accountRow, appRow,
  type RiskBuffers,
} from './risk-layout.js'
import { countInWindow, pushTimestamp, windowHolds } from './sliding-window.js'
import type { HandedOverToday } from '../journal/gateway-records.js'

const ONE_SECOND_MS = 1000

/**
 * Slots of RiskEngine.input: the per-order values that are not small
 * integers (epoch milliseconds, link order IDs, prices). Passed as
 * arguments to a function V8 does not inline, each would be boxed into a
 * new HeapNumber per order; read from a Float64Array they stay unboxed.
 */
export const IN_NOW_MS = 0
export const IN_PRICE = 1
export const IN_LINK_ORDER_ID = 2
const INPUT_FIELDS = 3
const BPS = 10_000
/** Money is kept in fen (0.01 currency units) so reservations add and subtract exactly. */
const FEN_PER_UNIT = 100

/** Scope codes reported as `observed` on a KILL_SWITCH reject. */
export const KILL_SCOPE_GLOBAL = 1
export const KILL_SCOPE_LANE = 2
export const KILL_SCOPE_ACCOUNT = 3
export const KILL_SCOPE_INSTRUMENT = 4

/** Who is trading: fixed per session at logon. */
export interface RiskContext {
  lane: number
  app: number
  account: number
}

/** Reference data the checks need, derived once per instrument at link up. */
export interface InstrumentRisk {
  symbol: string
  index: number
  exchange: number
  multiplier: number
  /** 10^price_decimals: integer price units per currency unit. */
  priceScale: number
  marginRateBps: number
  referencePrice: number
  maxOrderLots: number
  /** How the instrument's exchange applies a plain close (position-book.ts closeRuleOf). */
  closeRule: CloseRule
}

/**
 * One account × contract position carried into a new trading day: its
 * lots held after the roll, all of them yesterday's now. The lane that
 * rolled the day journals these (recovery reads only the newest day).
 */
export interface CarriedPosition {
  account: number
  instrument: number
  longYesterdayLots: number
  shortYesterdayLots: number
}

/**
 * Outcome of a check, reused for every message. reason 0 = pass. A
 * warning (monitor at or past its warning level) may be set either way;
 * alert asks the caller to tell ops (set once per crossing).
 */
export interface RiskVerdict {
  reason: number
  limit: number
  observed: number
  warningMonitor: number
  warningObserved: number
  warningLevel: number
  blockingLevel: number
  alert: boolean
  /** Self-match prevention in cancel-resting mode: this lane's resting orders to cancel first. */
  cancelCount: number
  readonly cancelLinkOrderIds: Float64Array
  readonly cancelOrderSlots: Int32Array
}

export function newRiskVerdict (maxCancels: number): RiskVerdict {
  return {
    reason: 0, limit: 0, observed: 0,
    warningMonitor: 0, warningObserved: 0, warningLevel: 0, blockingLevel: 0, alert: false,
    cancelCount: 0, cancelLinkOrderIds: new Float64Array(maxCancels), cancelOrderSlots: new Int32Array(maxCancels),
  }
}

function clearVerdict (verdict: RiskVerdict): void {
  verdict.reason = 0
  verdict.limit = 0
  verdict.observed = 0
  verdict.warningMonitor = 0
  verdict.alert = false
  verdict.cancelCount = 0
}

function reject (verdict: RiskVerdict, reason: number, limit: number, observed: number): false {
  verdict.reason = reason
  verdict.limit = limit
  verdict.observed = observed
  return false
}

function warn (verdict: RiskVerdict, monitor: number, observed: number, warning: number, blocking: number, crossed: boolean): void {
  verdict.warningMonitor = monitor
  verdict.warningObserved = observed
  verdict.warningLevel = warning
  verdict.blockingLevel = blocking
  if (crossed) verdict.alert = true
}

/** fen reserved per lot: price × multiplier × margin rate, rounded up so a reservation is never short. */
export function marginPerLotFen (instrument: InstrumentRisk, price: number): number {
  return Math.ceil(price * instrument.multiplier * instrument.marginRateBps * FEN_PER_UNIT / (instrument.priceScale * BPS))
}

export function notionalFen (instrument: InstrumentRisk, price: number, lots: number): number {
  return Math.ceil(price * lots * instrument.multiplier * FEN_PER_UNIT / instrument.priceScale)
}

/**
 * A money limit (currency units, may have cents) in whole fen. Rounded
 * because cents are not exact in binary: 1151.12 × 100 is
 * 115111.99999999999, which would refuse a reservation of exactly 115112.
 */
export function unitsToFen (units: number): number {
  return Math.round(units * FEN_PER_UNIT)
}

export class RiskEngine {
  readonly views: RiskViews
  /** Per-message inputs that are not small integers (IN_* slots); the lane writes them before each check. */
  readonly input = new Float64Array(INPUT_FIELDS)
  /** Scratch row for uncached resolution (ops queries). */
  readonly resolved = new Float64Array(LIMIT_COUNT + 1)
  /**
   * Resolved limits per (scopes) key, each tagged in its last slot with the
   * limits seqlock value it was resolved at. Any limit change anywhere bumps
   * the seqlock, so a stale row is noticed on its next use and resolved
   * again: live changes still apply from the very next message.
   */
  private readonly resolvedCache = new Map<number, Float64Array>()
  private readonly rows = new Int32Array(6)
  private readonly instrumentIndexes = new Map<string, number>()
  /** (account × instruments capacity + instrument) → position slot; slots are never freed within a run. */
  private readonly slotCache = new Map<number, number>()
  private readonly ringMask: number
  private readonly encoder = new TextEncoder()

  constructor (buffers: RiskBuffers, readonly lane: number) {
    this.views = new RiskViews(buffers)
    this.ringMask = buffers.capacity.rateRingSize - 1
  }

  // ---- reference data ----------------------------------------------------

  /** The shared index of a symbol, assigned on first sight by any thread. -1 if the table is full. */
  instrumentIndex (symbol: string, exchange: string): number {
    const cached = this.instrumentIndexes.get(symbol)
    if (cached !== undefined) return cached
    const { control, symbols, capacity } = this.views
    const bytes = this.encoder.encode(symbol).subarray(0, SYMBOL_BYTES - 1)
    lockSlot(control, CTL_GLOBAL_LOCK)
    try {
      const count = Atomics.load(control, CTL_INSTRUMENT_COUNT)
      for (let i = 0; i < count; i++) {
        if (symbolEquals(symbols, i, bytes)) {
          this.instrumentIndexes.set(symbol, i)
          return i
        }
      }
      if (count >= capacity.instruments) return -1
      symbols[count * SYMBOL_BYTES] = bytes.length
      symbols.set(bytes, count * SYMBOL_BYTES + 1)
      Atomics.store(control, this.views.instrumentCtl(count) + INSTRUMENT_CTL_EXCHANGE, EXCHANGES.indexOf(exchange as typeof EXCHANGES[number]))
      Atomics.store(control, CTL_INSTRUMENT_COUNT, count + 1)
      this.instrumentIndexes.set(symbol, count)
      return count
    } finally {
      unlockSlot(control, CTL_GLOBAL_LOCK)
    }
  }

  /** What the checks need of an instrument, with its shared index; null if the instrument table is full. */
  instrumentRisk (instrument: Instrument): InstrumentRisk | null {
    const index = this.instrumentIndex(instrument.symbol, instrument.exchange)
    if (index < 0) return null
    return {
      symbol: instrument.symbol,
      index,
      exchange: EXCHANGES.indexOf(instrument.exchange as typeof EXCHANGES[number]),
      multiplier: instrument.multiplier,
      priceScale: 10 ** instrument.priceDecimals,
      marginRateBps: instrument.marginRateBps,
      referencePrice: wireInt(instrument.referencePrice),
      maxOrderLots: instrument.maxOrderLots,
      closeRule: closeRuleOf(instrument.exchange),
    }
  }

  /** The account's slot for an instrument, allocated on first use; -1 if the account's slots are full. */
  positionSlot (account: number, instrument: number): number {
    const { capacity, control, positions } = this.views
    const key = account * capacity.instruments + instrument
    const cached = this.slotCache.get(key)
    if (cached !== undefined) return cached
    const lock = this.views.accountCtl(account) + ACCOUNT_CTL_LOCK
    lockSlot(control, lock)
    let found = -1
    const base = account * capacity.instrumentsPerAccount
    for (let slot = 0; slot < capacity.instrumentsPerAccount; slot++) {
      const tag = positions[(base + slot) * POSITION_FIELDS + POSITION_INSTRUMENT]!
      if (tag === instrument + 1) { found = slot; break }
      if (tag === 0) {
        positions[(base + slot) * POSITION_FIELDS + POSITION_INSTRUMENT] = instrument + 1
        found = slot
        break
      }
    }
    unlockSlot(control, lock)
    if (found >= 0) this.slotCache.set(key, found)
    return found
  }

  /**
   * A new trading day: daily counters start again. The first thread to see
   * the new day clears them; the others find it done.
   *
   * The day is published only once every account is cleared, and the
   * clearing runs under the global lock, so a thread that finds the day
   * set (at once, or after waiting for the lock) books onto counters that
   * nothing will clear any more. It used to publish the day first (one
   * compareExchange) and clear after: another lane thread saw the day,
   * went on booking, and whatever it booked into an account the clearing
   * had not reached yet was wiped. At start every lane replays its journal
   * at once, each beginning with this call, so recovered daily counters
   * (actions, volume, cancels, self-trades) of accounts late in the table
   * were lost (test/journal-recovery.test.ts, "two lanes replaying at once").
   */
  rollTradingDay (day: number, carried: CarriedPosition[] | null = null): boolean {
    const { control } = this.views
    if (Atomics.load(control, CTL_TRADING_DAY) === day) return false
    // Lock order: global, then each account's (no path takes them the other way).
    lockSlot(control, CTL_GLOBAL_LOCK)
    try {
      if (Atomics.load(control, CTL_TRADING_DAY) === day) return false
      this.rollAccounts(carried)
      Atomics.store(control, CTL_TRADING_DAY, day)
      return true
    } finally {
      unlockSlot(control, CTL_GLOBAL_LOCK)
    }
  }

  /**
   * Each account, under its lock: daily counters cleared, today's lots
   * become yesterday's (rollBook) and so do the splits of its working
   * close orders (rollFrozen), so no thread ever sees a book rolled and
   * its orders not. Positions held after the roll go into `carried`.
   */
  private rollAccounts (carried: CarriedPosition[] | null): void {
    const { control, capacity, accountState, positions, orders, orderSlots } = this.views
    for (let account = 0; account < capacity.accounts; account++) {
      const lock = this.views.accountCtl(account) + ACCOUNT_CTL_LOCK
      lockSlot(control, lock)
      const a = account * ACCOUNT_FIELDS
      accountState[a + ACCOUNT_DAILY_TRADED_LOTS] = 0
      accountState[a + ACCOUNT_DAILY_ACTIONS] = 0
      accountState[a + ACCOUNT_HF_BURSTS] = 0
      accountState[a + ACCOUNT_LAST_BURST_MS] = 0
      for (let slot = 0; slot < capacity.instrumentsPerAccount; slot++) {
        const p = (account * capacity.instrumentsPerAccount + slot) * POSITION_FIELDS
        positions[p + POSITION_DAILY_TRADED_LOTS] = 0
        positions[p + POSITION_DAILY_CANCELS] = 0
        positions[p + POSITION_DAILY_LARGE_CANCELS] = 0
        positions[p + POSITION_DAILY_SELF_TRADES] = 0
        positions[p + POSITION_DAILY_OPENED_LOTS] = 0
        const tag = positions[p + POSITION_INSTRUMENT]!
        if (tag === 0) continue
        rollBook(positions, p + POSITION_BOOK)
        const longYesterday = positions[p + POSITION_BOOK + BOOK_LONG_YESTERDAY]!
        const shortYesterday = positions[p + POSITION_BOOK + BOOK_SHORT_YESTERDAY]!
        if (carried !== null && (longYesterday > 0 || shortYesterday > 0)) {
          carried.push({ account, instrument: tag - 1, longYesterdayLots: longYesterday, shortYesterdayLots: shortYesterday })
        }
      }
      const base = account * capacity.openOrdersPerAccount
      const used = control[this.views.accountCtl(account) + ACCOUNT_CTL_USED_SLOTS]!
      for (let k = 0; k < used; k++) {
        const o = (base + orderSlots[base + k]!) * ORDER_FIELDS
        if (orders[o + ORDER_STATE] !== ORDER_FREE && isClose(orders[o + ORDER_OFFSET]!)) rollFrozen(orders, o + ORDER_FROZEN)
      }
      unlockSlot(control, lock)
    }
  }

  /**
   * Recovery: a position the journal shows was carried into the current
   * day (CarriedPosition), added to the yesterday lots of the account's
   * book. Added, not set: orders and fills replayed before the record
   * (another lane's, journaled a moment earlier) have already moved the
   * book by exactly what they moved it live.
   */
  restoreCarriedPosition (account: number, instrument: number, longYesterdayLots: number, shortYesterdayLots: number, today?: HandedOverToday): boolean {
    const slot = this.positionSlot(account, instrument)
    if (slot < 0) return false
    const { control, positions, capacity } = this.views
    const base = (account * capacity.instrumentsPerAccount + slot) * POSITION_FIELDS
    const p = base + POSITION_BOOK
    const lock = this.views.accountCtl(account) + ACCOUNT_CTL_LOCK
    lockSlot(control, lock)
    positions[p + BOOK_LONG_YESTERDAY] = positions[p + BOOK_LONG_YESTERDAY]! + longYesterdayLots
    positions[p + BOOK_SHORT_YESTERDAY] = positions[p + BOOK_SHORT_YESTERDAY]! + shortYesterdayLots
    // An account handed over by another instance mid-day: its day so far
    // counts here as it did there (positions and the daily monitors).
    if (today !== undefined) {
      positions[p + BOOK_LONG_TODAY] = positions[p + BOOK_LONG_TODAY]! + today.longTodayLots
      positions[p + BOOK_SHORT_TODAY] = positions[p + BOOK_SHORT_TODAY]! + today.shortTodayLots
      positions[base + POSITION_DAILY_TRADED_LOTS] = positions[base + POSITION_DAILY_TRADED_LOTS]! + today.tradedLotsToday
      positions[base + POSITION_DAILY_CANCELS] = positions[base + POSITION_DAILY_CANCELS]! + today.cancelsToday
      positions[base + POSITION_DAILY_LARGE_CANCELS] = positions[base + POSITION_DAILY_LARGE_CANCELS]! + today.largeCancelsToday
      positions[base + POSITION_DAILY_SELF_TRADES] = positions[base + POSITION_DAILY_SELF_TRADES]! + today.selfTradesToday
      positions[base + POSITION_DAILY_OPENED_LOTS] = positions[base + POSITION_DAILY_OPENED_LOTS]! + today.openedLotsToday
    }
    unlockSlot(control, lock)
    return true
  }

  /** Recovery and an account move: account-wide daily counters handed over from another instance, added to this one's. */
  restoreAccountDaily (account: number, tradedLotsToday: number, actionsToday: number, hfBurstsToday: number): void {
    const { control, accountState } = this.views
    const a = account * ACCOUNT_FIELDS
    const lock = this.views.accountCtl(account) + ACCOUNT_CTL_LOCK
    lockSlot(control, lock)
    accountState[a + ACCOUNT_DAILY_TRADED_LOTS] = accountState[a + ACCOUNT_DAILY_TRADED_LOTS]! + tradedLotsToday
    accountState[a + ACCOUNT_DAILY_ACTIONS] = accountState[a + ACCOUNT_DAILY_ACTIONS]! + actionsToday
    accountState[a + ACCOUNT_HF_BURSTS] = accountState[a + ACCOUNT_HF_BURSTS]! + hfBurstsToday
    unlockSlot(control, lock)
  }

  // ---- limits ------------------------------------------------------------

  /**
   * Resolves every limit for one message into `resolved`: for each limit
   * the narrowest scope that sets it. Pass slot -1 (no instrument) or
   * exchange -1 to skip those scopes. A seqlock read: retried if an admin
   * write overlapped it, so a message never sees half of a change.
   */
  resolveLimits (ctx: RiskContext, slot: number, exchange: number, out: Float64Array = this.resolved): Float64Array {
    const { control, limits, capacity } = this.views
    const rows = this.rows
    const ownRow = slot >= 0 ? this.views.positions[(ctx.account * capacity.instrumentsPerAccount + slot) * POSITION_FIELDS + POSITION_LIMIT_ROW]! : 0
    rows[0] = ownRow > 0 ? accountInstrumentRow(capacity, ownRow - 1) : -1
    rows[1] = accountRow(capacity, ctx.account)
    rows[2] = ctx.app >= 0 ? appRow(ctx.app) : -1
    rows[3] = ROW_FIRST_LANE + ctx.lane
    rows[4] = exchange >= 0 ? ROW_FIRST_EXCHANGE + exchange : -1
    rows[5] = ROW_GLOBAL
    for (;;) {
      const before = Atomics.load(control, CTL_LIMITS_SEQ)
      if ((before & 1) === 0) {
        for (let id = 0; id < LIMIT_COUNT; id++) {
          let value = NaN
          for (let r = 0; r < 6; r++) {
            const row = rows[r]!
            if (row < 0) continue
            value = limits[row * LIMIT_COUNT + id]!
            if (value === value) break // not NaN: set at this scope
          }
          out[id] = value
        }
        if (Atomics.load(control, CTL_LIMITS_SEQ) === before) {
          out[LIMIT_COUNT] = before
          return out
        }
      }
    }
  }

  /**
   * The limits for a session's messages on one instrument (slot -1: no
   * instrument), from the cache while no limit has changed since they were
   * resolved: one Atomics.load and one Map lookup per message instead of a
   * walk over every scope.
   */
  limitsFor (ctx: RiskContext, slot: number, exchange: number): Float64Array {
    const { capacity } = this.views
    // Unique per (account, slot, lane, app); a slot's instrument, hence its exchange, never changes.
    const scope = ctx.account * (capacity.instrumentsPerAccount + 1) + slot + 1
    const key = (scope * 4 + ctx.lane) * (capacity.appIds + 1) + ctx.app + 1
    let cached = this.resolvedCache.get(key)
    if (cached === undefined) {
      cached = new Float64Array(LIMIT_COUNT + 1)
      cached[LIMIT_COUNT] = -1
      this.resolvedCache.set(key, cached)
    }
    if (cached[LIMIT_COUNT] !== Atomics.load(this.views.control, CTL_LIMITS_SEQ)) this.resolveLimits(ctx, slot, exchange, cached)
    return cached
  }

  // ---- new orders ----------------------------------------------------------

  /**
   * Checks a new order and, if it passes, reserves for it atomically.
   * Returns the order's slot in the account's order table (pass it to
   * onFill/onOrderDone), or -1 with the verdict saying why. offsetFlag and
   * hedgeFlag are the OffsetFlag and HedgeFlag values (unset: open, or a
   * plain close on a reduce_only order; speculation).
   */
  checkNewOrder (
    ctx: RiskContext, instrument: InstrumentRisk, side: number, price: number, lots: number,
    timeInForce: number, reduceOnly: boolean, linkOrderId: number, nowMs: number, verdict: RiskVerdict,
    offsetFlag = 0, hedgeFlag = 0,
  ): number {
    this.input[IN_PRICE] = price
    this.input[IN_LINK_ORDER_ID] = linkOrderId
    this.input[IN_NOW_MS] = nowMs
    return this.checkNewOrderInput(ctx, instrument, side, lots, timeInForce, reduceOnly, offsetFlag, hedgeFlag, verdict)
  }

  /** checkNewOrder with price, link order ID and time already in `input` (the lane's allocation-free call). */
  checkNewOrderInput (ctx: RiskContext, instrument: InstrumentRisk, side: number, lots: number, timeInForce: number, reduceOnly: boolean,
    offsetFlag: number, hedgeFlag: number, verdict: RiskVerdict): number {
    clearVerdict(verdict)
    const offset = effectiveOffset(offsetFlag, reduceOnly)
    const hedge = hedgeFlag === HedgeFlag.HEDGE_FLAG_UNSPECIFIED ? HedgeFlag.HEDGE_SPECULATION : hedgeFlag
    const price = this.input[IN_PRICE]!
    const { control } = this.views
    const slot = this.positionSlot(ctx.account, instrument.index)
    if (slot < 0) {
      reject(verdict, RejectReason.INSTRUMENT_SLOTS_EXHAUSTED, this.views.capacity.instrumentsPerAccount, this.views.capacity.instrumentsPerAccount + 1)
      return -1
    }
    const limits = this.limitsFor(ctx, slot, instrument.exchange)
    const accountCtl = this.views.accountCtl(ctx.account)

    // Switches and states: Atomics loads, no lock needed to read a flag.
    if (Atomics.load(control, CTL_KILL_GLOBAL) !== 0) return this.refuse(verdict, RejectReason.KILL_SWITCH, 0, KILL_SCOPE_GLOBAL)
    if (Atomics.load(control, CTL_KILL_LANE + ctx.lane) !== 0) return this.refuse(verdict, RejectReason.KILL_SWITCH, 0, KILL_SCOPE_LANE)
    if (Atomics.load(control, accountCtl + ACCOUNT_CTL_KILL) !== 0) return this.refuse(verdict, RejectReason.KILL_SWITCH, 0, KILL_SCOPE_ACCOUNT)
    if (Atomics.load(control, this.views.instrumentCtl(instrument.index) + INSTRUMENT_CTL_KILL) !== 0) {
      return this.refuse(verdict, RejectReason.KILL_SWITCH, 0, KILL_SCOPE_INSTRUMENT)
    }
    const tradingState = Atomics.load(control, accountCtl + ACCOUNT_CTL_TRADING_STATE)
    if (tradingState === TRADING_HALTED) return this.refuse(verdict, RejectReason.ACCOUNT_HALTED, 0, TRADING_HALTED)

    // Per-order checks: need no shared state.
    const maxLots = limits[Limit.maxOrderLots]!
    if (lots > maxLots) return this.refuse(verdict, RejectReason.QUANTITY_ABOVE_MAX, maxLots, lots)
    const bandBps = limits[Limit.priceBandBps]!
    if (bandBps !== Infinity && instrument.referencePrice > 0) {
      const reference = instrument.referencePrice
      const offset = Math.abs(price - reference)
      if (offset * BPS > bandBps * reference) {
        const edge = price > reference ? Math.floor(reference * (BPS + bandBps) / BPS) : Math.ceil(reference * (BPS - bandBps) / BPS)
        return this.refuse(verdict, RejectReason.PRICE_OUTSIDE_BAND, edge, price)
      }
    }
    const notional = notionalFen(instrument, price, lots)
    const maxNotionalFen = unitsToFen(limits[Limit.maxNotionalPerOrder]!)
    if (notional > maxNotionalFen) return this.refuse(verdict, RejectReason.NOTIONAL_ABOVE_MAX, maxNotionalFen, notional)

    const lock = accountCtl + ACCOUNT_CTL_LOCK
    lockSlot(control, lock)
    const orderSlot = this.checkAndReserve(ctx, instrument, slot, side, price, lots, timeInForce, reduceOnly, offset, hedge, verdict, tradingState, limits)
    unlockSlot(control, lock)
    return orderSlot
  }

  private refuse (verdict: RiskVerdict, reason: number, limit: number, observed: number): -1 {
    reject(verdict, reason, limit, observed)
    return -1
  }

  /** The part of checkNewOrder that runs under the account lock. */
  private checkAndReserve (
    ctx: RiskContext, instrument: InstrumentRisk, slot: number, side: number, price: number, lots: number,
    timeInForce: number, reduceOnly: boolean, offset: number, hedge: number, verdict: RiskVerdict, tradingState: number, limits: Float64Array,
  ): number {
    const { accountState, positions, control, capacity } = this.views
    const a = ctx.account * ACCOUNT_FIELDS
    const p = (ctx.account * capacity.instrumentsPerAccount + slot) * POSITION_FIELDS

    // Regulatory monitors at their blocking levels.
    const selfTrades = positions[p + POSITION_DAILY_SELF_TRADES]!
    if (selfTrades >= limits[Limit.selfTradesBlock]!) return this.refuse(verdict, RejectReason.SELF_TRADE_LIMIT, limits[Limit.selfTradesBlock]!, selfTrades)
    const cancels = positions[p + POSITION_DAILY_CANCELS]!
    if (cancels >= limits[Limit.cancelsBlock]!) return this.refuse(verdict, RejectReason.CANCEL_LIMIT, limits[Limit.cancelsBlock]!, cancels)
    const largeCancels = positions[p + POSITION_DAILY_LARGE_CANCELS]!
    if (largeCancels >= limits[Limit.largeCancelsBlock]!) return this.refuse(verdict, RejectReason.LARGE_CANCEL_LIMIT, limits[Limit.largeCancelsBlock]!, largeCancels)
    const bursts = accountState[a + ACCOUNT_HF_BURSTS]!
    if (bursts >= limits[Limit.hfBurstsReporting]! &&
      Atomics.load(control, this.views.accountCtl(ctx.account) + ACCOUNT_CTL_PROGRAMMATIC_REPORT) !== REPORT_CONFIRMED) {
      return this.refuse(verdict, RejectReason.HF_REPORT_REQUIRED, limits[Limit.hfBurstsReporting]!, bursts)
    }
    const dailyActions = accountState[a + ACCOUNT_DAILY_ACTIONS]!
    if (dailyActions + 1 > limits[Limit.hfDailyBlock]!) return this.refuse(verdict, RejectReason.HF_DAILY_LIMIT, limits[Limit.hfDailyBlock]!, dailyActions + 1)

    // Throttle and the per-second HF level share the account's ring.
    if (!this.admitAction(ctx.account, limits, verdict, true)) return -1

    // Reducing state and reduce-only orders: close orders only.
    const closes = isClose(offset)
    if (!closes && tradingState === TRADING_REDUCING) return this.refuse(verdict, RejectReason.ACCOUNT_REDUCING, 0, lots)
    if (!closes && reduceOnly) return this.refuse(verdict, RejectReason.REDUCE_ONLY_WOULD_INCREASE, 0, lots)

    const openOrders = accountState[a + ACCOUNT_OPEN_ORDERS]!
    const maxOpen = Math.min(limits[Limit.maxOpenOrders]!, capacity.openOrdersPerAccount)
    if (openOrders + 1 > maxOpen) return this.refuse(verdict, RejectReason.MAX_OPEN_ORDERS, maxOpen, openOrders + 1)

    const book = p + POSITION_BOOK
    // Opening lots counted by the opening-volume monitor (0: not counted).
    let openVolume = 0
    if (closes) {
      // A close takes lots of the opposite position that no working close
      // has frozen yet, from the buckets its offset flag and the exchange's
      // rule name.
      const available = availableToClose(positions, book, bucketOf(side, true), closeKind(offset, instrument.closeRule))
      if (available < lots) return this.refuse(verdict, RejectReason.CLOSE_EXCEEDS_POSITION, available, lots)
    } else {
      if (side === Side.BUY) {
        const long = heldLots(positions, book, BOOK_LONG_TODAY) + positions[p + POSITION_WORKING_OPEN_LONG_LOTS]! + lots
        if (long > limits[Limit.maxLongLots]!) return this.refuse(verdict, RejectReason.POSITION_LIMIT_LONG, limits[Limit.maxLongLots]!, long)
      } else {
        const short = heldLots(positions, book, BOOK_SHORT_TODAY) + positions[p + POSITION_WORKING_OPEN_SHORT_LOTS]! + lots
        if (short > limits[Limit.maxShortLots]!) return this.refuse(verdict, RejectReason.POSITION_LIMIT_SHORT, limits[Limit.maxShortLots]!, short)
      }
      // Exchanges leave hedging orders out of the opening-volume count.
      if (hedge !== HedgeFlag.HEDGE_HEDGE) {
        openVolume = positions[p + POSITION_DAILY_OPENED_LOTS]! + positions[p + POSITION_WORKING_OPEN_LONG_LOTS]! +
          positions[p + POSITION_WORKING_OPEN_SHORT_LOTS]! - positions[p + POSITION_WORKING_OPEN_HEDGE_LOTS]! + lots
        const openBlock = limits[Limit.openVolumeBlock]!
        if (openVolume >= openBlock) return this.refuse(verdict, RejectReason.OPEN_VOLUME_LIMIT, openBlock, openVolume)
      }
    }

    const volume = accountState[a + ACCOUNT_DAILY_TRADED_LOTS]! + accountState[a + ACCOUNT_OPEN_LOTS]! + lots
    if (volume > limits[Limit.maxDailyVolumeLots]!) return this.refuse(verdict, RejectReason.DAILY_VOLUME_LIMIT, limits[Limit.maxDailyVolumeLots]!, volume)

    // Margin is reserved for opens only: a close frees margin, it never needs more.
    const perLot = closes ? 0 : marginPerLotFen(instrument, price)
    const reserved = accountState[a + ACCOUNT_RESERVED_FEN]! + perLot * lots
    const fundsFen = unitsToFen(limits[Limit.funds]!)
    if (!closes && reserved > fundsFen) return this.refuse(verdict, RejectReason.INSUFFICIENT_FUNDS, fundsFen, reserved)

    // Self-match prevention: only scan when a working order on the other
    // side might cross (the price bound says so).
    const mightCross = side === Side.BUY
      ? positions[p + POSITION_WORKING_SELL_ORDERS]! > 0 && price >= positions[p + POSITION_MIN_SELL_PRICE]!
      : positions[p + POSITION_WORKING_BUY_ORDERS]! > 0 && price <= positions[p + POSITION_MAX_BUY_PRICE]!
    if (mightCross && !this.preventSelfMatch(ctx, slot, p, side, price, limits, verdict)) return -1

    const openWarn = limits[Limit.openVolumeWarn]!
    if (openVolume > 0 && openVolume >= openWarn) {
      warn(verdict, RejectReason.OPEN_VOLUME_LIMIT, openVolume, openWarn, limits[Limit.openVolumeBlock]!, openVolume - lots < openWarn)
    }
    return this.reserveOrder(ctx, instrument, slot, p, side, price, lots, timeInForce, offset, hedge, perLot, reserved, limits, verdict)
  }

  /** Takes an order slot and books the order's reservation and working lots; counts the action. Under the account lock. */
  private reserveOrder (
    ctx: RiskContext, instrument: InstrumentRisk, slot: number, p: number, side: number, price: number, lots: number,
    timeInForce: number, offset: number, hedge: number, perLot: number, reserved: number, limits: Float64Array, verdict: RiskVerdict,
  ): number {
    const { accountState, positions, capacity } = this.views
    const a = ctx.account * ACCOUNT_FIELDS
    const openOrders = accountState[a + ACCOUNT_OPEN_ORDERS]!
    const workingBuy = positions[p + POSITION_WORKING_BUY_LOTS]!
    const workingSell = positions[p + POSITION_WORKING_SELL_LOTS]!
    const orderSlot = this.takeOrderSlot(ctx.account)
    if (orderSlot < 0) return this.refuse(verdict, RejectReason.MAX_OPEN_ORDERS, capacity.openOrdersPerAccount, capacity.openOrdersPerAccount + 1)
    const o = (ctx.account * capacity.openOrdersPerAccount + orderSlot) * ORDER_FIELDS
    const orders = this.views.orders
    orders[o + ORDER_STATE] = ORDER_WORKING
    orders[o + ORDER_POSITION_SLOT] = slot
    orders[o + ORDER_SIDE] = side
    orders[o + ORDER_PRICE] = price
    orders[o + ORDER_QUANTITY_LOTS] = lots
    orders[o + ORDER_LEAVES_LOTS] = lots
    orders[o + ORDER_MARGIN_PER_LOT_FEN] = perLot
    orders[o + ORDER_TIME_IN_FORCE] = timeInForce
    orders[o + ORDER_LANE] = ctx.lane
    orders[o + ORDER_LINK_ORDER_ID] = this.input[IN_LINK_ORDER_ID]!
    orders[o + ORDER_LARGE] = isLarge(lots, instrument, limits) ? 1 : 0
    orders[o + ORDER_OFFSET] = offset
    orders[o + ORDER_HEDGE] = hedge
    if (isClose(offset)) {
      freezeClose(positions, p + POSITION_BOOK, bucketOf(side, true), closeKind(offset, instrument.closeRule), lots, orders, o + ORDER_FROZEN)
    } else {
      orders[o + ORDER_FROZEN] = 0
      orders[o + ORDER_FROZEN + 1] = 0
      const working = p + (side === Side.BUY ? POSITION_WORKING_OPEN_LONG_LOTS : POSITION_WORKING_OPEN_SHORT_LOTS)
      positions[working] = positions[working]! + lots
      if (hedge === HedgeFlag.HEDGE_HEDGE) positions[p + POSITION_WORKING_OPEN_HEDGE_LOTS] = positions[p + POSITION_WORKING_OPEN_HEDGE_LOTS]! + lots
    }
    accountState[a + ACCOUNT_OPEN_ORDERS] = openOrders + 1
    accountState[a + ACCOUNT_OPEN_LOTS] = accountState[a + ACCOUNT_OPEN_LOTS]! + lots
    accountState[a + ACCOUNT_RESERVED_FEN] = reserved
    if (side === Side.BUY) {
      positions[p + POSITION_WORKING_BUY_LOTS] = workingBuy + lots
      const working = positions[p + POSITION_WORKING_BUY_ORDERS]!
      positions[p + POSITION_WORKING_BUY_ORDERS] = working + 1
      if (working === 0 || price > positions[p + POSITION_MAX_BUY_PRICE]!) positions[p + POSITION_MAX_BUY_PRICE] = price
    } else {
      positions[p + POSITION_WORKING_SELL_LOTS] = workingSell + lots
      const working = positions[p + POSITION_WORKING_SELL_ORDERS]!
      positions[p + POSITION_WORKING_SELL_ORDERS] = working + 1
      if (working === 0 || price < positions[p + POSITION_MIN_SELL_PRICE]!) positions[p + POSITION_MIN_SELL_PRICE] = price
    }
    this.countAction(ctx.account, limits, verdict)
    return orderSlot
  }

  // ---- recovery (journal replay at start) -------------------------------

  /**
   * An order the journal shows went to the exchange before a restart:
   * booked as the check booked it (reservation, working lots, open order,
   * one action for the daily monitors), without checking. It is already
   * working at the exchange whatever the limits say now; refusing it here
   * would only hide it from the limits. Price, link order ID and the time
   * it was sent go through `input`, as for checkNewOrderInput. Returns the
   * order slot, or -1 when the account's tables are full (the caller
   * reports it).
   */
  restoreOrder (ctx: RiskContext, instrument: InstrumentRisk, side: number, lots: number, timeInForce: number,
    offsetFlag: number, hedgeFlag: number, verdict: RiskVerdict): number {
    clearVerdict(verdict)
    const slot = this.positionSlot(ctx.account, instrument.index)
    if (slot < 0) return -1
    const limits = this.limitsFor(ctx, slot, instrument.exchange)
    const price = this.input[IN_PRICE]!
    const { control, accountState, capacity } = this.views
    const p = (ctx.account * capacity.instrumentsPerAccount + slot) * POSITION_FIELDS
    const lock = this.views.accountCtl(ctx.account) + ACCOUNT_CTL_LOCK
    lockSlot(control, lock)
    // The journaled link order carries the flags applied (never unset, but an old journal's may be).
    const offset = effectiveOffset(offsetFlag, false)
    const hedge = hedgeFlag === HedgeFlag.HEDGE_FLAG_UNSPECIFIED ? HedgeFlag.HEDGE_SPECULATION : hedgeFlag
    const perLot = isClose(offset) ? 0 : marginPerLotFen(instrument, price)
    const reserved = accountState[ctx.account * ACCOUNT_FIELDS + ACCOUNT_RESERVED_FEN]! + perLot * lots
    const orderSlot = this.reserveOrder(ctx, instrument, slot, p, side, price, lots, timeInForce, offset, hedge, perLot, reserved, limits, verdict)
    unlockSlot(control, lock)
    return orderSlot
  }

  /** A self-match the journal shows was prevented before a restart: counted for the self-trade monitor, as the check counted it. */
  restoreSelfTrade (ctx: RiskContext, instrument: InstrumentRisk): void {
    const slot = this.positionSlot(ctx.account, instrument.index)
    if (slot < 0) return
    const { control, positions, capacity } = this.views
    const p = (ctx.account * capacity.instrumentsPerAccount + slot) * POSITION_FIELDS
    const lock = this.views.accountCtl(ctx.account) + ACCOUNT_CTL_LOCK
    lockSlot(control, lock)
    positions[p + POSITION_DAILY_SELF_TRADES] = positions[p + POSITION_DAILY_SELF_TRADES]! + 1
    unlockSlot(control, lock)
  }

  /**
   * A client's cancel the journal shows was sent before a restart: counted
   * as an action, as checkCancelInput counted it (the same limits, the
   * time it was checked in `input`), without the throttle's check.
   */
  restoreCancel (ctx: RiskContext, orderSlot: number, instrument: InstrumentRisk, verdict: RiskVerdict): void {
    clearVerdict(verdict)
    const { control } = this.views
    const slot = this.views.orders[(ctx.account * this.views.capacity.openOrdersPerAccount + orderSlot) * ORDER_FIELDS + ORDER_POSITION_SLOT]!
    const limits = this.limitsFor(ctx, slot, instrument.exchange)
    const lock = this.views.accountCtl(ctx.account) + ACCOUNT_CTL_LOCK
    lockSlot(control, lock)
    this.countAction(ctx.account, limits, verdict)
    unlockSlot(control, lock)
  }

  /**
   * Refuses an order that would cross a working order of the same account
   * on the other side (counting it for the self-trade monitor), or in
   * cancel-resting mode lists this lane's crossing orders for the caller to
   * cancel first. The exchange handles one link's messages in order, so a
   * cancel sent before the new order on the same link lands first; a
   * crossing order on another lane's link has no such guarantee, so it
   * still refuses the incoming one.
   */
  private preventSelfMatch (ctx: RiskContext, slot: number, p: number, side: number, price: number, limits: Float64Array, verdict: RiskVerdict): boolean {
    const { orders, positions, capacity } = this.views
    const cancelResting = limits[Limit.selfMatchMode] === SELF_MATCH_CANCEL_RESTING
    const base = ctx.account * capacity.openOrdersPerAccount
    let found = false
    let crossingPrice = 0
    let crossesOtherLane = false
    // The scan sees every opposite order: make the price bound exact again.
    let bound = side === Side.BUY ? Infinity : -Infinity
    verdict.cancelCount = 0
    const used = this.views.control[this.views.accountCtl(ctx.account) + ACCOUNT_CTL_USED_SLOTS]!
    for (let k = 0; k < used; k++) {
      const i = this.views.orderSlots[base + k]!
      const o = (base + i) * ORDER_FIELDS
      const state = orders[o + ORDER_STATE]!
      if (state === ORDER_FREE || orders[o + ORDER_POSITION_SLOT] !== slot || orders[o + ORDER_SIDE] === side) continue
      const restingPrice = orders[o + ORDER_PRICE]!
      if (side === Side.BUY ? restingPrice < bound : restingPrice > bound) bound = restingPrice
      const crosses = side === Side.BUY ? price >= restingPrice : price <= restingPrice
      if (!crosses) continue
      const sameLane = orders[o + ORDER_LANE] === ctx.lane
      // Already being cancelled ahead of us on this link: cannot trade with us.
      if (state === ORDER_CANCEL_SENT && sameLane) continue
      found = true
      crossingPrice = restingPrice
      if (!sameLane) crossesOtherLane = true
      else if (cancelResting && verdict.cancelCount < verdict.cancelOrderSlots.length) {
        verdict.cancelOrderSlots[verdict.cancelCount] = i
        verdict.cancelLinkOrderIds[verdict.cancelCount] = orders[o + ORDER_LINK_ORDER_ID]!
        verdict.cancelCount++
      } else crossesOtherLane = true // more crossing orders than the verdict can list: refuse instead
    }
    positions[p + (side === Side.BUY ? POSITION_MIN_SELL_PRICE : POSITION_MAX_BUY_PRICE)] = bound
    if (!found) return true
    const selfTrades = positions[p + POSITION_DAILY_SELF_TRADES]! + 1
    positions[p + POSITION_DAILY_SELF_TRADES] = selfTrades
    const warnLevel = limits[Limit.selfTradesWarn]!
    if (selfTrades >= warnLevel) warn(verdict, RejectReason.SELF_TRADE_LIMIT, selfTrades, warnLevel, limits[Limit.selfTradesBlock]!, selfTrades === warnLevel)
    if (!cancelResting || crossesOtherLane) {
      verdict.cancelCount = 0
      reject(verdict, RejectReason.SELF_MATCH_PREVENTED, price, crossingPrice)
      return false
    }
    for (let k = 0; k < verdict.cancelCount; k++) {
      orders[(base + verdict.cancelOrderSlots[k]!) * ORDER_FIELDS + ORDER_STATE] = ORDER_CANCEL_SENT
    }
    return true
  }

  // ---- cancels -------------------------------------------------------------

  /**
   * A cancel request for a working order. Never refused for risk (halted
   * and killed accounts can always cancel); only the account throttle
   * applies. True if it may go.
   */
  checkCancel (ctx: RiskContext, orderSlot: number, instrument: InstrumentRisk, nowMs: number, verdict: RiskVerdict): boolean {
    this.input[IN_NOW_MS] = nowMs
    return this.checkCancelInput(ctx, orderSlot, instrument, verdict)
  }

  /** checkCancel with the time already in `input`. */
  checkCancelInput (ctx: RiskContext, orderSlot: number, instrument: InstrumentRisk, verdict: RiskVerdict): boolean {
    clearVerdict(verdict)
    const slot = this.views.orders[(ctx.account * this.views.capacity.openOrdersPerAccount + orderSlot) * ORDER_FIELDS + ORDER_POSITION_SLOT]!
    const limits = this.limitsFor(ctx, slot, instrument.exchange)
    const { control } = this.views
    const lock = this.views.accountCtl(ctx.account) + ACCOUNT_CTL_LOCK
    lockSlot(control, lock)
    const admitted = this.admitAction(ctx.account, limits, verdict, false)
    if (admitted) this.countAction(ctx.account, limits, verdict)
    unlockSlot(control, lock)
    return admitted
  }

  /** Throttle (and, for orders, the HF per-second block) against the account's ring. Under the account lock. */
  private admitAction (account: number, limits: Float64Array, verdict: RiskVerdict, isOrder: boolean): boolean {
    // Time from `input`, not a parameter: an epoch-ms double passed to a
    // call V8 does not inline would be boxed, one allocation per order.
    const nowMs = this.input[IN_NOW_MS]!
    const { rateRing, accountState } = this.views
    const base = account * (this.ringMask + 1)
    const head = accountState[account * ACCOUNT_FIELDS + ACCOUNT_RING_HEAD]!
    const throttle = limits[Limit.accountActionsPerSecond]!
    if (throttle !== Infinity && windowHolds(rateRing, base, head, this.ringMask, throttle, nowMs, ONE_SECOND_MS)) {
      return reject(verdict, RejectReason.THROTTLED_ACCOUNT, throttle, countInWindow(rateRing, base, head, this.ringMask, nowMs, ONE_SECOND_MS) + 1)
    }
    const hfBlock = limits[Limit.hfPerSecondBlock]!
    if (isOrder && hfBlock !== Infinity && windowHolds(rateRing, base, head, this.ringMask, hfBlock, nowMs, ONE_SECOND_MS)) {
      return reject(verdict, RejectReason.HF_RATE_LIMIT, hfBlock, countInWindow(rateRing, base, head, this.ringMask, nowMs, ONE_SECOND_MS) + 1)
    }
    return true
  }

  /** Records an order or cancel that goes out: ring, daily total, bursts, HF warnings. Under the account lock. */
  private countAction (account: number, limits: Float64Array, verdict: RiskVerdict): void {
    const nowMs = this.input[IN_NOW_MS]!
    const { rateRing, accountState } = this.views
    const a = account * ACCOUNT_FIELDS
    const base = account * (this.ringMask + 1)
    const head = pushTimestamp(rateRing, base, accountState[a + ACCOUNT_RING_HEAD]!, this.ringMask, nowMs)
    accountState[a + ACCOUNT_RING_HEAD] = head
    const daily = accountState[a + ACCOUNT_DAILY_ACTIONS]! + 1
    accountState[a + ACCOUNT_DAILY_ACTIONS] = daily
    // A burst: hfBurstOrders actions within one second, counted at most
    // once per second (the DCE rule counts occasions, not actions).
    const burstSize = limits[Limit.hfBurstOrders]!
    if (burstSize !== Infinity && windowHolds(rateRing, base, head, this.ringMask, burstSize, nowMs, ONE_SECOND_MS) &&
      nowMs - accountState[a + ACCOUNT_LAST_BURST_MS]! >= ONE_SECOND_MS) {
      accountState[a + ACCOUNT_LAST_BURST_MS] = nowMs
      const bursts = accountState[a + ACCOUNT_HF_BURSTS]! + 1
      accountState[a + ACCOUNT_HF_BURSTS] = bursts
      const burstWarn = limits[Limit.hfBurstsWarn]!
      if (bursts >= burstWarn) warn(verdict, RejectReason.HF_REPORT_REQUIRED, bursts, burstWarn, limits[Limit.hfBurstsReporting]!, bursts === burstWarn)
    }
    const dailyWarn = limits[Limit.hfDailyWarn]!
    if (daily >= dailyWarn) warn(verdict, RejectReason.HF_DAILY_LIMIT, daily, dailyWarn, limits[Limit.hfDailyBlock]!, daily === dailyWarn)
    const rateWarn = limits[Limit.hfPerSecondWarn]!
    if (rateWarn !== Infinity && windowHolds(rateRing, base, head, this.ringMask, rateWarn, nowMs, ONE_SECOND_MS)) {
      const alertDue = nowMs - accountState[a + ACCOUNT_HF_RATE_ALERT_MS]! >= ONE_SECOND_MS
      if (alertDue) accountState[a + ACCOUNT_HF_RATE_ALERT_MS] = nowMs
      warn(verdict, RejectReason.HF_RATE_LIMIT, countInWindow(rateRing, base, head, this.ringMask, nowMs, ONE_SECOND_MS), rateWarn, limits[Limit.hfPerSecondBlock]!, alertDue)
    }
  }

  // ---- execution reports ---------------------------------------------------

  /**
   * A fill of lastLots: an open adds to today's lots of its side (and to
   * the opening-volume count, hedge orders excepted), a close takes the
   * lots it froze; the reservation and working lots for those lots are
   * released. Returns the lots still working.
   */
  onFill (account: number, orderSlot: number, lastLots: number): number {
    const { control, orders, positions, accountState, capacity } = this.views
    const lock = this.views.accountCtl(account) + ACCOUNT_CTL_LOCK
    lockSlot(control, lock)
    const o = (account * capacity.openOrdersPerAccount + orderSlot) * ORDER_FIELDS
    const leaves = orders[o + ORDER_LEAVES_LOTS]!
    // An exchange never fills more than is working; if one claims to, the
    // reservation released stops at what was reserved.
    const lots = Math.min(lastLots, leaves)
    const p = (account * capacity.instrumentsPerAccount + orders[o + ORDER_POSITION_SLOT]!) * POSITION_FIELDS
    const a = account * ACCOUNT_FIELDS
    const side = orders[o + ORDER_SIDE]!
    const buy = side === Side.BUY
    // The position moves by what the exchange filled, even past what was
    // working (position-book.ts keeps every bucket at or above zero).
    if (isClose(orders[o + ORDER_OFFSET]!)) {
      fillClose(positions, p + POSITION_BOOK, bucketOf(side, true), lastLots, orders, o + ORDER_FROZEN)
    } else {
      fillOpen(positions, p + POSITION_BOOK, bucketOf(side, false), lastLots)
      const working = p + (buy ? POSITION_WORKING_OPEN_LONG_LOTS : POSITION_WORKING_OPEN_SHORT_LOTS)
      positions[working] = positions[working]! - lots
      if (orders[o + ORDER_HEDGE] !== HedgeFlag.HEDGE_HEDGE) positions[p + POSITION_DAILY_OPENED_LOTS] = positions[p + POSITION_DAILY_OPENED_LOTS]! + lastLots
      else positions[p + POSITION_WORKING_OPEN_HEDGE_LOTS] = positions[p + POSITION_WORKING_OPEN_HEDGE_LOTS]! - lots
    }
    positions[p + (buy ? POSITION_WORKING_BUY_LOTS : POSITION_WORKING_SELL_LOTS)] = positions[p + (buy ? POSITION_WORKING_BUY_LOTS : POSITION_WORKING_SELL_LOTS)]! - lots
    positions[p + POSITION_DAILY_TRADED_LOTS] = positions[p + POSITION_DAILY_TRADED_LOTS]! + lastLots
    accountState[a + ACCOUNT_DAILY_TRADED_LOTS] = accountState[a + ACCOUNT_DAILY_TRADED_LOTS]! + lastLots
    accountState[a + ACCOUNT_OPEN_LOTS] = accountState[a + ACCOUNT_OPEN_LOTS]! - lots
    accountState[a + ACCOUNT_RESERVED_FEN] = accountState[a + ACCOUNT_RESERVED_FEN]! - lots * orders[o + ORDER_MARGIN_PER_LOT_FEN]!
    orders[o + ORDER_LEAVES_LOTS] = leaves - lots
    unlockSlot(control, lock)
    return leaves - lots
  }

  /**
   * The order is done (filled, cancelled or rejected): what was still
   * reserved for it is released (a close's frozen lots, an open's working
   * lots and margin) and its slot freed. A cancel of a GFD order counts
   * toward the cancel monitors (FAK and FOK do not, nor do hedge orders,
   * as the exchanges count them); the verdict carries any warning.
   */
  onOrderDone (ctx: RiskContext, orderSlot: number, instrument: InstrumentRisk, cancelled: boolean, verdict: RiskVerdict): void {
    clearVerdict(verdict)
    const { control, orders, positions, accountState, capacity } = this.views
    const account = ctx.account
    const o = (account * capacity.openOrdersPerAccount + orderSlot) * ORDER_FIELDS
    const countsAsCancel = cancelled && orders[o + ORDER_TIME_IN_FORCE] !== TimeInForce.FAK && orders[o + ORDER_TIME_IN_FORCE] !== TimeInForce.FOK &&
      orders[o + ORDER_HEDGE] !== HedgeFlag.HEDGE_HEDGE
    const limits = countsAsCancel ? this.limitsFor(ctx, orders[o + ORDER_POSITION_SLOT]!, instrument.exchange) : this.resolved
    const lock = this.views.accountCtl(account) + ACCOUNT_CTL_LOCK
    lockSlot(control, lock)
    if (orders[o + ORDER_STATE] === ORDER_FREE) {
      unlockSlot(control, lock)
      return
    }
    const leaves = orders[o + ORDER_LEAVES_LOTS]!
    const p = (account * capacity.instrumentsPerAccount + orders[o + ORDER_POSITION_SLOT]!) * POSITION_FIELDS
    const a = account * ACCOUNT_FIELDS
    const side = orders[o + ORDER_SIDE]!
    const buy = side === Side.BUY
    if (isClose(orders[o + ORDER_OFFSET]!)) releaseClose(positions, p + POSITION_BOOK, bucketOf(side, true), orders, o + ORDER_FROZEN)
    else {
      const working = p + (buy ? POSITION_WORKING_OPEN_LONG_LOTS : POSITION_WORKING_OPEN_SHORT_LOTS)
      positions[working] = positions[working]! - leaves
      if (orders[o + ORDER_HEDGE] === HedgeFlag.HEDGE_HEDGE) positions[p + POSITION_WORKING_OPEN_HEDGE_LOTS] = positions[p + POSITION_WORKING_OPEN_HEDGE_LOTS]! - leaves
    }
    positions[p + (buy ? POSITION_WORKING_BUY_LOTS : POSITION_WORKING_SELL_LOTS)] = positions[p + (buy ? POSITION_WORKING_BUY_LOTS : POSITION_WORKING_SELL_LOTS)]! - leaves
    positions[p + (buy ? POSITION_WORKING_BUY_ORDERS : POSITION_WORKING_SELL_ORDERS)] = positions[p + (buy ? POSITION_WORKING_BUY_ORDERS : POSITION_WORKING_SELL_ORDERS)]! - 1
    accountState[a + ACCOUNT_OPEN_LOTS] = accountState[a + ACCOUNT_OPEN_LOTS]! - leaves
    accountState[a + ACCOUNT_RESERVED_FEN] = accountState[a + ACCOUNT_RESERVED_FEN]! - leaves * orders[o + ORDER_MARGIN_PER_LOT_FEN]!
    accountState[a + ACCOUNT_OPEN_ORDERS] = accountState[a + ACCOUNT_OPEN_ORDERS]! - 1
    if (countsAsCancel) {
      const cancels = positions[p + POSITION_DAILY_CANCELS]! + 1
      positions[p + POSITION_DAILY_CANCELS] = cancels
      const cancelWarn = limits[Limit.cancelsWarn]!
      if (cancels >= cancelWarn) warn(verdict, RejectReason.CANCEL_LIMIT, cancels, cancelWarn, limits[Limit.cancelsBlock]!, cancels === cancelWarn)
      if (orders[o + ORDER_LARGE] === 1) {
        const large = positions[p + POSITION_DAILY_LARGE_CANCELS]! + 1
        positions[p + POSITION_DAILY_LARGE_CANCELS] = large
        const largeWarn = limits[Limit.largeCancelsWarn]!
        if (large >= largeWarn) warn(verdict, RejectReason.LARGE_CANCEL_LIMIT, large, largeWarn, limits[Limit.largeCancelsBlock]!, large === largeWarn)
      }
    }
    orders[o + ORDER_STATE] = ORDER_FREE
    orders[o + ORDER_LEAVES_LOTS] = 0
    this.releaseOrderSlot(account, orderSlot)
    unlockSlot(control, lock)
  }

  // ---- the account's order slots (under the account lock) -------------------
  //
  //   orderSlots (one account):  [ w w w w | f f f f f f ... ]
  //                                 working ^ used       free
  //
  // Taking a slot moves the used mark right; freeing one swaps it with the
  // last working slot. The self-match scan walks only [0, used): the
  // account's working orders, not its whole table.

  private takeOrderSlot (account: number): number {
    const { control, orderSlots, orders, capacity } = this.views
    const usedIndex = this.views.accountCtl(account) + ACCOUNT_CTL_USED_SLOTS
    const used = control[usedIndex]!
    if (used === capacity.openOrdersPerAccount) return -1
    const slot = orderSlots[account * capacity.openOrdersPerAccount + used]!
    orders[(account * capacity.openOrdersPerAccount + slot) * ORDER_FIELDS + ORDER_LIST_INDEX] = used
    control[usedIndex] = used + 1
    return slot
  }

  private releaseOrderSlot (account: number, orderSlot: number): void {
    const { control, orderSlots, orders, capacity } = this.views
    const base = account * capacity.openOrdersPerAccount
    const usedIndex = this.views.accountCtl(account) + ACCOUNT_CTL_USED_SLOTS
    const last = control[usedIndex]! - 1
    const at = orders[(base + orderSlot) * ORDER_FIELDS + ORDER_LIST_INDEX]!
    const moved = orderSlots[base + last]!
    orderSlots[base + at] = moved
    orders[(base + moved) * ORDER_FIELDS + ORDER_LIST_INDEX] = at
    orderSlots[base + last] = orderSlot
    orders[(base + orderSlot) * ORDER_FIELDS + ORDER_LIST_INDEX] = last
    control[usedIndex] = last
  }
}

function isLarge (lots: number, instrument: InstrumentRisk, limits: Float64Array): boolean {
  if (lots >= limits[Limit.largeOrderMinLots]!) return true
  const pct = limits[Limit.largeOrderPctOfMax]!
  return pct !== Infinity && lots * 100 >= pct * instrument.maxOrderLots
}

function symbolEquals (symbols: Uint8Array, index: number, bytes: Uint8Array): boolean {
  const at = index * SYMBOL_BYTES
  if (symbols[at] !== bytes.length) return false
  for (let i = 0; i < bytes.length; i++) if (symbols[at + 1 + i] !== bytes[i]) return false
  return true
}

/** Writes an account's name into the shared table when it is registered (ASCII, at most ACCOUNT_NAME_BYTES - 1). */
export function writeAccountName (views: RiskViews, index: number, name: string): void {
  const bytes = Buffer.from(name, 'utf8').subarray(0, ACCOUNT_NAME_BYTES - 1)
  const at = index * ACCOUNT_NAME_BYTES
  views.accountNames.set(bytes, at + 1)
  views.accountNames[at] = bytes.length
}

/** The name of the account at a shared index ('' if none was registered there). */
export function accountNameAt (views: RiskViews, index: number): string {
  const at = index * ACCOUNT_NAME_BYTES
  return Buffer.from(views.accountNames.subarray(at + 1, at + 1 + views.accountNames[at]!)).toString('utf8')
}

/** The symbol stored at a shared instrument index. */
export function symbolAt (views: RiskViews, index: number): string {
  const at = index * SYMBOL_BYTES
  return Buffer.from(views.symbols.subarray(at + 1, at + 1 + views.symbols[at]!)).toString('utf8')
}
