// Recovery defects a kill -9 test under load found, each made to happen on
// purpose with real parts: the gateway as a process killed with SIGKILL and
// started again on the same run directory, the exchange simulator as its
// own process, real clients.
//
// - A cancel the gateway journaled but the exchange never got (a TCP proxy
//   between the link and the simulator loses it) is sent again at restart,
//   with cancel-on-disconnect and without: the exchange's next expected seq
//   says it was lost, as it says for new orders.
// - The daily burst monitor is rebuilt as it was counted live: each action
//   at its own recorded time, the lanes' actions in recorded-time order.
// - After a session that only logged on, the account's next session learns
//   that session's last seq (LogonReply.last_client_seq).
import t, { type Test } from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { DEFAULT_CONFIG } from '../config/defaults.js'
import { ExecType, Side, type LogonReply } from '../protocol/messages.js'
import { startExchangeSim } from './helpers/exchange-sim-process.js'
import { ExchangeProbe } from './helpers/exchange-probe.js'
import { testConfig } from './helpers/gateway.js'
import { startGatewayProcess, type GatewayProcess } from './helpers/gateway-process.js'
import { LinkProxy } from './helpers/link-proxy.js'
import { PASSWORD, TEST_IDENTITY, tradingAccount } from './helpers/trading.js'

const RB = 'rb2605'
/** Longer than the burst monitor's one-second window. */
const APART_MS = 1200

interface Counters {
  openOrders: number
  openLots: number
  reservedFen: number
  actionsToday: number
  hfBurstsToday: number
}

async function logOn (gw: GatewayProcess, lane: string, account: string, cancelOnDisconnect = false): Promise<{ client: GatehouseClient, logon: LogonReply }> {
  const client = await GatehouseClient.connect(gw.url(lane))
  const logon = await client.logon(account, PASSWORD, { ...TEST_IDENTITY, cancelOnDisconnect })
  if (!logon.ok) throw new Error(`logon of ${account} failed: ${logon.text}`)
  return { client, logon }
}

const counters = async (gw: GatewayProcess, account: string): Promise<Counters> => await gw.ops(`/accounts/${account}/counters`) as Counters

/** Writes the config and starts the gateway on it; every process started is killed at teardown. */
async function gatewayOn (t: Test, config: ReturnType<typeof testConfig>): Promise<{ start: () => Promise<GatewayProcess> }> {
  const configFile = join(t.testdirName, 'gateway.json')
  writeFileSync(configFile, JSON.stringify(config))
  const processes: GatewayProcess[] = []
  t.teardown(async () => { for (const p of processes) await p.kill9() })
  return {
    start: async () => {
      const gw = await startGatewayProcess(configFile)
      processes.push(gw)
      return gw
    },
  }
}

t.test('a cancel journaled but lost before the exchange got it is sent again at restart', async (t) => {
  const dir = t.testdir()
  const sim = await startExchangeSim()
  t.teardown(() => sim.stop())
  const proxy = await LinkProxy.start(sim.port)
  t.teardown(() => proxy.close())
  const probe = await ExchangeProbe.connect('127.0.0.1', sim.port, 'lost-cancel-probe')
  t.teardown(() => probe.close())
  const COD = 'LOST-C'
  const PLAIN = 'LOST-P'
  const BARRIER = 'LOST-B'
  const gateway = await gatewayOn(t, testConfig(proxy.port, {
    runDir: join(dir, 'run'),
    accounts: [...DEFAULT_CONFIG.accounts, tradingAccount(COD), tradingAccount(PLAIN), tradingAccount(BARRIER)],
    journal: { fsync: 'never' },
  }))
  let gw = await gateway.start()

  // Two accounts rest a bid each; one asked for cancel-on-disconnect.
  const cod = await logOn(gw, 'platform', COD, true)
  const plain = await logOn(gw, 'platform', PLAIN)
  cod.client.newOrder({ clientOrderId: 1, instrument: RB, side: Side.BUY, price: 3010, quantityLots: 2 })
  plain.client.newOrder({ clientOrderId: 1, instrument: RB, side: Side.BUY, price: 3011, quantityLots: 3 })
  t.equal((await cod.client.report(1)).execType, ExecType.ACK, `${COD} rests 2 lots @3010`)
  t.equal((await plain.client.report(1)).execType, ExecType.ACK, `${PLAIN} rests 3 lots @3011`)

  // Both cancel; the link loses both cancels after the gateway journaled them.
  proxy.dropCancels = true
  cod.client.cancel(1)
  const plainCancelSeq = plain.client.cancel(1)
  t.equal((await proxy.cancelsDropped(2)).length, 2, 'both cancels left the gateway and never reached the exchange')
  await gw.kill9()
  await cod.client.close()
  await plain.client.close()
  proxy.dropCancels = false

  gw = await gateway.start()
  // Barrier on the same link: what the gateway sent at link-up is answered
  // before this order's ACK.
  const barrier = await logOn(gw, 'platform', BARRIER)
  barrier.client.newOrder({ clientOrderId: 1, instrument: RB, side: Side.BUY, price: 3000, quantityLots: 1 })
  t.equal((await barrier.client.report(1)).execType, ExecType.ACK, 'a new order is acknowledged after the restart')

  t.match(await counters(gw, COD), { openOrders: 0, openLots: 0, reservedFen: 0 }, 'the cancel-on-disconnect account has nothing working')
  t.match(await counters(gw, PLAIN), { openOrders: 0, openLots: 0, reservedFen: 0 }, 'nor has the account without it: its own cancel was sent again')
  const again = await logOn(gw, 'platform', PLAIN)
  t.match(again.logon, { resumedOrders: 0, lastClientSeq: plainCancelSeq }, 'the client\'s cancel is its last seq, and there is no order left to take over')
  const sweep = await probe.fak({ account: 'PROBE', instrument: RB, side: Side.SELL, price: 3001, quantityLots: 10 })
  t.same(sweep.fills, [], 'the simulator\'s book holds neither bid')
  await again.client.close()
  await barrier.client.close()
})

t.test('the burst monitor after a restart: every action at its own time, both lanes\' in recorded-time order', async (t) => {
  const dir = t.testdir()
  const sim = await startExchangeSim()
  t.teardown(() => sim.stop())
  const TRADER = 'BURST-T'
  const gateway = await gatewayOn(t, testConfig(sim.port, {
    runDir: join(dir, 'run'),
    accounts: [...DEFAULT_CONFIG.accounts, tradingAccount(TRADER)],
    // Two actions within one second make a burst; one burst blocks the account.
    risk: { limits: { accounts: { [TRADER]: { hfBurstOrders: 2, hfBurstsWarn: 1, hfBurstsReporting: 1 } } } },
    journal: { fsync: 'never' },
  }))
  let gw = await gateway.start()
  const platform = await logOn(gw, 'platform', TRADER)
  const hft = await logOn(gw, 'hft', TRADER)
  // Actions more than a second apart, alternating between the lanes: no burst.
  platform.client.newOrder({ clientOrderId: 1, instrument: RB, side: Side.BUY, price: 3010, quantityLots: 1 })
  t.equal((await platform.client.report(1)).execType, ExecType.ACK, 'platform: an order')
  await delay(APART_MS)
  hft.client.newOrder({ clientOrderId: 1, instrument: RB, side: Side.BUY, price: 3011, quantityLots: 1 })
  t.equal((await hft.client.report(1)).execType, ExecType.ACK, 'hft: an order')
  await delay(APART_MS)
  platform.client.cancel(1)
  t.equal((await platform.client.report(1, ExecType.CANCELLED)).execType, ExecType.CANCELLED, 'platform: a cancel')
  const before = await counters(gw, TRADER)
  t.match(before, { actionsToday: 3, hfBurstsToday: 0 }, 'three actions, no burst')

  await gw.kill9()
  await platform.client.close()
  await hft.client.close()
  gw = await gateway.start()
  t.match(await counters(gw, TRADER), { actionsToday: 3, hfBurstsToday: 0, openOrders: 1 }, 'after kill -9: the same actions, still no burst')
  const again = await logOn(gw, 'platform', TRADER)
  again.client.newOrder({ clientOrderId: 2, instrument: RB, side: Side.BUY, price: 3009, quantityLots: 1 })
  t.equal((await again.client.report(2)).execType, ExecType.ACK, 'the account still trades (no HF_REPORT_REQUIRED)')
  await again.client.close()
})

t.test('after a session that only logged on, the next session learns its last seq', async (t) => {
  const dir = t.testdir()
  const sim = await startExchangeSim()
  t.teardown(() => sim.stop())
  const TRADER = 'SEQ-T'
  const gateway = await gatewayOn(t, testConfig(sim.port, {
    runDir: join(dir, 'run'),
    accounts: [...DEFAULT_CONFIG.accounts, tradingAccount(TRADER)],
    journal: { fsync: 'never' },
  }))
  let gw = await gateway.start()
  const first = await logOn(gw, 'platform', TRADER)
  const orderSeq = first.client.newOrder({ clientOrderId: 1, instrument: RB, side: Side.BUY, price: 3010, quantityLots: 1 })
  t.equal((await first.client.report(1)).execType, ExecType.ACK, 'the first session trades')
  await first.client.close()
  // Authenticate, TerminalInfo and Logon: seqs 1 to 3, below the first session's order.
  const logonOnly = await logOn(gw, 'platform', TRADER)
  t.equal(logonOnly.logon.lastClientSeq, orderSeq, 'the second session learns the first one\'s last seq')
  await logonOnly.client.close()
  const live = await logOn(gw, 'platform', TRADER)
  t.equal(live.logon.lastClientSeq, 3, 'live, the third session learns the second one\'s: its Logon, seq 3')
  await live.client.close()

  await gw.kill9()
  gw = await gateway.start()
  const afterRestart = await logOn(gw, 'platform', TRADER)
  t.equal(afterRestart.logon.lastClientSeq, 3, 'after kill -9, the next session learns the logon-only session\'s last seq too')
  await afterRestart.client.close()
})
