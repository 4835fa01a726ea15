// Start-up failures as a user meets them: `gatehouse start` as a real
// process. A second gateway on the ports of a running one must not start
// (uWS would otherwise share the ports through SO_REUSEPORT and split the
// clients between two risk states); it must say which config field to
// change in one line, without a stack trace, and exit non-zero, while the
// first keeps trading. The same for the embedded simulator's port, a token
// file open to others and a journal directory that cannot be written.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { ExecType, Side, TimeInForce } from '../protocol/messages.js'
import { GATEWAY_CLI, startGatewayProcess } from './helpers/gateway-process.js'
import { TEST_IDENTITY } from './helpers/trading.js'

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-start-errors-'))
/** How long a gateway that must fail may take to exit. */
const EXIT_TIMEOUT_MS = 20_000

/** A port free at the time of asking (the kernel's pick for port 0). */
async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  return port
}

let configs = 0
function configFile (config: Record<string, unknown>): string {
  const file = join(dir, `config-${++configs}.json`)
  writeFileSync(file, JSON.stringify({ runDir: join(dir, `run-${configs}`), ...config }))
  return file
}

/** Runs `gatehouse start` expected to fail; resolves with its exit code and stderr. */
async function failedStart (file: string): Promise<{ code: number | null, stderr: string, stdout: string }> {
  const child = spawn(process.execPath, [GATEWAY_CLI, 'start', '--config', file, '--json-events'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } })
  let stderr = ''
  let stdout = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  const timer = setTimeout(() => { child.kill('SIGKILL') }, EXIT_TIMEOUT_MS)
  const [code] = await once(child, 'exit') as [number | null]
  clearTimeout(timer)
  return { code, stderr, stdout }
}

/** Exactly one line on stderr, matching `line`, and nothing that looks like a stack frame. */
function oneLine (t: Test, stderr: string, line: RegExp, what: string): void {
  const lines = stderr.split('\n').filter((l) => l !== '')
  t.equal(lines.length, 1, `${what}: one line on stderr (${JSON.stringify(stderr)})`)
  t.match(lines[0], line, `${what}: names the field and what to do`)
  t.notMatch(stderr, /^\s+at /m, `${what}: no stack trace`)
}

/**
 * The first gateway, on ports the kernel had free a moment before. Another
 * process (a parallel test's client socket) can take one in between, so a
 * start that fails is retried on fresh ports.
 */
async function startFirst (): Promise<{ ports: Record<'terminal' | 'platform' | 'hft' | 'ops' | 'exchange', number>, first: Awaited<ReturnType<typeof startGatewayProcess>> }> {
  for (let attempt = 1; ; attempt++) {
    const ports = { terminal: await freePort(), platform: await freePort(), hft: await freePort(), ops: await freePort(), exchange: await freePort() }
    const lanes = { terminal: { port: ports.terminal }, platform: { port: ports.platform }, hft: { port: ports.hft } }
    try {
      return { ports, first: await startGatewayProcess(configFile({ lanes, ops: { port: ports.ops }, exchange: { port: ports.exchange } })) }
    } catch (err) {
      if (attempt === 3) throw err
    }
  }
}
const { ports, first } = await startFirst()
const lanes = { terminal: { port: ports.terminal }, platform: { port: ports.platform }, hft: { port: ports.hft } }
t.teardown(() => first.stop())

let orders = 0
/** The first gateway still trades: a real client logs on and gets an order acknowledged, and /healthz is 200. */
async function firstStillTrades (t: Test): Promise<void> {
  const client = await GatehouseClient.connect(`ws://127.0.0.1:${ports.platform}`)
  t.equal((await client.logon('demo-maker', 'maker-pass', TEST_IDENTITY)).ok, true, 'the first gateway still logs clients on')
  const clientOrderId = ++orders
  client.newOrder({ clientOrderId, instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 1, timeInForce: TimeInForce.FAK })
  t.ok(await client.report(clientOrderId, ExecType.ACK), 'and trades')
  await client.logout()
  t.equal((await fetch(`http://127.0.0.1:${ports.ops}/healthz`)).status, 200, 'its ops port answers')
}

t.test('the embedded simulator\'s port in use: one line naming exchange.port', async (t) => {
  const { code, stderr } = await failedStart(configFile({ lanes, ops: { port: ports.ops }, exchange: { port: ports.exchange } }))
  t.equal(code, 1, 'exit code 1')
  oneLine(t, stderr, new RegExp(`^gatehouse start: did not start: exchange\\.port ${ports.exchange} is in use \\(another gatehouse\\?\\); pick a free port or stop the other process$`), 'exchange.port')
  await firstStillTrades(t)
})

t.test('`gatehouse exchange-sim` on a port in use: one line naming --port, and the errno for whoever started it', async (t) => {
  const child = spawn(process.execPath, [GATEWAY_CLI, 'exchange-sim', '--port', String(ports.exchange)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } })
  let stderr = ''
  let stdout = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString() })
  const [code] = await once(child, 'exit') as [number | null]
  t.equal(code, 1, 'exit code 1')
  oneLine(t, stderr, new RegExp(`^gatehouse exchange-sim: --port ${ports.exchange} is in use \\(another gatehouse\\?\\); pick a free port or stop the other process$`), '--port')
  t.same(JSON.parse(stdout), { event: 'listen-failed', host: '127.0.0.1', port: ports.exchange, code: 'EADDRINUSE' }, 'a listen-failed event with the errno on stdout')
})

t.test('a lane\'s port in use: one line naming lanes.<lane>.port', async (t) => {
  const { code, stderr } = await failedStart(configFile({ lanes, ops: { port: 0 }, exchange: { embeddedSimulator: false, port: ports.exchange } }))
  t.equal(code, 1, 'exit code 1')
  oneLine(t, stderr, /^gatehouse start: did not start: lanes\.(terminal|platform|hft)\.port \d+ is in use \(another gatehouse\?\); pick a free port or stop the other process$/, 'lanes.<lane>.port')
  const lane = /lanes\.(\w+)\.port (\d+)/.exec(stderr)
  t.equal(Number(lane?.[2]), ports[lane?.[1] as keyof typeof ports], 'the port is the lane\'s')
  await firstStillTrades(t)
})

t.test('the ops port in use: one line naming ops.port', async (t) => {
  const { code, stderr } = await failedStart(configFile({
    lanes: { terminal: { port: 0 }, platform: { port: 0 }, hft: { port: 0 } },
    ops: { port: ports.ops },
    exchange: { embeddedSimulator: false, port: ports.exchange },
  }))
  t.equal(code, 1, 'exit code 1')
  oneLine(t, stderr, new RegExp(`^gatehouse start: did not start: ops\\.port ${ports.ops} is in use \\(another gatehouse\\?\\); pick a free port or stop the other process$`), 'ops.port')
  await firstStillTrades(t)
})

t.test('a token file open to others, and a journal directory that cannot be written: one line each', async (t) => {
  const tokenFile = join(dir, 'ops-token-shared')
  writeFileSync(tokenFile, 'a-token-of-at-least-sixteen-chars\n')
  chmodSync(tokenFile, 0o644)
  const token = await failedStart(configFile({ ops: { port: 0, tokenFile }, exchange: { embeddedSimulator: false } }))
  t.equal(token.code, 2, 'a config problem: exit code 2')
  oneLine(t, token.stderr, new RegExp(`^gatehouse start: did not start: invalid config: ops\\.tokenFile: "${tokenFile}" is open to group or others \\(mode 0644\\); make it owner-only: chmod 600 ${tokenFile}$`), 'ops.tokenFile')

  // A journal directory under a regular file: ENOTDIR even for root.
  const notADir = join(dir, 'plain-file')
  writeFileSync(notADir, '')
  const journal = await failedStart(configFile({
    lanes: { terminal: { port: 0 }, platform: { port: 0 }, hft: { port: 0 } },
    ops: { port: 0 },
    exchange: { embeddedSimulator: false, port: ports.exchange },
    journal: { dir: join(notADir, 'journal') },
  }))
  t.equal(journal.code, 1, 'exit code 1')
  oneLine(t, journal.stderr, /^gatehouse start: did not start: journal\.dir: cannot write the journal in ".*plain-file\/journal" \(ENOTDIR: not a directory.*\); make it a directory this user can write, or set journal\.dir$/, 'journal.dir')
})
