// Order entry (lane/order-entry.ts) without sockets: the real RiskEngine
// over a real RiskControl's shared buffers, the real OrderLifecycle, the
// lane's real journal stream in a directory, and at the edges a recording
// link port and a recording client port (test/helpers/lane-core.ts). Each
// refusal is checked for all three of its parts: the REJECTED report, the
// journaled decision and the reject counter. And the lifecycle's cancel
// rule at link logon: cancels lost with the link, and owed ones, go out.
import t, { type Test } from 'tap'
import { join } from 'node:path'
import { readStream } from '../journal/reader.js'
import { RecordKind } from '../journal/record-format.js'
import { DecisionStage, decodeDecision } from '../journal/gateway-records.js'
import { LaneJournal } from '../lane/lane-journal.js'
import { ExecType, RejectReason, Side, TimeInForce, type ClientEnvelopeInit } from '../protocol/messages.js'
import { INSTRUMENTS, LaneCore, SMALL_CAPACITY, riskControlFor } from './helpers/lane-core.js'
import { gatewayRecoveryDay, recoverLanes } from '../lane/recovery.js'
import { LANE_NAMES } from '../protocol/lanes.js'

const TRADER = 'OE-T'
const RB = 'rb2605'

function setUp (t: Test, risk: Record<string, unknown> = {}): { lane: LaneCore, journal: LaneJournal, dir: string } {
  const dir = t.testdir()
  const journal = new LaneJournal({ lane: 'platform', root: dir, fsync: 'never', maxSegmentBytes: 1 << 20 })
  const lane = new LaneCore('platform', riskControlFor([TRADER], risk), journal)
  lane.lifecycle.linkUp({ tradingDay: '20261207', environment: 'production', instruments: INSTRUMENTS, nextExpectedSeq: 1 })
  return { lane, journal, dir }
}

function decisions (dir: string, journal: LaneJournal): Array<{ passed: boolean, stage: number, reason: number, clientOrderId: number }> {
  journal.commit()
  const out = []
  for (const record of readStream(join(dir, 'platform'), 'platform')) {
    if (record.kind !== RecordKind.CHECK_DECISION) continue
    const d = decodeDecision(record.payload)!
    out.push({ passed: d.passed, stage: d.stage, reason: d.reason, clientOrderId: d.clientOrderId })
  }
  return out
}

const order = (clientOrderId: number, lots = 1, price = 3200, instrument = RB) =>
  ({ clientOrderId, instrument, side: Side.BUY, price, quantityLots: lots, timeInForce: TimeInForce.GFD, reduceOnly: false, offsetFlag: 0, hedgeFlag: 0 })

const last = (sent: ClientEnvelopeInit[]): ClientEnvelopeInit => sent[sent.length - 1]!

t.test('an order that passes goes out on the link and is working; a cancel goes out and the CANCELLED report ends it', async (t) => {
  const { lane, journal, dir } = setUp(t)
  const session = lane.connect()
  lane.logOn(session, TRADER)
  lane.newOrder(session, order(1, 2))
  t.equal(lane.link.sent.length, 1, 'one message on the link')
  const sent = lane.link.sent[0]!.newOrder!
  t.match(sent, { account: TRADER, instrument: RB, side: Side.BUY, price: 3200, quantityLots: 2 }, 'the new order as checked')
  const linkOrderId = Number(sent.orderId)
  const slot = lane.lifecycle.orders.slotOf(linkOrderId)
  const working = lane.lifecycle.orders.view(slot)
  t.match(working, { clientOrderId: 1, linkSeq: 1, session }, 'working, with its link seq, owned by the session')
  t.equal(session.openOrders.get(1), slot, 'the session finds its slot by client_order_id')
  t.match(lane.control.counters(TRADER), { openOrders: 1, openLots: 2, actionsToday: 1 }, 'reserved in the shared risk state')
  t.same(decisions(dir, journal), [{ passed: true, stage: DecisionStage.RISK, reason: 0, clientOrderId: 1 }], 'the passed decision is journaled')

  lane.cancel(session, 1)
  t.same(lane.link.sent[1]!.cancel, { orderId: linkOrderId }, 'the cancel goes out')
  t.equal(lane.lifecycle.orders.view(slot).cancelLinkSeq, 2, 'the order remembers the cancel\'s link seq until the exchange answers')
  lane.lifecycle.report({ orderId: linkOrderId, execType: ExecType.CANCELLED, exchangeOrderId: 9, cumulativeLots: 0, leavesLots: 0, lastLots: 0, lastPrice: 0, reason: 0, text: '', transactTimeUs: 0, cancelRejected: false } as never)
  t.match(last(lane.sentTo(session)).executionReport, { clientOrderId: 1, execType: ExecType.CANCELLED }, 'the client gets CANCELLED')
  t.equal(lane.lifecycle.orders.size, 0, 'no longer working')
  t.match(lane.control.counters(TRADER), { openOrders: 0, openLots: 0, reservedFen: 0, actionsToday: 2 }, 'released; the cancel counted as an action')
})

t.test('every refusal: a REJECTED report with its code, the decision journaled, the reject counted, nothing on the link', async (t) => {
  const { lane, journal, dir } = setUp(t, { limits: { accounts: { [TRADER]: { maxOpenOrders: 1 } } } })
  const session = lane.connect()
  lane.logOn(session, TRADER)
  lane.newOrder(session, order(5))
  const cases: Array<[string, () => void, number, number]> = [
    ['a reused client_order_id', () => { lane.newOrder(session, order(5)) }, RejectReason.DUPLICATE_CLIENT_ORDER_ID, DecisionStage.ORDER_ID],
    ['an unknown instrument', () => { lane.newOrder(session, order(6, 1, 3200, 'xx9999')) }, RejectReason.UNKNOWN_INSTRUMENT, DecisionStage.VALIDITY],
    ['a risk limit (maxOpenOrders 1)', () => { lane.newOrder(session, order(7)) }, RejectReason.MAX_OPEN_ORDERS, DecisionStage.RISK],
    ['the link down', () => { lane.link.isUp = false; lane.newOrder(session, order(8)) }, RejectReason.EXCHANGE_UNAVAILABLE, DecisionStage.LINK],
  ]
  const linkBefore = lane.link.sent.length
  for (const [what, act, reason, stage] of cases) {
    const before = lane.metrics.rejects(reason)
    act()
    const report = last(lane.sentTo(session)).executionReport!
    t.match(report, { execType: ExecType.REJECTED, reason }, `${what}: REJECTED with its code`)
    t.equal(lane.metrics.rejects(reason), before + 1, `${what}: counted`)
    t.match(decisions(dir, journal).at(-1), { passed: false, stage, reason, clientOrderId: Number(report.clientOrderId) }, `${what}: decision journaled`)
  }
  t.equal(lane.link.sent.length, linkBefore, 'nothing more went out on the link')
  t.match(lane.control.counters(TRADER), { openOrders: 1 }, 'only the first order is booked')
})

t.test('a cancel of no working order is refused with UNKNOWN_ORDER; with the link down, with EXCHANGE_UNAVAILABLE, uncounted and nothing owed', async (t) => {
  const { lane } = setUp(t)
  const session = lane.connect()
  lane.logOn(session, TRADER)
  lane.cancel(session, 99)
  t.match(last(lane.sentTo(session)).reject, { reason: RejectReason.UNKNOWN_ORDER, refSeq: session.lastClientSeq, clientOrderId: 99 }, 'UNKNOWN_ORDER')
  lane.newOrder(session, order(1))
  const actions = lane.control.counters(TRADER).actionsToday
  lane.link.isUp = false
  lane.cancel(session, 1)
  t.match(last(lane.sentTo(session)).reject, { reason: RejectReason.EXCHANGE_UNAVAILABLE, refSeq: session.lastClientSeq, clientOrderId: 1 }, 'EXCHANGE_UNAVAILABLE: the client retries')
  t.match([...lane.lifecycle.orders.values()][0], { cancelOwed: false, cancelLinkSeq: 0 }, 'the gateway owes no cancel for it')
  t.equal(lane.control.counters(TRADER).actionsToday, actions, 'a cancel that could not go out is no action')
})

t.test('a cancel the link lost before the exchange got it is sent again when the link logs on; one it got is not', async (t) => {
  const { lane } = setUp(t)
  const session = lane.connect()
  lane.logOn(session, TRADER, true)
  lane.newOrder(session, order(1))
  lane.newOrder(session, order(2))
  lane.cancel(session, 1)
  lane.cancel(session, 2)
  const [first, second] = [...lane.lifecycle.orders.values()]
  t.match([first!.cancelLinkSeq, second!.cancelLinkSeq], [3, 4], 'the cancels went out with link seqs 3 and 4')
  lane.linkDown()
  // The exchange got everything up to seq 3: the cancel at 4 was lost.
  lane.link.sent.length = 0
  lane.linkUp('20261207', 4)
  t.same(lane.link.sent.map((e) => e.cancel), [{ orderId: second!.linkOrderId }], 'only the lost cancel is sent again')
  t.equal(lane.lifecycle.orders.view(lane.lifecycle.orders.slotOf(second!.linkOrderId)).cancelLinkSeq, 4, 'with its new link seq')
  // Closed with cancel-on-disconnect while the link is down: owed, sent at the next logon.
  lane.linkDown()
  lane.exchangeReport({ orderId: first!.linkOrderId, cancelRejected: true, reason: RejectReason.UNKNOWN_ORDER })
  lane.close(session)
  t.equal(lane.lifecycle.orders.view(lane.lifecycle.orders.slotOf(first!.linkOrderId)).cancelOwed, true, 'cancel-on-disconnect with the link down: owed')
  lane.link.sent.length = 0
  lane.linkUp('20261207', 5)
  t.same(lane.link.sent.map((e) => e.cancel), [{ orderId: first!.linkOrderId }], 'the owed cancel goes out at the next link logon')
})

t.test('at the lane\'s working-order bound a new order is refused before the risk check (stage CAPACITY, MAX_OPEN_ORDERS); a finished order frees its slot', async (t) => {
  // One account of 4 order slots: the lane can never hold more than the shared tables do, so its bound is 4.
  const { lane, journal, dir } = setUp(t, { capacity: { ...SMALL_CAPACITY, accounts: 1, openOrdersPerAccount: 4 }, limits: { global: { maxOpenOrders: 4 } } })
  t.equal(lane.lifecycle.orders.maxSlots, 4, 'the bound: accounts x openOrdersPerAccount')
  const session = lane.connect()
  lane.logOn(session, TRADER)
  for (let id = 1; id <= 4; id++) lane.newOrder(session, order(id))
  t.equal(lane.lifecycle.orders.size, 4, 'four working')
  t.ok(lane.lifecycle.orders.full, 'the table is full')
  const before = lane.control.counters(TRADER)
  const rejectsBefore = lane.metrics.rejects(RejectReason.MAX_OPEN_ORDERS)
  lane.newOrder(session, order(5))
  t.match(last(lane.sentTo(session)).executionReport, { clientOrderId: 5, execType: ExecType.REJECTED, reason: RejectReason.MAX_OPEN_ORDERS, text: /working-order table is full \(4 orders\)/ }, 'refused with MAX_OPEN_ORDERS and why')
  t.match(decisions(dir, journal).at(-1), { passed: false, stage: DecisionStage.CAPACITY, reason: RejectReason.MAX_OPEN_ORDERS, clientOrderId: 5 }, 'journaled at stage CAPACITY')
  t.equal(lane.metrics.rejects(RejectReason.MAX_OPEN_ORDERS), rejectsBefore + 1, 'counted')
  t.same(lane.control.counters(TRADER), before, 'nothing reserved or counted in the shared risk state')
  t.equal(lane.link.sent.length, 4, 'nothing more on the link')
  const first = lane.link.sent[0]!.newOrder!
  lane.exchangeReport({ orderId: Number(first.orderId), execType: ExecType.FILL, exchangeOrderId: 9, cumulativeLots: 1, leavesLots: 0, lastLots: 1, lastPrice: 3200 })
  t.equal(lane.lifecycle.orders.size, 3, 'the filled order left the table')
  const sentBefore = lane.sentTo(session).length
  lane.newOrder(session, order(6))
  t.equal(lane.sentTo(session).length, sentBefore, 'the next order is not refused')
  t.equal(lane.lifecycle.orders.size, 4, 'and takes the free slot')
  t.match(lane.lifecycle.orders.view(lane.lifecycle.orders.slotOf(Number(lane.link.sent.at(-1)!.newOrder!.orderId))), { clientOrderId: 6, session, leavesLots: 1 }, 'with its own fields')
})

t.test('recovery after a refusal at the lane\'s bound rebuilds the live state: the refused order left no trace in the risk state', async (t) => {
  const risk = { capacity: { ...SMALL_CAPACITY, accounts: 1, openOrdersPerAccount: 4 }, limits: { global: { maxOpenOrders: 4 } } }
  const dir = t.testdir()
  const journal = new LaneJournal({ lane: 'platform', root: dir, fsync: 'never', maxSegmentBytes: 1 << 20 })
  const lane = new LaneCore('platform', riskControlFor([TRADER], risk), journal)
  lane.linkUp('20261207', 1)
  const session = lane.connect()
  lane.logOn(session, TRADER)
  for (let id = 1; id <= 5; id++) lane.newOrder(session, order(id))
  t.equal(lane.lifecycle.orders.size, 4, 'four working, the fifth refused at the bound')
  const first = Number(lane.link.sent[0]!.newOrder!.orderId)
  lane.exchangeReport({ orderId: first, execType: ExecType.ACK, exchangeOrderId: 77, leavesLots: 1 })
  lane.newOrder(session, order(6))
  lane.commit()
  lane.crash()
  const fresh = riskControlFor([TRADER], risk)
  const recovered = recoverLanes(dir, ['platform'], fresh.buffers, new Map([[TRADER, fresh.accountIndex(TRADER)!]]), gatewayRecoveryDay(dir, LANE_NAMES)).get('platform')!
  t.same(recovered.problems, [], 'no problems')
  t.same(fresh.counters(TRADER), lane.control.counters(TRADER), 'the shared risk counters equal the live ones')
  const live = [...lane.lifecycle.orders.values()].map(({ linkOrderId, clientOrderId, exchangeOrderId, leavesLots, cancelOwed }) => ({ linkOrderId, clientOrderId, exchangeOrderId, leavesLots, cancelOwed }))
  t.same(recovered.orders.map(({ linkOrderId, clientOrderId, exchangeOrderId, leavesLots, cancelOwed }) => ({ linkOrderId, clientOrderId, exchangeOrderId, leavesLots, cancelOwed })), live, 'the same working orders, in entry order')
  t.same(recovered.orders.map((o) => o.clientOrderId), [1, 2, 3, 4], 'the refused orders (5 and 6) are not among them')
})
