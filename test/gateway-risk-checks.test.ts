// Pre-trade checks end to end: through real lane threads and the exchange
// simulator process, each kind of limit refuses with its own reason code
// and the limit and observed values, and each is set by live tuning
// (supervisor.risk) just before it is tested, so every subtest also shows a
// change applying to the very next message.
//
// The simulator's book lives for the whole file, so each subtest has its
// own account and its own instrument or price range, and cancels what it
// left working. rb2605 only ever has buys resting here, so a buy FAK on it
// never fills.
import t, { type Test } from 'tap'
import { EventEmitter, on } from 'node:events'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ExecType, OffsetFlag, RejectReason, Side, TimeInForce, reasonName, wireInt, type ExecutionReport } from '../protocol/messages.js'
import { KILL_SCOPE_ACCOUNT, KILL_SCOPE_INSTRUMENT, KILL_SCOPE_LANE } from '../checks/risk-engine.js'
import { TRADING_HALTED } from '../checks/risk-layout.js'
import type { RiskAlert } from '../lane/worker-contract.js'
import type { OrderRequest } from '../client/gatehouse-client.js'
import { startTestGateway } from './helpers/gateway.js'
import { cancel, finished, logOn, place, send, tradingAccount, untilClock, type Trader } from './helpers/trading.js'

type Order = Omit<OrderRequest, 'clientOrderId'>

/** The order with NewOrder.offset_flag set (the client library passes any NewOrder field through). */
function withOffset (order: Order, offsetFlag: number): Order {
  return Object.assign({ ...order }, { offsetFlag })
}

/** The lane's session throttle and the account throttle both count over one second. */
const THROTTLE_WINDOW_MS = 1000

const ACCOUNTS = [
  'rc-session', 'rc-account', 'rc-open', 'rc-position', 'rc-funds', 'rc-volume', 'rc-notional', 'rc-band',
  'rc-halt', 'rc-kill', 'rc-cancels', 'rc-hf', 'rc-smp', 'rc-smp-cancel', 'rc-counterparty', 'rc-two-lanes',
]

const recordFile = join(mkdtempSync(join(tmpdir(), 'gatehouse-risk-')), 'exchange-orders.jsonl')
const gateway = await startTestGateway({
  overrides: { accounts: ACCOUNTS.map(tradingAccount) },
  simArgs: ['--record', recordFile],
})
t.teardown(() => gateway.stop())
const risk = gateway.supervisor.risk
const account = (id: string): { kind: 'account', account: string } => ({ kind: 'account', account: id })

const alerts: RiskAlert[] = []
const alertEvents = new EventEmitter()
gateway.supervisor.onRiskAlert = (alert) => {
  alerts.push(alert)
  alertEvents.emit('alert', alert)
}

/** The first ops alert (already raised or still to come) that matches. */
async function riskAlert (match: (alert: RiskAlert) => boolean): Promise<RiskAlert> {
  const seen = alerts.find(match)
  if (seen !== undefined) return seen
  for await (const [alert] of on(alertEvents, 'alert', { signal: AbortSignal.timeout(5000) }) as AsyncIterable<[RiskAlert]>) {
    if (match(alert)) return alert
  }
  throw new Error('alert stream ended')
}

function refused (t: Test, report: ExecutionReport, reason: number, limit: number, observed: number, what: string): void {
  t.equal(report.execType, ExecType.REJECTED, `${what}: rejected`)
  t.equal(report.reason, reason, `${what}: ${reasonName(reason)}`)
  t.equal(wireInt(report.limit), limit, `${what}: limit ${limit}`)
  t.equal(wireInt(report.observed), observed, `${what}: observed ${observed}`)
}

function accepted (t: Test, report: ExecutionReport, what: string): void {
  t.equal(report.execType, ExecType.ACK, `${what}: accepted (${report.reason === 0 ? 'ack' : `${reasonName(report.reason)}: ${report.text}`})`)
}

/** The account holds nothing at the exchange: no working order, no reservation. */
function nothingWorking (t: Test, id: string): void {
  const counters = risk.counters(id)
  t.equal(counters.openOrders, 0, `${id}: no open orders`)
  t.equal(counters.openLots, 0, `${id}: no open lots`)
  t.equal(counters.reservedFen, 0, `${id}: nothing reserved`)
}

t.test('THROTTLED_SESSION: messages over the session limit are refused with limit and observed, then admitted once the window has passed', async (t) => {
  const trader = await logOn(gateway, 'platform', 'rc-session')
  const { client } = trader
  risk.setLimit(account('rc-session'), 'sessionMessagesPerSecond', 3)
  for (let testId = 1; testId <= 3; testId++) client.send({ heartbeat: { testId } })
  const orderId = send(trader, { instrument: 'rb2605', side: Side.BUY, price: 3060, quantityLots: 1, timeInForce: TimeInForce.FAK })
  const heartbeatSeq = client.send({ heartbeat: { testId: 4 } })
  const cancelSeq = client.cancel(orderId)

  for (let testId = 1; testId <= 3; testId++) {
    await client.next((m) => m.body === 'heartbeat' && wireInt(m.heartbeat!.testId) === testId)
  }
  refused(t, await client.report(orderId), RejectReason.THROTTLED_SESSION, 3, 4, 'an order over the limit')
  const heartbeatReject = await client.reject(heartbeatSeq)
  t.equal(heartbeatReject.reason, RejectReason.THROTTLED_SESSION, 'a heartbeat over the limit gets a Reject')
  t.equal(wireInt(heartbeatReject.limit), 3, 'Reject.limit')
  t.equal(wireInt(heartbeatReject.observed), 4, 'Reject.observed: the refused ones do not count')
  const cancelReject = await client.reject(cancelSeq)
  t.equal(cancelReject.reason, RejectReason.THROTTLED_SESSION, 'a cancel over the limit too')
  t.equal(wireInt(cancelReject.clientOrderId), orderId, 'naming the order it referred to')
  t.notOk(client.received.some((m) => m.body === 'heartbeat' && wireInt(m.heartbeat!.testId) === 4), 'the refused heartbeat was not answered')
  const lastAnswerMs = Date.now()

  // The three admitted messages were all in before the last answer came
  // back: one window after that, none is left in it.
  await untilClock(lastAnswerMs + THROTTLE_WINDOW_MS)
  client.send({ heartbeat: { testId: 5 } })
  t.ok(await client.next((m) => m.body === 'heartbeat' && wireInt(m.heartbeat!.testId) === 5), 'admitted again after the window')
  const { id, report } = await place(trader, { instrument: 'rb2605', side: Side.BUY, price: 3060, quantityLots: 1, timeInForce: TimeInForce.FAK })
  accepted(t, report, 'an order after the window')
  await finished(trader, id)
  await client.logout()
})

t.test('THROTTLED_ACCOUNT: sessions of one account on two lanes share the account throttle, cancels included', async (t) => {
  const terminal = await logOn(gateway, 'terminal', 'rc-account')
  const platform = await logOn(gateway, 'platform', 'rc-account')
  risk.setLimit(account('rc-account'), 'accountActionsPerSecond', 4)
  const fak = { instrument: 'rb2605', side: Side.BUY, price: 3060, quantityLots: 1, timeInForce: TimeInForce.FAK }
  const resting = send(platform, { instrument: 'rb2605', side: Side.BUY, price: 3061, quantityLots: 1 })
  const faks = [send(platform, fak), send(terminal, fak), send(terminal, fak)]
  accepted(t, await platform.client.report(resting), 'platform 1')
  accepted(t, await platform.client.report(faks[0]!), 'platform 2')
  accepted(t, await terminal.client.report(faks[1]!), 'terminal 1')
  accepted(t, await terminal.client.report(faks[2]!), 'terminal 2')
  const lastAdmittedMs = Date.now()

  refused(t, (await place(terminal, fak)).report, RejectReason.THROTTLED_ACCOUNT, 4, 5, 'the fifth action, on the terminal lane')
  refused(t, (await place(platform, fak)).report, RejectReason.THROTTLED_ACCOUNT, 4, 5, 'the fifth action, on the platform lane')
  const cancelSeq = platform.client.cancel(resting)
  const cancelReject = await platform.client.reject(cancelSeq)
  t.equal(cancelReject.reason, RejectReason.THROTTLED_ACCOUNT, 'a cancel is throttled too')
  t.equal(wireInt(cancelReject.limit), 4)
  t.equal(wireInt(cancelReject.observed), 5)

  await untilClock(lastAdmittedMs + THROTTLE_WINDOW_MS)
  t.equal((await cancel(platform, resting)).leavesLots, 0, 'the cancel goes through once the window has passed')
  for (const [trader, id] of [[platform, faks[0]!], [terminal, faks[1]!], [terminal, faks[2]!]] as const) await finished(trader, id)
  nothingWorking(t, 'rc-account')
  await Promise.all([terminal.client.logout(), platform.client.logout()])
})

t.test('MAX_OPEN_ORDERS: one account\'s orders on two lanes count together', async (t) => {
  const terminal = await logOn(gateway, 'terminal', 'rc-open')
  const platform = await logOn(gateway, 'platform', 'rc-open')
  risk.setLimit(account('rc-open'), 'maxOpenOrders', 3)
  const buy = (price: number): Order => ({ instrument: 'rb2605', side: Side.BUY, price, quantityLots: 1 })
  const working: Array<[Trader, number]> = []
  for (const [trader, price] of [[platform, 3050], [platform, 3051], [terminal, 3052]] as const) {
    const { id, report } = await place(trader, buy(price))
    accepted(t, report, `${trader.lane} order at ${price}`)
    working.push([trader, id])
  }
  t.equal(risk.counters('rc-open').openOrders, 3, 'three working, across both lanes')
  refused(t, (await place(terminal, buy(3053))).report, RejectReason.MAX_OPEN_ORDERS, 3, 4, 'a fourth on the terminal lane')
  refused(t, (await place(platform, buy(3054))).report, RejectReason.MAX_OPEN_ORDERS, 3, 4, 'a fourth on the platform lane')

  risk.setLimit(account('rc-open'), 'maxOpenOrders', 4)
  const fourth = await place(terminal, buy(3055))
  accepted(t, fourth.report, 'the very next order after raising the limit')
  working.push([terminal, fourth.id])

  for (const [trader, id] of working) await cancel(trader, id)
  nothingWorking(t, 'rc-open')
  t.same(risk.counters('rc-open').instruments.map((i) => [i.instrument, i.workingBuyLots, i.workingBuyOrders]), [['rb2605', 0, 0]], 'no working buys left on the instrument')
  await Promise.all([terminal.client.logout(), platform.client.logout()])
})

t.test('POSITION_LIMIT_LONG/SHORT, CLOSE_EXCEEDS_POSITION, REDUCE_ONLY_WOULD_INCREASE and ACCOUNT_REDUCING: the position book and working orders', async (t) => {
  const trader = await logOn(gateway, 'platform', 'rc-position')
  const counterparty = await logOn(gateway, 'platform', 'rc-counterparty')
  // i2605 prices are in tenths with a tick of 5: 790.0 is 7900. DCE: a
  // plain close takes today's lots first, then yesterday's.
  const order = (side: number, price: number, quantityLots: number, extra: Partial<Order> = {}): Order => ({ instrument: 'i2605', side, price, quantityLots, ...extra })
  const close = (side: number, price: number, quantityLots: number): Order => withOffset(order(side, price, quantityLots), OffsetFlag.OFFSET_CLOSE)

  // A long position of 2, bought from the counterparty.
  const offer = await place(counterparty, order(Side.SELL, 7900, 2))
  accepted(t, offer.report, 'counterparty offer')
  const bought = await place(trader, order(Side.BUY, 7900, 2, { timeInForce: TimeInForce.FAK }))
  accepted(t, bought.report, 'buy')
  t.equal((await finished(trader, bought.id)).execType, ExecType.FILL, 'filled: long 2')
  await finished(counterparty, offer.id)
  t.match(risk.counters('rc-position').instruments.find((i) => i.instrument === 'i2605'), { longTodayLots: 2, shortTodayLots: 0, openedLotsToday: 2 }, 'long 2 today')

  risk.setLimits(account('rc-position'), { maxLongLots: 5, maxShortLots: 3 })
  const bid = await place(trader, order(Side.BUY, 7700, 3))
  accepted(t, bid.report, 'long 2 + working 3 is at the limit of 5')
  refused(t, (await place(trader, order(Side.BUY, 7700, 1))).report, RejectReason.POSITION_LIMIT_LONG, 5, 6, 'one more buy lot')

  refused(t, (await place(trader, order(Side.SELL, 8100, 3, { reduceOnly: true }))).report, RejectReason.CLOSE_EXCEEDS_POSITION, 2, 3,
    'reduce-only sell (a plain close) of 3 against a long of 2')
  refused(t, (await place(trader, order(Side.BUY, 7700, 1, { reduceOnly: true }))).report, RejectReason.CLOSE_EXCEEDS_POSITION, 0, 1,
    'reduce-only buy closes a short: there is none')
  refused(t, (await place(trader, withOffset(order(Side.BUY, 7700, 1, { reduceOnly: true }), OffsetFlag.OFFSET_OPEN))).report,
    RejectReason.REDUCE_ONLY_WOULD_INCREASE, 0, 1, 'reduce-only with an opening offset')
  const reducing = await place(trader, order(Side.SELL, 8100, 2, { reduceOnly: true }))
  accepted(t, reducing.report, 'reduce-only sell of 2 closes the long')
  t.match(risk.counters('rc-position').instruments.find((i) => i.instrument === 'i2605'), { longTodayLots: 2, longTodayFrozenLots: 2 }, 'its 2 lots frozen')

  // Short side: held 0 + working opening sells; the working close does not count.
  refused(t, (await place(trader, order(Side.SELL, 8100, 4))).report, RejectReason.POSITION_LIMIT_SHORT, 3, 4, 'sell of 4 to open')
  const offerAtLimit = await place(trader, order(Side.SELL, 8100, 3))
  accepted(t, offerAtLimit.report, 'sell of 3 opens exactly short 3')
  await cancel(trader, reducing.id)
  await cancel(trader, offerAtLimit.id)

  t.same(risk.setTradingState('rc-position', 'reducing'), { before: 'active', after: 'reducing' })
  refused(t, (await place(trader, order(Side.BUY, 7700, 1))).report, RejectReason.ACCOUNT_REDUCING, 0, 1, 'reducing: an opening buy')
  refused(t, (await place(trader, order(Side.SELL, 8100, 3))).report, RejectReason.ACCOUNT_REDUCING, 0, 3, 'reducing: an opening sell')
  refused(t, (await place(trader, close(Side.SELL, 8100, 3))).report, RejectReason.CLOSE_EXCEEDS_POSITION, 2, 3, 'reducing: a close beyond the position')
  const closing = await place(trader, close(Side.SELL, 8100, 2))
  accepted(t, closing.report, 'reducing: a close of the position')
  risk.setTradingState('rc-position', 'active')

  await cancel(trader, closing.id)
  await cancel(trader, bid.id)
  nothingWorking(t, 'rc-position')
  t.match(risk.counters('rc-position').instruments.find((i) => i.instrument === 'i2605'),
    { longTodayLots: 2, longTodayFrozenLots: 0, workingOpenLongLots: 0, workingOpenShortLots: 0 }, 'the position is unchanged, nothing frozen')
  await Promise.all([trader.client.logout(), counterparty.client.logout()])
})

t.test('one account on two lanes at once: per-side limits and closes hold across the lanes', async (t) => {
  const platform = await logOn(gateway, 'platform', 'rc-two-lanes')
  const hft = await logOn(gateway, 'hft', 'rc-two-lanes')
  const counterparty = await logOn(gateway, 'platform', 'rc-counterparty')
  // m2605 (DCE), prices 2800-2899 for buys and 3000+ for sells: nothing else trades it here.
  const order = (side: number, price: number, quantityLots: number, extra: Partial<Order> = {}): Order => ({ instrument: 'm2605', side, price, quantityLots, ...extra })
  const close = (side: number, price: number, quantityLots: number): Order => withOffset(order(side, price, quantityLots), OffsetFlag.OFFSET_CLOSE)
  const book = (): unknown => risk.counters('rc-two-lanes').instruments.find((i) => i.instrument === 'm2605')

  // Long 3 bought on the hft lane.
  const offer = await place(counterparty, order(Side.SELL, 2850, 3))
  accepted(t, offer.report, 'counterparty offer')
  const bought = await place(hft, order(Side.BUY, 2850, 3, { timeInForce: TimeInForce.FAK }))
  t.equal((await finished(hft, bought.id)).execType, ExecType.FILL, 'hft: bought 3')
  await finished(counterparty, offer.id)

  risk.setLimits(account('rc-two-lanes'), { maxLongLots: 6, maxShortLots: 2 })
  const platformBid = await place(platform, order(Side.BUY, 2800, 2))
  accepted(t, platformBid.report, 'platform: opening buy of 2 (3 held + 2)')
  refused(t, (await place(hft, order(Side.BUY, 2800, 2))).report, RejectReason.POSITION_LIMIT_LONG, 6, 7,
    'hft: the platform lane\'s working opening buy counts here')
  const hftBid = await place(hft, order(Side.BUY, 2800, 1))
  accepted(t, hftBid.report, 'hft: exactly at the limit')
  refused(t, (await place(platform, order(Side.BUY, 2800, 1))).report, RejectReason.POSITION_LIMIT_LONG, 6, 7, 'platform: and the hft lane\'s here')

  // Closes: the lots one lane's close froze are not there for the other's.
  const platformClose = await place(platform, close(Side.SELL, 3000, 2))
  accepted(t, platformClose.report, 'platform: close 2 of the 3')
  refused(t, (await place(hft, close(Side.SELL, 3000, 2))).report, RejectReason.CLOSE_EXCEEDS_POSITION, 1, 2, 'hft: only 1 left to close')
  const hftClose = await place(hft, close(Side.SELL, 3000, 1))
  accepted(t, hftClose.report, 'hft: closes the last lot')
  refused(t, (await place(platform, withOffset(order(Side.SELL, 3000, 1), OffsetFlag.OFFSET_CLOSE_TODAY))).report, RejectReason.CLOSE_EXCEEDS_POSITION, 0, 1,
    'platform: nothing left, today\'s or any')
  refused(t, (await place(platform, close(Side.BUY, 2800, 1))).report, RejectReason.CLOSE_EXCEEDS_POSITION, 0, 1, 'platform: no short to buy back')
  t.match(book(), { longTodayLots: 3, longTodayFrozenLots: 3, workingOpenLongLots: 3, workingOpenShortLots: 0 })
  refused(t, (await place(hft, order(Side.SELL, 3000, 3))).report, RejectReason.POSITION_LIMIT_SHORT, 2, 3, 'hft: a short is counted apart from the long')

  // The platform close fills (first in time at 3000): the position and its frozen lots go down together.
  const hit = await place(counterparty, order(Side.BUY, 3000, 2, { timeInForce: TimeInForce.FAK }))
  t.equal((await finished(counterparty, hit.id)).execType, ExecType.FILL, 'the counterparty takes the two closing lots')
  t.equal((await finished(platform, platformClose.id)).execType, ExecType.FILL, 'platform: the close filled')
  t.match(book(), { longTodayLots: 1, longTodayFrozenLots: 1 }, 'long 1 left, frozen by the hft close')
  await cancel(hft, hftClose.id)
  await cancel(platform, platformBid.id)
  await cancel(hft, hftBid.id)
  nothingWorking(t, 'rc-two-lanes')
  t.match(book(), { longTodayLots: 1, longTodayFrozenLots: 0, workingOpenLongLots: 0 }, 'long 1 left, nothing frozen')
  await Promise.all([platform.client.logout(), hft.client.logout(), counterparty.client.logout()])
})

t.test('INSUFFICIENT_FUNDS: margin reserved for working orders plus the new order against the funds', async (t) => {
  const trader = await logOn(gateway, 'platform', 'rc-funds')
  risk.setLimit(account('rc-funds'), 'funds', 5000)
  // rb2605 at 3100: 3100 x 10 t x 7% margin = 2170.00 a lot = 217000 fen.
  const working = await place(trader, { instrument: 'rb2605', side: Side.BUY, price: 3100, quantityLots: 2 })
  accepted(t, working.report, 'two lots: 4340.00 of 5000.00')
  t.equal(risk.counters('rc-funds').reservedFen, 434_000, 'margin reserved in fen')
  refused(t, (await place(trader, { instrument: 'rb2605', side: Side.BUY, price: 3100, quantityLots: 1 })).report,
    RejectReason.INSUFFICIENT_FUNDS, 500_000, 651_000, 'a third lot')
  await cancel(trader, working.id)
  nothingWorking(t, 'rc-funds')
  const again = await place(trader, { instrument: 'rb2605', side: Side.BUY, price: 3100, quantityLots: 2, timeInForce: TimeInForce.FAK })
  accepted(t, again.report, 'the cancel released the reservation')
  await finished(trader, again.id)
  await trader.client.logout()
})

t.test('DAILY_VOLUME_LIMIT: lots traded today plus lots working', async (t) => {
  const trader = await logOn(gateway, 'platform', 'rc-volume')
  const counterparty = await logOn(gateway, 'platform', 'rc-counterparty')
  const offer = await place(counterparty, { instrument: 'm2605', side: Side.SELL, price: 3000, quantityLots: 4 })
  accepted(t, offer.report, 'counterparty offer')
  const bought = await place(trader, { instrument: 'm2605', side: Side.BUY, price: 3000, quantityLots: 4, timeInForce: TimeInForce.FAK })
  t.equal((await finished(trader, bought.id)).execType, ExecType.FILL, '4 lots traded')
  await finished(counterparty, offer.id)

  risk.setLimit(account('rc-volume'), 'maxDailyVolumeLots', 10)
  const bid = await place(trader, { instrument: 'm2605', side: Side.BUY, price: 2900, quantityLots: 3 })
  accepted(t, bid.report, '4 traded + 3 working')
  refused(t, (await place(trader, { instrument: 'm2605', side: Side.BUY, price: 2900, quantityLots: 4 })).report,
    RejectReason.DAILY_VOLUME_LIMIT, 10, 11, '4 traded + 3 working + 4')
  const atLimit = await place(trader, { instrument: 'm2605', side: Side.BUY, price: 2900, quantityLots: 3 })
  accepted(t, atLimit.report, '4 traded + 3 working + 3 is exactly 10')
  await cancel(trader, bid.id)
  await cancel(trader, atLimit.id)
  refused(t, (await place(trader, { instrument: 'm2605', side: Side.BUY, price: 2900, quantityLots: 7 })).report,
    RejectReason.DAILY_VOLUME_LIMIT, 10, 11, 'traded lots still count once nothing is working')
  t.equal(risk.counters('rc-volume').tradedLotsToday, 4)
  nothingWorking(t, 'rc-volume')
  await Promise.all([trader.client.logout(), counterparty.client.logout()])
})

t.test('NOTIONAL_ABOVE_MAX: price x lots x multiplier, in fen', async (t) => {
  const trader = await logOn(gateway, 'platform', 'rc-notional')
  risk.setLimit(account('rc-notional'), 'maxNotionalPerOrder', 100_000)
  const fak = (quantityLots: number): Order => ({ instrument: 'rb2605', side: Side.BUY, price: 3100, quantityLots, timeInForce: TimeInForce.FAK })
  refused(t, (await place(trader, fak(4))).report, RejectReason.NOTIONAL_ABOVE_MAX, 10_000_000, 12_400_000, '124,000.00 over 100,000.00')
  const small = await place(trader, fak(3))
  accepted(t, small.report, '93,000.00')
  await finished(trader, small.id)
  await trader.client.logout()
})

t.test('PRICE_OUTSIDE_BAND: the terminal lane\'s fat-finger band, widened live for one account', async (t) => {
  const terminal = await logOn(gateway, 'terminal', 'rc-band')
  const platform = await logOn(gateway, 'platform', 'rc-band')
  const fak = (side: number, price: number): Order => ({ instrument: 'rb2605', side, price, quantityLots: 1, timeInForce: TimeInForce.FAK })
  // Reference 3200, band 500 bps: 3040 to 3360.
  refused(t, (await place(terminal, fak(Side.BUY, 3400))).report, RejectReason.PRICE_OUTSIDE_BAND, 3360, 3400, 'buy above the band')
  refused(t, (await place(terminal, fak(Side.SELL, 3000))).report, RejectReason.PRICE_OUTSIDE_BAND, 3040, 3000, 'sell below the band')
  const done: Array<[Trader, number]> = []
  const atEdge = await place(terminal, fak(Side.BUY, 3360))
  accepted(t, atEdge.report, 'at the band edge')
  done.push([terminal, atEdge.id])
  const otherLane = await place(platform, fak(Side.BUY, 3400))
  accepted(t, otherLane.report, 'the platform lane has no band by default')
  done.push([platform, otherLane.id])
  risk.setLimit(account('rc-band'), 'priceBandBps', 1000)
  const widened = await place(terminal, fak(Side.BUY, 3400))
  accepted(t, widened.report, 'inside a 1000 bps band set for the account')
  done.push([terminal, widened.id])
  for (const [trader, id] of done) await finished(trader, id)
  await Promise.all([terminal.client.logout(), platform.client.logout()])
})

t.test('ACCOUNT_HALTED: new orders refused, a cancel of a working order passes', async (t) => {
  const trader = await logOn(gateway, 'platform', 'rc-halt')
  const working = await place(trader, { instrument: 'au2606', side: Side.BUY, price: 87000, quantityLots: 1 })
  accepted(t, working.report, 'resting bid')
  t.same(risk.setTradingState('rc-halt', 'halted'), { before: 'active', after: 'halted' })
  refused(t, (await place(trader, { instrument: 'au2606', side: Side.BUY, price: 87000, quantityLots: 1, timeInForce: TimeInForce.FAK })).report,
    RejectReason.ACCOUNT_HALTED, 0, TRADING_HALTED, 'a new order while halted')
  t.equal((await cancel(trader, working.id)).leavesLots, 0, 'the cancel passes while halted')
  nothingWorking(t, 'rc-halt')
  risk.setTradingState('rc-halt', 'active')
  const after = await place(trader, { instrument: 'au2606', side: Side.BUY, price: 87000, quantityLots: 1, timeInForce: TimeInForce.FAK })
  accepted(t, after.report, 'active again')
  await finished(trader, after.id)
  await trader.client.logout()
})

t.test('KILL_SWITCH: account, instrument and lane switches refuse new orders and let cancels through', async (t) => {
  const platform = await logOn(gateway, 'platform', 'rc-kill')
  const hft = await logOn(gateway, 'hft', 'rc-kill')
  const order = (instrument: string, price: number, timeInForce: number = TimeInForce.FAK): Order => ({ instrument, side: Side.BUY, price, quantityLots: 1, timeInForce })
  const working = await place(platform, order('SR605', 5500, TimeInForce.GFD))
  accepted(t, working.report, 'resting bid')
  const faks: Array<[Trader, number]> = []

  t.same(await gateway.supervisor.setKillSwitch(account('rc-kill'), true), { before: false, after: true, cancelsSent: 0 })
  refused(t, (await place(platform, order('SR605', 5500))).report, RejectReason.KILL_SWITCH, 0, KILL_SCOPE_ACCOUNT, 'account switch, platform')
  refused(t, (await place(hft, order('rb2605', 3060))).report, RejectReason.KILL_SWITCH, 0, KILL_SCOPE_ACCOUNT, 'account switch, hft')
  t.equal((await cancel(platform, working.id)).leavesLots, 0, 'a cancel passes the kill switch')
  await gateway.supervisor.setKillSwitch(account('rc-kill'), false)

  await gateway.supervisor.setKillSwitch({ kind: 'instrument', instrument: 'SR605' }, true)
  refused(t, (await place(platform, order('SR605', 5500))).report, RejectReason.KILL_SWITCH, 0, KILL_SCOPE_INSTRUMENT, 'instrument switch')
  const otherInstrument = await place(platform, order('rb2605', 3060))
  accepted(t, otherInstrument.report, 'another instrument trades on')
  faks.push([platform, otherInstrument.id])
  await gateway.supervisor.setKillSwitch({ kind: 'instrument', instrument: 'SR605' }, false)

  await gateway.supervisor.setKillSwitch({ kind: 'lane', lane: 'hft' }, true)
  refused(t, (await place(hft, order('SR605', 5500))).report, RejectReason.KILL_SWITCH, 0, KILL_SCOPE_LANE, 'lane switch')
  const otherLane = await place(platform, order('SR605', 5500))
  accepted(t, otherLane.report, 'another lane trades on')
  faks.push([platform, otherLane.id])
  await gateway.supervisor.setKillSwitch({ kind: 'lane', lane: 'hft' }, false)
  const back = await place(hft, order('SR605', 5500))
  accepted(t, back.report, 'every switch off')
  faks.push([hft, back.id])

  for (const [trader, id] of faks) await finished(trader, id)
  nothingWorking(t, 'rc-kill')
  await Promise.all([platform.client.logout(), hft.client.logout()])
})

t.test('CANCEL_LIMIT: a MonitorWarning on the report at the warning level, an ops alert, then new orders refused', async (t) => {
  const trader = await logOn(gateway, 'platform', 'rc-cancels')
  // Narrower than the CFFEX preset (320/380): the account scope wins.
  risk.setLimits(account('rc-cancels'), { cancelsWarn: 2, cancelsBlock: 3 })
  const cancelled: ExecutionReport[] = []
  for (let i = 0; i < 3; i++) {
    const bid = await place(trader, { instrument: 'IF2606', side: Side.BUY, price: 44000, quantityLots: 1 })
    accepted(t, bid.report, `bid ${i + 1}`)
    cancelled.push(await cancel(trader, bid.id))
  }
  t.equal(cancelled[0]!.warning, null, 'below the warning level: no warning')
  const warning = cancelled[1]!.warning!
  t.ok(warning, 'the second cancel reaches the warning level')
  t.equal(warning.monitor, RejectReason.CANCEL_LIMIT, 'monitor CANCEL_LIMIT')
  t.equal(wireInt(warning.observed), 2)
  t.equal(wireInt(warning.warningLevel), 2)
  t.equal(wireInt(warning.blockingLevel), 3)
  t.equal(wireInt(cancelled[2]!.warning?.observed), 3, 'the next cancel still carries the warning')

  const alert = await riskAlert((a) => a.account === 'rc-cancels')
  t.same(alert, { lane: 'platform', account: 'rc-cancels', instrument: 'IF2606', monitor: RejectReason.CANCEL_LIMIT, observed: 2, warningLevel: 2, blockingLevel: 3 },
    'supervisor.onRiskAlert at the crossing')

  refused(t, (await place(trader, { instrument: 'IF2606', side: Side.BUY, price: 44000, quantityLots: 1 })).report,
    RejectReason.CANCEL_LIMIT, 3, 3, 'a new order on the contract at the blocking level')
  const other = await place(trader, { instrument: 'rb2605', side: Side.BUY, price: 3060, quantityLots: 1, timeInForce: TimeInForce.FAK })
  accepted(t, other.report, 'the monitor counts per contract')
  await finished(trader, other.id)
  t.equal(risk.counters('rc-cancels').instruments.find((i) => i.instrument === 'IF2606')?.cancelsToday, 3)
  nothingWorking(t, 'rc-cancels')
  await trader.client.logout()
})

t.test('HF_REPORT_REQUIRED: bursts past the reporting threshold without a confirmed programmatic report', async (t) => {
  const trader = await logOn(gateway, 'platform', 'rc-hf')
  t.equal(risk.counters('rc-hf').programmaticReport, 'none')
  // A burst is 3 orders within a second; 2 bursts need a confirmed report.
  risk.setLimits(account('rc-hf'), { hfBurstOrders: 3, hfBurstsWarn: 1, hfBurstsReporting: 2 })
  const fak = { instrument: 'rb2605', side: Side.BUY, price: 3060, quantityLots: 1, timeInForce: TimeInForce.FAK }
  const finish: number[] = []

  // First burst, and a fourth order within the same second: bursts are
  // occasions, counted at most once a second.
  const first = [send(trader, fak), send(trader, fak), send(trader, fak), send(trader, fak)]
  const firstAcks: ExecutionReport[] = []
  for (const id of first) firstAcks.push(await trader.client.report(id))
  const firstBurstDoneMs = Date.now()
  firstAcks.forEach((ack, i) => { accepted(t, ack, `first burst, order ${i + 1}`) })
  finish.push(...first)
  t.equal(firstAcks[1]!.warning, null, 'no warning before the burst')
  t.equal(firstAcks[2]!.warning?.monitor, RejectReason.HF_REPORT_REQUIRED, 'the third order makes a burst: warned')
  t.equal(wireInt(firstAcks[2]!.warning?.observed), 1)
  t.equal(wireInt(firstAcks[2]!.warning?.blockingLevel), 2)
  t.equal(firstAcks[3]!.warning, null, 'the fourth, in the same second, is not another burst')
  t.equal(risk.counters('rc-hf').hfBurstsToday, 1)
  const alert = await riskAlert((a) => a.account === 'rc-hf')
  t.equal(alert.monitor, RejectReason.HF_REPORT_REQUIRED, 'ops alerted at the warning level')

  // Every action of the first second has left the window after this.
  await untilClock(firstBurstDoneMs + THROTTLE_WINDOW_MS)
  const second = [send(trader, fak), send(trader, fak), send(trader, fak)]
  for (const id of second) accepted(t, await trader.client.report(id), 'second burst')
  finish.push(...second)
  t.equal(risk.counters('rc-hf').hfBurstsToday, 2, 'a second occasion')
  refused(t, (await place(trader, fak)).report, RejectReason.HF_REPORT_REQUIRED, 2, 2, 'past the reporting threshold')

  t.same(risk.setProgrammaticReport('rc-hf', 'confirmed'), { before: 'none', after: 'confirmed' })
  const confirmed = await place(trader, fak)
  accepted(t, confirmed.report, 'trading resumes once the report is confirmed')
  finish.push(confirmed.id)
  for (const id of finish) await finished(trader, id)
  nothingWorking(t, 'rc-hf')
  await trader.client.logout()
})

t.test('SELF_MATCH_PREVENTED: a crossing order of the same account is refused before the exchange, on either lane', async (t) => {
  const platform = await logOn(gateway, 'platform', 'rc-smp')
  const terminal = await logOn(gateway, 'terminal', 'rc-smp')
  t.equal(risk.effectiveLimits({ lane: 'platform', account: 'rc-smp' }).selfMatchMode, 0, 'default mode: reject the incoming order')
  const offer = await place(platform, { instrument: 'au2606', side: Side.SELL, price: 89000, quantityLots: 1 })
  accepted(t, offer.report, 'resting offer')
  refused(t, (await place(platform, { instrument: 'au2606', side: Side.BUY, price: 89100, quantityLots: 1 })).report,
    RejectReason.SELF_MATCH_PREVENTED, 89100, 89000, 'crossing buy, same lane')
  refused(t, (await place(terminal, { instrument: 'au2606', side: Side.BUY, price: 89050, quantityLots: 1 })).report,
    RejectReason.SELF_MATCH_PREVENTED, 89050, 89000, 'crossing buy, other lane')
  const below = await place(platform, { instrument: 'au2606', side: Side.BUY, price: 88900, quantityLots: 1 })
  accepted(t, below.report, 'a buy that does not cross')
  await cancel(platform, offer.id)
  await cancel(platform, below.id)
  nothingWorking(t, 'rc-smp')
  await Promise.all([platform.client.logout(), terminal.client.logout()])
})

t.test('self-match cancel-resting mode: the resting order is cancelled and the new one rests without trading with it', async (t) => {
  const platform = await logOn(gateway, 'platform', 'rc-smp-cancel')
  const terminal = await logOn(gateway, 'terminal', 'rc-smp-cancel')
  const counterparty = await logOn(gateway, 'platform', 'rc-counterparty')
  risk.setLimit(account('rc-smp-cancel'), 'selfMatchMode', 1)

  const offer = await place(platform, { instrument: 'SR605', side: Side.SELL, price: 5700, quantityLots: 2 })
  accepted(t, offer.report, 'resting offer')
  const bid = await place(platform, { instrument: 'SR605', side: Side.BUY, price: 5700, quantityLots: 2 })
  accepted(t, bid.report, 'the crossing bid goes to the exchange')
  const offerDone = await finished(platform, offer.id)
  t.equal(offerDone.execType, ExecType.CANCELLED, 'the resting offer is cancelled')
  t.equal(offerDone.cumulativeLots, 0, 'having traded nothing')

  // The bid rests in the book: another account's offer trades with it.
  const hit = await place(counterparty, { instrument: 'SR605', side: Side.SELL, price: 5700, quantityLots: 1, timeInForce: TimeInForce.FAK })
  const hitDone = await finished(counterparty, hit.id)
  t.equal(hitDone.execType, ExecType.FILL, 'the counterparty fills against the bid')
  t.equal(wireInt(hitDone.lastPrice), 5700)
  const bidDone = await cancel(platform, bid.id)
  t.equal(bidDone.cumulativeLots, 1, 'the bid traded only with the counterparty')
  t.notOk(platform.client.received.some((m) => m.body === 'executionReport' && wireInt(m.executionReport!.clientOrderId) === offer.id &&
    (m.executionReport!.lastLots ?? 0) > 0), 'the offer never filled')
  t.match(risk.counters('rc-smp-cancel').instruments.find((i) => i.instrument === 'SR605'), { longTodayLots: 1, shortTodayLots: 0 }, 'position: the one lot bought from the counterparty')

  // A resting order on another lane's link cannot be cancelled ahead of
  // the new one, so the new one is refused even in this mode.
  const terminalOffer = await place(terminal, { instrument: 'SR605', side: Side.SELL, price: 5750, quantityLots: 1 })
  accepted(t, terminalOffer.report, 'resting offer on the terminal lane')
  refused(t, (await place(platform, { instrument: 'SR605', side: Side.BUY, price: 5750, quantityLots: 1 })).report,
    RejectReason.SELF_MATCH_PREVENTED, 5750, 5750, 'crossing bid from the platform lane')
  await cancel(terminal, terminalOffer.id)
  nothingWorking(t, 'rc-smp-cancel')
  await Promise.all([platform.client.logout(), terminal.client.logout(), counterparty.client.logout()])
})

t.test('after everything is cancelled, no account has anything reserved or working', async (t) => {
  for (const id of ACCOUNTS) nothingWorking(t, id)
})

t.test('the refused self-match orders never reached the exchange', async (t) => {
  // Stopping the simulator flushes its record file.
  await gateway.sim.stop()
  const lines = readFileSync(recordFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { account: string, side: string, price: number })
  const smp = lines.filter((line) => line.account === 'rc-smp')
  t.same(smp.map((line) => [line.side, line.price]), [['SELL', 89000], ['BUY', 88900]], 'only the resting offer and the non-crossing bid')
  const smpCancel = lines.filter((line) => line.account === 'rc-smp-cancel' && line.side === 'BUY')
  t.same(smpCancel.map((line) => line.price), [5700], 'of rc-smp-cancel\'s bids, only the one that went through')
})
