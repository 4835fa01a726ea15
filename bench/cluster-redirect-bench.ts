// What a logon at the wrong instance costs the gateway: the Authenticate
// round trip (send to AuthenticateReply, on loopback, one fresh connection
// each) for an account held here (ok) and one held by another instance
// (WRONG_INSTANCE with its redirect), against one real gateway instance
// (cluster on, config directory) and the simulator as a process. Rounds
// alternate the two kinds so a neighbour's burst on a shared machine shows
// as spread, not as a skewed figure.
//
//   node dist/bench/cluster-redirect-bench.js [--json FILE]
import { writeFileSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import WebSocket from 'ws'
import { resolveConfig } from '../config/load.js'
import { Supervisor } from '../supervisor/supervisor.js'
import { startExchangeSimProcess } from '../supervisor/exchange-sim-process.js'
import { decodeClientEnvelope, encodeClientEnvelope } from '../protocol/client-codec.js'
import { computeAuthProof } from '../protocol/auth-proof.js'
import { DEMO_APP_ID, DEMO_AUTH_CODE } from '../protocol/demo-identity.js'
import { RejectReason, type ClientEnvelope } from '../protocol/messages.js'
import { newHistogram, recordNs, round2, summaryUs, type Histogram } from './histogram.js'

const ROUNDS = 3
const PER_ROUND = 100

/** One connection: waits for the challenge, then times Authenticate → AuthenticateReply. */
async function authenticateOnce (url: string, account: string): Promise<{ ns: number, reason: number }> {
  const socket = new WebSocket(url, { perMessageDeflate: false })
  try {
    const messages: ClientEnvelope[] = []
    let wake: (() => void) | null = null
    socket.on('message', (data: Buffer) => { messages.push(decodeClientEnvelope(data)); wake?.() })
    const next = async (body: string): Promise<ClientEnvelope> => {
      for (;;) {
        const found = messages.find((m) => m.body === body)
        if (found !== undefined) return found
        await new Promise<void>((resolve) => { wake = resolve })
      }
    }
    const challenge = (await next('authChallenge')).authChallenge!
    const proof = computeAuthProof(DEMO_AUTH_CODE, challenge.nonce!, DEMO_APP_ID, account, challenge.lane!)
    const started = process.hrtime.bigint()
    socket.send(encodeClientEnvelope({ seq: 1, authenticate: { appId: DEMO_APP_ID, account, proof } }))
    const reply = (await next('authenticateReply')).authenticateReply!
    return { ns: Number(process.hrtime.bigint() - started), reason: reply.reason ?? 0 }
  } finally {
    socket.terminate()
  }
}

async function main (): Promise<void> {
  const jsonIndex = process.argv.indexOf('--json')
  const jsonFile = jsonIndex < 0 ? null : process.argv[jsonIndex + 1] ?? null
  const sim = await startExchangeSimProcess(['--host', '127.0.0.1', '--port', '0'])
  const demo = resolveConfig({}).accounts[0]!
  const config = resolveConfig({
    gatewayId: 'gw-a',
    runDir: mkdtempSync(join(tmpdir(), 'gh-bench-redirect-')),
    lanes: {
      terminal: { port: 0, policy: { maxConnectionsPerIpPerSecond: 100_000 } },
      platform: { enabled: false, port: 0 },
      hft: { enabled: false, port: 0 },
    },
    ops: { port: 0 },
    admin: { enabled: false },
    exchange: { embeddedSimulator: false, host: '127.0.0.1', port: sim.port },
    accounts: [{ ...demo, id: 'HERE' }, { ...demo, id: 'AWAY' }],
    cluster: {
      enabled: true,
      // No NATS server: the config directory needs none (the link keeps retrying, off the logon path).
      nats: { servers: ['nats://127.0.0.1:1'] },
      instances: { 'gw-a': { endpoints: {} }, 'gw-b': { endpoints: { terminal: 'ws://127.0.0.1:9/' } } },
      directory: { source: 'config', accounts: { HERE: 'gw-a', AWAY: 'gw-b' } },
      replication: { enabled: false },
    },
  })
  const supervisor = new Supervisor(config)
  await supervisor.start()
  await supervisor.whenLinksUp()
  const url = `ws://127.0.0.1:${supervisor.running().lanes.terminal!.port}`
  const histograms: Record<'held-here' | 'wrong-instance', Histogram> = { 'held-here': newHistogram(), 'wrong-instance': newHistogram() }
  const roundP50s: Record<string, number[]> = { 'held-here': [], 'wrong-instance': [] }
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const [kind, account, expected] of [['held-here', 'HERE', 0], ['wrong-instance', 'AWAY', RejectReason.WRONG_INSTANCE]] as const) {
        const roundHistogram = newHistogram()
        for (let i = 0; i < PER_ROUND; i++) {
          const { ns, reason } = await authenticateOnce(url, account)
          if (reason !== expected) throw new Error(`${kind}: expected reason ${expected}, got ${reason}`)
          recordNs(histograms[kind], ns)
          recordNs(roundHistogram, ns)
        }
        roundP50s[kind]!.push(summaryUs(roundHistogram).p50_us)
      }
    }
  } finally {
    await supervisor.stop()
    await sim.stop()
  }
  const rows = (Object.keys(histograms) as Array<keyof typeof histograms>).map((kind) => {
    const p50s = [...roundP50s[kind]!].sort((x, y) => x - y)
    return { kind, ...summaryUs(histograms[kind]), median_round_p50_us: round2(p50s[Math.floor(p50s.length / 2)]!), round_p50s_us: roundP50s[kind]!.map(round2), hashing_pending_after: supervisor.access.pendingHashCount() }
  })
  console.log('Authenticate round trip (send to reply), one fresh loopback connection each')
  console.log('kind             p50 us   p99 us   max us   count  median of round p50s (spread)')
  for (const row of rows) {
    console.log(`${row.kind.padEnd(16)} ${String(round2(row.p50_us)).padStart(7)}  ${String(round2(row.p99_us)).padStart(7)}  ${String(round2(row.max_us)).padStart(7)}  ${String(row.count).padStart(5)}  ${row.median_round_p50_us} (${row.round_p50s_us.join(', ')})`)
  }
  if (jsonFile !== null) writeFileSync(jsonFile, JSON.stringify({ bench: 'cluster-redirect', rows }, null, 2))
}

await main()
