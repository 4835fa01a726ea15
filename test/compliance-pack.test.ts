// The regulator pack end to end: a real gateway (dual control on, as the
// default config has it) writes its journal while two operators register,
// promote and bind an AppID, record a client's programmatic report, and
// the clients cause incidents (a held terminal, a lockout, a kill switch).
// Then `gatehouse compliance report` runs as its own process over the run
// directory: every step is in the pack, each item cites records that
// exist, --verify passes, and a tampered pack fails --verify naming the
// item or file.
import t from 'tap'
import { runCli, type CliRun } from './helpers/cli-run.js'
import { once } from 'node:events'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createConnection, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { GatehouseClient, type TerminalInfoInit } from '../client/gatehouse-client.js'
import { DEMO_APP_ID, DEMO_TERMINAL_INFO } from '../protocol/demo-identity.js'
import { adminSocketPath, journalDir } from '../config/config.js'
import { RejectReason, Side } from '../protocol/messages.js'
import { startTestGateway } from './helpers/gateway.js'
import { passingReport } from './helpers/certification.js'
import { PASSWORD, TEST_IDENTITY, cancel, logOn, place, tradingAccount } from './helpers/trading.js'
import { dateInZone } from '../tools/compliance/pack-time.js'
import type { RegulatorPack } from '../tools/compliance/regulator-pack.js'

const APP = 'pk.vendor.algo'
const gateway = await startTestGateway({
  overrides: {
    accounts: [
      { ...tradingAccount('pk-prog'), lanes: ['platform'] },
      tradingAccount('pk-lock'),
      tradingAccount('pk-trade'),
    ],
    security: { maxFailures: 2, failureWindowMs: 60_000, lockoutMs: 1000, maxTrackedEntries: 1000 },
    compliance: { dualControl: { windowMs: 60_000, requireFor: { appProduction: true, limitRaise: true, globalKillLift: true, fingerprintApproval: true } } },
  },
})
let stopped = false
t.teardown(async () => { if (!stopped) await gateway.stop() })
const runDir = gateway.config.runDir

/** One operator's admin connection. */
async function operator (name: string): Promise<{ ok: (command: string, args: unknown) => Promise<any>, close: () => void }> {
  const socket: Socket = createConnection(adminSocketPath(gateway.config))
  await once(socket, 'connect')
  socket.setEncoding('utf8')
  let buffered = ''
  const waiting: Array<(line: string) => void> = []
  socket.on('data', (chunk: string) => {
    buffered += chunk
    let nl: number
    while ((nl = buffered.indexOf('\n')) !== -1) {
      const line = buffered.slice(0, nl)
      buffered = buffered.slice(nl + 1)
      waiting.shift()?.(line)
    }
  })
  let id = 1
  return {
    ok: async (command, args) => {
      const line = await new Promise<string>((resolve) => {
        waiting.push(resolve)
        socket.write(JSON.stringify({ id: id++, operator: name, command, args }) + '\n')
      })
      const reply = JSON.parse(line) as { ok: boolean, result?: any, error?: { code: string, message: string } }
      if (!reply.ok) throw new Error(`${command} by ${name}: ${reply.error!.code} ${reply.error!.message}`)
      return reply.result
    },
    close: () => { socket.destroy() },
  }
}

async function gatehouse (argv: string[]): Promise<CliRun> {
  return await runCli(argv)
}

// ---- what happens on the gateway ---------------------------------------------------

// A day of trading for the monitoring report: two orders, both cancelled.
const trader = await logOn(gateway, 'platform', 'pk-trade')
for (const price of [3050, 3051]) {
  const placed = await place(trader, { instrument: 'rb2605', side: Side.BUY, price, quantityLots: 1 })
  await cancel(trader, placed.id)
}
await trader.client.logout()
await trader.client.close()

// Wrong passwords until the account is locked (the address too, for lockoutMs: the next logon waits it out).
const locking = await GatehouseClient.connect(gateway.url('platform'))
await locking.logon('pk-lock', 'wrong-1', TEST_IDENTITY)
await locking.login('pk-lock', 'wrong-2')
const banned = await locking.login('pk-lock', PASSWORD)
await locking.close()
await new Promise((resolve) => setTimeout(resolve, banned.retryAfterMs + 100))
const alice = await operator('alice')
const bob = await operator('bob')
await alice.ok('apps.register', { appId: APP, vendor: 'Algo Vendor Ltd', name: 'AlgoPro', version: '3.1', authCode: 'pack-test-auth-code-000001', status: 'testing' })
await alice.ok('apps.evidence', { appId: APP, document: { name: 'security test report 2026', expires: '2027-06-30' } })
const licence = join(mkdtempSync(join(tmpdir(), 'gh-pack-evidence-')), 'licence.pdf')
writeFileSync(licence, 'the vendor\'s business licence, scanned')
const licenceSha256 = createHash('sha256').update('the vendor\'s business licence, scanned').digest('hex')
await alice.ok('apps.evidence.add', { appId: APP, path: licence, kind: 'business-licence', issuer: 'Market Regulation Bureau', issued: '2026-01-05', expires: '2031-01-04' })
await alice.ok('apps.certify-record', { appId: APP, report: passingReport(APP) })
const promote = await alice.ok('apps.status', { appId: APP, status: 'production' })
await bob.ok('pending.approve', { requestId: promote.detail.pending.requestId })
await alice.ok('apps.bind', { appId: APP, account: 'pk-prog' })
await alice.ok('diligence.set', { account: 'pk-prog', executionMethod: 'automated: the platform decides and sends orders', software: [{ name: 'AlgoPro', functions: 'signal generation, order routing', developer: 'Algo Vendor Ltd' }] })
await alice.ok('report.step', { account: 'pk-prog', step: 'receive', date: '2026-11-27' })
await bob.ok('report.step', { account: 'pk-prog', step: 'file', date: '2026-12-03' })
await bob.ok('report.step', { account: 'pk-prog', step: 'confirm', date: '2026-12-04' })
await alice.ok('kill-switch.set', { scope: { kind: 'account', account: 'pk-prog' }, on: true })
await alice.ok('kill-switch.set', { scope: { kind: 'account', account: 'pk-prog' }, on: false })

// A terminal the account has never used: held on the platform lane.
const laptop: TerminalInfoInit = { ...DEMO_TERMINAL_INFO, mac: '02:42:ac:11:00:e1', deviceName: 'pk-laptop' }
const held = await GatehouseClient.connect(gateway.url('platform'))
const heldResult = await held.logon('pk-prog', PASSWORD, { ...TEST_IDENTITY, appId: DEMO_APP_ID, terminalInfo: laptop })
await held.close()

alice.close()
bob.close()
await gateway.stop()
stopped = true

// ---- the pack -----------------------------------------------------------------------------

const today = new Date().toISOString().slice(0, 10)
const out = join(mkdtempSync(join(tmpdir(), 'gh-pack-')), 'pack')
const made = await gatehouse(['compliance', 'report', '--as-of', today, '--run-dir', runDir, '--out', out])
const pack = JSON.parse(readFileSync(join(out, 'pack.json'), 'utf8')) as RegulatorPack

t.test('every step is in the pack, citing its records', async (t) => {
  // (Asserted here, not as they happened: an assertion at the top level lets tap end the file early.)
  t.equal(banned.reason, RejectReason.LOGIN_BANNED, 'the account was locked')
  t.equal(heldResult.ok ? 0 : heldResult.reason, RejectReason.FINGERPRINT_HELD, 'the new terminal was held')
  t.equal(made.code, 0, `report: exit 0 ${made.stderr}`)
  const app = pack.sections.externalSystems.find((a) => a.appId === APP)!
  t.ok(app, 'the AppID is an external system in the pack')
  t.match(app, { vendor: 'Algo Vendor Ltd', name: 'AlgoPro', version: '3.1', status: 'production' })
  t.same(app.statusHistory.map((h) => [h.status, h.operator]), [['testing', 'alice'], ['production', 'alice']], 'status history: registered testing, promoted')
  t.match(app.evidence, [
    { document: 'security test report 2026', expires: '2027-06-30', sha256: null, operator: 'alice' },
    { document: 'business-licence from Market Regulation Bureau', expires: '2031-01-04', sha256: licenceSha256, operator: 'alice' },
  ], 'the assessment documents: one named, one stored with its SHA-256')
  t.match(app.certification, [{ source: 'certification-run', passed: true, reportSha256: /^[0-9a-f]{64}$/, failedStep: null, operator: 'alice' }], 'the certification run that allowed the promotion')
  t.same(app.accounts, [{ account: 'pk-prog', lanes: ['platform'] }], 'the account using it, with its access model')
  const dual = pack.sections.dualControl.find((d) => d.change === 'appProduction')!
  t.match(dual, { requestedBy: 'alice', outcome: 'approved', decidedBy: 'bob' }, 'the promotion was approved by a second operator')
  t.same(dual.steps.map((s) => s.step), ['request', 'approve', 'effect'], 'request, approval, effect')

  const prog = pack.sections.programmatic.find((p) => p.account === 'pk-prog')!
  t.match(prog, { programmaticReport: 'confirmed', executionMethod: /automated/, reportReceivedOn: '2026-11-27', filedOn: '2026-12-03', confirmedOn: '2026-12-04' }, 'the report, its contents and dates')
  t.match(prog.software, [{ name: 'AlgoPro', functions: /order routing/, developer: 'Algo Vendor Ltd' }])
  // Received Friday 27 Nov: 5 trading days → Friday 4 Dec; filed Thursday 3 Dec.
  t.match(prog.clocks, [{ clock: 'filing', dueOn: '2026-12-04', doneOn: '2026-12-03', state: 'met' }], 'the filing clock was met')

  const types = new Set(pack.sections.incidents.map((i) => i.type))
  for (const type of ['fingerprint-held', 'lockout', 'kill-switch']) t.ok(types.has(type), `incident ${type}`)
  t.ok(pack.sections.adminChanges.some((c) => c.command === 'start'), 'the start record (the registry at start) is a change row')

  for (const section of Object.values(pack.sections)) {
    for (const item of section as Array<{ cites: string[] }>) {
      for (const ref of item.cites) if (pack.records[ref] === undefined) t.fail(`cited ${ref} is not listed in records`)
    }
  }
  t.ok(Object.values(pack.records).every((r) => r.stream === 'supervisor' && /^[0-9a-f]{64}$/.test(r.sha256)), 'each record: stream, segment, seq, SHA-256')
  const html = readFileSync(join(out, 'index.html'), 'utf8')
  t.match(html, /<h1>Regulator pack as of/)
  t.notMatch(html, /<script|src=|href=/, 'the HTML is self-contained: no script, no outside link')
  t.match(readFileSync(join(out, 'external-systems.csv'), 'utf8'), /pk\.vendor\.algo,Algo Vendor Ltd,AlgoPro,3\.1,production/)
})

t.test('--verify passes on the pack as written', async (t) => {
  const verified = await gatehouse(['compliance', 'report', '--verify', '--run-dir', runDir, '--out', out])
  t.equal(verified.code, 0, `verify: exit 0 ${verified.stderr}`)
  t.match(verified.stdout, /OK: \d+ items, \d+ cited records match the journal/)
})

t.test('a tampered pack fails --verify and names the item', async (t) => {
  const original = readFileSync(join(out, 'pack.json'), 'utf8')
  const tampered = JSON.parse(original) as RegulatorPack
  tampered.sections.externalSystems.find((a) => a.appId === APP)!.statusHistory[0]!.operator = 'mallory'
  writeFileSync(join(out, 'pack.json'), JSON.stringify(tampered))
  const changed = await gatehouse(['compliance', 'report', '--verify', '--run-dir', runDir, '--out', out])
  t.equal(changed.code, 1, 'an altered item: exit 1')
  t.match(changed.stderr, /GH_ERR_PACK_VERIFY_FAILED/)
  t.match(changed.stderr, `externalSystems[appId=${APP}]: statusHistory differs from the journal`, 'names the item and the field')

  const dropped = JSON.parse(original) as RegulatorPack
  const gone = dropped.sections.incidents.findIndex((i) => i.type === 'lockout')
  const goneRef = dropped.sections.incidents[gone]!.cites[0]!
  dropped.sections.incidents.splice(gone, 1)
  delete dropped.records[goneRef]
  writeFileSync(join(out, 'pack.json'), JSON.stringify(dropped))
  const missing = await gatehouse(['compliance', 'report', '--verify', '--run-dir', runDir, '--out', out])
  t.equal(missing.code, 1, 'a dropped incident: exit 1')
  t.match(missing.stderr, `record ${goneRef}`, 'names the record left out')
  t.match(missing.stderr, /in the journal but missing from the pack/)

  writeFileSync(join(out, 'pack.json'), original)
  const csv = readFileSync(join(out, 'incidents.csv'), 'utf8')
  writeFileSync(join(out, 'incidents.csv'), csv.replace('lockout', 'nothing'))
  const csvChanged = await gatehouse(['compliance', 'report', '--verify', '--run-dir', runDir, '--out', out])
  t.equal(csvChanged.code, 1, 'an altered CSV: exit 1')
  t.match(csvChanged.stderr, /incidents\.csv: line \d+ differs/, 'names the file and line')
  writeFileSync(join(out, 'incidents.csv'), csv)
  t.equal((await gatehouse(['compliance', 'report', '--verify', '--run-dir', runDir, '--out', out])).code, 0, 'restored: verify passes again')
})

t.test('--tz Asia/Shanghai: times with +08:00; a bad zone is a usage error', async (t) => {
  const shanghai = join(mkdtempSync(join(tmpdir(), 'gh-pack-')), 'pack')
  const asOf = dateInZone(Date.now() * 1000, 'Asia/Shanghai')
  const run = await gatehouse(['compliance', 'report', '--as-of', asOf, '--tz', 'Asia/Shanghai', '--run-dir', runDir, '--out', shanghai])
  t.equal(run.code, 0, `exit 0 ${run.stderr}`)
  const p = JSON.parse(readFileSync(join(shanghai, 'pack.json'), 'utf8')) as RegulatorPack
  t.ok(Object.values(p.records).every((r) => r.time.endsWith('+08:00')), 'every time in +08:00')
  t.equal(Object.keys(p.records).length, Object.keys(pack.records).length, 'the same records')
  t.equal((await gatehouse(['compliance', 'report', '--verify', '--run-dir', runDir, '--out', shanghai])).code, 0, 'verify passes')
  const bad = await gatehouse(['compliance', 'report', '--as-of', asOf, '--tz', 'Mars/Olympus', '--run-dir', runDir, '--out', shanghai])
  t.equal(bad.code, 2, 'unknown zone: exit 2')
  t.match(bad.stderr, /--tz: unknown time zone/)
  const noDate = await gatehouse(['compliance', 'report', '--run-dir', runDir, '--out', shanghai])
  t.equal(noDate.code, 2, 'no --as-of: exit 2')
  t.ok(journalDir(gateway.config).startsWith(runDir), 'the journal is under the run directory')
})

t.test('the monitoring report: the day replayed from the journal, each monitor against its levels', async (t) => {
  const run = await gatehouse(['compliance', 'monitoring', '--run-dir', runDir, '--json'])
  t.equal(run.code, 0, `monitoring: exit 0 ${run.stderr}`)
  const report = JSON.parse(run.stdout) as { day: string, accounts: Array<{ account: string, monitors: Array<{ instrument: string, monitor: string, observed: number, warning: number | null, blocking: number | null, state: string }> }>, unreportedHighFrequency: unknown[] }
  const trade = report.accounts.find((a) => a.account === 'pk-trade')
  t.ok(trade, 'the account that traded is in the report')
  t.match(trade?.monitors.find((m) => m.monitor === 'cancels' && m.instrument === 'rb2605'), { observed: 2, warning: Number, blocking: Number, state: 'ok' }, 'two cancels against the cancel monitor\'s levels')
  t.match(trade?.monitors.find((m) => m.monitor === 'hf-daily-actions'), { observed: 4, state: 'ok' }, 'four actions (2 orders, 2 cancels)')
  t.same(report.unreportedHighFrequency, [], 'nobody crossed a reporting threshold')
  const text = await gatehouse(['compliance', 'monitoring', '--run-dir', runDir])
  t.match(text.stdout, /account pk-trade .*\n(.*\n)*\s+cancels\s+rb2605\s+2\s+warn/, 'the table for people')
})
