// `gatehouse doctor` as an operator runs it (the real CLI, real binds on
// loopback, real files), and each check's failure made to happen: a port
// held by another listener, a key that is not the certificate's, a
// certificate seen after its expiry, a journal disk below its watermark,
// a clock with no sign of sync, a uWebSockets.js binary for another ABI.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { generateKeyPairSync, X509Certificate } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { once } from 'node:events'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { resolveConfig } from '../config/load.js'
import { CERT_WARN_DAYS, checkCertificates, checkClock, checkUws, requiredGlibc, uwsFacts } from '../tools/doctor/host-checks.js'

const CLI = fileURLToPath(new URL('../cli/cli.js', import.meta.url))
const fixture = (name: string): string => fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'gatehouse-doctor-'))
const DAY_MS = 24 * 60 * 60 * 1000

function doctor (config: object, ...args: string[]): { status: number | null, stdout: string, stderr: string } {
  const file = join(dir, `config-${Math.random().toString(36).slice(2)}.json`)
  writeFileSync(file, JSON.stringify({ runDir: join(dir, 'var'), ...config }))
  return spawnSync(process.execPath, [CLI, 'doctor', '--config', file, ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } })
}

const EPHEMERAL = { lanes: { terminal: { port: 0 }, platform: { port: 0 }, hft: { port: 0 } }, ops: { port: 0 }, exchange: { port: 0 } }

t.test('a good config on this host: a table, exit 0; --json says the same', async (t) => {
  const table = doctor(EPHEMERAL)
  t.equal(table.status, 0, table.stdout + table.stderr)
  t.match(table.stdout, /^check +status +detail\n/)
  for (const name of ['config', 'port lanes.terminal', 'port ops', 'port exchange', 'journal disk', 'clock', 'uws binary', 'glibc', 'uws version', 'uws load']) {
    t.match(table.stdout, new RegExp(`^${name} +(OK|WARN) `, 'm'), name)
  }
  t.match(table.stdout, /\nready to start: \d+ checks, 0 failed, \d+ warnings\n$/)
  const json = doctor(EPHEMERAL, '--json')
  t.equal(json.status, 0)
  const report = JSON.parse(json.stdout) as { ok: boolean, checks: Array<{ name: string, status: string, detail: string }> }
  t.equal(report.ok, true)
  t.match(report.checks.find((c) => c.name === 'uws load'), { status: 'ok' }, 'the binary really loads here')
  t.match(report.checks.find((c) => c.name === 'glibc')?.detail, /^glibc 2\.\d+ here; the binary needs 2\.\d+$/)
})

t.test('a port in use fails with the field to change, exit 1', async (t) => {
  const holder = createServer()
  holder.listen(0, '127.0.0.1')
  await once(holder, 'listening')
  t.teardown(() => { holder.close() })
  const port = (holder.address() as AddressInfo).port
  const result = doctor({ ...EPHEMERAL, ops: { port } }, '--json')
  t.equal(result.status, 1)
  const report = JSON.parse(result.stdout) as { ok: boolean, checks: Array<{ name: string, status: string, detail: string }> }
  t.equal(report.ok, false)
  t.same(report.checks.find((c) => c.name === 'port ops'), {
    name: 'port ops', status: 'fail', detail: `ops.port ${port} is in use (another gatehouse?); pick a free port or stop the other process`,
  })
  t.equal(report.checks.filter((c) => c.status === 'fail').length, 1, 'only that one')
})

t.test('a config that does not validate is a failed check naming the field', async (t) => {
  const result = doctor({ lanes: { hft: { port: 'seven' } } })
  t.equal(result.status, 1)
  t.match(result.stdout, /^config +FAIL +.*lanes\.hft\.port: Invalid input: expected number, received string/m)
  t.match(result.stdout, /^clock /m, 'the host checks still ran')
  const usage = spawnSync(process.execPath, [CLI, 'doctor', '--bogus'], { encoding: 'utf8' })
  t.equal(usage.status, 2)
  t.match(usage.stderr, /^gatehouse doctor: Unknown option '--bogus'/)
})

t.test('a journal disk below its low watermark fails (the lanes\' own rule)', async (t) => {
  const result = doctor({ ...EPHEMERAL, journal: { disk: { lowWatermarkPercent: 100 } } })
  t.equal(result.status, 1)
  t.match(result.stdout, /^journal disk +FAIL +.*below the low watermark, new logons would be refused$/m)
})

t.test('certificates: valid, near expiry, expired, not yet valid, a key of another pair, unreadable', async (t) => {
  const certFile = fixture('lane-tls-cert.pem')
  const keyFile = fixture('lane-tls-key.pem')
  const cert = new X509Certificate(readFileSync(certFile))
  const validToMs = Date.parse(cert.validTo)
  const config = resolveConfig({ ...EPHEMERAL, runDir: join(dir, 'var'), ops: { port: 0, tls: { certFile, keyFile } } })
  const at = (nowMs: number) => checkCertificates(config, nowMs)
  t.match(at(Date.parse(cert.validFrom) + DAY_MS), [{ name: 'tls ops', status: 'ok', detail: /^CN=localhost: expires .*, in \d+ days$/ }])
  t.match(at(validToMs - 10 * DAY_MS), [{ status: 'warn', detail: new RegExp(`in 10 days; renew it \\(warning below ${CERT_WARN_DAYS} days\\)$`) }])
  t.match(at(validToMs + DAY_MS), [{ status: 'fail', detail: /expired .*; renew it$/ }])
  t.match(at(Date.parse(cert.validFrom) - DAY_MS), [{ status: 'fail', detail: /not valid before .*is the clock right/ }])

  const otherKey = join(dir, 'other-key.pem')
  writeFileSync(otherKey, generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }))
  const mismatched = resolveConfig({ ...EPHEMERAL, runDir: join(dir, 'var'), ops: { port: 0, tls: { certFile, keyFile: otherKey } } })
  t.match(checkCertificates(mismatched, Date.now()), [{ status: 'fail', detail: /^ops\.tls\.keyFile does not belong to ops\.tls\.certFile/ }])
  const garbage = join(dir, 'garbage.pem')
  writeFileSync(garbage, 'not a certificate')
  const unreadable = resolveConfig({ ...EPHEMERAL, runDir: join(dir, 'var'), ops: { port: 0, tls: { certFile: garbage, keyFile } } })
  t.match(checkCertificates(unreadable, Date.now()), [{ status: 'fail', detail: /^ops\.tls\.certFile: / }])
})

t.test('clock: the timesyncd flag, a running daemon, or a warning', async (t) => {
  const root = mkdtempSync(join(dir, 'clock-'))
  const flag = join(root, 'synchronized')
  const proc = join(root, 'proc')
  mkdirSync(join(proc, '42'), { recursive: true })
  writeFileSync(join(proc, '42', 'comm'), 'bash\n')
  t.match(checkClock({ timesyncFlag: flag, procDir: proc }), { status: 'warn', detail: /no sign of synchronisation/ })
  mkdirSync(join(proc, '77'))
  writeFileSync(join(proc, '77', 'comm'), 'chronyd\n')
  t.match(checkClock({ timesyncFlag: flag, procDir: proc }), { status: 'ok', detail: /a time daemon runs \(chronyd\)/ })
  writeFileSync(flag, '')
  t.match(checkClock({ timesyncFlag: flag, procDir: proc }), { status: 'ok', detail: /synchronised \(systemd-timesyncd/ })
})

t.test('uWebSockets.js: the glibc it names, a missing ABI binary, a version the lockfile does not pin', async (t) => {
  t.equal(requiredGlibc(Buffer.from('\0GLIBC_2.2.5\0GLIBC_2.38\0GLIBC_2.9\0')), '2.38')
  t.equal(requiredGlibc(Buffer.from('no versions')), null)
  const facts = uwsFacts()
  t.equal(facts.installedVersion, facts.lockedVersion, 'this checkout: installed as locked')
  t.ok(facts.glibcRequired !== null, `the real binary names its glibc (${facts.glibcRequired})`)
  const byName = (results: ReturnType<typeof checkUws>, name: string) => results.find((r) => r.name === name)
  t.match(byName(checkUws({ ...facts, glibcRequired: '2.99' }), 'glibc'), { status: 'fail', detail: /glibc 2\.\d+ here; the binary needs 2\.99/ })
  t.match(byName(checkUws({ ...facts, glibcRuntime: null }), 'glibc'), { status: 'fail', detail: /not a glibc system/ })
  const missing = checkUws({ ...facts, binaryFile: join(dir, 'uws_linux_x64_999.node'), sha256: null })
  t.match(byName(missing, 'uws binary'), { status: 'fail', detail: /does not exist/ })
  t.notOk(byName(missing, 'uws load'), 'no load attempt without a binary')
  t.match(byName(checkUws({ ...facts, installedVersion: '3.0.5' }), 'uws version'), { status: 'fail', detail: /installed 3\.0\.5, package-lock\.json pins 3\.0\.6; run npm ci/ })
  const notAPackage = mkdtempSync(join(dir, 'uws-'))
  writeFileSync(join(notAPackage, 'package.json'), '{"main":"index.js"}')
  writeFileSync(join(notAPackage, 'index.js'), 'throw new Error("This version of uWS.js supports only ...")')
  t.match(byName(checkUws({ ...facts, packageDir: notAPackage }), 'uws load'), { status: 'fail', detail: /does not load: Error: This version of uWS\.js/ })
})
