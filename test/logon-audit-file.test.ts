// The logon audit file (<runDir>/audit/logon-steps.jsonl) of a real
// gateway process with its embedded simulator: terminal info is masked
// there as the journal tools mask it, and SIGHUP reopens the file for
// logrotate (rename, SIGHUP, new lines at the original path) without
// stopping the gateway or its simulator.
import t, { type Test } from 'tap'
import { existsSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { GatehouseClient, type TerminalInfoInit } from '../client/gatehouse-client.js'
import { DEMO_TERMINAL_INFO } from '../protocol/demo-identity.js'
import { AUDIT_FILE, MAX_AUDIT_FIELD_CHARS, MAX_AUDIT_LINE_BYTES, auditLine } from '../supervisor/access/logon-audit.js'
import { Side, TimeInForce, ExecType, wireInt } from '../protocol/messages.js'
import { startGatewayProcess, type GatewayProcess } from './helpers/gateway-process.js'
import { testConfig } from './helpers/gateway.js'
import { PASSWORD, tradingAccount, TEST_IDENTITY } from './helpers/trading.js'

const ACCOUNT = 'AUDIT1'
const TERMINAL: TerminalInfoInit = {
  ...DEMO_TERMINAL_INFO,
  ips: ['10.93.17.201', '172.31.250.9'],
  mac: '9E:3A:77:C1:05:D4',
  deviceName: 'TRADER-DESK-0042',
  osVersion: 'Windows 11 Pro 23H2',
}
const CLEAR_VALUES = [TERMINAL.mac!, TERMINAL.deviceName!, ...TERMINAL.ips!, TERMINAL.osVersion!]

/** Polls (bounded) until `check` returns a value. */
async function until<T> (what: string, check: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const value = check()
    if (value !== undefined) return value
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await delay(20)
  }
}

function lines (path: string): Array<Record<string, unknown>> {
  if (!existsSync(path)) return []
  return readFileSync(path, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>)
}

/** The embedded simulator: the gateway's one child process. */
function simPidOf (gatewayPid: number): number {
  const children = readdirSync(`/proc/${gatewayPid}/task`)
    .flatMap((tid) => readFileSync(`/proc/${gatewayPid}/task/${tid}/children`, 'utf8').trim().split(/\s+/))
    .filter((pid) => pid !== '')
    .map(Number)
  if (children.length !== 1) throw new Error(`expected the gateway to have one child (the simulator), found ${children.length}`)
  return children[0]!
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** A logon with the test's terminal info and one order on the terminal lane: the exchange must answer. */
async function logOnAndTrade (gw: GatewayProcess, t: Test): Promise<void> {
  const client = await GatehouseClient.connect(gw.url('terminal'))
  try {
    const logon = await client.logon(ACCOUNT, PASSWORD, { ...TEST_IDENTITY, terminalInfo: TERMINAL })
    t.ok(logon.ok, `logged on${logon.ok ? '' : ` (${logon.text})`}`)
    client.newOrder({ clientOrderId: Date.now() % 1_000_000, instrument: 'rb2605', side: Side.BUY, price: 3200, quantityLots: 1, timeInForce: TimeInForce.GFD })
    const report = await client.next((m) => m.body === 'executionReport')
    t.not(report.executionReport!.execType, ExecType.REJECTED, `the exchange answered the order (${wireInt(report.executionReport!.reason)})`)
  } finally {
    await client.close()
  }
}

t.test('the audit file masks terminal info, and SIGHUP reopens it for logrotate', async (t) => {
  const dir = t.testdir()
  const runDir = join(dir, 'run')
  const config = testConfig(0, {
    runDir,
    accounts: [tradingAccount(ACCOUNT)],
    exchange: { embeddedSimulator: true, host: '127.0.0.1', port: 0 },
    admin: { enabled: false },
  })
  const configFile = join(dir, 'gateway.json')
  writeFileSync(configFile, JSON.stringify(config))
  const gw = await startGatewayProcess(configFile)
  t.teardown(async () => { if (gw.child.exitCode === null && gw.child.signalCode === null) await gw.stop() })
  const auditPath = join(runDir, 'audit', AUDIT_FILE)
  const simPid = simPidOf(gw.ready.pid)

  await logOnAndTrade(gw, t)
  // A wrong password too: a refused step is logged with the same masking.
  const refused = await GatehouseClient.connect(gw.url('terminal'))
  t.notOk((await refused.logon(ACCOUNT, 'wrong-password', { ...TEST_IDENTITY, terminalInfo: TERMINAL })).ok, 'a wrong password is refused')
  await refused.close()
  const before = await until('the logon steps in the audit file', () => {
    const l = lines(auditPath)
    // Both connections' last step (disconnect) too: nothing more is due before the rotation.
    return l.filter((x) => x.step === 'logon').length >= 2 && l.filter((x) => x.step === 'disconnect').length >= 2 ? l : undefined
  })
  const text = readFileSync(auditPath, 'utf8')
  for (const value of CLEAR_VALUES) t.notOk(text.includes(value), `no clear ${value} in the audit file`)
  const terminalStep = before.find((l) => l.step === 'terminal-info')
  t.match(terminalStep, { account: ACCOUNT, ok: true, terminal: { mac: '***', deviceName: '***', ips: ['***'], osVersion: '***', collectFailureMask: DEMO_TERMINAL_INFO.collectFailureMask } },
    'the terminal-info step: every string masked, numbers kept')
  t.match(before.find((l) => l.step === 'logon' && l.ok === false), { reasonName: 'INVALID_CREDENTIALS' })

  // logrotate: rename, then SIGHUP, to the gateway and (as a terminal hangup does, to the whole group) to its simulator.
  const rotated = `${auditPath}.1`
  renameSync(auditPath, rotated)
  process.kill(gw.ready.pid, 'SIGHUP')
  process.kill(simPid, 'SIGHUP')
  await logOnAndTrade(gw, t)
  const after = await until('new lines at the original path', () => {
    const l = lines(auditPath)
    return l.some((x) => x.step === 'logon') ? l : undefined
  })
  t.ok(after.every((l) => l.account === undefined || l.account === ACCOUNT), 'the new file holds the new logon\'s steps')
  t.same(lines(rotated), before, 'the rotated file is complete: every line written before the SIGHUP, none after')
  t.ok(readFileSync(rotated, 'utf8').endsWith('\n'), 'and ends in a whole line')
  t.equal(gw.child.exitCode, null, 'the gateway is still running')
  t.ok(alive(simPid), 'so is its simulator')
  const health = await fetch(`http://127.0.0.1:${gw.ready.ops.port}/healthz`)
  t.equal(health.status, 200, '/healthz: ok (the exchange link is up)')
  for (const value of CLEAR_VALUES) t.notOk(readFileSync(auditPath, 'utf8').includes(value), `no clear ${value} in the new file either`)
})

t.test('an audit line is bounded: string fields cut, the line capped', async (t) => {
  const huge = 'x'.repeat(100_000)
  const line = auditLine({
    lane: 'terminal', sessionId: 1, ip: '127.0.0.1', step: 'authenticate', account: huge, appId: huge, reason: 0, text: huge,
    terminal: { deviceName: huge, ips: Array.from({ length: 10_000 }, () => 1), mac: 'AA' },
    fingerprintId: huge,
  })
  for (const key of ['account', 'appId', 'text', 'fingerprintId']) {
    t.ok((line[key] as string).length <= MAX_AUDIT_FIELD_CHARS, `${key} is cut to ${MAX_AUDIT_FIELD_CHARS} characters`)
    t.match(line[key], /…\(truncated\)$/, `${key} says it was cut`)
  }
  t.ok(Buffer.byteLength(JSON.stringify(line)) <= MAX_AUDIT_LINE_BYTES, `the line is at most ${MAX_AUDIT_LINE_BYTES} bytes`)
  t.equal(line.truncated, true, 'and says it was truncated')
  t.equal(line.terminal, undefined, 'the terminal info that made it too long is left out (the journal has it)')
  const small = auditLine({ lane: 'terminal', sessionId: 1, ip: '127.0.0.1', step: 'terminal-info', reason: 0, terminal: { mac: 'AA', deviceName: 'b', ips: ['1.2.3.4'], abnormal: true } })
  t.same(small.terminal, { mac: '***', deviceName: '***', ips: ['***'], abnormal: true }, 'a small line keeps its (masked) terminal info')
  t.equal(small.truncated, undefined)
})
