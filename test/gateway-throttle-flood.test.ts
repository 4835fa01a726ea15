// A logged-on session that keeps sending past its throttle is cut off: the
// throttle refuses each message with THROTTLED_SESSION, but once it has
// refused more in one window than the session's limit (at least 100), the
// session gets one last reject and is closed with 1008, so a flood is not
// answered and journaled message by message while the lane's other
// clients wait. A session that backs off when refused is never cut off.
import t from 'tap'
import { once } from 'node:events'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { encodeClientEnvelope } from '../protocol/client-codec.js'
import { ExecType, RejectReason, Side, TimeInForce, wireInt } from '../protocol/messages.js'
import { startTestGateway } from './helpers/gateway.js'
import { TEST_IDENTITY } from './helpers/trading.js'

const gateway = await startTestGateway()
t.teardown(() => gateway.stop())
// The terminal lane's session limit is 50 messages a second.
const url = gateway.url('terminal')
const LIMIT = 50
const CUT_OFF = Math.max(LIMIT, 100)

t.test('a flood past the throttle is refused, then the session is closed with 1008', async (t) => {
  const good = await GatehouseClient.connect(url)
  const logon = await good.logon('demo-taker', 'taker-pass', TEST_IDENTITY)
  t.equal(logon.ok, true)
  // Inside the terminal lane's fat-finger band: at the reference price.
  const price = wireInt(logon.instruments!.find((i) => i.symbol === 'rb2605')!.referencePrice)
  const flooder = await GatehouseClient.connect(url)
  t.equal((await flooder.logon('demo-maker', 'maker-pass', TEST_IDENTITY)).ok, true)
  const closed = once(flooder, 'close') as Promise<[number, string]>
  const heartbeat = encodeClientEnvelope({ heartbeat: { testId: 7 } })
  // Sent in one burst: LIMIT are admitted, the rest refused.
  const burst = LIMIT + CUT_OFF + 200
  for (let i = 0; i < burst; i++) flooder.sendRaw(heartbeat)
  const [code] = await closed
  t.equal(code, 1008, 'closed as a policy violation')
  const rejects = flooder.received.filter((m) => m.body === 'reject').map((m) => m.reject!)
  t.ok(rejects.every((r) => r.reason === RejectReason.THROTTLED_SESSION), 'every refusal is THROTTLED_SESSION')
  t.equal(rejects.length, CUT_OFF + 1, `${CUT_OFF} refusals, then the last one that closes the session`)
  t.match(rejects.at(-1)!.text, /the session is closed/)
  const echoes = flooder.received.filter((m) => m.body === 'heartbeat').length
  t.equal(echoes, LIMIT, 'what the throttle admitted was answered')

  // Everyone else keeps trading on the lane.
  good.newOrder({ clientOrderId: 1, instrument: 'rb2605', side: Side.BUY, price, quantityLots: 1, timeInForce: TimeInForce.FAK })
  const ack = await good.report(1, ExecType.ACK)
  t.equal(wireInt(ack.clientOrderId), 1, 'another session on the lane is served')
  await good.logout()
})

t.test('a session just over its limit is refused but stays open', async (t) => {
  const client = await GatehouseClient.connect(url)
  t.equal((await client.logon('demo-maker', 'maker-pass', TEST_IDENTITY)).ok, true)
  const heartbeat = encodeClientEnvelope({ heartbeat: { testId: 8 } })
  for (let i = 0; i < LIMIT + 20; i++) client.sendRaw(heartbeat)
  // A heartbeat with another test_id marks the end: throttled too, but answered with a reject.
  const last = client.send({ heartbeat: { testId: 99 } })
  const reject = await client.reject(last)
  t.equal(reject.reason, RejectReason.THROTTLED_SESSION)
  t.equal(client.isClosed, false, 'still open')
  t.equal(client.received.filter((m) => m.body === 'reject').length, 21, 'each message over the limit refused once')
  await client.logout()
})
