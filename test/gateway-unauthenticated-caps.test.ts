// Idle connections that never log on must not exhaust the process's file
// descriptors. The gateway runs as a process under a small RLIMIT_NOFILE
// (soft 256, hard 320; the soft limit is raised to the hard one), and
// several loopback addresses open far more idle WebSockets than it could
// hold. The caps on connections not yet logged on (per lane, per address)
// refuse the excess at the upgrade with a clear status and text, /healthz
// stays prompt, and a legitimate client logs on promptly and trades.
import t from 'tap'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { WebSocket } from 'ws'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { ExecType, Side, TimeInForce } from '../protocol/messages.js'
import { startExchangeSim } from './helpers/exchange-sim-process.js'
import { testConfig } from './helpers/gateway.js'
import { startGatewayProcess } from './helpers/gateway-process.js'
import { TEST_IDENTITY } from './helpers/trading.js'

const OPEN_FILES = { soft: 256, hard: 320 }
const PLATFORM_CAP = 60
const PER_IP_CAP = 10
/** More attacking addresses than the lane cap admits at PER_IP_CAP each would still leave room for a legitimate client. */
const ATTACKERS = 5
const ATTEMPTS_PER_ATTACKER = 80

interface Attempt {
  ws: WebSocket
  status: number
  body: string
}

/** Opens a WebSocket from a given local address; resolves once it is open (status 101) or refused (the HTTP status and body). */
function attempt (url: string, localAddress: string): Promise<Attempt> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { localAddress, perMessageDeflate: false })
    ws.on('open', () => { resolve({ ws, status: 101, body: '' }) })
    ws.on('unexpected-response', (_req, res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => { body += chunk.toString() })
      res.on('end', () => { resolve({ ws, status: res.statusCode ?? 0, body }) })
    })
    ws.on('error', (err) => { resolve({ ws, status: 0, body: err.message }) })
  })
}

t.test('caps on connections not logged on keep fds for ops and real clients', async (t) => {
  const dir = t.testdir()
  const sim = await startExchangeSim()
  t.teardown(() => sim.stop())
  const lanePolicy = (cap: number, perIp: number): Record<string, unknown> => ({
    policy: { maxUnauthenticatedConnections: cap, maxUnauthenticatedPerIp: perIp, maxConnectionsPerIpPerSecond: 1000 },
  })
  const config = testConfig(sim.port, {
    runDir: join(dir, 'run'),
    lanes: { terminal: lanePolicy(20, 10), platform: lanePolicy(PLATFORM_CAP, PER_IP_CAP), hft: lanePolicy(20, 8) },
    security: { fdReserve: 180 },
  })
  const configFile = join(dir, 'gateway.json')
  writeFileSync(configFile, JSON.stringify(config))
  const gw = await startGatewayProcess(configFile, { openFiles: OPEN_FILES })
  t.teardown(() => gw.kill9())
  t.teardown(() => { if (!t.passing()) t.comment(`gateway stderr:\n${gw.stderr()}`) })
  const openFiles = (gw.ready as unknown as { openFiles: { soft: number, hard: number, softBefore: number, unauthenticatedCaps: number, reserve: number } }).openFiles
  // Node raises the soft limit to the hard one itself as it starts; start
  // makes sure (prlimit) and reports it.
  t.match(openFiles, { soft: OPEN_FILES.hard, hard: OPEN_FILES.hard, unauthenticatedCaps: 100, reserve: 180 },
    'the soft open-file limit runs at the hard one, reported with the caps and the reserve')

  const url = gw.url('platform')
  const attempts: Attempt[] = []
  t.teardown(() => { for (const a of attempts) a.ws.terminate() })
  for (let i = 0; i < ATTACKERS; i++) {
    const address = `127.0.0.${i + 2}`
    const batch = await Promise.all(Array.from({ length: ATTEMPTS_PER_ATTACKER }, () => attempt(url, address)))
    attempts.push(...batch)
  }
  const opened = attempts.filter((a) => a.status === 101).length
  const refused = attempts.filter((a) => a.status === 429)
  t.equal(opened, ATTACKERS * PER_IP_CAP, `${opened} idle connections held: ${PER_IP_CAP} per address`)
  t.equal(refused.length, attempts.length - opened, 'every other attempt was refused with 429')
  t.match(refused[0]?.body, /TOO_MANY_UNAUTHENTICATED: this address already holds 10 connections that have not logged on/, 'the refusal says why')

  // A third lane's cap across addresses: 20 with 10 per address.
  const terminal = await Promise.all(Array.from({ length: 30 }, (_, i) => attempt(gw.url('terminal'), `127.0.1.${(i % 3) + 1}`)))
  attempts.push(...terminal)
  t.equal(terminal.filter((a) => a.status === 101).length, 20, 'the terminal lane holds its cap of 20')
  const full = terminal.find((a) => a.status === 503)
  t.match(full?.body, /TOO_MANY_UNAUTHENTICATED: this lane already holds 20 connections/, 'past the lane cap: 503 with the reason')

  const healthStart = performance.now()
  const health = await fetch(`http://127.0.0.1:${gw.ready.ops.port}/healthz`, { signal: AbortSignal.timeout(5000) })
  const healthMs = performance.now() - healthStart
  t.equal(health.status, 200, '/healthz answers')
  t.ok(healthMs < 1000, `promptly (${healthMs.toFixed(0)} ms)`)

  const logonStart = performance.now()
  const client = await GatehouseClient.connect(url)
  const logon = await client.logon('demo-maker', 'maker-pass', TEST_IDENTITY)
  const logonMs = performance.now() - logonStart
  t.equal(logon.ok, true, 'a legitimate client logs on')
  t.ok(logonMs < 2000, `within 2 s on a shared test machine (${logonMs.toFixed(0)} ms)`)
  client.newOrder({ clientOrderId: 1, instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 1, timeInForce: TimeInForce.FAK })
  t.equal((await client.report(1)).execType, ExecType.ACK, 'and trades')

  // Logged on, it no longer counts: its address may open its full share again.
  const again = await Promise.all(Array.from({ length: PER_IP_CAP }, () => attempt(url, '127.0.0.1')))
  attempts.push(...again)
  t.equal(again.filter((a) => a.status === 101).length, PER_IP_CAP, 'a logged-on session no longer counts against its address\'s cap')
  // Closing idle ones gives their places back.
  const one = attempts.find((a) => a.status === 101 && a.ws.readyState === WebSocket.OPEN)!
  one.ws.close()
  await once(one.ws, 'close')
  await client.logout()
})

t.test('start refuses caps that leave no fd reserve under the limit, naming the fields', async (t) => {
  const dir = t.testdir()
  const sim = await startExchangeSim()
  t.teardown(() => sim.stop())
  const config = testConfig(sim.port, { runDir: join(dir, 'run') })
  const configFile = join(dir, 'gateway.json')
  writeFileSync(configFile, JSON.stringify(config))
  await t.rejects(startGatewayProcess(configFile, { openFiles: { soft: 256, hard: 256 } }),
    /lanes\.\*\.policy\.maxUnauthenticatedConnections: the enabled lanes' caps \(416\) plus security\.fdReserve \(256\) exceed the open-file limit 256/)
})
