// `npm run bench`: the benchmark harness. It holds every lane to its budget
// (budgets.json) against two baselines measured in the same run:
//
// - bare-relay: uWS bytes relay, no decoding, no checks: the floor;
// - naive: ws + JSON + piscina per order + sync pino: the common first build.
//
// Scenarios, each against each system in turn, every system a fresh set of
// processes on loopback (exchange simulator + the system) and every load
// generator a process of its own (load-generator.ts):
//
// - checks, codec: in-thread micro-benchmarks (micro-bench.ts);
// - hft-latency: one hft session, open loop at fixed rates;
// - platform-throughput: 4 sessions, closed loop with a window per session;
// - terminal-sessions: thousands of sessions, one order per 5 s each.
//
// Every loop is bounded in count and time, and every child process is
// stopped at the end, on error, and on SIGINT/SIGTERM.
import { fork } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { ChildRegistry, HOST, startSystem, type RunningSystem } from './systems.js'
import { cdfPointsUs, decodeHistogram, round2, summaryUs } from './histogram.js'
import { cpuShares, machineInfo, memoryMiB, snapshotCpu, type CpuSnapshot } from './proc-stats.js'
import { Progress } from './progress.js'
import { formatTable } from './report-table.js'
import { renderHtml } from './report-html.js'
import { BENCH_IDENTITY, BENCH_SCRYPT_TEXT } from './gatehouse-config.js'
import { DEFAULT_BUDGETS_FILE, checkBudgets, loadBudgets, type BudgetVerdict } from './budgets.js'
import type { Credentials, GeneratorResult, GeneratorSpec, GeneratorToRunner, ProcessShare, ScenarioRow, SystemName, WireMode } from './types.js'
import type { MicroOptions } from './micro-bench.js'

const BENCH_DIR = dirname(fileURLToPath(import.meta.url))
const SCENARIOS = ['checks', 'codec', 'hft-latency', 'platform-throughput', 'terminal-sessions'] as const
type ScenarioName = typeof SCENARIOS[number]
const PASSWORD = 'bench-pass-1'
const INSTRUMENT = 'rb2605'
/** A generator gets this long past its own bounds before the runner kills it. */
const GENERATOR_GRACE_MS = 20_000

interface Profile {
  name: string
  hft: { rates: number[], warmupS: number, measureS: number, drainS: number }
  platform: { sessions: number, windowPerSession: number, warmupS: number, measureS: number, drainS: number }
  terminal: { sessions: number, perSessionIntervalS: number, warmupS: number, measureS: number, drainS: number, connectConcurrency: number }
  micro: MicroOptions
}

const PROFILES: Record<string, Profile> = {
  default: {
    name: 'default',
    hft: { rates: [1_000, 10_000, 50_000], warmupS: 1, measureS: 4, drainS: 2 },
    platform: { sessions: 4, windowPerSession: 32, warmupS: 1, measureS: 5, drainS: 2 },
    terminal: { sessions: 5_000, perSessionIntervalS: 5, warmupS: 1, measureS: 10, drainS: 2, connectConcurrency: 200 },
    micro: { samples: 3_000, allocationOps: 1_000_000 },
  },
  quick: {
    name: 'quick',
    hft: { rates: [1_000, 10_000, 50_000], warmupS: 0.3, measureS: 0.7, drainS: 1 },
    platform: { sessions: 4, windowPerSession: 32, warmupS: 0.3, measureS: 1, drainS: 1 },
    // 1 order per 2 s per session, so that each session also cancels within the short window.
    terminal: { sessions: 500, perSessionIntervalS: 2, warmupS: 0.3, measureS: 2, drainS: 1, connectConcurrency: 100 },
    micro: { samples: 500, allocationOps: 200_000 },
  },
  smoke: {
    name: 'smoke',
    hft: { rates: [200], warmupS: 0.2, measureS: 1, drainS: 1 },
    platform: { sessions: 2, windowPerSession: 4, warmupS: 0.2, measureS: 1, drainS: 1 },
    terminal: { sessions: 20, perSessionIntervalS: 0.5, warmupS: 0.2, measureS: 1.5, drainS: 1, connectConcurrency: 20 },
    micro: { samples: 100, allocationOps: 50_000 },
  },
}

const HELP = `usage: npm run bench -- [options]
       node dist/bench/run.js [options]

Benchmarks Gatehouse against two baselines measured in the same run: a
bare uWebSockets.js relay (the floor) and a naive ws + JSON + piscina + pino
gateway. Everything runs on 127.0.0.1 as separate processes.

scenarios (default: all, in this order):
  checks               checkOrderValidity() alone: ns/order, bytes allocated/order
  codec                NewOrder envelope encode+decode: static vs reflection vs JSON
  hft-latency          one hft session, open loop at 1k, 10k, 50k orders/s
  platform-throughput  4 platform sessions, closed loop (window of 32 per session)
  terminal-sessions    5000 terminal sessions, one order (then a cancel) per 5 s each

options:
  --quick              ~30 s run: shorter windows, 500 terminal sessions
  --smoke              seconds-long run at tiny rates (CI): all scenarios, all systems
  --scenario NAME      run only this scenario (repeatable)
  --systems LIST       comma-separated subset of bare-relay,gatehouse,naive
  --rates LIST         hft-latency rates, e.g. 10000 or 1000,50000
  --measure-s N        measurement window of the load scenarios, seconds
  --json FILE          write the results as JSON
  --html FILE          write a self-contained HTML report (latency CDFs, throughput)
  --check              exit non-zero if a budget in bench/budgets.json is missed
  --budgets FILE       budgets file (default bench/budgets.json)
  --gateway-node-args="ARGS"
                       extra node flags for the Gatehouse process, e.g.
                       --gateway-node-args="--cpu-prof --cpu-prof-dir=/tmp/prof" (see bench/profile-hft.sh)
  -h, --help           show this help
`

interface Options {
  profile: Profile
  scenarios: ScenarioName[]
  systems: SystemName[]
  json?: string
  html?: string
  check: boolean
  budgetsFile: string
  gatewayNodeArgs: string[]
}

function parseOptions (argv: string[]): Options | number {
  let values: Record<string, string | boolean | string[] | undefined>
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: 'boolean' },
        smoke: { type: 'boolean' },
        scenario: { type: 'string', multiple: true },
        systems: { type: 'string' },
        rates: { type: 'string' },
        'measure-s': { type: 'string' },
        json: { type: 'string' },
        html: { type: 'string' },
        check: { type: 'boolean' },
        budgets: { type: 'string' },
        'gateway-node-args': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }))
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n\n${HELP}`)
    return 2
  }
  if (values.help === true) {
    process.stdout.write(HELP)
    return 0
  }
  const profile = structuredClone(PROFILES[values.smoke === true ? 'smoke' : values.quick === true ? 'quick' : 'default']!)
  const scenarios = (values.scenario as string[] | undefined) ?? [...SCENARIOS]
  for (const s of scenarios) {
    if (!(SCENARIOS as readonly string[]).includes(s)) {
      process.stderr.write(`bench: unknown scenario "${s}"; choose from ${SCENARIOS.join(', ')}\n`)
      return 2
    }
  }
  const systems = typeof values.systems === 'string' ? values.systems.split(',') : ['bare-relay', 'gatehouse', 'naive']
  for (const s of systems) {
    if (!['bare-relay', 'gatehouse', 'naive'].includes(s)) {
      process.stderr.write(`bench: unknown system "${s}"; choose from bare-relay, gatehouse, naive\n`)
      return 2
    }
  }
  if (typeof values.rates === 'string') {
    const rates = values.rates.split(',').map(Number)
    if (rates.some((r) => !Number.isFinite(r) || r <= 0 || r > 1_000_000)) {
      process.stderr.write('bench: --rates takes positive numbers up to 1000000, e.g. --rates 1000,10000\n')
      return 2
    }
    profile.hft.rates = rates
  }
  if (typeof values['measure-s'] === 'string') {
    const seconds = Number(values['measure-s'])
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600) {
      process.stderr.write('bench: --measure-s takes a number of seconds in (0, 600]\n')
      return 2
    }
    profile.hft.measureS = profile.platform.measureS = profile.terminal.measureS = seconds
  }
  return {
    profile,
    scenarios: SCENARIOS.filter((s) => scenarios.includes(s)),
    systems: (['bare-relay', 'gatehouse', 'naive'] as SystemName[]).filter((s) => systems.includes(s)),
    json: values.json as string | undefined,
    html: values.html as string | undefined,
    check: values.check === true,
    budgetsFile: (values.budgets as string | undefined) ?? DEFAULT_BUDGETS_FILE,
    gatewayNodeArgs: typeof values['gateway-node-args'] === 'string' ? values['gateway-node-args'].split(/\s+/).filter((a) => a !== '') : [],
  }
}

/** Accounts for every session any scenario of this profile logs on. */
function benchCredentials (profile: Profile): { hft: Credentials[], platform: Credentials[], terminal: Credentials[] } {
  const make = (id: string): Credentials => ({ account: id, password: PASSWORD })
  return {
    hft: [make('bench-hft')],
    platform: Array.from({ length: profile.platform.sessions }, (_, i) => make(`bench-platform-${i}`)),
    // One account per terminal session, so a per-user session cap (a later
    // issue) cannot turn this into a test of that cap.
    terminal: Array.from({ length: profile.terminal.sessions }, (_, i) => make(`bench-term-${String(i).padStart(5, '0')}`)),
  }
}

const WIRE: Record<SystemName, WireMode> = { gatehouse: 'client', 'bare-relay': 'link', naive: 'json' }

interface GeneratorOutcome {
  result: GeneratorResult
  ours: ProcessShare[]
  others: ProcessShare[]
  rssIdleMiB: number
  rssMaxMiB: number
  rssPeakMiB: number
}

class Harness {
  readonly registry = new ChildRegistry()
  readonly rows: ScenarioRow[] = []
  readonly failures: string[] = []
  readonly skipped: Array<{ scenario: string, system: string, reason: string }> = []
  readonly credentials: ReturnType<typeof benchCredentials>
  readonly tmpDir = mkdtempSync(join(tmpdir(), 'gatehouse-bench-'))
  readonly progress: Progress

  constructor (readonly options: Options) {
    this.credentials = benchCredentials(options.profile)
    this.progress = new Progress(this.plannedSeconds())
  }

  /** Expected seconds of the whole run, for the progress bar. */
  private plannedSeconds (): number {
    const { profile, scenarios, systems } = this.options
    const startS = 2
    let total = 0
    for (const s of scenarios) {
      if (s === 'checks' || s === 'codec') total += profile.name === 'smoke' ? 1 : 5
      if (s === 'hft-latency') total += systems.length * (startS + profile.hft.rates.length * (profile.hft.warmupS + profile.hft.measureS + 0.5))
      if (s === 'platform-throughput') total += systems.length * (startS + profile.platform.warmupS + profile.platform.measureS + 0.5)
      if (s === 'terminal-sessions') total += systems.filter((x) => x !== 'bare-relay').length * (startS + profile.terminal.sessions / 1000 + profile.terminal.warmupS + profile.terminal.measureS)
    }
    return total
  }

  async run (): Promise<void> {
    for (const scenario of this.options.scenarios) {
      switch (scenario) {
        case 'checks':
        case 'codec':
          await this.runMicro(scenario)
          break
        case 'hft-latency':
          await this.runLoad(scenario, this.options.systems)
          break
        case 'platform-throughput':
          await this.runLoad(scenario, this.options.systems)
          break
        case 'terminal-sessions':
          if (this.options.systems.includes('bare-relay')) {
            this.skipped.push({
              scenario,
              system: 'bare-relay',
              reason: 'the relay opens one exchange link session per client, and the simulator keeps a 1 MiB resend ring per link session: ' +
                'thousands of sessions would measure the simulator, not the relay',
            })
          }
          await this.runLoad(scenario, this.options.systems.filter((s) => s !== 'bare-relay'))
          break
      }
    }
  }

  // ---- micro-benchmarks -------------------------------------------------

  private async runMicro (which: 'checks' | 'codec'): Promise<void> {
    this.progress.begin(`${which}: in-thread micro-benchmark`, this.options.profile.name === 'smoke' ? 1 : 5)
    const child = this.registry.track(fork(join(BENCH_DIR, 'micro-bench.js'), ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }), `micro-${which}`)
    try {
      const rows = await new Promise<ScenarioRow[]>((resolve, reject) => {
        const timer = setTimeout(() => { reject(new Error(`${which} micro-benchmark took over 120 s`)) }, 120_000)
        child.on('message', (message: { type: string, rows?: ScenarioRow[], error?: string }) => {
          clearTimeout(timer)
          if (message.type === 'result') resolve(message.rows!)
          else reject(new Error(message.error))
        })
        child.once('exit', (code) => {
          clearTimeout(timer)
          reject(new Error(`${which} micro-benchmark exited with code ${code} before reporting`))
        })
        child.send({ which, options: this.options.profile.micro })
      })
      for (const row of rows) row.cores_shared_by = ['micro-benchmark process alone (no system under test running)']
      this.rows.push(...rows)
    } catch (err) {
      this.failures.push(`${which}: ${(err as Error).message}`)
      this.progress.note(`${which} failed: ${(err as Error).message}`)
    } finally {
      await this.registry.stop(child)
    }
  }

  // ---- load scenarios ---------------------------------------------------

  private specsFor (scenario: ScenarioName, system: SystemName, running: RunningSystem): GeneratorSpec[] {
    const { profile } = this.options
    const base = { wire: WIRE[system], host: HOST, instrument: INSTRUMENT, connectTimeoutMs: 10_000, ...(system === 'gatehouse' ? { identity: BENCH_IDENTITY } : {}) }
    switch (scenario) {
      case 'hft-latency':
        return profile.hft.rates.map((rate) => ({
          ...base,
          label: `${scenario} ${system} ${rate}/s`,
          port: running.ports.hft!,
          credentials: this.credentials.hft,
          flow: 'fak-alternate',
          pacing: 'open-loop',
          ratePerS: rate,
          windowPerSession: 0,
          connectConcurrency: 1,
          warmupS: profile.hft.warmupS,
          measureS: profile.hft.measureS,
          drainTimeoutS: profile.hft.drainS,
          // Half a second of backlog: past it the run is saturated and the
          // rest of the due orders are charged as late without being sent.
          maxOutstanding: Math.max(1_000, Math.round(rate / 2)),
        }))
      case 'platform-throughput':
        return [{
          ...base,
          label: `${scenario} ${system}`,
          port: running.ports.platform!,
          credentials: this.credentials.platform,
          flow: 'fak-alternate',
          pacing: 'closed-loop',
          ratePerS: 0,
          windowPerSession: profile.platform.windowPerSession,
          connectConcurrency: profile.platform.sessions,
          warmupS: profile.platform.warmupS,
          measureS: profile.platform.measureS,
          drainTimeoutS: profile.platform.drainS,
          maxOutstanding: profile.platform.sessions * profile.platform.windowPerSession,
        }]
      case 'terminal-sessions':
        return [{
          ...base,
          label: `${scenario} ${system}`,
          port: running.ports.terminal!,
          credentials: this.credentials.terminal,
          flow: 'rest-and-cancel',
          pacing: 'open-loop',
          ratePerS: profile.terminal.sessions / profile.terminal.perSessionIntervalS,
          windowPerSession: 0,
          connectConcurrency: profile.terminal.connectConcurrency,
          warmupS: profile.terminal.warmupS,
          measureS: profile.terminal.measureS,
          drainTimeoutS: profile.terminal.drainS,
          maxOutstanding: profile.terminal.sessions * 2 + 100,
        }]
      default:
        return []
    }
  }

  private async runLoad (scenario: ScenarioName, systems: SystemName[]): Promise<void> {
    const { profile } = this.options
    for (const system of systems) {
      this.progress.begin(`${scenario}: starting ${system}`, 2)
      let running: RunningSystem
      try {
        running = await startSystem(this.registry, system, {
          tmpDir: this.tmpDir,
          credentials: [...this.credentials.hft, ...this.credentials.platform, ...this.credentials.terminal],
          gatewayNodeArgs: system === 'gatehouse' ? this.options.gatewayNodeArgs : [],
        })
      } catch (err) {
        this.failures.push(`${scenario} ${system}: could not start: ${(err as Error).message}`)
        this.progress.note(`${scenario} ${system}: could not start: ${(err as Error).message}`)
        continue
      }
      try {
        for (const spec of this.specsFor(scenario, system, running)) {
          const weight = scenario === 'terminal-sessions'
            ? profile.terminal.sessions / 1000 + profile.terminal.warmupS + profile.terminal.measureS
            : spec.warmupS + spec.measureS + 0.5
          this.progress.begin(spec.label, weight)
          try {
            const outcome = await this.runGenerator(spec, running, scenario === 'terminal-sessions')
            this.rows.push(this.rowFrom(scenario, system, spec, outcome))
            for (const error of outcome.result.errors.slice(0, 3)) this.progress.note(`${spec.label}: ${error}`)
          } catch (err) {
            this.failures.push(`${spec.label}: ${(err as Error).message}`)
            this.progress.note(`${spec.label} failed: ${(err as Error).message}`)
          }
        }
      } finally {
        await running.stop()
      }
    }
    this.addRatios(scenario)
  }

  /** Forks one load generator, follows its phases (CPU snapshots, RSS samples) and returns its result. */
  private runGenerator (spec: GeneratorSpec, running: RunningSystem, sampleMemory: boolean): Promise<GeneratorOutcome> {
    const child = this.registry.track(fork(join(BENCH_DIR, 'load-generator.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }), 'load-generator')
    const roles = new Map(running.roles)
    roles.set(child.pid!, 'load generator')
    const pids = [...roles.keys()]
    const rssIdleMiB = memoryMiB(running.gatewayPid).rss_mib
    let rssMaxMiB = 0
    let rssTimer: NodeJS.Timeout | null = null
    let before: CpuSnapshot | null = null
    let after: CpuSnapshot | null = null
    const boundMs = spec.connectTimeoutMs + (spec.warmupS + spec.measureS + spec.drainTimeoutS) * 1000 + spec.credentials.length * 2 + GENERATOR_GRACE_MS
    return new Promise<GeneratorOutcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`load generator did not finish within ${boundMs} ms`))
        void this.registry.stop(child)
      }, boundMs)
      const done = (): void => {
        clearTimeout(timer)
        if (rssTimer !== null) clearInterval(rssTimer)
      }
      child.on('message', (message: GeneratorToRunner) => {
        switch (message.type) {
          case 'phase':
            if (message.phase === 'connected' && sampleMemory) {
              rssTimer = setInterval(() => { rssMaxMiB = Math.max(rssMaxMiB, memoryMiB(running.gatewayPid).rss_mib) }, 250)
              rssMaxMiB = memoryMiB(running.gatewayPid).rss_mib
            }
            if (message.phase === 'measuring') before = snapshotCpu(pids)
            if (message.phase === 'draining') after = snapshotCpu(pids)
            return
          case 'progress':
            this.progress.update(message.fraction)
            return
          case 'result': {
            done()
            if (sampleMemory) rssMaxMiB = Math.max(rssMaxMiB, memoryMiB(running.gatewayPid).rss_mib)
            const shares = before !== null && after !== null ? cpuShares(before, after, roles) : { ours: [], others: [] }
            resolve({ result: message.result, ...shares, rssIdleMiB, rssMaxMiB, rssPeakMiB: memoryMiB(running.gatewayPid).peak_rss_mib })
            return
          }
          case 'failed':
            done()
            reject(new Error(message.error))
        }
      })
      child.once('exit', (code) => {
        done()
        reject(new Error(`load generator exited with code ${code} before reporting`))
      })
      child.send({ type: 'run', spec })
    })
  }

  private rowFrom (scenario: ScenarioName, system: SystemName, spec: GeneratorSpec, outcome: GeneratorOutcome): ScenarioRow {
    const { result } = outcome
    const histogram = decodeHistogram(result.latencyHistogram)
    const summary = summaryUs(histogram)
    // Whole seconds only: a partial last second would drag the spread.
    const seconds = result.perSecond.filter((s) => s.t + 1 <= result.measureS).map((s) => s.answered)
    const mean = seconds.length === 0 ? 0 : seconds.reduce((a, b) => a + b, 0) / seconds.length
    const sd = seconds.length < 2 ? 0 : Math.sqrt(seconds.reduce((a, b) => a + (b - mean) ** 2, 0) / (seconds.length - 1))
    const coresSharedBy = [...outcome.ours, ...outcome.others].map((p) =>
      `${p.role} (pid ${p.pid}): ${p.cpu_pct}%` + (p.threads === undefined ? '' : ` [busiest threads: ${p.threads.slice(0, 4).map((t) => `${t.name} ${t.cpu_pct}%`).join(', ')}]`))
    const sendLag = summaryUs(decodeHistogram(result.sendLagHistogram))
    const row: ScenarioRow = {
      name: scenario,
      system,
      rate_per_s: spec.pacing === 'open-loop' ? spec.ratePerS : 0,
      p50_us: summary.p50_us,
      p99_us: summary.p99_us,
      p999_us: summary.p999_us,
      max_us: summary.max_us,
      throughput_per_s: Math.round(result.answered / result.measureS),
      throughput_sd_per_s: Math.round(sd),
      mode: spec.pacing,
      sessions: result.sessions,
      window_per_session: spec.pacing === 'closed-loop' ? spec.windowPerSession : undefined,
      measure_s: result.measureS,
      samples: summary.count,
      sent: result.sent,
      answered: result.answered,
      unanswered: result.unanswered,
      unsent: result.unsent,
      saturated: result.saturated,
      rejected: result.rejected,
      protocol_rejects: result.protocolRejects,
      closed_sessions: result.closedSessions,
      // Part of every latency above that is the generator's own lateness
      // (open loop; the same for every system): read the tails with it.
      send_lag_p50_us: sendLag.p50_us,
      send_lag_p99_us: sendLag.p99_us,
      cores_shared_by: coresSharedBy,
      cpu: { ours: outcome.ours, others: outcome.others },
      cdf_us: cdfPointsUs(histogram),
      per_second: result.perSecond,
      errors: result.errors,
    }
    if (scenario === 'terminal-sessions') {
      const connect = summaryUs(decodeHistogram(result.connectHistogram))
      const cancel = summaryUs(decodeHistogram(result.cancelHistogram))
      Object.assign(row, {
        connect_logon_per_s: Math.round(result.connected / (result.connectElapsedMs / 1000)),
        connect_logon_p50_us: connect.p50_us,
        connect_logon_p99_us: connect.p99_us,
        connect_concurrency: spec.connectConcurrency,
        connect_failures: result.connectFailures,
        cancel_p50_us: cancel.p50_us,
        cancel_p99_us: cancel.p99_us,
        gateway_rss_idle_mib: outcome.rssIdleMiB,
        gateway_rss_mib: outcome.rssMaxMiB,
        gateway_peak_rss_mib: outcome.rssPeakMiB,
        rss_per_session_kib: result.sessions === 0 ? 0 : round2((outcome.rssMaxMiB - outcome.rssIdleMiB) * 1024 / result.sessions),
        ...(system === 'gatehouse' ? { password_hash_cost: BENCH_SCRYPT_TEXT } : {}),
      })
    }
    return row
  }

  /** Gatehouse against its baselines, per scenario and rate. */
  private addRatios (scenario: ScenarioName): void {
    const rows = this.rows.filter((r) => r.name === scenario)
    for (const rate of new Set(rows.map((r) => r.rate_per_s))) {
      const at = rows.filter((r) => r.rate_per_s === rate)
      const gh = at.find((r) => r.system === 'gatehouse')
      const bare = at.find((r) => r.system === 'bare-relay')
      const naive = at.find((r) => r.system === 'naive')
      if (gh === undefined) continue
      if (bare !== undefined) {
        gh.added_p50_us_over_bare = round2(gh.p50_us - bare.p50_us)
        gh.added_p99_us_over_bare = round2(gh.p99_us - bare.p99_us)
        if (scenario === 'platform-throughput') gh.throughput_fraction_of_bare = round2(gh.throughput_per_s / Math.max(1, bare.throughput_per_s))
      }
      if (naive !== undefined) {
        if (scenario === 'platform-throughput') gh.throughput_multiple_of_naive = round2(gh.throughput_per_s / Math.max(1, naive.throughput_per_s))
        if (gh.p50_us > 0) naive.p50_multiple_of_gatehouse = round2(naive.p50_us / gh.p50_us)
      }
    }
  }

  async close (): Promise<void> {
    await this.registry.stopAll()
    rmSync(this.tmpDir, { recursive: true, force: true })
  }
}

function writeFileEnsuringDir (file: string, text: string): void {
  mkdirSync(dirname(resolve(file)), { recursive: true })
  writeFileSync(file, text)
}

async function main (argv: string[]): Promise<number> {
  const options = parseOptions(argv)
  if (typeof options === 'number') return options
  const machine = machineInfo()
  const harness = new Harness(options)
  let interrupted = false
  const onSignal = (signal: string): void => {
    if (interrupted) {
      harness.registry.killAllNow()
      process.exit(130)
    }
    interrupted = true
    harness.progress.note(`${signal}: stopping every child process`)
    harness.close().finally(() => { process.exit(130) })
  }
  process.on('SIGINT', () => { onSignal('SIGINT') })
  process.on('SIGTERM', () => { onSignal('SIGTERM') })
  process.on('exit', () => { harness.registry.killAllNow() })

  try {
    await harness.run()
  } finally {
    await harness.close()
    harness.progress.finish()
  }
  const rows = harness.rows
  let budgets: BudgetVerdict[] | undefined
  try {
    budgets = checkBudgets(loadBudgets(options.budgetsFile), rows)
  } catch (err) {
    harness.failures.push(`budgets: ${(err as Error).message}`)
  }
  const report = {
    schema: 'gatehouse-bench/1',
    profile: options.profile.name,
    command: `node dist/bench/run.js ${argv.join(' ')}`.trim(),
    machine: {
      ...machine,
      processes: 'each load scenario: one load-generator process + the system under test (gatehouse: supervisor and 3 lane threads in one process; ' +
        'bare-relay: one uWS process; naive: one process + piscina worker threads) + one exchange-sim process, all on the same 2 vCPUs; ' +
        'per-run CPU shares are in each scenario\'s cores_shared_by',
    },
    scenarios: rows,
    skipped: harness.skipped,
    failures: harness.failures,
    budgets,
  }
  if (options.json !== undefined) writeFileEnsuringDir(options.json, JSON.stringify(report, null, 2) + '\n')
  if (options.html !== undefined) writeFileEnsuringDir(options.html, renderHtml(report))

  process.stdout.write('\n' + formatTable(rows))
  for (const s of harness.skipped) process.stdout.write(`not run: ${s.scenario} × ${s.system}: ${s.reason}\n`)
  for (const f of harness.failures) process.stdout.write(`FAILED: ${f}\n`)
  let code = harness.failures.length > 0 ? 1 : 0
  if (options.check && budgets !== undefined) {
    process.stdout.write('\nbudgets (bench/budgets.json):\n')
    for (const b of budgets) process.stdout.write(`  ${b.ok ? 'met   ' : 'MISSED'} ${b.budget} [${b.scenario}]: ${b.detail}\n`)
    if (budgets.some((b) => !b.ok)) code = 1
  }
  return code
}

main(process.argv.slice(2)).then((code) => {
  process.exit(code)
}, (err: unknown) => {
  process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`)
  process.exit(1)
})
