// The exchange's decisions: validate a new order, acknowledge it, match it
// in its instrument's book, and say what happened in execution reports.
// No sockets and no sequence numbers here: every report goes to a sink
// with the link session name it belongs to, and the simulator delivers it.
//
// Positions: each member account (LinkNewOrder.account) holds a position
// book per listed instrument, kept ONLY through checks/position-book.ts,
// the arithmetic the gateway's risk engine uses too, so the exchange and
// the gateway apply the same close rules:
//
//   accepted close   -> freezeClose (the order keeps its frozen split)
//   fill             -> fillOpen or fillClose, for both orders of a match
//   close order ends -> releaseClose (cancel, FAK/FOK remainder, expiry)
//   trading-day roll -> rollBook, rollFrozen, then the day's orders expire
import {
  ExecType, HedgeFlag, OffsetFlag, RejectReason, Side, TimeInForce, TradingStatus,
  wireInt, type InstrumentInit, type LinkExecutionReportInit,
} from '../protocol/messages.js'
import {
  BOOK_FIELDS, BOOK_LONG_TODAY, CloseKind, readBook, type BookView,
  availableToClose, bucketOf, closeKind, closeRuleOf, fillClose, fillOpen, freezeClose, isClose, releaseClose,
  rollBook, rollFrozen, CloseRule,
} from '../checks/position-book.js'
import { BookOrder, OrderBook } from './order-book.js'
import { DEFAULT_MAX_ACCOUNTS } from './constants.js'
import { nowMicros } from '../protocol/clock.js'

/** Receives every report, in order, with the link session it belongs to. Must not call back into the engine. */
export type ReportSink = (sessionName: string, report: LinkExecutionReportInit) => void

type WireInt = number | { toNumber (): number }

/** The fields of a LinkNewOrder the engine reads (a decoded LinkNewOrder fits). */
export interface NewOrderInput {
  orderId: WireInt
  account: string
  instrument: string
  side: Side
  price: WireInt
  quantityLots: number
  timeInForce: TimeInForce
  /** Unset (0 or absent, an older gateway) is taken as OFFSET_OPEN. */
  offsetFlag?: OffsetFlag
  /** Unset is taken as HEDGE_SPECULATION. */
  hedgeFlag?: HedgeFlag
}

/** Limits and the day of a MatchingEngine. */
export interface MatchingEngineOptions {
  /** Trading day, YYYYMMDD; part of every trade ID (default ""). */
  tradingDay?: string
  /** Member accounts holding a position book at once (default DEFAULT_MAX_ACCOUNTS). */
  maxAccounts?: number
}

/** One account's position in one instrument, for inspection (lots). */
export interface PositionView extends BookView {
  instrument: string
}

/** Reference data narrowed to plain numbers once, so the hot path never converts. */
interface ListedInstrument {
  readonly symbol: string
  /** Exchange code (Instrument.exchange), e.g. "SHFE". */
  readonly exchange: string
  readonly tickSize: number
  readonly lowerLimitPrice: number
  readonly upperLimitPrice: number
  readonly maxOrderLots: number
  status: TradingStatus
  readonly book: OrderBook
  /** Where this instrument's block starts in every account's position book. */
  readonly positionAt: number
  /** The exchange's plain-close preset (CLOSE_RULES by Instrument.exchange). */
  readonly closeRule: CloseRule
}

/**
 * A member account's positions: one position-book block (BOOK_FIELDS
 * float64s) per listed instrument, at ListedInstrument.positionAt. A few
 * hundred bytes per account; the number of accounts is capped
 * (maxAccounts).
 */
class AccountPositions {
  readonly book: Float64Array
  constructor (instrumentCount: number) {
    this.book = new Float64Array(instrumentCount * BOOK_FIELDS)
  }

  /** Nothing held and nothing frozen in any instrument. */
  isFlat (): boolean {
    for (let i = 0; i < this.book.length; i++) if (this.book[i] !== 0) return false
    return true
  }
}

/**
 * Every order_id a session has used this trading day, rejected ones
 * included: an ID is spent once used (common.proto,
 * DUPLICATE_CLIENT_ORDER_ID).
 *
 * Gateways number their orders 1, 2, 3, ... so the IDs are kept as one
 * contiguous run [runStart, runEnd] plus a Set of the IDs outside it. In
 * the usual case the Set stays empty and a day of millions of orders costs
 * two numbers instead of a hash entry per order.
 */
class UsedOrderIds {
  private runStart = 1
  private runEnd = 0 // runEnd < runStart: the run is empty
  private readonly others = new Set<number>()

  has (id: number): boolean {
    return (id >= this.runStart && id <= this.runEnd) || (this.others.size > 0 && this.others.has(id))
  }

  add (id: number): void {
    if (this.runEnd < this.runStart) {
      this.runStart = id
      this.runEnd = id
    } else if (id === this.runEnd + 1) {
      this.runEnd = id
    } else {
      this.others.add(id)
      return
    }
    // Out-of-order IDs that the run now reaches join it.
    while (this.others.size > 0 && this.others.delete(this.runEnd + 1)) this.runEnd++
  }
}

/** Order state of one link session name. */
class SessionOrders {
  /** Working (resting) orders by the gateway's order_id. */
  readonly working = new Map<number, BookOrder>()
  readonly usedIds = new UsedOrderIds()
}

/**
 * Matching engine for every listed instrument.
 *
 * Validation order, first failure wins: DUPLICATE_CLIENT_ORDER_ID (0 or
 * reused), UNKNOWN_INSTRUMENT, INSTRUMENT_NOT_TRADING, INVALID_SIDE,
 * INVALID_FIELD (unknown time_in_force, offset_flag or hedge_flag),
 * INVALID_QUANTITY, QUANTITY_ABOVE_MAX, PRICE_OFF_TICK,
 * PRICE_OUTSIDE_BAND, EXCHANGE_REJECTED (a new account beyond
 * maxAccounts), CLOSE_EXCEEDS_POSITION (a close asking more than its
 * account may close under the offset flag and the exchange's rule). The
 * duplicate check goes first so a reused ID never consumes anything else.
 *
 * A valid order gets ACK, then fills against the opposite side at the
 * resting prices (both sides get PARTIAL_FILL / FILL), then: GFD rests,
 * FAK cancels its remainder, FOK cancels whole without trading unless it
 * could fill completely. Both sides of one match carry the same trade ID,
 * "T" + trading day + "-" + a counter that restarts each day. There is no
 * self-trade prevention here: that is the gateway's job, and an exchange
 * that trades an account against itself is what the gateway's check is
 * there to prevent.
 */
export class MatchingEngine {
  private readonly listed = new Map<string, ListedInstrument>()
  private readonly sessions = new Map<string, SessionOrders>()
  /** Position books by member account; at most maxAccounts entries. */
  private readonly accounts = new Map<string, AccountPositions>()
  private readonly instrumentCount: number
  readonly maxAccounts: number
  private nextExchangeOrderId = 1
  /** Matches today; the trade ID counter. */
  private tradeCount = 0
  private day: string
  /** Time of the event being processed; one clock read per incoming message. */
  private eventTimeUs = 0

  constructor (
    instruments: readonly InstrumentInit[],
    private readonly sink: ReportSink,
    private readonly clockUs: () => number = nowMicros,
    options: MatchingEngineOptions = {},
  ) {
    this.day = options.tradingDay ?? ''
    this.maxAccounts = options.maxAccounts ?? DEFAULT_MAX_ACCOUNTS
    this.instrumentCount = instruments.length
    for (const i of instruments) {
      const symbol = i.symbol ?? ''
      this.listed.set(symbol, {
        symbol,
        exchange: i.exchange ?? '',
        tickSize: wireInt(i.tickSize),
        lowerLimitPrice: wireInt(i.lowerLimitPrice),
        upperLimitPrice: wireInt(i.upperLimitPrice),
        maxOrderLots: i.maxOrderLots ?? 0,
        status: i.status ?? TradingStatus.TRADING_STATUS_UNSPECIFIED,
        book: new OrderBook(symbol),
        positionAt: this.listed.size * BOOK_FIELDS,
        closeRule: closeRuleOf(i.exchange ?? ''),
      })
    }
  }

  /** The trading day, YYYYMMDD, as given at construction or by the last rollTradingDay. */
  get tradingDay (): string {
    return this.day
  }

  /** Member accounts holding a position book now (at most maxAccounts). */
  get accountCount (): number {
    return this.accounts.size
  }

  /** Handles a LinkNewOrder from a session. */
  newOrder (sessionName: string, input: NewOrderInput): void {
    this.eventTimeUs = this.clockUs()
    const orders = this.ordersOf(sessionName)
    const orderId = wireInt(input.orderId)
    const price = wireInt(input.price)
    const lots = input.quantityLots
    if (orderId === 0 || orders.usedIds.has(orderId)) {
      this.reject(sessionName, orderId, RejectReason.DUPLICATE_CLIENT_ORDER_ID,
        orderId === 0 ? 'order_id 0 is not allowed' : `order_id ${orderId} was already used in this session`)
      return
    }
    orders.usedIds.add(orderId)
    const instrument = this.listed.get(input.instrument)
    if (instrument === undefined) {
      this.reject(sessionName, orderId, RejectReason.UNKNOWN_INSTRUMENT, `instrument "${input.instrument}" is not listed`)
      return
    }
    if (instrument.status !== TradingStatus.TRADING) {
      this.reject(sessionName, orderId, RejectReason.INSTRUMENT_NOT_TRADING,
        `${instrument.symbol} is ${statusName(instrument.status)}`)
      return
    }
    const side = input.side
    if (side !== Side.BUY && side !== Side.SELL) {
      this.reject(sessionName, orderId, RejectReason.INVALID_SIDE, `side ${side} is not BUY or SELL`)
      return
    }
    const tif = input.timeInForce
    if (tif !== TimeInForce.GFD && tif !== TimeInForce.FAK && tif !== TimeInForce.FOK && tif !== TimeInForce.TIME_IN_FORCE_UNSPECIFIED) {
      this.reject(sessionName, orderId, RejectReason.INVALID_FIELD, `time_in_force ${tif} is not GFD, FAK or FOK`)
      return
    }
    // Unset from a gateway older than the offset flag: every order then opened.
    const rawOffset = input.offsetFlag ?? OffsetFlag.OFFSET_FLAG_UNSPECIFIED
    const offset = rawOffset === OffsetFlag.OFFSET_FLAG_UNSPECIFIED ? OffsetFlag.OFFSET_OPEN : rawOffset
    if (offset !== OffsetFlag.OFFSET_OPEN && !isClose(offset)) {
      this.reject(sessionName, orderId, RejectReason.INVALID_FIELD, `offset_flag ${rawOffset} is not OPEN, CLOSE, CLOSE_TODAY or CLOSE_YESTERDAY`)
      return
    }
    const hedge = input.hedgeFlag ?? HedgeFlag.HEDGE_FLAG_UNSPECIFIED
    if (hedge !== HedgeFlag.HEDGE_FLAG_UNSPECIFIED && hedge !== HedgeFlag.HEDGE_SPECULATION &&
        hedge !== HedgeFlag.HEDGE_ARBITRAGE && hedge !== HedgeFlag.HEDGE_HEDGE) {
      this.reject(sessionName, orderId, RejectReason.INVALID_FIELD, `hedge_flag ${hedge} is not SPECULATION, ARBITRAGE or HEDGE`)
      return
    }
    if (lots === 0) {
      this.reject(sessionName, orderId, RejectReason.INVALID_QUANTITY, 'quantity_lots is 0')
      return
    }
    if (lots > instrument.maxOrderLots) {
      this.reject(sessionName, orderId, RejectReason.QUANTITY_ABOVE_MAX,
        `quantity_lots ${lots} is above ${instrument.symbol} max_order_lots ${instrument.maxOrderLots}`)
      return
    }
    if (price % instrument.tickSize !== 0) {
      this.reject(sessionName, orderId, RejectReason.PRICE_OFF_TICK,
        `price ${price} is not a multiple of ${instrument.symbol} tick_size ${instrument.tickSize}`)
      return
    }
    if (price < instrument.lowerLimitPrice || price > instrument.upperLimitPrice) {
      this.reject(sessionName, orderId, RejectReason.PRICE_OUTSIDE_BAND,
        `price ${price} is outside ${instrument.symbol} band [${instrument.lowerLimitPrice}, ${instrument.upperLimitPrice}]`)
      return
    }
    const account = input.account
    const closes = offset !== OffsetFlag.OFFSET_OPEN
    const bucket = bucketOf(side, closes)
    let positions = this.accounts.get(account)
    let kind: CloseKind = CloseKind.TODAY
    if (closes) {
      // An account without a book holds nothing: refused below without taking an account slot.
      kind = closeKind(offset, instrument.closeRule)
      const available = positions === undefined ? 0 : availableToClose(positions.book, instrument.positionAt, bucket, kind)
      if (lots > available) {
        this.reject(sessionName, orderId, RejectReason.CLOSE_EXCEEDS_POSITION,
          `close of ${lots} lots asked, ${available} available to close: ${closeScope(account, offset, bucket, kind, instrument)}`)
        return
      }
    } else if (positions === undefined) {
      if (this.accounts.size >= this.maxAccounts) {
        this.reject(sessionName, orderId, RejectReason.EXCHANGE_REJECTED,
          `the exchange keeps positions for at most ${this.maxAccounts} accounts and "${account}" would be one more ` +
          '(accounts left flat leave at the trading-day roll)')
        return
      }
      positions = new AccountPositions(this.instrumentCount)
      this.accounts.set(account, positions)
    }

    const order = new BookOrder(this.nextExchangeOrderId++, sessionName, orderId, account,
      instrument.symbol, side, price, lots)
    order.positions = positions!.book // set above: an open made one, and a close without one was refused
    order.positionAt = instrument.positionAt
    order.positionBucket = bucket
    if (closes) {
      order.frozen = new Float64Array(2)
      freezeClose(order.positions, order.positionAt, bucket, kind, lots, order.frozen, 0)
    }
    this.sink(sessionName, this.report(order, ExecType.ACK, 0, 0))
    const book = instrument.book
    if (tif === TimeInForce.FOK && !book.canFillCompletely(side, price, lots)) {
      this.endOrder(order)
      this.sink(sessionName, this.report(order, ExecType.CANCELLED, 0, 0, 'FOK: not enough quantity to fill completely at once'))
      return
    }
    book.match(order, this.onFill)
    if (order.leavesLots === 0) return
    if (tif === TimeInForce.FAK || tif === TimeInForce.FOK) {
      this.endOrder(order)
      this.sink(sessionName, this.report(order, ExecType.CANCELLED, 0, 0, 'FAK: remainder cancelled'))
      return
    }
    book.rest(order)
    orders.working.set(orderId, order)
  }

  /**
   * Rejects a new order without looking at it further, spending its
   * order_id (used by fault injection: EXCHANGE_REJECTED).
   */
  rejectOrder (sessionName: string, input: NewOrderInput, reason: RejectReason, text: string): void {
    this.eventTimeUs = this.clockUs()
    const orderId = wireInt(input.orderId)
    this.ordersOf(sessionName).usedIds.add(orderId)
    this.reject(sessionName, orderId, reason, text)
  }

  /** Handles a LinkCancel: CANCELLED if the order is working, else a cancel reject (UNKNOWN_ORDER). */
  cancel (sessionName: string, orderIdWire: WireInt): void {
    this.eventTimeUs = this.clockUs()
    const orderId = wireInt(orderIdWire)
    const orders = this.ordersOf(sessionName)
    const order = orders.working.get(orderId)
    if (order === undefined) {
      this.reject(sessionName, orderId, RejectReason.UNKNOWN_ORDER, `order_id ${orderId} is not working (unknown or already done)`, true)
      return
    }
    this.cancelWorking(orders, order, '')
  }

  /**
   * Handles a LinkMassCancel: cancels every working order of the session,
   * limited to an account and/or instrument when given (empty = all).
   * Returns how many were cancelled.
   */
  massCancel (sessionName: string, account: string, instrument: string): number {
    this.eventTimeUs = this.clockUs()
    const orders = this.ordersOf(sessionName)
    let cancelled = 0
    // Deleting from a Map while iterating it is well defined: deleted entries are skipped.
    for (const order of orders.working.values()) {
      if (account !== '' && order.account !== account) continue
      if (instrument !== '' && order.instrument !== instrument) continue
      this.cancelWorking(orders, order, 'mass cancel')
      cancelled++
    }
    return cancelled
  }

  /**
   * The trading-day roll, as an exchange's settlement does it: every
   * account's today lots become yesterday's (rollBook, and rollFrozen for
   * each working close order, so what they froze moves with the lots);
   * then every working order expires with a CANCELLED report (only GFD
   * orders rest: FAK and FOK never do), releasing what it froze. The
   * trade ID counter and the order_ids spent restart with the new day, and
   * accounts left flat give up their slot. Returns how many orders expired.
   */
  rollTradingDay (nextDay: string): number {
    this.eventTimeUs = this.clockUs()
    for (const positions of this.accounts.values()) {
      for (let at = 0; at < positions.book.length; at += BOOK_FIELDS) rollBook(positions.book, at)
    }
    const text = `end of trading day ${this.day}: GFD order expired`
    let expired = 0
    for (const orders of this.sessions.values()) {
      for (const order of orders.working.values()) {
        if (order.frozen !== null) rollFrozen(order.frozen, 0)
        this.cancelWorking(orders, order, text)
        expired++
      }
    }
    this.sessions.clear()
    for (const [account, positions] of this.accounts) if (positions.isFlat()) this.accounts.delete(account)
    this.tradeCount = 0
    this.day = nextDay
    return expired
  }

  /**
   * An account's positions: one entry per instrument where it holds or
   * freezes anything, in listing order. Allocates (for tests and
   * inspection, not the order path).
   */
  positionsOf (account: string): PositionView[] {
    const positions = this.accounts.get(account)
    const out: PositionView[] = []
    if (positions === undefined) return out
    const b = positions.book
    for (const instrument of this.listed.values()) {
      const at = instrument.positionAt
      let any = false
      for (let i = at; i < at + BOOK_FIELDS; i++) if (b[i] !== 0) any = true
      if (!any) continue
      out.push({ instrument: instrument.symbol, ...readBook(b, at) })
    }
    return out
  }

  /** Changes an instrument's trading status (HALTED / CLOSED stop new orders; cancels still work). */
  setStatus (symbol: string, status: TradingStatus): boolean {
    const instrument = this.listed.get(symbol)
    if (instrument === undefined) return false
    instrument.status = status
    return true
  }

  /** The book of an instrument, for inspection. */
  book (symbol: string): OrderBook | undefined {
    return this.listed.get(symbol)?.book
  }

  /** A working order of a session, for inspection. */
  workingOrder (sessionName: string, orderId: number): BookOrder | undefined {
    return this.sessions.get(sessionName)?.working.get(orderId)
  }

  /** Number of working orders of a session. */
  workingCount (sessionName: string): number {
    return this.sessions.get(sessionName)?.working.size ?? 0
  }

  // Bound once: passing a fresh closure to every match() would allocate per order.
  private readonly onFill = (aggressor: BookOrder, resting: BookOrder, price: number, lots: number): void => {
    const restingDone = resting.leavesLots === 0
    if (restingDone) this.sessions.get(resting.sessionName)?.working.delete(resting.orderId)
    this.fillPosition(aggressor, lots)
    this.fillPosition(resting, lots)
    // One trade, one ID: each side's report carries it (as CTP gives both sides the same TradeID).
    const tradeId = `T${this.day}-${++this.tradeCount}`
    this.sink(aggressor.sessionName, this.report(aggressor,
      aggressor.leavesLots === 0 ? ExecType.FILL : ExecType.PARTIAL_FILL, price, lots, '', tradeId))
    this.sink(resting.sessionName, this.report(resting,
      restingDone ? ExecType.FILL : ExecType.PARTIAL_FILL, price, lots, '', tradeId))
  }

  /** A fill of `lots` moves the order's account position; a close that is done releases what it still froze. */
  private fillPosition (order: BookOrder, lots: number): void {
    const frozen = order.frozen
    if (frozen === null) {
      fillOpen(order.positions, order.positionAt, order.positionBucket, lots)
      return
    }
    fillClose(order.positions, order.positionAt, order.positionBucket, lots, frozen, 0)
    if (order.leavesLots === 0) releaseClose(order.positions, order.positionAt, order.positionBucket, frozen, 0)
  }

  /** The order ends without trading further (cancel, FAK/FOK remainder, expiry): a close releases what it froze. */
  private endOrder (order: BookOrder): void {
    order.leavesLots = 0
    if (order.frozen !== null) releaseClose(order.positions, order.positionAt, order.positionBucket, order.frozen, 0)
  }

  private cancelWorking (orders: SessionOrders, order: BookOrder, text: string): void {
    this.listed.get(order.instrument)?.book.remove(order)
    orders.working.delete(order.orderId)
    this.endOrder(order)
    this.sink(order.sessionName, this.report(order, ExecType.CANCELLED, 0, 0, text))
  }

  /** A REJECTED report; with cancelRejected, the refusal of a cancel (the order's state is unchanged). */
  private reject (sessionName: string, orderId: number, reason: RejectReason, text: string, cancelRejected = false): void {
    this.sink(sessionName, {
      orderId,
      execType: ExecType.REJECTED,
      exchangeOrderId: 0,
      lastPrice: 0,
      lastLots: 0,
      cumulativeLots: 0,
      leavesLots: 0,
      reason,
      text,
      transactTimeUs: this.eventTimeUs,
      cancelRejected,
      tradeId: '',
    })
  }

  // Every report literal has the same fields in the same order, so V8 keeps
  // one hidden class for all of them (and the encoder stays monomorphic).
  private report (order: BookOrder, execType: ExecType, lastPrice: number, lastLots: number, text = '', tradeId = ''): LinkExecutionReportInit {
    return {
      orderId: order.orderId,
      execType,
      exchangeOrderId: order.exchangeOrderId,
      lastPrice,
      lastLots,
      cumulativeLots: order.cumulativeLots,
      leavesLots: order.leavesLots,
      reason: RejectReason.REASON_UNSPECIFIED,
      text,
      transactTimeUs: this.eventTimeUs,
      cancelRejected: false,
      tradeId,
    }
  }

  private ordersOf (sessionName: string): SessionOrders {
    let orders = this.sessions.get(sessionName)
    if (orders === undefined) {
      orders = new SessionOrders()
      this.sessions.set(sessionName, orders)
    }
    return orders
  }
}

const CLOSE_SCOPE: Readonly<Record<CloseKind, string>> = Object.freeze({
  [CloseKind.TODAY]: "today's lots only (OFFSET_CLOSE_TODAY)",
  [CloseKind.YESTERDAY]: "yesterday's lots only",
  [CloseKind.TODAY_THEN_YESTERDAY]: "today's, then yesterday's lots",
})

/** What a refused close could take, e.g. `acct-1 long rb2605, yesterday's lots only (...)`. */
function closeScope (account: string, offset: number, bucket: number, kind: CloseKind, instrument: ListedInstrument): string {
  const side = bucket === BOOK_LONG_TODAY ? 'long' : 'short'
  let why = ''
  if (offset === OffsetFlag.OFFSET_CLOSE_YESTERDAY) why = ' (OFFSET_CLOSE_YESTERDAY)'
  else if (offset === OffsetFlag.OFFSET_CLOSE && instrument.closeRule === CloseRule.YESTERDAY_ONLY) {
    why = ` (a plain close on ${instrument.exchange} takes yesterday's lots only; today's need OFFSET_CLOSE_TODAY)`
  }
  return `${account} ${side} ${instrument.symbol}, ${CLOSE_SCOPE[kind]}${why}`
}

function statusName (status: TradingStatus): string {
  return (TradingStatus as unknown as Record<number, string>)[status] ?? `status ${status}`
}
