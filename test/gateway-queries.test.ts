// Queries end to end: a real gateway (supervisor, lane threads) and the
// exchange simulator process. Positions and funds after an open fills
// (account-wide: asked on another lane too), the day's orders in each state
// and its trades, one order's status, paging past 200 entries, the query
// throttle, and the refusals (kind unspecified, unknown order, before logon).
//
// The simulator's book lives for the whole file: each subtest has its own
// accounts and prices. Sells rest only at 3300 and 3310 and are each taken
// whole by the buy the test sends against them; every other order is a buy
// below them, so nothing else trades.
import t, { type Test } from 'tap'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { marginPerLotFen, type InstrumentRisk } from '../checks/risk-engine.js'
import { parseExposition, sampleValue } from './helpers/prometheus-text.js'
import {
  ExecType, OrderState, PositionDirection, QueryKind, RejectReason, Side, TimeInForce, wireInt,
  type ExecutionReport, type Instrument, type PositionInfoInit,
} from '../protocol/messages.js'
import type { gatehouse } from '../protocol/generated/gatehouse.js'
import { startTestGateway } from './helpers/gateway.js'
import { cancel, finished, logOn, place, tradingAccount, untilClock, type Trader } from './helpers/trading.js'
import { QUERY_PAGE_ENTRIES } from '../lane/account-queries.js'

type QueryReply = gatehouse.v1.QueryReply

const ACCOUNTS = ['q-pos', 'q-counter', 'q-orders', 'q-throttle', 'q-pager', 'q-empty']
/** The platform lane answers many queries here; the hft lane keeps the default throttle (5 per second), tested below. */
const PLATFORM_QUERIES_PER_SECOND = 100
const DEFAULT_QUERIES_PER_SECOND = 5

const gateway = await startTestGateway({
  overrides: {
    accounts: ACCOUNTS.map(tradingAccount),
    lanes: { platform: { queriesPerSecond: PLATFORM_QUERIES_PER_SECOND } },
  },
})
t.teardown(() => gateway.stop())
const risk = gateway.supervisor.risk

let lastRequestId = 0

/** Sends a query and resolves with every page of its answer, once the last has come. */
async function ask (trader: Trader, query: { kind: number, instrument?: string, clientOrderId?: number }): Promise<QueryReply[]> {
  const requestId = ++lastRequestId
  trader.client.send({ query: { requestId, ...query } })
  const ofThis = (m: gatehouse.v1.ClientEnvelope): boolean => m.body === 'queryReply' && wireInt(m.queryReply!.requestId) === requestId
  await trader.client.next((m) => ofThis(m) && m.queryReply!.last === true, 10_000)
  return trader.client.received.filter(ofThis).map((m) => m.queryReply as QueryReply)
}

/** A query answered in one page; that page. */
async function askOne (t: Test, trader: Trader, query: { kind: number, instrument?: string, clientOrderId?: number }): Promise<QueryReply> {
  const pages = await ask(trader, query)
  t.equal(pages.length, 1, 'one page')
  t.equal(pages[0]!.kind, query.kind, 'the kind is echoed')
  return pages[0]!
}

function rb (trader: Trader): Instrument {
  return (trader.logon.instruments as Instrument[]).find((i) => i.symbol === 'rb2605')!
}

/** What one lot of an order at `price` reserves, by the risk engine's own formula. */
function marginFen (instrument: Instrument, price: number): number {
  return marginPerLotFen({ multiplier: instrument.multiplier, marginRateBps: instrument.marginRateBps, priceScale: 10 ** instrument.priceDecimals } as InstrumentRisk, price)
}

const positionRow = (p: PositionInfoInit): unknown[] =>
  [p.instrument, p.direction, p.todayLots, p.yesterdayLots, p.frozenTodayLots, p.frozenYesterdayLots, p.workingOpenLots, p.openedTodayLots]

t.test('before logon a query is refused with NOT_AUTHENT', async (t) => {
  const client = await GatehouseClient.connect(gateway.url('platform'))
  t.teardown(() => client.close())
  const seq = client.send({ query: { requestId: 1, kind: QueryKind.QUERY_FUNDS } })
  const reject = await client.reject(seq)
  t.equal(reject.reason, RejectReason.NOT_AUTHENT)
  t.notOk(client.received.some((m) => m.body === 'queryReply'), 'nothing is answered')
})

t.test('positions and funds after an open fills, the same on every lane of the account', async (t) => {
  const trader = await logOn(gateway, 'platform', 'q-pos')
  const counter = await logOn(gateway, 'platform', 'q-counter')
  const onHft = await logOn(gateway, 'hft', 'q-pos')
  t.teardown(async () => { await Promise.all([trader.client.logout(), counter.client.logout(), onHft.client.logout()]) })

  t.same((await askOne(t, trader, { kind: QueryKind.QUERY_POSITIONS })).positions, [], 'nothing traded yet: an empty answer is one last page')
  const fundsBefore = (await askOne(t, trader, { kind: QueryKind.QUERY_FUNDS })).funds!
  const fundsFen = (risk.effectiveLimits({ lane: 'platform', account: 'q-pos' }).funds as number) * 100
  t.same([wireInt(fundsBefore.fundsFen), wireInt(fundsBefore.reservedFen), wireInt(fundsBefore.availableFen)], [fundsFen, 0, fundsFen], 'the funds limit, nothing reserved')

  // q-counter rests a sell of 2; q-pos opens long 2 against it.
  const sell = await place(counter, { instrument: 'rb2605', side: Side.SELL, price: 3300, quantityLots: 2 })
  t.equal(sell.report.execType, ExecType.ACK)
  const buy = await place(trader, { instrument: 'rb2605', side: Side.BUY, price: 3300, quantityLots: 2 })
  const fill = buy.report.execType === ExecType.FILL ? buy.report : await finished(trader, buy.id)
  t.equal(fill.execType, ExecType.FILL, 'the open filled')
  await finished(counter, sell.id)

  const long = [['rb2605', PositionDirection.DIRECTION_LONG, 2, 0, 0, 0, 0, 2], ['rb2605', PositionDirection.DIRECTION_SHORT, 0, 0, 0, 0, 0, 2]]
  const positions = await askOne(t, trader, { kind: QueryKind.QUERY_POSITIONS })
  t.equal(positions.last, true)
  t.same(positions.positions.map(positionRow), long, 'today_lots 2 on the long side, opened today 2')
  t.same((await askOne(t, onHft, { kind: QueryKind.QUERY_POSITIONS })).positions.map(positionRow), long, 'the same asked on another lane: account-wide')
  t.same((await askOne(t, counter, { kind: QueryKind.QUERY_POSITIONS })).positions.map(positionRow),
    [['rb2605', PositionDirection.DIRECTION_LONG, 0, 0, 0, 0, 0, 2], ['rb2605', PositionDirection.DIRECTION_SHORT, 2, 0, 0, 0, 0, 2]], 'the counterparty is short 2')
  t.same((await askOne(t, trader, { kind: QueryKind.QUERY_POSITIONS, instrument: 'cu2606' })).positions, [], 'another instrument: nothing')

  // A working open reserves margin and counts as working open lots.
  const instrument = rb(trader)
  const resting = await place(trader, { instrument: 'rb2605', side: Side.BUY, price: 3100, quantityLots: 3 })
  t.equal(resting.report.execType, ExecType.ACK)
  const reserved = 3 * marginFen(instrument, 3100)
  const funds = (await askOne(t, onHft, { kind: QueryKind.QUERY_FUNDS })).funds!
  t.same([wireInt(funds.fundsFen), wireInt(funds.reservedFen), wireInt(funds.availableFen)], [fundsFen, reserved, fundsFen - reserved], 'reserved and available, asked on the other lane')
  const working = await askOne(t, trader, { kind: QueryKind.QUERY_POSITIONS, instrument: 'rb2605' })
  t.same(working.positions.map(positionRow), [['rb2605', PositionDirection.DIRECTION_LONG, 2, 0, 0, 0, 3, 2], ['rb2605', PositionDirection.DIRECTION_SHORT, 0, 0, 0, 0, 0, 2]], 'working open lots on the long side')
  await cancel(trader, resting.id)
  t.equal(wireInt((await askOne(t, trader, { kind: QueryKind.QUERY_FUNDS })).funds!.reservedFen), 0, 'released by the cancel')

  // No funds limit: the largest integer the protocol carries, said in the text.
  risk.setLimit({ kind: 'account', account: 'q-pos' }, 'funds', null)
  const unlimited = await askOne(t, trader, { kind: QueryKind.QUERY_FUNDS })
  t.same([wireInt(unlimited.funds!.fundsFen), wireInt(unlimited.funds!.availableFen)], [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER])
  t.match(unlimited.text, /no funds limit/)
})

t.test('the day\'s orders in each state, their trades and one order\'s status', async (t) => {
  const trader = await logOn(gateway, 'platform', 'q-orders')
  const counter = await logOn(gateway, 'platform', 'q-counter')
  t.teardown(async () => { await Promise.all([trader.client.logout(), counter.client.logout()]) })

  const working = await place(trader, { instrument: 'rb2605', side: Side.BUY, price: 3100, quantityLots: 1 })
  t.equal(working.report.execType, ExecType.ACK)
  const sell = await place(counter, { instrument: 'rb2605', side: Side.SELL, price: 3310, quantityLots: 2 })
  t.equal(sell.report.execType, ExecType.ACK)
  const filled = await place(trader, { instrument: 'rb2605', side: Side.BUY, price: 3310, quantityLots: 2, timeInForce: TimeInForce.FAK })
  const fill: ExecutionReport = filled.report.execType === ExecType.FILL ? filled.report : await finished(trader, filled.id)
  t.equal(fill.execType, ExecType.FILL)
  await finished(counter, sell.id)
  const cancelled = await place(trader, { instrument: 'rb2605', side: Side.BUY, price: 3090, quantityLots: 1 })
  await cancel(trader, cancelled.id)
  const rejected = await place(trader, { instrument: 'rb2605', side: Side.BUY, price: 3100, quantityLots: rb(trader).maxOrderLots + 1 })
  t.equal(rejected.report.execType, ExecType.REJECTED, 'refused by the gateway itself')

  const orders = await askOne(t, trader, { kind: QueryKind.QUERY_ORDERS })
  t.equal(orders.last, true)
  t.same(orders.orders.map((o) => [wireInt(o.clientOrderId), o.state, o.cumulativeLots, o.leavesLots]), [
    [working.id, OrderState.ORDER_WORKING, 0, 1],
    [filled.id, OrderState.ORDER_FILLED, 2, 0],
    [cancelled.id, OrderState.ORDER_CANCELLED, 0, 0],
    [rejected.id, OrderState.ORDER_REJECTED, 0, 0],
  ], 'in entry order, each in its latest state')
  const byId = new Map(orders.orders.map((o) => [wireInt(o.clientOrderId), o]))
  t.equal(wireInt(byId.get(filled.id)?.exchangeOrderId), wireInt(fill.exchangeOrderId), 'the exchange order ID')
  t.equal(wireInt(byId.get(filled.id)?.lastReportSeq), wireInt(fill.reportSeq), 'the newest report\'s report_seq')
  t.equal(byId.get(rejected.id)?.reason, rejected.report.reason, 'why it was rejected')
  t.same([byId.get(filled.id)?.timeInForce, byId.get(cancelled.id)?.timeInForce, byId.get(rejected.id)?.timeInForce],
    [TimeInForce.FAK, TimeInForce.GFD, TimeInForce.GFD], 'done orders keep their time in force (reports carry it; unset reads GFD)')
  t.equal(fill.timeInForce, TimeInForce.FAK, 'the fill report carries the order\'s time in force')
  const entered = byId.get(working.id)
  t.same([entered?.side, wireInt(entered?.price), entered?.quantityLots, entered?.timeInForce, entered?.instrument],
    [Side.BUY, 3100, 1, TimeInForce.GFD, 'rb2605'], 'the order as entered')
  t.same((await askOne(t, trader, { kind: QueryKind.QUERY_ORDERS, instrument: 'cu2606' })).orders, [], 'another instrument: none')
  t.same((await askOne(t, counter, { kind: QueryKind.QUERY_ORDERS })).orders.filter((o) => wireInt(o.clientOrderId) === working.id), [],
    'another account does not see these orders')

  const trades = await askOne(t, trader, { kind: QueryKind.QUERY_TRADES })
  t.same(trades.trades.map((trade) => [wireInt(trade.clientOrderId), trade.lots, wireInt(trade.price), trade.side, trade.instrument]),
    [[filled.id, 2, 3310, Side.BUY, 'rb2605']], 'the one fill')
  t.equal(trades.trades[0]?.tradeId, fill.tradeId, 'trade_id as on the fill report')
  t.equal(trades.trades[0]?.execId, fill.execId, 'exec_id as on the fill report')
  t.equal(wireInt(trades.trades[0]?.reportSeq), wireInt(fill.reportSeq))
  t.same((await askOne(t, trader, { kind: QueryKind.QUERY_TRADES, instrument: 'cu2606' })).trades, [], 'another instrument: none')

  const status = await askOne(t, trader, { kind: QueryKind.QUERY_ORDER_STATUS, clientOrderId: working.id })
  t.same(status.orders.map((o) => [wireInt(o.clientOrderId), o.state, o.leavesLots, o.timeInForce]), [[working.id, OrderState.ORDER_WORKING, 1, TimeInForce.GFD]])
  const done = await askOne(t, trader, { kind: QueryKind.QUERY_ORDER_STATUS, clientOrderId: rejected.id })
  t.same(done.orders.map((o) => [wireInt(o.clientOrderId), o.state, o.reason]), [[rejected.id, OrderState.ORDER_REJECTED, rejected.report.reason]])
  const unknown = await askOne(t, trader, { kind: QueryKind.QUERY_ORDER_STATUS, clientOrderId: 424_242 })
  t.same([unknown.reason, unknown.last, unknown.orders], [RejectReason.UNKNOWN_ORDER, true, []], 'an unknown order')
  const noId = await askOne(t, trader, { kind: QueryKind.QUERY_ORDER_STATUS })
  t.equal(noId.reason, RejectReason.INVALID_FIELD, 'no client_order_id')
  await cancel(trader, working.id)
  t.equal((await askOne(t, trader, { kind: QueryKind.QUERY_ORDER_STATUS, clientOrderId: working.id })).orders[0]?.state, OrderState.ORDER_CANCELLED, 'the status follows the order')
})

t.test('refusals: kind unspecified, a reply sent by a client', async (t) => {
  const trader = await logOn(gateway, 'platform', 'q-empty')
  t.teardown(() => trader.client.logout())
  const unspecified = await askOne(t, trader, { kind: QueryKind.QUERY_KIND_UNSPECIFIED })
  t.same([unspecified.reason, unspecified.last], [RejectReason.INVALID_FIELD, true])
  t.match(unspecified.text, /query\.kind/)
  const seq = trader.client.send({ queryReply: { requestId: 1, last: true } })
  t.equal((await trader.client.reject(seq)).reason, RejectReason.UNEXPECTED_MESSAGE)
  const trades = await askOne(t, trader, { kind: QueryKind.QUERY_TRADES })
  t.same([trades.reason, trades.last, trades.trades], [RejectReason.REASON_UNSPECIFIED, true, []], 'no trades: one empty last page')
})

t.test(`more than ${DEFAULT_QUERIES_PER_SECOND} queries in a second are refused with THROTTLED_QUERY`, async (t) => {
  // One order per second: had the queries counted as actions, the order below would be refused.
  risk.setLimit({ kind: 'account', account: 'q-throttle' }, 'accountActionsPerSecond', 1)
  const trader = await logOn(gateway, 'hft', 'q-throttle')
  t.teardown(() => trader.client.logout())
  const scrape = async (): Promise<number> => {
    const res = await fetch(`http://127.0.0.1:${gateway.supervisor.running().ops.port}/metrics`)
    return sampleValue(parseExposition(await res.text()), 'gatehouse_rejects_total', 'gatehouse_rejects_total', { lane: 'hft', reason: 'THROTTLED_QUERY' })
  }
  const before = await scrape()
  const seqs: number[] = []
  for (let i = 1; i <= DEFAULT_QUERIES_PER_SECOND + 1; i++) seqs.push(trader.client.send({ query: { requestId: 1000 + i, kind: QueryKind.QUERY_FUNDS } }))
  const reject = await trader.client.reject(seqs[DEFAULT_QUERIES_PER_SECOND]!)
  t.same([reject.reason, wireInt(reject.limit), wireInt(reject.observed)], [RejectReason.THROTTLED_QUERY, DEFAULT_QUERIES_PER_SECOND, DEFAULT_QUERIES_PER_SECOND + 1])
  const answered = trader.client.received.filter((m) => m.body === 'queryReply').map((m) => wireInt(m.queryReply!.requestId))
  t.same(answered, [1001, 1002, 1003, 1004, 1005], 'the first five were answered')
  const admittedBy = Date.now()
  t.equal(await scrape() - before, 1, 'counted in the lane\'s rejects')
  // Queries never count against the order throttles.
  const order = await place(trader, { instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 1, timeInForce: TimeInForce.FAK })
  t.equal(order.report.execType, ExecType.ACK, 'an order goes through at once')
  await untilClock(admittedBy + 1000)
  t.equal((await askOne(t, trader, { kind: QueryKind.QUERY_FUNDS })).reason, RejectReason.REASON_UNSPECIFIED, 'admitted again once the window has passed')
})

t.test(`an answer of more than ${QUERY_PAGE_ENTRIES} entries comes in pages`, async (t) => {
  const count = QUERY_PAGE_ENTRIES + 5
  risk.setLimits({ kind: 'account', account: 'q-pager' }, { maxOpenOrders: 256, hfBurstsReporting: null, hfPerSecondWarn: null, hfDailyWarn: null })
  const trader = await logOn(gateway, 'hft', 'q-pager')
  t.teardown(() => trader.client.logout())
  const ids: number[] = []
  for (let id = 1; id <= count; id++) {
    trader.client.newOrder({ clientOrderId: id, instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 1 })
    ids.push(id)
  }
  for (const id of ids) t.equal((await trader.client.report(id)).execType, ExecType.ACK, `order ${id} works`)
  const pages = await ask(trader, { kind: QueryKind.QUERY_ORDERS })
  t.same(pages.map((p) => [p.orders.length, p.last]), [[QUERY_PAGE_ENTRIES, false], [5, true]], 'a full page, then the rest on the last')
  t.same(pages.flatMap((p) => p.orders.map((o) => wireInt(o.clientOrderId))), ids, 'every order once, in entry order')
  t.ok(pages.every((p) => p.orders.every((o) => o.state === OrderState.ORDER_WORKING)), 'all working')
  // Gateway seqs stay gapless through the pages.
  t.same(trader.client.received.map((m) => wireInt(m.seq)), trader.client.received.map((_, i) => i + 1))
})
