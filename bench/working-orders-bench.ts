// The lane's working orders, in-thread: the slot table
// (lane/working-orders.ts) against the object per order it replaced, per
// order's life on the lane: open, an ack and a partial fill found by link
// order ID, the end found by link order ID and removed (and the owning
// session's client_order_id map kept as the lifecycle keeps it). RESTING
// orders stay working throughout (the table and Map are at a steady size),
// link order IDs are the live lane's (start ms × 1000, above 2^31).
//
// Rows (ns per order p50, the median of ROUNDS interleaved rounds, and
// bytes allocated per order):
// - `object + Map`: a WorkingOrder object literal per order in a
//   Map<number, WorkingOrder> by link order ID, as the lifecycle had it;
// - `slot table`: WorkingOrders.open / slotOf / remove, the lane's code;
// - `slot table + Map index`: the same, but the lookups through a
//   Map<number, number> by link order ID instead of the table's hash:
//   what the Map alternative the issue names would add.
// The checks scenario (micro-bench.ts runChecksBench) appends these rows;
// `node dist/bench/working-orders-bench.js` runs them alone.
import { fileURLToPath } from 'node:url'
import type { InstrumentRisk, RiskContext } from '../checks/risk-engine.js'
import type { WorkingOrder } from '../lane/client-session.js'
import { ClientSession } from '../lane/client-session.js'
import { NO_SLOT, WorkingOrders } from '../lane/working-orders.js'
import { measureAllocation, rowFrom, timeBatches } from './micro-timing.js'
import type { ScenarioRow } from './types.js'

const ROUNDS = 3
/** Orders working throughout: a busy account's book on one lane. */
const RESTING = 256
const CHUNK_OPS = 1000
const FIRST_LINK_ORDER_ID = 1_767_225_600_000 * 1000

const INSTRUMENT: InstrumentRisk = {
  symbol: 'rb2605', index: 3, exchange: 0, multiplier: 10, priceScale: 1, marginRateBps: 1000, referencePrice: 3200, maxOrderLots: 500, closeRule: 0 as never,
}
const CONTEXT: RiskContext = { lane: 1, app: 0, account: 5 }
const ACCOUNT = '8800123'

interface Path {
  system: string
  /** One order's life: opened, acked, the order RESTING/2 back partly filled, the order RESTING back finished. */
  op: (i: number) => void
  check: () => number
}

function objectPath (): Path {
  const orders = new Map<number, WorkingOrder>()
  const session = new ClientSession(1, '127.0.0.1', 0, 1)
  const byClient = new Map<number, WorkingOrder>()
  const open = (i: number): void => {
    const order: WorkingOrder = {
      linkOrderId: FIRST_LINK_ORDER_ID + i, linkSeq: i + 1, cancelLinkSeq: 0, cancelOwed: false, session, account: ACCOUNT, risk: CONTEXT,
      clientOrderId: i + 1, instrument: INSTRUMENT.symbol, side: 1, price: 3200, quantityLots: 4, timeInForce: 1, offsetFlag: 1, hedgeFlag: 1,
      exchangeOrderId: 0, cumulativeLots: 0, leavesLots: 4, riskSlot: i & 255, instrumentRisk: INSTRUMENT, warning: null, receivedMs: 1,
    }
    byClient.set(order.clientOrderId, order)
    orders.set(order.linkOrderId, order)
  }
  for (let i = -RESTING; i < 0; i++) open(i)
  return {
    system: 'object + Map (before)',
    op: (i) => {
      open(i)
      const acked = orders.get(FIRST_LINK_ORDER_ID + i)!
      acked.exchangeOrderId = 880_000 + i
      const filled = orders.get(FIRST_LINK_ORDER_ID + i - (RESTING >> 1))!
      filled.cumulativeLots++
      filled.leavesLots--
      const done = orders.get(FIRST_LINK_ORDER_ID + i - RESTING)!
      orders.delete(done.linkOrderId)
      byClient.delete(done.clientOrderId)
    },
    check: () => orders.size,
  }
}

function slotPath (mapIndex: boolean): Path {
  const table = new WorkingOrders(1 << 16)
  const session = new ClientSession(1, '127.0.0.1', 0, 1)
  const index = new Map<number, number>()
  const open = (i: number): void => {
    const linkOrderId = FIRST_LINK_ORDER_ID + i
    const slot = table.open(linkOrderId, i + 1, session, ACCOUNT, CONTEXT, i + 1, INSTRUMENT, 1, 3200, 4, 1, 1, 1, i & 255, null, 1)
    session.openOrders.set(i + 1, slot)
    if (mapIndex) index.set(linkOrderId, slot)
  }
  const find = mapIndex ? (id: number): number => index.get(id)! : (id: number): number => table.slotOf(id)
  for (let i = -RESTING; i < 0; i++) open(i)
  return {
    system: mapIndex ? 'slot table + Map<number, number> index' : 'slot table (after)',
    op: (i) => {
      open(i)
      const acked = find(FIRST_LINK_ORDER_ID + i)
      table.exchangeOrderId[acked] = 880_000 + i
      const filled = find(FIRST_LINK_ORDER_ID + i - (RESTING >> 1))
      table.cumulativeLots[filled]++
      table.leavesLots[filled]--
      const doneId = FIRST_LINK_ORDER_ID + i - RESTING
      const done = find(doneId)
      session.openOrders.delete(table.clientOrderId[done]!)
      table.remove(done)
      if (mapIndex) index.delete(doneId)
    },
    check: () => table.size + (table.slotOf(FIRST_LINK_ORDER_ID - RESTING - 1) === NO_SLOT ? 0 : 1e9),
  }
}

export async function runWorkingOrdersBench (samples: number, allocationOps: number): Promise<ScenarioRow[]> {
  // Each path keeps its own counter: ops continue where its warm-up stopped.
  const paths = [objectPath(), slotPath(false), slotPath(true)]
  const next = paths.map(() => 0)
  const ops = paths.map((path, k) => (): void => { path.op(next[k]!++) })
  for (let k = 0; k < paths.length; k++) timeBatches(Math.max(10, samples / 10), ops[k]!)
  const p50s: number[][] = paths.map(() => [])
  const last: Float64Array[] = []
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < paths.length; k++) {
      const sorted = timeBatches(samples, ops[k]!)
      p50s[k]!.push(sorted[Math.floor(sorted.length / 2)]!)
      last[k] = sorted
    }
  }
  const rows: ScenarioRow[] = []
  for (let k = 0; k < paths.length; k++) {
    const path = paths[k]!
    if (path.check() !== RESTING) throw new Error(`working orders bench ${path.system}: ${path.check()} working, expected ${RESTING}`)
    const rounds = p50s[k]!.sort((a, b) => a - b)
    const allocation = await measureAllocation(allocationOps, CHUNK_OPS, ops[k]!)
    rows.push(rowFrom('working-orders', path.system, last[k]!, {
      ns_per_order_median_of_rounds: Math.round(rounds[1]! * 10) / 10,
      ns_per_order_round_p50s: rounds.map((ns) => Math.round(ns * 10) / 10),
      rounds: ROUNDS,
      bytes_per_order: allocation.bytesPerOp,
      minor_gcs: allocation.minorGcs,
      resting_orders: RESTING,
      note: 'per order: open, ack and partial fill found by link order ID, end found and removed; session client_order_id map kept',
    }))
  }
  return rows
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const rows = await runWorkingOrdersBench(Number(process.env.WORKING_ORDERS_SAMPLES ?? 400), 200_000)
  for (const row of rows) {
    const rounds = row.ns_per_order_round_p50s as number[]
    console.log(`${String(row.system).padEnd(40)} ${String(row.ns_per_order_median_of_rounds).padStart(8)} ns/order  (rounds ${rounds.join(' / ')})  ${String(row.bytes_per_order).padStart(8)} B/order  minor GCs ${String(row.minor_gcs)}`)
  }
}
