// The working-order state machine of one lane: the one place an order's
// life after the pre-trade checks is written. The live lane drives it from
// its sockets, start-up recovery (lane/recovery.ts) from the lane's
// journal, and what-if replay from a past day's journal; all three make
// the same calls in the same order, so they cannot drift apart.
//
// How to drive it: construct one per lane with the lane's RiskEngine and a
// LifecyclePort, then feed it events as they happen (or as the journal
// recorded them):
//
//   adopt(recovered)        first, at start: what recovery rebuilt
//   linkUp(info)            the exchange link logged on (trading day, reference
//                           data, next_expected_seq): lost orders are rejected,
//                           lost and owed cancels are (re)sent
//   linkDown()              the link is gone; nothing is sent until linkUp
//   instrumentUpdate(i)     reference data changed
//   orderSent(...)          order entry (lane/order-entry.ts) checked, reserved
//                           and sent a new order with its link seq: it gets
//                           a slot in the working-order table
//   cancel(slot, s, owe)    send a cancel on the link (client, kill switch,
//                           self-match, cancel-on-disconnect)
//   cancelSent(id, seq)     a cancel went out that the lifecycle did not send
//                           itself this run (recovery feeds journaled cancels)
//   report(report)          an exchange execution report, deduplicated
//   sessionLoggedOn(s)      a client session logged on: it takes over the
//                           account's orders no session owns
//   sessionClosed(s, cod)   a session closed: cancel-on-disconnect, its orders
//                           wait for the account's next session
//
// Outputs go through the LifecyclePort (client messages: execution
// reports, rejects) and the ExchangeLinkPort (cancels). Every execution
// report, the order entry's own rejects included, goes out through
// deliverReport: numbered in the lane's ReportLog (report-log.ts:
// report_seq, exec_id), sent to the owning session or, with none, held
// for a resend (LifecyclePort.holdReport), journaled either way. Ports
// that send nothing (SILENT_LINK, a client port that returns false, no
// ReportLog) are what recovery and replay use: what the live lane sent is
// in the journal and is fed back as events (cancelSent, client seqs).
//
// Working orders live in a slot table (working-orders.ts): typed-array
// columns, an order is a slot index, nothing is allocated per order. Its
// bound is the lane's: the shared order tables' capacity (accounts ×
// openOrdersPerAccount, which no lane can exceed with the risk checks
// passing) or LANE_MAX_WORKING_ORDERS, whichever is lower; order entry
// refuses new orders at it.
//
// No sockets, no uWebSockets.js, no worker-thread globals: a CLI tool can
// import this module.
import {
  ExecType, RejectReason, TimeInForce, reasonName, wireInt,
  type ClientEnvelopeInit, type ExecutionReportInit, type Instrument, type LinkExecutionReport,
} from '../protocol/messages.js'
import type { gatehouse } from '../protocol/generated/gatehouse.js'
import { accountNameAt, symbolAt, type CarriedPosition, type InstrumentRisk, type RiskContext, type RiskEngine, type RiskVerdict } from '../checks/risk-engine.js'
import { EXCHANGES, INSTRUMENT_CTL_EXCHANGE } from '../checks/risk-layout.js'
import type { CarriedPositionEntry } from '../journal/gateway-records.js'
import type { KillScope } from '../checks/risk-control.js'
import type { LaneMetrics } from './lane-metrics.js'
import type { ClientSession, WorkingOrder } from './client-session.js'
import { LANE_MAX_WORKING_ORDERS, NO_SLOT, WorkingOrders } from './working-orders.js'
import type { ExchangeLinkPort } from './exchange-link-port.js'
import type { PlainDayReports, ReportLog } from './report-log.js'

/** An instrument's reference data with what the risk engine derived from it. */
export interface TradedInstrument {
  instrument: Instrument
  risk: InstrumentRisk
}

/** Where an account's last closed session on the lane left off (LogonReply.last_client_seq, the gateway's seq). */
export interface AccountSeqs {
  outSeq: number
  lastClientSeq: number
}

/** What the exchange said when the link logged on. */
export interface LinkUpInfo {
  tradingDay: string
  environment: string
  instruments: Instrument[]
  /** The first of the gateway's link seqs the exchange has not seen. */
  nextExpectedSeq: number
}

/** A monitor crossed its warning level: the alert ops receive. */
export interface MonitorAlert {
  account: string
  instrument: string
  /** RejectReason the monitor blocks with, e.g. CANCEL_LIMIT. */
  monitor: number
  observed: number
  warningLevel: number
  blockingLevel: number
}

/** What recovery hands the lifecycle of a lane that starts (OrderLifecycle.adopt). */
export interface RecoveredLifecycle {
  tradingDay: string | null
  environment: string
  instruments: Instrument[]
  orders: WorkingOrder[]
  accountSeqs: ReadonlyMap<string, AccountSeqs>
  /** The trading day's execution reports as the journal has them (report-log.ts); absent: none. */
  reports?: PlainDayReports | null
}

/** Where the lifecycle's outputs go. */
export interface LifecyclePort {
  /** Numbers, journals and queues one message to a client session; false when it is gone (or nothing is sent, in recovery). */
  sendToClient (session: ClientSession, envelope: ClientEnvelopeInit): boolean
  /**
   * Journals an execution report (already numbered) of `account` that no
   * session took: it is held for a resend (report-log.ts).
   */
  holdReport (account: string, envelope: ClientEnvelopeInit): void
  /** A monitor reached its warning level (once per crossing). */
  monitorAlert (alert: MonitorAlert): void
  /** An order's first report was queued: its round trip, from receivedMs (performance.now()), ends at the flush. */
  firstReportQueued (receivedMs: number): void
}

/** The lane's bound on working orders for a risk engine's capacity (see the head of this file). */
export function laneWorkingOrderBound (risk: RiskEngine): number {
  const capacity = risk.views.capacity
  return Math.min(capacity.accounts * capacity.openOrdersPerAccount, LANE_MAX_WORKING_ORDERS)
}

export class OrderLifecycle {
  /** Working orders, as slots of one table; found by link order ID (slotOf). */
  readonly orders: WorkingOrders
  /**
   * Per account, where its last closed session on this lane left off: the
   * next session continues the gateway's seq and learns the client's last.
   */
  readonly accountSeqs = new Map<string, AccountSeqs>()
  readonly instruments = new Map<string, TradedInstrument>()
  tradingDay = ''
  exchangeEnvironment = ''
  /** The link is logged on: cancels go out now rather than being owed until the next linkUp. */
  linkIsUp = false
  /** Positions the last linkUp carried into a new trading day, when it was this lane that rolled the shared day. */
  private readonly carried: CarriedPosition[] = []

  constructor (
    private readonly risk: RiskEngine,
    /** Reused for every risk call: the report path allocates nothing per order. */
    readonly verdict: RiskVerdict,
    private readonly metrics: LaneMetrics,
    private readonly port: LifecyclePort,
    /** The exchange link the cancels go out on (SILENT_LINK in recovery and replay). */
    private readonly link: ExchangeLinkPort,
    /**
     * Numbers and holds the lane's execution reports; null where nothing
     * is sent (recovery and replay: what the live lane numbered is in the
     * journal, and recovery rebuilds the log from there).
     */
    readonly reports: ReportLog | null = null,
    /** The most orders working at once (laneWorkingOrderBound unless a test sets a smaller one). */
    maxWorkingOrders = laneWorkingOrderBound(risk),
  ) {
    this.orders = new WorkingOrders(maxWorkingOrders)
  }

  /**
   * Takes over what recovery rebuilt (lane/recovery.ts), before any event:
   * the orders come owned by no session, those owed a cancel marked.
   * `instruments` may be plain data handed between threads: each is made
   * a message again by `asInstrument`, so unset fields read as defaults.
   */
  adopt (recovered: RecoveredLifecycle, asInstrument: (plain: Instrument) => Instrument = (i) => i): void {
    if (recovered.tradingDay !== null) this.tradingDay = recovered.tradingDay
    this.exchangeEnvironment = recovered.environment
    for (const instrument of recovered.instruments) this.instrumentUpdate(asInstrument(instrument))
    for (const order of recovered.orders) {
      // Recovery booked them in a table of the same bound: more cannot come.
      if (this.orders.openFrom(order) === NO_SLOT) throw new Error(`recovered working orders exceed the lane's bound of ${this.orders.maxSlots}`)
    }
    for (const [account, seqs] of recovered.accountSeqs) this.accountSeqs.set(account, seqs)
    if (this.reports !== null) {
      if (recovered.reports != null) this.reports.adopt(recovered.reports)
      this.reports.startDay(this.tradingDay)
    }
  }

  // ---- the exchange link ----------------------------------------------

  /**
   * The link logged on. A new trading day clears the daily counters (the
   * first lane to see it clears them for all). Orders sent at or after the
   * exchange's next expected seq were lost with the old connection: they
   * never reached the exchange, so they are not working and their clients
   * are told. Cancels sent at or after it were lost too: they are sent
   * again, as are the cancels owed while the link was down.
   *
   * True when this call rolled the shared trading day (positions became
   * yesterday's): the live lane then journals carriedPositions().
   */
  linkUp (info: LinkUpInfo): boolean {
    this.linkIsUp = true
    this.tradingDay = info.tradingDay
    // A new day numbers reports from 1 again, the lost orders' rejects below included.
    this.reports?.startDay(info.tradingDay)
    this.exchangeEnvironment = info.environment
    this.carried.length = 0
    const rolled = this.risk.rollTradingDay(Number(info.tradingDay), this.carried)
    this.instruments.clear()
    for (const instrument of info.instruments) this.instrumentUpdate(instrument)
    const o = this.orders
    for (let slot = o.first(); slot !== NO_SLOT;) {
      // Read before the slot may be freed below.
      const next = o.nextOf(slot)
      if (o.exchangeOrderId[slot] === 0 && o.linkSeq[slot]! >= info.nextExpectedSeq) {
        const session = o.session[slot]!
        const account = o.accountName(slot)
        const envelope = this.reportFor(slot, ExecType.REJECTED, RejectReason.EXCHANGE_UNAVAILABLE,
          'the exchange link failed before the order reached the exchange; it is not working', 0, 0, Date.now() * 1000, '', null)
        this.finishOrder(slot, false)
        this.metrics.reject(RejectReason.EXCHANGE_UNAVAILABLE)
        this.deliverReport(account, session, envelope)
      } else {
        if (o.cancelLinkSeq[slot] !== 0 && o.cancelLinkSeq[slot]! >= info.nextExpectedSeq) o.setCancelOwed(slot, true)
        if (o.cancelOwed(slot)) this.resendCancel(slot)
      }
      slot = next
    }
    return rolled
  }

  /** The positions the last linkUp that rolled the day carried into it, by account name and symbol, as the lane journals them. */
  carriedPositions (): CarriedPositionEntry[] {
    const views = this.risk.views
    return this.carried.map((c) => ({
      account: accountNameAt(views, c.account),
      instrument: symbolAt(views, c.instrument),
      exchange: EXCHANGES[Atomics.load(views.control, views.instrumentCtl(c.instrument) + INSTRUMENT_CTL_EXCHANGE)] ?? '',
      longYesterdayLots: c.longYesterdayLots,
      shortYesterdayLots: c.shortYesterdayLots,
    }))
  }

  linkDown (): void {
    this.linkIsUp = false
  }

  instrumentUpdate (instrument: Instrument): void {
    const risk = this.risk.instrumentRisk(instrument)
    // Past the shared table's capacity an instrument stays unknown here,
    // so its orders get UNKNOWN_INSTRUMENT rather than unchecked limits.
    if (risk !== null) this.instruments.set(instrument.symbol, { instrument, risk })
  }

  // ---- orders and cancels -----------------------------------------------

  /**
   * Order entry sent a new order (its reservation is booked, its link seq
   * known): it is working. Returns its slot, NO_SLOT when the table is at
   * its bound (order entry checks `orders.full` before it checks an order,
   * so only recovery can meet that).
   */
  orderSent (linkOrderId: number, linkSeq: number, session: ClientSession | null, account: string, risk: RiskContext,
    clientOrderId: number, instrumentRisk: InstrumentRisk, side: number, price: number, quantityLots: number,
    timeInForce: number, offsetFlag: number, hedgeFlag: number, riskSlot: number,
    warning: gatehouse.v1.MonitorWarning.$Properties | null, receivedMs: number): number {
    const slot = this.orders.open(linkOrderId, linkSeq, session, account, risk, clientOrderId, instrumentRisk, side, price, quantityLots,
      timeInForce, offsetFlag, hedgeFlag, riskSlot, warning, receivedMs)
    if (slot !== NO_SLOT && session !== null) session.openOrders.set(clientOrderId, slot)
    return slot
  }

  /**
   * Sends a cancel for a working order on behalf of a session (null: the
   * gateway's own, e.g. at restart). Returns the link seq, 0 when the link
   * is down; then, if `oweIfDown`, the cancel is owed and goes out at the
   * next linkUp (a client's own cancel is not: the client is told to retry).
   */
  cancel (slot: number, session: ClientSession | null, oweIfDown: boolean): number {
    const seq = this.link.send({ cancel: { orderId: this.orders.linkOrderId[slot]! } }, session?.journal ?? null)
    if (seq !== 0 || oweIfDown) this.markCancel(slot, seq)
    return seq
  }

  /**
   * A cancel for the order went out with link seq `linkSeq` (0: it could
   * not go and is owed). Kept until the exchange answers, so that a cancel
   * the link lost before the exchange got it goes out again at linkUp.
   * Recovery feeds the journaled cancels here.
   */
  cancelSent (linkOrderId: number, linkSeq: number): void {
    const slot = this.orders.slotOf(linkOrderId)
    if (slot !== NO_SLOT) this.markCancel(slot, linkSeq)
  }

  private markCancel (slot: number, linkSeq: number): void {
    const o = this.orders
    if (linkSeq === 0) {
      o.setCancelOwed(slot, true)
    } else {
      o.cancelLinkSeq[slot] = linkSeq
      o.setCancelOwed(slot, false)
    }
  }

  /**
   * A lost or owed cancel at linkUp: sent (again) as the gateway's own
   * message, as the cancels of a close are (no client action counts for
   * it); still owed if the link is gone again.
   */
  private resendCancel (slot: number): void {
    this.orders.cancelLinkSeq[slot] = 0
    this.cancel(slot, null, true)
  }

  /**
   * Kill switch with mass-cancel: cancels every working order of this lane
   * in the scope. Returns how many cancels went out.
   */
  massCancel (scope: KillScope, laneName: string): number {
    let sent = 0
    const o = this.orders
    for (let slot = o.first(); slot !== NO_SLOT; slot = o.nextOf(slot)) {
      const inScope = scope.kind === 'global' ||
        (scope.kind === 'lane' && scope.lane === laneName) ||
        (scope.kind === 'account' && scope.account === o.accountName(slot)) ||
        (scope.kind === 'instrument' && scope.instrument === o.symbol(slot))
      if (inScope && this.cancel(slot, o.session[slot]!, false) !== 0) sent++
    }
    return sent
  }

  /** An execution report from the exchange (in exchange seq order, duplicates removed). */
  report (report: LinkExecutionReport): void {
    const o = this.orders
    const slot = o.slotOf(wireInt(report.orderId))
    // Reports for orders this lane never sent have no session to go to.
    if (slot === NO_SLOT) return
    const session = o.session[slot]!
    if (report.cancelRejected) {
      // The order is still working and no cancel is on its way any more.
      o.cancelLinkSeq[slot] = 0
      o.setCancelOwed(slot, false)
      this.metrics.reject(report.reason || RejectReason.UNKNOWN_ORDER)
      if (session !== null) {
        this.port.sendToClient(session, {
          reject: {
            reason: report.reason || RejectReason.UNKNOWN_ORDER,
            text: `exchange refused the cancel: ${report.text}`,
            clientOrderId: o.clientOrderId[slot]!,
          },
        })
      }
      return
    }
    const execType = report.execType
    if (report.exchangeOrderId !== 0) o.exchangeOrderId[slot] = wireInt(report.exchangeOrderId)
    if (execType === ExecType.PARTIAL_FILL || execType === ExecType.FILL) {
      o.cumulativeLots[slot] = report.cumulativeLots
      o.leavesLots[slot] = report.leavesLots
      if (report.lastLots > 0) this.risk.onFill(o.riskAccount[slot]!, o.riskSlot[slot]!, report.lastLots)
    } else if (execType === ExecType.CANCELLED || execType === ExecType.REJECTED) {
      o.leavesLots[slot] = 0
      if (execType === ExecType.REJECTED) this.metrics.reject(report.reason)
    }
    const warning = o.warning[slot]!
    o.warning[slot] = null
    // The first report from the exchange ends the order's round trip.
    const receivedMs = o.receivedMs[slot]!
    o.receivedMs[slot] = 0
    const account = o.accountName(slot)
    const envelope = this.reportFor(slot, execType, report.reason, report.text,
      wireInt(report.lastPrice), report.lastLots, wireInt(report.transactTimeUs),
      // The exchange's trade ID belongs to fills only.
      execType === ExecType.PARTIAL_FILL || execType === ExecType.FILL ? report.tradeId ?? '' : '',
      warning)
    if (execType === ExecType.FILL || execType === ExecType.CANCELLED || execType === ExecType.REJECTED) {
      const instrumentRisk = o.instrumentRisk(slot)
      this.finishOrder(slot, execType === ExecType.CANCELLED)
      // The monitors as the release left them (the lifecycle's verdict).
      if (warning === null) envelope.executionReport!.warning = this.takeWarning(account, instrumentRisk)
    }
    const sent = this.deliverReport(account, session, envelope)
    if (sent && receivedMs !== 0) this.port.firstReportQueued(receivedMs)
  }

  /** The order is done: off the books here, and its reservation released in the shared state (a cancel counts for the monitors). Frees its slot. */
  finishOrder (slot: number, cancelled: boolean): void {
    const o = this.orders
    o.session[slot]?.openOrders.delete(o.clientOrderId[slot]!)
    this.risk.onOrderDone(o.riskContext(slot), o.riskSlot[slot]!, o.instrumentRisk(slot), cancelled, this.verdict)
    o.remove(slot)
  }

  // ---- client sessions ----------------------------------------------------

  /**
   * A session of `session.account` logged on: it continues the gateway's
   * seq where the account's last session left off and takes over the
   * account's working orders that no session owns. Returns how many it
   * took over and the client's last seq (LogonReply fields).
   */
  sessionLoggedOn (session: ClientSession): { resumedOrders: number, lastClientSeq: number } {
    const previous = this.accountSeqs.get(session.account!)
    if (previous !== undefined && previous.outSeq > session.outSeq) session.outSeq = previous.outSeq
    let resumedOrders = 0
    const o = this.orders
    for (let slot = o.first(); slot !== NO_SLOT; slot = o.nextOf(slot)) {
      const clientOrderId = o.clientOrderId[slot]!
      if (o.session[slot] !== null || o.accountName(slot) !== session.account || session.openOrders.has(clientOrderId)) continue
      o.session[slot] = session
      session.openOrders.set(clientOrderId, slot)
      resumedOrders++
    }
    return { resumedOrders, lastClientSeq: previous?.lastClientSeq ?? 0 }
  }

  /**
   * A logged-on session closed (or, at restart, died with the last run).
   * With cancel-on-disconnect its working orders are cancelled, those with
   * a cancel already on its way excepted; they stay at the exchange
   * otherwise. Either way they wait for the account's next session on
   * this lane, which takes them over.
   */
  sessionClosed (session: ClientSession, cancelOnDisconnect: boolean): void {
    // Every entry of an open session's map is a row it owns (finishOrder
    // removes them, sessionLoggedOn adds only rows that no session owns);
    // the owner check keeps a session closed twice from touching rows
    // given to other orders since.
    const o = this.orders
    if (cancelOnDisconnect) {
      for (const slot of session.openOrders.values()) {
        if (o.session[slot] === session && o.cancelLinkSeq[slot] === 0 && !o.cancelOwed(slot)) this.cancel(slot, session, true)
      }
    }
    for (const slot of session.openOrders.values()) if (o.session[slot] === session) o.session[slot] = null
    this.accountSeqs.set(session.account!, { outSeq: session.outSeq, lastClientSeq: session.lastClientSeq })
  }

  // ---- what goes to clients -------------------------------------------------

  /** The last risk verdict's monitor warning as a message (and an ops alert at the crossing); null if none. */
  takeWarning (account: string, instrument: InstrumentRisk): gatehouse.v1.MonitorWarning.$Properties | null {
    const risk = this.verdict
    if (risk.warningMonitor === 0) return null
    const warning = {
      monitor: risk.warningMonitor,
      observed: risk.warningObserved,
      warningLevel: risk.warningLevel,
      blockingLevel: risk.blockingLevel === Infinity ? 0 : risk.blockingLevel,
      text: `${reasonName(risk.warningMonitor)} monitor at ${risk.warningObserved}: warning level ${risk.warningLevel}, ` +
        (risk.blockingLevel === Infinity ? 'no blocking level' : `new orders are refused at ${risk.blockingLevel}`),
    }
    if (risk.alert) {
      this.port.monitorAlert({
        account, instrument: instrument.symbol,
        monitor: risk.warningMonitor, observed: risk.warningObserved, warningLevel: risk.warningLevel, blockingLevel: risk.blockingLevel,
      })
    }
    return warning
  }

  /**
   * The one way an execution report leaves the lane: numbered for the
   * account (report_seq, exec_id: report-log.ts), sent to `session`, or,
   * with no session (or one gone), held for a resend; journaled either
   * way, and kept in the log. True when it was sent.
   */
  deliverReport (account: string, session: ClientSession | null, envelope: ClientEnvelopeInit): boolean {
    const reports = this.reports
    if (reports === null) return session !== null && this.port.sendToClient(session, envelope)
    const report = envelope.executionReport!
    reports.stamp(account, report)
    const sent = session !== null && this.port.sendToClient(session, envelope)
    if (!sent) this.port.holdReport(account, envelope)
    // Only once journaled: a report that failed to encode takes no seq.
    reports.keep(account, report)
    return sent
  }

  /**
   * The report of the order in `slot` after an event, as one object
   * literal of fixed shape read from the slot's columns (no spread: one
   * object per report, which the report log then keeps). The hand encoder
   * (protocol/hot-codec.ts) leaves the fields at their defaults out, as
   * protobufjs does.
   */
  reportFor (slot: number, execType: number, reason: number, text: string, lastPrice: number, lastLots: number,
    transactTimeUs: number, tradeId: string, warning: ExecutionReportInit['warning']): ClientEnvelopeInit {
    const o = this.orders
    return {
      executionReport: {
        clientOrderId: o.clientOrderId[slot]!,
        execType,
        exchangeOrderId: o.exchangeOrderId[slot]!,
        instrument: o.symbol(slot),
        side: o.side[slot]!,
        price: o.price[slot]!,
        quantityLots: o.quantityLots[slot]!,
        lastPrice,
        lastLots,
        cumulativeLots: o.cumulativeLots[slot]!,
        leavesLots: o.leavesLots[slot]!,
        reason,
        text,
        transactTimeUs,
        warning,
        offsetFlag: o.offsetFlag[slot]!,
        hedgeFlag: o.hedgeFlag[slot]!,
        // Numbered by the report log (report-log.ts stamp) before it is sent.
        reportSeq: 0,
        execId: '',
        tradeId,
        timeInForce: o.timeInForce[slot] || TimeInForce.GFD,
      },
    }
  }
}
