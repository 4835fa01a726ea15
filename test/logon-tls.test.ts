// A TLS lane (uWebSockets.js SSLApp) end to end: wss:// logon through all
// three look-through steps, an order, and a refusal of plain ws://.
import t from 'tap'
import { fileURLToPath } from 'node:url'
import { readFileSync } from 'node:fs'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { ExecType, Side, TimeInForce } from '../protocol/messages.js'
import { startTestGateway } from './helpers/gateway.js'
import { TEST_IDENTITY } from './helpers/trading.js'

const fixture = (name: string): string => fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url))
const gateway = await startTestGateway({
  overrides: { lanes: { platform: { tls: { certFile: fixture('lane-tls-cert.pem'), keyFile: fixture('lane-tls-key.pem') } } } },
})
t.teardown(() => gateway.stop())
const port = gateway.supervisor.running().lanes.platform!.port

t.test('wss:// logon and an order on a TLS lane', async (t) => {
  t.equal(gateway.supervisor.running().lanes.platform!.tls, true)
  const client = await GatehouseClient.connect(`wss://127.0.0.1:${port}`, { ca: readFileSync(fixture('lane-tls-cert.pem')) })
  const reply = await client.logon('demo-maker', 'maker-pass', TEST_IDENTITY)
  t.equal(reply.ok, true, 'authenticate, terminal info and logon over TLS')
  client.newOrder({ clientOrderId: 1, instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 1, timeInForce: TimeInForce.FAK })
  t.ok(await client.report(1, ExecType.ACK))
  await client.logout()
})

t.test('an untrusted certificate is refused by the client, and plain ws:// does not connect', async (t) => {
  await t.rejects(GatehouseClient.connect(`wss://127.0.0.1:${port}`), /self[- ]signed/)
  await t.rejects(GatehouseClient.connect(`ws://127.0.0.1:${port}`))
})
