// Accounts partitioned across two real gateway instances (one NATS server,
// one simulator process): a logon at the wrong instance is refused with
// WRONG_INSTANCE naming the right endpoint, right after the AuthCode proof
// and before any password check; the client library follows it and trades;
// a change of the NATS KV directory reaches both instances and closes the
// sessions of an account moved away; with the cluster off nothing changes.
import t from 'tap'
import { once } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import WebSocket from 'ws'
import { WebSocketServer } from 'ws'
import { Kvm } from '@nats-io/kv'
import { connect } from '@nats-io/transport-node'
import { GatehouseClient, MAX_REDIRECTS } from '../client/gatehouse-client.js'
import { decodeClientEnvelope, encodeClientEnvelope } from '../protocol/client-codec.js'
import { computeAuthProof } from '../protocol/auth-proof.js'
import { ExecType, RejectReason, Side, TimeInForce, type ClientEnvelope } from '../protocol/messages.js'
import { Supervisor } from '../supervisor/supervisor.js'
import { directoryKey } from '../cluster/account-directory.js'
import { startExchangeSim, type SimProcess } from './helpers/exchange-sim-process.js'
import { startTestGateway, testGatewayHandle, type TestGateway } from './helpers/gateway.js'
import { restartNats, startTestNats } from './helpers/nats-server.js'
import { planCluster, type ClusterOptions } from './helpers/cluster.js'
import { PASSWORD, TEST_IDENTITY, place, logOn } from './helpers/trading.js'
import type { GatewayConfig } from '../config/config.js'

interface Cluster { sim: SimProcess, a: TestGateway, b: TestGateway, endpoints: Record<string, Record<string, string>> }

async function startCluster (t: { teardown: (fn: () => unknown) => void }, options: Omit<ClusterOptions, 'simPort' | 'instances'>, edit: (configs: Record<string, GatewayConfig>) => void = () => {}): Promise<Cluster> {
  const sim = await startExchangeSim()
  t.teardown(async () => sim.stop())
  const plan = await planCluster({ ...options, simPort: sim.port, instances: ['gw-a', 'gw-b'] })
  edit(plan.configs)
  const start = async (id: string): Promise<TestGateway> => {
    const supervisor = new Supervisor(plan.configs[id]!)
    await supervisor.start()
    t.teardown(async () => supervisor.stop())
    await supervisor.whenLinksUp()
    return testGatewayHandle(plan.configs[id]!, supervisor, sim, async () => supervisor.stop())
  }
  const [a, b] = await Promise.all([start('gw-a'), start('gw-b')])
  return { sim, a: a!, b: b!, endpoints: plan.endpoints }
}

/** A client that speaks the protobuf frames itself, as an outside developer's would from the .proto. */
async function rawAuthenticate (url: string, account: string, authCode = TEST_IDENTITY.authCode): Promise<{ reply: ClientEnvelope, socket: WebSocket }> {
  const socket = new WebSocket(url, { perMessageDeflate: false })
  const messages: ClientEnvelope[] = []
  const waiting: Array<() => void> = []
  socket.on('message', (data: Buffer) => { messages.push(decodeClientEnvelope(data)); waiting.splice(0).forEach((wake) => { wake() }) })
  const nextOf = async (body: string): Promise<ClientEnvelope> => {
    for (;;) {
      const found = messages.find((m) => m.body === body)
      if (found !== undefined) return found
      await new Promise<void>((resolve) => waiting.push(resolve))
    }
  }
  const challenge = (await nextOf('authChallenge')).authChallenge!
  const proof = computeAuthProof(authCode, challenge.nonce!, TEST_IDENTITY.appId, account, challenge.lane!)
  socket.send(encodeClientEnvelope({ seq: 1, authenticate: { appId: TEST_IDENTITY.appId, account, proof } }))
  return { reply: await nextOf('authenticateReply'), socket }
}

function stepCount (gateway: TestGateway, step: string, result: string): number {
  return gateway.supervisor.access.logonStepCounts().filter((c) => c.step === step && c.result === result).reduce((n, c) => n + c.count, 0)
}

const ACCOUNTS = ['ACC.A', 'ACC.B', 'ACC.LOOP']

t.setTimeout(300_000)

t.test('config directory: the wrong instance redirects, costs no password check, and the library follows', async (t) => {
  const nats = await startTestNats(t)
  const { a, b, endpoints } = await startCluster(t, { natsUrl: nats.url, accounts: ACCOUNTS, directory: { source: 'config', accounts: { 'ACC.A': 'gw-a', 'ACC.B': 'gw-b', 'ACC.LOOP': 'gw-b' } } }, (configs) => {
    // Instances that disagree: each says the other holds ACC.LOOP.
    configs['gw-b']!.cluster.directory.accounts['ACC.LOOP'] = 'gw-a'
  })

  // A wrong proof is refused as a wrong proof: the redirect comes only after the software is proven.
  const forged = await rawAuthenticate(a.url('terminal'), 'ACC.B', 'not-the-auth-code')
  t.equal(forged.reply.authenticateReply!.reason, RejectReason.AUTH_FAILED)
  t.equal(forged.reply.authenticateReply!.redirectEndpoint, '')
  forged.socket.close()

  const raw = await rawAuthenticate(a.url('terminal'), 'ACC.B')
  const reply = raw.reply.authenticateReply!
  t.equal(reply.ok, false)
  t.equal(reply.reason, RejectReason.WRONG_INSTANCE)
  t.equal(reply.redirectEndpoint, endpoints['gw-b']!.terminal, 'the same lane on the instance that holds the account')
  t.equal(reply.redirectInstance, 'gw-b')
  raw.socket.close()
  t.equal(stepCount(a, 'authenticate', 'WRONG_INSTANCE'), 1, 'journaled and counted as a logon step')
  t.equal(stepCount(a, 'logon', 'ok') + stepCount(a, 'logon', 'INVALID_CREDENTIALS'), 0, 'no password was checked')
  t.equal(a.supervisor.access.pendingHashCount(), 0)

  // The hft lane redirects to the hft lane.
  const hft = await rawAuthenticate(a.url('hft'), 'ACC.B')
  t.equal(hft.reply.authenticateReply!.redirectEndpoint, endpoints['gw-b']!.hft)
  hft.socket.close()

  // An account held here logs on as before.
  const home = await logOn(a, 'terminal', 'ACC.A')
  t.ok(home.logon.ok)
  await home.client.logout()

  // The library follows the redirect and trades at the right instance.
  const followed = await GatehouseClient.logonAt(a.url('terminal'), 'ACC.B', PASSWORD, TEST_IDENTITY)
  t.ok(followed.reply.ok, followed.reply.text)
  t.equal(followed.url, endpoints['gw-b']!.terminal)
  t.same(followed.redirects, [endpoints['gw-b']!.terminal])
  const trader = { client: followed.client, account: 'ACC.B', lane: 'terminal' as const, logon: followed.reply }
  const placed = await place(trader, { instrument: 'rb2605', side: Side.BUY, price: 3200, quantityLots: 1, timeInForce: TimeInForce.FAK })
  t.equal(placed.report.execType, ExecType.ACK, `the order reached the exchange through gw-b (${placed.report.reason} ${placed.report.text})`)
  await followed.client.logout()

  // followRedirects: false hands the reply back.
  const stayed = await GatehouseClient.logonAt(a.url('terminal'), 'ACC.B', PASSWORD, { ...TEST_IDENTITY, followRedirects: false })
  t.equal(stayed.reply.reason, RejectReason.WRONG_INSTANCE)
  t.equal(stayed.reply.redirectEndpoint, endpoints['gw-b']!.terminal)
  t.same(stayed.redirects, [])
  await stayed.client.close()

  // Instances that disagree make a loop, which the library ends.
  await t.rejects(GatehouseClient.logonAt(a.url('terminal'), 'ACC.LOOP', PASSWORD, TEST_IDENTITY), { code: 'GH_ERR_CLIENT_REDIRECT_LOOP' })
  t.equal(stepCount(a, 'authenticate', 'WRONG_INSTANCE') + stepCount(b, 'authenticate', 'WRONG_INSTANCE'), 1 + 1 + 1 + 1 + (MAX_REDIRECTS + 1), 'each hop was one refused Authenticate')
})

t.test('the library follows only ws:// and wss:// endpoints', async (t) => {
  // A hostile or misconfigured peer at the edge, not a gateway.
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
  await once(server, 'listening')
  t.teardown(() => { server.close() })
  server.on('connection', (socket) => {
    socket.send(encodeClientEnvelope({ seq: 1, authChallenge: { nonce: Buffer.alloc(32), expiresInMs: 5000, lane: 'terminal' } }))
    socket.once('message', () => {
      socket.send(encodeClientEnvelope({ seq: 2, authenticateReply: { ok: false, reason: RejectReason.WRONG_INSTANCE, text: 'go', redirectEndpoint: 'http://127.0.0.1:1/elsewhere', redirectInstance: 'x' } }))
    })
  })
  const url = `ws://127.0.0.1:${(server.address() as { port: number }).port}`
  await t.rejects(GatehouseClient.logonAt(url, 'ACC.B', PASSWORD, TEST_IDENTITY), { code: 'GH_ERR_CLIENT_REDIRECT_ENDPOINT' })
})

t.test('nats-kv directory: a KV change reaches both instances, and the moved account\'s session is closed', async (t) => {
  const nats = await startTestNats(t)
  const { a, b, endpoints } = await startCluster(t, { natsUrl: nats.url, accounts: ACCOUNTS, directory: { source: 'nats-kv', accounts: { 'ACC.A': 'gw-a', 'ACC.B': 'gw-b' } } })
  await Promise.all([a.supervisor.directorySync!.synced, b.supervisor.directorySync!.synced])

  // Seeded from the config, keys encoded (account IDs hold dots).
  const nc = await connect({ servers: nats.url })
  t.teardown(async () => nc.close())
  const kv = await new Kvm(nc).open('gatehouse-accounts')
  t.equal((await kv.get(directoryKey('ACC.A')))?.string(), 'gw-a')
  t.ok((await kv.status()).history >= 5, 'history kept so moves are auditable')

  const session = await logOn(a, 'terminal', 'ACC.A')
  const closed = once(session.client, 'close')
  const seen = Promise.all([a, b].map(async (gw) => new Promise<void>((resolve) => {
    gw.supervisor.directory!.onChange((change) => { if (change.account === 'ACC.A' && change.after === 'gw-b') resolve() })
  })))
  await kv.put(directoryKey('ACC.A'), 'gw-b')
  await seen
  t.equal(a.supervisor.directory!.ownerOf('ACC.A'), 'gw-b')
  t.equal(b.supervisor.directory!.ownerOf('ACC.A'), 'gw-b')
  const [code, reason] = await closed as [number, string]
  t.equal(code, 1008)
  t.match(reason, /ACC\.A is now held by instance gw-b/)

  // It logs on again and lands on gw-b.
  const again = await GatehouseClient.logonAt(a.url('terminal'), 'ACC.A', PASSWORD, TEST_IDENTITY)
  t.ok(again.reply.ok)
  t.equal(again.url, endpoints['gw-b']!.terminal)
  await again.client.logout()

  // A value that is not an instance ID is not taken (the KV bucket is a trust boundary too).
  const hashedB = b.supervisor.directory!.ownerOf('ACC.B')
  const marker = new Promise<void>((resolve) => { b.supervisor.directory!.onChange((change) => { if (change.account === 'ACC.LOOP') resolve() }) })
  await kv.put(directoryKey('ACC.B'), 'x'.repeat(40_000))
  await kv.put(directoryKey('ACC.LOOP'), b.supervisor.directory!.ownerOf('ACC.LOOP') === 'gw-a' ? 'gw-b' : 'gw-a')
  await marker
  t.equal(b.supervisor.directory!.ownerOf('ACC.B'), hashedB, 'a garbage value changes nothing')
  t.ok(b.supervisor.directorySync!.skipped >= 1, 'and is counted as skipped')

  // NATS killed and restarted (same port and store): while it is down the
  // map in memory serves logons; afterwards a KV change still reaches both.
  await nats.kill()
  const whileDown = await GatehouseClient.logonAt(a.url('terminal'), 'ACC.B', PASSWORD, { ...TEST_IDENTITY, followRedirects: false })
  t.equal(whileDown.reply.reason, RejectReason.WRONG_INSTANCE, 'redirects are decided without NATS')
  await whileDown.client.close()
  await restartNats(t, nats)
  const afterRestart = Promise.all([a, b].map(async (gw) => new Promise<void>((resolve) => {
    gw.supervisor.directory!.onChange((change) => { if (change.account === 'ACC.B' && change.after === 'gw-a') resolve() })
  })))
  // The test's own connection reconnects and JetStream reloads its store
  // on its own schedule: the put is retried (bounded) until it is taken.
  for (let attempt = 1; ; attempt++) {
    try {
      await kv.put(directoryKey('ACC.B'), 'gw-a')
      break
    } catch (err) {
      if (attempt >= 10) throw err
    }
  }
  await afterRestart
  t.pass('a change after the restart reached both instances')

  // The last known map is kept for a restart without NATS.
  const file = join(a.config.runDir, 'account-directory.json')
  await t.resolves((async () => { while (!existsSync(file) || !readFileSync(file, 'utf8').includes('"ACC.A":"gw-b"')) await new Promise((resolve) => setTimeout(resolve, 50)) })())
})

t.test('with the cluster off nothing changes', async (t) => {
  const gateway = await startTestGateway()
  t.teardown(async () => gateway.stop())
  t.equal(gateway.supervisor.directory, null)
  t.equal(gateway.supervisor.nats, null)
  const raw = await rawAuthenticate(gateway.url('terminal'), 'demo-maker')
  t.equal(raw.reply.authenticateReply!.ok, true)
  t.equal(raw.reply.authenticateReply!.redirectEndpoint, '')
  raw.socket.close()
  const result = await GatehouseClient.logonAt(gateway.url('terminal'), 'demo-maker', PASSWORD, TEST_IDENTITY)
  t.ok(result.reply.ok)
  t.same(result.redirects, [])
  await result.client.logout()
})
