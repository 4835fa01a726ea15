// Hostile and broken input on a real lane: every case gets a clear reject,
// nothing crashes the lane thread, and a well-behaved client on the same
// lane keeps trading throughout.
import t from 'tap'
import { once } from 'node:events'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { encodeClientEnvelope } from '../protocol/client-codec.js'
import { ExecType, RejectReason, Side, TimeInForce, wireInt, type Instrument } from '../protocol/messages.js'
import { startTestGateway } from './helpers/gateway.js'
import { wellBehavedClient, TEST_IDENTITY } from './helpers/trading.js'

const gateway = await startTestGateway()
t.teardown(() => gateway.stop())
const url = gateway.url('platform')

// The well-behaved client trades before, between and after every abuse.
const { trades: goodClientTrades } = await wellBehavedClient(url)

t.test('order before logon gets NOT_AUTHENT and the session stays usable', async (t) => {
  const client = await GatehouseClient.connect(url)
  const seq = client.newOrder({ clientOrderId: 1, instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 1 })
  const reject = await client.reject(seq)
  t.equal(reject.reason, RejectReason.NOT_AUTHENT)
  t.match(reject.text, /log on first/)
  t.equal(wireInt(reject.refSeq), seq, 'reject names the refused message')
  const cancelSeq = client.cancel(1)
  t.equal((await client.reject(cancelSeq)).reason, RejectReason.NOT_AUTHENT, 'cancels too')
  t.equal((await client.logon('demo-maker', 'maker-pass', TEST_IDENTITY)).ok, true, 'logon still works afterwards')
  await client.logout()
  t.ok(await goodClientTrades(), 'a well-behaved client on the same lane is still served')
})

t.test('bad logons are refused with a reason and can be retried', async (t) => {
  const client = await GatehouseClient.connect(url)
  const wrong = await client.logon('demo-maker', 'not-the-password', TEST_IDENTITY)
  t.equal(wrong.ok, false)
  t.equal(wrong.failedStep, 'logon')
  t.equal(wrong.reason, RejectReason.INVALID_CREDENTIALS)
  // After a refused Logon the session may retry the Logon step itself.
  t.equal((await client.login('demo-maker', 'maker-pass')).ok, true)
  const again = client.send({ logon: { account: 'demo-maker', password: 'maker-pass' } })
  t.equal((await client.reject(again)).reason, RejectReason.ALREADY_LOGGED_ON)
  await client.logout()

  // An unknown account gets the same reason and text as a wrong password:
  // no account enumeration. (The terminal lane admits new terminals with an
  // alert, so the attempt reaches the Logon step.)
  const stranger = await GatehouseClient.connect(gateway.url('terminal'))
  const unknown = await stranger.logon('nobody', 'whatever-pass', TEST_IDENTITY)
  t.equal(unknown.reason, RejectReason.INVALID_CREDENTIALS)
  t.equal(unknown.text, wrong.text)
  await stranger.close()
  t.ok(await goodClientTrades(), 'a well-behaved client on the same lane is still served')
})

t.test('malformed, unknown, text and oversized frames get protocol rejects', async (t) => {
  const client = await GatehouseClient.connect(url)
  t.equal((await client.logon('demo-maker', 'maker-pass', TEST_IDENTITY)).ok, true)
  const cases: Array<[string, Uint8Array | string, number, RegExp]> = [
    ['garbage bytes', Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f]), RejectReason.MALFORMED_FRAME, /not a valid ClientEnvelope/],
    ['truncated envelope', encodeClientEnvelope({ newOrder: { clientOrderId: 5, instrument: 'rb2605' } }).subarray(0, 6), RejectReason.MALFORMED_FRAME, /not a valid/],
    ['envelope with no message', encodeClientEnvelope({ seq: 9 }), RejectReason.UNKNOWN_MESSAGE, /no message/],
    ['text frame', '{"newOrder":{}}', RejectReason.TEXT_FRAME_NOT_ALLOWED, /binary frame/],
    ['frame over the lane limit', new Uint8Array(gateway.config.lanes.platform.maxFrameBytes + 1), RejectReason.FRAME_TOO_LARGE, /exceeds/],
    ['gateway-only message', encodeClientEnvelope({ seq: 3, executionReport: { clientOrderId: 1 } }), RejectReason.UNEXPECTED_MESSAGE, /sent by the gateway/],
  ]
  for (const [name, frame, reason, text] of cases) {
    const before = client.received.length
    client.sendRaw(frame)
    const reject = (await client.nextNew((m) => m.body === 'reject')).reject!
    t.equal(reject.reason, reason, `${name}: ${RejectReason[reason]}`)
    t.match(reject.text, text, `${name}: says why`)
    t.equal(client.received.length, before + 1, `${name}: exactly one answer`)
  }
  // Still logged on and trading after all of that.
  client.newOrder({ clientOrderId: 1, instrument: 'rb2605', side: Side.SELL, price: 3400, quantityLots: 1, timeInForce: TimeInForce.FAK })
  t.ok(await client.report(1), 'the abused session still trades')
  await client.logout()
  t.ok(await goodClientTrades(), 'a well-behaved client on the same lane is still served')
})

t.test('a frame beyond the hard limit closes only that connection', async (t) => {
  const client = await GatehouseClient.connect(url)
  const closed = once(client, 'close')
  client.sendRaw(new Uint8Array(gateway.config.lanes.platform.maxFrameBytes * 4 + 1))
  const [code] = await closed
  // uWS drops such a connection without a close frame, so the client sees 1006.
  t.equal(code, 1006, 'the oversized sender is disconnected')
  t.ok(await goodClientTrades(), 'a well-behaved client on the same lane is still served')
})

t.test('order-level rejects carry the reason, the limit and the observed value', async (t) => {
  const client = await GatehouseClient.connect(url)
  const logon = await client.logon('demo-maker', 'maker-pass', TEST_IDENTITY)
  const rb = (logon.instruments as Instrument[]).find((i) => i.symbol === 'rb2605')!
  const upper = wireInt(rb.upperLimitPrice)
  const cases: Array<[string, Record<string, number | string>, number, number, number]> = [
    ['unknown instrument', { instrument: 'zz9999' }, RejectReason.UNKNOWN_INSTRUMENT, 0, 0],
    ['above the band', { price: upper + 1 }, RejectReason.PRICE_OUTSIDE_BAND, upper, upper + 1],
    ['zero quantity', { quantityLots: 0 }, RejectReason.INVALID_QUANTITY, 1, 0],
    ['over max order size', { quantityLots: rb.maxOrderLots + 1 }, RejectReason.QUANTITY_ABOVE_MAX, rb.maxOrderLots, rb.maxOrderLots + 1],
    ['no side', { side: 0 }, RejectReason.INVALID_SIDE, 0, 0],
  ]
  let id = 100
  for (const [name, change, reason, limit, observed] of cases) {
    const clientOrderId = ++id
    client.newOrder({ clientOrderId, instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 1, ...change })
    const report = await client.report(clientOrderId, ExecType.REJECTED)
    t.equal(report.reason, reason, `${name}: ${RejectReason[reason]}`)
    t.equal(wireInt(report.limit), limit, `${name}: limit`)
    t.equal(wireInt(report.observed), observed, `${name}: observed`)
  }
  const duplicate = client.nextNew((m) => m.body === 'executionReport')
  client.newOrder({ clientOrderId: id, instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 1 })
  t.equal((await duplicate).executionReport!.reason, RejectReason.DUPLICATE_CLIENT_ORDER_ID, 'a reused client_order_id is refused')
  await client.logout()
  t.ok(await goodClientTrades(), 'a well-behaved client on the same lane is still served')
})
