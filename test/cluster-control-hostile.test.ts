// Hostile traffic on the control subject: a raw NATS client publishes
// garbage, oversized, wrong-schema, impersonating, late and replayed
// messages at a real gateway instance. Each is counted, answered with an
// error that has a code, changes nothing, and trading goes on.
import t, { type Test } from 'tap'
import fc from 'fast-check'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { startTestGateway } from './helpers/gateway.js'
import { startTestNats } from './helpers/nats-server.js'
import { ExecType, Side } from '../protocol/messages.js'
import { MAX_CONTROL_MESSAGE_BYTES, type ControlReply } from '../supervisor/admin/control-fanout.js'
import { logOn, place, tradingAccount } from './helpers/trading.js'

const SUBJECT = 'gatehouse.control'
const nats = await startTestNats(t)
const gateway = await startTestGateway({
  overrides: {
    gatewayId: 'gw1',
    accounts: ['ch-trader', 'ch-target'].map(tradingAccount),
    cluster: {
      enabled: true,
      nats: { servers: [nats.url] },
      // gw2 never runs: the raw client speaks as it.
      instances: { gw1: { endpoints: {} }, gw2: { endpoints: {} } },
      directory: { accounts: { 'ch-trader': 'gw1', 'ch-target': 'gw1' } },
      replication: { enabled: false },
      control: { subject: SUBJECT, replyTimeoutMs: 100 },
    },
  },
})
t.teardown(() => gateway.stop())
await gateway.supervisor.controlSubscribed
const control = gateway.supervisor.control!
const raw: NatsConnection = await connect({ servers: nats.url, name: 'hostile' })
t.teardown(async () => { await raw.close() })

async function ask (payload: Uint8Array | string): Promise<ControlReply> {
  const reply = await raw.request(SUBJECT, payload, { timeout: 5000 })
  return reply.json<ControlReply>()
}

let serial = 0
/** A well-formed change from gw2, as an instance would send it. */
function change (overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    v: 1,
    changeId: `gw2.${(++serial).toString(16).padStart(16, '0')}`,
    origin: 'gw2',
    operator: 'mallory',
    sentAtMs: Date.now(),
    request: { command: 'trading-state.set', args: { account: 'ch-target', state: 'halted' } },
    gating: { mode: 'applied' },
    ...overrides,
  }
}

const trader = await logOn(gateway, 'platform', 'ch-trader')
t.teardown(() => trader.client.logout())

async function stillTrading (t: Test, what: string): Promise<void> {
  const { report } = await place(trader, { instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 1 })
  t.equal(report.execType, ExecType.ACK, `trading continues after ${what}`)
}

function unchanged (t: Test): void {
  t.equal(gateway.supervisor.risk.counters('ch-target').tradingState, 'active', 'nothing changed')
  t.equal(gateway.supervisor.risk.killSwitch({ kind: 'global' }), false)
}

const cases: Array<[string, () => Uint8Array | string, string, RegExp]> = [
  ['bytes that are not UTF-8', () => Uint8Array.from([0xff, 0xfe, 0x00, 0x80]), 'GH_ERR_CLUSTER_CONTROL_INVALID', /not UTF-8/],
  ['text that is not JSON', () => '{"v":1, "changeId": ', 'GH_ERR_CLUSTER_CONTROL_INVALID', /not JSON/],
  ['an oversized message', () => JSON.stringify(change({ operator: 'x'.repeat(MAX_CONTROL_MESSAGE_BYTES) })), 'GH_ERR_CLUSTER_CONTROL_TOO_LARGE', /bytes, more than/],
  ['a JSON array', () => '[1,2,3]', 'GH_ERR_CLUSTER_CONTROL_INVALID', /not a change/],
  ['a message missing its origin', () => JSON.stringify({ ...change(), origin: undefined }), 'GH_ERR_CLUSTER_CONTROL_INVALID', /origin/],
  ['a command that is not fanned out (config.reload)', () => JSON.stringify(change({ request: { command: 'config.reload', args: { path: '/etc/passwd' } } })), 'GH_ERR_CLUSTER_CONTROL_INVALID', /request\.command/],
  ['arguments the admin protocol refuses', () => JSON.stringify(change({ request: { command: 'limits.set', args: { scope: { kind: 'global' }, values: { maxOrderLots: -5 } } } })), 'GH_ERR_CLUSTER_CONTROL_INVALID', /request is not valid: limits\.set: args\.values\.maxOrderLots/],
  ['an unknown extra field', () => JSON.stringify(change({ sudo: true })), 'GH_ERR_CLUSTER_CONTROL_INVALID', /sudo/],
  ['an origin not in cluster.instances', () => JSON.stringify(change({ origin: 'gw9', changeId: 'gw9.00000000000000aa' })), 'GH_ERR_CLUSTER_CONTROL_INVALID', /"gw9" is not in cluster\.instances/],
  ['a change ID naming another origin', () => JSON.stringify(change({ changeId: 'gw1.00000000000000ab' })), 'GH_ERR_CLUSTER_CONTROL_INVALID', /does not name its origin/],
  ['a message claiming to come from the instance itself', () => JSON.stringify(change({ origin: 'gw1', changeId: 'gw1.00000000000000ac' })), 'GH_ERR_CLUSTER_CONTROL_INVALID', /claims to come from this instance/],
  ['a change sent an hour ago', () => JSON.stringify(change({ sentAtMs: Date.now() - 3_600_000 })), 'GH_ERR_CLUSTER_CONTROL_REPLAYED', /was sent 3600 s ago, more than the 60 s/],
  ['a change dated an hour ahead', () => JSON.stringify(change({ sentAtMs: Date.now() + 3_600_000 })), 'GH_ERR_CLUSTER_CONTROL_REPLAYED', /is dated 3600 s ahead of this instance's clock/],
]

for (const [what, payload, code, message] of cases) {
  t.test(what, async (t) => {
    const before = control.counts.receivedInvalid
    const reply = await ask(payload())
    t.match(reply, { instance: 'gw1', ok: false, error: { code, message } }, 'answered with an error and its code')
    t.equal(control.counts.receivedInvalid, before + 1, 'counted as received-invalid')
    unchanged(t)
    await stillTrading(t, what)
  })
}

t.test('any JSON at all is answered with a coded error and changes nothing (property)', async (t) => {
  const before = control.counts.receivedInvalid
  let runs = 0
  // Random values, and a real change with one field replaced by a random
  // value (not v or operator: 1 or a plain word would be a valid change).
  const fields = ['changeId', 'origin', 'sentAtMs', 'request', 'gating']
  const payload = fc.oneof(
    fc.json({ maxDepth: 3 }),
    fc.tuple(fc.constantFrom(...fields), fc.jsonValue({ maxDepth: 2 })).map(([field, value]) => JSON.stringify({ ...change(), [field]: value })),
  )
  await fc.assert(fc.asyncProperty(payload, async (text) => {
    runs++
    const reply = await ask(text)
    return reply.ok === false && ['GH_ERR_CLUSTER_CONTROL_INVALID', 'GH_ERR_CLUSTER_CONTROL_TOO_LARGE', 'GH_ERR_CLUSTER_CONTROL_REPLAYED'].includes(reply.error!.code)
  }), { numRuns: 150, interruptAfterTimeLimit: 60_000 })
  t.equal(control.counts.receivedInvalid, before + runs, 'each counted')
  unchanged(t)
  await stillTrading(t, 'random messages')
})

t.test('a message with no reply subject is counted and dropped', async (t) => {
  const before = control.counts.receivedInvalid
  raw.publish(SUBJECT, 'garbage')
  // Handled in order: once the next request is answered, the first was seen.
  await ask('more garbage')
  t.equal(control.counts.receivedInvalid, before + 2)
  unchanged(t)
})

t.test('a replayed change is refused and changes nothing', async (t) => {
  const message = JSON.stringify(change({ request: { command: 'trading-state.set', args: { account: 'ch-target', state: 'reducing' } } }))
  const first = await ask(message)
  t.match(first, { instance: 'gw1', ok: true, changes: [{ field: 'tradingState', before: 'active', after: 'reducing' }] }, 'the first copy is applied')
  t.equal(gateway.supervisor.risk.counters('ch-target').tradingState, 'reducing')
  // Set back on gw1 (gw2 never answers: it is listed as missing).
  t.equal(gateway.supervisor.admin.setTradingState('alice', 'ch-target', 'active').changes.length, 1)
  const before = control.counts.receivedInvalid
  const replay = await ask(message)
  t.match(replay, { instance: 'gw1', ok: false, error: { code: 'GH_ERR_CLUSTER_CONTROL_REPLAYED', message: /received before/ } })
  t.equal(control.counts.receivedInvalid, before + 1)
  unchanged(t)
  await stillTrading(t, 'a replay')
})

t.test('a well-formed change this instance cannot apply is answered with the admin error, counted as failed', async (t) => {
  const before = control.counts.failed
  const reply = await ask(JSON.stringify(change({ request: { command: 'trading-state.set', args: { account: 'no-such-account', state: 'halted' } } })))
  t.match(reply, { instance: 'gw1', ok: false, error: { code: 'GH_ERR_ADMIN_NOT_FOUND' } })
  t.equal(control.counts.failed, before + 1)
  const metrics = await (await gateway.ops('/metrics')).text()
  t.match(metrics, /gatehouse_cluster_control_changes_total\{result="failed"\} 1\n/)
  t.match(metrics, new RegExp(`gatehouse_cluster_control_changes_total\\{result="received-invalid"\\} ${control.counts.receivedInvalid}\\n`))
  await stillTrading(t, 'a refused change')
})
