// Shared risk state: where every slot lives in the SharedArrayBuffers that
// all lane threads (and the supervisor) read and write. Named index
// constants only; the logic is in risk-engine.ts and risk-control.ts.
//
// Why SharedArrayBuffers: the same account may trade on two lanes, i.e. in
// two threads, at once, and a message hop to a risk thread costs 13-20 us
// each way on this machine kind (measured; docs/architecture.md). Each lane thread instead
// checks and reserves in place, under a per-account lock.
//
//   control (Int32Array, Atomics only)
//   ┌──────────┬───────────┬─────────┬────────────┬────────┬─────────────┐
//   │ 0 global │ 1 limits  │ 2 trad- │ 3 instru-  │ 4 kill │ 5..7 kill   │
//   │   lock   │   seqlock │ ing day │ ment count │ global │ per lane    │
//   ├──────────┴───────────┴─────────┴────────────┴────────┴─────────────┤
//   │ per account × ACCOUNT_CTL_STRIDE:                                  │
//   │   lock │ trading state │ kill │ programmatic report │ free top     │
//   ├────────────────────────────────────────────────────────────────────┤
//   │ per instrument: kill │ exchange index                              │
//   └────────────────────────────────────────────────────────────────────┘
//
//   limits (Float64Array): rows × LIMIT_COUNT, NaN = not set at this scope
//     row 0 global │ 1..3 lanes │ 4..9 exchange presets │ AppIDs │
//     accounts │ account × instrument rows, given out when first set
//     (a table for every slot of every account would be mostly NaN, and
//     filling it with NaN touches every page: 35 MB at 5,000 accounts)
//
//   accountState (Float64Array): accounts × ACCOUNT_FIELDS
//   rateRing     (Float64Array): accounts × rateRingSize timestamps (ms)
//   positions    (Float64Array): accounts × instrumentsPerAccount × POSITION_FIELDS
//   orders       (Float64Array): accounts × openOrdersPerAccount × ORDER_FIELDS
//   orderSlots   (Int32Array):   accounts × openOrdersPerAccount: a permutation of the
//                                 account's order slots, working ones first [0, used)
//   symbols      (Uint8Array):   instruments × SYMBOL_BYTES (length, UTF-8)
//   accountNames (Uint8Array):   accounts × ACCOUNT_NAME_BYTES (length, ASCII), written
//                                 once when the account is registered: the day roll
//                                 journals carried positions by account name
//
// Float64 holds lots, prices and money in fen exactly (integers < 2^53).
// Everything but control is read and written only under the owning
// account's lock (or, for limits, under the seqlock), so plain typed-array
// access is race-free; control slots go through Atomics.

import { BOOK_FIELDS } from './position-book.js'

/** How many of each thing the shared buffers have room for (fixed at start). */
export interface RiskCapacity {
  accounts: number
  /** Account × instrument scopes that may carry their own limits (rows are given out on first use). */
  accountInstrumentLimitRows: number
  appIds: number
  instruments: number
  /** Instruments one account can hold positions or orders in per run. */
  instrumentsPerAccount: number
  /** Hard cap on maxOpenOrders: slots in the account's order table. */
  openOrdersPerAccount: number
  /** Timestamps kept per account for the sliding-window throttle and HF monitor; a power of two. */
  rateRingSize: number
}

export const EXCHANGES = ['SHFE', 'INE', 'DCE', 'ZCE', 'CFFEX', 'GFEX'] as const
export type ExchangeCode = typeof EXCHANGES[number]
export const LANE_COUNT = 3

// ---- control -----------------------------------------------------------
export const CTL_GLOBAL_LOCK = 0
export const CTL_LIMITS_SEQ = 1
export const CTL_TRADING_DAY = 2
export const CTL_INSTRUMENT_COUNT = 3
export const CTL_KILL_GLOBAL = 4
export const CTL_KILL_LANE = 5
/** Account × instrument limit rows given out so far. */
export const CTL_ACCOUNT_INSTRUMENT_ROWS = CTL_KILL_LANE + LANE_COUNT
export const CTL_HEADER_SLOTS = CTL_ACCOUNT_INSTRUMENT_ROWS + 1

export const ACCOUNT_CTL_LOCK = 0
export const ACCOUNT_CTL_TRADING_STATE = 1
export const ACCOUNT_CTL_KILL = 2
export const ACCOUNT_CTL_PROGRAMMATIC_REPORT = 3
/** Working orders in the account's orderSlots list: [0, used) are working, the rest free. */
export const ACCOUNT_CTL_USED_SLOTS = 4
export const ACCOUNT_CTL_STRIDE = 5

export const INSTRUMENT_CTL_KILL = 0
export const INSTRUMENT_CTL_EXCHANGE = 1
export const INSTRUMENT_CTL_STRIDE = 2

export const TRADING_STATES = ['active', 'reducing', 'halted'] as const
export type TradingState = typeof TRADING_STATES[number]
export const TRADING_ACTIVE = 0
export const TRADING_REDUCING = 1
export const TRADING_HALTED = 2

export const PROGRAMMATIC_REPORTS = ['none', 'filed', 'confirmed'] as const
export type ProgrammaticReport = typeof PROGRAMMATIC_REPORTS[number]
export const REPORT_CONFIRMED = 2

// ---- per-account state (Float64) ----------------------------------------
export const ACCOUNT_OPEN_ORDERS = 0
/** Lots still working across all instruments. */
export const ACCOUNT_OPEN_LOTS = 1
/** Margin reserved for working orders, in fen. */
export const ACCOUNT_RESERVED_FEN = 2
export const ACCOUNT_DAILY_TRADED_LOTS = 3
/** Orders plus cancels today (high-frequency daily total). */
export const ACCOUNT_DAILY_ACTIONS = 4
/** Seconds today with at least hfBurstOrders orders plus cancels. */
export const ACCOUNT_HF_BURSTS = 5
/** Time the last counted burst began: bursts are counted at most once a second. */
export const ACCOUNT_LAST_BURST_MS = 6
/** Total timestamps ever pushed into the rate ring; head & mask is the next slot. */
export const ACCOUNT_RING_HEAD = 7
/** Last time ops were alerted about the per-second HF warning (at most once a second). */
export const ACCOUNT_HF_RATE_ALERT_MS = 8
export const ACCOUNT_FIELDS = 9

// ---- per account × instrument (Float64) ---------------------------------
/** Instrument index + 1; 0 = free slot. */
export const POSITION_INSTRUMENT = 0
/**
 * Start of the position book: long and short, today's and yesterday's,
 * held and frozen (BOOK_FIELDS slots; checks/position-book.ts owns the
 * arithmetic and the order of the slots).
 */
export const POSITION_BOOK = 1
const AFTER_BOOK = POSITION_BOOK + BOOK_FIELDS
/** Lots of working BUY orders (opens and closes), for self-match and reducing checks. */
export const POSITION_WORKING_BUY_LOTS = AFTER_BOOK
export const POSITION_WORKING_SELL_LOTS = AFTER_BOOK + 1
export const POSITION_WORKING_BUY_ORDERS = AFTER_BOOK + 2
export const POSITION_WORKING_SELL_ORDERS = AFTER_BOOK + 3
export const POSITION_DAILY_TRADED_LOTS = AFTER_BOOK + 4
export const POSITION_DAILY_CANCELS = AFTER_BOOK + 5
export const POSITION_DAILY_LARGE_CANCELS = AFTER_BOOK + 6
export const POSITION_DAILY_SELF_TRADES = AFTER_BOOK + 7
/**
 * Lowest price of the working sells / highest of the working buys, or a
 * bound past it: kept exact when orders are added, left as it was when one
 * goes (still a safe bound) and made exact again by the next self-match
 * scan. An incoming order that does not cross the bound cannot cross any
 * resting order, so the scan is skipped.
 */
export const POSITION_MIN_SELL_PRICE = AFTER_BOOK + 8
export const POSITION_MAX_BUY_PRICE = AFTER_BOOK + 9
/** Limit row of this account × instrument scope + 1; 0 = none set (inherit from the account). */
export const POSITION_LIMIT_ROW = AFTER_BOOK + 10
/** Lots of working opening orders that would make or grow a long position (the per-side limit counts them). */
export const POSITION_WORKING_OPEN_LONG_LOTS = AFTER_BOOK + 11
export const POSITION_WORKING_OPEN_SHORT_LOTS = AFTER_BOOK + 12
/** Lots opened (filled) on this contract today, both directions, hedge orders excepted: the opening-volume monitor. */
export const POSITION_DAILY_OPENED_LOTS = AFTER_BOOK + 13
/** Of the working opening lots (both sides), those of hedge orders: the opening-volume monitor leaves them out. */
export const POSITION_WORKING_OPEN_HEDGE_LOTS = AFTER_BOOK + 14
export const POSITION_FIELDS = AFTER_BOOK + 15

// ---- per working order (Float64) -----------------------------------------
export const ORDER_STATE = 0
export const ORDER_POSITION_SLOT = 1
export const ORDER_SIDE = 2
export const ORDER_PRICE = 3
export const ORDER_QUANTITY_LOTS = 4
export const ORDER_LEAVES_LOTS = 5
export const ORDER_MARGIN_PER_LOT_FEN = 6
export const ORDER_TIME_IN_FORCE = 7
export const ORDER_LANE = 8
export const ORDER_LINK_ORDER_ID = 9
/** 1 when the order counts as large for the large-order-cancel monitor. */
export const ORDER_LARGE = 10
/** Where the order's slot sits in the account's orderSlots list (for O(1) removal). */
export const ORDER_LIST_INDEX = 11
/** The offset flag applied (OffsetFlag, never unspecified). */
export const ORDER_OFFSET = 12
/** The hedge flag applied (HedgeFlag, never unspecified). */
export const ORDER_HEDGE = 13
/** A close order's frozen lots: today's at +FROZEN_TODAY, yesterday's at +FROZEN_YESTERDAY (position-book.ts). */
export const ORDER_FROZEN = 14
export const ORDER_FIELDS = 16

export const ORDER_FREE = 0
export const ORDER_WORKING = 1
/** Self-match prevention has sent a cancel for it on its own lane's link. */
export const ORDER_CANCEL_SENT = 2

export const SYMBOL_BYTES = 32
/** Account IDs are 1-32 characters of [A-Za-z0-9_.-] (config): a length byte and 32. */
export const ACCOUNT_NAME_BYTES = 33

/** The SharedArrayBuffers; posted to each lane thread in its workerData. */
export interface RiskBuffers {
  capacity: RiskCapacity
  control: SharedArrayBuffer
  limits: SharedArrayBuffer
  accountState: SharedArrayBuffer
  rateRing: SharedArrayBuffer
  positions: SharedArrayBuffer
  orders: SharedArrayBuffer
  orderSlots: SharedArrayBuffer
  symbols: SharedArrayBuffer
  accountNames: SharedArrayBuffer
}

/** Typed views over RiskBuffers, one set per thread. */
export class RiskViews {
  readonly capacity: RiskCapacity
  readonly control: Int32Array
  readonly limits: Float64Array
  readonly accountState: Float64Array
  readonly rateRing: Float64Array
  readonly positions: Float64Array
  readonly orders: Float64Array
  readonly orderSlots: Int32Array
  readonly symbols: Uint8Array
  readonly accountNames: Uint8Array
  /** First control slot of each instrument's block. */
  readonly instrumentCtlBase: number

  constructor (readonly buffers: RiskBuffers) {
    this.capacity = buffers.capacity
    this.control = new Int32Array(buffers.control)
    this.limits = new Float64Array(buffers.limits)
    this.accountState = new Float64Array(buffers.accountState)
    this.rateRing = new Float64Array(buffers.rateRing)
    this.positions = new Float64Array(buffers.positions)
    this.orders = new Float64Array(buffers.orders)
    this.orderSlots = new Int32Array(buffers.orderSlots)
    this.symbols = new Uint8Array(buffers.symbols)
    this.accountNames = new Uint8Array(buffers.accountNames)
    this.instrumentCtlBase = CTL_HEADER_SLOTS + buffers.capacity.accounts * ACCOUNT_CTL_STRIDE
  }

  accountCtl (account: number): number {
    return CTL_HEADER_SLOTS + account * ACCOUNT_CTL_STRIDE
  }

  instrumentCtl (instrument: number): number {
    return this.instrumentCtlBase + instrument * INSTRUMENT_CTL_STRIDE
  }
}

// ---- limit rows ----------------------------------------------------------
export const ROW_GLOBAL = 0
export const ROW_FIRST_LANE = 1
export const ROW_FIRST_EXCHANGE = ROW_FIRST_LANE + LANE_COUNT
export const ROW_FIRST_APP = ROW_FIRST_EXCHANGE + EXCHANGES.length

export function appRow (app: number): number {
  return ROW_FIRST_APP + app
}

export function accountRow (capacity: RiskCapacity, account: number): number {
  return ROW_FIRST_APP + capacity.appIds + account
}

/** Row of the n-th account × instrument limit row given out. */
export function accountInstrumentRow (capacity: RiskCapacity, n: number): number {
  return ROW_FIRST_APP + capacity.appIds + capacity.accounts + n
}

export function limitRowCount (capacity: RiskCapacity): number {
  return accountInstrumentRow(capacity, capacity.accountInstrumentLimitRows)
}
