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
// - checks, codec, journal: in-thread micro-benchmarks (micro-bench.ts);
// - hft-latency: one hft session, open loop at fixed rates; at the budget
//   rate also Gatehouse with its journal off and under the other two fsync
//   policies (the journal's cost, same run);
// - hft-isolation: hft-latency at 10k/s, quiet and then while a second
//   generator floods the platform and terminal lanes (gatehouse only);
// - platform-throughput: 4 sessions, closed loop with a window per session,
//   Gatehouse also with its journal off; the records/s the platform lane
//   thread journaled are counted from its stream after the run;
// - terminal-sessions: thousands of sessions, one order per 5 s each;
// - logon-rate: look-through logons per second at the production scrypt
//   cost (gatehouse only).
//
// Every loop is bounded in count and time, and every child process is
// stopped at the end, on error, and on SIGINT/SIGTERM.
import { fork, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { ChildRegistry, HOST, startSystem, type RunningSystem } from './systems.js'
import { countJournalWindow } from './journal-count.js'
import { cdfPointsUs, decodeHistogram, round2, summaryUs } from './histogram.js'
import { cpuShares, machineInfo, memoryMiB, snapshotCpu, threadCpuSeconds, type CpuSnapshot } from './proc-stats.js'
import { Progress } from './progress.js'
import { formatHeadlineTable, formatTable } from './report-table.js'
import { summarizeRepetitions } from './repeat-summary.js'
import { renderHtml } from './report-html.js'
import { BENCH_IDENTITY, BENCH_MAX_SESSIONS, BENCH_ORDER_SLOTS_PER_ACCOUNT, BENCH_SCRYPT_TEXT, GATEHOUSE_JOURNAL, PRODUCTION_SCRYPT_TEXT } from './gatehouse-config.js'
import { SCRYPT_PARAMS } from '../supervisor/access/password-hash.js'
import { DEFAULT_BUDGETS_FILE, checkBudgets, loadBudgets, type BudgetVerdict } from './budgets.js'
import { SYSTEM_NAMES, isGatehouse, type Credentials, type GatehouseSystem, type GeneratorResult, type GeneratorSpec, type GeneratorToRunner, type ProcessShare, type ScenarioRow, type SystemName, type WireMode } from './types.js'
import type { MicroOptions } from './micro-bench.js'
import { nowMicros } from '../protocol/clock.js'

const BENCH_DIR = dirname(fileURLToPath(import.meta.url))
const SCENARIOS = ['checks', 'codec', 'journal', 'hft-latency', 'hft-isolation', 'platform-throughput', 'terminal-sessions', 'logon-rate'] as const
type ScenarioName = typeof SCENARIOS[number]
const PASSWORD = 'bench-pass-1'
const INSTRUMENT = 'rb2605'
/** A generator gets this long past its own bounds before the runner kills it. */
const GENERATOR_GRACE_MS = 20_000
/**
 * hft-isolation: the flood's measurement window outlasts the hft run's
 * warm-up and window by at least this much, to cover the hft generator's
 * start and logon; the run checks that it did.
 */
const FLOOD_SLACK_S = 3
/**
 * ...and by this many times what the quiet run took from its fork to its
 * logged-on session ('connected'), since under the flood that takes
 * longer: on a machine already busy (CI runs the smoke run beside other
 * test files) a fixed 1.5 s was outrun, and so, once, were 3 startups.
 */
const FLOOD_SLACK_STARTUPS = 6
/** logon-rate: per-logon allowance of the whole run's bound (about 4x the ~50 ms scrypt check, for a busy machine). */
const LOGON_BOUND_MS_PER_SESSION = 200
/** logon-rate: one session's connect-to-LogonReply limit, the terminal lane's own logonTimeoutMs. */
const LOGON_TIMEOUT_MS = 30_000
/** Printed with the results and written to JSON and HTML: what hft-isolation can and cannot show on this machine. */
const ISOLATION_NOTE = 'hft-isolation: on 2 vCPUs the hft lane thread shares the cores with the flooded lanes\' threads, the supervisor, ' +
  'the exchange simulator (one thread serving all three lanes\' links) and both load generators, the hft one spinning the last ' +
  '70 µs before each send (bench/pacer.ts; its CPU is in each row\'s thread_cpu_us_per_order). Part of any rise under the flood is therefore CPU contention and queueing in the shared ' +
  'simulator, not coupling between lane threads; see each row\'s cores_shared_by. Only a host with a core per lane thread and ' +
  'per generator, and an exchange that does not serve every link from one thread, would measure the coupling alone.'
/**
 * The journal variants of Gatehouse and the only scenarios each runs in:
 * there they measure what the journal costs, anywhere else they would only
 * lengthen the run (the full run grows by ~35 s).
 */
const VARIANT_SCENARIOS: Readonly<Record<Exclude<GatehouseSystem, 'gatehouse'>, readonly ScenarioName[]>> = {
  'gatehouse-journal-off': ['hft-latency', 'platform-throughput'],
  'gatehouse-fsync-never': ['hft-latency'],
  'gatehouse-fsync-100ms': ['hft-latency'],
  'gatehouse-fsync-every-batch': ['hft-latency'],
  // Journal replication on vs off (gatehouse) in the same run: the lanes must not notice it.
  'gatehouse-replicated': ['hft-latency', 'platform-throughput'],
}
const JOURNAL_BASELINE: SystemName = 'gatehouse-journal-off'
const JOURNAL_NOTE = 'journal: every gatehouse-* row is the same gateway as gatehouse with one field of its journal config changed ' +
  '(gatehouse: the default, journal on, fsync every 10 ms on the thread pool; gatehouse-journal-off: enabled false, the same-run ' +
  'baseline of the journal\'s cost; gatehouse-fsync-never; gatehouse-fsync-100ms: fsync every 100 ms; gatehouse-fsync-every-batch: fdatasync inside every commit, on the lane thread). ' +
  'Each gateway run journals into a fresh directory under os.tmpdir() (on this machine\'s disk), deleted after the run. The variants run ' +
  'only at the hft budget\'s rate, warmed up longer there (gatehouse reaches that rate warm from the lower rates). "over journal off" is ' +
  'the difference from gatehouse-journal-off at the same rate in the same run. The platform lane\'s records/s are counted after the run from its ' +
  'journal stream (journal/reader.ts readStream: records stamped inside the measurement window, divided by the window).'
const LOGON_NOTE = `logon-rate: ${PRODUCTION_SCRYPT_TEXT}, as every production account; each logon is two checks in the supervisor's ` +
  'piscina pool (AuthCode HMAC, then scrypt), on the same 2 vCPUs as the lane threads and the load generator. The other scenarios ' +
  `log on with ${BENCH_SCRYPT_TEXT} so that thousands of sessions connect in seconds.`

interface Profile {
  name: string
  hft: { rates: number[], warmupS: number, measureS: number, drainS: number }
  platform: { sessions: number, windowPerSession: number, warmupS: number, measureS: number, drainS: number }
  terminal: { sessions: number, perSessionIntervalS: number, warmupS: number, measureS: number, drainS: number, connectConcurrency: number }
  /** hft-isolation: the hft run (open loop, one session) and the closed-loop flood on the other lanes. */
  isolation: {
    ratePerS: number
    warmupS: number
    measureS: number
    drainS: number
    flood: { platformSessions: number, terminalSessions: number, windowPerSession: number, warmupS: number }
  }
  logon: { sessions: number, concurrency: number }
  /**
   * The journal variants this profile runs unless --systems names others,
   * their hft rates, and their warm-up at the first of them: longer than
   * hft.warmupS, since gatehouse reaches its budget-rate run warm from the
   * lower rates before it, and a variant starts there cold.
   */
  journal: { variants: GatehouseSystem[], hftRates: number[], hftWarmupS: number }
  micro: MicroOptions
}

const PROFILES: Record<string, Profile> = {
  default: {
    name: 'default',
    hft: { rates: [1_000, 10_000, 50_000], warmupS: 1, measureS: 4, drainS: 2 },
    platform: { sessions: 4, windowPerSession: 32, warmupS: 1, measureS: 5, drainS: 2 },
    terminal: { sessions: 5_000, perSessionIntervalS: 5, warmupS: 1, measureS: 10, drainS: 2, connectConcurrency: 200 },
    isolation: { ratePerS: 10_000, warmupS: 1, measureS: 4, drainS: 2, flood: { platformSessions: 4, terminalSessions: 2, windowPerSession: 32, warmupS: 1 } },
    logon: { sessions: 500, concurrency: 32 },
    // At the hft budget's rate only (budgets.json): 3 variants x 1 rate.
    journal: { variants: ['gatehouse-journal-off', 'gatehouse-fsync-never', 'gatehouse-fsync-100ms', 'gatehouse-fsync-every-batch'], hftRates: [10_000], hftWarmupS: 3 },
    micro: { samples: 3_000, allocationOps: 1_000_000 },
  },
  quick: {
    name: 'quick',
    hft: { rates: [1_000, 10_000, 50_000], warmupS: 0.3, measureS: 0.7, drainS: 1 },
    platform: { sessions: 4, windowPerSession: 32, warmupS: 0.3, measureS: 1, drainS: 1 },
    // 1 order per 2 s per session, so that each session also cancels within the short window.
    terminal: { sessions: 500, perSessionIntervalS: 2, warmupS: 0.3, measureS: 2, drainS: 1, connectConcurrency: 100 },
    // A full second of warm-up: at 0.3 s the quiet run, the gateway's first
    // traffic, still measured the JIT warming up (p50 ~8x the default run's).
    isolation: { ratePerS: 10_000, warmupS: 1, measureS: 1, drainS: 1, flood: { platformSessions: 4, terminalSessions: 2, windowPerSession: 32, warmupS: 0.5 } },
    logon: { sessions: 200, concurrency: 32 },
    journal: { variants: ['gatehouse-journal-off', 'gatehouse-fsync-never', 'gatehouse-fsync-100ms', 'gatehouse-fsync-every-batch'], hftRates: [10_000], hftWarmupS: 1.5 },
    micro: { samples: 500, allocationOps: 200_000 },
  },
  smoke: {
    name: 'smoke',
    hft: { rates: [200], warmupS: 0.2, measureS: 1, drainS: 1 },
    platform: { sessions: 2, windowPerSession: 4, warmupS: 0.2, measureS: 1, drainS: 1 },
    terminal: { sessions: 20, perSessionIntervalS: 0.5, warmupS: 0.2, measureS: 1.5, drainS: 1, connectConcurrency: 20 },
    isolation: { ratePerS: 1_000, warmupS: 0.2, measureS: 1, drainS: 1, flood: { platformSessions: 2, terminalSessions: 1, windowPerSession: 4, warmupS: 0.2 } },
    logon: { sessions: 20, concurrency: 32 },
    // One variant, so the smoke run exercises the same-run journal baseline and stays short.
    journal: { variants: ['gatehouse-journal-off'], hftRates: [200], hftWarmupS: 0.2 },
    micro: { samples: 100, allocationOps: 50_000 },
  },
}

const HELP = `usage: npm run bench -- [options]
       node dist/bench/run.js [options]

Benchmarks Gatehouse against two baselines measured in the same run: a
bare uWebSockets.js relay (the floor) and a naive ws + JSON + piscina + pino
gateway. Everything runs on 127.0.0.1 as separate processes.

scenarios (default: all, in this order):
  checks               in-thread: checkOrderValidity() alone (baseline), then the whole
                       per-order check path (session throttle + validity + risk
                       check-and-reserve + release): ns/order, bytes allocated/order
  codec                NewOrder envelope encode+decode: static vs reflection vs JSON
  journal              in-thread: append of a client NewOrder frame + commit (one write(2))
                       at 1, 16 and 64 records per batch, default fsync policy: ns/record,
                       bytes allocated/record, against a bare write(2) of the same bytes
  hft-latency          one hft session, open loop at 1k, 10k, 50k orders/s; at 10k/s also
                       gatehouse-journal-off, -fsync-never, -fsync-100ms and -fsync-every-batch
  hft-isolation        gatehouse only: hft-latency at 10k orders/s, quiet, then while
                       a second generator floods the platform (4 sessions) and
                       terminal (2 sessions) lanes, closed loop, window of 32
  platform-throughput  4 platform sessions, closed loop (window of 32 per session), also
                       gatehouse-journal-off; records/s journaled by the platform lane thread
  terminal-sessions    5000 terminal sessions, one order (then a cancel) per 5 s each
  logon-rate           gatehouse only: 500 look-through logons, 32 in flight, at the
                       production scrypt cost (N=16384 r=8 p=1)

options:
  --quick              ~65 s run: shorter windows, 500 terminal sessions, 200 logons
  --smoke              seconds-long run at tiny rates (CI): all scenarios, all systems
                       (of the journal variants, gatehouse-journal-off only)
  --scenario NAME      run only this scenario (repeatable)
  --systems LIST       comma-separated subset of ${SYSTEM_NAMES.join(',')}
                       (gatehouse is the default config; the gatehouse-* journal variants
                       run only in hft-latency, and journal-off also in platform-throughput)
  --rates LIST         hft-latency rates, e.g. 10000 or 1000,50000 (the journal variants too)
  --measure-s N        measurement window of the load scenarios, seconds
  --json FILE          write the results as JSON
  --html FILE          write a self-contained HTML report (latency CDFs, throughput)
  --repeat N           run the whole selection N times (fresh processes each time) and
                       report every figure as the median with its min–max spread;
                       ratios are medians of the same-run ratios (headline figures: 3)
  --pacer-spin-us N    open loop: the generator spins when its next send is under N µs away
                       and sleeps otherwise (default 70; 250 spins at 10k/s, as before: to
                       compare the generator's CPU, in thread_cpu_us_per_order)
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
  /** Complete same-run sets to run; rows are then medians with their spread. */
  repeat: number
  /** The open-loop generator's spin window, µs (unset: its default). */
  pacerSpinUs?: number
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
        repeat: { type: 'string' },
        'pacer-spin-us': { type: 'string' },
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
  const systems: string[] = typeof values.systems === 'string' ? values.systems.split(',') : ['bare-relay', 'gatehouse', 'naive', ...profile.journal.variants]
  for (const s of systems) {
    if (!(SYSTEM_NAMES as readonly string[]).includes(s)) {
      process.stderr.write(`bench: unknown system "${s}"; choose from ${SYSTEM_NAMES.join(', ')}\n`)
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
    profile.journal.hftRates = rates
  }
  if (typeof values['measure-s'] === 'string') {
    const seconds = Number(values['measure-s'])
    if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 600) {
      process.stderr.write('bench: --measure-s takes a number of seconds in (0, 600]\n')
      return 2
    }
    profile.hft.measureS = profile.platform.measureS = profile.terminal.measureS = profile.isolation.measureS = seconds
  }
  let repeat = 1
  if (typeof values.repeat === 'string') {
    repeat = Number(values.repeat)
    if (!Number.isInteger(repeat) || repeat < 1 || repeat > 20) {
      process.stderr.write('bench: --repeat takes a whole number of repetitions from 1 to 20, e.g. --repeat 3\n')
      return 2
    }
  }
  let pacerSpinUs: number | undefined
  if (typeof values['pacer-spin-us'] === 'string') {
    pacerSpinUs = Number(values['pacer-spin-us'])
    if (!Number.isFinite(pacerSpinUs) || pacerSpinUs < 0 || pacerSpinUs > 10_000) {
      process.stderr.write('bench: --pacer-spin-us takes microseconds from 0 to 10000, e.g. --pacer-spin-us 250\n')
      return 2
    }
  }
  return {
    repeat,
    pacerSpinUs,
    profile,
    scenarios: SCENARIOS.filter((s) => scenarios.includes(s)),
    systems: SYSTEM_NAMES.filter((s) => systems.includes(s)),
    json: values.json as string | undefined,
    html: values.html as string | undefined,
    check: values.check === true,
    budgetsFile: (values.budgets as string | undefined) ?? DEFAULT_BUDGETS_FILE,
    gatewayNodeArgs: typeof values['gateway-node-args'] === 'string' ? values['gateway-node-args'].split(/\s+/).filter((a) => a !== '') : [],
  }
}

/** Accounts for every session any scenario of this profile logs on. */
function benchCredentials (profile: Profile): { hft: Credentials[], platform: Credentials[], terminal: Credentials[], flood: Credentials[], logon: Credentials[] } {
  const make = (id: string): Credentials => ({ account: id, password: PASSWORD })
  const { flood } = profile.isolation
  // Logon sessions share accounts round robin, BENCH_MAX_SESSIONS each at
  // most, so that no logon is refused for the session cap.
  const logonAccounts = Math.ceil(profile.logon.sessions / BENCH_MAX_SESSIONS)
  return {
    hft: [make('bench-hft')],
    platform: Array.from({ length: profile.platform.sessions }, (_, i) => make(`bench-platform-${i}`)),
    // One account per terminal session, so a per-user session cap (a later
    // issue) cannot turn this into a test of that cap.
    terminal: Array.from({ length: profile.terminal.sessions }, (_, i) => make(`bench-term-${String(i).padStart(5, '0')}`)),
    flood: Array.from({ length: flood.platformSessions + flood.terminalSessions }, (_, i) => make(`bench-flood-${i}`)),
    logon: Array.from({ length: profile.logon.sessions }, (_, i) => ({
      ...make(`bench-logon-${String(i % logonAccounts).padStart(4, '0')}`),
      scrypt: SCRYPT_PARAMS,
    })),
  }
}

const WIRE: Record<SystemName, WireMode> = {
  gatehouse: 'client',
  'gatehouse-journal-off': 'client',
  'gatehouse-fsync-never': 'client',
  'gatehouse-fsync-100ms': 'client',
  'gatehouse-fsync-every-batch': 'client',
  'gatehouse-replicated': 'client',
  'bare-relay': 'link',
  naive: 'json',
}

/** The selected systems that run in a load scenario, in SYSTEM_NAMES order (baselines first). */
function systemsFor (scenario: ScenarioName, selected: readonly SystemName[]): SystemName[] {
  return selected.filter((system) => {
    if (system !== 'gatehouse' && isGatehouse(system)) return VARIANT_SCENARIOS[system].includes(scenario)
    // The relay opens one link session per client: see run().
    return !(scenario === 'terminal-sessions' && system === 'bare-relay')
  })
}

/**
 * The hft lane thread's CPU, quiet and flooded. Node 20 does not name
 * worker threads in /proc, so it is inferred: the gateway's busiest thread
 * in the quiet run, when only the hft lane had work.
 */
function hftThreadCpu (quiet: GeneratorOutcome, flooded: GeneratorOutcome): Record<string, unknown> {
  const threadsOf = (o: GeneratorOutcome): Array<{ name: string, cpu_pct: number }> => o.ours.find((p) => p.role.startsWith('gatehouse'))?.threads ?? []
  // Lane threads name themselves (lane-hft); an older gateway's is inferred as the busiest in the quiet run.
  const named = threadsOf(quiet).find((t) => t.name.startsWith('lane-hft'))
  const busiest = named ?? threadsOf(quiet)[0]
  if (busiest === undefined) return {}
  return {
    hft_lane_thread: named !== undefined ? busiest.name : `${busiest.name} (inferred: the gateway's busiest thread in the quiet run)`,
    hft_lane_thread_cpu_pct_quiet: busiest.cpu_pct,
    // Under 1% of a core is not listed: then it did next to no work.
    hft_lane_thread_cpu_pct_flood: threadsOf(flooded).find((t) => t.name === busiest.name)?.cpu_pct ?? 0,
  }
}

/** Each process's CPU over the window, for the rows' cores_shared_by. */
function coresSharedBy (outcome: { ours: ProcessShare[], others: ProcessShare[] }): string[] {
  return [...outcome.ours, ...outcome.others].map((p) =>
    `${p.role} (pid ${p.pid}): ${p.cpu_pct}%` + (p.threads === undefined ? '' : ` [busiest threads: ${p.threads.slice(0, 4).map((t) => `${t.name} ${t.cpu_pct}%`).join(', ')}]`))
}

/**
 * CPU per order of the gateway process and of its busiest thread (in
 * platform-throughput, the platform lane thread: the only lane with work),
 * over the measurement window.
 */
function cpuPerOrder (outcome: GeneratorOutcome, ordersPerS: number): Record<string, unknown> {
  const gateway = outcome.ours.find((p) => p.role.startsWith('gatehouse'))
  if (gateway === undefined || ordersPerS <= 0) return {}
  const usPerOrder = (pct: number): number => round2(pct / 100 * 1e6 / ordersPerS)
  const busiest = gateway.threads?.[0]
  return {
    gateway_cpu_us_per_order: usPerOrder(gateway.cpu_pct),
    ...(busiest === undefined ? {} : { busiest_thread: busiest.name, busiest_thread_cpu_pct: busiest.cpu_pct, busiest_thread_cpu_us_per_order: usPerOrder(busiest.cpu_pct) }),
  }
}

/**
 * CPU µs per answered order of every thread of the run (the lane thread,
 * the gateway's supervisor, the relay, the simulator, the generator and its
 * pacer), from /proc/<pid>/task/<tid>/stat over the measurement window.
 * Ticks are 10 ms: over a window of seconds the figure is good to ~1%.
 * `lane_thread_cpu_us_per_order` is the busiest lane thread (the lane the
 * scenario drives), named by the thread itself (lane-<name>).
 */
function threadCpuPerOrder (outcome: GeneratorOutcome, answered: number): Record<string, unknown> {
  if (outcome.windowS <= 0 || answered <= 0) return {}
  // Orders answered in the window: the generator's count over its own window, scaled to the snapshots' window.
  const orders = answered / outcome.result.measureS * outcome.windowS
  const perOrder: Record<string, number> = {}
  let lane: [string, number] | null = null
  for (const [key, seconds] of [...outcome.threadCpuS].sort((a, b) => b[1] - a[1])) {
    const us = round2(seconds * 1e6 / orders)
    perOrder[key] = us
    if (lane === null && key.includes(':lane-')) lane = [key, us]
  }
  return {
    thread_cpu_us_per_order: perOrder,
    ...(lane === null ? {} : { lane_thread: lane[0], lane_thread_cpu_us_per_order: lane[1] }),
  }
}

/** A platform row's journal figures: what its lane thread journaled per second of the window. */
function journalThroughput (count: ReturnType<typeof countJournalWindow>, row: ScenarioRow): Record<string, unknown> {
  const perS = (n: number): number => Math.round(n / count.window_s)
  const answered = Number(row.answered)
  return {
    journal_stream: count.stream,
    journal_records_per_s_per_lane_thread: perS(count.records),
    journal_batches_per_s: perS(count.batches),
    journal_records_per_batch: count.batches > 0 ? round2(count.records / count.batches) : 0,
    // Orders answered in the window: ~7 records each (client in, decision, link out, and the ACK and CANCELLED both in from the link and out to the client).
    journal_records_per_order: answered > 0 ? round2(count.records / answered) : 0,
    journal_mib_per_s: round2(count.bytes / count.window_s / 1024 / 1024),
    journal_records_in_window: count.records,
    journal_records_by_kind: count.records_by_kind,
    journal_stream_records_total: count.stream_records_total,
    journal_read_ms: count.read_ms,
    journal_count_method: 'counted after the run from the platform stream (journal/reader.ts readStream, verified records): records stamped inside the measurement window / window seconds',
  }
}

/** How runGenerator treats one generator beyond its spec. */
interface GeneratorOptions {
  /** Sample the gateway's RSS while sessions are up (terminal-sessions). */
  sampleMemory?: boolean
  /** Its role in the CPU accounting. */
  role?: string
  /** Other generators running alongside, by pid, for the CPU accounting. */
  extraRoles?: Map<number, string>
  /** Drive the progress bar (off for a generator running behind another one). */
  progress?: boolean
  onFork?: (child: ChildProcess) => void
  onPhase?: (phase: 'connected' | 'measuring' | 'draining') => void
}

interface GeneratorOutcome {
  result: GeneratorResult
  ours: ProcessShare[]
  others: ProcessShare[]
  rssIdleMiB: number
  rssMaxMiB: number
  rssPeakMiB: number
  /** CPU seconds per `<process>:<thread>` over the measurement window (proc-stats.ts threadCpuSeconds), and the window's seconds. */
  threadCpuS: Map<string, number>
  windowS: number
}

class Harness {
  readonly registry = new ChildRegistry()
  readonly rows: ScenarioRow[] = []
  readonly failures: string[] = []
  readonly skipped: Array<{ scenario: string, system: string, reason: string }> = []
  /** Caveats of the scenarios that ran, shown with the results. */
  readonly notes: string[] = []
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
      if (s === 'checks' || s === 'codec' || s === 'journal') total += this.microWeight(s)
      if (s === 'hft-latency') {
        for (const system of systemsFor(s, systems)) {
          const rates = this.hftRatesOf(system)
          total += startS + rates.length * (profile.hft.warmupS + profile.hft.measureS + 0.5) + (this.isVariant(system) ? Math.max(0, profile.journal.hftWarmupS - profile.hft.warmupS) : 0)
        }
      }
      if (s === 'platform-throughput') total += systemsFor(s, systems).length * (startS + profile.platform.warmupS + profile.platform.measureS + 0.5)
      if (s === 'terminal-sessions') total += systemsFor(s, systems).length * (startS + profile.terminal.sessions / 1000 + profile.terminal.warmupS + profile.terminal.measureS)
      if (!systems.includes('gatehouse')) continue
      if (s === 'hft-isolation') total += startS + this.isolationWeight() * 2 + profile.isolation.flood.warmupS
      if (s === 'logon-rate') total += startS + this.logonWeight()
    }
    return total
  }

  /** Seconds a micro-benchmark takes, roughly. */
  private microWeight (which: 'checks' | 'codec' | 'journal'): number {
    const { name } = this.options.profile
    if (name === 'smoke') return 1
    if (which === 'checks') return name === 'quick' ? 5 : 15
    return which === 'journal' && name === 'default' ? 8 : 5
  }

  /** A journal variant of Gatehouse (not the default config). */
  private isVariant (system: SystemName): boolean {
    return system !== 'gatehouse' && isGatehouse(system)
  }

  /** hft-latency rates of a system: the journal variants run only at the profile's journal rates. */
  private hftRatesOf (system: SystemName): number[] {
    const { profile } = this.options
    return this.isVariant(system) ? profile.journal.hftRates : profile.hft.rates
  }

  private isolationWeight (): number {
    const { isolation } = this.options.profile
    return isolation.warmupS + isolation.measureS + 0.5
  }

  /** ~25 ms a logon: two ~50 ms production scrypt checks at a time. */
  private logonWeight (): number {
    return this.options.profile.logon.sessions * 0.025
  }

  async run (): Promise<void> {
    for (const scenario of this.options.scenarios) {
      switch (scenario) {
        case 'checks':
        case 'codec':
        case 'journal':
          await this.runMicro(scenario)
          break
        case 'hft-latency':
          await this.runLoad(scenario, systemsFor(scenario, this.options.systems))
          if (systemsFor(scenario, this.options.systems).some((s) => this.isVariant(s))) this.addNote(JOURNAL_NOTE)
          break
        case 'platform-throughput':
          await this.runLoad(scenario, systemsFor(scenario, this.options.systems))
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
          await this.runLoad(scenario, systemsFor(scenario, this.options.systems))
          break
        case 'hft-isolation':
          this.skipBaselines(scenario, {
            'bare-relay': 'no lanes: one thread serves every client, so there is no lane isolation to test',
            naive: 'no lanes: one main thread serves every client, so there is no lane isolation to test',
          })
          if (this.options.systems.includes('gatehouse')) await this.runIsolation()
          break
        case 'logon-rate':
          this.skipBaselines(scenario, {
            'bare-relay': 'no client logon: the relay logs its own link on to the exchange',
            naive: 'no look-through logon, only a plain-password compare (its logon rate is in terminal-sessions)',
          })
          if (this.options.systems.includes('gatehouse')) await this.runLogonRate()
          break
      }
    }
  }

  /** Gatehouse-only scenarios: say why each selected baseline does not run. */
  private skipBaselines (scenario: ScenarioName, reasons: Record<'bare-relay' | 'naive', string>): void {
    for (const system of this.options.systems) if (system === 'bare-relay' || system === 'naive') this.skipped.push({ scenario, system, reason: reasons[system] })
  }

  private addNote (note: string): void {
    if (!this.notes.includes(note)) this.notes.push(note)
  }

  // ---- micro-benchmarks -------------------------------------------------

  private async runMicro (which: 'checks' | 'codec' | 'journal'): Promise<void> {
    this.progress.begin(`${which}: in-thread micro-benchmark`, this.microWeight(which))
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
      if (which === 'journal') this.addNote(JOURNAL_NOTE)
      this.rows.push(...rows)
    } catch (err) {
      this.failures.push(`${which}: ${(err as Error).message}`)
      this.progress.note(`${which} failed: ${(err as Error).message}`)
    } finally {
      await this.registry.stop(child)
    }
  }

  // ---- load scenarios ---------------------------------------------------

  private baseSpec (system: SystemName): Pick<GeneratorSpec, 'wire' | 'host' | 'instrument' | 'connectTimeoutMs' | 'identity'> {
    return { wire: WIRE[system], host: HOST, instrument: INSTRUMENT, connectTimeoutMs: 10_000, ...(isGatehouse(system) ? { identity: BENCH_IDENTITY } : {}) }
  }

  /** One hft session, open loop at `rate` (hft-latency, and both halves of hft-isolation). */
  private hftSpec (label: string, system: SystemName, running: RunningSystem, rate: number, timing: { warmupS: number, measureS: number, drainS: number }): GeneratorSpec {
    return {
      ...this.baseSpec(system),
      label,
      port: running.ports.hft!,
      credentials: this.credentials.hft,
      flow: 'fak-alternate',
      pacing: 'open-loop',
      ratePerS: rate,
      windowPerSession: 0,
      connectConcurrency: 1,
      warmupS: timing.warmupS,
      measureS: timing.measureS,
      drainTimeoutS: timing.drainS,
      // Half a second of backlog, but never more orders working than one
      // Gatehouse account may have: past that Gatehouse refuses
      // (MAX_OPEN_ORDERS), fast, and the refusals would pass for latency.
      // The same cap for every system. Past it the run is saturated: the
      // due orders wait and are charged from their intended times.
      maxOutstanding: Math.min(Math.max(1_000, Math.round(rate / 2)), BENCH_ORDER_SLOTS_PER_ACCOUNT),
    }
  }

  private specsFor (scenario: ScenarioName, system: SystemName, running: RunningSystem): GeneratorSpec[] {
    const { profile } = this.options
    const base = this.baseSpec(system)
    switch (scenario) {
      case 'hft-latency':
        return this.hftRatesOf(system).map((rate, i) => this.hftSpec(`${scenario} ${system} ${rate}/s`, system, running, rate,
          // A variant's first rate is its first traffic: warm it up as long as gatehouse's lower rates warm gatehouse.
          i === 0 && this.isVariant(system) ? { ...profile.hft, warmupS: Math.max(profile.hft.warmupS, profile.journal.hftWarmupS) } : profile.hft))
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
      const running = await this.start(scenario, system, [...this.credentials.hft, ...this.credentials.platform, ...this.credentials.terminal])
      if (running === null) continue
      // Run once the gateway has stopped and its journal is sealed.
      let inspectJournal: ((journalRoot: string) => void) | undefined
      try {
        for (const spec of this.specsFor(scenario, system, running)) {
          const weight = scenario === 'terminal-sessions'
            ? profile.terminal.sessions / 1000 + profile.terminal.warmupS + profile.terminal.measureS
            : spec.warmupS + spec.measureS + 0.5
          this.progress.begin(spec.label, weight)
          try {
            let windowStartUs = 0
            const outcome = await this.runGenerator(spec, running, {
              sampleMemory: scenario === 'terminal-sessions',
              onPhase: (phase) => { if (phase === 'measuring') windowStartUs = nowMicros() },
            })
            const row = this.rowFrom(scenario, system, spec, outcome)
            this.rows.push(row)
            for (const error of outcome.result.errors.slice(0, 3)) this.progress.note(`${spec.label}: ${error}`)
            if (scenario === 'platform-throughput' && running.journalRoot !== null) {
              inspectJournal = (journalRoot) => {
                Object.assign(row, journalThroughput(countJournalWindow(journalRoot, 'platform', windowStartUs, spec.measureS), row))
              }
            }
          } catch (err) {
            this.failures.push(`${spec.label}: ${(err as Error).message}`)
            this.progress.note(`${spec.label} failed: ${(err as Error).message}`)
          }
        }
      } finally {
        try {
          await running.stop(inspectJournal)
        } catch (err) {
          this.failures.push(`${scenario} ${system}: counting the journal's records: ${(err as Error).message}`)
          this.progress.note(`${scenario} ${system}: counting the journal's records failed: ${(err as Error).message}`)
        }
      }
    }
    this.addRatios(scenario)
  }

  // ---- hft-isolation ----------------------------------------------------

  /**
   * One gatehouse run, two hft measurements at the same rate: (a) quiet,
   * (b) while a second generator floods the platform (and terminal) lanes
   * closed loop. The flood is connected and past its warm-up before the
   * hft generator forks, and its window outlasts the hft window.
   */
  private async runIsolation (): Promise<void> {
    const scenario = 'hft-isolation'
    const { isolation } = this.options.profile
    const { flood } = isolation
    const running = await this.start(scenario, 'gatehouse', [...this.credentials.hft, ...this.credentials.flood])
    if (running === null) return
    const floodLanes = ['platform', ...(flood.terminalSessions > 0 ? ['terminal'] : [])]
    const floodName = `${floodLanes.join('+')}-flood`
    const floodRole = `flood load generator (${floodLanes.join(' + ')} lanes)`
    const chartGroup = `${scenario} @ ${isolation.ratePerS}/s`
    let floodChild = null as ChildProcess | null
    let floodRun: Promise<GeneratorOutcome> | null = null
    try {
      // (a) quiet: the hft lane alone, as hft-latency.
      const quietSpec = this.hftSpec(`${scenario} quiet ${isolation.ratePerS}/s`, 'gatehouse', running, isolation.ratePerS, isolation)
      this.progress.begin(quietSpec.label, this.isolationWeight())
      const quietForkMs = performance.now()
      let quietStartupS = 0
      const quietOutcome = await this.runGenerator(quietSpec, running, {
        onPhase: (phase) => { if (phase === 'connected') quietStartupS = (performance.now() - quietForkMs) / 1000 },
      })
      const quiet = this.rowFrom(scenario, 'gatehouse', quietSpec, quietOutcome)
      Object.assign(quiet, { name: `${scenario}/quiet`, chart_group: chartGroup, series: 'quiet', ...this.isolationCpu(quietOutcome) })
      this.rows.push(quiet)

      // (b) the same hft run while the flood runs.
      const floodSessions = flood.platformSessions + flood.terminalSessions
      const floodSpec: GeneratorSpec = {
        ...this.baseSpec('gatehouse'),
        label: `${scenario} ${floodName}`,
        port: running.ports.platform!,
        sessionPorts: this.credentials.flood.map((_, i) => i < flood.platformSessions ? running.ports.platform! : running.ports.terminal!),
        credentials: this.credentials.flood,
        flow: 'fak-alternate',
        pacing: 'closed-loop',
        ratePerS: 0,
        windowPerSession: flood.windowPerSession,
        connectConcurrency: floodSessions,
        warmupS: flood.warmupS,
        measureS: isolation.warmupS + isolation.measureS + Math.max(FLOOD_SLACK_S, FLOOD_SLACK_STARTUPS * quietStartupS),
        drainTimeoutS: isolation.drainS,
        maxOutstanding: floodSessions * flood.windowPerSession,
      }
      const hftSpec = this.hftSpec(`${scenario} ${floodName} ${isolation.ratePerS}/s`, 'gatehouse', running, isolation.ratePerS, isolation)
      this.progress.begin(`${hftSpec.label} (flood warm-up)`, flood.warmupS)
      let floodMeasuring = (): void => {}
      const floodStarted = new Promise<void>((resolve) => { floodMeasuring = resolve })
      let floodDraining = false
      // When each window began (runner clock, IPC delay alike for both), to
      // pick the flood's seconds that fall inside the hft window.
      let floodStartMs = 0
      let hftStartMs = 0
      const extraRoles = new Map<number, string>()
      floodRun = this.runGenerator(floodSpec, running, {
        role: floodRole,
        progress: false,
        onFork: (child) => {
          floodChild = child
          extraRoles.set(child.pid!, floodRole)
        },
        onPhase: (phase) => {
          if (phase === 'measuring') {
            floodStartMs = performance.now()
            floodMeasuring()
          }
          if (phase === 'draining') floodDraining = true
        },
      })
      // A flood that fails before its window must not leave this waiting.
      await Promise.race([floodStarted, floodRun.then(() => { throw new Error('the flood generator finished before its measurement window began') })])
      this.progress.begin(hftSpec.label, this.isolationWeight())
      let floodCoveredHft = false
      const floodedOutcome = await this.runGenerator(hftSpec, running, {
        extraRoles,
        onPhase: (phase) => {
          if (phase === 'measuring') hftStartMs = performance.now()
          if (phase === 'draining') floodCoveredHft = !floodDraining
        },
      })
      const floodOutcome = await floodRun
      const flooded = this.rowFrom(scenario, 'gatehouse', hftSpec, floodedOutcome)
      const floodResult = floodOutcome.result
      const bySession = floodResult.answeredBySession ?? []
      const perS = (from: number, to: number): number => Math.round(bySession.slice(from, to).reduce((a, b) => a + b, 0) / floodResult.measureS)
      const floodLatency = summaryUs(decodeHistogram(floodResult.latencyHistogram))
      const ratio = (a: number, b: number): number => b > 0 ? round2(a / b) : 0
      // The flood's whole seconds inside the hft window: its rate while hft
      // was measured (its whole window also spans the hft warm-up).
      const offsetS = (hftStartMs - floodStartMs) / 1000
      const inWindow = floodResult.perSecond.filter((x) => x.t >= offsetS && x.t + 1 <= offsetS + isolation.measureS && x.t + 1 <= floodResult.measureS)
      Object.assign(flooded, {
        name: `${scenario}/${floodName}`,
        chart_group: chartGroup,
        series: floodName,
        ...this.isolationCpu(floodedOutcome),
        ...hftThreadCpu(quietOutcome, floodedOutcome),
        p50_vs_quiet: ratio(flooded.p50_us, quiet.p50_us),
        p99_vs_quiet: ratio(flooded.p99_us, quiet.p99_us),
        p999_vs_quiet: ratio(flooded.p999_us, quiet.p999_us),
        flood_lanes: floodLanes,
        flood_mode: 'closed-loop',
        flood_sessions: { platform: flood.platformSessions, terminal: flood.terminalSessions },
        flood_window_per_session: flood.windowPerSession,
        // Over the flood's own window, which spans the hft warm-up and window.
        flood_measure_s: floodResult.measureS,
        flood_throughput_per_s: Math.round(floodResult.answered / floodResult.measureS),
        flood_throughput_by_lane_per_s: { platform: perS(0, flood.platformSessions), terminal: perS(flood.platformSessions, floodSessions) },
        flood_throughput_in_hft_window_per_s: inWindow.length === 0 ? undefined : Math.round(inWindow.reduce((a, x) => a + x.answered, 0) / inWindow.length),
        flood_seconds_in_hft_window: inWindow.length,
        flood_per_second: floodResult.perSecond.map((x) => ({ t: x.t, answered: x.answered, p50_us: x.p50_us, p99_us: x.p99_us })),
        hft_window_starts_at_flood_s: round2(offsetS),
        flood_p50_us: floodLatency.p50_us,
        flood_p99_us: floodLatency.p99_us,
        flood_rejected: floodResult.rejected,
        flood_reject_reasons: floodResult.rejectReasons,
        flood_protocol_rejects: floodResult.protocolRejects,
        flood_protocol_reject_reasons: floodResult.protocolRejectReasons,
        flood_closed_sessions: floodResult.closedSessions,
        flood_covered_hft_window: floodCoveredHft,
        flood_errors: floodResult.errors,
        cores_note: ISOLATION_NOTE,
      })
      if (!floodCoveredHft) {
        this.failures.push(`${hftSpec.label}: the flood ended before the hft measurement window did; raise FLOOD_SLACK_S or FLOOD_SLACK_STARTUPS`)
      }
      this.rows.push(flooded)
      if (!this.notes.includes(ISOLATION_NOTE)) this.notes.push(ISOLATION_NOTE)
    } catch (err) {
      this.failures.push(`${scenario}: ${(err as Error).message}`)
      this.progress.note(`${scenario} failed: ${(err as Error).message}`)
    } finally {
      if (floodChild !== null) await this.registry.stop(floodChild)
      // Stopped early on failure, the flood reports an error nobody waits for.
      await floodRun?.catch(() => undefined)
      await running.stop()
    }
  }

  /** CPU of the gateway and of the shared simulator over a window: how much of the 2 cores the hft lane competed for. */
  private isolationCpu (outcome: GeneratorOutcome): Record<string, unknown> {
    const cpuOf = (prefix: string): number | undefined => outcome.ours.find((p) => p.role.startsWith(prefix))?.cpu_pct
    const total = [...outcome.ours, ...outcome.others].reduce((a, p) => a + p.cpu_pct, 0)
    return { gateway_cpu_pct: cpuOf('gatehouse'), exchange_sim_cpu_pct: cpuOf('exchange-sim'), all_processes_cpu_pct: round2(total) }
  }

  // ---- logon-rate -------------------------------------------------------

  /** Look-through logons on the terminal lane, `concurrency` in flight, production scrypt cost. */
  private async runLogonRate (): Promise<void> {
    const scenario = 'logon-rate'
    const { logon } = this.options.profile
    const credentials = this.credentials.logon
    // Several sessions per account: the config lists each account once.
    const accounts = [...new Map(credentials.map((c) => [c.account, c])).values()]
    const running = await this.start(scenario, 'gatehouse', accounts)
    if (running === null) return
    const spec: GeneratorSpec = {
      ...this.baseSpec('gatehouse'),
      label: `${scenario} gatehouse ${credentials.length} sessions`,
      port: running.ports.terminal!,
      credentials,
      flow: 'fak-alternate',
      pacing: 'closed-loop',
      ratePerS: 0,
      windowPerSession: 0,
      connectConcurrency: logon.concurrency,
      connectTimeoutMs: LOGON_TIMEOUT_MS,
      warmupS: 0,
      measureS: 0,
      drainTimeoutS: 0,
      maxOutstanding: 0,
      logonOnly: true,
      connectPhaseMaxMs: credentials.length * LOGON_BOUND_MS_PER_SESSION,
    }
    try {
      this.progress.begin(spec.label, this.logonWeight())
      const outcome = await this.runGenerator(spec, running)
      this.rows.push(this.logonRowFrom(spec, outcome))
      for (const error of outcome.result.errors.slice(0, 3)) this.progress.note(`${spec.label}: ${error}`)
      if (outcome.result.connectFailures > 0) this.failures.push(`${spec.label}: ${outcome.result.connectFailures} of ${credentials.length} logons failed`)
      if (!this.notes.includes(LOGON_NOTE)) this.notes.push(LOGON_NOTE)
    } catch (err) {
      this.failures.push(`${spec.label}: ${(err as Error).message}`)
      this.progress.note(`${spec.label} failed: ${(err as Error).message}`)
    } finally {
      await running.stop()
    }
  }

  private logonRowFrom (spec: GeneratorSpec, outcome: GeneratorOutcome): ScenarioRow {
    const { result } = outcome
    const histogram = decodeHistogram(result.connectHistogram)
    const summary = summaryUs(histogram)
    const elapsedS = result.connectElapsedMs / 1000
    const seconds = result.perSecond.filter((s) => s.t + 1 <= elapsedS).map((s) => s.answered)
    const mean = seconds.length === 0 ? 0 : seconds.reduce((a, b) => a + b, 0) / seconds.length
    const sd = seconds.length < 2 ? 0 : Math.sqrt(seconds.reduce((a, b) => a + (b - mean) ** 2, 0) / (seconds.length - 1))
    return {
      name: 'logon-rate',
      system: 'gatehouse',
      rate_per_s: 0,
      p50_us: summary.p50_us,
      p99_us: summary.p99_us,
      p999_us: summary.p999_us,
      max_us: summary.max_us,
      // Logons per second over the whole run, first connect to last LogonReply.
      throughput_per_s: elapsedS > 0 ? Math.round(result.connected / elapsedS) : 0,
      throughput_sd_per_s: Math.round(sd),
      mode: 'closed-loop',
      latency_from: 'TCP connect → LogonReply (Upgrade, AuthChallenge, Authenticate with HMAC proof, TerminalInfo, Logon with scrypt)',
      lane: 'terminal',
      password_hash_cost: PRODUCTION_SCRYPT_TEXT,
      sessions: spec.credentials.length,
      accounts: new Set(spec.credentials.map((c) => c.account)).size,
      max_sessions_per_account: BENCH_MAX_SESSIONS,
      connect_concurrency: spec.connectConcurrency,
      logons: result.connected,
      connect_failures: result.connectFailures,
      elapsed_s: round2(elapsedS),
      samples: summary.count,
      sent: result.sent,
      answered: result.answered,
      rejected: 0,
      closed_sessions: result.closedSessions,
      gateway_peak_rss_mib: outcome.rssPeakMiB,
      cores_shared_by: coresSharedBy(outcome),
      cpu: { ours: outcome.ours, others: outcome.others },
      cdf_us: cdfPointsUs(histogram),
      per_second: result.perSecond,
      errors: result.errors,
    }
  }

  /** Starts one system with these accounts; null (and a failure recorded) if it would not start. */
  private async start (scenario: ScenarioName, system: SystemName, credentials: Credentials[]): Promise<RunningSystem | null> {
    this.progress.begin(`${scenario}: starting ${system}`, 2)
    try {
      return await startSystem(this.registry, system, {
        tmpDir: this.tmpDir,
        credentials,
        gatewayNodeArgs: isGatehouse(system) ? this.options.gatewayNodeArgs : [],
      })
    } catch (err) {
      this.failures.push(`${scenario} ${system}: could not start: ${(err as Error).message}`)
      this.progress.note(`${scenario} ${system}: could not start: ${(err as Error).message}`)
      return null
    }
  }

  /** Forks one load generator, follows its phases (CPU snapshots, RSS samples) and returns its result. */
  private runGenerator (spec: GeneratorSpec, running: RunningSystem, options: GeneratorOptions = {}): Promise<GeneratorOutcome> {
    const sampleMemory = options.sampleMemory === true
    const child = this.registry.track(fork(join(BENCH_DIR, 'load-generator.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }), 'load-generator')
    options.onFork?.(child)
    const roles = new Map([...running.roles, ...(options.extraRoles ?? [])])
    roles.set(child.pid!, options.role ?? 'load generator')
    const pids = [...roles.keys()]
    const rssIdleMiB = memoryMiB(running.gatewayPid).rss_mib
    let rssMaxMiB = 0
    let rssTimer: NodeJS.Timeout | null = null
    let before: CpuSnapshot | null = null
    let after: CpuSnapshot | null = null
    const boundMs = spec.connectTimeoutMs + (spec.warmupS + spec.measureS + spec.drainTimeoutS) * 1000 +
      (spec.connectPhaseMaxMs ?? spec.credentials.length * 2) + GENERATOR_GRACE_MS
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
            options.onPhase?.(message.phase)
            if (message.phase === 'connected' && sampleMemory) {
              rssTimer = setInterval(() => { rssMaxMiB = Math.max(rssMaxMiB, memoryMiB(running.gatewayPid).rss_mib) }, 250)
              rssMaxMiB = memoryMiB(running.gatewayPid).rss_mib
            }
            if (message.phase === 'measuring') before = snapshotCpu(pids)
            if (message.phase === 'draining') after = snapshotCpu(pids)
            return
          case 'progress':
            if (options.progress !== false) this.progress.update(message.fraction)
            return
          case 'result': {
            done()
            if (sampleMemory) rssMaxMiB = Math.max(rssMaxMiB, memoryMiB(running.gatewayPid).rss_mib)
            const shares = before !== null && after !== null ? cpuShares(before, after, roles) : { ours: [], others: [] }
            const threadCpuS = before !== null && after !== null ? threadCpuSeconds(before, after, roles) : new Map<string, number>()
            const windowS = before !== null && after !== null ? (after.atMs - before.atMs) / 1000 : 0
            resolve({ result: message.result, ...shares, rssIdleMiB, rssMaxMiB, rssPeakMiB: memoryMiB(running.gatewayPid).peak_rss_mib, threadCpuS, windowS })
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
      child.send({ type: 'run', spec: this.options.pacerSpinUs === undefined ? spec : { ...spec, spinWindowUs: this.options.pacerSpinUs } })
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
      rejected_in_window: result.rejectedInWindow,
      protocol_rejects: result.protocolRejects,
      // By reason: a limit-breach code here means the bench config did not
      // lift a load-shaped limit (gatehouse-config.ts BENCH_RISK_LIMITS).
      reject_reasons: result.rejectReasons,
      protocol_reject_reasons: result.protocolRejectReasons,
      monitor_warnings: result.monitorWarnings,
      closed_sessions: result.closedSessions,
      // Part of every latency above that is the generator's own lateness
      // (open loop; the same for every system): read the tails with it.
      send_lag_p50_us: sendLag.p50_us,
      send_lag_p99_us: sendLag.p99_us,
      cores_shared_by: coresSharedBy(outcome),
      cpu: { ours: outcome.ours, others: outcome.others },
      cdf_us: cdfPointsUs(histogram),
      per_second: result.perSecond,
      errors: result.errors,
    }
    Object.assign(row, threadCpuPerOrder(outcome, result.answered))
    if (isGatehouse(system)) {
      row.journal = GATEHOUSE_JOURNAL[system].text
      if (scenario === 'platform-throughput') Object.assign(row, cpuPerOrder(outcome, row.throughput_per_s))
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
        ...(isGatehouse(system) ? { password_hash_cost: BENCH_SCRYPT_TEXT } : {}),
      })
    }
    return row
  }

  /** Gatehouse against its baselines, per scenario and rate; every journal config against journal off. */
  private addRatios (scenario: ScenarioName): void {
    const rows = this.rows.filter((r) => r.name === scenario)
    for (const rate of new Set(rows.map((r) => r.rate_per_s))) {
      const at = rows.filter((r) => r.rate_per_s === rate)
      const gh = at.find((r) => r.system === 'gatehouse')
      const bare = at.find((r) => r.system === 'bare-relay')
      const naive = at.find((r) => r.system === 'naive')
      const journalOff = at.find((r) => r.system === JOURNAL_BASELINE)
      for (const row of at.filter((r) => isGatehouse(r.system as SystemName))) {
        if (bare !== undefined) {
          row.added_p50_us_over_bare = round2(row.p50_us - bare.p50_us)
          row.added_p99_us_over_bare = round2(row.p99_us - bare.p99_us)
          if (scenario === 'platform-throughput') row.throughput_fraction_of_bare = round2(row.throughput_per_s / Math.max(1, bare.throughput_per_s))
        }
        if (naive !== undefined && scenario === 'platform-throughput') row.throughput_multiple_of_naive = round2(row.throughput_per_s / Math.max(1, naive.throughput_per_s))
        if (journalOff !== undefined && row !== journalOff) {
          row.journal_baseline = JOURNAL_BASELINE
          row.added_p50_us_over_journal_off = round2(row.p50_us - journalOff.p50_us)
          row.added_p99_us_over_journal_off = round2(row.p99_us - journalOff.p99_us)
          row.added_p999_us_over_journal_off = round2(row.p999_us - journalOff.p999_us)
          if (scenario === 'platform-throughput') row.throughput_fraction_of_journal_off = round2(row.throughput_per_s / Math.max(1, journalOff.throughput_per_s))
          if (typeof row.gateway_cpu_us_per_order === 'number' && typeof journalOff.gateway_cpu_us_per_order === 'number') {
            row.added_gateway_cpu_us_per_order_over_journal_off = round2(row.gateway_cpu_us_per_order - journalOff.gateway_cpu_us_per_order)
          }
        }
      }
      if (gh !== undefined && naive !== undefined && gh.p50_us > 0) naive.p50_multiple_of_gatehouse = round2(naive.p50_us / gh.p50_us)
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
  let harness = new Harness(options)
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

  // --repeat N: N complete same-run sets, one after the other, each with
  // fresh processes; the rows are then medians with their spread
  // (repeat-summary.ts). Notes, skips and failures are collected from all.
  const repetitions: ScenarioRow[][] = []
  const notes = new Set<string>()
  const skipped: Harness['skipped'] = []
  const failures: string[] = []
  for (let repetition = 1; repetition <= options.repeat; repetition++) {
    if (repetition > 1) harness = new Harness(options)
    if (options.repeat > 1) harness.progress.note(`repetition ${repetition} of ${options.repeat}`)
    try {
      await harness.run()
    } finally {
      await harness.close()
      harness.progress.finish()
    }
    for (const row of harness.rows) row.repetition = repetition
    repetitions.push(harness.rows)
    for (const n of harness.notes) notes.add(n)
    if (repetition === 1) skipped.push(...harness.skipped)
    failures.push(...harness.failures.map((f) => options.repeat > 1 ? `repetition ${repetition}: ${f}` : f))
  }
  const rows = options.repeat > 1 ? summarizeRepetitions(repetitions) : repetitions[0]!
  let budgets: BudgetVerdict[] | undefined
  try {
    budgets = checkBudgets(loadBudgets(options.budgetsFile), rows)
  } catch (err) {
    failures.push(`budgets: ${(err as Error).message}`)
  }
  const report = {
    schema: 'gatehouse-bench/1',
    profile: options.profile.name,
    command: `node dist/bench/run.js ${argv.join(' ')}`.trim(),
    machine: {
      ...machine,
      processes: 'each load scenario: one load-generator process + the system under test (gatehouse: supervisor and 3 lane threads in one process; ' +
        'bare-relay: one uWS process; naive: one process + piscina worker threads) + one exchange-sim process, all on the same 2 vCPUs ' +
        '(hft-isolation: two load generators at once); ' +
        'per-run CPU shares are in each scenario\'s cores_shared_by',
    },
    scenarios: rows,
    repeat: options.repeat,
    // Every repetition's rows, without their CDFs and per-second samples (the summary rows keep those of their median run).
    ...(options.repeat > 1 ? { repetitions: repetitions.map((reps) => reps.map(({ cdf_us: _cdf, per_second: _ps, ...rest }) => rest)) } : {}),
    notes: [...notes],
    skipped,
    failures,
    budgets,
  }
  if (options.json !== undefined) writeFileEnsuringDir(options.json, JSON.stringify(report, null, 2) + '\n')
  if (options.html !== undefined) writeFileEnsuringDir(options.html, renderHtml(report))

  process.stdout.write('\n' + formatTable(rows))
  const headline = formatHeadlineTable(rows)
  if (headline !== '') process.stdout.write(`\nheadline (${options.repeat > 1 ? `median (min–max) of ${options.repeat} repetitions` : 'one run: use --repeat 3 for medians'}):\n${headline}`)
  for (const n of notes) process.stdout.write(`note: ${n}\n`)
  for (const s of skipped) process.stdout.write(`not run: ${s.scenario} × ${s.system}: ${s.reason}\n`)
  for (const f of failures) process.stdout.write(`FAILED: ${f}\n`)
  let code = failures.length > 0 ? 1 : 0
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
