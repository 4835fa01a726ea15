// Queries: a client asks the gateway for its positions, the day's orders,
// the day's trades, its funds, or one order's status (CTP's
// ReqQryInvestorPosition, ReqQryOrder, ReqQryTrade, ReqQryTradingAccount),
// and gets the answer from the gateway's own state, at once, in QueryReply
// pages of at most QUERY_PAGE_ENTRIES entries, the last with last = true.
//
//   QUERY_POSITIONS     account-wide, from the shared risk state under the
//                       account's lock (checks/account-snapshot.ts)
//   QUERY_FUNDS         account-wide, the same way
//   QUERY_ORDERS        this lane's orders of the account today: the day's
//                       execution reports folded per order (foldOrders),
//                       plus the working orders no report has named yet
//   QUERY_TRADES        every report of the day with lots traded
//   QUERY_ORDER_STATUS  one order, by the same fold
//
// The client edge charges the query throttle first (query-throttle.ts);
// this module only answers. Budgets: positions are at most two per
// instrument the account holds a slot for (risk.capacity.
// instrumentsPerAccount); orders and trades at most one per report the
// lane's report log holds (its own bound). Every answer is built and sent
// in one turn, so it sees one instant of the state.
import {
  ExecType, OrderState, PositionDirection, QueryKind, RejectReason, wireInt,
  type ClientEnvelopeInit, type OrderInfoInit, type PositionInfoInit, type Query, type TradeInfoInit,
} from '../protocol/messages.js'
import type { gatehouse } from '../protocol/generated/gatehouse.js'
import type { AccountSnapshots, PositionSnapshot } from '../checks/account-snapshot.js'
import type { ClientSession, WorkingOrder } from './client-session.js'
import type { WorkingOrders } from './working-orders.js'
import type { LaneMetrics } from './lane-metrics.js'

/**
 * The trading day's execution reports of each account on this lane, in
 * report_seq order, as the lane's report log holds them (lane/report-log.ts
 * defines and implements it; its own budget bounds what it holds).
 */
export type { DayReports } from './report-log.js'
import type { DayReports } from './report-log.js'

/** A lane without a report log: no report is held, so orders and trades show only what is working. */
export const NO_DAY_REPORTS: DayReports = Object.freeze({
  forEachReport (): void {},
  lastReportSeq (): number { return 0 },
})

/** Entries per QueryReply page at most (the .proto's promise). */
export const QUERY_PAGE_ENTRIES = 200

/**
 * funds_fen (and available_fen) of an account without a funds limit: the
 * largest integer the protocol carries (2^53 - 1). A limit so large its
 * fen would pass it is sent as it, too.
 */
export const NO_FUNDS_LIMIT_FEN = Number.MAX_SAFE_INTEGER

type Report = gatehouse.v1.ExecutionReport.$Properties

/** The OrderState an execution report leaves its order in. */
export function orderStateAfter (execType: number): number {
  switch (execType) {
    case ExecType.ACK:
    case ExecType.PARTIAL_FILL:
      return OrderState.ORDER_WORKING
    case ExecType.FILL:
      return OrderState.ORDER_FILLED
    case ExecType.CANCELLED:
      return OrderState.ORDER_CANCELLED
    case ExecType.REJECTED:
      return OrderState.ORDER_REJECTED
    default:
      return OrderState.ORDER_STATE_UNSPECIFIED
  }
}

function isDone (state: number | null | undefined): boolean {
  return state === OrderState.ORDER_FILLED || state === OrderState.ORDER_CANCELLED || state === OrderState.ORDER_REJECTED
}

/**
 * The day's orders of one account on this lane, each in its latest state,
 * in the order of their first report (orders no report names yet last, in
 * entry order). Built by report() over the reports in report_seq order,
 * then working() over the lifecycle's working orders.
 *
 * A client_order_id names one order at a time: a report for an ID whose
 * order is done starts a new order (a later session may use the ID
 * again). A DUPLICATE_CLIENT_ORDER_ID rejection refused a second order
 * with an ID already taken: it is an order of its own, rejected, and never
 * what the ID names (an order status names the order that has the ID).
 */
export class OrderFold {
  readonly orders: OrderInfoInit[] = []
  /** The order each client_order_id names now. */
  private readonly byId = new Map<number, OrderInfoInit>()

  /** The order a client_order_id names, if any. */
  named (clientOrderId: number): OrderInfoInit | undefined {
    return this.byId.get(clientOrderId)
  }

  report (report: Report): void {
    const clientOrderId = wireInt(report.clientOrderId)
    const execType = report.execType ?? ExecType.EXEC_TYPE_UNSPECIFIED
    const reason = report.reason ?? RejectReason.REASON_UNSPECIFIED
    const duplicate = execType === ExecType.REJECTED && reason === RejectReason.DUPLICATE_CLIENT_ORDER_ID
    let order = this.byId.get(clientOrderId)
    if (order === undefined || isDone(order.state) || duplicate) {
      order = {
        clientOrderId,
        instrument: report.instrument ?? '',
        side: report.side ?? 0,
        offsetFlag: report.offsetFlag ?? 0,
        hedgeFlag: report.hedgeFlag ?? 0,
        price: wireInt(report.price),
        quantityLots: report.quantityLots ?? 0,
        timeInForce: report.timeInForce ?? 0,
        state: OrderState.ORDER_PENDING,
        cumulativeLots: 0,
        leavesLots: report.quantityLots ?? 0,
        exchangeOrderId: 0,
        reason: RejectReason.REASON_UNSPECIFIED,
        lastReportSeq: 0,
        updateTimeUs: 0,
      }
      this.orders.push(order)
      if (!duplicate) this.byId.set(clientOrderId, order)
    }
    const state = orderStateAfter(execType)
    if (state !== OrderState.ORDER_STATE_UNSPECIFIED) order.state = state
    order.cumulativeLots = report.cumulativeLots ?? 0
    order.leavesLots = report.leavesLots ?? 0
    const exchangeOrderId = wireInt(report.exchangeOrderId)
    if (exchangeOrderId !== 0) order.exchangeOrderId = exchangeOrderId
    if (report.offsetFlag) order.offsetFlag = report.offsetFlag
    if (report.hedgeFlag) order.hedgeFlag = report.hedgeFlag
    if (state === OrderState.ORDER_REJECTED || state === OrderState.ORDER_CANCELLED) order.reason = reason
    order.lastReportSeq = wireInt(report.reportSeq)
    order.updateTimeUs = wireInt(report.transactTimeUs)
  }

  /**
   * A working order of the lifecycle: its current quantities and flags
   * over what its reports said; an order no report names yet is added,
   * PENDING until the exchange has acknowledged it.
   */
  working (working: WorkingOrder): void {
    let order = this.byId.get(working.clientOrderId)
    if (order === undefined || isDone(order.state)) {
      order = {
        clientOrderId: working.clientOrderId,
        instrument: working.instrument,
        side: working.side,
        price: working.price,
        quantityLots: working.quantityLots,
        state: OrderState.ORDER_PENDING,
        exchangeOrderId: 0,
        reason: RejectReason.REASON_UNSPECIFIED,
        lastReportSeq: 0,
        updateTimeUs: 0,
      }
      this.orders.push(order)
      this.byId.set(working.clientOrderId, order)
    }
    order.offsetFlag = working.offsetFlag
    order.hedgeFlag = working.hedgeFlag
    order.timeInForce = working.timeInForce
    order.cumulativeLots = working.cumulativeLots
    order.leavesLots = working.leavesLots
    if (working.exchangeOrderId !== 0) order.exchangeOrderId = working.exchangeOrderId
    order.state = order.exchangeOrderId !== 0 || order.state === OrderState.ORDER_WORKING ? OrderState.ORDER_WORKING : OrderState.ORDER_PENDING
  }
}

/**
 * The one fold of reports into orders, for QUERY_ORDERS and
 * QUERY_ORDER_STATUS: the account's day on this lane, optionally only one
 * instrument ('' for all) or one client_order_id (0 for all).
 */
export function foldOrders (reports: DayReports, working: Iterable<WorkingOrder>, account: string, instrument: string, clientOrderId: number): OrderFold {
  const fold = new OrderFold()
  reports.forEachReport(account, (report) => {
    if (clientOrderId !== 0 && wireInt(report.clientOrderId) !== clientOrderId) return
    if (instrument !== '' && report.instrument !== instrument) return
    fold.report(report)
  })
  for (const order of working) {
    if (order.account !== account) continue
    if (clientOrderId !== 0 && order.clientOrderId !== clientOrderId) continue
    if (instrument !== '' && order.instrument !== instrument) continue
    fold.working(order)
  }
  return fold
}

/** The account's fills of the day on this lane: one per report with lots traded, in report_seq order. */
export function dayTrades (reports: DayReports, account: string, instrument: string): TradeInfoInit[] {
  const trades: TradeInfoInit[] = []
  reports.forEachReport(account, (report) => {
    if (!((report.lastLots ?? 0) > 0)) return
    if (instrument !== '' && report.instrument !== instrument) return
    trades.push({
      tradeId: report.tradeId ?? '',
      execId: report.execId ?? '',
      clientOrderId: wireInt(report.clientOrderId),
      exchangeOrderId: wireInt(report.exchangeOrderId),
      instrument: report.instrument ?? '',
      side: report.side ?? 0,
      offsetFlag: report.offsetFlag ?? 0,
      hedgeFlag: report.hedgeFlag ?? 0,
      price: wireInt(report.lastPrice),
      lots: report.lastLots ?? 0,
      transactTimeUs: wireInt(report.transactTimeUs),
      reportSeq: wireInt(report.reportSeq),
    })
  })
  return trades
}

/** Both sides of one instrument's position, long first. */
export function positionInfos (position: PositionSnapshot): [PositionInfoInit, PositionInfoInit] {
  return [
    {
      instrument: position.instrument,
      direction: PositionDirection.DIRECTION_LONG,
      todayLots: position.longToday,
      yesterdayLots: position.longYesterday,
      frozenTodayLots: position.longTodayFrozen,
      frozenYesterdayLots: position.longYesterdayFrozen,
      workingOpenLots: position.workingOpenLong,
      openedTodayLots: position.openedToday,
    },
    {
      instrument: position.instrument,
      direction: PositionDirection.DIRECTION_SHORT,
      todayLots: position.shortToday,
      yesterdayLots: position.shortYesterday,
      frozenTodayLots: position.shortTodayFrozen,
      frozenYesterdayLots: position.shortYesterdayFrozen,
      workingOpenLots: position.workingOpenShort,
      openedTodayLots: position.openedToday,
    },
  ]
}

/** What answering needs of the rest of the lane. */
export interface QueryPorts {
  snapshots: AccountSnapshots
  /** The lane's working orders (the lifecycle's slot table). */
  workingOrders: WorkingOrders
  /** The lane's report log now (read at each query: recovery may hand the lifecycle a rebuilt one). */
  dayReports: () => DayReports
  /** Numbers, journals and queues one message to the session (client-edge.ts). */
  send: (session: ClientSession, envelope: ClientEnvelopeInit) => boolean
  metrics: LaneMetrics
}

type PagedField = 'positions' | 'orders' | 'trades'

/** A DayReports that counts the held reports a query reads: what the session's scan budget is charged. */
class CountedReports implements DayReports {
  visited = 0

  constructor (private readonly inner: DayReports) {}

  forEachReport (account: string, visit: (report: gatehouse.v1.ExecutionReport.$Properties) => void): void {
    this.inner.forEachReport(account, (report) => {
      this.visited++
      visit(report)
    })
  }

  lastReportSeq (account: string): number {
    return this.inner.lastReportSeq(account)
  }
}

export class AccountQueries {
  constructor (private readonly ports: QueryPorts) {}

  /**
   * Answers a logged-on session's query, already charged to its query
   * throttle. Returns how many held reports it read (the session's scan
   * budget, lanes.<lane>.queryScanReportsPerSecond, is charged that).
   */
  answer (session: ClientSession, query: Query): number {
    const reports = new CountedReports(this.ports.dayReports())
    this.answerWith(session, query, reports)
    return reports.visited
  }

  private answerWith (session: ClientSession, query: Query, reports: DayReports): void {
    const requestId = wireInt(query.requestId)
    const kind = query.kind
    const account = session.account!
    const instrument = query.instrument
    const { workingOrders } = this.ports
    switch (kind) {
      case QueryKind.QUERY_POSITIONS: {
        const entries: PositionInfoInit[] = []
        for (const position of this.ports.snapshots.positions(session.risk.account, instrument)) entries.push(...positionInfos(position))
        this.sendPages(session, requestId, kind, 'positions', entries)
        return
      }
      case QueryKind.QUERY_ORDERS:
        this.sendPages(session, requestId, kind, 'orders', foldOrders(reports, workingOrders.ofAccount(account), account, instrument, 0).orders)
        return
      case QueryKind.QUERY_TRADES:
        this.sendPages(session, requestId, kind, 'trades', dayTrades(reports, account, instrument))
        return
      case QueryKind.QUERY_FUNDS:
        this.answerFunds(session, requestId)
        return
      case QueryKind.QUERY_ORDER_STATUS: {
        const clientOrderId = wireInt(query.clientOrderId)
        if (clientOrderId === 0) {
          this.refuse(session, requestId, kind, RejectReason.INVALID_FIELD, 'query.client_order_id: QUERY_ORDER_STATUS needs the client_order_id of the order asked about')
          return
        }
        const order = foldOrders(reports, workingOrders.ofAccount(account), account, '', clientOrderId).named(clientOrderId)
        if (order === undefined) {
          this.refuse(session, requestId, kind, RejectReason.UNKNOWN_ORDER, `no order with client_order_id ${clientOrderId} of account ${account} on this lane today`)
          return
        }
        this.ports.send(session, { queryReply: { requestId, kind, last: true, orders: [order] } })
        return
      }
      default:
        this.refuse(session, requestId, kind, RejectReason.INVALID_FIELD,
          'query.kind: say what is asked: QUERY_POSITIONS, QUERY_ORDERS, QUERY_TRADES, QUERY_FUNDS or QUERY_ORDER_STATUS')
    }
  }

  private answerFunds (session: ClientSession, requestId: number): void {
    const { fundsFen, reservedFen } = this.ports.snapshots.funds(session.risk)
    const limited = fundsFen < NO_FUNDS_LIMIT_FEN
    this.ports.send(session, {
      queryReply: {
        requestId,
        kind: QueryKind.QUERY_FUNDS,
        last: true,
        text: limited ? '' : `the account has no funds limit: funds_fen and available_fen are ${NO_FUNDS_LIMIT_FEN} (2^53 - 1)`,
        funds: {
          fundsFen: limited ? fundsFen : NO_FUNDS_LIMIT_FEN,
          reservedFen,
          availableFen: limited ? fundsFen - reservedFen : NO_FUNDS_LIMIT_FEN,
        },
      },
    })
  }

  /** The entries in pages of QUERY_PAGE_ENTRIES, the last marked; an empty answer is one empty last page. */
  private sendPages<T> (session: ClientSession, requestId: number, kind: number, field: PagedField, entries: T[]): void {
    let from = 0
    do {
      const to = Math.min(from + QUERY_PAGE_ENTRIES, entries.length)
      const sent = this.ports.send(session, { queryReply: { requestId, kind, last: to === entries.length, [field]: entries.slice(from, to) } })
      if (!sent) return
      from = to
    } while (from < entries.length)
  }

  /** A query not answered: one last page saying why, counted as a reject. */
  private refuse (session: ClientSession, requestId: number, kind: number, reason: number, text: string): void {
    this.ports.metrics.reject(reason)
    this.ports.send(session, { queryReply: { requestId, kind, last: true, reason, text } })
  }
}
