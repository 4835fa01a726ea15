// The exchange's decisions: validate a new order, acknowledge it, match it
// in its instrument's book, and say what happened in execution reports.
// No sockets and no sequence numbers here: every report goes to a sink
// with the link session name it belongs to, and the simulator delivers it.
import {
  ExecType, RejectReason, Side, TimeInForce, TradingStatus,
  wireInt, type InstrumentInit, type LinkExecutionReportInit,
} from '../protocol/messages.js'
import { BookOrder, OrderBook } from './order-book.js'
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
}

/** Reference data narrowed to plain numbers once, so the hot path never converts. */
interface ListedInstrument {
  readonly symbol: string
  readonly tickSize: number
  readonly lowerLimitPrice: number
  readonly upperLimitPrice: number
  readonly maxOrderLots: number
  status: TradingStatus
  readonly book: OrderBook
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
 * INVALID_FIELD (unknown time_in_force), INVALID_QUANTITY,
 * QUANTITY_ABOVE_MAX, PRICE_OFF_TICK, PRICE_OUTSIDE_BAND. The duplicate
 * check goes first so a reused ID never consumes anything else.
 *
 * A valid order gets ACK, then fills against the opposite side at the
 * resting prices (both sides get PARTIAL_FILL / FILL), then: GFD rests,
 * FAK cancels its remainder, FOK cancels whole without trading unless it
 * could fill completely. There is no self-trade prevention here: that is
 * the gateway's job, and an exchange that trades an account against itself
 * is what the gateway's check is there to prevent.
 */
export class MatchingEngine {
  private readonly listed = new Map<string, ListedInstrument>()
  private readonly sessions = new Map<string, SessionOrders>()
  private nextExchangeOrderId = 1
  /** Time of the event being processed; one clock read per incoming message. */
  private eventTimeUs = 0

  constructor (
    instruments: readonly InstrumentInit[],
    private readonly sink: ReportSink,
    private readonly clockUs: () => number = nowMicros,
  ) {
    for (const i of instruments) {
      const symbol = i.symbol ?? ''
      this.listed.set(symbol, {
        symbol,
        tickSize: wireInt(i.tickSize),
        lowerLimitPrice: wireInt(i.lowerLimitPrice),
        upperLimitPrice: wireInt(i.upperLimitPrice),
        maxOrderLots: i.maxOrderLots ?? 0,
        status: i.status ?? TradingStatus.TRADING_STATUS_UNSPECIFIED,
        book: new OrderBook(symbol),
      })
    }
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

    const order = new BookOrder(this.nextExchangeOrderId++, sessionName, orderId, input.account,
      instrument.symbol, side, price, lots)
    this.sink(sessionName, this.report(order, ExecType.ACK, 0, 0))
    const book = instrument.book
    if (tif === TimeInForce.FOK && !book.canFillCompletely(side, price, lots)) {
      order.leavesLots = 0
      this.sink(sessionName, this.report(order, ExecType.CANCELLED, 0, 0, 'FOK: not enough quantity to fill completely at once'))
      return
    }
    book.match(order, this.onFill)
    if (order.leavesLots === 0) return
    if (tif === TimeInForce.FAK || tif === TimeInForce.FOK) {
      order.leavesLots = 0
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
    this.sink(aggressor.sessionName, this.report(aggressor,
      aggressor.leavesLots === 0 ? ExecType.FILL : ExecType.PARTIAL_FILL, price, lots))
    this.sink(resting.sessionName, this.report(resting,
      restingDone ? ExecType.FILL : ExecType.PARTIAL_FILL, price, lots))
  }

  private cancelWorking (orders: SessionOrders, order: BookOrder, text: string): void {
    this.listed.get(order.instrument)?.book.remove(order)
    orders.working.delete(order.orderId)
    order.leavesLots = 0
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
    })
  }

  // Every report literal has the same fields in the same order, so V8 keeps
  // one hidden class for all of them (and the encoder stays monomorphic).
  private report (order: BookOrder, execType: ExecType, lastPrice: number, lastLots: number, text = ''): LinkExecutionReportInit {
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

function statusName (status: TradingStatus): string {
  return (TradingStatus as unknown as Record<number, string>)[status] ?? `status ${status}`
}
