// End to end through a real lane thread and the exchange simulator process:
// logon -> order -> ack -> fill -> cancel, on every lane.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { ExecType, Side, wireInt, type Instrument } from '../protocol/messages.js'
import { LANE_NAMES } from '../protocol/lanes.js'
import { startTestGateway } from './helpers/gateway.js'
import { TEST_IDENTITY } from './helpers/trading.js'

const recordFile = join(mkdtempSync(join(tmpdir(), 'gatehouse-flow-')), 'exchange-orders.jsonl')
const gateway = await startTestGateway({ simArgs: ['--record', recordFile] })
t.teardown(() => gateway.stop())

t.test('logon, order, ack, fill and cancel through each lane', async (t) => {
  for (const lane of LANE_NAMES) {
    const maker = await GatehouseClient.connect(gateway.url(lane))
    const taker = await GatehouseClient.connect(gateway.url(lane))
    const makerLogon = await maker.logon('demo-maker', 'maker-pass', TEST_IDENTITY)
    t.equal(makerLogon.ok, true, `${lane}: maker logged on`)
    t.equal(makerLogon.lane, lane)
    t.ok(wireInt(makerLogon.sessionId) > 0, 'session id assigned')
    t.match(makerLogon.tradingDay, /^\d{8}$/)
    const instrument = (makerLogon.instruments as Instrument[]).find((i) => i.symbol === 'rb2605')
    t.ok(instrument, 'reference data comes with the logon reply')
    t.equal((await taker.logon('demo-taker', 'taker-pass', TEST_IDENTITY)).ok, true)

    // A price unique to this lane so the three lanes never trade with each other.
    const tick = wireInt(instrument!.tickSize)
    const price = wireInt(instrument!.referencePrice) + (LANE_NAMES.indexOf(lane) + 1) * 10 * tick
    maker.newOrder({ clientOrderId: 11, instrument: 'rb2605', side: Side.SELL, price, quantityLots: 3 })
    const makerAck = await maker.report(11, ExecType.ACK)
    t.ok(wireInt(makerAck.exchangeOrderId) > 0, 'exchange order id on the ack')
    t.equal(makerAck.leavesLots, 3)

    taker.newOrder({ clientOrderId: 7, instrument: 'rb2605', side: Side.BUY, price, quantityLots: 2 })
    await taker.report(7, ExecType.ACK)
    const takerFill = await taker.report(7, ExecType.FILL)
    t.equal(takerFill.lastLots, 2, 'taker filled in full')
    t.equal(wireInt(takerFill.lastPrice), price, 'at the resting price')
    t.equal(takerFill.leavesLots, 0)
    const makerPartial = await maker.report(11, ExecType.PARTIAL_FILL)
    t.equal(makerPartial.cumulativeLots, 2)
    t.equal(makerPartial.leavesLots, 1)

    maker.cancel(11)
    const cancelled = await maker.report(11, ExecType.CANCELLED)
    t.equal(cancelled.leavesLots, 0, 'cancel leaves nothing working')
    t.equal(cancelled.cumulativeLots, 2, 'the filled part stays filled')

    // The order is no longer working: a second cancel is refused by the gateway itself.
    const seq = maker.cancel(11)
    const reject = await maker.reject(seq)
    t.equal(reject.reason, 108, 'UNKNOWN_ORDER for a finished order')

    // Gateway sequence numbers run 1, 2, 3... with no gaps on each session.
    for (const client of [maker, taker]) {
      t.same(client.received.map((m) => wireInt(m.seq)), client.received.map((_, i) => i + 1), `${lane}: gapless outbound seq`)
    }
    await maker.logout()
    await taker.logout()
  }
})

t.test('every order that reached the exchange is in the simulator record', async (t) => {
  // Stopping the simulator flushes its record file.
  await gateway.sim.stop()
  const lines = readFileSync(recordFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line))
  t.equal(lines.length, LANE_NAMES.length * 2, 'two orders per lane')
  t.same(new Set(lines.map((l) => l.account)), new Set(['demo-maker', 'demo-taker']))
  t.same(new Set(lines.map((l) => l.session)), new Set(LANE_NAMES.map((lane) => `gw1-${lane}`)), 'one link session per lane thread')
})
