// Kill switch mass-cancel and cancel-on-disconnect, checked against the
// exchange simulator's own book: after the gateway says orders are
// cancelled, a crossing FAK from someone else must find nothing of them,
// and orders that should survive must still trade.
//
// Each subtest uses its own accounts and instrument; the simulator's book
// lives for the whole file.
import t, { type Test } from 'tap'
import { EventEmitter, on } from 'node:events'
import { ExecType, RejectReason, Side, TimeInForce, wireInt, type ExecutionReport } from '../protocol/messages.js'
import { KILL_SCOPE_ACCOUNT } from '../checks/risk-engine.js'
import type { LaneToSupervisor } from '../lane/worker-contract.js'
import { startTestGateway } from './helpers/gateway.js'
import { ExchangeProbe } from './helpers/exchange-probe.js'
import { finished, logOn, place, tradingAccount, type Trader } from './helpers/trading.js'

const ACCOUNTS = ['ks-killed', 'ks-bystander', 'ks-cod', 'ks-keep', 'ks-forced', 'ks-prober']

const gateway = await startTestGateway({ overrides: { accounts: ACCOUNTS.map(tradingAccount) } })
t.teardown(() => gateway.stop())
const risk = gateway.supervisor.risk

const laneEvents = new EventEmitter()
gateway.supervisor.onLaneEvent = (event) => { laneEvents.emit(event.type, event) }

/**
 * Resolves once the lane has handled the close of this trader's session.
 * Call before closing: it listens from the call on.
 */
async function sessionClosed (trader: Trader): Promise<void> {
  const sessionId = wireInt(trader.logon.sessionId)
  const events = on(laneEvents, 'session-closed', { signal: AbortSignal.timeout(5000) }) as AsyncIterable<[Extract<LaneToSupervisor, { type: 'session-closed' }>]>
  for await (const [event] of events) if (event.sessionId === sessionId) return
}

/** Every fill an order got, as [price, lots]. */
function fillsOf (trader: Trader, id: number): Array<[number, number]> {
  return trader.client.received
    .filter((m) => m.body === 'executionReport' && wireInt(m.executionReport!.clientOrderId) === id && (m.executionReport!.lastLots ?? 0) > 0)
    .map((m) => [wireInt(m.executionReport!.lastPrice), m.executionReport!.lastLots ?? 0])
}

function accepted (t: Test, report: ExecutionReport, what: string): void {
  t.equal(report.execType, ExecType.ACK, `${what}: accepted${report.reason === 0 ? '' : ` (refused ${report.reason}: ${report.text})`}`)
}

function nothingWorking (t: Test, id: string): void {
  const counters = risk.counters(id)
  t.equal(counters.openOrders, 0, `${id}: no open orders`)
  t.equal(counters.reservedFen, 0, `${id}: nothing reserved`)
}

t.test('account kill switch with mass-cancel: every lane cancels the account\'s orders, and the exchange\'s book agrees', async (t) => {
  const terminal = await logOn(gateway, 'terminal', 'ks-killed')
  const platform = await logOn(gateway, 'platform', 'ks-killed')
  const bystander = await logOn(gateway, 'platform', 'ks-bystander')
  const resting: Array<[Trader, number]> = []
  for (const [trader, instrument, price, quantityLots] of [
    [terminal, 'rb2605', 3300, 2], [terminal, 'rb2605', 3310, 1], [platform, 'rb2605', 3305, 3], [platform, 'm2605', 3050, 2],
  ] as const) {
    const { id, report } = await place(trader, { instrument, side: Side.SELL, price, quantityLots })
    accepted(t, report, `${trader.lane} offer ${instrument} ${price}`)
    resting.push([trader, id])
  }
  const bystanderOffer = await place(bystander, { instrument: 'rb2605', side: Side.SELL, price: 3350, quantityLots: 1 })
  accepted(t, bystanderOffer.report, 'another account\'s offer')
  t.equal(risk.counters('ks-killed').openOrders, 4)

  const change = await gateway.supervisor.setKillSwitch({ kind: 'account', account: 'ks-killed' }, true, { massCancel: true })
  t.same(change, { before: false, after: true, cancelsSent: 4 }, 'one cancel per working order, from both lanes')
  for (const [trader, id] of resting) {
    const done = await finished(trader, id)
    t.equal(done.execType, ExecType.CANCELLED, `${trader.lane} order ${id} cancelled`)
    t.equal(done.cumulativeLots, 0)
  }
  for (const trader of [terminal, platform]) {
    const refused = (await place(trader, { instrument: 'rb2605', side: Side.SELL, price: 3300, quantityLots: 1 })).report
    t.equal(refused.reason, RejectReason.KILL_SWITCH, `${trader.lane}: new orders refused`)
    t.equal(wireInt(refused.observed), KILL_SCOPE_ACCOUNT, 'by the account\'s switch')
  }
  const counters = risk.counters('ks-killed')
  t.equal(counters.killSwitch, true)
  nothingWorking(t, 'ks-killed')

  // Another member, straight to the exchange: buying through every price
  // the killed account offered at finds only the bystander's offer.
  const probe = await ExchangeProbe.connect(gateway.sim.host, gateway.sim.port, 'kill-switch-probe')
  t.teardown(() => probe.close())
  const rb = await probe.fak({ account: 'probe', instrument: 'rb2605', side: Side.BUY, price: 3400, quantityLots: 10 })
  t.same(rb.fills, [{ price: 3350, lots: 1 }], 'rb2605: only the bystander\'s offer is left in the book')
  t.equal(rb.final.execType, ExecType.CANCELLED, 'the rest of the FAK found nothing')
  const m = await probe.fak({ account: 'probe', instrument: 'm2605', side: Side.BUY, price: 3100, quantityLots: 10 })
  t.equal(m.filledLots, 0, 'm2605: nothing left in the book')
  t.equal((await finished(bystander, bystanderOffer.id)).execType, ExecType.FILL, 'the bystander\'s order was never touched')

  t.same(await gateway.supervisor.setKillSwitch({ kind: 'account', account: 'ks-killed' }, false), { before: true, after: false, cancelsSent: 0 })
  const after = await place(platform, { instrument: 'rb2605', side: Side.BUY, price: 3100, quantityLots: 1, timeInForce: TimeInForce.FAK })
  accepted(t, after.report, 'trading again once the switch is off')
  await finished(platform, after.id)
  await Promise.all([terminal.client.logout(), platform.client.logout(), bystander.client.logout()])
})

// The gateway sends a disconnecting session's cancels on its lane's link as
// it handles the close, and the exchange handles one link's messages in
// order. So once the close has been handled, a FAK sent through the same
// lane reaches the exchange after those cancels: what it finds is the book
// as the close left it.

t.test('cancel-on-disconnect: a session that asked for it has its orders cancelled at the exchange; one that did not keeps them', async (t) => {
  const withCod = await logOn(gateway, 'platform', 'ks-cod', { cancelOnDisconnect: true })
  const withoutCod = await logOn(gateway, 'platform', 'ks-keep')
  const prober = await logOn(gateway, 'platform', 'ks-prober')
  const codOrders: number[] = []
  for (const [price, quantityLots] of [[8000, 2], [8010, 1]]) {
    const { id, report } = await place(withCod, { instrument: 'i2605', side: Side.SELL, price: price!, quantityLots: quantityLots! })
    accepted(t, report, `cancel-on-disconnect session: offer at ${price}`)
    codOrders.push(id)
  }
  const kept = await place(withoutCod, { instrument: 'i2605', side: Side.SELL, price: 8050, quantityLots: 1 })
  accepted(t, kept.report, 'plain session: offer at 8050')
  t.equal(risk.counters('ks-cod').openOrders, 2)

  const closed = [sessionClosed(withCod), sessionClosed(withoutCod)]
  await Promise.all([withCod.client.close(), withoutCod.client.close()])
  await Promise.all(closed)

  const sweep = await place(prober, { instrument: 'i2605', side: Side.BUY, price: 8050, quantityLots: 10, timeInForce: TimeInForce.FAK })
  accepted(t, sweep.report, 'crossing FAK from another account')
  const sweepDone = await finished(prober, sweep.id)
  t.same(fillsOf(prober, sweep.id), [[8050, 1]], 'it trades only with the plain session\'s offer, which outlived its session')
  t.equal(sweepDone.cumulativeLots, 1)
  // The cancels' reports came back on the same link ahead of the FAK's, so
  // the shared risk state has already released them.
  nothingWorking(t, 'ks-cod')
  nothingWorking(t, 'ks-keep')
  t.match(risk.counters('ks-keep').instruments.find((i) => i.instrument === 'i2605'), { shortTodayLots: 1, longTodayLots: 0 }, 'the kept order traded after its session had gone')
  await prober.client.logout()
})

t.test('cancel-on-disconnect forced by the account\'s limit, set live after logon', async (t) => {
  const forced = await logOn(gateway, 'hft', 'ks-forced')
  const prober = await logOn(gateway, 'hft', 'ks-prober')
  const offer = await place(forced, { instrument: 'SR605', side: Side.SELL, price: 5700, quantityLots: 2 })
  accepted(t, offer.report, 'offer from a session that did not ask for cancel-on-disconnect')
  t.same(risk.setLimit({ kind: 'account', account: 'ks-forced' }, 'cancelOnDisconnect', 1), { before: undefined, after: 1 })

  const closed = sessionClosed(forced)
  await forced.client.close()
  await closed

  const sweep = await place(prober, { instrument: 'SR605', side: Side.BUY, price: 5700, quantityLots: 2, timeInForce: TimeInForce.FAK })
  accepted(t, sweep.report, 'crossing FAK from another account')
  const sweepDone = await finished(prober, sweep.id)
  t.equal(sweepDone.execType, ExecType.CANCELLED, 'finds nothing to trade with')
  t.equal(sweepDone.cumulativeLots, 0)
  nothingWorking(t, 'ks-forced')
  await prober.client.logout()
})
