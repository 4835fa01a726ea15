// The ops port's exposure: the bearer token of /accounts/... (generated
// owner-only into the run directory and reused, or read from
// ops.tokenFile; refused when others can read it), HTTPS with ops.tls,
// and the start banner naming the token file. Real gateways and a real
// `gatehouse start` process.
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { chmodSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { get } from 'node:https'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { Supervisor } from '../supervisor/supervisor.js'
import { CLI_PATH } from '../supervisor/exchange-sim-process.js'
import { startTestGateway, testConfig } from './helpers/gateway.js'
import { rawHttp, request } from './helpers/raw-http.js'

const fixture = (name: string): string => fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url))
/** One lane is enough to show the ops port; fewer threads keep this file quick on a busy machine. */
const oneLane = { terminal: { enabled: false }, hft: { enabled: false } }

t.test('with no ops.tokenFile a token is generated into <runDir>/ops-token, owner-only, and reused', async (t) => {
  const gateway = await startTestGateway({ overrides: { lanes: oneLane, journal: { enabled: false } } })
  t.teardown(() => gateway.stop())
  const { ops } = gateway.supervisor.running()
  t.equal(ops.tokenFile, join(gateway.config.runDir, 'ops-token'))
  t.equal(statSync(ops.tokenFile).mode & 0o777, 0o600, 'mode 0600')
  const token = gateway.opsToken()
  t.match(token, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url')
  t.equal((await rawHttp(ops.port, request('GET', '/accounts/demo-maker/counters', { token })))?.status, 200, 'the token opens /accounts/...')
  t.equal((await rawHttp(ops.port, request('GET', '/accounts/demo-maker/counters')))?.status, 401, 'nothing else does')
  t.equal((await rawHttp(ops.port, request('GET', '/metrics')))?.status, 200, '/metrics needs no token')
  t.equal((await rawHttp(ops.port, request('GET', '/healthz')))?.status, 200, '/healthz needs no token')

  // A second start on the same run directory.
  const again = new Supervisor(testConfig(gateway.sim.port, { runDir: gateway.config.runDir, lanes: oneLane, journal: { enabled: false } }))
  await again.start()
  t.teardown(() => again.stop())
  t.equal(readFileSync(ops.tokenFile, 'utf8').trim(), token, 'the next start reuses the token')
  t.equal((await rawHttp(again.running().ops.port, request('GET', '/accounts/demo-maker/counters', { token })))?.status, 200, 'and accepts it')
  await again.stop()

  chmodSync(ops.tokenFile, 0o644)
  const exposed = new Supervisor(testConfig(gateway.sim.port, { runDir: gateway.config.runDir, lanes: oneLane, journal: { enabled: false } }))
  await t.rejects(exposed.start(), {
    message: `the generated ops token (ops.tokenFile is null): "${ops.tokenFile}" is open to group or others (mode 0644); make it owner-only: chmod 600 ${ops.tokenFile}`,
  }, 'a token file others can read stops the start')
  chmodSync(ops.tokenFile, 0o600)
})

/** GET over HTTPS trusting the test certificate. */
function httpsGet (port: number, path: string, headers: Record<string, string> = {}): Promise<{ status: number, body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, headers, ca: readFileSync(fixture('lane-tls-cert.pem')) }, (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => { body += chunk.toString() })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }) })
    })
    req.on('error', reject)
  })
}

t.test('ops.tokenFile and ops.tls: the configured token, over HTTPS only', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-ops-auth-'))
  const tokenFile = join(dir, 'token')
  writeFileSync(tokenFile, 'configured-token-0123456789abcdef\n', { mode: 0o600 })
  const gateway = await startTestGateway({ overrides: { lanes: oneLane, journal: { enabled: false }, ops: { tokenFile, tls: { certFile: fixture('lane-tls-cert.pem'), keyFile: fixture('lane-tls-key.pem') } } } })
  t.teardown(() => gateway.stop())
  const { ops } = gateway.supervisor.running()
  t.equal(ops.tls, true)
  t.equal(ops.tokenFile, tokenFile)
  t.notOk(existsSync(join(gateway.config.runDir, 'ops-token')), 'no token is generated')
  t.equal((await httpsGet(ops.port, '/healthz')).status, 200, '/healthz over HTTPS')
  const counters = await httpsGet(ops.port, '/accounts/demo-maker/counters', { authorization: 'Bearer configured-token-0123456789abcdef' })
  t.equal(counters.status, 200, 'the configured token opens /accounts/...')
  t.match(counters.body, /"openOrders"/)
  t.equal((await httpsGet(ops.port, '/accounts/demo-maker/counters', { authorization: 'Bearer configured-token-0123456789abcdeX' })).status, 401)
  await t.rejects(fetch(`http://127.0.0.1:${ops.port}/healthz`), 'plain HTTP gets nothing')
})

t.test('the start banner names the ops token file', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-ops-banner-'))
  const configFile = join(dir, 'config.json')
  writeFileSync(configFile, JSON.stringify({ runDir: join(dir, 'var'), lanes: { ...oneLane, platform: { port: 0 } }, journal: { enabled: false }, ops: { port: 0 }, exchange: { port: 0 } }))
  const gateway = spawn(process.execPath, [CLI_PATH, 'start', '--config', configFile], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, NODE_OPTIONS: '' } })
  const exited = once(gateway, 'exit')
  // Never left running, whatever happens to this test.
  t.teardown(() => { if (gateway.exitCode === null) gateway.kill('SIGKILL') })
  // The banner is the msg of the ready log line (pino JSON on stdout).
  let banner = ''
  for await (const line of createInterface({ input: gateway.stdout! })) {
    const logLine = JSON.parse(line) as { event?: string, msg: string }
    if (logLine.event === 'ready') { banner = logLine.msg + '\n'; break }
  }
  t.match(banner, new RegExp(`ops +http://127\\.0\\.0\\.1:\\d+/healthz and /metrics; http://127\\.0\\.0\\.1:\\d+/accounts/<id>/counters with the bearer token in ${join(dir, 'var', 'ops-token').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`))
  gateway.kill('SIGTERM')
  t.equal((await exited)[0], 0, 'clean exit')
})
