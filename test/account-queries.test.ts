// The parts of a query's answer that need no socket: the one fold of the
// day's execution reports into orders (against a plain model, over random
// order flows with reused and duplicate client_order_ids), the trades, the
// query throttle's exact window, and the read of positions and funds from
// the shared risk state. End to end: gateway-queries.test.ts.
import t from 'tap'
import fc from 'fast-check'
import { AccountSnapshots } from '../checks/account-snapshot.js'
import { RiskEngine, unitsToFen, type InstrumentRisk } from '../checks/risk-engine.js'
import {
  ACCOUNT_FIELDS, ACCOUNT_RESERVED_FEN, POSITION_BOOK, POSITION_DAILY_OPENED_LOTS, POSITION_FIELDS,
  POSITION_WORKING_OPEN_LONG_LOTS, POSITION_WORKING_OPEN_SHORT_LOTS,
} from '../checks/risk-layout.js'
import { BOOK_FROZEN, BOOK_LONG_TODAY, BOOK_LONG_YESTERDAY, BOOK_SHORT_TODAY, BOOK_SHORT_YESTERDAY } from '../checks/position-book.js'
import { createRiskControl } from '../config/risk-config.js'
import { resolveConfig } from '../config/load.js'
import { DEMO_APP_ID } from '../protocol/demo-identity.js'
import { DEFAULT_INSTRUMENTS } from '../exchange-sim/instruments.js'
import {
  ExecType, HedgeFlag, OffsetFlag, OrderState, PositionDirection, RejectReason, Side, TimeInForce, v1, wireInt,
  type ExecutionReportInit, type OrderInfoInit,
} from '../protocol/messages.js'
import { dayTrades, foldOrders, positionInfos, type DayReports } from '../lane/account-queries.js'
import { QUERY_WINDOW_MS, QueryThrottle } from '../lane/query-throttle.js'
import type { WorkingOrder } from '../lane/client-session.js'

const RUNS = Number(process.env.FC_RUNS ?? 200)
const ACCOUNT = 'acct-a'

/** The interface over a plain list: what a report log holds for one account, in report_seq order. */
function heldReports (byAccount: Record<string, ExecutionReportInit[]>): DayReports {
  return {
    forEachReport (account, visit) {
      for (const report of byAccount[account] ?? []) visit(report)
    },
    lastReportSeq (account) {
      const list = byAccount[account] ?? []
      return list.length === 0 ? 0 : wireInt(list[list.length - 1]!.reportSeq)
    },
  }
}

function workingOrder (fields: Partial<WorkingOrder> & { clientOrderId: number }): WorkingOrder {
  return {
    linkOrderId: fields.clientOrderId + 1000,
    linkSeq: 1,
    cancelLinkSeq: 0,
    cancelOwed: false,
    session: null,
    account: ACCOUNT,
    risk: { lane: 1, app: 0, account: 0 },
    instrument: 'rb2605',
    side: Side.BUY,
    price: 3200,
    quantityLots: 5,
    timeInForce: TimeInForce.GFD,
    offsetFlag: OffsetFlag.OFFSET_OPEN,
    hedgeFlag: HedgeFlag.HEDGE_SPECULATION,
    exchangeOrderId: 0,
    cumulativeLots: 0,
    leavesLots: 5,
    riskSlot: 0,
    instrumentRisk: null as unknown as InstrumentRisk,
    warning: null,
    receivedMs: 0,
    ...fields,
  }
}

// ---- the fold, against a model ------------------------------------------------

/** One step of a lane's day for one account. */
type Step =
  | { kind: 'enter', id: number, lots: number } // order entry sends an order: working, no report yet
  | { kind: 'refuse', id: number } // order entry refuses an order (the gateway's REJECTED report)
  | { kind: 'ack', pick: number }
  | { kind: 'fill', pick: number, lots: number }
  | { kind: 'cancel', pick: number }
  | { kind: 'exchange-reject', pick: number }

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('enter' as const), id: fc.integer({ min: 1, max: 4 }), lots: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ kind: fc.constant('refuse' as const), id: fc.integer({ min: 1, max: 4 }) }),
  fc.record({ kind: fc.constant('ack' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('fill' as const), pick: fc.nat(), lots: fc.integer({ min: 1, max: 6 }) }),
  fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('exchange-reject' as const), pick: fc.nat() }),
)

interface ModelOrder {
  id: number
  lots: number
  state: number
  cum: number
  lastReportSeq: number
  /** Index in the expected answer (orders in the order of their first report, then the unreported ones). */
  firstSeq: number
  working: WorkingOrder | null
}

/** Plays the steps as the lane would: the reports it produces, the orders still working, and what the answer must be. */
function play (steps: Step[]): { reports: ExecutionReportInit[], working: WorkingOrder[], expected: ModelOrder[], named: Map<number, ModelOrder> } {
  const reports: ExecutionReportInit[] = []
  const all: ModelOrder[] = []
  const named = new Map<number, ModelOrder>()
  let seq = 0
  let exchangeIds = 500
  const emit = (order: ModelOrder, execType: number, extra: ExecutionReportInit = {}): void => {
    seq++
    if (order.firstSeq === 0) order.firstSeq = seq
    order.lastReportSeq = seq
    reports.push({
      clientOrderId: order.id, execType, instrument: 'rb2605', side: Side.BUY, price: 3200, quantityLots: order.lots,
      cumulativeLots: order.cum, leavesLots: order.state === OrderState.ORDER_WORKING || order.state === OrderState.ORDER_PENDING ? order.lots - order.cum : 0,
      offsetFlag: OffsetFlag.OFFSET_OPEN, hedgeFlag: HedgeFlag.HEDGE_SPECULATION, reportSeq: seq, execId: `d-platform-${ACCOUNT}-${seq}`,
      exchangeOrderId: order.working?.exchangeOrderId ?? 0, transactTimeUs: 1_000_000 * seq, ...extra,
    })
  }
  const live = (): ModelOrder[] => all.filter((o) => o.working !== null)
  const finish = (order: ModelOrder, state: number): void => {
    order.state = state
    order.working = null
  }
  for (const step of steps) {
    if (step.kind === 'enter' || step.kind === 'refuse') {
      const current = named.get(step.id)
      const taken = current !== undefined && current.working !== null
      if (taken || step.kind === 'refuse') {
        // A refused order: one REJECTED report; a duplicate never takes the ID over.
        const refused: ModelOrder = { id: step.id, lots: 1, state: OrderState.ORDER_REJECTED, cum: 0, lastReportSeq: 0, firstSeq: 0, working: null }
        all.push(refused)
        emit(refused, ExecType.REJECTED, { reason: taken ? RejectReason.DUPLICATE_CLIENT_ORDER_ID : RejectReason.PRICE_OUTSIDE_BAND })
        if (!taken) named.set(step.id, refused)
        continue
      }
      const order: ModelOrder = { id: step.id, lots: step.lots, state: OrderState.ORDER_PENDING, cum: 0, lastReportSeq: 0, firstSeq: 0, working: null }
      order.working = workingOrder({ clientOrderId: step.id, linkOrderId: 10_000 + all.length, quantityLots: step.lots, leavesLots: step.lots, timeInForce: TimeInForce.FAK })
      all.push(order)
      named.set(step.id, order)
      continue
    }
    const candidates = live()
    if (candidates.length === 0) continue
    const order = candidates[step.pick % candidates.length]!
    const working = order.working!
    switch (step.kind) {
      case 'ack':
        if (working.exchangeOrderId !== 0) continue
        working.exchangeOrderId = ++exchangeIds
        order.state = OrderState.ORDER_WORKING
        emit(order, ExecType.ACK)
        break
      case 'fill': {
        if (working.exchangeOrderId === 0) continue
        const lots = Math.min(step.lots, order.lots - order.cum)
        order.cum += lots
        working.cumulativeLots = order.cum
        working.leavesLots = order.lots - order.cum
        const done = order.cum === order.lots
        if (done) finish(order, OrderState.ORDER_FILLED)
        emit(order, done ? ExecType.FILL : ExecType.PARTIAL_FILL, { lastLots: lots, lastPrice: 3200, tradeId: `T${seq + 1}`, exchangeOrderId: working.exchangeOrderId })
        break
      }
      case 'cancel':
        if (working.exchangeOrderId === 0) continue
        finish(order, OrderState.ORDER_CANCELLED)
        emit(order, ExecType.CANCELLED, { exchangeOrderId: working.exchangeOrderId })
        break
      case 'exchange-reject':
        if (working.exchangeOrderId !== 0) continue
        finish(order, OrderState.ORDER_REJECTED)
        emit(order, ExecType.REJECTED, { reason: RejectReason.EXCHANGE_REJECTED })
        break
    }
  }
  // Orders with a report in report order, then those without, in entry order.
  const expected = [...all.filter((o) => o.firstSeq !== 0).sort((a, b) => a.firstSeq - b.firstSeq), ...all.filter((o) => o.firstSeq === 0)]
  return { reports, working: all.flatMap((o) => o.working === null ? [] : [o.working]), expected, named }
}

const summary = (o: OrderInfoInit): unknown[] => [o.clientOrderId, o.state, o.cumulativeLots, o.leavesLots, o.lastReportSeq]
const modelSummary = (o: ModelOrder): unknown[] => [o.id, o.state, o.cum, o.working === null ? 0 : o.lots - o.cum, o.lastReportSeq]

t.test('the fold: every order of the day in its latest state, in the order of its first report', async (t) => {
  fc.assert(fc.property(fc.array(stepArb, { maxLength: 60 }), (steps) => {
    const { reports, working, expected, named } = play(steps)
    const fold = foldOrders(heldReports({ [ACCOUNT]: reports, other: reports }), working, ACCOUNT, '', 0)
    t.same(fold.orders.map(summary), expected.map(modelSummary))
    for (const [id, order] of named) {
      // The order status of an ID: the same fold, only that ID.
      const alone = foldOrders(heldReports({ [ACCOUNT]: reports }), working, ACCOUNT, '', id)
      t.same(summary(alone.named(id)!), modelSummary(order), `order status of ${id}`)
    }
    t.equal(foldOrders(heldReports({ [ACCOUNT]: reports }), working, ACCOUNT, 'cu2605', 0).orders.length, 0, 'another instrument: none')
  }), { numRuns: RUNS })
})

t.test('the fold: a working order carries its current quantities, flags and time in force', async (t) => {
  const reports = heldReports({
    [ACCOUNT]: [
      { clientOrderId: 7, execType: ExecType.ACK, instrument: 'rb2605', side: Side.SELL, price: 3300, quantityLots: 4, leavesLots: 4, exchangeOrderId: 91, reportSeq: 1, transactTimeUs: 11 },
      { clientOrderId: 8, execType: ExecType.REJECTED, reason: RejectReason.INSUFFICIENT_FUNDS, instrument: 'rb2605', side: Side.BUY, price: 3100, quantityLots: 2, reportSeq: 2, transactTimeUs: 12 },
    ],
  })
  const working = [
    workingOrder({ clientOrderId: 7, side: Side.SELL, price: 3300, quantityLots: 4, exchangeOrderId: 91, cumulativeLots: 1, leavesLots: 3, offsetFlag: OffsetFlag.OFFSET_CLOSE_TODAY, timeInForce: TimeInForce.GFD }),
    workingOrder({ clientOrderId: 9, quantityLots: 1, leavesLots: 1 }),
    workingOrder({ clientOrderId: 10, account: 'someone-else' }),
  ]
  const fold = foldOrders(reports, working, ACCOUNT, '', 0)
  t.same(fold.orders.map((o) => [o.clientOrderId, o.state, o.cumulativeLots, o.leavesLots, o.offsetFlag, o.timeInForce, o.reason, o.exchangeOrderId, o.lastReportSeq, o.updateTimeUs]), [
    [7, OrderState.ORDER_WORKING, 1, 3, OffsetFlag.OFFSET_CLOSE_TODAY, TimeInForce.GFD, 0, 91, 1, 11],
    [8, OrderState.ORDER_REJECTED, 0, 0, 0, 0, RejectReason.INSUFFICIENT_FUNDS, 0, 2, 12],
    [9, OrderState.ORDER_PENDING, 0, 1, OffsetFlag.OFFSET_OPEN, TimeInForce.GFD, 0, 0, 0, 0],
  ])
  t.equal(fold.named(10), undefined, 'another account\'s order is not this account\'s')
})

t.test('trades: one per report with lots traded, with its trade and exec IDs', async (t) => {
  const { reports } = play([
    { kind: 'enter', id: 1, lots: 5 }, { kind: 'ack', pick: 0 }, { kind: 'fill', pick: 0, lots: 2 },
    { kind: 'enter', id: 2, lots: 1 }, { kind: 'ack', pick: 1 }, { kind: 'fill', pick: 0, lots: 3 }, { kind: 'cancel', pick: 0 },
  ])
  const trades = dayTrades(heldReports({ [ACCOUNT]: reports }), ACCOUNT, '')
  t.same(trades.map((trade) => [trade.clientOrderId, trade.lots, trade.price, trade.tradeId, trade.execId, trade.reportSeq]), [
    [1, 2, 3200, 'T2', `d-platform-${ACCOUNT}-2`, 2],
    [1, 3, 3200, 'T4', `d-platform-${ACCOUNT}-4`, 4],
  ])
  t.same(dayTrades(heldReports({ [ACCOUNT]: reports }), ACCOUNT, 'cu2605'), [], 'instrument filter')
  t.same(dayTrades(heldReports({}), ACCOUNT, ''), [], 'nothing held: no trades')
})

// ---- the query throttle --------------------------------------------------------

t.test('the query throttle admits exactly `limit` in any sliding second', async (t) => {
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 12 }),
    fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 120 }),
    (limit, gaps) => {
      const throttle = new QueryThrottle()
      const admitted: number[] = []
      let now = 1_000_000
      for (const gap of gaps) {
        now += gap
        const inWindow = admitted.filter((at) => now - at < QUERY_WINDOW_MS).length
        const observed = throttle.admit(now, limit)
        if (inWindow < limit) {
          t.equal(observed, -1)
          admitted.push(now)
        } else {
          t.equal(observed, inWindow + 1, 'refused with the count the window holds plus this one')
        }
      }
    }), { numRuns: RUNS })
})

// ---- positions and funds from the shared risk state -----------------------------

t.test('positions and funds are read from the shared risk state of the account', async (t) => {
  const config = resolveConfig({ risk: { capacity: { accounts: 4, appIds: 4, instruments: 16, instrumentsPerAccount: 4, openOrdersPerAccount: 256, rateRingSize: 1024 } } })
  const control = createRiskControl(config)
  const account = control.accountIndex('demo-maker')!
  const engine = new RiskEngine(control.buffers, 1)
  const snapshots = new AccountSnapshots(engine)
  const ctx = { lane: 1, app: control.appIndex(DEMO_APP_ID)!, account }
  t.same(snapshots.positions(account), [], 'nothing traded: no positions')

  // What the risk engine keeps, written into its slots as another thread would.
  const rb = engine.instrumentRisk(v1.Instrument.create(DEFAULT_INSTRUMENTS.find((i) => i.symbol === 'rb2605')!))!
  const cu = engine.instrumentRisk(v1.Instrument.create(DEFAULT_INSTRUMENTS.find((i) => i.symbol !== 'rb2605')!))!
  const quiet = engine.instrumentRisk(v1.Instrument.create(DEFAULT_INSTRUMENTS.filter((i) => i.symbol !== 'rb2605')[1]!))!
  const { positions } = engine.views
  const slotAt = (instrument: InstrumentRisk): number => (account * 4 + engine.positionSlot(account, instrument.index)) * POSITION_FIELDS
  const r = slotAt(rb)
  positions[r + POSITION_BOOK + BOOK_LONG_TODAY] = 2
  positions[r + POSITION_BOOK + BOOK_LONG_YESTERDAY] = 5
  positions[r + POSITION_BOOK + BOOK_FROZEN + BOOK_LONG_YESTERDAY] = 3
  positions[r + POSITION_BOOK + BOOK_SHORT_YESTERDAY] = 1
  positions[r + POSITION_WORKING_OPEN_SHORT_LOTS] = 4
  positions[r + POSITION_DAILY_OPENED_LOTS] = 2
  slotAt(quiet) // a slot with nothing in it: not a position
  const c = slotAt(cu)
  positions[c + POSITION_BOOK + BOOK_SHORT_TODAY] = 6
  positions[c + POSITION_BOOK + BOOK_FROZEN + BOOK_SHORT_TODAY] = 6
  positions[c + POSITION_WORKING_OPEN_LONG_LOTS] = 1

  const read = snapshots.positions(account)
  t.same(read.map((p) => p.instrument), [rb.symbol, cu.symbol], 'the instruments with anything, in slot order')
  t.same(positionInfos(read[0]!), [
    { instrument: rb.symbol, direction: PositionDirection.DIRECTION_LONG, todayLots: 2, yesterdayLots: 5, frozenTodayLots: 0, frozenYesterdayLots: 3, workingOpenLots: 0, openedTodayLots: 2 },
    { instrument: rb.symbol, direction: PositionDirection.DIRECTION_SHORT, todayLots: 0, yesterdayLots: 1, frozenTodayLots: 0, frozenYesterdayLots: 0, workingOpenLots: 4, openedTodayLots: 2 },
  ])
  t.same(positionInfos(read[1]!).map((p) => [p.direction, p.todayLots, p.frozenTodayLots, p.workingOpenLots]), [
    [PositionDirection.DIRECTION_LONG, 0, 0, 1], [PositionDirection.DIRECTION_SHORT, 6, 6, 0],
  ])
  t.same(snapshots.positions(account, cu.symbol).map((p) => p.instrument), [cu.symbol], 'one instrument')
  t.same(snapshots.positions(account, 'nothing'), [], 'an instrument never traded')
  t.same(snapshots.positions(control.accountIndex('demo-taker')!), [], 'another account\'s positions are its own')

  // Funds: the resolved limit in fen, and what working orders reserve now.
  t.same(snapshots.funds(ctx), { fundsFen: unitsToFen(config.risk.limits.global.funds as number), reservedFen: 0 })
  engine.views.accountState[account * ACCOUNT_FIELDS + ACCOUNT_RESERVED_FEN] = 67_200
  t.same(snapshots.funds(ctx), { fundsFen: unitsToFen(config.risk.limits.global.funds as number), reservedFen: 67_200 }, 'what working orders reserve')
  control.setLimit({ kind: 'account', account: 'demo-maker' }, 'funds', 1151.12)
  t.equal(snapshots.funds(ctx).fundsFen, 115112, 'a live change applies at once, in whole fen')
  control.setLimit({ kind: 'account', account: 'demo-maker' }, 'funds', null)
  t.equal(snapshots.funds(ctx).fundsFen, Infinity, 'no limit')
})

t.test('lanes.<lane>.queriesPerSecond: 5 by default, 1 to 1000', async (t) => {
  const config = resolveConfig()
  t.same([config.lanes.terminal.queriesPerSecond, config.lanes.platform.queriesPerSecond, config.lanes.hft.queriesPerSecond], [5, 5, 5])
  t.equal(resolveConfig({ lanes: { hft: { queriesPerSecond: 1000 } } }).lanes.hft.queriesPerSecond, 1000)
  t.throws(() => resolveConfig({ lanes: { hft: { queriesPerSecond: 0 } } }), /lanes\.hft\.queriesPerSecond: must be at least 1/)
  t.throws(() => resolveConfig({ lanes: { platform: { queriesPerSecond: 1001 } } }), /lanes\.platform\.queriesPerSecond: must be at most 1000/)
  t.throws(() => resolveConfig({ lanes: { platform: { queriesPerSecond: 2.5 } } }), /must be a whole number/)
})
