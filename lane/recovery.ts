// Recovery at start: a lane rebuilds the current trading day's state from
// its own journal stream before it listens or dials the exchange.
//
// What the journal gives back, and from which records:
// - reference data: the last link logon reply and instrument updates;
// - every order the lane sent today (LINK_OUT newOrder, with the client
//   order ID from the passed CHECK_DECISION just before it): booked again
//   in the shared risk state (RiskEngine.restoreOrder), whatever the limits
//   say now, since the exchange has it;
// - what happened to each (LINK_IN reports, deduplicated by the exchange's
//   seq as the link does): fills move positions and release reservations,
//   cancels count for the monitors, finished orders free their slots;
// - daily counters: actions (orders, client cancels), cancels, self-trade
//   attempts, traded volume, all through the same engine calls the live
//   path makes, in the same order;
// - the link's last received report seq (the exchange resends from there)
//   and the highest link order ID used;
// - per account, the gateway's last seq to its last session and the
//   client's last seq (LogonReply.last_client_seq).
// Orders still working come back owned by no session; the account's next
// logon on this lane takes them over, except those of sessions that had
// cancel-on-disconnect (asked at Logon, or the account's limit): the crash
// disconnected those sessions without the cancels an orderly close sends,
// so the lane sends them once the link is up (LaneRecovery.cancelOnStart).
//
// The window is the current trading day: from the first segment labelled
// with the newest trading day (the lane labels segments with the day its
// link logon reply announced, and that reply opens the segment) to the
// end, across any restarts in between.
import { closeSync, openSync, readSync } from 'node:fs'
import { join } from 'node:path'
import { readStream, type ReadRecord } from '../journal/reader.js'
import { HEADER_TRADING_DAY, RecordKind, decodeRecord, decodeSegmentHeader, recordLengthAt } from '../journal/record-format.js'
import { listSegments } from '../journal/segment-names.js'
import { CLIENT_BODY_FIELDS, decodeDecision } from '../journal/gateway-records.js'
import { decodeLinkEnvelope } from '../protocol/link-codec.js'
import { decodeClientEnvelope } from '../protocol/client-codec.js'
import { echoableId } from '../protocol/field-limits.js'
import { ExecType, RejectReason, wireInt, type Instrument, type LinkExecutionReport, type Logon, type LogonReply, type NewOrder } from '../protocol/messages.js'
import { IN_LINK_ORDER_ID, IN_NOW_MS, IN_PRICE, type InstrumentRisk, type RiskContext, type RiskEngine, type RiskVerdict } from '../checks/risk-engine.js'
import { Limit } from '../checks/limits.js'
import type { WorkingOrder } from './client-session.js'

export interface LaneRecovery {
  /** The trading day recovered, or null when the stream holds none (a first start). */
  tradingDay: string | null
  /** Reference data as last seen, with what the risk engine derived from it. */
  instruments: Map<string, { instrument: Instrument, risk: InstrumentRisk }>
  /** Orders still working at the exchange, owned by no session yet. */
  orders: WorkingOrder[]
  /** The last exchange report seq processed: the link asks the exchange to resend after it. */
  lastReceivedSeq: number
  /** The highest link order ID the lane has used (IDs must not repeat per link session). */
  maxLinkOrderId: number
  accountSeqs: Map<string, { outSeq: number, lastClientSeq: number }>
  /**
   * Link order IDs of working orders to cancel once the link is up: their
   * session asked for cancel-on-disconnect (or the account's limit says
   * so) and was still open when the gateway died, so the cancels its close
   * would have sent never went out.
   */
  cancelOnStart: number[]
  /** Records read and segments they came from. */
  records: number
  segments: number
  /** Orders booked again, and finished ones replayed for the daily counters. */
  ordersReplayed: number
  /** What could not be restored, for the start log (e.g. an account no longer configured). */
  problems: string[]
}

const HEADER_PROBE_BYTES = 4096

/**
 * The stream's newest trading day and the segment number recovery starts
 * at: the first one labelled with that day. Nulls if no segment is.
 */
function newestTradingDay (streamDir: string, stream: string): { day: string | null, fromSegment: number | null } {
  const segments = listSegments(streamDir, stream)
  let newestDay: string | null = null
  let start: number | null = null
  for (let i = segments.length - 1; i >= 0; i--) {
    const file = segments[i]!
    const header = readSegmentHeader(file.path)
    if (header === null || (header.flags & HEADER_TRADING_DAY) === 0) continue
    if (newestDay === null) newestDay = header.day
    if (header.day !== newestDay) break
    start = file.segment
  }
  return { day: newestDay, fromSegment: start }
}

/**
 * The trading day the gateway recovers: the newest any lane journaled.
 * Every lane must recover the same day, since they share one risk state
 * and its one trading day: a lane that has not traded since an earlier
 * day (disabled, or no link logon since) would otherwise roll the shared
 * day back and replay that day's orders over today's counters.
 */
export function gatewayRecoveryDay (root: string, lanes: readonly string[]): string | null {
  let newest: string | null = null
  for (const lane of lanes) {
    const { day } = newestTradingDay(join(root, lane), lane)
    if (day !== null && (newest === null || day > newest)) newest = day
  }
  return newest
}

function readSegmentHeader (path: string): ReturnType<typeof decodeSegmentHeader> {
  const fd = openSync(path, 'r')
  try {
    const buf = Buffer.alloc(HEADER_PROBE_BYTES)
    const n = readSync(fd, buf, 0, HEADER_PROBE_BYTES, 0)
    if (n < 8 || recordLengthAt(buf, 0) > n) return null
    const record = decodeRecord(buf.subarray(0, n), 0)
    return record.kind === RecordKind.SEGMENT_HEADER ? decodeSegmentHeader(record.payload) : null
  } catch {
    return null
  } finally {
    closeSync(fd)
  }
}

/** The decision of the order being sent: its LINK_OUT newOrder follows, after any self-match cancels. */
interface PassedDecision {
  sessionId: number
  clientOrderId: number
  linkOrderId: number
  selfMatchCancels: number
}

/**
 * Rebuilds the lane's state from its stream's newest trading day, if that
 * is `gatewayDay` (gatewayRecoveryDay): an older day's orders expired with
 * it, and its counters are not today's.
 */
export function recoverLane (root: string, stream: string, laneIndex: number, engine: RiskEngine,
  accountIndexes: ReadonlyMap<string, number>, verdict: RiskVerdict, gatewayDay: string | null): LaneRecovery {
  const result: LaneRecovery = {
    tradingDay: null,
    instruments: new Map(),
    orders: [],
    lastReceivedSeq: 0,
    maxLinkOrderId: 0,
    accountSeqs: new Map(),
    cancelOnStart: [],
    records: 0,
    segments: 0,
    ordersReplayed: 0,
    problems: [],
  }
  const streamDir = join(root, stream)
  const { day: newestDay, fromSegment: from } = newestTradingDay(streamDir, stream)
  if (from === null) return result
  if (gatewayDay !== null && newestDay !== gatewayDay) {
    result.problems.push(`this lane's journal ends on trading day ${newestDay ?? '?'}, before the gateway's ${gatewayDay} (another lane's newest): ` +
      'nothing recovered; that day\'s orders ended with it')
    return result
  }
  result.segments = listSegments(streamDir, stream).filter((f) => f.segment >= from).length

  const orders = new Map<number, WorkingOrder>()
  const contexts = new Map<string, RiskContext | null>()
  const lastClientOutOfAccount = new Map<string, Uint8Array>()
  const lastClientInOfAccount = new Map<string, Uint8Array>()
  let decision: PassedDecision | null = null
  let prev: ReadRecord | null = null
  // Cancel-on-disconnect: which sessions asked for it at Logon, which
  // session owns each working order (the one that sent it, until a later
  // session of the account takes it over), and which orders already have
  // a cancel on its way (a close with cancel-on-disconnect sent one).
  const cancelOnDisconnectSessions = new Set<number>()
  const ownerOf = new Map<number, number>()
  const cancelSent = new Set<number>()

  const contextOf = (account: string): RiskContext | null => {
    let ctx = contexts.get(account)
    if (ctx === undefined) {
      const index = accountIndexes.get(account)
      ctx = index === undefined ? null : { lane: laneIndex, account: index, app: -1 }
      if (ctx === null) result.problems.push(`account ${account} is in the journal but not configured: its orders are not booked`)
      contexts.set(account, ctx)
    }
    return ctx
  }
  const finish = (order: WorkingOrder, cancelled: boolean): void => {
    orders.delete(order.linkOrderId)
    engine.onOrderDone(order.risk, order.riskSlot, order.instrumentRisk, cancelled, verdict)
  }
  const setInstrument = (instrument: Instrument): void => {
    const risk = engine.instrumentRisk(instrument)
    if (risk !== null) result.instruments.set(instrument.symbol, { instrument, risk })
  }

  for (const record of readStream(streamDir, stream, { fromSegment: from })) {
    result.records++
    switch (record.kind) {
      case RecordKind.CLIENT_IN:
        if (record.account !== '') lastClientInOfAccount.set(record.account, record.payload)
        if (record.msgType === CLIENT_BODY_FIELDS.logon) {
          // A refused Logon may be retried: the last one before success counts.
          const logon = decodeClientEnvelopeOrNull(record.payload)?.logon as Logon | null | undefined
          if (logon?.cancelOnDisconnect === true) cancelOnDisconnectSessions.add(record.sessionId)
          else cancelOnDisconnectSessions.delete(record.sessionId)
        }
        break
      case RecordKind.CLIENT_OUT:
        if (record.account !== '') lastClientOutOfAccount.set(record.account, record.payload)
        if (record.msgType === CLIENT_BODY_FIELDS.logonReply && record.account !== '') {
          // The session took over the account's orders whose session had
          // closed (Lane.claimOrders). The journal does not show closes, so
          // the takeover is applied only when it is unambiguous: the
          // orders owned by other sessions are exactly as many as it
          // resumed (with another session of the account still open on
          // this lane they are not, and the owners stay as they were).
          const reply = decodeClientEnvelopeOrNull(record.payload)?.logonReply as LogonReply | null | undefined
          const resumed = reply?.ok === true ? reply.resumedOrders : 0
          if (resumed > 0) {
            const taken = [...orders.values()].filter((o) => o.account === record.account && ownerOf.get(o.linkOrderId) !== record.sessionId)
            if (taken.length === resumed) for (const o of taken) ownerOf.set(o.linkOrderId, record.sessionId)
          }
        }
        break
      case RecordKind.CHECK_DECISION: {
        const d = decodeDecision(record.payload)
        if (d === null) break
        if (d.passed) {
          decision = { sessionId: record.sessionId, clientOrderId: d.clientOrderId, linkOrderId: d.linkOrderId, selfMatchCancels: 0 }
        } else if (d.reason === RejectReason.SELF_MATCH_PREVENTED && prev?.kind === RecordKind.CLIENT_IN && prev.sessionId === record.sessionId) {
          // The attempt counted for the self-trade monitor when it was refused.
          const order = decodeClientEnvelope(prev.payload).newOrder as NewOrder | null | undefined
          const traded = order == null ? undefined : result.instruments.get(order.instrument)
          const ctx = contextOf(record.account)
          if (traded !== undefined && ctx !== null) engine.restoreSelfTrade(ctx, traded.risk)
        }
        break
      }
      case RecordKind.LINK_OUT: {
        const envelope = decodeLinkEnvelope(record.payload)
        if (envelope.body === 'newOrder') {
          const sent = envelope.newOrder!
          const linkOrderId = wireInt(sent.orderId)
          if (linkOrderId > result.maxLinkOrderId) result.maxLinkOrderId = linkOrderId
          const d = decision
          decision = null
          const account = sent.account ?? ''
          const ctx = contextOf(account)
          const traded = result.instruments.get(sent.instrument ?? '')
          if (ctx === null || traded === undefined) break
          const input = engine.input
          input[IN_PRICE] = wireInt(sent.price)
          input[IN_LINK_ORDER_ID] = linkOrderId
          input[IN_NOW_MS] = Math.floor(record.timeUs / 1000)
          const lots = sent.quantityLots ?? 0
          const riskSlot = engine.restoreOrder(ctx, traded.risk, sent.side ?? 0, lots, sent.timeInForce ?? 0, verdict)
          if (riskSlot < 0) {
            result.problems.push(`order ${linkOrderId} of ${account} could not be booked: the account's order table is full`)
            break
          }
          if (d !== null && d.linkOrderId === linkOrderId && d.selfMatchCancels > 0) engine.restoreSelfTrade(ctx, traded.risk)
          result.ordersReplayed++
          ownerOf.set(linkOrderId, record.sessionId)
          orders.set(linkOrderId, {
            linkOrderId,
            linkSeq: wireInt(envelope.seq),
            cancelLinkSeq: 0,
            cancelOwed: false,
            session: null,
            account,
            risk: ctx,
            clientOrderId: d !== null && d.linkOrderId === linkOrderId ? d.clientOrderId : 0,
            instrument: sent.instrument ?? '',
            side: sent.side ?? 0,
            price: wireInt(sent.price),
            quantityLots: lots,
            timeInForce: sent.timeInForce ?? 0,
            exchangeOrderId: 0,
            cumulativeLots: 0,
            leavesLots: lots,
            riskSlot,
            instrumentRisk: traded.risk,
            warning: null,
            // Received by an earlier run: no round trip to time.
            receivedMs: 0,
          })
        } else if (envelope.body === 'cancel') {
          cancelSent.add(wireInt(envelope.cancel!.orderId))
          if (decision !== null) {
            // A self-match cancel ahead of the order (cancel-resting mode).
            decision.selfMatchCancels++
            break
          }
          // Only a client's own cancel counted as an action when it was checked;
          // cancel-on-disconnect and kill-switch cancels did not.
          const order = orders.get(wireInt(envelope.cancel!.orderId))
          const clientCancel = prev?.kind === RecordKind.CLIENT_IN && prev.sessionId === record.sessionId
          if (order !== undefined && clientCancel) engine.restoreCancel(order.risk, verdict)
        }
        break
      }
      case RecordKind.LINK_IN: {
        // Type 0: refused as it arrived (malformed or out of range) and the
        // link dropped for it; nothing acted on it, so neither does recovery.
        if (record.msgType === 0) break
        const envelope = decodeLinkEnvelope(record.payload)
        switch (envelope.body) {
          case 'logonReply': {
            const reply = envelope.logonReply!
            if (reply.ok !== true) break
            result.tradingDay = reply.tradingDay ?? ''
            engine.rollTradingDay(Number(result.tradingDay))
            for (const instrument of (reply.instruments ?? []) as Instrument[]) setInstrument(instrument)
            // As onLinkUp did: orders past what the exchange had seen were lost.
            const nextExpectedSeq = wireInt(reply.nextExpectedSeq)
            for (const order of [...orders.values()]) {
              if (order.exchangeOrderId === 0 && order.linkSeq >= nextExpectedSeq) finish(order, false)
            }
            break
          }
          case 'instrumentUpdate':
            setInstrument(envelope.instrumentUpdate!.instrument as Instrument)
            break
          case 'report': {
            const seq = wireInt(envelope.seq)
            if (seq !== 0 && seq <= result.lastReceivedSeq) break
            if (seq !== 0) result.lastReceivedSeq = seq
            const report = envelope.report as LinkExecutionReport
            const order = orders.get(wireInt(report.orderId))
            if (order === undefined) break
            if (report.cancelRejected) {
              // The exchange refused the cancel: the order is still working and uncancelled.
              cancelSent.delete(order.linkOrderId)
              break
            }
            const execType = report.execType
            if (wireInt(report.exchangeOrderId) !== 0) order.exchangeOrderId = wireInt(report.exchangeOrderId)
            if (execType === ExecType.PARTIAL_FILL || execType === ExecType.FILL) {
              order.cumulativeLots = report.cumulativeLots
              order.leavesLots = report.leavesLots
              if (report.lastLots > 0) engine.onFill(order.risk.account, order.riskSlot, report.lastLots)
            }
            if (execType === ExecType.FILL || execType === ExecType.CANCELLED || execType === ExecType.REJECTED) {
              order.leavesLots = 0
              finish(order, execType === ExecType.CANCELLED)
            }
            break
          }
        }
        break
      }
    }
    prev = record
  }

  result.orders = [...orders.values()]
  for (const order of result.orders) {
    if (cancelSent.has(order.linkOrderId)) continue
    const owner = ownerOf.get(order.linkOrderId) ?? 0
    // The account's limit as it stands now (the live close reads it at the
    // close); AppID-scope values are not known here (no session, app -1).
    if (cancelOnDisconnectSessions.has(owner) || engine.limitsFor(order.risk, -1, -1)[Limit.cancelOnDisconnect] === 1) {
      result.cancelOnStart.push(order.linkOrderId)
    }
  }
  // Only the last frame each way per account is decoded: its envelope seq.
  for (const [account, lastOut] of lastClientOutOfAccount) {
    const lastIn = lastClientInOfAccount.get(account)
    result.accountSeqs.set(account, { outSeq: clientSeqOf(lastOut), lastClientSeq: lastIn === undefined ? 0 : clientSeqOf(lastIn) })
  }
  return result
}

function decodeClientEnvelopeOrNull (frame: Uint8Array): ReturnType<typeof decodeClientEnvelope> | null {
  try {
    return decodeClientEnvelope(frame)
  } catch {
    return null
  }
}

function clientSeqOf (frame: Uint8Array): number {
  try {
    return echoableId(decodeClientEnvelope(frame).seq)
  } catch {
    return 0
  }
}
