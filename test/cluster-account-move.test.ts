// Moving an account between two real instances (A in this process, B a
// gateway process so it can be killed), one NATS server, one simulator
// process: `gatehouse admin accounts move` halts the account on A, cancels
// its working order at the exchange, hands its position and daily counters
// to B, re-homes it in the KV directory, closes its session on A and
// resumes it on B. The client library then lands on B and trades there,
// a limit that depends on the handed-over position holds on B, and B keeps
// the position across a kill -9 and restart.
import t from 'tap'
import { once } from 'node:events'
import { connect } from '@nats-io/transport-node'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { handoverSubject } from '../cluster/account-handover.js'
import { ExecType, RejectReason, Side, TimeInForce } from '../protocol/messages.js'
import { Supervisor } from '../supervisor/supervisor.js'
import { startExchangeSim } from './helpers/exchange-sim-process.js'
import { testGatewayHandle } from './helpers/gateway.js'
import { startGatewayProcess, type GatewayProcess } from './helpers/gateway-process.js'
import { startTestNats } from './helpers/nats-server.js'
import { planCluster, writeConfigFile } from './helpers/cluster.js'
import { runCli } from './helpers/cli-run.js'
import { PASSWORD, TEST_IDENTITY, finished, logOn, place } from './helpers/trading.js'
import type { AccountCounters } from '../checks/risk-control.js'

t.setTimeout(400_000)

const MOVER = 'MOVER.1'
const OTHER = 'OTHER.1'
const INSTRUMENT = 'rb2605'

t.test('an account with a position and a working order moves from A to B', async (t) => {
  const nats = await startTestNats(t)
  const sim = await startExchangeSim()
  t.teardown(async () => sim.stop())
  const plan = await planCluster({
    natsUrl: nats.url,
    simPort: sim.port,
    instances: ['gw-a', 'gw-b'],
    accounts: [MOVER, OTHER],
    directory: { source: 'nats-kv', accounts: { [MOVER]: 'gw-a', [OTHER]: 'gw-a' } },
    // A limit that depends on the position: at most 3 long lots.
    overrides: { risk: { limits: { accounts: { [MOVER]: { maxLongLots: 3 } } } } },
  })
  const supervisor = new Supervisor(plan.configs['gw-a']!)
  await supervisor.start()
  t.teardown(async () => supervisor.stop())
  await supervisor.whenLinksUp()
  const a = testGatewayHandle(plan.configs['gw-a']!, supervisor, sim, async () => supervisor.stop())
  await supervisor.directorySync!.synced

  // A position of 2 long lots (filled against OTHER).
  const other = await logOn(a, 'terminal', OTHER)
  const mover = await logOn(a, 'terminal', MOVER)
  const resting = await place(other, { instrument: INSTRUMENT, side: Side.SELL, price: 3200, quantityLots: 2 })
  t.equal(resting.report.execType, ExecType.ACK)
  const bought = await place(mover, { instrument: INSTRUMENT, side: Side.BUY, price: 3200, quantityLots: 2, timeInForce: TimeInForce.FAK })
  t.equal((await finished(mover, bought.id)).execType, ExecType.FILL)

  // B is not running yet: the move stops at the handover, and the account
  // stays halted on A and homed there, its position untouched.
  const failed = await runCli(['admin', 'accounts', 'move', MOVER, '--to', 'gw-b', '--socket', a.config.admin.socketPath!, '--operator', 'ops-move'])
  t.equal(failed.code, 1)
  t.match(failed.stderr, /GH_ERR_MOVE_HANDOVER[\s\S]*steps done: halt \([^)]*\), drain/)
  t.equal(supervisor.risk.tradingState(MOVER), 'halted')
  t.equal(supervisor.directory!.ownerOf(MOVER), 'gw-a')
  t.equal(supervisor.risk.counters(MOVER).instruments.find((i) => i.instrument === INSTRUMENT)!.longTodayLots, 2)
  t.equal(mover.client.isClosed, false, 'its session stays')
  supervisor.admin.setTradingState('ops-move', MOVER, 'active')

  const bConfigFile = writeConfigFile(plan.configs['gw-b']!)
  let b: GatewayProcess = await startGatewayProcess(bConfigFile)
  t.teardown(async () => b.stop())

  // And a working order.
  const working = await place(mover, { instrument: INSTRUMENT, side: Side.BUY, price: 3100, quantityLots: 1 })
  t.equal(working.report.execType, ExecType.ACK, 'a working order at the exchange')
  const before = supervisor.risk.counters(MOVER)
  const held = before.instruments.find((i) => i.instrument === INSTRUMENT)!
  t.equal(held.longTodayLots, 2)
  t.equal(before.openOrders, 1)

  const moverClosed = once(mover.client, 'close')
  const moved = await runCli(['admin', 'accounts', 'move', MOVER, '--to', 'gw-b', '--socket', a.config.admin.socketPath!, '--operator', 'ops-move', '--json'])
  t.equal(moved.code, 0, moved.stderr)
  const { steps } = JSON.parse(moved.stdout) as { steps: Array<{ step: string, at: string, detail: Record<string, unknown> }> }
  t.same(steps.map((s) => s.step), ['halt', 'drain', 'handover', 're-home', 'disconnect', 'resume'], 'each step, in order, with its time')
  t.equal(steps[1]!.detail.cancelsSent, 1)
  t.comment(`move: ${Date.parse(steps.at(-1)!.at) - Date.parse(steps[0]!.at)} ms from halt to resume`)
  // What A handed over: the position and counters as they were after the drain.
  const handed = (steps[2]!.detail.positions as Array<{ instrument: string, today: Record<string, number> }>).find((p) => p.instrument === INSTRUMENT)!
  const handedDaily = steps[2]!.detail.daily as { tradedLotsToday: number, actionsToday: number, hfBurstsToday: number }

  // The working order was cancelled at the exchange before the session closed.
  t.equal((await mover.client.report(working.id, ExecType.CANCELLED)).execType, ExecType.CANCELLED)
  const [code, reason] = await moverClosed as [number, string]
  t.equal(code, 1008)
  t.match(reason, /now held by instance gw-b/)

  // B holds the same position and daily counters; A holds none and stays halted.
  const onB = await b.ops(`/accounts/${encodeURIComponent(MOVER)}/counters`) as AccountCounters
  const bHeld = onB.instruments.find((i) => i.instrument === INSTRUMENT)!
  t.equal(bHeld.longTodayLots, held.longTodayLots)
  t.equal(bHeld.longYesterdayLots, held.longYesterdayLots)
  t.equal(bHeld.tradedLotsToday, held.tradedLotsToday)
  t.equal(handed.today.longTodayLots, 2)
  for (const field of ['tradedLotsToday', 'cancelsToday', 'largeCancelsToday', 'selfTradesToday', 'openedLotsToday'] as const) {
    t.equal(bHeld[field], handed.today[field], `${field} equal on B`)
  }
  t.equal(onB.tradedLotsToday, before.tradedLotsToday)
  t.equal(onB.tradedLotsToday, handedDaily.tradedLotsToday)
  t.equal(onB.actionsToday, handedDaily.actionsToday)
  t.equal(onB.tradingState, 'active', 'resumed on B as it was on A')
  const onA = supervisor.risk.counters(MOVER)
  t.equal(onA.tradingState, 'halted')
  t.equal(onA.instruments.find((i) => i.instrument === INSTRUMENT)?.longTodayLots ?? 0, 0, 'handed away on A')
  t.equal(supervisor.directory!.ownerOf(MOVER), 'gw-b')

  // The same install asked again (a retried move whose answer was lost) is
  // answered ok and installs nothing twice; other figures are refused.
  const nc = await connect({ servers: nats.url })
  t.teardown(async () => nc.close())
  const install = { kind: 'install', account: MOVER, from: 'gw-a', operator: 'ops-move', positions: steps[2]!.detail.positions, daily: steps[2]!.detail.daily }
  const repeated = JSON.parse((await nc.request(handoverSubject('gw-b'), JSON.stringify(install), { timeout: 5000 })).string()) as { ok: boolean, detail?: { repeat?: boolean } }
  t.same(repeated, { ok: true, detail: { repeat: true } })
  const doubled = JSON.parse((await nc.request(handoverSubject('gw-b'), JSON.stringify({ ...install, daily: { ...handedDaily, account: MOVER, tradedLotsToday: handedDaily.tradedLotsToday + 1 } }), { timeout: 5000 })).string()) as { ok: boolean, message?: string }
  t.equal(doubled.ok, false)
  t.match(doubled.message, /already has positions, orders or counts/)
  const garbage = JSON.parse((await nc.request(handoverSubject('gw-b'), '{"kind":"install"', { timeout: 5000 })).string()) as { ok: boolean, code?: string }
  t.same([garbage.ok, garbage.code], [false, 'GH_ERR_MOVE_HANDOVER'], 'a malformed request is answered with a code')
  const afterRepeat = await b.ops(`/accounts/${encodeURIComponent(MOVER)}/counters`) as AccountCounters
  t.equal(afterRepeat.instruments.find((i) => i.instrument === INSTRUMENT)!.longTodayLots, 2, 'nothing installed twice')

  // The library reconnects through A's endpoint and lands on B.
  const again = await GatehouseClient.logonAt(a.url('terminal'), MOVER, PASSWORD, TEST_IDENTITY)
  t.ok(again.reply.ok, again.reply.text)
  t.equal(again.url, plan.endpoints['gw-b']!.terminal)
  const trader = { client: again.client, account: MOVER, lane: 'terminal' as const, logon: again.reply }
  // 2 held + 2 = 4 > maxLongLots 3: the handed-over position counts on B.
  const tooMany = await place(trader, { instrument: INSTRUMENT, side: Side.BUY, price: 3200, quantityLots: 2 })
  t.equal(tooMany.report.execType, ExecType.REJECTED)
  t.equal(tooMany.report.reason, RejectReason.POSITION_LIMIT_LONG)
  const one = await place(trader, { instrument: INSTRUMENT, side: Side.BUY, price: 3200, quantityLots: 1, timeInForce: TimeInForce.FAK })
  t.equal(one.report.execType, ExecType.ACK, 'trades on B')
  await finished(trader, one.id)
  await again.client.close()

  // kill -9 of B and a restart: its recovery rebuilds the handed-over position.
  await b.kill9()
  b = await startGatewayProcess(bConfigFile)
  const recovered = await b.ops(`/accounts/${encodeURIComponent(MOVER)}/counters`) as AccountCounters
  t.equal(recovered.instruments.find((i) => i.instrument === INSTRUMENT)!.longTodayLots, 2, 'the position survived the crash')
  t.equal(recovered.tradedLotsToday, onB.tradedLotsToday)

  // A move of an account this instance does not hold is refused, naming the holder.
  const refused = await runCli(['admin', 'accounts', 'move', MOVER, '--to', 'gw-b', '--socket', a.config.admin.socketPath!, '--operator', 'ops-move'])
  t.equal(refused.code, 1)
  t.match(refused.stderr, /GH_ERR_MOVE_REFUSED[\s\S]*held by instance gw-b/)
  await other.client.close()
})
