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
//      journaled); production has dual control on, so the promotion one
//      operator asks for waits until a second approves it (the first
//      cannot approve their own request);
//   4. connects to production;
//   5. has a document stored that then expires: /metrics and the admin
//      listing warn first, then the gateway suspends it, journaled once,
//      and its next logon is refused.
// Then production stops and `gatehouse compliance report` (its own
// process) builds the regulator pack from production's run directory:
// each step is in it, citing journal records, and `--verify` passes.
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
import type { RegulatorPack } from '../tools/compliance/regulator-pack.js'
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
// Production as the default config has it: dual control on for every
// change that can need it (test/helpers/gateway.ts turns it off otherwise).
const dualControl = { windowMs: 60_000, requireFor: { appProduction: true, limitRaise: true, globalKillLift: true, fingerprintApproval: true } }

// Two gateways, three certification runs, a document's expiry and the
// pack: more than the default two minutes on a loaded machine.
t.setTimeout(420_000)

const testEnv: TestGateway = await startTestGateway({ overrides, simArgs: ['--environment', 'test'] })
const production: TestGateway = await startTestGateway({ overrides: { ...overrides, compliance: { dualControl } } })
let productionStopped = false
t.teardown(async () => {
  await testEnv.stop()
  if (!productionStopped) await production.stop()
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

/** `gatehouse admin ...` against production's admin socket, as operator alice unless another is named. */
function admin (args: string[], operator = 'alice'): Promise<CliRun> {
  return gatehouse(['admin', ...args, '--socket', production.config.admin.socketPath!, '--operator', operator])
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

/** The passing run's report SHA-256, as the registry holds it once recorded. */
let passingReportSha256 = ''

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

t.test('certify passes against the test environment; recorded, the AppID is promoted by one operator, approved by a second, and connects to production', async (t) => {
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
  // Dual control: alice's promotion is a request; it changes nothing yet.
  const requested = jsonOf(t, await admin(['apps', 'status', '--app-id', APP_ID, 'production', '--json']), 'promotion requested')
  const requestId = requested.detail?.pending?.requestId as string
  t.match(requested.detail?.pending, { change: 'appProduction', requestedBy: 'alice' }, 'the promotion waits for a second operator')
  t.equal(production.supervisor.access.app(APP_ID)!.status, 'testing', 'still testing while the request waits')
  const self = await admin(['approve', requestId])
  t.equal(self.code, 1, 'alice cannot approve her own request')
  t.match(self.stderr, /GH_ERR_ADMIN_SELF_APPROVAL/, 'with GH_ERR_ADMIN_SELF_APPROVAL')
  t.equal(production.supervisor.access.app(APP_ID)!.status, 'testing', 'still testing after the refused self-approval')
  const approved = jsonOf(t, await admin(['approve', requestId, '--json'], 'bob'), 'bob approves')
  t.equal(approved.detail?.approved, requestId, 'the approval names the request')
  const apps = jsonOf(t, await admin(['apps', 'list', '--json']), 'apps list')
  const app = apps.find((a: { appId: string }) => a.appId === APP_ID)
  t.match(app, { status: 'production', accessTest: 'certified', certification: { passed: true, recordedBy: 'alice' } })
  t.ok(app.evidence.filter((d: { kind: string }) => d.kind === 'certification').length >= 3, 'both reports of the good run and the failing report are evidence')

  passingReportSha256 = app.certification.reportSha256
  const ok = await logOnAs(production, 'cert-a')
  t.ok(ok.ok, `it connects to production (${ok.text})`)

  const changes = await adminChanges(t, production)
  const cert = changes.filter((c) => c.command === 'app-certification')
  t.equal(cert.length, 2, 'both certifications journaled')
  t.match(cert[1], { operator: 'alice', scope: { kind: 'app', appId: APP_ID }, after: { passed: true, reportSha256: app.certification.reportSha256 } })
  t.match(changes.find((c) => c.command === 'app-status' && c.after === 'production'), { operator: 'alice', before: 'testing' }, 'the promotion journaled')
  t.same(changes.filter((c) => c.scope?.requestId === requestId).map((c) => [c.command, c.operator]),
    [['dual-control-request', 'alice'], ['dual-control-refused', 'alice'], ['dual-control-approve', 'bob']], 'the request, the refused self-approval and the approval journaled')
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

t.test('the regulator pack of production holds each step, citing its journal records, and --verify passes', async (t) => {
  // Step 1's refusal is a logon step in production's journal, and an
  // incident (software not approved) in the pack.
  const steps = await gatehouse(['journal', 'search', journalDir(production.config), '--kind', 'logon-step', '--json'])
  t.equal(steps.code, 0, `journal search logon-step${steps.code === 0 ? '' : ` (${steps.stderr.trim()})`}`)
  const logonSteps = steps.stdout.trim().split('\n').filter((l) => l !== '').map((line) => (JSON.parse(line) as { body: Record<string, any> }).body)
  const refusedInTesting = logonSteps.filter((s) => s.appId === APP_ID && s.reasonName === 'APPID_TESTING_ONLY')
  t.equal(refusedInTesting.length, 1, 'the refused production logon in testing is journaled once')
  t.match(refusedInTesting[0], { account: 'cert-a', appId: APP_ID, lane: 'platform' })

  await production.stop()
  productionStopped = true
  const today = new Date().toISOString().slice(0, 10)
  const out = join(work, 'pack')
  const runDir = production.config.runDir
  const made = await gatehouse(['compliance', 'report', '--as-of', today, '--run-dir', runDir, '--out', out])
  t.equal(made.code, 0, `compliance report: exit 0${made.code === 0 ? '' : ` (${made.stderr.trim()})`}`)
  const verified = await gatehouse(['compliance', 'report', '--verify', '--run-dir', runDir, '--out', out])
  t.equal(verified.code, 0, `--verify: exit 0${verified.code === 0 ? '' : ` (${verified.stderr.trim()})`}`)
  t.match(verified.stdout, /OK: \d+ items, \d+ cited records match the journal/)
  const pack = JSON.parse(readFileSync(join(out, 'pack.json'), 'utf8')) as RegulatorPack
  const cited = (item: { cites: string[] }, what: string): void => {
    t.ok(item.cites.length > 0 && item.cites.every((ref) => pack.records[ref]?.stream === 'supervisor'), `${what}: cites ${item.cites.join(', ')}`)
  }

  const notApproved = pack.sections.incidents.filter((i) => i.type === 'software-not-approved' && i.appId === APP_ID)
  t.equal(notApproved.length, 1, 'step 1: the refused production logon is an incident in the pack')
  t.match(notApproved[0], { account: 'cert-a', lane: 'platform', text: /APPID_TESTING_ONLY/ })
  if (notApproved[0] !== undefined) cited(notApproved[0], 'the refused logon')
  const app = pack.sections.externalSystems.find((a) => a.appId === APP_ID)!
  t.ok(app, 'the AppID is an external system in the pack')
  cited(app, 'the external system')
  t.equal(app.status, 'suspended', 'suspended as of today')
  // Step 1 (the pack's side): it was in testing when refused, until the promotion.
  // Steps 3 and 5: promoted by the requester once approved, suspended by the gateway.
  const history = app.statusHistory.map((h) => [h.status, h.operator])
  t.same(history.map(([status]) => status), ['testing', 'production', 'suspended'], `status history testing → production → suspended (${JSON.stringify(history)})`)
  t.same(history, [['testing', 'config'], ['production', 'alice'], ['suspended', 'gateway']], 'testing from the configuration, promoted as alice asked, suspended by the gateway')
  for (const h of app.statusHistory) cited(h, `status ${h.status}`)

  // Step 2: the passing certification run, with its report's SHA-256 as recorded.
  const runs = app.certification.filter((c) => c.source === 'certification-run')
  t.match(runs, [{ passed: false, failedStep: 'reconnect-resend' }, { passed: true, failedStep: null, operator: 'alice' }], 'the failing run, then the passing one')
  t.match(runs[1]?.reportSha256, /^[0-9a-f]{64}$/, 'the passing report\'s SHA-256')
  t.equal(runs[1]?.reportSha256, passingReportSha256, 'the SHA-256 the registry held for it')
  for (const c of runs) cited(c, `certification ${String(c.passed)}`)

  // Step 3: requested by alice, her self-approval refused, approved by bob, then the effect.
  const dual = pack.sections.dualControl.filter((d) => d.change === 'appProduction')
  t.equal(dual.length, 1, 'one dual-control request for the promotion')
  t.match(dual[0], { requestedBy: 'alice', outcome: 'approved', decidedBy: 'bob', summary: new RegExp(APP_ID) })
  t.same(dual[0]?.steps.map((s) => [s.step, s.operator]), [['request', 'alice'], ['refused', 'alice'], ['approve', 'bob'], ['effect', 'alice']], 'request, refused self-approval, approval, effect')
  if (dual[0] !== undefined) cited(dual[0], 'the dual-control request')

  // Step 4: the production logon is an ordinary success, not an incident;
  // the pack shows it through the status it was allowed by (above).
  // Step 5: the stored documents with their SHA-256, and the refused logon after the expiry.
  const stored = app.evidence.filter((e) => e.sha256 !== null)
  const kinds = stored.map((e) => e.document)
  t.ok(kinds.some((k) => k === 'business-licence from Shanghai AMR'), `the business licence is listed (${kinds.join('; ')})`)
  t.ok(kinds.some((k) => k === 'security-test-report from Lab'), 'the document that expired is listed')
  t.ok(stored.some((e) => e.sha256 === passingReportSha256), 'the passing report is itself a stored document')
  const dir = evidenceDir(runDir)
  for (const e of stored) {
    t.match(e.sha256, /^[0-9a-f]{64}$/)
    t.ok(statSync(join(dir, e.sha256!)).isFile(), `${e.document}: stored under its SHA-256`)
    cited(e, e.document)
  }
  const expired = pack.sections.incidents.filter((i) => i.type === 'assessment-expired' && i.appId === APP_ID)
  t.ok(expired.length >= 1, 'the refused logon after the expiry is an incident')
  const suspension = pack.sections.adminChanges.find((c) => c.command === 'app-status' && c.after === 'suspended')
  t.match(suspension, { operator: 'gateway', before: 'production' }, 'the suspension is a change row, by the gateway')
})
