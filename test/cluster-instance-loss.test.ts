// Losing one instance of a cluster: A and B are gateway processes sharing
// one NATS server and one simulator process; A is killed with kill -9. B
// keeps trading its own accounts (orders fill) with no stall, and a client
// of one of A's accounts gets a clear error: it cannot connect to A, and B
// redirects it to A rather than trading an account whose risk state it
// does not hold.
import t from 'tap'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { ExecType, RejectReason, Side, TimeInForce } from '../protocol/messages.js'
import { startExchangeSim } from './helpers/exchange-sim-process.js'
import { startGatewayProcess } from './helpers/gateway-process.js'
import { startTestNats } from './helpers/nats-server.js'
import { planCluster, writeConfigFile } from './helpers/cluster.js'
import { PASSWORD, TEST_IDENTITY, finished, place, type Trader } from './helpers/trading.js'

t.setTimeout(300_000)

const ON_A = 'ON-A.1'
const ON_B = 'ON-B.1'
const B_MAKER = 'ON-B.2'
const INSTRUMENT = 'rb2605'

async function traderAt (url: string, account: string): Promise<Trader> {
  const { client, reply } = await GatehouseClient.logonAt(url, account, PASSWORD, TEST_IDENTITY)
  if (!reply.ok) throw new Error(`${account} could not log on at ${url}: ${reply.text}`)
  return { client, account, lane: 'terminal', logon: reply }
}

t.test('kill -9 of instance A: B keeps trading its own accounts, A\'s accounts get a clear error', async (t) => {
  const nats = await startTestNats(t)
  const sim = await startExchangeSim()
  t.teardown(async () => sim.stop())
  const plan = await planCluster({
    natsUrl: nats.url,
    simPort: sim.port,
    instances: ['gw-a', 'gw-b'],
    accounts: [ON_A, ON_B, B_MAKER],
    directory: { source: 'nats-kv', accounts: { [ON_A]: 'gw-a', [ON_B]: 'gw-b', [B_MAKER]: 'gw-b' } },
  })
  const [a, b] = await Promise.all([startGatewayProcess(writeConfigFile(plan.configs['gw-a']!)), startGatewayProcess(writeConfigFile(plan.configs['gw-b']!))])
  t.teardown(async () => { await Promise.all([a!.stop(), b!.stop()]) })

  const onA = await traderAt(a!.url('terminal'), ON_A)
  const maker = await traderAt(b!.url('terminal'), B_MAKER)
  const taker = await traderAt(a!.url('terminal'), ON_B)
  t.equal(taker.client.isClosed, false)

  const aGone = new Promise<void>((resolve) => onA.client.once('close', () => { resolve() }))
  await a!.kill9()
  await aGone
  t.pass('A\'s client saw its connection end')

  // B trades its own accounts: a resting sell and a crossing buy fill.
  const startedMs = Date.now()
  const resting = await place(maker, { instrument: INSTRUMENT, side: Side.SELL, price: 3200, quantityLots: 1 })
  t.equal(resting.report.execType, ExecType.ACK)
  const buy = await place(taker, { instrument: INSTRUMENT, side: Side.BUY, price: 3200, quantityLots: 1, timeInForce: TimeInForce.FAK })
  t.equal((await finished(taker, buy.id)).execType, ExecType.FILL, 'B\'s orders fill after A died')
  t.equal((await finished(maker, resting.id)).execType, ExecType.FILL)
  t.comment(`B: two orders placed and filled in ${Date.now() - startedMs} ms after A's kill -9`)
  const health = await b!.ops('/healthz') as { status: string }
  t.equal(health.status, 'ok', 'B is healthy')

  // A's account: A does not answer, and B sends it to A rather than trading it.
  await t.rejects(GatehouseClient.logonAt(a!.url('terminal'), ON_A, PASSWORD, TEST_IDENTITY, { handshakeTimeoutMs: 2000 }), { code: 'ECONNREFUSED' })
  const viaB = await GatehouseClient.logonAt(b!.url('terminal'), ON_A, PASSWORD, { ...TEST_IDENTITY, followRedirects: false })
  t.equal(viaB.reply.reason, RejectReason.WRONG_INSTANCE, 'B never trades an account whose risk state is on A')
  t.equal(viaB.reply.redirectEndpoint, plan.endpoints['gw-a']!.terminal)
  await viaB.client.close()
  await t.rejects(GatehouseClient.logonAt(b!.url('terminal'), ON_A, PASSWORD, TEST_IDENTITY, { handshakeTimeoutMs: 2000 }), { code: 'ECONNREFUSED' }, 'following the redirect ends in a connection error the client can report')
  await Promise.all([maker.client.logout(), taker.client.logout()])
})
