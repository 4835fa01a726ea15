// The working orders of one lane as a slot table: one row per order the
// lane forwarded and that has not finished, in preallocated typed-array
// columns (struct of arrays), so an order costs no object on the heap and
// nothing for the collector to trace or free at its end.
//
//   Float64 columns  linkOrderId, linkSeq, cancelLinkSeq, clientOrderId, price,
//                    quantityLots, cumulativeLots, leavesLots, exchangeOrderId,
//                    receivedMs
//   Int32 columns    riskSlot, riskLane, riskApp, riskAccount, instrument (the
//                    risk tables' indexes), side, timeInForce, offsetFlag,
//                    hedgeFlag; prev/next: the entry-order list (free slots
//                    chain through prev)
//   Uint8 column     flags: in use, cancel owed
//   JS arrays        the owning session and a pending monitor warning: references
//                    to objects that exist anyway, never one made per order
//
// Strings are indexes: the account by its risk-table index (names kept once
// per account in `accountNames`), the instrument by its risk-table index
// (its InstrumentRisk kept once per instrument: symbol and exchange, all
// the lifecycle reads of it, are fixed per index).
//
// A link order ID finds its slot through an open-addressing Int32Array hash
// (linear probing, backward-shift delete): link order IDs are above 2^31,
// so a Map<number, number> keyed by them would box every key.
//
// Capacity grows by doubling from a small start up to a bound fixed at
// construction (lane/order-lifecycle.ts picks it); at the bound `full` is
// true and order entry refuses new orders rather than allocate more.
//
// The table is the one home of working orders for the live lane, recovery
// and what-if replay alike (they share OrderLifecycle). `view` gives a
// plain WorkingOrder copy for what is not on the hot path: recovery's
// hand-over between threads, queries, tests.
import type { gatehouse } from '../protocol/generated/gatehouse.js'
import type { InstrumentRisk, RiskContext } from '../checks/risk-engine.js'
import type { ClientSession, WorkingOrder } from './client-session.js'

/** No slot: not found, or the end of the entry-order list. */
export const NO_SLOT = -1

/**
 * The most working orders one lane holds, whatever the risk capacity
 * (accounts × openOrdersPerAccount) would allow: about 130 MB of columns
 * at the bound, reached only by doubling as orders stay working.
 */
export const LANE_MAX_WORKING_ORDERS = 1 << 20

/** Slots allocated at start (or the bound, when smaller). */
export const INITIAL_WORKING_ORDER_SLOTS = 1024

const FLAG_IN_USE = 1
const FLAG_CANCEL_OWED = 2

type Warning = gatehouse.v1.MonitorWarning.$Properties | null

/** Golden-ratio multiplier for Fibonacci hashing of the link order ID's two 32-bit halves. */
const HASH_MULTIPLIER = 0x9E3779B1
const TWO_POW_32 = 4294967296

export class WorkingOrders {
  /** Slots allocated now (grows by doubling up to maxSlots). */
  capacity: number
  private count = 0
  /** Head and tail of the in-use slots in entry order: iteration visits orders in the order they were sent, as a Map did. */
  private head = NO_SLOT
  private tail = NO_SLOT
  private freeHead = NO_SLOT

  // Columns: replaced when the table grows, so read them through the table each time.
  linkOrderId: Float64Array
  linkSeq: Float64Array
  /** Link seq of the cancel on its way, 0 if none (order-lifecycle.ts linkUp). */
  cancelLinkSeq: Float64Array
  clientOrderId: Float64Array
  price: Float64Array
  quantityLots: Float64Array
  cumulativeLots: Float64Array
  leavesLots: Float64Array
  exchangeOrderId: Float64Array
  /** When the lane received the NewOrder (performance.now()); 0 once its first report is counted, and for recovered orders. */
  receivedMs: Float64Array
  /** The order's slot in its account's shared order table (risk-engine.ts). */
  riskSlot: Int32Array
  riskLane: Int32Array
  riskApp: Int32Array
  riskAccount: Int32Array
  /** The instrument's index in the shared risk tables. */
  instrument: Int32Array
  side: Int32Array
  timeInForce: Int32Array
  offsetFlag: Int32Array
  hedgeFlag: Int32Array
  private prev: Int32Array
  private next: Int32Array
  private flags: Uint8Array
  /** The owning session; null once it closed, or (recovered) until the account logs on again. */
  readonly session: Array<ClientSession | null>
  /** A monitor warning raised at the check, carried on the order's first report. */
  readonly warning: Warning[]

  /** Account names by risk-table index: each set once, from the name its first order came with. */
  private readonly accountNames: string[] = []
  /** InstrumentRisk by risk-table index: the newest one an order came with. */
  private readonly instrumentRisks: InstrumentRisk[] = []
  /** Handed to the risk engine for one call at a time (riskContext): no object per call. */
  private readonly ctx: RiskContext = { lane: 0, app: -1, account: -1 }

  /** linkOrderId → slot + 1 (0: empty), open addressing; twice the slots, a power of two. */
  private buckets: Int32Array
  private bucketBits: number

  constructor (readonly maxSlots: number, initialSlots = INITIAL_WORKING_ORDER_SLOTS) {
    if (!Number.isInteger(maxSlots) || maxSlots < 1) throw new RangeError(`maxSlots must be a positive integer, got ${maxSlots}`)
    const n = Math.min(maxSlots, Math.max(1, initialSlots))
    this.capacity = n
    this.linkOrderId = new Float64Array(n)
    this.linkSeq = new Float64Array(n)
    this.cancelLinkSeq = new Float64Array(n)
    this.clientOrderId = new Float64Array(n)
    this.price = new Float64Array(n)
    this.quantityLots = new Float64Array(n)
    this.cumulativeLots = new Float64Array(n)
    this.leavesLots = new Float64Array(n)
    this.exchangeOrderId = new Float64Array(n)
    this.receivedMs = new Float64Array(n)
    this.riskSlot = new Int32Array(n)
    this.riskLane = new Int32Array(n)
    this.riskApp = new Int32Array(n)
    this.riskAccount = new Int32Array(n)
    this.instrument = new Int32Array(n)
    this.side = new Int32Array(n)
    this.timeInForce = new Int32Array(n)
    this.offsetFlag = new Int32Array(n)
    this.hedgeFlag = new Int32Array(n)
    this.prev = new Int32Array(n)
    this.next = new Int32Array(n)
    this.flags = new Uint8Array(n)
    this.session = new Array<ClientSession | null>(n).fill(null)
    this.warning = new Array<Warning>(n).fill(null)
    this.bucketBits = bitsFor(n * 2)
    this.buckets = new Int32Array(1 << this.bucketBits)
    this.chainFree(0, n)
  }

  /** Orders working. */
  get size (): number {
    return this.count
  }

  /** At the bound: no room for another order. */
  get full (): boolean {
    return this.count >= this.maxSlots
  }

  // ---- lookup ---------------------------------------------------------------

  /** The slot of the working order with this link order ID, or NO_SLOT. */
  slotOf (linkOrderId: number): number {
    const buckets = this.buckets
    const mask = buckets.length - 1
    for (let b = this.bucketOf(linkOrderId); ; b = (b + 1) & mask) {
      const entry = buckets[b]!
      if (entry === 0) return NO_SLOT
      if (this.linkOrderId[entry - 1] === linkOrderId) return entry - 1
    }
  }

  has (linkOrderId: number): boolean {
    return this.slotOf(linkOrderId) !== NO_SLOT
  }

  /** The first working order in entry order, NO_SLOT if none; then nextOf. A slot may be removed while it is visited. */
  first (): number {
    return this.head
  }

  nextOf (slot: number): number {
    return this.next[slot]!
  }

  // ---- open and remove --------------------------------------------------------

  /**
   * Books a new working order; returns its slot, or NO_SLOT at the bound
   * (order entry checks `full` first, so the live lane never gets it).
   * Filled as a sent order starts: nothing filled, no cancel on its way.
   */
  open (linkOrderId: number, linkSeq: number, session: ClientSession | null, account: string, risk: RiskContext,
    clientOrderId: number, instrumentRisk: InstrumentRisk, side: number, price: number, quantityLots: number,
    timeInForce: number, offsetFlag: number, hedgeFlag: number, riskSlot: number, warning: Warning, receivedMs: number): number {
    if (this.freeHead === NO_SLOT && !this.grow()) return NO_SLOT
    const slot = this.freeHead
    this.freeHead = this.prev[slot]!
    this.linkOrderId[slot] = linkOrderId
    this.linkSeq[slot] = linkSeq
    this.cancelLinkSeq[slot] = 0
    this.clientOrderId[slot] = clientOrderId
    this.price[slot] = price
    this.quantityLots[slot] = quantityLots
    this.cumulativeLots[slot] = 0
    this.leavesLots[slot] = quantityLots
    this.exchangeOrderId[slot] = 0
    this.receivedMs[slot] = receivedMs
    this.riskSlot[slot] = riskSlot
    this.riskLane[slot] = risk.lane
    this.riskApp[slot] = risk.app
    this.riskAccount[slot] = risk.account
    this.instrument[slot] = instrumentRisk.index
    this.side[slot] = side
    this.timeInForce[slot] = timeInForce
    this.offsetFlag[slot] = offsetFlag
    this.hedgeFlag[slot] = hedgeFlag
    this.flags[slot] = FLAG_IN_USE
    this.session[slot] = session
    this.warning[slot] = warning
    if (this.accountNames[risk.account] !== account) this.accountNames[risk.account] = account
    this.instrumentRisks[instrumentRisk.index] = instrumentRisk
    // Appended to the entry-order list.
    this.prev[slot] = this.tail
    this.next[slot] = NO_SLOT
    if (this.tail === NO_SLOT) this.head = slot
    else this.next[this.tail] = slot
    this.tail = slot
    this.insertKey(linkOrderId, slot)
    this.count++
    return slot
  }

  /** Books a working order as a WorkingOrder copy describes it (recovery's hand-over): NO_SLOT at the bound. */
  openFrom (order: WorkingOrder): number {
    const slot = this.open(order.linkOrderId, order.linkSeq, order.session, order.account, order.risk, order.clientOrderId,
      order.instrumentRisk, order.side, order.price, order.quantityLots, order.timeInForce, order.offsetFlag, order.hedgeFlag,
      order.riskSlot, order.warning, order.receivedMs)
    if (slot === NO_SLOT) return slot
    this.cancelLinkSeq[slot] = order.cancelLinkSeq
    if (order.cancelOwed) this.flags[slot] |= FLAG_CANCEL_OWED
    this.exchangeOrderId[slot] = order.exchangeOrderId
    this.cumulativeLots[slot] = order.cumulativeLots
    this.leavesLots[slot] = order.leavesLots
    return slot
  }

  /** The order finished: its slot is free again. */
  remove (slot: number): void {
    if ((this.flags[slot]! & FLAG_IN_USE) === 0) return
    this.deleteKey(this.linkOrderId[slot]!)
    const prev = this.prev[slot]!
    const next = this.next[slot]!
    if (prev === NO_SLOT) this.head = next
    else this.next[prev] = next
    if (next === NO_SLOT) this.tail = prev
    else this.prev[next] = prev
    this.flags[slot] = 0
    // Dropped so that a closed session or a warning is not kept alive by a free slot.
    this.session[slot] = null
    this.warning[slot] = null
    // Free slots chain through prev, so next keeps pointing on for a
    // visitor that removes the slot it is at (first/nextOf).
    this.prev[slot] = this.freeHead
    this.freeHead = slot
    this.count--
  }

  // ---- fields that are not plain columns ----------------------------------------

  cancelOwed (slot: number): boolean {
    return (this.flags[slot]! & FLAG_CANCEL_OWED) !== 0
  }

  setCancelOwed (slot: number, owed: boolean): void {
    if (owed) this.flags[slot] |= FLAG_CANCEL_OWED
    else this.flags[slot] &= ~FLAG_CANCEL_OWED
  }

  accountName (slot: number): string {
    return this.accountNames[this.riskAccount[slot]!]!
  }

  instrumentRisk (slot: number): InstrumentRisk {
    return this.instrumentRisks[this.instrument[slot]!]!
  }

  symbol (slot: number): string {
    return this.instrumentRisks[this.instrument[slot]!]!.symbol
  }

  /** Who trades, for one risk-engine call: the same object each time, valid until the next call. */
  riskContext (slot: number): RiskContext {
    const ctx = this.ctx
    ctx.lane = this.riskLane[slot]!
    ctx.app = this.riskApp[slot]!
    ctx.account = this.riskAccount[slot]!
    return ctx
  }

  // ---- copies, off the hot path -------------------------------------------------

  /** The order in the slot as a plain object (a copy: later changes to the slot do not show in it). */
  view (slot: number): WorkingOrder {
    return {
      linkOrderId: this.linkOrderId[slot]!,
      linkSeq: this.linkSeq[slot]!,
      cancelLinkSeq: this.cancelLinkSeq[slot]!,
      cancelOwed: this.cancelOwed(slot),
      session: this.session[slot]!,
      account: this.accountName(slot),
      risk: { lane: this.riskLane[slot]!, app: this.riskApp[slot]!, account: this.riskAccount[slot]! },
      clientOrderId: this.clientOrderId[slot]!,
      instrument: this.symbol(slot),
      side: this.side[slot]!,
      price: this.price[slot]!,
      quantityLots: this.quantityLots[slot]!,
      timeInForce: this.timeInForce[slot]!,
      offsetFlag: this.offsetFlag[slot]!,
      hedgeFlag: this.hedgeFlag[slot]!,
      exchangeOrderId: this.exchangeOrderId[slot]!,
      cumulativeLots: this.cumulativeLots[slot]!,
      leavesLots: this.leavesLots[slot]!,
      riskSlot: this.riskSlot[slot]!,
      instrumentRisk: this.instrumentRisk(slot),
      warning: this.warning[slot]!,
      receivedMs: this.receivedMs[slot]!,
    }
  }

  /** Copies of every working order, in entry order. */
  * values (): IterableIterator<WorkingOrder> {
    for (let slot = this.head; slot !== NO_SLOT;) {
      const next = this.next[slot]!
      yield this.view(slot)
      slot = next
    }
  }

  /** Copies of one account's working orders, in entry order (queries). */
  ofAccount (account: string): WorkingOrder[] {
    const out: WorkingOrder[] = []
    for (let slot = this.head; slot !== NO_SLOT; slot = this.next[slot]!) {
      if (this.accountName(slot) === account) out.push(this.view(slot))
    }
    return out
  }

  // ---- internals ---------------------------------------------------------------

  /** Slots [from, to) onto the free list (chained through prev), lowest first. */
  private chainFree (from: number, to: number): void {
    for (let slot = to - 1; slot >= from; slot--) {
      this.prev[slot] = this.freeHead
      this.freeHead = slot
    }
  }

  /** Doubles the columns (up to maxSlots); false at the bound. */
  private grow (): boolean {
    const old = this.capacity
    if (old >= this.maxSlots) return false
    const n = Math.min(this.maxSlots, old * 2)
    this.linkOrderId = grown(this.linkOrderId, n)
    this.linkSeq = grown(this.linkSeq, n)
    this.cancelLinkSeq = grown(this.cancelLinkSeq, n)
    this.clientOrderId = grown(this.clientOrderId, n)
    this.price = grown(this.price, n)
    this.quantityLots = grown(this.quantityLots, n)
    this.cumulativeLots = grown(this.cumulativeLots, n)
    this.leavesLots = grown(this.leavesLots, n)
    this.exchangeOrderId = grown(this.exchangeOrderId, n)
    this.receivedMs = grown(this.receivedMs, n)
    this.riskSlot = grown(this.riskSlot, n)
    this.riskLane = grown(this.riskLane, n)
    this.riskApp = grown(this.riskApp, n)
    this.riskAccount = grown(this.riskAccount, n)
    this.instrument = grown(this.instrument, n)
    this.side = grown(this.side, n)
    this.timeInForce = grown(this.timeInForce, n)
    this.offsetFlag = grown(this.offsetFlag, n)
    this.hedgeFlag = grown(this.hedgeFlag, n)
    this.prev = grown(this.prev, n)
    this.next = grown(this.next, n)
    this.flags = grown(this.flags, n)
    for (let slot = old; slot < n; slot++) {
      this.session.push(null)
      this.warning.push(null)
    }
    this.capacity = n
    // Only full tables grow: every old slot is in use, so the free list is just the new ones.
    this.chainFree(old, n)
    this.bucketBits = bitsFor(n * 2)
    this.buckets = new Int32Array(1 << this.bucketBits)
    for (let slot = this.head; slot !== NO_SLOT; slot = this.next[slot]!) this.insertKey(this.linkOrderId[slot]!, slot)
    return true
  }

  private bucketOf (linkOrderId: number): number {
    const low = linkOrderId >>> 0
    const high = (linkOrderId / TWO_POW_32) >>> 0
    return Math.imul(low ^ Math.imul(high, 31), HASH_MULTIPLIER) >>> (32 - this.bucketBits)
  }

  private insertKey (linkOrderId: number, slot: number): void {
    const buckets = this.buckets
    const mask = buckets.length - 1
    let b = this.bucketOf(linkOrderId)
    while (buckets[b] !== 0) b = (b + 1) & mask
    buckets[b] = slot + 1
  }

  /** Linear probing's delete: later entries of the probe run shift back into the hole, so lookups never stop early. */
  private deleteKey (linkOrderId: number): void {
    const buckets = this.buckets
    const mask = buckets.length - 1
    let hole = this.bucketOf(linkOrderId)
    for (;;) {
      const entry = buckets[hole]!
      if (entry === 0) return
      if (this.linkOrderId[entry - 1] === linkOrderId) break
      hole = (hole + 1) & mask
    }
    for (let b = (hole + 1) & mask; ; b = (b + 1) & mask) {
      const entry = buckets[b]!
      if (entry === 0) break
      const home = this.bucketOf(this.linkOrderId[entry - 1]!)
      // The entry may fill the hole if its home is not in the (cyclic) range (hole, b].
      if (((b - home) & mask) >= ((b - hole) & mask)) {
        buckets[hole] = entry
        hole = b
      }
    }
    buckets[hole] = 0
  }
}

function bitsFor (n: number): number {
  let bits = 1
  while ((1 << bits) < n) bits++
  return bits
}

function grown<T extends Float64Array | Int32Array | Uint8Array> (column: T, n: number): T {
  const out = new (column.constructor as new (n: number) => T)(n)
  out.set(column)
  return out
}
