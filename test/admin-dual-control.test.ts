// Dual control end to end: a real gateway with the default compliance
// settings (all four changes under dual control), its real admin socket,
// and two operators, alice and bob, on their own connections. Each gated
// change waits as a pending request until the other operator approves it
// within the window; a self-approval and an expired request are refused
// with their codes; the request, the approval or expiry, and the effect
// are each in the journal.
import t from 'tap'
import { runCli, type CliRun } from './helpers/cli-run.js'
import { once } from 'node:events'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { passingReport } from './helpers/certification.js'
import { createConnection, type Socket } from 'node:net'
import { GatehouseClient, type TerminalInfoInit } from '../client/gatehouse-client.js'
import { DEMO_TERMINAL_INFO } from '../protocol/demo-identity.js'
import { adminSocketPath, journalDir } from '../config/config.js'
import { readJournal } from '../journal/reader.js'
import { RecordKind } from '../journal/record-format.js'
import { RejectReason } from '../protocol/messages.js'
import { startTestGateway } from './helpers/gateway.js'
import { PASSWORD, TEST_IDENTITY, tradingAccount } from './helpers/trading.js'

/** Long enough for a CLI process round trip; the expiry subtest waits it out once. */
const WINDOW_MS = 2500

const gateway = await startTestGateway({
  overrides: {
    accounts: ['dc-limits', 'dc-prints', 'dc-expire'].map(tradingAccount),
    compliance: { dualControl: { windowMs: WINDOW_MS, limitRaiseFactor: 2, requireFor: { appProduction: true, limitRaise: true, globalKillLift: true, fingerprintApproval: true } } },
  },
})
t.teardown(gateway.stop)
const socketPath = adminSocketPath(gateway.config)

interface Reply { id: number, ok: boolean, result?: any, error?: { code: string, message: string } }

/** One operator's connection: a request line out, its reply line back. */
class Operator {
  private buffered = ''
  private readonly waiting: Array<(reply: Reply) => void> = []
  private nextId = 1
  private constructor (readonly name: string, private readonly socket: Socket) {
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

  static async connect (name: string): Promise<Operator> {
    const socket = createConnection(socketPath)
    await once(socket, 'connect')
    return new Operator(name, socket)
  }

  request (command: string, args: unknown): Promise<Reply> {
    return new Promise((resolve) => {
      this.waiting.push(resolve)
      this.socket.write(JSON.stringify({ id: this.nextId++, operator: this.name, command, args }) + '\n')
    })
  }

  async ok (command: string, args: unknown): Promise<any> {
    const reply = await this.request(command, args)
    if (!reply.ok) throw new Error(`${command} by ${this.name} failed: ${reply.error!.code} ${reply.error!.message}`)
    return reply.result
  }

  close (): void { this.socket.destroy() }
}

const alice = await Operator.connect('alice')
const bob = await Operator.connect('bob')
t.teardown(() => { alice.close(); bob.close() })

/** The supervisor stream's admin-change documents, in order. */
function adminChanges (): Array<Record<string, any>> {
  const docs: Array<Record<string, any>> = []
  for (const r of readJournal(journalDir(gateway.config), { streams: ['supervisor'] })) {
    if (r.kind === RecordKind.ADMIN_CHANGE) docs.push(JSON.parse(r.payload.toString('utf8')) as Record<string, any>)
  }
  return docs
}

function stepsOf (requestId: string): string[] {
  return adminChanges().filter((d) => d.scope?.requestId === requestId || d.detail?.dualControl?.requestId === requestId).map((d) => d.command as string)
}

t.test('promoting an AppID to production waits for a second operator; the requester cannot approve it', async (t) => {
  const appId = 'dc.vendor.app'
  await alice.ok('apps.register', { appId, vendor: 'V', name: 'N', version: '1', authCode: 'dual-control-auth-code-0001', status: 'testing' })
  await alice.ok('apps.certify-record', { appId, report: passingReport(appId) })
  const asked = await alice.ok('apps.status', { appId, status: 'production' })
  t.same(asked.changes, [], 'nothing changed yet')
  t.match(asked.detail.pending, { requestId: /^dc[a-z0-9]+-\d+$/, change: 'appProduction', requestedBy: 'alice' }, 'a pending request')
  const requestId = asked.detail.pending.requestId as string
  t.equal((await alice.ok('apps.list', {})).find((a: { appId: string }) => a.appId === appId).status, 'testing', 'the AppID is still testing')
  t.match(await bob.ok('pending.list', {}), [{ requestId, change: 'appProduction', requestedBy: 'alice' }], 'bob sees it waiting')

  const self = await alice.request('pending.approve', { requestId })
  t.equal(self.error?.code, 'GH_ERR_ADMIN_SELF_APPROVAL', 'alice cannot approve her own request')
  t.equal((await alice.ok('apps.list', {})).find((a: { appId: string }) => a.appId === appId).status, 'testing', 'still testing')
  t.equal((await bob.ok('pending.list', {})).length, 1, 'the request is still pending after the refused self-approval')

  const approved = await bob.ok('pending.approve', { requestId })
  t.same(approved.changes, [{ field: 'status', before: 'testing', after: 'production' }], 'bob approves: testing → production')
  t.equal((await bob.ok('apps.list', {})).find((a: { appId: string }) => a.appId === appId).status, 'production', 'in production now')
  t.same(await bob.ok('pending.list', {}), [], 'nothing left pending')
  t.same(stepsOf(requestId), ['dual-control-request', 'dual-control-refused', 'dual-control-approve', 'app-status'], 'request, refused self-approval, approval and effect are journaled in order')
  const effect = adminChanges().find((d) => d.command === 'app-status' && d.detail?.dualControl?.requestId === requestId)
  t.match(effect, { operator: 'alice', before: 'testing', after: 'production', detail: { dualControl: { requestedBy: 'alice', approvedBy: 'bob' } } }, 'the effect names both operators')
})

t.test('a limit raised past the factor waits; a raise within it does not', async (t) => {
  const scope = { kind: 'account', account: 'dc-limits' }
  t.same((await alice.ok('limits.set', { scope, values: { maxOpenOrders: 10 } })).changes, [{ field: 'maxOpenOrders', before: 'inherit', after: 10 }], 'first value at a scope: applied')
  t.same((await alice.ok('limits.set', { scope, values: { maxOpenOrders: 20 } })).changes, [{ field: 'maxOpenOrders', before: 10, after: 20 }], '2× (the factor): applied')
  t.same((await alice.ok('limits.set', { scope, values: { maxOpenOrders: 5 } })).changes, [{ field: 'maxOpenOrders', before: 20, after: 5 }], 'a cut: applied')
  const raise = await alice.ok('limits.set', { scope, values: { maxOpenOrders: 11 } })
  t.match(raise.detail.pending, { change: 'limitRaise' }, '5 → 11 is past 2×: pending')
  t.same(await alice.ok('limits.show', { scope }), { maxOpenOrders: 5 }, 'still 5')
  const none = await alice.ok('limits.set', { scope, values: { maxOpenOrders: null } })
  t.match(none.detail.pending, { change: 'limitRaise' }, 'removing the limit is a raise too: pending')
  const rejected = await bob.ok('pending.reject', { requestId: none.detail.pending.requestId })
  t.same(rejected.changes, [{ field: 'request', before: 'pending', after: 'rejected' }], 'bob rejects the removal')
  const approved = await bob.ok('pending.approve', { requestId: raise.detail.pending.requestId })
  t.same(approved.changes, [{ field: 'maxOpenOrders', before: 5, after: 11 }], 'bob approves the raise')
  t.same(await alice.ok('limits.show', { scope }), { maxOpenOrders: 11 }, 'now 11')
  t.same(stepsOf(none.detail.pending.requestId), ['dual-control-request', 'dual-control-reject'], 'the rejected request: asked, rejected, no effect')
  const gone = await alice.request('pending.approve', { requestId: none.detail.pending.requestId })
  t.equal(gone.error?.code, 'GH_ERR_ADMIN_NOT_FOUND', 'a rejected request cannot be approved later')
})

t.test('lifting the global kill switch waits; turning it on does not', async (t) => {
  const on = await alice.ok('kill-switch.set', { scope: { kind: 'global' }, on: true })
  t.same(on.changes, [{ field: 'killSwitch', before: false, after: true }], 'on at once')
  const off = await alice.ok('kill-switch.set', { scope: { kind: 'global' }, on: false })
  t.match(off.detail.pending, { change: 'globalKillLift' }, 'off: pending')
  t.equal(gateway.supervisor.risk.killSwitch({ kind: 'global' }), true, 'the switch is still on')
  const approved = await bob.ok('pending.approve', { requestId: off.detail.pending.requestId })
  t.same(approved.changes, [{ field: 'killSwitch', before: true, after: false }], 'bob approves: off')
  t.equal(gateway.supervisor.risk.killSwitch({ kind: 'global' }), false, 'the switch is off')
})

t.test('approving a held fingerprint waits for a second operator', async (t) => {
  const account = 'dc-prints'
  const laptop: TerminalInfoInit = { ...DEMO_TERMINAL_INFO, mac: '02:42:ac:11:00:d1', deviceName: 'dc-laptop' }
  const logOn = async (): Promise<{ ok: boolean, reason: number, fingerprintId: string }> => {
    const client = await GatehouseClient.connect(gateway.url('platform'))
    const result = await client.logon(account, PASSWORD, { ...TEST_IDENTITY, terminalInfo: laptop })
    const fingerprintId = client.received.find((m) => m.body === 'terminalInfoReply')?.terminalInfoReply?.fingerprintId ?? ''
    if (result.ok) await client.logout()
    await client.close()
    return { ok: result.ok, reason: result.ok ? 0 : result.reason, fingerprintId }
  }
  const first = await logOn()
  t.equal(first.reason, RejectReason.FINGERPRINT_HELD, 'a new terminal is held')
  const asked = await alice.ok('fingerprints.approve', { account, fingerprintId: first.fingerprintId })
  t.match(asked.detail.pending, { change: 'fingerprintApproval' }, 'approval: pending')
  t.equal((await logOn()).reason, RejectReason.FINGERPRINT_HELD, 'still held while pending')
  await bob.ok('pending.approve', { requestId: asked.detail.pending.requestId })
  t.equal((await logOn()).ok, true, 'approved by bob, the terminal logs on')
  const rejected = await alice.ok('fingerprints.reject', { account, fingerprintId: first.fingerprintId })
  t.same(rejected.changes, [{ field: 'status', before: 'approved', after: 'rejected' }], 'rejecting needs no second operator')
})

t.test('an expired request is refused with its code, nothing changes, and the expiry is journaled', async (t) => {
  const scope = { kind: 'account', account: 'dc-expire' }
  await alice.ok('limits.set', { scope, values: { maxOpenOrders: 3 } })
  const raise = await alice.ok('limits.set', { scope, values: { maxOpenOrders: 300 } })
  const requestId = raise.detail.pending.requestId as string
  const expiresAtMs = Date.parse(raise.detail.pending.expiresAt as string)
  // The window is the event: wait until it has passed.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, expiresAtMs - Date.now()) + 50))
  const late = await bob.request('pending.approve', { requestId })
  t.equal(late.error?.code, 'GH_ERR_ADMIN_REQUEST_EXPIRED', 'bob is too late')
  t.same(await alice.ok('limits.show', { scope }), { maxOpenOrders: 3 }, 'the limit is unchanged')
  t.same(stepsOf(requestId), ['dual-control-request', 'dual-control-expired', 'dual-control-refused'], 'request, expiry and the refused approval are journaled')
})

t.test('the CLI: pending list, approve by another operator, self-approval exit 1 with the code', async (t) => {
  const run = async (args: string[]): Promise<CliRun> => await runCli(['admin', ...args, '--socket', socketPath])
  // A process per command is slower than the short window above: reload the
  // same config with a longer one (reload applies compliance settings live).
  const file = join(mkdtempSync(join(tmpdir(), 'gh-dc-')), 'config.json')
  writeFileSync(file, JSON.stringify({ ...gateway.config, compliance: { ...gateway.config.compliance, dualControl: { ...gateway.config.compliance.dualControl, windowMs: 120_000 } } }))
  await alice.ok('config.reload', { path: file })
  await alice.ok('kill-switch.set', { scope: { kind: 'global' }, on: true })
  const asked = await run(['kill-switch', 'off', '--global', '--operator', 'carol'])
  t.equal(asked.code, 0, 'kill-switch off: exit 0')
  const id = /request (\S+):/.exec(asked.stdout)?.[1] ?? ''
  t.match(asked.stdout, /pending: lift the global kill switch needs a second operator's approval/, 'the CLI says it is pending')
  const listed = await run(['pending', 'list'])
  t.match(listed.stdout, new RegExp(`${id}\\s+globalKillLift\\s+carol`), 'pending list shows it')
  const self = await run(['approve', id, '--operator', 'carol'])
  t.equal(self.code, 1, 'self-approval: exit 1')
  t.match(self.stderr, /GH_ERR_ADMIN_SELF_APPROVAL/)
  const other = await run(['approve', id, '--operator', 'dave'])
  t.equal(other.code, 0, `approve by another operator: exit 0 ${other.stderr}`)
  t.match(other.stdout, /killSwitch: true → false/)
  t.equal(gateway.supervisor.risk.killSwitch({ kind: 'global' }), false, 'off')
})
