// `gatehouse drill --short --json` as an operator runs it: a real gateway
// (`gatehouse start` with its embedded simulator, as a process), and the
// drill as another process against it. Every scenario must run and report
// its figures, and every one must PASS.
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GATEWAY_CLI, startGatewayProcess } from './helpers/gateway-process.js'
import { DEFAULT_CONFIG } from '../config/defaults.js'
import { hashPassword } from '../supervisor/access/password-hash.js'
import { SCENARIOS } from '../tools/drill/scenarios/index.js'
import type { DrillReport } from '../tools/drill/drill-runner.js'

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-drill-'))

/** For password-oracle: may log on only from 127.0.0.1 (the trader's address, never an attack address) and only on the terminal lane. */
const RESTRICTED = { account: 'drill-restricted', password: 'restricted-pass' }

t.test('gatehouse drill --short --json runs every scenario and reports its figures', async (t) => {
  const configFile = join(dir, 'gateway.json')
  const adminSocket = join(mkdtempSync(join(tmpdir(), 'gh-drill-')), 'admin.sock')
  const demo = DEFAULT_CONFIG.accounts[0]!
  writeFileSync(configFile, JSON.stringify({
    accounts: [...DEFAULT_CONFIG.accounts, { ...demo, id: RESTRICTED.account, passwordHash: hashPassword(RESTRICTED.password), lanes: ['terminal'], ipRanges: ['127.0.0.1/32'] }],
    runDir: join(dir, 'var'),
    lanes: { terminal: { port: 0 }, platform: { port: 0 }, hft: { port: 0 } },
    ops: { port: 0 },
    exchange: { port: 0 },
    admin: { socketPath: adminSocket },
  }))
  const gateway = await startGatewayProcess(configFile)
  t.teardown(async () => { if (gateway.child.exitCode === null && gateway.child.signalCode === null) await gateway.kill9() })
  // The test runner shares 2 vCPUs with other test files: latency and
  // logon-time thresholds are the operator's to set; here they are loose,
  // and the drill's own invariants decide.
  const drillConfig = join(dir, 'drill.json')
  writeFileSync(drillConfig, JSON.stringify({
    thresholds: { traderP99Ms: 2000, traderLogonMs: 10_000, rssGrowthBytes: 256 * 1024 * 1024 },
    identity: { restrictedAccount: RESTRICTED.account, restrictedPassword: RESTRICTED.password },
  }))
  const laneArgs = Object.keys(gateway.ready.lanes).flatMap((lane) => ['--lane-url', `${lane}=${gateway.url(lane)}`])
  const htmlFile = join(dir, 'report.html')
  const drill = spawn(process.execPath, [GATEWAY_CLI, 'drill', '--short', '--json', '--config', drillConfig, '--html', htmlFile,
    ...laneArgs, '--ops-url', `http://127.0.0.1:${gateway.ready.ops.port}`, '--admin-socket', adminSocket], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } })
  let stdout = ''
  let stderr = ''
  drill.stdout!.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  drill.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const started = Date.now()
  const [code] = await once(drill, 'exit') as [number | null]
  const elapsedS = (Date.now() - started) / 1000
  t.comment(`drill took ${elapsedS.toFixed(1)} s`)
  t.ok(elapsedS < 40, `the short drill takes under 40 s (${elapsedS.toFixed(1)} s)`)
  t.notMatch(stderr, /\n\s+at /, 'no stack trace')
  const report = JSON.parse(stdout) as DrillReport
  t.equal(code, report.passed ? 0 : 1, 'exit 0 iff every scenario passed')
  t.equal(report.passed, true, 'every scenario passed')
  t.equal(report.version, 1)
  t.equal(report.short, true)
  t.same(report.target.environments, { hft: 'test', platform: 'test', terminal: 'test' }, 'the embedded simulator reports a test exchange')
  t.equal(report.target.pid, gateway.ready.pid, 'pid from /healthz')
  t.same(report.scenarios.map((s) => s.name), SCENARIOS.map((s) => s.name), 'every scenario ran, in order')
  for (const s of report.scenarios) {
    t.test(s.name, async (t) => {
      t.match(s.status, /^(PASS|FAIL)$/)
      t.ok(s.checks.length >= 6, 'its own checks plus the general ones')
      t.same(s.failures, s.checks.filter((c) => !c.ok).map((c) => c.detail), 'failures are the failed checks\' details')
      for (const failure of s.failures) t.ok(failure.length > 10, `says what broke: ${failure}`)
      t.equal(s.status === 'PASS', s.failures.length === 0)
      t.type(s.messagesSent, 'number')
      t.type(s.figures, 'object')
      t.type(s.trader.errors, 'number')
      t.type(s.gateway.journalBoundBytes, 'number')
      if (s.gateway.aliveBefore) {
        t.type(s.gateway.rssBytesBefore, 'number', 'RSS before')
        t.type(s.gateway.fdsBefore, 'number', 'fds before')
        if (s.gateway.aliveAfter) t.type(s.gateway.journalBytes, 'number', 'journal bytes')
      }
      if (s.gateway.aliveAfter) {
        t.type(s.trader.p50Ms, 'number', 'trader p50')
        t.type(s.trader.p99Ms, 'number', 'trader p99')
        t.ok(s.trader.roundTrips > 0, 'the trader traded meanwhile')
        t.type(s.gateway.rssBytesAfter, 'number', 'RSS after')
        t.type(s.gateway.fdsAfter, 'number', 'fds after')
      }
      t.equal(s.status, 'PASS', `${s.name} passes: ${s.failures.join('; ')}`)
      for (const c of s.checks) t.notMatch(c.detail, /^not checked/, `${c.name} was checked`)
    })
  }
  const html = readFileSync(htmlFile, 'utf8')
  t.match(html, /^<!doctype html>/)
  for (const s of report.scenarios) t.match(html, `id="${s.name}"`)
  t.notMatch(html, /<script|https?:\/\/(?!127\.0\.0\.1)/, 'self-contained: no script, nothing fetched')
})
