// A lost exchange link: new orders are rejected with EXCHANGE_UNAVAILABLE
// at once (never queued behind the client's back), /healthz says degraded,
// and trading resumes by itself when the exchange is back.
import t from 'tap'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { startExchangeSimProcess } from '../supervisor/exchange-sim-process.js'
import { ExecType, RejectReason, Side, TimeInForce } from '../protocol/messages.js'
import type { LaneToSupervisor } from '../lane/worker-contract.js'
import { startTestGateway } from './helpers/gateway.js'
import { TEST_IDENTITY } from './helpers/trading.js'

const gateway = await startTestGateway()
let restartedSim: Awaited<ReturnType<typeof startExchangeSimProcess>> | null = null
t.teardown(async () => {
  await gateway.supervisor.stop()
  await restartedSim?.stop()
})

function linkEvent (state: 'down'): Promise<LaneToSupervisor> {
  return new Promise((resolve) => {
    const previous = gateway.supervisor.onLaneEvent
    gateway.supervisor.onLaneEvent = (event) => {
      previous(event)
      if (event.type === 'link-state' && event.lane === 'hft' && event.state === state) {
        gateway.supervisor.onLaneEvent = previous
        resolve(event)
      }
    }
  })
}

t.test('orders are rejected while the link is down and flow again after it returns', async (t) => {
  const client = await GatehouseClient.connect(gateway.url('hft'))
  t.equal((await client.logon('demo-maker', 'maker-pass', TEST_IDENTITY)).ok, true)
  const order = { instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 1, timeInForce: TimeInForce.FAK }

  const down = linkEvent('down')
  await gateway.sim.stop()
  await down
  const ops = `http://127.0.0.1:${gateway.supervisor.running().ops.port}/healthz`
  t.equal((await fetch(ops)).status, 503, '/healthz reports the lost link')

  client.newOrder({ clientOrderId: 1, ...order })
  const rejected = await client.report(1, ExecType.REJECTED)
  t.equal(rejected.reason, RejectReason.EXCHANGE_UNAVAILABLE)
  t.match(rejected.text, /exchange link is down/)

  restartedSim = await startExchangeSimProcess(['--host', '127.0.0.1', '--port', String(gateway.sim.port)])
  await gateway.supervisor.whenLinksUp()
  t.equal((await fetch(ops)).status, 200, '/healthz is ok again')
  client.newOrder({ clientOrderId: 2, ...order })
  t.ok(await client.report(2, ExecType.ACK), 'the same session trades again without reconnecting')
  await client.logout()
})
