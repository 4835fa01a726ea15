// The admin socket end to end: a real gateway (supervisor, lane threads,
// the exchange simulator process) started by the supervisor with its admin
// socket, talked to with raw protocol lines over node:net and through
// `gatehouse admin` run as a process. Each change is checked where it
// matters: the next order, the next logon, the client's own connection,
// the limits after a restart.
//
// Each subtest has its own account; the simulator's book lives for the
// whole file, and every order left working is cancelled.
import t, { type Test } from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { chmodSync, existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs'
import { createConnection, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { GatehouseClient, type LogonResult, type TerminalInfoInit } from '../client/gatehouse-client.js'
import { DEMO_APP_ID, DEMO_TERMINAL_INFO } from '../protocol/demo-identity.js'
import { CLI_PATH } from '../supervisor/exchange-sim-process.js'
import { AdminServer } from '../supervisor/admin/admin-server.js'
import { MAX_REQUEST_LINE_BYTES } from '../supervisor/admin/admin-protocol.js'
import { Supervisor } from '../supervisor/supervisor.js'
import { journalDir } from '../config/config.js'
import { type LaneName } from '../protocol/lanes.js'
import { fingerprintId, type TerminalInfo } from '../protocol/terminal-fingerprint.js'
import { ExecType, RejectReason, Side, reasonName, v1, wireInt, type ExecutionReport } from '../protocol/messages.js'
import { ExchangeProbe } from './helpers/exchange-probe.js'
import { passingReport } from './helpers/certification.js'
import { startTestGateway } from './helpers/gateway.js'
import { PASSWORD, cancel, finished, logOn, place, tradingAccount, TEST_IDENTITY } from './helpers/trading.js'

const ACCOUNTS = ['adm-bad', 'adm-limits', 'adm-kill', 'adm-apps', 'adm-sessions', 'adm-persist', 'adm-halt', 'adm-report', 'adm-prints', 'adm-reload']

// The socket in a directory anyone may traverse (0711), so that what keeps
// another user out is the socket's own mode, not its directory's. Short:
// a Unix socket path must fit in ~107 bytes.
const socketDir = mkdtempSync(join(tmpdir(), 'gh-admin-'))
chmodSync(socketDir, 0o711)
const socketPath = join(socketDir, 'admin.sock')

const gateway = await startTestGateway({ overrides: { accounts: ACCOUNTS.map(tradingAccount), admin: { enabled: true, socketPath } } })
// Replaced by the restart subtest.
let supervisor: Supervisor = gateway.supervisor
t.teardown(async () => {
  await supervisor.stop()
  await gateway.sim.stop()
})

// ---- talking to the socket ----------------------------------------------------------

interface Reply {
  id: number | string | null
  ok: boolean
  result?: any
  error?: { code: string, message: string, issues?: string[] }
}

/** A raw protocol connection: lines out, reply lines back in order. */
class RawAdmin {
  private buffered = ''
  private readonly waiting: Array<(reply: Reply) => void> = []
  private nextId = 1

  private constructor (readonly socket: Socket) {
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      this.buffered += chunk
      let nl: number
      while ((nl = this.buffered.indexOf('\n')) !== -1) {
        const line = this.buffered.slice(0, nl)
        this.buffered = this.buffered.slice(nl + 1)
        this.waiting.shift()?.(JSON.parse(line) as Reply)
      }
    })
  }

  static async connect (path = socketPath): Promise<RawAdmin> {
    const socket = createConnection(path)
    await once(socket, 'connect')
    return new RawAdmin(socket)
  }

  /** Sends raw bytes (a line, or part of one) and waits for the next reply. */
  sendRaw (text: string): Promise<Reply> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`no reply to ${text.slice(0, 80)}`)) }, 10_000)
      this.waiting.push((reply) => {
        clearTimeout(timer)
        resolve(reply)
      })
      this.socket.write(text)
    })
  }

  request (command: string, args: unknown, operator = 'alice'): Promise<Reply> {
    return this.sendRaw(JSON.stringify({ id: this.nextId++, operator, command, args }) + '\n')
  }

  /** The result of a request that must succeed. */
  async ok (command: string, args: unknown): Promise<any> {
    const reply = await this.request(command, args)
    if (!reply.ok) throw new Error(`${command} failed: ${reply.error!.code} ${reply.error!.message}`)
    return reply.result
  }

  close (): void {
    this.socket.destroy()
  }
}

interface CliRun {
  code: number | null
  stdout: string
  stderr: string
}

/** `gatehouse admin ...` as its own process, as alice, on this gateway's socket. */
async function cli (args: string[], options: { input?: string, uid?: number, gid?: number, socket?: boolean } = {}): Promise<CliRun> {
  const common = options.socket === false ? ['--operator', 'alice'] : ['--socket', socketPath, '--operator', 'alice']
  return gatehouse(['admin', ...args, ...common], options)
}

/** `gatehouse ...` as its own process. */
async function gatehouse (argv: string[], options: { input?: string, uid?: number, gid?: number } = {}): Promise<CliRun> {
  const child: ChildProcess = spawn(process.execPath, [CLI_PATH, ...argv], {
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid }),
  })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { stdout += s })
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  child.stdin!.end(options.input ?? '')
  const [code] = await once(child, 'close') as [number | null]
  return { code, stdout, stderr }
}

/** The JSON a `--json` run printed (and that it exited 0). */
function jsonOf (t: Test, run: CliRun, what: string): any {
  t.equal(run.code, 0, `${what}: exit 0${run.code === 0 ? '' : ` (stderr: ${run.stderr.trim()})`}`)
  return JSON.parse(run.stdout)
}

const accountScope = (account: string): { kind: 'account', account: string } => ({ kind: 'account', account })

function accepted (t: Test, report: ExecutionReport, what: string): void {
  t.equal(report.execType, ExecType.ACK, `${what}: accepted${report.reason === 0 ? '' : ` (refused ${reasonName(report.reason)}: ${report.text})`}`)
}

// ---- the socket itself ----------------------------------------------------------------

t.test('the supervisor creates the socket at admin.socketPath, owner-only (0600)', async (t) => {
  const stat = statSync(socketPath)
  t.ok(stat.isSocket(), `${socketPath} is a socket`)
  t.equal(stat.mode & 0o777, 0o600, 'mode 0600')
  t.equal(stat.uid, process.getuid!(), 'owned by the gateway\'s user')
})

t.test('a second server on a path a live gateway answers on is refused; a stale socket file is replaced', async (t) => {
  await t.rejects(new AdminServer({ path: socketPath, api: supervisor.admin }).listen(), /another gateway is using .*admin\.sock/)
  t.ok(existsSync(socketPath), 'the live socket is left alone')

  // A socket file whose process died (SIGKILL: nothing cleaned up).
  const stalePath = join(socketDir, 'stale.sock')
  const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(stalePath)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'inherit'] })
  await once(holder.stdout!, 'data')
  holder.kill('SIGKILL')
  await once(holder, 'exit')
  t.ok(statSync(stalePath).isSocket(), 'the dead process left its socket file')
  const server = new AdminServer({ path: stalePath, api: supervisor.admin })
  await server.listen()
  t.equal(statSync(stalePath).mode & 0o777, 0o600, 'the new socket replaced it, owner-only')
  const raw = await RawAdmin.connect(stalePath)
  t.equal((await raw.request('apps.list', {})).ok, true, 'and answers')
  raw.close()
  await server.close()
  t.notOk(existsSync(stalePath), 'close removes the socket file')

  const notSocket = join(socketDir, 'plain-file')
  writeFileSync(notSocket, 'x')
  await t.rejects(new AdminServer({ path: notSocket, api: supervisor.admin }).listen(), /exists and is not a socket/)
})

t.test('malformed requests get BAD_REQUEST with a useful message, change nothing, and the connection keeps working', async (t) => {
  const raw = await RawAdmin.connect()
  t.teardown(() => { raw.close() })
  const scope = accountScope('adm-bad')
  const before = await raw.ok('limits.show', { scope })
  const riskBefore = supervisor.risk.limitsAt(scope)

  const notJson = await raw.sendRaw('maxOpenOrders=5 please\n')
  t.same(notJson, { id: null, ok: false, error: { code: 'GH_ERR_ADMIN_BAD_REQUEST', message: notJson.error?.message } }, 'not JSON: BAD_REQUEST, no id to echo')
  t.match(notJson.error!.message, /not valid JSON/)

  const unknown = await raw.sendRaw(JSON.stringify({ id: 'u1', operator: 'alice', command: 'limits.explode', args: {} }) + '\n')
  t.equal(unknown.id, 'u1', 'the id is echoed even when the command is unknown')
  t.equal(unknown.error?.code, 'GH_ERR_ADMIN_BAD_REQUEST')
  t.match(unknown.error?.message, /unknown command "limits\.explode"; commands are limits\.show, limits\.set/)

  const noOperator = await raw.sendRaw(JSON.stringify({ id: 2, command: 'limits.set', args: { scope, values: { maxOpenOrders: 1 } } }) + '\n')
  t.equal(noOperator.error?.code, 'GH_ERR_ADMIN_BAD_REQUEST', 'missing operator')
  t.same(noOperator.error?.issues, ['operator: is required: the name of the person making the request'])

  const badOperator = await raw.request('limits.set', { scope, values: { maxOpenOrders: 1 } }, 'alice; rm -rf')
  t.same(badOperator.error?.issues, ['operator: must be 1-64 letters, digits, "_", ".", "@" or "-"'], 'an operator name that could not be journaled cleanly')

  const badName = await raw.request('limits.set', { scope, values: { maxOpenOrderz: 1 } })
  t.equal(badName.error?.code, 'GH_ERR_ADMIN_BAD_REQUEST', 'unknown limit name')
  t.match(badName.error?.issues?.[0], /^args\.values: no such limit "maxOpenOrderz"; limits are .*maxOpenOrders/)

  const badType = await raw.request('limits.set', { scope, values: { maxOpenOrders: 'fifty' } })
  t.equal(badType.error?.code, 'GH_ERR_ADMIN_BAD_REQUEST', 'a limit value of the wrong type')
  t.same(badType.error?.issues, ['args.values.maxOpenOrders: must be a number of at least 0, null for no limit, or "inherit"'])

  const badScope = await raw.request('limits.set', { scope: { kind: 'planet', planet: 'mars' }, values: { maxOpenOrders: 1 } })
  t.same(badScope.error?.issues, ['args.scope.kind: must be one of global, lane, exchange, app, account, account-instrument'], 'an unknown scope kind')

  const mixed = await raw.request('limits.set', { scope, values: { maxOpenOrders: 1, maxLongLots: 'lots' } })
  t.equal(mixed.error?.code, 'GH_ERR_ADMIN_BAD_REQUEST', 'one bad value among good ones: nothing applied')

  // Well-formed, but not a value the limit can take: the live-tuning API refuses it.
  const fractional = await raw.request('limits.set', { scope, values: { maxOpenOrders: 2.5, funds: 1000 } })
  t.equal(fractional.error?.code, 'GH_ERR_ADMIN_REFUSED', 'a fractional order count is refused')
  t.match(fractional.error?.message, /maxOpenOrders: must be a whole number/)

  const unknownAccount = await raw.request('limits.show', { scope: accountScope('nobody-here') })
  t.equal(unknownAccount.error?.code, 'GH_ERR_ADMIN_NOT_FOUND', 'an account the gateway does not know')

  const oversized = await raw.sendRaw(`{"id": 9, "operator": "alice", "command": "apps.list", "args": {}, "pad": "${'x'.repeat(MAX_REQUEST_LINE_BYTES)}"}\n`)
  t.equal(oversized.error?.code, 'GH_ERR_ADMIN_BAD_REQUEST', 'a line over 1 MiB')
  t.match(oversized.error?.message, /longer than 1048576 bytes/)

  // Secrets stay secret: an AuthCode is never quoted back, even when the
  // line around it is broken.
  const secret = 'SECRET-AUTHCODE-do-not-echo-42'
  const brokenRegister = await raw.sendRaw(`{"id": 10, "operator": "alice", "command": "apps.register", "args": {"authCode": "${secret}", \n`)
  t.equal(brokenRegister.error?.code, 'GH_ERR_ADMIN_BAD_REQUEST')
  const badRegister = await raw.request('apps.register', { appId: 'has spaces', vendor: 'v', name: 'n', version: '1', authCode: secret, status: 'testing' })
  t.equal(badRegister.error?.code, 'GH_ERR_ADMIN_BAD_REQUEST')
  t.notMatch(JSON.stringify([brokenRegister, badRegister]), secret, 'no reply quotes the AuthCode')

  t.same(await raw.ok('limits.show', { scope }), before, 'the limits over the socket are what they were')
  t.same(supervisor.risk.limitsAt(scope), riskBefore, 'and so is the shared risk state the lanes read')
  t.same((await raw.request('apps.list', {})).ok, true, 'the same connection still answers')

  // Several requests in one write: answered one by one, in order.
  const pipelined = await new Promise<Reply[]>((resolve) => {
    const replies: Reply[] = []
    const onData = (chunk: string): void => {
      for (const line of chunk.split('\n').filter((l) => l !== '')) replies.push(JSON.parse(line) as Reply)
      if (replies.length === 3) {
        raw.socket.off('data', onData)
        resolve(replies)
      }
    }
    // Taken off the RawAdmin's reader for this exchange.
    raw.socket.removeAllListeners('data')
    raw.socket.on('data', onData)
    raw.socket.write(['a', 'b', 'c'].map((id) => JSON.stringify({ id, operator: 'alice', command: 'limits.show', args: { scope } })).join('\n') + '\n')
  })
  t.same(pipelined.map((r) => r.id), ['a', 'b', 'c'], 'pipelined requests are answered in order')

  const viaCli = await cli(['limits', 'set', '--account', 'adm-bad', 'maxOpenOrderz=5'])
  t.equal(viaCli.code, 2, 'the CLI: a bad limit name is a bad command line (exit 2)')
  t.match(viaCli.stderr, /no such limit "maxOpenOrderz"/)
  const viaCliType = await cli(['limits', 'set', '--account', 'adm-bad', 'maxOpenOrders=many'])
  t.equal(viaCliType.code, 2, 'the CLI: a bad value type, exit 2')
  t.match(viaCliType.stderr, /args\.values\.maxOpenOrders: must be a number/)
  t.same(supervisor.risk.limitsAt(scope), riskBefore, 'still nothing changed')
})

t.test('a caller who cannot open the socket file is refused (exit 3), and nothing changes', async (t) => {
  const scope = accountScope('adm-bad')
  const before = supervisor.risk.limitsAt(scope)
  const args = ['limits', 'set', '--account', 'adm-bad', 'maxOpenOrders=1']
  let run: CliRun
  if (process.getuid!() === 0) {
    // root opens anything: run the CLI as nobody instead.
    run = await cli(args, { uid: 65534, gid: 65534 })
    t.comment('ran the CLI as uid 65534 (nobody)')
  } else {
    chmodSync(socketPath, 0)
    try {
      run = await cli(args)
    } finally {
      chmodSync(socketPath, 0o600)
    }
  }
  t.equal(run.code, 3, 'exit 3: cannot reach the socket')
  t.match(run.stderr, `cannot reach the admin socket at ${socketPath}`, 'names the path')
  t.match(run.stderr, /permission denied: the socket is owner-only \(0600\)/, 'says why (EACCES)')
  t.match(run.stderr, /may not be running .*or you lack permission/)
  t.same(supervisor.risk.limitsAt(scope), before, 'the limit is unchanged')

  const nowhere = await cli(['counters', '--account', 'adm-bad', '--socket', join(socketDir, 'nothing.sock')], { socket: false })
  t.equal(nowhere.code, 3, 'no socket at the path: exit 3 too')
  t.match(nowhere.stderr, /there is no socket file there\. The gateway may not be running/)
})

t.test('limits set: the reply lists each change with before and after, and the next order is refused at the new limit', async (t) => {
  const scope = accountScope('adm-limits')
  const set = jsonOf(t, await cli(['limits', 'set', '--account', 'adm-limits', 'maxOpenOrders=2', 'maxLongLots=none', '--json']), 'limits set')
  t.same(set, { changes: [{ field: 'maxOpenOrders', before: 'inherit', after: 2 }, { field: 'maxLongLots', before: 'inherit', after: null }] }, 'before/after per limit')
  t.same(supervisor.risk.limitsAt(scope), { maxOpenOrders: 2, maxLongLots: null }, 'in the shared risk state')

  const again = await cli(['limits', 'set', '--account', 'adm-limits', 'maxOpenOrders=2'])
  t.equal(again.code, 0)
  t.equal(again.stdout, 'no change\n', 'setting what is there: "no change"')

  const shown = await cli(['limits', 'show', '--account', 'adm-limits'])
  t.equal(shown.code, 0)
  t.match(shown.stdout, /^LIMIT\s+VALUE\n/, 'a table with a header')
  t.match(shown.stdout, /\nmaxOpenOrders\s+2\n/)
  t.match(shown.stdout, /\nmaxLongLots\s+none\n/, 'null shows as "none"')

  const trader = await logOn(gateway, 'platform', 'adm-limits')
  t.teardown(() => trader.client.logout())
  const buy = (price: number) => ({ instrument: 'rb2605', side: Side.BUY, price, quantityLots: 1 })
  const first = await place(trader, buy(3050))
  accepted(t, first.report, 'first')
  const second = await place(trader, buy(3051))
  accepted(t, second.report, 'second')
  const third = (await place(trader, buy(3052))).report
  t.equal(third.execType, ExecType.REJECTED, 'the third is refused')
  t.equal(third.reason, RejectReason.MAX_OPEN_ORDERS, 'MAX_OPEN_ORDERS')
  t.equal(wireInt(third.limit), 2, 'at the limit just set')
  t.equal(wireInt(third.observed), 3)

  // The supervisor journaled the change with who made it, before and after.
  const search = await gatehouse(['journal', 'search', journalDir(gateway.config), '--kind', 'admin-change', '--account', 'adm-limits', '--json'])
  t.equal(search.code, 0, `journal search finds the change${search.code === 0 ? '' : ` (${search.stderr.trim()})`}`)
  const journaled = search.stdout.trim().split('\n').map((line) => JSON.parse(line) as { body: Record<string, unknown> })
  t.match(journaled[0]?.body, { operator: 'alice', command: 'set-limits', scope: scope, before: { maxOpenOrders: 'inherit', maxLongLots: 'inherit' }, after: { maxOpenOrders: 2, maxLongLots: null } }, 'journaled: operator, scope, before, after')

  const raised = await cli(['limits', 'set', '--account', 'adm-limits', 'maxOpenOrders=3'])
  t.equal(raised.stdout, 'changed:\n  maxOpenOrders: 2 → 3\n', 'the human reply: field: before → after')
  const now = await place(trader, buy(3052))
  accepted(t, now.report, 'after raising it to 3, the third')
  for (const id of [first.id, second.id, now.id]) t.equal((await cancel(trader, id)).execType, ExecType.CANCELLED)
})

t.test('kill switch with mass-cancel: working orders are cancelled, new ones refused; the reply says how many', async (t) => {
  const trader = await logOn(gateway, 'platform', 'adm-kill')
  t.teardown(() => trader.client.logout())
  const ids: number[] = []
  for (const price of [3400, 3410]) {
    const { id, report } = await place(trader, { instrument: 'rb2605', side: Side.SELL, price, quantityLots: 1 })
    accepted(t, report, `offer at ${price}`)
    ids.push(id)
  }
  const on = jsonOf(t, await cli(['kill-switch', 'on', '--account', 'adm-kill', '--mass-cancel', '--json']), 'kill-switch on')
  t.same(on, { changes: [{ field: 'killSwitch', before: false, after: true }], detail: { cancelsSent: 2 } }, 'switched on, two cancels sent')
  for (const id of ids) {
    const done = await finished(trader, id)
    t.equal(done.execType, ExecType.CANCELLED, `order ${id}: the client receives CANCELLED`)
  }
  t.equal(supervisor.risk.counters('adm-kill').openOrders, 0, 'nothing working')
  // Another member straight to the exchange: a FAK buying through both
  // offers' prices finds nothing, so they are gone from the simulator's
  // book, not only from the gateway's view. (Every other subtest's rb2605
  // orders are bids, cancelled before it ends.)
  const probe = await ExchangeProbe.connect(gateway.sim.host, gateway.sim.port, 'admin-kill-probe')
  t.teardown(() => probe.close())
  const sweep = await probe.fak({ account: 'probe', instrument: 'rb2605', side: Side.BUY, price: 3410, quantityLots: 5 })
  t.equal(sweep.filledLots, 0, 'the simulator\'s book holds neither offer')
  t.equal(sweep.final.execType, ExecType.CANCELLED, 'the FAK found nothing to trade with')
  const refused = (await place(trader, { instrument: 'rb2605', side: Side.SELL, price: 3420, quantityLots: 1 })).report
  t.equal(refused.reason, RejectReason.KILL_SWITCH, 'a new order is refused: KILL_SWITCH')

  const counters = jsonOf(t, await cli(['counters', '--account', 'adm-kill', '--json']), 'counters')
  t.equal(counters.killSwitch, true, 'counters show the switch')
  t.ok(counters.monitors.some((m: { monitor: string }) => m.monitor === 'hf-daily-actions'), 'and the monitor levels')
  const human = await cli(['counters', '--account', 'adm-kill'])
  t.match(human.stdout, /^COUNTER\s+VALUE\n/)
  t.match(human.stdout, /\nkillSwitch\s+true\n/)
  t.match(human.stdout, /INSTRUMENT\s+MONITOR\s+OBSERVED\s+WARNING\s+BLOCKING/)

  const off = await cli(['kill-switch', 'off', '--account', 'adm-kill'])
  t.equal(off.stdout, 'changed:\n  killSwitch: true → false\n')
  const after = await place(trader, { instrument: 'rb2605', side: Side.SELL, price: 3420, quantityLots: 1 })
  accepted(t, after.report, 'trading again once it is off')
  await cancel(trader, after.id)
})

t.test('apps: register an AppID, record its evidence, bind it, log on with it; suspended, the next logon fails', async (t) => {
  const appId = 'adm-algo-1'
  const authCode = 'adm-algo-1-authcode-0123456789'
  const registered = await cli(['apps', 'register', '--app-id', appId, '--vendor', 'Acme', '--name', 'Algo', '--version', '1.0', '--json'], { input: `${authCode}\n` })
  const reply = jsonOf(t, registered, 'apps register (AuthCode on stdin)')
  t.equal(reply.changes[0].after.authCode, '***', 'the reply masks the AuthCode')
  t.notMatch(registered.stdout + registered.stderr, authCode, 'the AuthCode is never printed')
  t.equal(reply.changes[0].after.status, 'testing')

  jsonOf(t, await cli(['apps', 'evidence', '--app-id', appId, '--document', 'assessment-report', '--expires', '2099-12-31', '--json']), 'apps evidence')
  jsonOf(t, await cli(['apps', 'certify-record', '--app-id', appId, '--report', passingReport(appId), '--json']), 'apps certify-record')
  const production = jsonOf(t, await cli(['apps', 'status', '--app-id', appId, 'production', '--json']), 'apps status production')
  t.same(production.changes, [{ field: 'status', before: 'testing', after: 'production' }])
  const bound = jsonOf(t, await cli(['apps', 'bind', '--app-id', appId, '--account', 'adm-apps', '--json']), 'apps bind')
  t.same(bound.changes, [{ field: 'appIds', before: [DEMO_APP_ID], after: [DEMO_APP_ID, appId] }])

  const apps = jsonOf(t, await cli(['apps', 'list', '--json']), 'apps list')
  const listed = apps.find((a: { appId: string }) => a.appId === appId)
  t.match(listed, { status: 'production', vendor: 'Acme', accounts: ['adm-apps'], accessTest: 'certified', certification: { passed: true, recordedBy: 'alice' }, assessment: { accessTestPassed: null } })
  t.notOk('authCode' in listed, 'apps list carries no AuthCode')
  const table = await cli(['apps', 'list'])
  t.match(table.stdout, /^APPID\s+STATUS\s+VENDOR/)
  t.match(table.stdout, new RegExp(`\\n${appId}\\s+production\\s+Acme\\s+Algo\\s+1\\.0\\s+certified 2026-12-01\\s+assessment-report \\(expires 2099-12-31\\), certification [0-9a-f]{12} \\(expires never\\)\\s+adm-apps\\n`))

  const software = { appId, authCode }
  const client = await GatehouseClient.connect(gateway.url('platform'))
  const logon = await client.logon('adm-apps', PASSWORD, { ...TEST_IDENTITY, ...software })
  t.equal(logon.ok, true, `logged on with the new AppID${logon.ok ? '' : ` (${logon.failedStep}: ${logon.text})`}`)
  await client.logout()

  const suspended = jsonOf(t, await cli(['apps', 'status', '--app-id', appId, 'suspended', '--json']), 'apps status suspended')
  t.same(suspended.changes, [{ field: 'status', before: 'production', after: 'suspended' }])
  const refusedClient = await GatehouseClient.connect(gateway.url('platform'))
  t.teardown(() => refusedClient.close())
  const refused = await refusedClient.logon('adm-apps', PASSWORD, { ...TEST_IDENTITY, ...software })
  t.equal(refused.ok, false, 'the next logon with it fails')
  t.equal(refused.failedStep, 'authenticate', 'at the software step')
  t.equal(refused.reason, RejectReason.APPID_NOT_APPROVED, 'APPID_NOT_APPROVED')
  t.match(refused.text, `AppID "${appId}" is suspended`)

  const unbindLast = await cli(['apps', 'unbind', '--app-id', DEMO_APP_ID, '--account', 'adm-sessions'])
  t.equal(unbindLast.code, 1, 'unbinding an account\'s only AppID is refused: exit 1')
  t.match(unbindLast.stderr, /GH_ERR_ADMIN_REFUSED: account adm-sessions must stay bound to at least one AppID/)
  const unknownApp = await cli(['apps', 'status', '--app-id', 'no-such-app', 'suspended'])
  t.equal(unknownApp.code, 1)
  t.match(unknownApp.stderr, /GH_ERR_ADMIN_NOT_FOUND: no AppID no-such-app/)
})

t.test('sessions lists a logged-on session with its details; disconnect closes it', async (t) => {
  const trader = await logOn(gateway, 'platform', 'adm-sessions')
  const sessionId = wireInt(trader.logon.sessionId)
  const sessions = jsonOf(t, await cli(['sessions', '--account', 'adm-sessions', '--json']), 'sessions')
  t.equal(sessions.length, 1, 'one session for the account')
  const s = sessions[0]
  t.match(s, { sessionId, lane: 'platform', account: 'adm-sessions', appId: DEMO_APP_ID, ip: '127.0.0.1', workingOrders: 0 })
  t.ok(!Number.isNaN(Date.parse(s.logonTime)) && Date.now() - Date.parse(s.logonTime) < 60_000, 'its logon time')
  t.ok(s.messagesIn >= 3, `messages in (${s.messagesIn}): at least the three logon steps`)
  t.ok(s.messagesOut >= 4, `messages out (${s.messagesOut}): challenge and three replies`)
  const byLane = jsonOf(t, await cli(['sessions', '--lane', 'terminal', '--account', 'adm-sessions', '--json']), 'sessions --lane terminal')
  t.same(byLane, [], 'filtered by lane')

  const table = await cli(['sessions', '--lane', 'platform'])
  t.match(table.stdout, /^SESSION\s+LANE\s+ACCOUNT\s+APPID\s+IP\s+LOGON-TIME\s+MSGS-IN\s+MSGS-OUT\s+WORKING\n/)
  t.match(table.stdout, new RegExp(`\\n${sessionId}\\s+platform\\s+adm-sessions\\s+${DEMO_APP_ID}\\s+127\\.0\\.0\\.1\\s+\\S+\\s+\\d+\\s+\\d+\\s+0\\n`))

  const closed = once(trader.client, 'close')
  const disconnect = await cli(['disconnect', '--session', String(sessionId), '--reason', 'ops test'])
  t.equal(disconnect.code, 0)
  t.equal(disconnect.stdout, 'changed:\n  session: connected → disconnected\n')
  await closed
  t.ok(trader.client.isClosed, 'the client\'s connection closed')
  await delay(50)
  t.same(jsonOf(t, await cli(['sessions', '--account', 'adm-sessions', '--json']), 'sessions after'), [], 'gone from the list')
  const again = await cli(['disconnect', '--session', String(sessionId)])
  t.equal(again.code, 1, 'disconnecting it again: exit 1')
  t.match(again.stderr, /GH_ERR_ADMIN_NOT_FOUND: no session/)
})

t.test('trading state halted: the next order is refused ACCOUNT_HALTED, a cancel of a working order passes; active again, orders are accepted', async (t) => {
  const raw = await RawAdmin.connect()
  t.teardown(() => { raw.close() })
  const trader = await logOn(gateway, 'platform', 'adm-halt')
  t.teardown(() => trader.client.logout())
  const bid = (price: number) => ({ instrument: 'rb2605', side: Side.BUY, price, quantityLots: 1 })
  const working = await place(trader, bid(3060))
  accepted(t, working.report, 'an order placed before the halt')

  const halted = await raw.ok('trading-state.set', { account: 'adm-halt', state: 'halted' })
  t.same(halted, { changes: [{ field: 'tradingState', before: 'active', after: 'halted' }] }, 'the reply: active → halted')
  const refused = (await place(trader, bid(3061))).report
  t.equal(refused.execType, ExecType.REJECTED, 'the next order is refused')
  t.equal(refused.reason, RejectReason.ACCOUNT_HALTED, 'ACCOUNT_HALTED')
  t.equal((await cancel(trader, working.id)).execType, ExecType.CANCELLED, 'the order working from before can still be cancelled')

  const active = await raw.ok('trading-state.set', { account: 'adm-halt', state: 'active' })
  t.same(active, { changes: [{ field: 'tradingState', before: 'halted', after: 'active' }] }, 'the reply: halted → active')
  const after = await place(trader, bid(3062))
  accepted(t, after.report, 'active again, a new order')
  t.equal((await cancel(trader, after.id)).execType, ExecType.CANCELLED)
})

t.test('programmatic report: at the burst reporting level new orders are refused HF_REPORT_REQUIRED; confirmed over the socket, the next is accepted', async (t) => {
  const raw = await RawAdmin.connect()
  t.teardown(() => { raw.close() })
  const account = 'adm-report'
  // Two actions within one second make a burst, and one burst reaches the
  // reporting level: the test need not send hundreds of orders.
  const set = await raw.ok('limits.set', { scope: accountScope(account), values: { hfBurstOrders: 2, hfBurstsReporting: 1 } })
  t.same(set.changes, [{ field: 'hfBurstOrders', before: 'inherit', after: 2 }, { field: 'hfBurstsReporting', before: 'inherit', after: 1 }])

  const trader = await logOn(gateway, 'platform', account)
  t.teardown(() => trader.client.logout())
  const bid = (price: number) => ({ instrument: 'rb2605', side: Side.BUY, price, quantityLots: 1 })
  // Each order is sent once the last one's report is back (milliseconds),
  // so two land in one second; bounded in case the host is slow enough to
  // spread them over more than a second.
  const working: number[] = []
  let refused: ExecutionReport | undefined
  for (let price = 3070; price < 3080 && refused === undefined; price++) {
    const { id, report } = await place(trader, bid(price))
    if (report.execType === ExecType.ACK) working.push(id)
    else refused = report
  }
  t.ok(working.length >= 2, `${working.length} orders accepted before the refusal (a burst takes two)`)
  t.equal(refused?.execType, ExecType.REJECTED, 'then an order is refused')
  t.equal(refused?.reason, RejectReason.HF_REPORT_REQUIRED, `HF_REPORT_REQUIRED${refused === undefined || refused.reason === RejectReason.HF_REPORT_REQUIRED ? '' : ` (got ${reasonName(refused.reason)}: ${refused.text})`}`)
  t.equal(wireInt(refused?.limit ?? 0), 1, 'at the reporting level just set')
  const counters = await raw.ok('counters.show', { account })
  t.ok(counters.hfBurstsToday >= 1, `counters show the burst (${counters.hfBurstsToday})`)

  const confirmed = await raw.ok('programmatic-report.set', { account, status: 'confirmed' })
  t.same(confirmed, { changes: [{ field: 'programmaticReport', before: 'none', after: 'confirmed' }] }, 'the reply: none → confirmed')
  const next = await place(trader, bid(3080))
  accepted(t, next.report, 'with the report confirmed, the next order')
  for (const id of [...working, next.id]) t.equal((await cancel(trader, id)).execType, ExecType.CANCELLED)
})

t.test('fingerprints: a new terminal is held on the platform lane; approved over the socket it logs on, rejected it is refused', async (t) => {
  const raw = await RawAdmin.connect()
  t.teardown(() => { raw.close() })
  const account = 'adm-prints'
  // The demo terminal with other hardware: a machine the account has never used.
  const laptop: TerminalInfoInit = { ...DEMO_TERMINAL_INFO, mac: '02:42:ac:11:00:a1', deviceName: 'adm-laptop' }
  const desktop: TerminalInfoInit = { ...DEMO_TERMINAL_INFO, mac: '02:42:ac:11:00:a2', deviceName: 'adm-desktop' }

  /** Logs on from a terminal on a new connection; the connection is closed unless the logon succeeded. */
  async function logOnFrom (terminalInfo: TerminalInfoInit): Promise<{ client: GatehouseClient, result: LogonResult, fingerprintId: string }> {
    const client = await GatehouseClient.connect(gateway.url('platform'))
    const result = await client.logon(account, PASSWORD, { ...TEST_IDENTITY, terminalInfo })
    // LogonResult does not carry the fingerprint ID: it is in the TerminalInfoReply.
    const reply = client.received.find((m) => m.body === 'terminalInfoReply')?.terminalInfoReply
    if (!result.ok) await client.close()
    return { client, result, fingerprintId: reply?.fingerprintId ?? '' }
  }
  const idOf = (info: TerminalInfoInit): string => fingerprintId(v1.TerminalInfo.create(info) as TerminalInfo)

  const first = await logOnFrom(laptop)
  t.equal(first.result.ok, false, 'a terminal the account has never used: the logon fails')
  t.equal(first.result.failedStep, 'terminal-info', 'at the terminal-info step')
  t.equal(first.result.reason, RejectReason.FINGERPRINT_HELD, 'FINGERPRINT_HELD')
  t.equal(first.fingerprintId, idOf(laptop), 'the reply names the terminal\'s fingerprint ID')
  const laptopId = first.fingerprintId

  const listed = await raw.ok('fingerprints.list', { account })
  t.match(listed.find((f: { fingerprintId: string }) => f.fingerprintId === laptopId), { status: 'held', firstSeen: String, lastSeen: String }, 'fingerprints.list shows it held')
  t.match(listed.find((f: { fingerprintId: string }) => f.fingerprintId === idOf(DEMO_TERMINAL_INFO)), { status: 'approved' }, 'next to the known demo terminal, approved')

  const approved = await raw.ok('fingerprints.approve', { account, fingerprintId: laptopId })
  t.same(approved, { changes: [{ field: 'status', before: 'held', after: 'approved' }] }, 'the reply: held → approved')
  const again = await logOnFrom(laptop)
  t.equal(again.result.ok, true, `approved, the same terminal logs on${again.result.ok ? '' : ` (${again.result.failedStep}: ${reasonName(again.result.reason)} ${again.result.text})`}`)
  await again.client.logout()
  t.match((await raw.ok('fingerprints.list', { account })).find((f: { fingerprintId: string }) => f.fingerprintId === laptopId), { status: 'approved' }, 'listed as approved')

  const other = await logOnFrom(desktop)
  t.equal(other.result.reason, RejectReason.FINGERPRINT_HELD, 'another new terminal is held too')
  const rejected = await raw.ok('fingerprints.reject', { account, fingerprintId: other.fingerprintId })
  t.same(rejected, { changes: [{ field: 'status', before: 'held', after: 'rejected' }] }, 'the reply: held → rejected')
  const refused = await logOnFrom(desktop)
  t.equal(refused.result.ok, false, 'rejected, its next logon fails')
  t.equal(refused.result.failedStep, 'terminal-info', 'at the terminal-info step')
  t.equal(refused.result.reason, RejectReason.FINGERPRINT_REJECTED, 'FINGERPRINT_REJECTED')

  const unknown = await raw.request('fingerprints.approve', { account, fingerprintId: 'f'.repeat(64) })
  t.equal(unknown.error?.code, 'GH_ERR_ADMIN_NOT_FOUND', 'a fingerprint the account has never shown: NOT_FOUND')
})

t.test('config reload of an invalid file is refused and changes nothing', async (t) => {
  const raw = await RawAdmin.connect()
  t.teardown(() => { raw.close() })
  const before = await raw.ok('limits.show', { scope: { kind: 'global' } })
  const apps = await raw.ok('apps.list', {})
  const bad = join(socketDir, 'bad-config.json')
  writeFileSync(bad, JSON.stringify({ risk: { limits: { global: { maxOpenOrders: -5 } } }, lanes: { hft: { port: 'fast' } } }))
  const reply = await raw.request('config.reload', { path: bad })
  t.equal(reply.error?.code, 'GH_ERR_ADMIN_REFUSED', 'REFUSED')
  t.match(reply.error?.message, /was not applied/)
  t.match(reply.error?.message, /risk\.limits\.global\.maxOpenOrders/, 'names each bad field')
  t.match(reply.error?.message, /lanes\.hft\.port/)

  const viaCli = await cli(['reload', '--config', bad])
  t.equal(viaCli.code, 1, 'the CLI: exit 1')
  t.match(viaCli.stderr, /GH_ERR_ADMIN_REFUSED: .*bad-config\.json was not applied/)
  const missing = await raw.request('config.reload', { path: join(socketDir, 'no-such-config.json') })
  t.equal(missing.error?.code, 'GH_ERR_ADMIN_REFUSED', 'a file that is not there: REFUSED')

  t.same(await raw.ok('limits.show', { scope: { kind: 'global' } }), before, 'global limits unchanged')
  t.same(await raw.ok('apps.list', {}), apps, 'AppIDs unchanged')
})

t.test('config reload of a valid file: limits, trading states and the AppID registry change at once, the next order and logon see them, restart-only sections are named', async (t) => {
  const raw = await RawAdmin.connect()
  t.teardown(() => { raw.close() })
  const account = 'adm-reload'
  const trader = await logOn(gateway, 'platform', account)
  t.teardown(() => trader.client.logout())
  const bid = (price: number) => ({ instrument: 'rb2605', side: Side.BUY, price, quantityLots: 1 })
  const working = await place(trader, bid(3090))
  accepted(t, working.report, 'before the reload, an order')

  // The running config as a file, with an ops author's edits: a tighter
  // limit for one account, another account halted, a new AppID bound to
  // the account, and a journal setting that only a restart can apply.
  const edited = structuredClone(gateway.config) as any
  edited.risk.limits.accounts[account] = { maxOpenOrders: 1 }
  edited.risk.tradingStates['adm-bad'] = 'reducing'
  const reloadApp = { appId: 'adm-reload-app', vendor: 'Acme', name: 'Reloaded', version: '2.0', authCode: 'adm-reload-app-authcode-0123456789', status: 'production', assessment: { documents: [{ name: 'assessment-report', expires: '2099-12-31' }], accessTestPassed: '2026-02-01' } }
  edited.software.push(reloadApp)
  edited.accounts.find((a: { id: string }) => a.id === account).appIds.push(reloadApp.appId)
  edited.journal.retentionYears = edited.journal.retentionYears + 1
  const path = join(socketDir, 'reload-config.json')
  writeFileSync(path, JSON.stringify(edited))

  const reloaded = await cli(['reload', '--config', path, '--json'])
  const reply = jsonOf(t, reloaded, 'reload')
  const byField = new Map(reply.changes.map((c: { field: string, before: unknown, after: unknown }) => [c.field, c]))
  t.match(byField.get(`${JSON.stringify(accountScope(account))}.maxOpenOrders`), { before: 'inherit', after: 1 }, 'the account\'s new limit, before and after')
  t.match(byField.get('adm-bad.tradingState'), { before: 'active', after: 'reducing' }, 'the other account\'s trading state')
  t.same(reply.detail.notAppliedUntilRestart, ['journal'], 'the journal section differs and waits for a restart')

  // Applied, live: the account has one order working, so the next is past the new limit.
  const refused = (await place(trader, bid(3091))).report
  t.equal(refused.reason, RejectReason.MAX_OPEN_ORDERS, 'the next order is refused MAX_OPEN_ORDERS')
  t.equal(wireInt(refused.limit), 1, 'at the reloaded limit')
  t.equal(supervisor.risk.counters('adm-bad').tradingState, 'reducing', 'the other account is reducing in the shared risk state')
  const client = await GatehouseClient.connect(gateway.url('platform'))
  const logon = await client.logon(account, PASSWORD, { ...TEST_IDENTITY, appId: reloadApp.appId, authCode: reloadApp.authCode })
  t.equal(logon.ok, true, `a logon with the reloaded AppID succeeds${logon.ok ? '' : ` (${logon.failedStep}: ${logon.text})`}`)
  await client.logout()

  const search = await gatehouse(['journal', 'search', journalDir(gateway.config), '--kind', 'admin-change', '--json'])
  const journaled = search.stdout.trim().split('\n').map((line) => JSON.parse(line) as { body: Record<string, any> })
  const record = journaled.find((r) => r.body.command === 'config-reload')
  t.match(record?.body, { operator: 'alice', scope: { kind: 'gateway', path }, detail: { notAppliedUntilRestart: ['journal'] } }, 'the reload is journaled with its operator and changes')

  // Reloading the same file again changes nothing.
  const again = jsonOf(t, await cli(['reload', '--config', path, '--json']), 'the same reload again')
  t.same(again.changes, [], 'no change')
  t.equal((await cancel(trader, working.id)).execType, ExecType.CANCELLED)
})

t.test('help on every level; bad command lines exit 2', async (t) => {
  const top = await cli(['--help'])
  t.equal(top.code, 0)
  t.match(top.stdout, /usage: gatehouse admin <command>/)
  t.match(top.stdout, /kill-switch on/)
  const sub = await cli(['limits', 'set', '--help'])
  t.equal(sub.code, 0)
  t.match(sub.stdout, /usage: gatehouse admin limits set <scope> NAME=VALUE/)
  t.match(sub.stdout, /exit codes: 0 done, 1 the gateway refused/)
  const group = await cli(['apps', '--help'])
  t.match(group.stdout, /usage: gatehouse admin apps <list\|register\|evidence\|certify-record\|status\|bind\|unbind>/)
  const noScope = await cli(['limits', 'show'])
  t.equal(noScope.code, 2)
  t.match(noScope.stderr, /name exactly one scope/)
  const unknownOption = await cli(['counters', '--acount', 'x'])
  t.equal(unknownOption.code, 2)
  t.match(unknownOption.stderr, /Unknown option '--acount'/)
})

t.test('changes survive a restart: the new supervisor applies them at start, and a real client meets them', async (t) => {
  const raw = await RawAdmin.connect()
  const account = 'adm-persist'
  const scope = accountScope(account)
  const set = await raw.ok('limits.set', { scope, values: { funds: 123456, maxOpenOrders: 7, selfMatchMode: 'cancel-resting' } })
  // In the order limits are listed (LIMIT_NAMES), whatever the request's order.
  t.same(set.changes, [
    { field: 'maxOpenOrders', before: 'inherit', after: 7 },
    { field: 'funds', before: 'inherit', after: 123456 },
    { field: 'selfMatchMode', before: 'inherit', after: 1 },
  ])
  const appId = 'adm-persist-app'
  const authCode = 'adm-persist-app-authcode-0123456789'
  await raw.ok('apps.register', { appId, vendor: 'Acme', name: 'Kept', version: '3.1', authCode, status: 'testing' })
  await raw.ok('apps.evidence', { appId, document: { name: 'assessment-report', expires: '2099-12-31' } })
  await raw.ok('apps.certify-record', { appId, report: passingReport(appId) })
  await raw.ok('apps.status', { appId, status: 'production' })
  await raw.ok('apps.bind', { appId, account })
  await raw.ok('programmatic-report.set', { account, status: 'filed' })
  await raw.ok('trading-state.set', { account, state: 'reducing' })
  await raw.ok('kill-switch.set', { scope: { kind: 'instrument', instrument: 'm2605' }, on: true })
  raw.close()

  await supervisor.stop()
  t.notOk(existsSync(socketPath), 'stopping removes the socket file')
  supervisor = new Supervisor(gateway.config)
  await supervisor.start()
  await supervisor.whenLinksUp()
  // The restarted gateway listens on new ephemeral ports.
  const restarted = { ...gateway, supervisor, url: (lane: LaneName) => `ws://127.0.0.1:${supervisor.running().lanes[lane]!.port}` }
  t.equal(statSync(socketPath).mode & 0o777, 0o600, 'the new socket is owner-only too')
  t.same(supervisor.adminStateSkipped, [], 'everything kept was restored')
  const shown = jsonOf(t, await cli(['limits', 'show', '--account', account, '--json']), 'limits show after the restart')
  t.same(shown, { funds: 123456, maxOpenOrders: 7, selfMatchMode: 1 }, 'the limits set before the restart')
  t.same(supervisor.risk.limitsAt(scope), { funds: 123456, maxOpenOrders: 7, selfMatchMode: 1 }, 'in the new shared risk state')
  const counters = jsonOf(t, await cli(['counters', '--account', account, '--json']), 'counters after the restart')
  t.match(counters, { tradingState: 'reducing', programmaticReport: 'filed' }, 'trading state and programmatic report kept')
  const apps = jsonOf(t, await cli(['apps', 'list', '--json']), 'apps list after the restart')
  t.match(apps.find((a: { appId: string }) => a.appId === appId), { status: 'production', accounts: [account], accessTest: 'certified', assessment: { documents: [{ name: 'assessment-report' }] }, evidence: [{ kind: 'certification' }] }, 'the AppID, its evidence, certification, status and binding kept')

  // A real client after the restart: it logs on with the AppID registered
  // before it, and the account is still reducing (a buy from flat would
  // open a position) while m2605's switch still stands.
  const trader = await logOn(restarted, 'platform', account, { appId, authCode })
  const opening = (await place(trader, { instrument: 'rb2605', side: Side.BUY, price: 3100, quantityLots: 1 })).report
  t.equal(opening.reason, RejectReason.ACCOUNT_REDUCING, 'logged on with the AppID registered before the restart, an opening order is refused: still reducing')
  await trader.client.logout()
  const killed = await logOn(restarted, 'platform', 'adm-sessions')
  const onKilled = (await place(killed, { instrument: 'm2605', side: Side.BUY, price: 3000, quantityLots: 1 })).report
  t.equal(onKilled.reason, RejectReason.KILL_SWITCH, 'm2605 is still switched off for everyone')
  await killed.client.logout()
})
