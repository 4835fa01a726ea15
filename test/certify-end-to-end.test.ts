// Access testing end to end, with real parts: two gateways in this process
// (supervisor and lane threads), each with its exchange simulator as a
// process. The broker's test environment runs its simulator with
// `--environment test`; production runs one that says production. A new
// AppID in testing:
//   1. is refused at production logon (APPID_TESTING_ONLY);
//   2. cannot be promoted without a certification, nor with a failing one
//      (a deliberately broken client: the report names its failed steps);
//   3. passes `gatehouse certify` (the CLI, as its own process) against the
//      test environment; the report is recorded (stored as evidence,
//      journaled) and the AppID promoted by one operator;
//   4. connects to production;
//   5. has a document stored that then expires: /metrics and the admin
//      listing warn first, then the gateway suspends it, journaled once,
//      and its next logon is refused.
import t, { type Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { DEFAULT_CONFIG } from '../config/defaults.js'
import { journalDir } from '../config/config.js'
import { DEMO_APP_ID, DEMO_TERMINAL_INFO } from '../protocol/demo-identity.js'
import { reasonName } from '../protocol/messages.js'
import { CLI_PATH } from '../supervisor/exchange-sim-process.js'
import { evidenceDir } from '../supervisor/evidence/evidence-store.js'
import { runConformanceSuite, SUITE_STEPS, type CertifyOptions } from '../tools/certify/conformance-suite.js'
import { formatJson, formatSummary } from '../tools/certify/certify-report.js'
import { NEVER_RESENDS_NO_CANCEL_ON_DISCONNECT } from './helpers/broken-certify-client.js'
import { startTestGateway, type TestGateway } from './helpers/gateway.js'
import { PASSWORD, tradingAccount } from './helpers/trading.js'

const APP_ID = 'acme-trader'
const AUTH_CODE = 'acme-trader-authcode-0123456789'
const MAX_EVIDENCE_BYTES = 64 * 1024

const software = [
  DEFAULT_CONFIG.software[0]!,
  { appId: APP_ID, vendor: 'Acme', name: 'Acme Trader', version: '1.0', authCode: AUTH_CODE, status: 'testing', assessment: { documents: [], accessTestPassed: null } },
]
const accounts = ['cert-a', 'cert-b'].map((id) => ({ ...tradingAccount(id), appIds: [APP_ID, DEMO_APP_ID] }))
const overrides = { software, accounts, evidence: { expiryCheckIntervalMs: 200, maxFileBytes: MAX_EVIDENCE_BYTES } }

// Two gateways, three certification runs and a document's expiry: more
// than the default two minutes on a loaded machine.
t.setTimeout(360_000)

const testEnv: TestGateway = await startTestGateway({ overrides, simArgs: ['--environment', 'test'] })
const production: TestGateway = await startTestGateway({ overrides })
t.teardown(async () => {
  await testEnv.stop()
  await production.stop()
})

const work = mkdtempSync(join(tmpdir(), 'gh-certify-'))
const secretsPath = join(work, 'secrets.json')
writeFileSync(secretsPath, JSON.stringify({ authCode: AUTH_CODE, password: PASSWORD, counterpartyPassword: PASSWORD }), { mode: 0o600 })

interface CliRun { code: number | null, stdout: string, stderr: string }

/** `gatehouse ...` as its own process. */
async function gatehouse (argv: string[]): Promise<CliRun> {
  const child: ChildProcess = spawn(process.execPath, [CLI_PATH, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { stdout += s })
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  const [code] = await once(child, 'close') as [number | null]
  return { code, stdout, stderr }
}

/** `gatehouse admin ...` against production's admin socket, as operator alice. */
function admin (args: string[]): Promise<CliRun> {
  return gatehouse(['admin', ...args, '--socket', production.config.admin.socketPath!, '--operator', 'alice'])
}

function jsonOf (t: Test, run: CliRun, what: string): any {
  t.equal(run.code, 0, `${what}: exit 0${run.code === 0 ? '' : ` (stderr: ${run.stderr.trim()})`}`)
  return JSON.parse(run.stdout)
}

async function logOnAs (gateway: TestGateway, account: string): Promise<{ ok: boolean, reason: number, text: string }> {
  const client = await GatehouseClient.connect(gateway.url('platform'))
  const reply = await client.logon(account, PASSWORD, { appId: APP_ID, authCode: AUTH_CODE, terminalInfo: DEMO_TERMINAL_INFO })
  if (reply.ok) await client.logout()
  else if (!client.isClosed) await client.close()
  return { ok: reply.ok, reason: reply.reason, text: reply.text }
}

/** The supervisor journal's ADMIN_CHANGE records, through `gatehouse journal search`. */
async function adminChanges (t: Test, gateway: TestGateway): Promise<Array<Record<string, any>>> {
  const run = await gatehouse(['journal', 'search', journalDir(gateway.config), '--kind', 'admin-change', '--json'])
  t.equal(run.code, 0, `journal search${run.code === 0 ? '' : ` (${run.stderr.trim()})`}`)
  return run.stdout.trim().split('\n').filter((l) => l !== '').map((line) => (JSON.parse(line) as { body: Record<string, any> }).body)
}

const suiteOptions: CertifyOptions = {
  url: testEnv.url('platform'),
  appId: APP_ID,
  authCode: AUTH_CODE,
  account: 'cert-a',
  password: PASSWORD,
  counterparty: 'cert-b',
  counterpartyPassword: PASSWORD,
  terminalInfo: DEMO_TERMINAL_INFO,
  timeoutMs: 5000,
}

t.test('a new AppID in testing is refused at production, and cannot be promoted without a passing certification', async (t) => {
  const refused = await logOnAs(production, 'cert-a')
  t.notOk(refused.ok, 'production logon refused')
  t.equal(reasonName(refused.reason), 'APPID_TESTING_ONLY', `with APPID_TESTING_ONLY (${refused.text})`)
  const promote = await admin(['apps', 'status', '--app-id', APP_ID, 'production'])
  t.equal(promote.code, 1, 'promotion refused')
  t.match(promote.stderr, /GH_ERR_ADMIN_REFUSED.*no certification record/, 'for want of a certification record')
  const typed = await admin(['apps', 'evidence', '--app-id', APP_ID, '--access-test-passed', '2026-01-15'])
  t.equal(typed.code, 1, 'a typed access-testing date is refused')
  t.match(typed.stderr, /no longer accepted.*gatehouse certify/)
  const ok = await logOnAs(testEnv, 'cert-a')
  t.ok(ok.ok, `the test environment admits it (${ok.text})`)
})

t.test('a deliberately broken client fails certification, and the report names the steps', async (t) => {
  const report = await runConformanceSuite(suiteOptions, NEVER_RESENDS_NO_CANCEL_ON_DISCONNECT)
  t.notOk(report.passed, 'the suite fails')
  const failed = report.steps.filter((s) => !s.passed).map((s) => s.id)
  t.same(failed, ['reconnect-resend', 'cancel-on-disconnect'], `exactly the steps it breaks fail (${report.steps.filter((s) => !s.passed).map((s) => `${s.id}: ${s.seen}`).join(' | ')})`)
  t.match(report.steps.find((s) => s.id === 'reconnect-resend')!.seen, /asked for no resend/)
  t.match(report.steps.find((s) => s.id === 'cancel-on-disconnect')!.seen, /still ORDER_WORKING.*not cancelled on disconnect/)
  t.match(formatSummary(report), /FAIL: 2 of 9 steps failed: reconnect-resend, cancel-on-disconnect/, 'the summary names them')

  // Recorded, a failing report is kept as evidence, and does not allow production.
  const path = join(work, 'broken.json')
  writeFileSync(path, formatJson(report))
  const recorded = jsonOf(t, await admin(['apps', 'certify-record', '--app-id', APP_ID, '--report', path, '--json']), 'certify-record of the failing report')
  t.match(recorded.detail, { passed: false, failedSteps: ['reconnect-resend', 'cancel-on-disconnect'] })
  const promote = await admin(['apps', 'status', '--app-id', APP_ID, 'production'])
  t.equal(promote.code, 1, 'promotion refused')
  t.match(promote.stderr, /failed steps reconnect-resend, cancel-on-disconnect/, 'naming the failed steps')
})

t.test('certify passes against the test environment; recorded, the AppID is promoted and connects to production', async (t) => {
  const out = join(work, 'reports')
  const run = await gatehouse(['certify', '--url', testEnv.url('platform'), '--app-id', APP_ID, '--account', 'cert-a', '--counterparty', 'cert-b', '--secrets', secretsPath, '--out', out])
  t.equal(run.code, 0, `certify exits 0 (stdout: ${run.stdout.trim()}; stderr: ${run.stderr.trim()})`)
  for (const { id } of SUITE_STEPS) t.match(run.stdout, new RegExp(`^PASS  ${id} `, 'm'), `step ${id} passed`)
  t.match(run.stdout, /PASS: all 9 steps passed/)
  const files = readdirSync(out)
  const jsonPath = join(out, files.find((f) => f.endsWith('.json'))!)
  const htmlPath = join(out, files.find((f) => f.endsWith('.html'))!)
  const report = JSON.parse(readFileSync(jsonPath, 'utf8'))
  t.match(report, { format: 'gatehouse-certification-report', appId: APP_ID, account: 'cert-a', passed: true })
  const html = readFileSync(htmlPath, 'utf8')
  t.match(html, /Certification of acme-trader: PASS/)
  t.notMatch(html, /<script|<link|src=/, 'the HTML is self-contained')

  const recorded = jsonOf(t, await admin(['apps', 'certify-record', '--app-id', APP_ID, '--report', jsonPath, '--html', htmlPath, '--json']), 'certify-record')
  t.match(recorded.detail, { passed: true, failedSteps: [] })
  jsonOf(t, await admin(['apps', 'status', '--app-id', APP_ID, 'production', '--json']), 'promotion')
  const apps = jsonOf(t, await admin(['apps', 'list', '--json']), 'apps list')
  const app = apps.find((a: { appId: string }) => a.appId === APP_ID)
  t.match(app, { status: 'production', accessTest: 'certified', certification: { passed: true, recordedBy: 'alice' } })
  t.ok(app.evidence.filter((d: { kind: string }) => d.kind === 'certification').length >= 3, 'both reports of the good run and the failing report are evidence')

  const ok = await logOnAs(production, 'cert-a')
  t.ok(ok.ok, `it connects to production (${ok.text})`)

  const changes = await adminChanges(t, production)
  const cert = changes.filter((c) => c.command === 'app-certification')
  t.equal(cert.length, 2, 'both certifications journaled')
  t.match(cert[1], { operator: 'alice', scope: { kind: 'app', appId: APP_ID }, after: { passed: true, reportSha256: app.certification.reportSha256 } })
  t.match(changes.find((c) => c.command === 'app-status' && c.after === 'production'), { operator: 'alice', before: 'testing' }, 'the promotion journaled')
})

t.test('a stored document: owner-only, by SHA-256, idempotent, bounded; nearing expiry it is listed and counted, then it suspends the AppID once', async (t) => {
  const doc = join(work, 'licence.pdf')
  writeFileSync(doc, `business licence of Acme, ${Date.now()}\n`)
  // Ten days ahead: inside the 30-day warning.
  const inTenDays = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10)
  const add = ['apps', 'evidence', 'add', '--app-id', APP_ID, '--file', doc, '--kind', 'business-licence', '--issuer', 'Shanghai AMR', '--issued', '2026-01-02', '--expires', inTenDays]
  const added = jsonOf(t, await admin([...add, '--json']), 'evidence add')
  const sha256 = added.detail.sha256 as string
  t.match(sha256, /^[0-9a-f]{64}$/)
  const dir = evidenceDir(production.config.runDir)
  t.equal(statSync(dir).mode & 0o777, 0o700, 'the store is 0700')
  t.equal(statSync(join(dir, sha256)).mode & 0o777, 0o600, 'the document is 0600, named by its SHA-256')
  t.equal(readFileSync(join(dir, sha256), 'utf8'), readFileSync(doc, 'utf8'), 'holding its bytes')
  const again = jsonOf(t, await admin([...add, '--json']), 'the same bytes again')
  t.same(again.changes, [], 'change nothing')

  const big = join(work, 'big.pdf')
  writeFileSync(big, Buffer.alloc(MAX_EVIDENCE_BYTES + 1, 0x25))
  const tooBig = await admin(['apps', 'evidence', 'add', '--app-id', APP_ID, '--file', big, '--kind', 'security-test-report', '--issuer', 'Lab', '--issued', '2026-01-02', '--expires', '2099-01-01'])
  t.equal(tooBig.code, 1, 'an oversize document is refused')
  t.match(tooBig.stderr, /GH_ERR_EVIDENCE_TOO_LARGE/, 'with its code')
  const missing = await admin(['apps', 'evidence', 'add', '--app-id', APP_ID, '--file', join(work, 'nope.pdf'), '--kind', 'security-test-report', '--issuer', 'Lab', '--issued', '2026-01-02', '--expires', '2099-01-01'])
  t.match(missing.stderr, /GH_ERR_EVIDENCE_UNREADABLE/, 'a missing one too')

  const expiring = jsonOf(t, await admin(['apps', 'evidence', 'list', '--expiring', '--json']), 'evidence list --expiring')
  t.same(expiring.map((d: { sha256: string }) => d.sha256), [sha256], 'lists only the document nearing expiry (not the certification reports)')
  t.match(expiring[0], { kind: 'business-licence', issuer: 'Shanghai AMR', expires: inTenDays, addedBy: 'alice', state: 'expiring', daysToExpiry: 10 })
  const metrics = await (await production.ops('/metrics')).text()
  t.match(metrics, new RegExp(`gatehouse_evidence_documents_expiring\\{app_id="${APP_ID}"\\} 1`), '/metrics counts it')

  // A security test report that expires a few seconds from now.
  const report = join(work, 'security.pdf')
  writeFileSync(report, `security test report of Acme Trader, ${Date.now()}\n`)
  const expires = new Date(Math.ceil((Date.now() + 3000) / 1000) * 1000).toISOString().replace('.000Z', 'Z')
  const short = jsonOf(t, await admin(['apps', 'evidence', 'add', '--app-id', APP_ID, '--file', report, '--kind', 'security-test-report', '--issuer', 'Lab', '--issued', '2026-01-02', '--expires', expires, '--json']), 'evidence add, short-lived')
  const shortSha = short.detail.sha256 as string

  // The sweep runs every 200 ms: wait for the suspension it journals.
  const deadline = Date.now() + 15_000
  while (production.supervisor.access.app(APP_ID)!.status !== 'suspended' && Date.now() < deadline) await delay(100)
  t.equal(production.supervisor.access.app(APP_ID)!.status, 'suspended', 'the expired document suspended the AppID')
  const refused = await logOnAs(production, 'cert-a')
  t.equal(reasonName(refused.reason), 'APPID_ASSESSMENT_EXPIRED', `its next logon is refused, saying why (${refused.text})`)
  t.same(production.supervisor.suspendExpiredApps(), [], 'a later sweep suspends nothing more')

  const changes = await adminChanges(t, production)
  const suspensions = changes.filter((c) => c.command === 'app-status' && c.after === 'suspended')
  t.equal(suspensions.length, 1, 'the suspension is journaled once')
  t.match(suspensions[0], { operator: 'gateway', before: 'production', detail: { cause: 'evidence-expired', document: { sha256: shortSha, kind: 'security-test-report', expires } } })
  t.match(changes.find((c) => c.command === 'app-evidence-add' && c.after?.sha256 === sha256), { operator: 'alice', scope: { kind: 'app', appId: APP_ID }, before: null, after: { kind: 'business-licence', issuer: 'Shanghai AMR', issued: '2026-01-02', expires: inTenDays, sizeBytes: statSync(doc).size } }, 'the document journaled with its metadata')
  const after = await (await production.ops('/metrics')).text()
  t.match(after, new RegExp(`gatehouse_evidence_documents_expired\\{app_id="${APP_ID}"\\} 1`), '/metrics counts it expired')
})
