// Order entry: a logged-on session's NewOrder and CancelOrder, from the
// decoded message to the exchange link. For a new order: the client order
// ID rule, validity (checks/order-validity.ts), the link, the risk
// engine's atomic check-and-reserve, the journaled decision, self-match
// cancels, the send; the working order is then handed to the lifecycle
// (lane/order-lifecycle.ts). Every refusal goes through refuseOrder: the
// REJECTED report, the journaled decision and the metrics in one place.
//
// How to drive it: construct one per lane with the lane's OrderLifecycle,
// RiskEngine, metrics, a LifecyclePort for client messages, an
// ExchangeLinkPort and the lane's journal (or null), then call
// newOrder(session, order) and cancel(session, cancel, refSeq) for each
// message of a logged-on session, after the session throttle. Set
// orderClockMs[FRAME_TIME_US] to the frame's journal time first (the risk
// engine's clock), [ORDER_DECODED] (performance.now()) before newOrder for
// the check-time metric, and [ORDER_RECEIVED] for the round trip.
//
// No sockets, no uWebSockets.js, no worker-thread globals: it runs in a
// test or a CLI tool as it runs on the lane thread.
import { MAX_WIRE_INTEGER } from '../protocol/constants.js'
import { ExecType, HedgeFlag, RejectReason, TimeInForce, reasonName, wireInt, type CancelOrder, type NewOrder } from '../protocol/messages.js'
import { effectiveOffset } from '../checks/position-book.js'
import type { gatehouse } from '../protocol/generated/gatehouse.js'
import { DecisionStage } from '../journal/gateway-records.js'
import { checkOrderValidity, newCheckVerdict } from '../checks/order-validity.js'
import {
  IN_LINK_ORDER_ID, IN_NOW_MS, IN_PRICE, KILL_SCOPE_ACCOUNT, KILL_SCOPE_GLOBAL, KILL_SCOPE_INSTRUMENT, KILL_SCOPE_LANE,
  type RiskEngine, type RiskVerdict,
} from '../checks/risk-engine.js'
import type { ClientSession } from './client-session.js'
import { NO_SLOT } from './working-orders.js'
import type { ExchangeLinkPort } from './exchange-link-port.js'
import type { LaneJournal } from './lane-journal.js'
import type { LaneMetrics } from './lane-metrics.js'
import type { LifecyclePort, OrderLifecycle } from './order-lifecycle.js'

/** Where order entry journals each decision: the lane's journal, or what-if replay reading them back. */
export type DecisionRecorder = Pick<LaneJournal, 'decision'>

/** Self-match prevention (cancel-resting mode) cancels at most this many resting orders ahead of one order: the size of the lifecycle's verdict. */
export const MAX_SELF_MATCH_CANCELS = 64

/**
 * Slots of OrderEntry.orderClockMs: when the current NewOrder was received
 * and when its checks began (performance.now(), ms); and FRAME_TIME_US,
 * when the current frame arrived on the gateway's clock (protocol/clock.ts,
 * µs), which its client frame's journal record carries: the risk engine
 * checks at that time, and recovery replays it at that time.
 */
export const ORDER_RECEIVED = 0
export const ORDER_DECODED = 1
export const FRAME_TIME_US = 2

const KILL_SCOPE_NAMES: Record<number, string> = {
  [KILL_SCOPE_GLOBAL]: 'the global kill switch',
  [KILL_SCOPE_LANE]: 'this lane\'s kill switch',
  [KILL_SCOPE_ACCOUNT]: 'the account\'s kill switch',
  [KILL_SCOPE_INSTRUMENT]: 'the instrument\'s kill switch',
}

const LINK_DOWN_ORDER_TEXT = 'the exchange link is down; the order was not sent'
const CANCEL_LINK_DOWN_TEXT = 'the exchange link is down; the cancel was not sent, retry once it is back'

/** A refused order's decision was journaled already (it passed the checks and then could not be sent). */
const DECISION_JOURNALED = -1

export class OrderEntry {
  /**
   * Link order IDs must stay unique per link session name across gateway
   * restarts. Until the journal restores the counter, start from the start
   * time in ms × 1000: a restart begins above any ID the last run could
   * have reached at up to 1,000 orders/s of uptime, and stays below 2^53.
   */
  nextLinkOrderId = Date.now() * 1000
  /** The current NewOrder's times (performance.now(), ms), in a typed array so that storing them boxes nothing. */
  readonly orderClockMs = new Float64Array(3)
  /** Reused for every order: the check path allocates nothing per order. */
  private readonly validity = newCheckVerdict()
  private readonly verdict: RiskVerdict

  constructor (
    private readonly lifecycle: OrderLifecycle,
    private readonly risk: RiskEngine,
    private readonly metrics: LaneMetrics,
    private readonly client: LifecyclePort,
    private readonly link: ExchangeLinkPort,
    private readonly journal: DecisionRecorder | null,
  ) {
    this.verdict = lifecycle.verdict
  }

  newOrder (session: ClientSession, order: NewOrder): void {
    const clientOrderId = wireInt(order.clientOrderId)
    // IDs strictly increase within a session: one number detects a reuse,
    // and openOrders those of orders taken over from an earlier session.
    if (clientOrderId <= session.lastClientOrderId || clientOrderId > MAX_WIRE_INTEGER || session.openOrders.has(clientOrderId)) {
      this.refuseOrder(session, order, DecisionStage.ORDER_ID, RejectReason.DUPLICATE_CLIENT_ORDER_ID,
        duplicateOrderIdText(clientOrderId, session.lastClientOrderId), session.lastClientOrderId, clientOrderId)
      return
    }
    session.lastClientOrderId = clientOrderId
    const validity = this.validity
    const traded = this.lifecycle.instruments.get(order.instrument)
    if (!checkOrderValidity(order, traded?.instrument, validity)) {
      this.refuseOrder(session, order, DecisionStage.VALIDITY, validity.reason,
        `${reasonName(validity.reason)} (limit ${validity.limit}, observed ${validity.observed})`, validity.limit, validity.observed)
      return
    }
    if (!this.link.isUp) {
      this.refuseOrder(session, order, DecisionStage.LINK, RejectReason.EXCHANGE_UNAVAILABLE, LINK_DOWN_ORDER_TEXT, 0, 0)
      return
    }
    // Refused before the risk check, so that nothing is reserved or counted
    // (recovery reads a CAPACITY decision as having had no effect).
    const working = this.lifecycle.orders
    if (working.full) {
      this.refuseOrder(session, order, DecisionStage.CAPACITY, RejectReason.MAX_OPEN_ORDERS,
        `the lane's working-order table is full (${working.maxSlots} orders); cancel or wait for orders to finish`, working.maxSlots, working.size + 1)
      return
    }
    const risk = this.verdict
    const input = this.risk.input
    input[IN_PRICE] = wireInt(order.price)
    input[IN_LINK_ORDER_ID] = this.nextLinkOrderId + 1
    input[IN_NOW_MS] = this.orderClockMs[FRAME_TIME_US]! / 1000
    const offsetFlag = effectiveOffset(order.offsetFlag, order.reduceOnly)
    const hedgeFlag = order.hedgeFlag || HedgeFlag.HEDGE_SPECULATION
    const riskSlot = this.risk.checkNewOrderInput(session.risk, traded!.risk, order.side, order.quantityLots, order.timeInForce, order.reduceOnly,
      offsetFlag, hedgeFlag, risk)
    if (riskSlot < 0) {
      this.refuseOrder(session, order, DecisionStage.RISK, risk.reason, riskRejectText(risk), risk.limit, risk.observed,
        this.lifecycle.takeWarning(session.account!, traded!.risk))
      return
    }
    this.orderDecided()
    const linkOrderId = ++this.nextLinkOrderId
    if (this.journal !== null) this.journal.decision(session.journal!, true, DecisionStage.RISK, 0, riskSlot, clientOrderId, linkOrderId, 0, 0)
    // Self-match prevention, cancel-resting mode: this lane's crossing
    // orders are cancelled first, on the same link, so the exchange
    // removes them before it sees the new order.
    for (let k = 0; k < risk.cancelCount; k++) {
      const resting = working.slotOf(risk.cancelLinkOrderIds[k]!)
      if (resting !== NO_SLOT) this.lifecycle.cancel(resting, session, false)
      else this.link.send({ cancel: { orderId: risk.cancelLinkOrderIds[k]! } }, session.journal)
    }
    const account = session.account!
    const price = wireInt(order.price)
    const instrumentRisk = traded!.risk
    const warning = this.lifecycle.takeWarning(account, instrumentRisk)
    const linkSeq = this.link.send({
      newOrder: {
        orderId: linkOrderId,
        account,
        instrument: order.instrument,
        side: order.side,
        price,
        quantityLots: order.quantityLots,
        timeInForce: order.timeInForce,
        offsetFlag,
        hedgeFlag,
      },
    }, session.journal)
    if (linkSeq === 0) {
      // The link failed between the check and the send: nothing went out,
      // so the reservation goes back at once.
      this.risk.onOrderDone(session.risk, riskSlot, instrumentRisk, false, risk)
      this.refuseOrder(session, order, DECISION_JOURNALED, RejectReason.EXCHANGE_UNAVAILABLE, LINK_DOWN_ORDER_TEXT, 0, 0)
      return
    }
    // Room was checked above and nothing since opened a slot.
    this.lifecycle.orderSent(linkOrderId, linkSeq, session, account, session.risk, clientOrderId, instrumentRisk, order.side, price,
      order.quantityLots, order.timeInForce, offsetFlag, hedgeFlag, riskSlot, warning, this.orderClockMs[ORDER_RECEIVED]!)
    this.metrics.orderForwarded()
  }

  /** True when the cancel passed its checks and went out; replay counts the refusals on it. */
  cancel (session: ClientSession, cancel: CancelOrder, refSeq: number): boolean {
    this.metrics.cancel()
    const clientOrderId = wireInt(cancel.clientOrderId)
    const slot = session.openOrders.get(clientOrderId)
    const working = this.lifecycle.orders
    // A closed session's map may still name slots since given to other orders: only its own count.
    if (slot === undefined || working.session[slot] !== session || working.clientOrderId[slot] !== clientOrderId) {
      this.refuse(session, RejectReason.UNKNOWN_ORDER, `no working order with client_order_id ${clientOrderId} in this session`, refSeq, clientOrderId)
      return false
    }
    // Refused before the throttle counts it: a cancel that cannot go out
    // is no action (and the journal, which recovery reads, shows none).
    if (!this.link.isUp) {
      this.refuse(session, RejectReason.EXCHANGE_UNAVAILABLE, CANCEL_LINK_DOWN_TEXT, refSeq, clientOrderId)
      return false
    }
    // Cancels are never held back by risk limits (a halted or killed
    // account can always cancel); only the account throttle applies.
    const risk = this.verdict
    this.risk.input[IN_NOW_MS] = this.orderClockMs[FRAME_TIME_US]! / 1000
    if (!this.risk.checkCancelInput(session.risk, working.riskSlot[slot]!, working.instrumentRisk(slot), risk)) {
      this.refuse(session, risk.reason, riskRejectText(risk), refSeq, clientOrderId, risk.limit, risk.observed)
      return false
    }
    // The link is up (checked above, and nothing since could take it down).
    this.lifecycle.cancel(slot, session, false)
    return true
  }

  /**
   * Refuses a new order: its decision journaled (unless `stage` is
   * DECISION_JOURNALED), the check time and the reject counted, and a
   * REJECTED execution report sent unless `answer` is false (a session
   * being cut off for flooding gets no answer, but its order is still
   * decided on the record).
   */
  refuseOrder (session: ClientSession, order: NewOrder, stage: number, reason: number, text: string, limit: number, observed: number,
    warning: gatehouse.v1.MonitorWarning.$Properties | null = null, answer = true): void {
    const clientOrderId = wireInt(order.clientOrderId)
    if (stage !== DECISION_JOURNALED) {
      this.orderDecided()
      if (this.journal !== null) this.journal.decision(session.journal!, false, stage, reason, -1, clientOrderId, 0, limit, observed)
    }
    if (!answer) return
    this.metrics.reject(reason)
    // Numbered like every execution report of the account (the lifecycle's deliverReport).
    this.lifecycle.deliverReport(session.account ?? '', session, {
      executionReport: {
        clientOrderId,
        execType: ExecType.REJECTED,
        instrument: order.instrument,
        side: order.side,
        price: wireInt(order.price),
        quantityLots: order.quantityLots,
        reason,
        text,
        limit: limit === Infinity ? 0 : limit,
        observed,
        transactTimeUs: Date.now() * 1000,
        warning,
        // The flags as the order would have applied them.
        timeInForce: order.timeInForce || TimeInForce.GFD,
        offsetFlag: effectiveOffset(order.offsetFlag, order.reduceOnly),
        hedgeFlag: order.hedgeFlag || HedgeFlag.HEDGE_SPECULATION,
      },
    })
  }

  /** Refuses a cancel with a Reject carrying its code (counted); a limit and what was observed when a limit refused it. */
  private refuse (session: ClientSession, reason: number, text: string, refSeq: number, clientOrderId: number, limit?: number, observed?: number): void {
    this.metrics.reject(reason)
    this.client.sendToClient(session, limit === undefined
      ? { reject: { reason, text, refSeq, clientOrderId } }
      : { reject: { reason, text, refSeq, clientOrderId, limit, observed } })
  }

  /** The current new order's checks have decided. */
  private orderDecided (): void {
    this.metrics.orderChecked(performance.now() - this.orderClockMs[ORDER_DECODED]!)
  }
}

/** The DUPLICATE_CLIENT_ORDER_ID text: the rule and the last ID accepted. */
function duplicateOrderIdText (clientOrderId: number, lastClientOrderId: number): string {
  if (clientOrderId <= 0) return 'client_order_id must be a positive integer'
  if (clientOrderId > MAX_WIRE_INTEGER) return `client_order_id must be at most ${MAX_WIRE_INTEGER}`
  if (clientOrderId > lastClientOrderId) return `client_order_id ${clientOrderId} names an order still working that this session took over; use a new ID`
  return `client_order_id must strictly increase within a session: ${clientOrderId} is not above the last one accepted, ${lastClientOrderId}`
}

/** A risk reject's text: the reason, the limit and what was seen, for people; clients match on the code. */
export function riskRejectText (verdict: RiskVerdict): string {
  if (verdict.reason === RejectReason.KILL_SWITCH) return `refused by ${KILL_SCOPE_NAMES[verdict.observed] ?? 'a kill switch'}; cancels still pass`
  if (verdict.reason === RejectReason.ACCOUNT_HALTED) return 'the account is halted: new orders are refused, cancels pass'
  const limit = verdict.limit === Infinity ? 'none' : String(verdict.limit)
  return `${reasonName(verdict.reason)} (limit ${limit}, observed ${verdict.observed})`
}
