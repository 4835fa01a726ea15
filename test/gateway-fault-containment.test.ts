// An exception in a lane handler never reaches uWebSockets.js (which would
// end the process) nor drops the exchange link: it is caught, answered to
// the client with INTERNAL_ERROR, journaled as a decision, counted in
// /metrics and sent to ops as a lane-fault event, and everyone keeps
// trading. The faults are injected on real input through the test-only
// config lanes.<lane>.testFaults.
import t from 'tap'
import { ExecType, RejectReason, Side, TimeInForce, wireInt } from '../protocol/messages.js'
import { journalDir } from '../config/config.js'
import { readJournal } from '../journal/reader.js'
import { RecordKind } from '../journal/record-format.js'
import { DecisionStage, decodeDecision } from '../journal/gateway-records.js'
import type { LaneToSupervisor } from '../lane/worker-contract.js'
import { startTestGateway } from './helpers/gateway.js'
import { DEFAULT_CONFIG } from '../config/defaults.js'
import { logOn, place, tradingAccount } from './helpers/trading.js'
import { parseExposition, sampleValue } from './helpers/prometheus-text.js'

const FAULT_TEST_ID = 4242
const FAULT_ORDER_ID = 777_777
const gateway = await startTestGateway({
  overrides: {
    accounts: [...DEFAULT_CONFIG.accounts, tradingAccount('FAULT-1'), tradingAccount('FAULT-2')],
    lanes: { platform: { testFaults: { throwOnHeartbeatTestId: FAULT_TEST_ID, throwOnReportClientOrderId: FAULT_ORDER_ID } } } },
})
t.teardown(() => gateway.stop())
const faults: Array<Extract<LaneToSupervisor, { type: 'lane-fault' }>> = []
const previous = gateway.supervisor.onLaneEvent
gateway.supervisor.onLaneEvent = (event) => {
  if (event.type === 'lane-fault') faults.push(event)
  previous(event)
}
const order = { instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 1, timeInForce: TimeInForce.FAK }

async function internalErrors (): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${gateway.supervisor.running().ops.port}/metrics`)).text()
  return sampleValue(parseExposition(text), 'gatehouse_lane_internal_errors_total', 'gatehouse_lane_internal_errors_total', { lane: 'platform' })
}

t.test('an exception in the message handler is answered, journaled, counted and alerted; the session and the lane go on', async (t) => {
  const victim = await logOn(gateway, 'platform', 'FAULT-1')
  const other = await logOn(gateway, 'platform', 'FAULT-2')
  const before = await internalErrors()
  const seq = victim.client.send({ heartbeat: { testId: FAULT_TEST_ID } })
  const reject = await victim.client.reject()
  t.equal(reject.reason, RejectReason.INTERNAL_ERROR, 'the client gets INTERNAL_ERROR')
  t.match(reject.text, /failed handling this \(message\); ops are alerted/)
  t.ok(seq > 0)
  t.equal((await place(victim, order)).report.execType, ExecType.ACK, 'the same session keeps trading')
  t.equal((await place(other, order)).report.execType, ExecType.ACK, 'another session on the lane keeps trading')
  t.equal(await internalErrors(), before + 1, 'gatehouse_lane_internal_errors_total counted it')
  t.match(faults.at(-1), { lane: 'platform', where: 'message', error: /test fault: heartbeat/ }, 'ops got a lane-fault event')
  t.equal(faults.at(-1)!.sessionId, wireInt(victim.logon.sessionId), 'naming the session')
  await victim.client.logout()
  await other.client.logout()
})

t.test('an exception handling an exchange report is contained: the link stays up and others keep trading', async (t) => {
  const victim = await logOn(gateway, 'platform', 'FAULT-1')
  const other = await logOn(gateway, 'platform', 'FAULT-2')
  const before = await internalErrors()
  // Resting (GFD, no seller): its only report is the ACK, which throws.
  victim.client.newOrder({ clientOrderId: FAULT_ORDER_ID, ...order, timeInForce: TimeInForce.GFD })
  const reject = await victim.client.reject()
  t.equal(reject.reason, RejectReason.INTERNAL_ERROR, 'the order\'s owner gets INTERNAL_ERROR')
  t.equal(wireInt(reject.clientOrderId), FAULT_ORDER_ID, 'naming the order')
  t.equal(await internalErrors(), before + 1, 'counted')
  t.match(faults.at(-1), { lane: 'platform', where: 'link report' }, 'alerted')
  t.equal(gateway.supervisor.running().lanes.platform!.link, 'up', 'the exchange link stayed up')
  t.equal((await place(other, order)).report.execType, ExecType.ACK, 'another session keeps trading on the same link')
  victim.client.newOrder({ clientOrderId: FAULT_ORDER_ID + 1, ...order })
  t.equal((await victim.client.report(FAULT_ORDER_ID + 1)).execType, ExecType.ACK, 'and so does the victim')
  await victim.client.logout()
  await other.client.logout()

  let internal = 0
  for (const record of readJournal(journalDir(gateway.config), { streams: ['platform'] })) {
    if (record.kind !== RecordKind.CHECK_DECISION) continue
    const decision = decodeDecision(record.payload)!
    if (decision.stage === DecisionStage.INTERNAL && decision.reason === RejectReason.INTERNAL_ERROR) internal++
  }
  t.equal(internal, 2, 'each fault is journaled as a decision record (stage internal, INTERNAL_ERROR)')
})
