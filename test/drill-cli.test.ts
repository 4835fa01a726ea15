// `gatehouse drill` around the scenarios: the report's three formats, the
// settings' validation messages, and the targets it refuses (production,
// non-loopback, unreachable) with an exit code and no stack trace.
import t from 'tap'
import fc from 'fast-check'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer } from 'node:net'
import { GATEWAY_CLI } from './helpers/gateway-process.js'
import { startTestGateway } from './helpers/gateway.js'
import { DRILL_DEFAULTS, DrillSettingsError, resolveDrillSettings } from '../tools/drill/drill-settings.js'
import { TABLE_COLUMNS, formatHtml, formatJson, formatTable, tableRow } from '../tools/drill/drill-report.js'
import { addressAllocator, type DrillReport, type ScenarioReport } from '../tools/drill/drill-runner.js'
import { sumMetric } from '../tools/drill/gateway-probe.js'
import { environmentRefusal } from '../tools/drill/drill-command.js'

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-drill-cli-'))

async function drill (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, [GATEWAY_CLI, 'drill', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  return { code, stdout, stderr }
}

function scenario (name: string, overrides: Partial<ScenarioReport> = {}): ScenarioReport {
  return {
    name,
    summary: `${name} summary`,
    status: 'PASS',
    durationMs: 1234,
    trader: { p50Ms: 0.42, p99Ms: 3.5, maxMs: 9, roundTrips: 300, orders: 10, heartbeats: 290, errors: 0, errorSamples: [] },
    gateway: { aliveBefore: true, aliveAfter: true, rssBytesBefore: 100 * 1048576, rssBytesAfter: 101.5 * 1048576, fdsBefore: 50, fdsAfter: 51, journalBytes: 4096, journalBoundBytes: 100_000 },
    messagesSent: 42,
    checks: [{ name: 'the gateway is alive after', ok: true, detail: '/healthz answered 200' }],
    figures: { framesSent: 42 },
    failures: [],
    note: null,
    ...overrides,
  }
}

function report (scenarios: ScenarioReport[]): DrillReport {
  return {
    version: 1,
    startedAt: '2026-12-06T02:00:00.000Z',
    durationMs: 15_000,
    short: true,
    target: { laneUrls: { platform: 'ws://127.0.0.1:7002' }, opsUrl: 'http://127.0.0.1:7080', pid: 123, environments: { platform: 'test' } },
    trader: { account: 'demo-maker', lane: 'platform', ordersPerSecond: 5, heartbeatsPerSecond: 100 },
    thresholds: DRILL_DEFAULTS.thresholds,
    passed: scenarios.every((s) => s.status === 'PASS'),
    scenarios,
  }
}

t.test('the table: one row per scenario with every figure, failures in the note', async (t) => {
  const failing = scenario('ops-fuzz', {
    status: 'FAIL',
    failures: ['/healthz stopped answering after "bad percent-encoding"', 'trader p99 80 ms, over 50 ms'],
    gateway: { aliveBefore: true, aliveAfter: false, rssBytesBefore: 100 * 1048576, rssBytesAfter: null, fdsBefore: 50, fdsAfter: null, journalBytes: null, journalBoundBytes: 1 },
  })
  const text = formatTable(report([scenario('frame-fuzz'), failing]))
  const lines = text.trimEnd().split('\n')
  t.match(lines[0], /^scenario\s+result\s+p50 ms\s+p99 ms\s+errors\s+RSS before\s+RSS after\s+fds before\s+fds after\s+journal B\s+note$/)
  t.match(lines[2], /^frame-fuzz\s+PASS\s+0\.42\s+3\.50\s+0\s+100\.0 MiB\s+101\.5 MiB\s+50\s+51\s+4096$/)
  t.match(lines[3], /^ops-fuzz\s+FAIL .* 100\.0 MiB\s+-\s+50\s+-\s+-\s+\/healthz stopped answering after "bad percent-encoding"; trader p99 80 ms/)
  t.equal(lines[lines.length - 1], '1 of 2 scenarios passed in 15.0 s (short mode): FAIL')
  t.equal(tableRow(failing).length, TABLE_COLUMNS.length)
  const long = formatTable(report([scenario('x', { note: 'n'.repeat(300) })]), 40)
  t.match(long, /\bn{39}…\n/, 'the note is cut to the width given')
  t.match(formatTable(report([scenario('x', { note: 'held 2 s' })])), /held 2 s\n/, 'a PASS shows its note')
})

t.test('the table keeps one line per scenario whatever the failure texts say', async (t) => {
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.boolean(), fc.array(fc.string({ unit: 'binary' }), { maxLength: 3 }), fc.option(fc.string({ unit: 'binary' }), { nil: null })), { minLength: 1, maxLength: 5 }),
    (rows) => {
      const scenarios = rows.map(([passed, failures, note], i) => scenario(`s${i}`, { status: passed ? 'PASS' : 'FAIL', failures: passed ? [] : failures, note }))
      const lines = formatTable(report(scenarios)).split('\n')
      // header, rule, one per scenario, blank, summary, and the final newline's empty tail
      if (lines.length !== scenarios.length + 5) return false
      return scenarios.every((s, i) => lines[i + 2]!.startsWith(`${s.name} `))
    }), { numRuns: 200 })
  t.pass('one line per scenario')
})

t.test('JSON is the report itself', async (t) => {
  const r = report([scenario('frame-fuzz')])
  t.same(JSON.parse(formatJson(r)), r)
})

t.test('HTML: self-contained, escaped, a section per scenario', async (t) => {
  const html = formatHtml(report([scenario('frame-fuzz'), scenario('ops-fuzz', {
    status: 'FAIL',
    checks: [{ name: 'no 5xx answers', ok: false, detail: 'answered <b>500</b> & "closed"' }],
    failures: ['answered <b>500</b> & "closed"'],
    trader: { p50Ms: null, p99Ms: null, maxMs: null, roundTrips: 0, orders: 0, heartbeats: 0, errors: 1, errorSamples: ['disconnected <now>'] },
  })]))
  t.match(html, /^<!doctype html>/)
  t.match(html, '<title>Gatehouse attack drill 2026-12-06T02:00:00.000Z: FAIL</title>')
  t.match(html, 'id="frame-fuzz"')
  t.match(html, 'id="ops-fuzz"')
  t.match(html, 'answered &lt;b&gt;500&lt;/b&gt; &amp; &quot;closed&quot;')
  t.match(html, 'disconnected &lt;now&gt;')
  t.notMatch(html, '<b>500</b>', 'nothing from the target is markup')
  t.notMatch(html, /<script|<link|src=/, 'no script, no stylesheet or image fetched')
})

t.test('source addresses: distinct, loopback, outside 127.0.0.x; none for a remote target', async (t) => {
  const next = addressAllocator(true, () => 0.5)
  const seen = new Set(Array.from({ length: 1000 }, next))
  t.equal(seen.size, 1000)
  for (const address of seen) t.match(address!, /^127\.130\.\d+\.\d+$/)
  t.equal(addressAllocator(false)(), undefined)
  t.equal(addressAllocator(false).nextPrefix(), undefined)
  // Each nextPrefix starts a /24 nothing before used; the trader's 127.0.0.0/24 is never handed out.
  for (const draw of [0, 0.5, 0.9999]) {
    const alloc = addressAllocator(true, () => draw)
    const prefixOf = (a: string): string => a.split('.').slice(0, 3).join('.')
    const used = new Set<string>()
    const problems: string[] = []
    for (let p = 0; p < 300; p++) {
      const first = alloc.nextPrefix()!
      if (used.has(prefixOf(first))) problems.push(`${first}: prefix used before`)
      if (first.startsWith('127.0.0.')) problems.push(`${first}: the trader's /24`)
      for (let i = 0; i < 5; i++) {
        const next = alloc()!
        if (prefixOf(next) !== prefixOf(first)) problems.push(`${next} after ${first}: left its /24`)
      }
      used.add(prefixOf(first))
    }
    t.same(problems, [], `random ${draw}: 300 fresh /24s`)
  }
})

t.test('sumMetric sums every series of one metric and nothing else', async (t) => {
  const text = [
    '# HELP gatehouse_journal_bytes_total x',
    'gatehouse_journal_bytes_total{stream="terminal"} 100',
    'gatehouse_journal_bytes_total{stream="supervisor"} 23',
    'gatehouse_journal_bytes_total_other 1000',
  ].join('\n')
  t.equal(sumMetric(text, 'gatehouse_journal_bytes_total'), 123)
  t.equal(sumMetric(text, 'gatehouse_lockouts'), null)
})

t.test('settings: every validation message names the field and what to change', async (t) => {
  const problems = (overrides: unknown): string[] => {
    try {
      resolveDrillSettings(overrides)
    } catch (err) {
      if (err instanceof DrillSettingsError) return err.problems
      throw err
    }
    return []
  }
  t.same(problems({}), [])
  const cases: Array<[unknown, string]> = [
    [{ target: { opsUrl: 'localhost:7080' } }, 'target.opsUrl: must be a URL such as http://127.0.0.1:7080'],
    [{ target: { laneUrls: { platform: 'http://x' } } }, 'target.laneUrls.platform: must be a URL such as ws://127.0.0.1:7002'],
    [{ target: { laneUrls: { spare: 'ws://x' } } }, 'target.laneUrls: unknown field "spare"; remove it or check its spelling'],
    [{ target: { pid: -1 } }, 'target.pid: must be a process ID'],
    [{ identity: { appId: '' } }, 'identity.appId: must be the AppID the drill logs on with'],
    [{ identity: { authCode: '' } }, 'identity.authCode: must be the AuthCode of appId'],
    [{ identity: { traderAccount: '' } }, 'identity.traderAccount: must name the account the well-behaved trader uses'],
    [{ identity: { traderPassword: '' } }, 'identity.traderPassword: must be the trader account\'s password'],
    [{ identity: { victimAccount: '' } }, 'identity.victimAccount: must name a real account the brute-force scenarios may lock'],
    [{ identity: { victimPassword: '' } }, 'identity.victimPassword: must be the victim account\'s right password (never accepted past the lock is the check)'],
    [{ trader: { lane: 'fast' } }, 'trader.lane: must be "terminal", "platform" or "hft"'],
    [{ trader: { ordersPerSecond: 5000 } }, 'trader.ordersPerSecond: must be at most 1000'],
    [{ trader: { heartbeatsPerSecond: 5000 } }, 'trader.heartbeatsPerSecond: must be at most 1000'],
    [{ thresholds: { traderP99Ms: 0 } }, 'thresholds.traderP99Ms: must be a positive number of milliseconds'],
    [{ thresholds: { rssGrowthBytes: -1 } }, 'thresholds.rssGrowthBytes: must be at least 0 bytes'],
    [{ thresholds: { fdGrowth: -1 } }, 'thresholds.fdGrowth: must be at least 0'],
    [{ thresholds: { journalBaseBytes: -1 } }, 'thresholds.journalBaseBytes: must be at least 0 bytes'],
    [{ thresholds: { journalBytesPerMessage: 0 } }, 'thresholds.journalBytesPerMessage: must be at least 1 byte'],
    [{ thresholds: { maxFailures: 0 } }, 'thresholds.maxFailures: must be at least 1 (the target gateway\'s security.maxFailures)'],
    [{ thresholds: { preLogonMaxAnswered: 0 } }, 'thresholds.preLogonMaxAnswered: must be at least 1'],
    [{ thresholds: { logonTimeoutMs: 100 } }, 'thresholds.logonTimeoutMs: must be at least 500 ms'],
    [{ thresholds: { traderLogonMs: -5 } }, 'thresholds.traderLogonMs: must be a positive number of milliseconds'],
    [{ thresholds: { prefixMaxFailures: 0 } }, 'thresholds.prefixMaxFailures: must be at least 1 (the target gateway\'s security.prefixMaxFailures)'],
    [{ thresholds: { maxPendingHashes: 0 } }, 'thresholds.maxPendingHashes: must be at least 1 (the target gateway\'s security.maxPendingHashes)'],
    [{ thresholds: { maxTerminalInfoAttempts: 0 } }, 'thresholds.maxTerminalInfoAttempts: must be at least 1 (the target lanes\' policy.maxTerminalInfoAttempts)'],
    [{ thresholds: { maxNewFingerprintsPerAccount: 0 } }, 'thresholds.maxNewFingerprintsPerAccount: must be at least 1 (the target gateway\'s security.maxNewFingerprintsPerAccount)'],
    [{ thresholds: { enumerationLatencyRatio: -0.1 } }, 'thresholds.enumerationLatencyRatio: must be at least 0'],
    [{ thresholds: { enumerationLatencyRatio: 2 } }, 'thresholds.enumerationLatencyRatio: must be at most 1 (a fraction of the larger median)'],
    [{ identity: { restrictedAccount: '' } }, 'identity.restrictedAccount: must name an account restricted by ipRanges, lanes or appIds, or be null'],
    [{ identity: { restrictedPassword: '' } }, 'identity.restrictedPassword: must be the restricted account\'s right password, or null'],
    [{ target: { adminSocket: '' } }, 'target.adminSocket: must be the path of the gateway\'s admin socket'],
    [{ thresholds: { traderP99: 5 } }, 'thresholds: unknown field "traderP99"; remove it or check its spelling'],
  ]
  for (const [overrides, message] of cases) t.same(problems(overrides), [message], message)
})

t.test('usage errors exit 2 with a message and no stack trace', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--bogus'], /Unknown option '--bogus'/],
    [['--scenario', 'nope'], /--scenario: unknown scenario "nope"; one of frame-fuzz, /],
    [['--lane-url', 'fast=ws://127.0.0.1:1'], /--lane-url: "fast=ws:\/\/127.0.0.1:1" must be LANE=URL/],
    [['--config', join(dir, 'missing.json')], /--config: cannot read ".*missing.json" \(ENOENT\)/],
    [['--trader-password-file', join(dir, 'missing')], /--trader-password-file: cannot read/],
    [['--lane-url', 'terminal=ws://127.0.0.1:1'], /the trader's lane \(platform\) has no URL/],
    [['--ops-url', 'http://192.0.2.1:7080'], /refusing a target outside 127.0.0.0\/8 \(http:\/\/192.0.2.1:7080\)/],
  ]
  const badConfig = join(dir, 'bad.json')
  writeFileSync(badConfig, JSON.stringify({ thresholds: { traderP99Ms: -1 } }))
  cases.push([['--config', badConfig], /thresholds.traderP99Ms: must be a positive number of milliseconds/])
  for (const [args, message] of cases) {
    const { code, stderr } = await drill(args)
    t.equal(code, 2, args.join(' '))
    t.match(stderr, message)
    t.notMatch(stderr, /\n\s+at /, 'no stack trace')
  }
  const list = await drill(['--list'])
  t.equal(list.code, 0)
  t.match(list.stdout, /^frame-fuzz\s+random and mutated/m)
})

t.test('only a gateway that says every lane reaches a test exchange is drilled without --allow-production', async (t) => {
  t.equal(environmentRefusal({ terminal: 'test', platform: 'test' }, false), null)
  t.match(environmentRefusal({ terminal: 'test', platform: 'production' }, false), /exchange environment is production \(lanes platform\)/)
  t.match(environmentRefusal({ terminal: '', platform: 'test' }, false), /does not say which exchange environment lanes terminal reach/)
  t.match(environmentRefusal({}, false), /does not say which exchange environment it reaches/)
  t.equal(environmentRefusal({ platform: 'production' }, true), null)
})

t.test('an unreachable gateway: exit 1, says so, no stack trace', async (t) => {
  // A port that was free a moment ago: nothing listens there.
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise((resolve) => server.close(resolve))
  const { code, stderr } = await drill(['--ops-url', `http://127.0.0.1:${port}`, '--lane-url', `platform=ws://127.0.0.1:${port}`])
  t.equal(code, 1)
  t.match(stderr, `the gateway is not reachable: http://127.0.0.1:${port}/healthz: connection refused`)
  t.notMatch(stderr, /\n\s+at /)
})

t.test('a gateway on a production exchange is refused unless --allow-production', async (t) => {
  // The simulator reports production unless told otherwise.
  const gateway = await startTestGateway({ simArgs: ['--environment', 'production'] })
  t.teardown(() => gateway.stop())
  const target = ['--ops-url', `http://127.0.0.1:${gateway.supervisor.running().ops.port}`, '--lane-url', `platform=${gateway.url('platform')}`]
  const refused = await drill([...target, '--short', '--scenario', 'nonce-replay'])
  t.equal(refused.code, 2)
  t.match(refused.stderr, /refusing to drill: the gateway's exchange environment is production \(lanes (hft, platform, terminal|[a-z, ]+)\)/)
  t.match(refused.stderr, /--allow-production/)
  t.equal(refused.stdout, '', 'nothing was run')
  t.notMatch(refused.stderr, /\n\s+at /)
  const allowed = await drill([...target, '--short', '--scenario', 'nonce-replay', '--allow-production', '--json'])
  const result = JSON.parse(allowed.stdout) as DrillReport
  t.same(result.scenarios.map((s) => s.name), ['nonce-replay'])
  t.equal(result.target.environments.platform, 'production')
  t.equal(allowed.code, result.passed ? 0 : 1)
})
