// Recovery when the lanes' journals end on different trading days. The
// lanes share one risk state with one trading day, so they must all
// recover the same day: the newest any lane journaled. A lane that has not
// traded since an earlier day (disabled yesterday, say) used to replay
// that day too: it rolled the shared day back, which wiped the daily
// counters the other lane had just recovered, and booked its old day's
// orders as working although they had ended with that day.
//
// Real parts: the supervisor with its lane threads, restarted on one run
// directory, and the exchange simulator as a process started with the
// trading day it announces at logon.
import t from 'tap'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Supervisor } from '../supervisor/supervisor.js'
import type { LaneName } from '../protocol/lanes.js'
import type { LaneToSupervisor } from '../lane/worker-contract.js'
import { ExecType, Side } from '../protocol/messages.js'
import { startExchangeSim, type SimProcess } from './helpers/exchange-sim-process.js'
import { testConfig, testGatewayHandle, type TestGateway } from './helpers/gateway.js'
import { cancel, logOn, place, tradingAccount } from './helpers/trading.js'

const OLD_DAY = '20261203'
const NEW_DAY = '20261204'
const YESTERDAY_ONLY = 'DAYS-HFT'
const TODAY = 'DAYS-PLATFORM'
const accounts = [YESTERDAY_ONLY, TODAY].map(tradingAccount)
const runDir = mkdtempSync(join(tmpdir(), 'gatehouse-days-'))

/** A gateway on the shared run directory, against `sim`, with the lanes given enabled. */
async function startGateway (sim: SimProcess, lanes: Partial<Record<LaneName, { enabled: boolean }>> = {}): Promise<TestGateway & { events: LaneToSupervisor[] }> {
  const config = testConfig(sim.port, { runDir, accounts, lanes })
  const supervisor = new Supervisor(config)
  const events: LaneToSupervisor[] = []
  supervisor.onLaneEvent = (event) => { events.push(event) }
  await supervisor.start()
  await supervisor.whenLinksUp()
  return { ...testGatewayHandle(config, supervisor, sim, () => supervisor.stop()), events }
}

t.test('lanes whose journals end on different trading days all recover the newest', async (t) => {
  // Yesterday: only the hft lane traded, and left an order resting.
  const yesterdaySim = await startExchangeSim(['--trading-day', OLD_DAY])
  const yesterday = await startGateway(yesterdaySim)
  const hft = await logOn(yesterday, 'hft', YESTERDAY_ONLY)
  const resting = await place(hft, { instrument: 'rb2605', side: Side.BUY, price: 3100, quantityLots: 1 })
  t.equal(resting.report.execType, ExecType.ACK, 'yesterday: an order rests')
  await hft.client.logout()
  await yesterday.stop()
  await yesterdaySim.stop()

  // Today: a new exchange session; the hft lane is off, the platform lane trades.
  const todaySim = await startExchangeSim(['--trading-day', NEW_DAY])
  t.teardown(() => todaySim.stop())
  const today = await startGateway(todaySim, { hft: { enabled: false } })
  const platform = await logOn(today, 'platform', TODAY)
  for (const price of [3100, 3101]) {
    const { id, report } = await place(platform, { instrument: 'rb2605', side: Side.BUY, price, quantityLots: 1 })
    t.equal(report.execType, ExecType.ACK)
    t.equal((await cancel(platform, id)).execType, ExecType.CANCELLED)
  }
  const before = today.supervisor.risk.counters(TODAY)
  t.equal(before.actionsToday, 4, 'today: two orders and two cancels')
  await platform.client.logout()
  await today.stop()

  // Restart with both lanes: the hft lane's journal ends yesterday.
  const restarted = await startGateway(todaySim)
  t.teardown(() => restarted.stop())
  const after = restarted.supervisor.risk.counters(TODAY)
  t.equal(after.actionsToday, before.actionsToday, 'today\'s daily counters are what they were before the restart')
  t.equal(after.instruments.find((i) => i.instrument === 'rb2605')?.cancelsToday, 2, 'and so is the cancel monitor')
  const old = restarted.supervisor.risk.counters(YESTERDAY_ONLY)
  t.equal(old.openOrders, 0, 'yesterday\'s order is not booked as working today')
  t.equal(old.reservedFen, 0, 'nor does it hold funds')
  const hftReport = restarted.events.find((e): e is Extract<LaneToSupervisor, { type: 'recovered' }> => e.type === 'recovered' && e.lane === 'hft')
  t.match(hftReport?.problems, [new RegExp(`ends on trading day ${OLD_DAY}, before the gateway's ${NEW_DAY}.*nothing recovered`)], 'the hft lane says why it recovered nothing')
  const platformReport = restarted.events.find((e): e is Extract<LaneToSupervisor, { type: 'recovered' }> => e.type === 'recovered' && e.lane === 'platform')
  t.equal(platformReport?.tradingDay, NEW_DAY, 'the platform lane recovered today')
})
