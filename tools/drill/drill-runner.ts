// Runs the chosen scenarios one after another against one gateway while
// the trader trades, measures around each (trader round trips and errors,
// RSS and fds, journal bytes, /healthz) and decides PASS or FAIL.
import type { DrillLane, DrillSettings } from './drill-settings.js'
import { DRILL_LANES } from './drill-settings.js'
import { snapshot, type Snapshot } from './gateway-probe.js'
import { check, type Scenario, type ScenarioCheck, type ScenarioContext } from './scenario.js'
import { Trader, type TraderWindow } from './trader.js'

export interface ScenarioReport {
  name: string
  summary: string
  status: 'PASS' | 'FAIL'
  durationMs: number
  trader: TraderWindow
  gateway: {
    aliveBefore: boolean
    aliveAfter: boolean
    rssBytesBefore: number | null
    rssBytesAfter: number | null
    fdsBefore: number | null
    fdsAfter: number | null
    journalBytes: number | null
    journalBoundBytes: number
  }
  messagesSent: number
  checks: ScenarioCheck[]
  figures: Record<string, number | string | boolean | null>
  /** The failed checks' details: what broke. Empty for PASS. */
  failures: string[]
  note: string | null
}

export interface DrillReport {
  version: 1
  startedAt: string
  durationMs: number
  short: boolean
  target: { laneUrls: Partial<Record<DrillLane, string>>, opsUrl: string, pid: number | null, environments: Record<string, string> }
  trader: { account: string, lane: DrillLane, ordersPerSecond: number, heartbeatsPerSecond: number }
  thresholds: DrillSettings['thresholds']
  passed: boolean
  scenarios: ScenarioReport[]
}

export interface RunOptions {
  short: boolean
  scenarios: readonly Scenario[]
  /** Whether the target is on loopback: then every attacker connection gets its own 127.x.y.z source address. */
  loopback: boolean
  /** Progress lines (stderr in the command). */
  log: (line: string) => void
}

/** The trader trades this long, unmeasured, before the first scenario: the first scenario should not pay for the gateway's and the drill's warm-up. */
const WARM_UP_MS = 1000

/** How long the runner waits for the gateway to give descriptors back after a scenario. */
const SETTLE_MS = 3000

/** Hands out loopback source addresses; nextPrefix starts a /24 nothing of this run has used. */
export interface AddressAllocator {
  (): string | undefined
  nextPrefix: () => string | undefined
}

/**
 * Source addresses for one run, from 127.10.0.0 up (never 127.0.0.0/24,
 * the trader's): a random second octet, so a rerun within the lockout is
 * not met by its own old locks, and /24 blocks taken in turn, so a
 * scenario that gets a prefix locked (security.prefixMaxFailures) locks
 * only its own block.
 */
export function addressAllocator (loopback: boolean, random = Math.random): AddressAllocator {
  const start = Math.floor(random() * 240)
  let block = 0
  let host = 0
  const address = (): string => {
    if (host === 254) { block++; host = 0 }
    host++
    const second = 10 + (start + Math.floor(block / 256)) % 240
    return `127.${second}.${block % 256}.${host}`
  }
  const next = (() => loopback ? address() : undefined) as AddressAllocator
  next.nextPrefix = () => {
    if (!loopback) return undefined
    if (host > 0) { block++; host = 0 }
    return address()
  }
  return next
}

function growthCheck (name: string, before: number | null, after: number | null, limit: number, unit: (n: number) => string): ScenarioCheck {
  if (before === null || after === null) return { name, ok: true, detail: 'not measured (the gateway\'s /proc is not readable from here; pass --pid)' }
  const growth = after - before
  return check(name, growth <= limit, `${unit(growth)} (limit ${unit(limit)})`, `grew ${unit(growth)}, over the limit of ${unit(limit)}`)
}

export function mib (bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MiB`
}

async function settle (settings: DrillSettings, pid: number | null, before: Snapshot): Promise<Snapshot> {
  const deadline = Date.now() + SETTLE_MS
  let after = await snapshot(settings.target.opsUrl, pid)
  while (Date.now() < deadline && after.health.status !== 0 && before.fds !== null && after.fds !== null &&
    after.fds - before.fds > settings.thresholds.fdGrowth) {
    await new Promise((resolve) => setTimeout(resolve, 100))
    after = await snapshot(settings.target.opsUrl, pid)
  }
  return after
}

export async function runDrill (settings: DrillSettings, options: RunOptions): Promise<DrillReport> {
  const started = Date.now()
  const { thresholds } = settings
  const lanes = DRILL_LANES.filter((lane) => settings.target.laneUrls[lane] !== undefined)
  let clientOrderId = Date.now() * 10
  const nextClientOrderId = (): number => ++clientOrderId
  const nextAddress = addressAllocator(options.loopback)
  const first = await snapshot(settings.target.opsUrl, settings.target.pid)
  const pid = settings.target.pid ?? (first.rssBytes !== null ? first.health.pid : null)
  const trader = new Trader(settings, settings.target.laneUrls[settings.trader.lane]!, nextClientOrderId)
  const traderAddress = options.loopback ? '127.0.0.1' : undefined
  const reports: ScenarioReport[] = []
  // Throws TraderError when the trader cannot log on: nothing can be measured then.
  await trader.logOn(traderAddress)
  trader.begin()
  await new Promise((resolve) => setTimeout(resolve, WARM_UP_MS))
  await trader.end()
  for (const scenario of options.scenarios) {
    const budgetMs = options.short ? scenario.budgetMs.short : scenario.budgetMs.full
    const before = await snapshot(settings.target.opsUrl, pid)
    if (before.health.ok && !trader.connected) {
      try { await trader.logOn(traderAddress) } catch (err) { options.log(`trader: ${(err as Error).message}`) }
    }
    // Each scenario starts on its own /24: its prefix locks stay its own.
    const firstAddress = nextAddress.nextPrefix()
    let firstUnused = firstAddress !== undefined
    const scenarioStarted = Date.now()
    options.log(`${scenario.name}: running (up to ${budgetMs / 1000} s)`)
    const ctx: ScenarioContext = {
      settings,
      short: options.short,
      lanes,
      laneUrl: (lane) => settings.target.laneUrls[lane]!,
      nextAddress: () => {
        if (firstUnused) { firstUnused = false; return firstAddress }
        return nextAddress()
      },
      nextPrefix: () => { firstUnused = false; return nextAddress.nextPrefix() },
      instruments: trader.instruments,
      nextClientOrderId,
      pid,
      deadlineMs: scenarioStarted + budgetMs,
    }
    const traderSentBefore = trader.messagesSent
    trader.begin()
    let result: Awaited<ReturnType<Scenario['run']>>
    if (!before.health.ok) {
      result = { messagesSent: 0, figures: {}, checks: [check('the gateway is alive before the scenario', false, '', `/healthz did not answer 200 before the scenario (${before.health.error ?? `HTTP ${before.health.status}`}): not run`)] }
    } else {
      let timer: NodeJS.Timeout | undefined
      const overrun = new Promise<null>((resolve) => { timer = setTimeout(() => { resolve(null) }, budgetMs * 2) })
      try {
        const outcome = await Promise.race([scenario.run(ctx), overrun])
        result = outcome ?? { messagesSent: 0, figures: {}, checks: [check('finishes in time', false, '', `the scenario did not finish within ${budgetMs * 2} ms`)] }
      } catch (err) {
        result = { messagesSent: 0, figures: {}, checks: [check('runs', false, '', `the scenario itself failed: ${(err as Error).message}`)] }
      } finally {
        clearTimeout(timer)
      }
    }
    const window = await trader.end()
    const after = await settle(settings, pid, before)
    const traderMessages = trader.messagesSent - traderSentBefore
    const journalBytes = before.journalBytes === null || after.journalBytes === null ? null : after.journalBytes - before.journalBytes
    const journalBoundBytes = thresholds.journalBaseBytes + thresholds.journalBytesPerMessage * (result.messagesSent + traderMessages)
    const general: ScenarioCheck[] = [
      check('the gateway is alive after', after.health.ok, '/healthz answered 200',
        after.health.status === 0 ? `/healthz did not answer after the scenario (${after.health.error ?? 'no answer'}): the gateway is down` : `/healthz answered ${after.health.status} after the scenario`),
      check('the trader had no errors', window.errors === 0, `${window.roundTrips} round trips, no errors`,
        `${window.errors} trader error(s): ${window.errorSamples.slice(0, 3).join('; ')}`),
      check(`trader p99 under ${thresholds.traderP99Ms} ms`, window.p99Ms !== null && window.p99Ms < thresholds.traderP99Ms,
        `p99 ${window.p99Ms} ms`, window.p99Ms === null ? 'the trader completed no round trip' : `trader p99 ${window.p99Ms} ms, over ${thresholds.traderP99Ms} ms`),
      growthCheck('RSS growth', before.rssBytes, after.rssBytes, thresholds.rssGrowthBytes, mib),
      growthCheck('fd growth', before.fds, after.fds, thresholds.fdGrowth, (n) => `${n} fds`),
      journalBytes === null
        ? { name: 'journal bytes', ok: true, detail: 'not measured (/metrics has no gatehouse_journal_bytes_total)' }
        : check('journal bytes bounded', journalBytes <= journalBoundBytes, `${journalBytes} B (bound ${journalBoundBytes} B)`,
          `the journal grew ${journalBytes} B for ${result.messagesSent + traderMessages} messages, over the bound of ${journalBoundBytes} B`),
    ]
    const checks = [...result.checks, ...general]
    const failures = checks.filter((c) => !c.ok).map((c) => c.detail)
    const report: ScenarioReport = {
      name: scenario.name,
      summary: scenario.summary,
      status: failures.length === 0 ? 'PASS' : 'FAIL',
      durationMs: Date.now() - scenarioStarted,
      trader: window,
      gateway: {
        aliveBefore: before.health.ok,
        aliveAfter: after.health.ok,
        rssBytesBefore: before.rssBytes,
        rssBytesAfter: after.rssBytes,
        fdsBefore: before.fds,
        fdsAfter: after.fds,
        journalBytes,
        journalBoundBytes,
      },
      messagesSent: result.messagesSent,
      checks,
      figures: result.figures,
      failures,
      note: result.note ?? null,
    }
    reports.push(report)
    options.log(`${scenario.name}: ${report.status}${failures.length === 0 ? '' : ` (${failures[0]})`}`)
  }
  await trader.logout()
  return {
    version: 1,
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    short: options.short,
    target: { laneUrls: settings.target.laneUrls, opsUrl: settings.target.opsUrl, pid, environments: first.health.environments },
    trader: { account: settings.identity.traderAccount, lane: settings.trader.lane, ordersPerSecond: settings.trader.ordersPerSecond, heartbeatsPerSecond: settings.trader.heartbeatsPerSecond },
    thresholds,
    passed: reports.every((r) => r.status === 'PASS'),
    scenarios: reports,
  }
}
