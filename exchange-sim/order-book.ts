// One instrument's limit order book with price-time priority: the best
// price trades first, and at one price the order that arrived first.
//
// Layout of one side (bids shown; asks mirror it, sorted the other way):
//
//   levels[]  (sorted so the BEST price is the LAST element)
//   +-------+-------+-------+
//   | 3198  | 3199  | 3200  |  <- best bid: levels[levels.length - 1]
//   +---|---+---|---+---|---+
//       v       v       v
//     head    head    head -> order -> order -> ... (FIFO, doubly linked)
//
// Trading always happens at the best end, so taking out an emptied best
// level is a pop() and never shifts the array; only a new price level away
// from the best, or a cancel that empties one, splices. The per-level lists
// are intrusive (links live on the order) so a cancel unlinks in O(1)
// without searching the queue.
import { Side } from '../protocol/messages.js'

const NO_POSITIONS = new Float64Array(0)

/** An order as the book holds it. Quantities change as it trades; the links belong to the book. */
export class BookOrder {
  /** Lots traded so far. */
  cumulativeLots = 0
  /** Lots still working. */
  leavesLots: number
  /** Queue links and the level the order rests on; null when not resting. */
  prev: BookOrder | null = null
  next: BookOrder | null = null
  level: PriceLevel | null = null
  // Position fields: the engine sets and reads them (exchange-sim/matching-engine.ts);
  // the book never does.
  /** The account's position book (one block of BOOK_FIELDS per listed instrument); empty until the engine sets it. */
  positions: Float64Array = NO_POSITIONS
  /** Where this instrument's block starts in `positions`. */
  positionAt = 0
  /** The held-today bucket (checks/position-book.ts bucketOf) this order opens, or closes when `frozen` is set. */
  positionBucket = 0
  /** A close order's frozen split [today's, yesterday's] (FROZEN_TODAY, FROZEN_YESTERDAY); null on an opening order. */
  frozen: Float64Array | null = null

  constructor (
    readonly exchangeOrderId: number,
    /** Link session the order arrived on; its reports go there. */
    readonly sessionName: string,
    /** The gateway's order_id, unique per session name. */
    readonly orderId: number,
    readonly account: string,
    readonly instrument: string,
    readonly side: Side,
    /** Limit price in integer price units. */
    readonly price: number,
    readonly quantityLots: number,
  ) {
    this.leavesLots = quantityLots
  }
}

/** All resting orders at one price on one side, oldest first. */
export class PriceLevel {
  head: BookOrder | null = null
  tail: BookOrder | null = null
  /** Sum of leavesLots of the orders here, kept so FOK can size liquidity without walking queues. */
  totalLots = 0
  orderCount = 0
  constructor (readonly price: number) {}
}

/**
 * Called once per match, after both orders' quantities are updated and a
 * fully filled resting order has left the book. Must not call back into
 * the book.
 */
export type FillHandler = (aggressor: BookOrder, resting: BookOrder, price: number, lots: number) => void

/** One row of a depth snapshot, best price first. */
export interface DepthLevel {
  price: number
  lots: number
  orders: number
}

export class OrderBook {
  // Bids ascending and asks descending: either way the best is last.
  private readonly bids: PriceLevel[] = []
  private readonly asks: PriceLevel[] = []

  constructor (readonly symbol: string) {}

  /**
   * Trades the incoming order against the opposite side while prices
   * cross, at each resting order's price. Leaves whatever did not trade in
   * aggressor.leavesLots; the caller decides whether it rests.
   */
  match (aggressor: BookOrder, onFill: FillHandler): void {
    const buying = aggressor.side === Side.BUY
    const levels = buying ? this.asks : this.bids
    const limit = aggressor.price
    while (aggressor.leavesLots > 0 && levels.length > 0) {
      const level = levels[levels.length - 1]!
      if (buying ? level.price > limit : level.price < limit) break
      let resting = level.head
      while (resting !== null && aggressor.leavesLots > 0) {
        const next = resting.next
        const lots = resting.leavesLots < aggressor.leavesLots ? resting.leavesLots : aggressor.leavesLots
        resting.leavesLots -= lots
        resting.cumulativeLots += lots
        aggressor.leavesLots -= lots
        aggressor.cumulativeLots += lots
        level.totalLots -= lots
        if (resting.leavesLots === 0) this.unlink(resting, level)
        onFill(aggressor, resting, level.price, lots)
        resting = next
      }
      if (level.head === null) levels.pop()
    }
  }

  /** True when an order of this side, limit and size would fill completely right now (the FOK test). */
  canFillCompletely (side: Side, limitPrice: number, lots: number): boolean {
    const buying = side === Side.BUY
    const levels = buying ? this.asks : this.bids
    let available = 0
    for (let i = levels.length - 1; i >= 0; i--) {
      const level = levels[i]!
      if (buying ? level.price > limitPrice : level.price < limitPrice) break
      available += level.totalLots
      if (available >= lots) return true
    }
    return false
  }

  /** Puts an order at the back of the queue at its price. */
  rest (order: BookOrder): void {
    const levels = order.side === Side.BUY ? this.bids : this.asks
    const index = this.levelIndex(levels, order.price, order.side)
    let level = levels[index]
    if (level === undefined || level.price !== order.price) {
      level = new PriceLevel(order.price)
      levels.splice(index, 0, level)
    }
    order.level = level
    order.prev = level.tail
    order.next = null
    if (level.tail === null) level.head = order
    else level.tail.next = order
    level.tail = order
    level.totalLots += order.leavesLots
    level.orderCount++
  }

  /** Takes a resting order out of the book (a cancel). Returns false if it was not resting. */
  remove (order: BookOrder): boolean {
    const level = order.level
    if (level === null) return false
    level.totalLots -= order.leavesLots
    this.unlink(order, level)
    if (level.head === null) {
      const levels = order.side === Side.BUY ? this.bids : this.asks
      const index = this.levelIndex(levels, level.price, order.side)
      if (levels[index] === level) levels.splice(index, 1)
    }
    return true
  }

  /** Best (highest) bid price, or undefined when no bids rest. */
  bestBid (): number | undefined {
    return this.bids[this.bids.length - 1]?.price
  }

  /** Best (lowest) ask price, or undefined when no asks rest. */
  bestAsk (): number | undefined {
    return this.asks[this.asks.length - 1]?.price
  }

  /** Snapshot of one side, best price first (for tests and diagnostics; allocates). */
  depth (side: Side): DepthLevel[] {
    const levels = side === Side.BUY ? this.bids : this.asks
    const out: DepthLevel[] = []
    for (let i = levels.length - 1; i >= 0; i--) {
      const level = levels[i]!
      out.push({ price: level.price, lots: level.totalLots, orders: level.orderCount })
    }
    return out
  }

  /** Resting orders at one price, oldest first (for tests). */
  queueAt (side: Side, price: number): BookOrder[] {
    const levels = side === Side.BUY ? this.bids : this.asks
    const level = levels[this.levelIndex(levels, price, side)]
    const out: BookOrder[] = []
    if (level === undefined || level.price !== price) return out
    for (let o = level.head; o !== null; o = o.next) out.push(o)
    return out
  }

  private unlink (order: BookOrder, level: PriceLevel): void {
    if (order.prev === null) level.head = order.next
    else order.prev.next = order.next
    if (order.next === null) level.tail = order.prev
    else order.next.prev = order.prev
    order.prev = null
    order.next = null
    order.level = null
    level.orderCount--
  }

  /**
   * Binary search: index of the level at `price`, or where it would be
   * inserted. Bids are ascending, asks descending.
   */
  private levelIndex (levels: PriceLevel[], price: number, side: Side): number {
    const ascending = side === Side.BUY
    let lo = 0
    let hi = levels.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const p = levels[mid]!.price
      if (ascending ? p < price : p > price) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}
