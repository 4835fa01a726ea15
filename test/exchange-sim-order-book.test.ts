// The simulator's matching engine and order book, without sockets:
// price-time priority, partial fills, FAK/FOK, cancels, mass cancel, every
// validation reason and its boundary values.
import t from 'tap'
import fc from 'fast-check'
import {
  ExecType, RejectReason, Side, TimeInForce, wireInt, type LinkExecutionReportInit,
} from '../protocol/messages.js'
import { MatchingEngine, type NewOrderInput } from '../exchange-sim/matching-engine.js'
import { BookOrder, OrderBook } from '../exchange-sim/order-book.js'
import { DEFAULT_INSTRUMENTS } from '../exchange-sim/instruments.js'

const CLOCK_US = 1_767_571_200_000_000

interface Sent { session: string, report: LinkExecutionReportInit }

function setup (): { engine: MatchingEngine, sent: Sent[], take: () => Sent[] } {
  const sent: Sent[] = []
  const engine = new MatchingEngine(DEFAULT_INSTRUMENTS, (session, report) => { sent.push({ session, report }) }, () => CLOCK_US)
  return {
    engine,
    sent,
    take: () => sent.splice(0, sent.length),
  }
}

function order (orderId: number, side: Side, price: number, quantityLots: number, extra: Partial<NewOrderInput> = {}): NewOrderInput {
  return { orderId, account: 'acct-1', instrument: 'rb2605', side, price, quantityLots, timeInForce: TimeInForce.GFD, ...extra }
}

/** [session, orderId, execType, lastPrice, lastLots, cumulative, leaves] per report, for compact assertions. */
function summary (sent: Sent[]): Array<[string, number, string, number, number, number, number]> {
  return sent.map(({ session, report: r }) => [
    session, wireInt(r.orderId), ExecType[r.execType!], wireInt(r.lastPrice), r.lastLots ?? 0, r.cumulativeLots ?? 0, r.leavesLots ?? 0,
  ])
}

const rb = DEFAULT_INSTRUMENTS.find((i) => i.symbol === 'rb2605')!
const au = DEFAULT_INSTRUMENTS.find((i) => i.symbol === 'au2606')!
const IF = DEFAULT_INSTRUMENTS.find((i) => i.symbol === 'IF2606')!

t.test('default reference data is realistic and self-consistent', async (t) => {
  t.match(rb, { exchange: 'SHFE', priceDecimals: 0, tickSize: 1, multiplier: 10, referencePrice: 3200, lowerLimitPrice: 2976, upperLimitPrice: 3424 })
  t.match(au, { exchange: 'SHFE', priceDecimals: 2, tickSize: 2, multiplier: 1000 })
  t.match(IF, { exchange: 'CFFEX', priceDecimals: 1, tickSize: 2, multiplier: 300, referencePrice: 45000, lowerLimitPrice: 40500, upperLimitPrice: 49500 })
  for (const i of DEFAULT_INSTRUMENTS) {
    const tick = wireInt(i.tickSize)
    t.equal(wireInt(i.lowerLimitPrice) % tick, 0, `${i.symbol} lower limit on tick`)
    t.equal(wireInt(i.upperLimitPrice) % tick, 0, `${i.symbol} upper limit on tick`)
    t.ok(wireInt(i.lowerLimitPrice) < wireInt(i.referencePrice) && wireInt(i.referencePrice) < wireInt(i.upperLimitPrice), `${i.symbol} band around reference`)
    t.ok((i.maxOrderLots ?? 0) > 0 && (i.marginRateBps ?? 0) > 0, `${i.symbol} has max lots and margin`)
  }
  t.ok(DEFAULT_INSTRUMENTS.some((i) => i.symbol === 'ag2606' && i.status === 2), 'ag2606 is HALTED')
  for (const symbol of ['m2605', 'SR605']) t.ok(DEFAULT_INSTRUMENTS.some((i) => i.symbol === symbol), `${symbol} listed`)
})

t.test('price-time priority: better price first, then arrival order at one price', async (t) => {
  const { engine, take } = setup()
  engine.newOrder('A', order(1, Side.SELL, 3201, 5))
  engine.newOrder('B', order(1, Side.SELL, 3200, 5))
  engine.newOrder('A', order(2, Side.SELL, 3200, 5))
  take()
  engine.newOrder('C', order(1, Side.BUY, 3201, 12))
  t.same(summary(take()), [
    ['C', 1, 'ACK', 0, 0, 0, 12],
    ['C', 1, 'PARTIAL_FILL', 3200, 5, 5, 7],
    ['B', 1, 'FILL', 3200, 5, 5, 0],
    ['C', 1, 'PARTIAL_FILL', 3200, 5, 10, 2],
    ['A', 2, 'FILL', 3200, 5, 5, 0],
    ['C', 1, 'FILL', 3201, 2, 12, 0],
    ['A', 1, 'PARTIAL_FILL', 3201, 2, 2, 3],
  ])
  const book = engine.book('rb2605')!
  t.same(book.depth(Side.SELL), [{ price: 3201, lots: 3, orders: 1 }])
  t.same(book.depth(Side.BUY), [])
  t.equal(engine.workingCount('B'), 0, 'filled order is no longer working')
  t.equal(engine.workingOrder('A', 1)?.leavesLots, 3)
})

t.test('fills happen at the resting price, and a buy below the best ask rests', async (t) => {
  const { engine, take } = setup()
  engine.newOrder('A', order(1, Side.BUY, 3150, 4))
  engine.newOrder('B', order(1, Side.SELL, 3160, 4))
  t.same(summary(take()).map((r) => r[2]), ['ACK', 'ACK'], 'no cross, both rest')
  const book = engine.book('rb2605')!
  t.equal(book.bestBid(), 3150)
  t.equal(book.bestAsk(), 3160)
  engine.newOrder('B', order(2, Side.SELL, 3100, 1))
  t.same(summary(take()), [
    ['B', 2, 'ACK', 0, 0, 0, 1],
    ['B', 2, 'FILL', 3150, 1, 1, 0],
    ['A', 1, 'PARTIAL_FILL', 3150, 1, 1, 3],
  ], 'aggressive sell trades at the bid price')
})

t.test('each report carries the exchange order id and the event time', async (t) => {
  const { engine, take } = setup()
  engine.newOrder('A', order(7, Side.BUY, 3200, 1))
  engine.newOrder('A', order(8, Side.BUY, 3200, 1))
  const [a, b] = take()
  t.ok(wireInt(a!.report.exchangeOrderId) > 0)
  t.not(wireInt(a!.report.exchangeOrderId), wireInt(b!.report.exchangeOrderId), 'fresh id per order')
  t.equal(wireInt(a!.report.transactTimeUs), CLOCK_US)
})

t.test('FAK fills what it can and cancels the rest', async (t) => {
  const { engine, take } = setup()
  engine.newOrder('A', order(1, Side.SELL, 3200, 3))
  take()
  engine.newOrder('B', order(1, Side.BUY, 3205, 5, { timeInForce: TimeInForce.FAK }))
  t.same(summary(take()), [
    ['B', 1, 'ACK', 0, 0, 0, 5],
    ['B', 1, 'PARTIAL_FILL', 3200, 3, 3, 2],
    ['A', 1, 'FILL', 3200, 3, 3, 0],
    ['B', 1, 'CANCELLED', 0, 0, 3, 0],
  ])
  t.same(engine.book('rb2605')!.depth(Side.BUY), [], 'FAK remainder does not rest')
  engine.newOrder('B', order(2, Side.BUY, 3205, 5, { timeInForce: TimeInForce.FAK }))
  t.same(summary(take()), [['B', 2, 'ACK', 0, 0, 0, 5], ['B', 2, 'CANCELLED', 0, 0, 0, 0]], 'nothing to trade: cancelled whole')
})

t.test('FOK trades only if it can fill completely right away', async (t) => {
  const { engine, take } = setup()
  engine.newOrder('A', order(1, Side.SELL, 3200, 3))
  engine.newOrder('A', order(2, Side.SELL, 3202, 3))
  take()
  engine.newOrder('B', order(1, Side.BUY, 3201, 4, { timeInForce: TimeInForce.FOK }))
  t.same(summary(take()), [['B', 1, 'ACK', 0, 0, 0, 4], ['B', 1, 'CANCELLED', 0, 0, 0, 0]], 'only 3 lots at or below 3201')
  t.same(engine.book('rb2605')!.depth(Side.SELL), [{ price: 3200, lots: 3, orders: 1 }, { price: 3202, lots: 3, orders: 1 }], 'book untouched')
  engine.newOrder('B', order(2, Side.BUY, 3202, 6, { timeInForce: TimeInForce.FOK }))
  t.same(summary(take()), [
    ['B', 2, 'ACK', 0, 0, 0, 6],
    ['B', 2, 'PARTIAL_FILL', 3200, 3, 3, 3],
    ['A', 1, 'FILL', 3200, 3, 3, 0],
    ['B', 2, 'FILL', 3202, 3, 6, 0],
    ['A', 2, 'FILL', 3202, 3, 3, 0],
  ], 'exactly enough: fills across two levels')
})

t.test('an account matching its own order simply trades (no self-trade prevention here)', async (t) => {
  const { engine, take } = setup()
  engine.newOrder('A', order(1, Side.BUY, 3200, 2))
  engine.newOrder('A', order(2, Side.SELL, 3200, 2))
  t.same(summary(take()).map((r) => r.slice(1, 3)), [[1, 'ACK'], [2, 'ACK'], [2, 'FILL'], [1, 'FILL']])
})

t.test('cancel: working order is cancelled; unknown or done order gets a cancel reject', async (t) => {
  const { engine, take } = setup()
  engine.newOrder('A', order(1, Side.BUY, 3199, 2))
  engine.newOrder('A', order(2, Side.BUY, 3199, 3))
  engine.newOrder('A', order(3, Side.BUY, 3199, 4))
  take()
  engine.cancel('A', 2)
  const [cancelled] = take()
  t.match(cancelled!.report, { orderId: 2, execType: ExecType.CANCELLED, leavesLots: 0, cancelRejected: false })
  t.same(engine.book('rb2605')!.queueAt(Side.BUY, 3199).map((o) => o.orderId), [1, 3], 'removed from the middle of the queue')
  t.same(engine.book('rb2605')!.depth(Side.BUY), [{ price: 3199, lots: 6, orders: 2 }])

  for (const [id, why] of [[2, 'already cancelled'], [99, 'never seen']] as const) {
    engine.cancel('A', id)
    const [rejected] = take()
    t.match(rejected!.report, {
      orderId: id, execType: ExecType.REJECTED, cancelRejected: true, reason: RejectReason.UNKNOWN_ORDER,
    }, why)
  }
  engine.cancel('B', 1)
  t.match(take()[0], { session: 'B', report: { cancelRejected: true, reason: RejectReason.UNKNOWN_ORDER } },
    'another session cannot cancel A\'s order')
  t.equal(engine.workingCount('A'), 2, 'state unchanged by the rejects')

  engine.newOrder('B', order(1, Side.SELL, 3199, 6))
  take()
  engine.cancel('A', 3)
  t.match(take()[0]!.report, { cancelRejected: true, reason: RejectReason.UNKNOWN_ORDER }, 'a filled order cannot be cancelled')
  t.equal(engine.book('rb2605')!.bestBid(), undefined, 'level removed once empty')
})

t.test('mass cancel cancels the session\'s working orders in scope, one report each', async (t) => {
  const { engine, take } = setup()
  engine.newOrder('A', order(1, Side.BUY, 3190, 1))
  engine.newOrder('A', order(2, Side.SELL, 3300, 1, { account: 'acct-2' }))
  engine.newOrder('A', order(3, Side.BUY, 2900, 1, { instrument: 'm2605' }))
  engine.newOrder('A', order(4, Side.BUY, 3191, 1, { account: 'acct-2' }))
  engine.newOrder('B', order(1, Side.BUY, 3190, 1))
  take()
  t.equal(engine.massCancel('A', 'acct-2', ''), 2)
  t.same(summary(take()).map((r) => [r[0], r[1], r[2]]), [['A', 2, 'CANCELLED'], ['A', 4, 'CANCELLED']])
  t.equal(engine.massCancel('A', '', 'm2605'), 1)
  t.same(summary(take()).map((r) => [r[1], r[2]]), [[3, 'CANCELLED']])
  t.equal(engine.massCancel('A', 'nobody', ''), 0)
  t.same(take(), [], 'nothing in scope: no reports')
  t.equal(engine.massCancel('A', '', ''), 1)
  t.same(summary(take()).map((r) => [r[1], r[2]]), [[1, 'CANCELLED']])
  t.equal(engine.workingCount('B'), 1, 'other session untouched')
  t.same(engine.book('rb2605')!.depth(Side.BUY), [{ price: 3190, lots: 1, orders: 1 }])
})

t.test('validation: each reason, with boundary values', async (t) => {
  const rbLower = wireInt(rb.lowerLimitPrice)
  const rbUpper = wireInt(rb.upperLimitPrice)
  const auLower = wireInt(au.lowerLimitPrice)
  const auUpper = wireInt(au.upperLimitPrice)
  const rbMax = rb.maxOrderLots!
  const ifMax = IF.maxOrderLots!
  // [name, order fields, expected reason or null for accepted]
  const cases: Array<[string, Partial<NewOrderInput>, RejectReason | null]> = [
    ['unknown instrument', { instrument: 'zz9999' }, RejectReason.UNKNOWN_INSTRUMENT],
    ['symbols are case-sensitive', { instrument: 'RB2605' }, RejectReason.UNKNOWN_INSTRUMENT],
    ['halted instrument', { instrument: 'ag2606', price: 11000 }, RejectReason.INSTRUMENT_NOT_TRADING],
    ['side unspecified', { side: Side.SIDE_UNSPECIFIED }, RejectReason.INVALID_SIDE],
    ['side out of range', { side: 9 as Side }, RejectReason.INVALID_SIDE],
    ['unknown time in force', { timeInForce: 9 as TimeInForce }, RejectReason.INVALID_FIELD],
    ['zero quantity', { quantityLots: 0 }, RejectReason.INVALID_QUANTITY],
    ['quantity exactly max', { quantityLots: rbMax }, null],
    ['quantity max + 1', { quantityLots: rbMax + 1 }, RejectReason.QUANTITY_ABOVE_MAX],
    ['IF quantity exactly max', { instrument: 'IF2606', price: 45000, quantityLots: ifMax }, null],
    ['IF quantity max + 1', { instrument: 'IF2606', price: 45000, quantityLots: ifMax + 1 }, RejectReason.QUANTITY_ABOVE_MAX],
    ['gold price off the 0.02 tick', { instrument: 'au2606', price: 88001 }, RejectReason.PRICE_OFF_TICK],
    ['gold price on tick', { instrument: 'au2606', price: 88002 }, null],
    ['price exactly at lower limit', { price: rbLower }, null],
    ['price one tick below lower limit', { price: rbLower - 1 }, RejectReason.PRICE_OUTSIDE_BAND],
    ['price exactly at upper limit', { price: rbUpper }, null],
    ['price one tick above upper limit', { price: rbUpper + 1 }, RejectReason.PRICE_OUTSIDE_BAND],
    ['gold at lower limit', { instrument: 'au2606', price: auLower }, null],
    ['gold one tick below lower limit', { instrument: 'au2606', price: auLower - 2 }, RejectReason.PRICE_OUTSIDE_BAND],
    ['gold at upper limit', { instrument: 'au2606', price: auUpper }, null],
    ['gold one tick above upper limit', { instrument: 'au2606', price: auUpper + 2 }, RejectReason.PRICE_OUTSIDE_BAND],
    ['zero price', { price: 0 }, RejectReason.PRICE_OUTSIDE_BAND],
    ['negative price', { price: -3200 }, RejectReason.PRICE_OUTSIDE_BAND],
  ]
  let id = 0
  for (const [name, fields, reason] of cases) {
    const { engine, take } = setup()
    // Buys at the upper edge and sells at the lower edge would cross each other; each case runs alone.
    engine.newOrder('A', order(++id, Side.BUY, 3200, 1, fields))
    const reports = take()
    if (reason === null) {
      t.match(reports[0]!.report, { orderId: id, execType: ExecType.ACK }, `${name}: accepted`)
    } else {
      t.equal(reports.length, 1, `${name}: exactly one report`)
      t.match(reports[0]!.report, { orderId: id, execType: ExecType.REJECTED, reason, exchangeOrderId: 0, leavesLots: 0 }, `${name}: ${RejectReason[reason]}`)
      t.type(reports[0]!.report.text, 'string')
      t.not(reports[0]!.report.text, '', `${name}: says why`)
    }
  }
})

t.test('duplicate and zero order ids are rejected; a rejected id is spent too', async (t) => {
  const { engine, take } = setup()
  engine.newOrder('A', order(1, Side.BUY, 3200, 1))
  engine.newOrder('A', order(1, Side.BUY, 3200, 1))
  t.same(summary(take()).map((r) => r[2]), ['ACK', 'REJECTED'])
  engine.newOrder('A', order(0, Side.BUY, 3200, 1))
  t.match(take()[0]!.report, { reason: RejectReason.DUPLICATE_CLIENT_ORDER_ID })
  engine.newOrder('A', order(2, Side.BUY, 3200, 0))
  engine.newOrder('A', order(2, Side.BUY, 3200, 1))
  t.same(take().map((s) => s.report.reason), [RejectReason.INVALID_QUANTITY, RejectReason.DUPLICATE_CLIENT_ORDER_ID])
  engine.newOrder('B', order(1, Side.BUY, 3200, 1))
  t.match(take()[0]!.report, { execType: ExecType.ACK }, 'ids are per session name')
  engine.rejectOrder('A', order(3, Side.BUY, 3200, 1), RejectReason.EXCHANGE_REJECTED, 'fault')
  engine.newOrder('A', order(3, Side.BUY, 3200, 1))
  t.same(take().map((s) => s.report.reason), [RejectReason.EXCHANGE_REJECTED, RejectReason.DUPLICATE_CLIENT_ORDER_ID])
})

t.test('duplicate detection holds for ids out of order and with gaps', async (t) => {
  const { engine, take } = setup()
  const ids = [5, 3, 4, 6, 3, 5, 100, 7, 2, 1, 8, 100, 1, 6, 9_007_199_254_740_991, 9_007_199_254_740_991]
  for (const id of ids) engine.newOrder('A', order(id, Side.BUY, 3000, 1))
  const verdicts = take().map((s) => [wireInt(s.report.orderId), s.report.execType === ExecType.ACK ? 'new' : 'dup'])
  const seen = new Set<number>()
  t.same(verdicts, ids.map((id) => {
    const verdict = seen.has(id) ? 'dup' : 'new'
    seen.add(id)
    return [id, verdict]
  }))
})

t.test('a halted instrument still accepts cancels', async (t) => {
  const { engine, take } = setup()
  engine.newOrder('A', order(1, Side.BUY, 3200, 1))
  engine.setStatus('rb2605', 2)
  engine.newOrder('A', order(2, Side.BUY, 3200, 1))
  engine.cancel('A', 1)
  t.same(take().map((s) => [wireInt(s.report.orderId), ExecType[s.report.execType!]]), [[1, 'ACK'], [2, 'REJECTED'], [1, 'CANCELLED']])
})

t.test('order book: levels are created and removed in sorted order', async (t) => {
  const book = new OrderBook('rb2605')
  const o = (id: number, side: Side, price: number, lots: number): BookOrder => new BookOrder(id, 'S', id, 'a', 'rb2605', side, price, lots)
  const orders = [o(1, Side.BUY, 100, 1), o(2, Side.BUY, 102, 1), o(3, Side.BUY, 101, 1), o(4, Side.SELL, 105, 1), o(5, Side.SELL, 103, 2), o(6, Side.SELL, 104, 1)]
  for (const x of orders) book.rest(x)
  t.same(book.depth(Side.BUY).map((l) => l.price), [102, 101, 100])
  t.same(book.depth(Side.SELL).map((l) => l.price), [103, 104, 105])
  t.ok(book.remove(orders[2]!))
  t.notOk(book.remove(orders[2]!), 'removing twice is a no-op')
  t.same(book.depth(Side.BUY).map((l) => l.price), [102, 100], 'middle level removed')
  t.ok(book.canFillCompletely(Side.BUY, 104, 3))
  t.notOk(book.canFillCompletely(Side.BUY, 104, 4))
  t.notOk(book.canFillCompletely(Side.SELL, 103, 1), 'no bid at or above 103')
})

t.test('property: random order flow never leaves a crossed book and fills balance', async (t) => {
  const orderArb = fc.record({
    session: fc.constantFrom('A', 'B', 'C'),
    side: fc.constantFrom(Side.BUY, Side.SELL),
    price: fc.integer({ min: 3195, max: 3205 }),
    lots: fc.integer({ min: 1, max: 10 }),
    tif: fc.constantFrom(TimeInForce.GFD, TimeInForce.GFD, TimeInForce.FAK, TimeInForce.FOK),
    cancelOf: fc.option(fc.nat({ max: 30 }), { freq: 4 }),
  })
  fc.assert(fc.property(fc.array(orderArb, { maxLength: 60 }), (steps) => {
    const { engine, sent } = setup()
    const book = engine.book('rb2605')!
    let id = 0
    for (const step of steps) {
      if (step.cancelOf !== null) engine.cancel(step.session, step.cancelOf)
      else engine.newOrder(step.session, order(++id, step.side, step.price, step.lots, { timeInForce: step.tif }))
      const bid = book.bestBid()
      const ask = book.bestAsk()
      if (bid !== undefined && ask !== undefined && bid >= ask) return false
    }
    // Every fill appears once per side, so traded lots balance; and each
    // order's cumulative lots never exceed what it asked for.
    let filled = 0
    const tradedByOrder = new Map<string, number>()
    for (const { session, report } of sent) {
      if (report.cancelRejected === true) continue
      const key = `${session}/${wireInt(report.orderId)}`
      if (report.execType === ExecType.FILL || report.execType === ExecType.PARTIAL_FILL) {
        filled += report.lastLots ?? 0
        tradedByOrder.set(key, (tradedByOrder.get(key) ?? 0) + (report.lastLots ?? 0))
      }
      // cumulative is the running sum of this order's fills, and never above its size.
      if ((report.cumulativeLots ?? 0) !== (tradedByOrder.get(key) ?? 0)) return false
      if ((report.cumulativeLots ?? 0) > 10) return false
    }
    const resting = [...book.depth(Side.BUY), ...book.depth(Side.SELL)].reduce((n, l) => n + l.lots, 0)
    const working = ['A', 'B', 'C'].reduce((n, s) => n + engine.workingCount(s), 0)
    const restingOrders = [...book.depth(Side.BUY), ...book.depth(Side.SELL)].reduce((n, l) => n + l.orders, 0)
    return filled % 2 === 0 && working === restingOrders && resting >= 0
  }), { numRuns: 200 })
  t.pass('property held')
})
