// How fast a global kill switch made on one instance takes effect on
// another (docs/cluster.md, "Figures"). A standalone script, not a
// scenario of run.ts: it needs a nats-server and two gateways, and
// measures an admin round trip, not a lane's throughput.
//
//   npm run build && node dist/bench/control-fanout-bench.js [--runs 3] [--trials 20] [--json FILE]
//
// Each run starts a nats-server, two exchange simulators and two gateway
// processes (gw1, gw2) on loopback. A client logged on at gw2 sends FAK
// orders one after another (the next as soon as the previous one's first
// report is back). Each trial writes `kill-switch.set global on` to gw1's
// admin socket and times, on this process's clock, from that write to the
// first report on gw2 refused with KILL_SWITCH; then lifts the switch (on
// gw1) and waits until gw2 accepts orders again. The resolution is one
// order's round trip, a fraction of a millisecond. Short on purpose: other
// work shares the machine.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createConnection, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { startNatsServer, type NatsServerProcess } from '../cluster/nats-server-process.js'
import { CLI_PATH, startExchangeSimProcess } from '../supervisor/exchange-sim-process.js'
import { ExecType, RejectReason, Side, TimeInForce, wireInt, type ExecutionReport, type Instrument } from '../protocol/messages.js'
import { BENCH_IDENTITY, gatehouseBenchConfig, GATEHOUSE_JOURNAL } from './gatehouse-config.js'
import { ChildRegistry, HOST } from './systems.js'

const ACCOUNT = 'fanout-bench'
const PASSWORD = 'bench-pass-1'
const INSTRUMENT = 'rb2605'
/** One trial's bound: a switch that has not reached gw2 by then is a failure, not a figure. */
const TRIAL_TIMEOUT_MS = 10_000

interface RunResult { killMs: number[], replyMs: number[], liftMs: number[] }

function percentile (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
}

function summary (values: number[]): { p50: number, p90: number, max: number } {
  const sorted = [...values].sort((a, b) => a - b)
  const r = (x: number): number => Math.round(x * 100) / 100
  return { p50: r(percentile(sorted, 0.5)), p90: r(percentile(sorted, 0.9)), max: r(sorted.at(-1)!) }
}

function median (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]!
}

/** The admin socket: one request line out, its reply line back. */
class AdminLine {
  private text = ''
  private waiting: ((line: string) => void) | null = null
  private constructor (private readonly socket: Socket) {
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      this.text += chunk
      const nl = this.text.indexOf('\n')
      if (nl !== -1 && this.waiting !== null) {
        const line = this.text.slice(0, nl)
        this.text = this.text.slice(nl + 1)
        const waiting = this.waiting
        this.waiting = null
        waiting(line)
      }
    })
  }

  static async open (path: string): Promise<AdminLine> {
    const socket = createConnection(path)
    await once(socket, 'connect')
    return new AdminLine(socket)
  }

  /** Sends the request; `sent` is called right after the write. */
  async ask (request: Record<string, unknown>, sent: () => void = () => {}): Promise<{ ok: boolean, result?: { missing?: string[] }, error?: { message: string } }> {
    const reply = new Promise<string>((resolve) => { this.waiting = resolve })
    this.socket.write(JSON.stringify({ id: 1, operator: 'bench', ...request }) + '\n')
    sent()
    return JSON.parse(await reply) as { ok: boolean, result?: { missing?: string[] }, error?: { message: string } }
  }

  close (): void {
    this.socket.destroy()
  }
}

async function startGateway (registry: ChildRegistry, tmp: string, id: string, natsUrl: string): Promise<{ child: ChildProcess, platformPort: number, adminPath: string }> {
  const sim = await startExchangeSimProcess(['--host', HOST, '--port', '0'])
  registry.track(sim.child, `exchange-sim ${id}`)
  sim.child.stdout?.resume()
  const runDir = mkdtempSync(join(tmp, `${id}-`))
  const adminPath = join(runDir, 'admin.sock')
  const base = gatehouseBenchConfig({ simHost: HOST, simPort: sim.port, runDir, credentials: [{ account: ACCOUNT, password: PASSWORD }], journal: GATEHOUSE_JOURNAL.gatehouse }) as Record<string, unknown>
  const config = {
    ...base,
    gatewayId: id,
    admin: { enabled: true, socketPath: adminPath },
    compliance: { dualControl: { requireFor: { appProduction: false, limitRaise: false, globalKillLift: false, fingerprintApproval: false } } },
    cluster: {
      enabled: true,
      nats: { servers: [natsUrl] },
      instances: { gw1: { endpoints: {} }, gw2: { endpoints: {} } },
      directory: { accounts: { [ACCOUNT]: 'gw2' } },
      replication: { enabled: false },
      control: { replyTimeoutMs: 5000 },
    },
  }
  const configFile = join(runDir, 'gatehouse.json')
  writeFileSync(configFile, JSON.stringify(config))
  const child = registry.track(spawn(process.execPath, [CLI_PATH, 'start', '--config', configFile, '--json-events'], { stdio: ['ignore', 'pipe', 'inherit'] }), id)
  const lines = createInterface({ input: child.stdout! })
  const linksUp = new Set<string>()
  let platformPort = 0
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => { reject(new Error(`${id} exited with ${String(code)} before it was ready`)) })
    lines.on('line', (line) => {
      let event: Record<string, unknown>
      try {
        event = JSON.parse(line) as Record<string, unknown>
      } catch {
        return
      }
      if (event.event === 'ready') platformPort = (event.lanes as Record<string, { port: number }>).platform!.port
      if (event.event === 'link-state' && event.state === 'up') linksUp.add(String(event.lane))
      if (platformPort !== 0 && linksUp.size === 3) resolve()
    })
  })
  return { child, platformPort, adminPath }
}

async function oneRun (trials: number): Promise<RunResult> {
  const tmp = mkdtempSync(join(tmpdir(), 'gh-fanout-bench-'))
  const registry = new ChildRegistry()
  let nats: NatsServerProcess | null = null
  const admins: AdminLine[] = []
  let client: GatehouseClient | null = null
  try {
    nats = await startNatsServer({ storeDir: join(tmp, 'nats') })
    const [gw1, gw2] = await Promise.all([startGateway(registry, tmp, 'gw1', nats.url), startGateway(registry, tmp, 'gw2', nats.url)])
    const admin = await AdminLine.open(gw1!.adminPath)
    admins.push(admin)
    client = await GatehouseClient.connect(`ws://${HOST}:${gw2!.platformPort}`)
    const logon = await client.logon(ACCOUNT, PASSWORD, BENCH_IDENTITY)
    if (!logon.ok) throw new Error(`logon at gw2 refused: ${logon.reason} ${logon.text}`)
    const instrument = logon.instruments.find((i) => i.symbol === INSTRUMENT) as Instrument | undefined
    if (instrument === undefined) throw new Error(`${INSTRUMENT} is not in gw2's logon reply`)
    const tick = wireInt(instrument.tickSize) || 1
    // A tick under the reference, FAK: never fills, never rests.
    const price = Math.round(wireInt(instrument.referencePrice) / tick) * tick - tick
    let nextId = 0
    const trader = client
    /** Sends orders one after another until a first report matches; resolves with when it arrived. */
    const sendUntil = async (match: (report: ExecutionReport) => boolean): Promise<number> => {
      const deadline = performance.now() + TRIAL_TIMEOUT_MS
      while (performance.now() < deadline) {
        const id = ++nextId
        trader.newOrder({ clientOrderId: id, instrument: INSTRUMENT, side: Side.BUY, price, quantityLots: 1, timeInForce: TimeInForce.FAK })
        const report = await trader.report(id)
        if (match(report)) return performance.now()
      }
      throw new Error(`no matching report within ${TRIAL_TIMEOUT_MS} ms`)
    }
    const result: RunResult = { killMs: [], replyMs: [], liftMs: [] }
    await sendUntil((r) => r.execType === ExecType.ACK)
    for (let trial = 0; trial < trials; trial++) {
      const refused = sendUntil((r) => r.execType === ExecType.REJECTED && r.reason === RejectReason.KILL_SWITCH)
      let sentAt = 0
      const reply = await admin.ask({ command: 'kill-switch.set', args: { scope: { kind: 'global' }, on: true } }, () => { sentAt = performance.now() })
      const repliedAt = performance.now()
      if (!reply.ok || (reply.result?.missing?.length ?? 1) !== 0) throw new Error(`kill switch on gw1: ${JSON.stringify(reply)}`)
      result.killMs.push(await refused - sentAt)
      result.replyMs.push(repliedAt - sentAt)
      const accepted = sendUntil((r) => r.execType === ExecType.ACK)
      let liftSentAt = 0
      const lifted = await admin.ask({ command: 'kill-switch.set', args: { scope: { kind: 'global' }, on: false } }, () => { liftSentAt = performance.now() })
      if (!lifted.ok) throw new Error(`lift on gw1: ${JSON.stringify(lifted)}`)
      result.liftMs.push(await accepted - liftSentAt)
    }
    return result
  } finally {
    await client?.close().catch(() => {})
    for (const admin of admins) admin.close()
    await registry.stopAll()
    await nats?.stop()
    rmSync(tmp, { recursive: true, force: true })
  }
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, trials: { type: 'string', default: '20' }, json: { type: 'string' } } })
  const runs = Number(values.runs)
  const trials = Number(values.trials)
  if (!Number.isInteger(runs) || runs < 1 || runs > 10 || !Number.isInteger(trials) || trials < 1 || trials > 1000) {
    throw new Error('--runs must be 1-10 and --trials 1-1000')
  }
  const perRun: Array<{ kill: ReturnType<typeof summary>, reply: ReturnType<typeof summary>, lift: ReturnType<typeof summary> }> = []
  for (let run = 1; run <= runs; run++) {
    const r = await oneRun(trials)
    const row = { kill: summary(r.killMs), reply: summary(r.replyMs), lift: summary(r.liftMs) }
    perRun.push(row)
    process.stdout.write(`run ${run}: kill switch on gw1 → gw2 refuses (ms) p50 ${row.kill.p50} p90 ${row.kill.p90} max ${row.kill.max}; ` +
      `gw1's admin reply (both applied) p50 ${row.reply.p50}; lift → gw2 accepts p50 ${row.lift.p50} (${trials} trials)\n`)
  }
  const spread = (pick: (row: typeof perRun[number]) => number): string => {
    const xs = perRun.map(pick)
    return `${median(xs)} (${Math.min(...xs)}–${Math.max(...xs)})`
  }
  process.stdout.write(`median of ${runs} runs (min–max), ms: p50 ${spread((r) => r.kill.p50)}, p90 ${spread((r) => r.kill.p90)}, max ${spread((r) => r.kill.max)}; ` +
    `admin reply p50 ${spread((r) => r.reply.p50)}\n`)
  if (values.json !== undefined) writeFileSync(values.json, JSON.stringify({ runs: perRun, trials, at: new Date().toISOString() }, null, 2) + '\n')
}

main().catch((err: unknown) => {
  process.stderr.write(`control-fanout-bench: ${(err as Error).stack ?? String(err)}\n`)
  process.exitCode = 1
})
