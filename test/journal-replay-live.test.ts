// `gatehouse journal replay` against what a live gateway really did: a real
// gateway (supervisor and lane threads) trades through the exchange
// simulator process a scripted day with fills, cancels, risk refusals, an
// exchange reject, a self-match, session takeovers (after a logout and
// after a dropped connection and after a restart), cancel-on-disconnect,
// the session throttle, a lost exchange link with an order lost with it
// (and a cancel refused while it is down),
// and a restart that recovers the day from the journal. Replayed from its
// journal with the same config and no proposed change, every decision must
// come out as it did live and every account must end with the positions
// and counters the gateway's own shared risk state held. A replay that
// drifts from the live order lifecycle fails here.
import t, { type Test } from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AccountCounters } from '../checks/risk-control.js'
import { journalDir } from '../config/config.js'
import { DEFAULT_CONFIG } from '../config/defaults.js'
import type { LaneToSupervisor } from '../lane/worker-contract.js'
import { LANE_NAMES, type LaneName } from '../protocol/lanes.js'
import { ExecType, RejectReason, Side, TimeInForce, wireInt } from '../protocol/messages.js'
import { startExchangeSimProcess, type ExchangeSimProcess } from '../supervisor/exchange-sim-process.js'
import { runReplayCommand, type ReplayResult } from '../tools/journal/replay-command.js'
import { Supervisor } from '../supervisor/supervisor.js'
import { startTestGateway, testGatewayHandle } from './helpers/gateway.js'
import { cancel, finished, logOn, place, send, tradingAccount, type Trader } from './helpers/trading.js'

const A = 'REPLAY-A'
const B = 'REPLAY-B'
const C = 'REPLAY-C'
const RB = 'rb2605'
const AU = 'au2606'
/** A's order-size limit: one of its orders is refused by it. */
const A_MAX_ORDER_LOTS = 5
/** C's session throttle: one order and a burst of THROTTLE_BURST orders, the burst's last three refused. */
const C_MESSAGES_PER_SECOND = 4
const THROTTLE_BURST = 6
/**
 * The first simulator's faults, counted over the new orders it receives
 * (the script below sends them one at a time, so the count is exact): the
 * 6th is rejected by the exchange, the 8th dropped without a report (it
 * is then lost with the link).
 */
const SIM_REJECT_EVERY = 6
const SIM_DROP_EVERY = 8

const dir = t.testdir({
  'same.json': '{}',
  'a-max-2.json': JSON.stringify({ risk: { limits: { accounts: { [A]: { maxOrderLots: 2 } } } } }),
})
const gateway = await startTestGateway({
  simArgs: ['--fault-reject-every', String(SIM_REJECT_EVERY), '--fault-drop-every', String(SIM_DROP_EVERY)],
  overrides: {
    accounts: [...DEFAULT_CONFIG.accounts, tradingAccount(A), tradingAccount(B), tradingAccount(C)],
    risk: {
      limits: {
        accounts: {
          [A]: { maxOrderLots: A_MAX_ORDER_LOTS },
          [C]: { sessionMessagesPerSecond: C_MESSAGES_PER_SECOND },
        },
      },
    },
    journal: { fsync: 'never' },
  },
})
let secondSim: ExchangeSimProcess | null = null
/** The running gateway: the first run, then the one restarted on the same run directory; null once stopped. */
let running: Supervisor | null = gateway.supervisor
t.teardown(async () => {
  await running?.stop()
  await gateway.sim.stop()
  await secondSim?.stop()
})

/** Resolves once every lane has reported its link down. */
function linksDown (): Promise<void> {
  const down = new Set<LaneName>()
  return new Promise((resolve) => {
    const previous = gateway.supervisor.onLaneEvent
    gateway.supervisor.onLaneEvent = (event: LaneToSupervisor) => {
      previous(event)
      if (event.type === 'link-state' && event.state === 'down') down.add(event.lane as LaneName)
      if (down.size === LANE_NAMES.length) {
        gateway.supervisor.onLaneEvent = previous
        resolve()
      }
    }
  })
}

/** A round trip to the lane: everything the session sent before it has been handled, and its link sends flushed. */
async function roundTrip (trader: Trader, testId: number): Promise<void> {
  trader.client.send({ heartbeat: { testId } })
  await trader.client.next((m) => m.body === 'heartbeat' && wireInt(m.heartbeat!.testId) === testId)
}

const gfd = (instrument: string, side: number, lots: number, price: number) => ({ instrument, side, quantityLots: lots, price, timeInForce: TimeInForce.GFD })

interface Live {
  counters: AccountCounters[]
}

async function tradeTheDay (): Promise<Live> {
  // ---- the first simulator: n counts the new orders it has received ----
  const a1 = await logOn(gateway, 'platform', A)
  const b1 = await logOn(gateway, 'hft', B)
  // n=1: A buys 2, filled by B's two sells (n=2, n=3) across lanes.
  const big = await place(a1, gfd(RB, Side.BUY, 2, 3200))
  t.equal(big.report.execType, ExecType.ACK, 'A\'s buy of 2 is working')
  const sell1 = await place(b1, gfd(RB, Side.SELL, 1, 3200))
  t.equal((await finished(b1, sell1.id)).execType, ExecType.FILL, 'B\'s first sell fills')
  t.equal((await a1.client.report(big.id, ExecType.PARTIAL_FILL)).lastLots, 1, 'A is partly filled')
  const sell2 = await place(b1, gfd(RB, Side.SELL, 1, 3200))
  t.equal((await finished(b1, sell2.id)).execType, ExecType.FILL)
  t.equal((await finished(a1, big.id)).execType, ExecType.FILL, 'A is filled')
  // n=4: placed and cancelled.
  const cancelled = await place(a1, gfd(RB, Side.BUY, 1, 3100))
  t.equal(cancelled.report.execType, ExecType.ACK)
  t.equal((await cancel(a1, cancelled.id)).execType, ExecType.CANCELLED)
  // Refused by A's order-size limit: never reaches the exchange.
  const tooBig = await place(a1, gfd(RB, Side.BUY, A_MAX_ORDER_LOTS * 2, 3100))
  t.match(tooBig.report, { execType: ExecType.REJECTED, reason: RejectReason.QUANTITY_ABOVE_MAX, limit: A_MAX_ORDER_LOTS, observed: A_MAX_ORDER_LOTS * 2 })
  // n=5: rests, and is taken over by A's next session below.
  const resting = await place(a1, gfd(RB, Side.BUY, 1, 3101))
  t.equal(resting.report.execType, ExecType.ACK)
  // Would trade with A's own resting buy: refused before the exchange (reject-incoming).
  const selfMatch = await place(a1, gfd(RB, Side.SELL, 1, 3101))
  t.match(selfMatch.report, { execType: ExecType.REJECTED, reason: RejectReason.SELF_MATCH_PREVENTED })
  // n=6: the exchange rejects it.
  const exchangeRejected = await place(a1, gfd(RB, Side.BUY, 1, 3000))
  t.match(exchangeRejected.report, { execType: ExecType.REJECTED, reason: RejectReason.EXCHANGE_REJECTED })

  // A's next session takes the resting order over and cancels it.
  await a1.client.logout()
  const a2 = await logOn(gateway, 'platform', A)
  t.equal(a2.logon.resumedOrders, 1, 'A\'s next session takes the resting order over')
  t.equal((await cancel(a2, resting.id)).execType, ExecType.CANCELLED, 'and cancels it by its client_order_id')

  // n=7: B's session with cancel-on-disconnect leaves an order working;
  // its close cancels it, the CANCELLED reaching no session (or the next
  // one, if it took the order over first).
  await b1.client.logout()
  const b2 = await logOn(gateway, 'hft', B, { cancelOnDisconnect: true })
  const codOrder = await place(b2, gfd(RB, Side.BUY, 1, 3050))
  t.equal(codOrder.report.execType, ExecType.ACK)
  await b2.client.logout()
  const b3 = await logOn(gateway, 'hft', B)
  if (b3.logon.resumedOrders === 1) t.equal((await finished(b3, codOrder.id)).execType, ExecType.CANCELLED)
  else t.equal(b3.logon.resumedOrders, 0, 'the close cancelled B\'s order before the next logon')

  // n=8: dropped by the exchange, no report; then the link is lost.
  const dropped = send(a2, gfd(RB, Side.BUY, 1, 3060))
  await roundTrip(a2, 8)
  const down = linksDown()
  await gateway.sim.stop()
  await down
  const whileDown = await place(a2, gfd(RB, Side.BUY, 1, 3070))
  t.match(whileDown.report, { execType: ExecType.REJECTED, reason: RejectReason.EXCHANGE_UNAVAILABLE }, 'refused while the link is down')
  const cancelWhileDown = a2.client.cancel(dropped)
  t.match(await a2.client.reject(cancelWhileDown), { reason: RejectReason.EXCHANGE_UNAVAILABLE }, 'a cancel is not sent while the link is down')

  // ---- the second simulator: a new process on the same port, empty books ----
  secondSim = await startExchangeSimProcess(['--host', '127.0.0.1', '--port', String(gateway.sim.port)])
  await gateway.supervisor.whenLinksUp()
  t.match(await a2.client.report(dropped, ExecType.REJECTED), { reason: RejectReason.EXCHANGE_UNAVAILABLE, text: /before the order reached the exchange/ },
    'the dropped order was lost with the link: released at link-up')

  // C's session throttle: its working order and the first three of the
  // burst fill the window, the rest are refused; the three admitted, FAK
  // against an empty book, are cancelled by the exchange.
  const c1 = await logOn(gateway, 'platform', C)
  const cResting = await place(c1, gfd(RB, Side.BUY, 1, 3010))
  t.equal(cResting.report.execType, ExecType.ACK)
  const burst: number[] = []
  for (let i = 0; i < THROTTLE_BURST; i++) burst.push(send(c1, { instrument: RB, side: Side.BUY, quantityLots: 1, price: 3000, timeInForce: TimeInForce.FAK }))
  const outcomes = await Promise.all(burst.map(async (id) => await finished(c1, id)))
  t.same(outcomes.map((r) => r.reason === RejectReason.THROTTLED_SESSION), [false, false, false, true, true, true], 'the session throttle refuses all past the 4th message')
  // C's connection drops without a logout (nothing journaled says so): its
  // next session takes the working order over and cancels it.
  await c1.client.close()
  const c2 = await logOn(gateway, 'platform', C)
  t.equal(c2.logon.resumedOrders, 1, 'C\'s next session takes over the order of the dropped one')
  t.equal((await cancel(c2, cResting.id)).execType, ExecType.CANCELLED)

  // A buys 3, B sells 2 of them FAK: A keeps 1 working.
  const working = await place(a2, gfd(RB, Side.BUY, 3, 3300))
  t.equal(working.report.execType, ExecType.ACK)
  const fak = await place(b3, { instrument: RB, side: Side.SELL, quantityLots: 2, price: 3300, timeInForce: TimeInForce.FAK })
  t.match(await finished(b3, fak.id), { execType: ExecType.FILL, cumulativeLots: 2 })
  t.match(await a2.client.report(working.id, ExecType.PARTIAL_FILL), { cumulativeLots: 2, leavesLots: 1 })
  // B keeps a gold order working on the hft lane.
  const gold = await place(b3, gfd(AU, Side.BUY, 1, 87900))
  t.equal(gold.report.execType, ExecType.ACK)

  // ---- a restart: each lane recovers the day from its journal ----
  // Its sessions are cut without a logout; A's next session takes the
  // recovered order over and cancels it. B's gold order stays working.
  await gateway.supervisor.stop()
  running = null
  const restarted = new Supervisor(gateway.config)
  running = restarted
  await restarted.start()
  await restarted.whenLinksUp()
  const again = testGatewayHandle(gateway.config, restarted, secondSim, async () => { await restarted.stop() })
  const a3 = await logOn(again, 'platform', A)
  t.equal(a3.logon.resumedOrders, 1, 'after the restart A\'s next session takes over the recovered order')
  t.equal((await cancel(a3, working.id)).execType, ExecType.CANCELLED)

  // Everything answered: the shared risk state is the day's end.
  const counters: AccountCounters[] = []
  for (const account of [A, B, C]) counters.push(await (await again.ops(`/accounts/${account}/counters`)).json() as AccountCounters)
  await a3.client.close()
  await restarted.stop()
  running = null
  return { counters }
}

/** Positions in a fixed order: which slot an instrument got is not part of the state compared. */
function comparable (counters: AccountCounters): AccountCounters {
  return { ...counters, instruments: [...counters.instruments].sort((x, y) => x.instrument.localeCompare(y.instrument)) }
}

/** `journal replay` on the day's journal with the gateway's config and `limits`, parsed; fails the test unless it exits 0. */
function replayDay (t: Test, limits: string): ReplayResult {
  const configFile = join(dir, 'gateway.json')
  writeFileSync(configFile, JSON.stringify(gateway.config))
  const out: string[] = []
  const err: string[] = []
  const code = runReplayCommand([journalDir(gateway.config), '--config', configFile, '--limits', join(dir, limits), '--json'],
    { out: (text) => out.push(text), err: (text) => err.push(text) })
  t.equal(code, 0, `replay exits 0 (${err.join('\n')})`)
  return JSON.parse(out.join('\n')) as ReplayResult
}

let live: Live | null = null

t.test('a replay with the same limits makes every decision the live gateway made and ends in its state', async (t) => {
  live = await tradeTheDay()
  t.match(live.counters[1], { openOrders: 1, openLots: 1 }, 'live: B\'s gold order is working at the end')
  const r = replayDay(t, 'same.json')

  t.same(r.wouldReject, [], 'no order the gateway passed is refused by the replay')
  t.same(r.wouldPass, [], 'no order the gateway refused passes the replay')
  t.same(r.byReason, {})
  t.equal(r.ordersReplayed, 21, 'every new order of a logged-on session was decided')
  t.equal(r.originallyPassed, 15)
  t.same(r.originallyRejectedByStage, { risk: 2, link: 1, throttle: 3 }, 'size limit and self-match, link down, session throttle')
  t.same(r.cancels, { checked: 5, wouldThrottle: 0 }, 'the client cancels, those of taken-over orders and the one the link was down for included')
  t.same(r.unconfiguredAccounts, [])
  t.match(r.notes.join('\n'), /lost with the exchange link before the exchange had it, released as the lane did: 1 order/)
  t.match(r.notes.join('\n'), /closed without a logout, .*: 1 session$/m, 'C\'s dropped connection (those the restart cut close at the run\'s end)')

  const replayed = new Map(r.accountsAtEnd.map((c) => [c.account, comparable(c)]))
  for (const counters of live.counters) {
    t.same(replayed.get(counters.account), comparable(counters), `${counters.account}: positions and counters as the live gateway ended the day`)
  }
})

t.test('the same day under a tighter limit: the one order past it, its fill left out and its cancel unknown', async (t) => {
  t.ok(live, 'the day was traded')
  const r = replayDay(t, 'a-max-2.json')
  t.same(r.wouldReject.map((d) => `${d.account}/${d.lots}@${d.price}: ${d.replay.reason} limit ${d.replay.limit} observed ${d.replay.observed}`),
    [`${A}/3@3300: QUANTITY_ABOVE_MAX limit 2 observed 3`], 'only A\'s buy of 3 is past maxOrderLots 2')
  t.match(r.wouldReject[0], { lane: 'platform', original: { passed: true }, replay: { stage: 'risk' }, suppressedFills: { fills: 1, lots: 2 } })
  t.same(r.suppressedFills, { orders: 1, fills: 1, lots: 2 })
  t.same(r.wouldPass, [], 'A\'s order of 10 is refused again')
  t.same(r.cancels, { checked: 4, wouldThrottle: 0 }, 'the cancel of the refused order (after the restart) names no working order')
  const a = r.accountsAtEnd.find((c) => c.account === A)
  t.match(a, { openOrders: 0, openLots: 0 }, 'A ends with nothing working')
})
