// Every field a client sends is checked against its documented limit right
// after decode, on a real gateway with raw crafted frames: a field outside
// its limit gets INVALID_FIELD naming it, with the message's seq and order
// ID when they arrived exactly; the frame is journaled; the journal never
// fails over a client's value; and a well-behaved client keeps trading.
import t, { type Test } from 'tap'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { journalDir } from '../config/config.js'
import { encodeClientEnvelope } from '../protocol/client-codec.js'
import { ExecType, RejectReason, Side, TimeInForce, wireInt, type ClientEnvelope, type ClientEnvelopeInit, type Reject } from '../protocol/messages.js'
import type { Side as SideType, TimeInForce as TimeInForceType } from '../protocol/messages.js'
import { runSearchCommand } from '../tools/journal/search-command.js'
import type { DecodedRecord } from '../journal/record-decoder.js'
import { DEMO_APP_ID } from '../protocol/demo-identity.js'
import { startTestGateway } from './helpers/gateway.js'
import { parseExposition, sampleValue } from './helpers/prometheus-text.js'
import { wire64 } from './helpers/wire64.js'
import { wellBehavedClient, TEST_IDENTITY } from './helpers/trading.js'

const gateway = await startTestGateway()
t.teardown(() => gateway.stop())
const url = gateway.url('platform')
const journalFailures: string[] = []
gateway.supervisor.onJournalFailure = (where, error) => { journalFailures.push(`${where}: ${error}`) }

const { trades: goodClientTrades } = await wellBehavedClient(url)

/** Sends a crafted frame and returns the one Reject it gets. */
async function rejectFor (client: GatehouseClient, envelope: ClientEnvelopeInit): Promise<Reject> {
  const answer = client.nextNew((m) => m.body === 'reject')
  client.sendRaw(encodeClientEnvelope(envelope))
  return (await answer).reject as Reject
}

async function search (argv: string[]): Promise<DecodedRecord[]> {
  let out = ''
  const code = await runSearchCommand([journalDir(gateway.config), ...argv, '--json'], { out: (s) => { out += s }, err: () => {} })
  if (code !== 0) throw new Error(`journal search ${argv.join(' ')} exited ${code}`)
  return out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as DecodedRecord)
}

/** Polls until fn's result is non-empty, for at most 5 s. */
async function eventually<T> (fn: () => Promise<T[]>): Promise<T[]> {
  const deadline = Date.now() + 5000
  for (;;) {
    const result = await fn()
    if (result.length > 0 || Date.now() > deadline) return result
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function scrape (): Promise<ReturnType<typeof parseExposition>> {
  const res = await fetch(`http://127.0.0.1:${gateway.supervisor.running().ops.port}/metrics`)
  return parseExposition(await res.text())
}
const invalidFieldRejects = async (): Promise<number> =>
  sampleValue(await scrape(), 'gatehouse_rejects_total', 'gatehouse_rejects_total', { lane: 'platform', reason: 'INVALID_FIELD' })

function checkReject (t: Test, reject: Reject, text: string, refSeq: number, clientOrderId: number): void {
  t.equal(reject.reason, RejectReason.INVALID_FIELD, `${text.split(' ')[0]!}: INVALID_FIELD`)
  t.equal(reject.text, text, 'the text names the field and its limit')
  t.equal(wireInt(reject.refSeq), refSeq, 'ref_seq')
  t.equal(wireInt(reject.clientOrderId), clientOrderId, 'client_order_id')
}

t.test('an over-long account is refused at decode, journaled and audited, and never fails the journal', async (t) => {
  const before = await invalidFieldRejects()
  const account = 'L'.repeat(200)
  const client = await GatehouseClient.connect(url)
  const reject = await rejectFor(client, { seq: 1, authenticate: { appId: DEMO_APP_ID, account, proof: new Uint8Array(32) } })
  checkReject(t, reject, 'authenticate.account is 200 characters; at most 64', 1, 0)
  const logonLong = await rejectFor(client, { seq: 2, logon: { account: 'M'.repeat(300), password: 'x' } })
  checkReject(t, logonLong, 'logon.account is 300 characters; at most 64', 2, 0)
  t.equal(await invalidFieldRejects() - before, 2, 'both refusals are counted under INVALID_FIELD')

  const found = await search(['--account', account])
  t.ok(found.some((r) => r.kind === 'client-in'), 'journal search finds the refused Authenticate by its account')
  const steps = await eventually(async () => (await search(['--kind', 'logon-step', '--reason', 'INVALID_FIELD'])))
  t.ok(steps.length >= 2, 'the supervisor journaled both refused logon steps')
  t.ok(gateway.supervisor.access.audit.recent.some((r) => r.account === account && r.reason === RejectReason.INVALID_FIELD), 'the audit has the attempt, account whole')
  t.same(journalFailures, [], 'no journal failure: nothing is wrong with the disk')

  // The session is unharmed: the nonce was not used, the logon goes on.
  t.equal((await client.logon('demo-maker', 'maker-pass', TEST_IDENTITY)).ok, true, 'the same connection still logs on')
  await client.logout()
  t.ok(await goodClientTrades(), 'a well-behaved client on the same lane is still served')
})

t.test('terminal info fields are bounded too', async (t) => {
  const client = await GatehouseClient.connect(url)
  const reject = await rejectFor(client, { seq: 1, terminalInfo: { terminalType: 'linux-server', ips: ['10.0.0.1', 'x'.repeat(100)] } })
  checkReject(t, reject, 'terminal_info.ips[1] is 100 characters; at most 45', 1, 0)
  await client.close()
  t.same(journalFailures, [])
})

t.test('integers at or above 2^53 are refused naming the field, never altered; echoes are exact', async (t) => {
  const client = await GatehouseClient.connect(url)
  t.equal((await client.logon('demo-maker', 'maker-pass', TEST_IDENTITY)).ok, true)
  const order = { instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 1, timeInForce: TimeInForce.FAK }
  const unsafeId = 'new_order.client_order_id is 2^53 or more; it must be an integer in [0, 9007199254740991] (2^53 - 1)'
  checkReject(t, await rejectFor(client, { seq: 10, newOrder: { ...order, clientOrderId: wire64(2n ** 53n + 2n) } }), unsafeId, 10, 0)
  checkReject(t, await rejectFor(client, { seq: 11, newOrder: { ...order, clientOrderId: wire64(2n ** 53n + 1n) } }), unsafeId, 11, 0)
  checkReject(t, await rejectFor(client, { seq: 12, heartbeat: { testId: wire64(2n ** 64n - 1n) } }),
    'heartbeat.test_id is 2^53 or more; it must be an integer in [0, 9007199254740991] (2^53 - 1)', 12, 0)
  checkReject(t, await rejectFor(client, { seq: wire64(2n ** 60n + 3n), heartbeat: { testId: 5 } }),
    'envelope.seq is 2^53 or more; it must be an integer in [0, 9007199254740991] (2^53 - 1)', 0, 0)
  const unsafePrice = 'new_order.price is 2^53 or more in magnitude; it must be an integer in [-9007199254740991, 9007199254740991]'
  checkReject(t, await rejectFor(client, { seq: 13, newOrder: { ...order, clientOrderId: 501, price: wire64(2n ** 62n + 1n) } }), unsafePrice, 13, 501)
  checkReject(t, await rejectFor(client, { seq: 14, newOrder: { ...order, clientOrderId: 502, price: wire64(-(2n ** 62n) - 1n) } }), unsafePrice, 14, 502)

  const echo = client.nextNew((m) => m.body === 'heartbeat')
  client.sendRaw(encodeClientEnvelope({ seq: Number.MAX_SAFE_INTEGER, heartbeat: { testId: Number.MAX_SAFE_INTEGER } }))
  t.equal(wireInt((await echo).heartbeat!.testId), Number.MAX_SAFE_INTEGER, 'test_id 2^53 - 1 comes back exactly')

  // A refused order used up nothing: its ID is still free.
  client.newOrder({ ...order, clientOrderId: 501 })
  t.equal((await client.report(501)).execType, ExecType.ACK, 'client_order_id 501 was not burnt by the refused order')
  t.notOk(client.received.some((m: ClientEnvelope) => m.body === 'executionReport' && wireInt(m.executionReport!.clientOrderId) === 502),
    'the refused order never reached the exchange')
  await client.logout()
  t.ok(await goodClientTrades(), 'a well-behaved client on the same lane is still served')
})

t.test('enum values the .proto does not define are refused before anything is forwarded', async (t) => {
  const client = await GatehouseClient.connect(url)
  t.equal((await client.logon('demo-maker', 'maker-pass', TEST_IDENTITY)).ok, true)
  const order = { instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 1, timeInForce: TimeInForce.FAK }
  checkReject(t, await rejectFor(client, { seq: 20, newOrder: { ...order, clientOrderId: 601, timeInForce: 7 as TimeInForceType } }),
    'new_order.time_in_force is 7, which the protocol does not define; use one of 0 TIME_IN_FORCE_UNSPECIFIED, 1 GFD, 2 FAK, 3 FOK', 20, 601)
  checkReject(t, await rejectFor(client, { seq: 21, newOrder: { ...order, clientOrderId: 602, side: 9 as SideType } }),
    'new_order.side is 9, which the protocol does not define; use one of 0 SIDE_UNSPECIFIED, 1 BUY, 2 SELL', 21, 602)
  // The next order's ACK comes over the same link after anything sent before it.
  client.newOrder({ ...order, clientOrderId: 603 })
  t.equal((await client.report(603)).execType, ExecType.ACK)
  t.notOk(client.received.some((m: ClientEnvelope) => m.body === 'executionReport' && [601, 602].includes(wireInt(m.executionReport!.clientOrderId))),
    'neither refused order reached the exchange')
  // SIDE_UNSPECIFIED is defined, and keeps its own reason.
  client.newOrder({ ...order, clientOrderId: 604, side: Side.SIDE_UNSPECIFIED })
  t.equal((await client.report(604, ExecType.REJECTED)).reason, RejectReason.INVALID_SIDE, 'side 0 is still INVALID_SIDE')
  await client.logout()
  t.ok(await goodClientTrades(), 'a well-behaved client on the same lane is still served')
})

t.test('rejects of orders and cancels carry the client_order_id', async (t) => {
  const client = await GatehouseClient.connect(url)
  const orderSeq = client.newOrder({ clientOrderId: 77, instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 1 })
  const notAuthent = await client.reject(orderSeq)
  t.equal(notAuthent.reason, RejectReason.NOT_AUTHENT)
  t.equal(wireInt(notAuthent.clientOrderId), 77, 'an order before logon: NOT_AUTHENT names the order')
  const cancelSeq = client.cancel(78)
  const cancelReject = await client.reject(cancelSeq)
  t.equal(cancelReject.reason, RejectReason.NOT_AUTHENT)
  t.equal(wireInt(cancelReject.clientOrderId), 78, 'a cancel before logon: NOT_AUTHENT names the order')

  const truncated = encodeClientEnvelope({ seq: 31, newOrder: { clientOrderId: 79, instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 1 } })
  const malformed = client.nextNew((m) => m.body === 'reject')
  client.sendRaw(truncated.subarray(0, truncated.length - 2))
  const reject = (await malformed).reject!
  t.equal(reject.reason, RejectReason.MALFORMED_FRAME)
  t.equal(wireInt(reject.refSeq), 31, 'a truncated order: its seq, read before the damage')
  t.equal(wireInt(reject.clientOrderId), 79, 'and its client_order_id')
  await client.close()
  t.same(journalFailures, [], 'no journal failure in the whole run')
})
