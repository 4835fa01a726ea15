// Control fan-out end to end: a real nats-server, two real gateway
// instances (gw1, gw2) each with its own exchange simulator process, and
// their real admin sockets. A change made on either instance is applied on
// both, the admin reply lists which instances applied it, and each
// instance's journal records it with its origin and change ID.
//
// Accounts are homed explicitly (cluster.directory.accounts), so each
// trader logs on at its own instance.
import t, { type Test } from 'tap'
import { once } from 'node:events'
import { createConnection } from 'node:net'
import { adminSocketPath, journalDir } from '../config/config.js'
import { readJournal } from '../journal/reader.js'
import { RecordKind } from '../journal/record-format.js'
import { ExecType, RejectReason, Side, wireInt } from '../protocol/messages.js'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { DEMO_TERMINAL_INFO } from '../protocol/demo-identity.js'
import { startTestGateway, type TestGateway } from './helpers/gateway.js'
import { restartNats, startTestNats } from './helpers/nats-server.js'
import { ExchangeProbe } from './helpers/exchange-probe.js'
import { runCli } from './helpers/cli-run.js'
import { PASSWORD, cancel, finished, logOn, place, tradingAccount } from './helpers/trading.js'

const ON_GW1 = ['cf-limit-a', 'cf-state-a', 'cf-kill-a', 'cf-app-a']
const ON_GW2 = ['cf-limit-b', 'cf-state-b', 'cf-kill-b', 'cf-app-b']

const nats = await startTestNats(t)

function clusterOverrides (gatewayId: string): Record<string, unknown> {
  return {
    gatewayId,
    accounts: [...ON_GW1, ...ON_GW2].map(tradingAccount),
    cluster: {
      enabled: true,
      nats: { servers: [nats.url] },
      instances: { gw1: { endpoints: {} }, gw2: { endpoints: {} } },
      directory: { accounts: Object.fromEntries([...ON_GW1.map((a) => [a, 'gw1']), ...ON_GW2.map((a) => [a, 'gw2'])]) },
      replication: { enabled: false },
      control: { replyTimeoutMs: 3000 },
    },
    compliance: { dualControl: { windowMs: 60_000, requireFor: { appProduction: false, limitRaise: false, globalKillLift: true, fingerprintApproval: false } } },
  }
}

// A test exchange: an AppID in testing (as a new one is) may trade there.
const [gw1, gw2] = await Promise.all([
  startTestGateway({ overrides: clusterOverrides('gw1'), simArgs: ['--environment', 'test'] }),
  startTestGateway({ overrides: clusterOverrides('gw2'), simArgs: ['--environment', 'test'] }),
])
let gw2Running = true
t.teardown(async () => {
  await gw1.stop()
  if (gw2Running) await gw2.stop()
})
await Promise.all([gw1.supervisor.controlSubscribed, gw2.supervisor.controlSubscribed])

interface Reply { id: number, ok: boolean, result?: any, error?: { code: string, message: string } }

/** One admin request on its own connection to an instance's admin socket. */
async function admin (gateway: TestGateway, operator: string, command: string, args: Record<string, unknown>): Promise<Reply> {
  const socket = createConnection(adminSocketPath(gateway.config))
  await once(socket, 'connect')
  socket.setEncoding('utf8')
  let text = ''
  const line = new Promise<string>((resolve, reject) => {
    socket.on('data', (chunk: string) => {
      text += chunk
      const nl = text.indexOf('\n')
      if (nl !== -1) resolve(text.slice(0, nl))
    })
    socket.on('error', reject)
  })
  socket.write(JSON.stringify({ id: 1, operator, command, args }) + '\n')
  const reply = JSON.parse(await line) as Reply
  socket.destroy()
  return reply
}

async function applied (t: Test, gateway: TestGateway, operator: string, command: string, args: Record<string, unknown>): Promise<any> {
  const reply = await admin(gateway, operator, command, args)
  t.ok(reply.ok, `${command} on ${gateway.config.gatewayId}${reply.ok ? '' : `: ${reply.error!.code} ${reply.error!.message}`}`)
  return reply.result
}

type AdminDoc = Record<string, any>

function adminChanges (gateway: TestGateway): AdminDoc[] {
  const docs: AdminDoc[] = []
  for (const r of readJournal(journalDir(gateway.config), { streams: ['supervisor'] })) {
    if (r.kind === RecordKind.ADMIN_CHANGE) docs.push(JSON.parse(r.payload.toString('utf8')) as AdminDoc)
  }
  return docs
}

function changeRecords (gateway: TestGateway, changeId: string): AdminDoc[] {
  return adminChanges(gateway).filter((d) => d.detail?.control?.changeId === changeId)
}

t.test('a limit lowered on gw1 rejects the next order on gw2 with the new limit; both journals name the change', async (t) => {
  const trader = await logOn(gw2, 'platform', 'cf-limit-b')
  const before = await place(trader, { instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 5 })
  t.equal(before.report.execType, ExecType.ACK, '5 lots pass before the change')
  // Nothing of this test may rest in the book for the kill switch's count below.
  t.equal((await cancel(trader, before.id)).execType, ExecType.CANCELLED)

  const result = await applied(t, gw1, 'alice', 'limits.set', { scope: { kind: 'account', account: 'cf-limit-b' }, values: { maxOrderLots: 3 } })
  t.same(result.instances, [{ instance: 'gw1', applied: true }, { instance: 'gw2', applied: true }], 'the reply lists both instances, gw1 first')
  t.same(result.missing, [])
  t.same(result.changes, [{ field: 'maxOrderLots', before: 'inherit', after: 3 }])

  const after = await place(trader, { instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 4 })
  t.equal(after.report.execType, ExecType.REJECTED, 'gw2 refuses 4 lots')
  t.equal(after.report.reason, RejectReason.QUANTITY_ABOVE_MAX)
  t.equal(wireInt(after.report.limit), 3, 'with the limit set on gw1')
  t.same(gw2.supervisor.admin.showLimits({ kind: 'account', account: 'cf-limit-b' }), { maxOrderLots: 3 })

  const origin = adminChanges(gw1).filter((d) => d.command === 'set-limits' && d.scope.account === 'cf-limit-b').at(-1)!
  const changeId = origin.detail.control.changeId as string
  t.match(changeId, /^gw1\.[0-9a-f]{16}$/)
  t.match(origin, { operator: 'alice', detail: { control: { origin: 'gw1' } } }, 'gw1 journals its own change with the change ID')
  const copy = changeRecords(gw2, changeId)
  t.equal(copy.length, 1, 'gw2 journals it once')
  t.match(copy[0], { operator: 'alice@gw1', command: 'set-limits', scope: { kind: 'account', account: 'cf-limit-b' }, after: { maxOrderLots: 3 }, detail: { control: { changeId, origin: 'gw1' } } })
  t.match(JSON.parse(JSON.stringify(gw2.supervisor.state.doc.limits)), { '{"kind":"account","account":"cf-limit-b"}': { maxOrderLots: 3 } }, 'and persists it in its admin state')
  // Never sent on: gw1 would have applied gw2's copy as a change of its own.
  await gw2.supervisor.nats!.connection()!.flush()
  await gw1.supervisor.nats!.connection()!.flush()
  t.equal(gw1.supervisor.control!.counts.applied, 0, 'gw1 received nothing back from gw2')
  t.equal(adminChanges(gw1).filter((d) => d.command === 'set-limits' && d.scope.account === 'cf-limit-b').length, 1, 'and journaled the change once')
  t.equal(gw2.supervisor.control!.counts.applied, 1, 'gw2 applied one change')
  await trader.client.logout()
})

t.test('a trading state set on gw2 applies on gw1', async (t) => {
  const trader = await logOn(gw1, 'platform', 'cf-state-a')
  const result = await applied(t, gw2, 'bob', 'trading-state.set', { account: 'cf-state-a', state: 'halted' })
  t.same(result.instances, [{ instance: 'gw2', applied: true }, { instance: 'gw1', applied: true }], 'gw2, the origin, first')
  const refused = await place(trader, { instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 1 })
  t.equal(refused.report.reason, RejectReason.ACCOUNT_HALTED, 'gw1 refuses the halted account\'s order')
  t.equal(gw1.supervisor.risk.counters('cf-state-a').tradingState, 'halted')
  const copy = adminChanges(gw1).filter((d) => d.command === 'trading-state' && d.scope.account === 'cf-state-a').at(-1)!
  t.match(copy, { operator: 'bob@gw2', before: 'active', after: 'halted', detail: { control: { origin: 'gw2' } } })
  await applied(t, gw1, 'bob', 'trading-state.set', { account: 'cf-state-a', state: 'active' })
  t.equal(gw2.supervisor.risk.counters('cf-state-a').tradingState, 'active', 'and back, from gw1')
  await trader.client.logout()
})

t.test('a global kill switch from gw1 stops trading on both and mass-cancels resting orders on both; lifted with dual control, requested on gw1 and approved on gw2', async (t) => {
  const onGw1 = await logOn(gw1, 'platform', 'cf-kill-a')
  const onGw2 = await logOn(gw2, 'platform', 'cf-kill-b')
  const resting1 = await place(onGw1, { instrument: 'm2605', side: Side.SELL, price: 3050, quantityLots: 2 })
  const resting2 = await place(onGw2, { instrument: 'm2605', side: Side.SELL, price: 3050, quantityLots: 3 })
  t.equal(resting1.report.execType, ExecType.ACK)
  t.equal(resting2.report.execType, ExecType.ACK)

  const on = await applied(t, gw1, 'alice', 'kill-switch.set', { scope: { kind: 'global' }, on: true, massCancel: true })
  t.same(on.instances, [{ instance: 'gw1', applied: true }, { instance: 'gw2', applied: true }])
  t.same(on.changes, [{ field: 'killSwitch', before: false, after: true }])
  t.equal((await finished(onGw1, resting1.id)).execType, ExecType.CANCELLED, 'gw1\'s resting order is cancelled')
  t.equal((await finished(onGw2, resting2.id)).execType, ExecType.CANCELLED, 'gw2\'s resting order is cancelled by gw2 itself')
  for (const [gateway, trader] of [[gw1, onGw1], [gw2, onGw2]] as const) {
    const refused = await place(trader, { instrument: 'm2605', side: Side.BUY, price: 3000, quantityLots: 1 })
    t.equal(refused.report.reason, RejectReason.KILL_SWITCH, `${gateway.config.gatewayId} refuses new orders`)
    // Straight to that instance's exchange: nothing of the account's is left in the book.
    const probe = await ExchangeProbe.connect(gateway.sim.host, gateway.sim.port, `cf-probe-${gateway.config.gatewayId}`)
    const fak = await probe.fak({ account: 'probe', instrument: 'm2605', side: Side.BUY, price: 3100, quantityLots: 10 })
    t.equal(fak.filledLots, 0, `${gateway.config.gatewayId}'s exchange book holds none of the cancelled offer`)
    await probe.close()
  }
  const copy = adminChanges(gw2).filter((d) => d.command === 'mass-cancel').at(-1)!
  t.match(copy, { operator: 'alice@gw1', detail: { cancelsSent: 1, control: { origin: 'gw1' } } }, 'gw2 journals its own mass-cancel of the fanned-out switch')

  // The lift needs a second operator: requested on gw1, held on both.
  const requested = await applied(t, gw1, 'alice', 'kill-switch.set', { scope: { kind: 'global' }, on: false })
  const requestId = requested.detail.pending.requestId as string
  t.same(requested.instances, [{ instance: 'gw1', applied: true }, { instance: 'gw2', applied: true }], 'the request is held on both')
  t.same((await applied(t, gw2, 'carol', 'pending.list', {})).map((p: { requestId: string, requestedBy: string }) => [p.requestId, p.requestedBy]), [[requestId, 'alice']], 'gw2 holds it under gw1\'s request ID')
  t.equal(gw2.supervisor.risk.killSwitch({ kind: 'global' }), true, 'still on while held')
  const self = await admin(gw2, 'alice', 'pending.approve', { requestId })
  t.equal(self.error?.code, 'GH_ERR_ADMIN_SELF_APPROVAL', 'alice cannot approve her own request on the other instance either')

  const approved = await applied(t, gw2, 'bob', 'pending.approve', { requestId })
  t.same(approved.instances, [{ instance: 'gw2', applied: true }, { instance: 'gw1', applied: true }], 'the approving instance fans the lift out')
  t.equal(gw1.supervisor.risk.killSwitch({ kind: 'global' }), false, 'off on gw1')
  t.equal(gw2.supervisor.risk.killSwitch({ kind: 'global' }), false, 'off on gw2')
  t.same(await applied(t, gw1, 'carol', 'pending.list', {}), [], 'gw1\'s copy of the request is done with')
  const again = await admin(gw1, 'carol', 'pending.approve', { requestId })
  t.equal(again.error?.code, 'GH_ERR_ADMIN_NOT_FOUND', 'so it cannot be approved twice')
  for (const trader of [onGw1, onGw2]) {
    const ok = await place(trader, { instrument: 'm2605', side: Side.SELL, price: 3090, quantityLots: 1 })
    t.equal(ok.report.execType, ExecType.ACK, `${trader.account} trades again`)
  }
  const lift = adminChanges(gw1).filter((d) => d.command === 'kill-switch').at(-1)!
  t.match(lift, { operator: 'bob@gw2', before: true, after: false, detail: { control: { origin: 'gw2' } } }, 'gw1 journals the lift from gw2')
  t.same(gw1.supervisor.state.doc.killSwitches, [], 'and persists it')
  await Promise.all([onGw1.client.logout(), onGw2.client.logout()])
})

t.test('a held request rejected on one instance is rejected on every instance', async (t) => {
  await applied(t, gw2, 'bob', 'kill-switch.set', { scope: { kind: 'global' }, on: true })
  const requested = await applied(t, gw2, 'bob', 'kill-switch.set', { scope: { kind: 'global' }, on: false })
  const requestId = requested.detail.pending.requestId as string
  t.equal((await applied(t, gw1, 'carol', 'pending.list', {})).length, 1, 'held on gw1 too')
  const rejected = await applied(t, gw1, 'carol', 'pending.reject', { requestId })
  t.same(rejected.instances, [{ instance: 'gw1', applied: true }, { instance: 'gw2', applied: true }])
  t.same(await applied(t, gw2, 'carol', 'pending.list', {}), [], 'gw2\'s copy is rejected too')
  const late = await admin(gw2, 'alice', 'pending.approve', { requestId })
  t.equal(late.error?.code, 'GH_ERR_ADMIN_NOT_FOUND', 'so nobody can approve it there')
  t.equal(gw1.supervisor.risk.killSwitch({ kind: 'global' }), true, 'the switch stays on on gw1')
  t.equal(gw2.supervisor.risk.killSwitch({ kind: 'global' }), true, 'and on gw2')
  const again = await applied(t, gw2, 'bob', 'kill-switch.set', { scope: { kind: 'global' }, on: false })
  await applied(t, gw1, 'alice', 'pending.approve', { requestId: again.detail.pending.requestId })
  t.equal(gw2.supervisor.risk.killSwitch({ kind: 'global' }), false, 'lifted once approved')
  t.equal(gw1.supervisor.risk.killSwitch({ kind: 'global' }), false)
})

t.test('an AppID registered and bound on gw1 logs on at gw2; suspended on gw1, it cannot', async (t) => {
  const appId = 'cf.vendor.app'
  const authCode = 'control-fanout-auth-code-01'
  const registered = await applied(t, gw1, 'alice', 'apps.register', { appId, vendor: 'V', name: 'N', version: '1', authCode, status: 'testing' })
  t.same(registered.missing, [])
  await applied(t, gw1, 'alice', 'apps.bind', { appId, account: 'cf-app-b' })
  const logon = async (): Promise<{ ok: boolean, reason: number, text: string, failedStep?: string | null }> => {
    const client = await GatehouseClient.connect(gw2.url('platform'))
    const reply = await client.logon('cf-app-b', PASSWORD, { appId, authCode, terminalInfo: DEMO_TERMINAL_INFO })
    await client.close()
    return reply
  }
  const first = await logon()
  t.equal(first.ok, true, `gw2 knows the AppID, its AuthCode and the binding${first.ok ? '' : ` (refused at ${first.failedStep ?? '?'}: ${first.reason} ${first.text})`}`)
  const suspended = await applied(t, gw1, 'alice', 'apps.status', { appId, status: 'suspended' })
  t.same(suspended.instances.map((i: { instance: string }) => i.instance), ['gw1', 'gw2'])
  const refused = await logon()
  t.equal(refused.ok, false)
  t.equal(refused.reason, RejectReason.APPID_NOT_APPROVED, 'gw2 refuses the suspended AppID')
  t.equal(gw2.supervisor.admin.listApps().find((a) => a.appId === appId)?.status, 'suspended')
})

t.test('while NATS is down a change applies where it is made and lists the others as missing; it is not sent when NATS is back', async (t) => {
  const links = [gw1.supervisor.nats!, gw2.supervisor.nats!]
  const changed = (connected: boolean): Promise<void[]> => Promise.all(links.map(async (link) => await new Promise<void>((resolve) => {
    link.onChange((now) => { if (now === connected) resolve() })
  })))
  const down = changed(false)
  await nats.stop()
  await down
  const during = await applied(t, gw1, 'alice', 'limits.set', { scope: { kind: 'account', account: 'cf-limit-a' }, values: { maxOrderLots: 7 } })
  t.same(during.instances, [{ instance: 'gw1', applied: true }])
  t.same(during.missing, ['gw2'], 'gw2 is missing')
  t.same(gw1.supervisor.admin.showLimits({ kind: 'account', account: 'cf-limit-a' }), { maxOrderLots: 7 }, 'applied on gw1')

  const up = changed(true)
  await restartNats(t, nats)
  await up
  // Each client subscribes again on reconnect; a flush makes sure the server has it.
  await Promise.all(links.map(async (link) => await link.connection()!.flush()))
  const after = await applied(t, gw1, 'alice', 'limits.set', { scope: { kind: 'account', account: 'cf-limit-a' }, values: { maxOpenOrders: 9 } })
  t.same(after.missing, [], 'both instances answer again')
  t.same(gw2.supervisor.admin.showLimits({ kind: 'account', account: 'cf-limit-a' }), { maxOpenOrders: 9 }, 'gw2 has the change made once NATS was back, and not the one made while it was down')
})

t.test('with gw2 stopped, a change on gw1 applies there and the reply lists gw2 as missing; gatehouse admin says so', async (t) => {
  await gw2.stop()
  gw2Running = false
  const missingBefore = gw1.supervisor.control!.counts.missing
  const result = await applied(t, gw1, 'alice', 'trading-state.set', { account: 'cf-state-a', state: 'reducing' })
  t.same(result.instances, [{ instance: 'gw1', applied: true }])
  t.same(result.missing, ['gw2'])
  t.equal(gw1.supervisor.risk.counters('cf-state-a').tradingState, 'reducing', 'applied on gw1 all the same')
  t.equal(gw1.supervisor.control!.counts.missing, missingBefore + 1, 'counted')

  const run = await runCli(['admin', 'trading-state', 'set', '--account', 'cf-state-a', 'active', '--operator', 'alice', '--socket', adminSocketPath(gw1.config)])
  t.equal(run.code, 0, run.stderr)
  t.match(run.stdout, /applied on gw1; missing: gw2/, 'the CLI prints which instances applied it')
  const metrics = await (await gw1.ops('/metrics')).text()
  t.match(metrics, new RegExp(`gatehouse_cluster_control_missing_total ${gw1.supervisor.control!.counts.missing}\n`), '/metrics shows the count')
  t.equal(gw1.supervisor.control!.counts.missing, missingBefore + 2, 'one more for the CLI\'s change')
  t.match(metrics, /gatehouse_cluster_control_changes_total\{result="applied"\} \d+/)
})
