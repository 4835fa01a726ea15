// Proves order-wire.ts against the generated codec before any run: bytes
// the generator writes must decode to the intended message, and reports the
// gateway or simulator encode must scan to the right order ID and exec
// type. A mismatch throws, so a run never measures malformed traffic.
import { ClientEnvelope, ExecType, LinkEnvelope, RejectReason, Side, TimeInForce, wireInt } from '../protocol/messages.js'
import {
  ScannedMessage, clientCancelBytes, clientNewOrderBytes, linkCancelBytes, linkNewOrderBytes,
  scanClientEnvelope, scanLinkEnvelope, writeClientCancel, writeClientNewOrder, writeLinkCancel, writeLinkNewOrder,
} from './order-wire.js'

function expect (condition: boolean, what: string): void {
  if (!condition) throw new Error(`order-wire self-check failed: ${what}`)
}

/** IDs around varint length boundaries, up to 2^53 - 1. */
const SAMPLE_IDS = [1, 127, 128, 16_383, 16_384, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]

export function checkWireSelf (): void {
  const encoder = new TextEncoder()
  const template = { instrument: encoder.encode('rb2605'), account: encoder.encode('bench-acct'), quantityLots: 3, timeInForce: TimeInForce.FAK }
  const buf = new Uint8Array(256)
  for (const id of SAMPLE_IDS) {
    const price = 3200 + (id % 1000)
    let end = writeClientNewOrder(buf, 0, template, id, Side.SELL, price)
    expect(end === clientNewOrderBytes(template, id, price), 'client new order size')
    const order = ClientEnvelope.decode(buf.subarray(0, end)).newOrder!
    expect(wireInt(order.clientOrderId) === id && order.instrument === 'rb2605' && order.side === Side.SELL &&
      wireInt(order.price) === price && order.quantityLots === 3 && order.timeInForce === TimeInForce.FAK, `client new order ${id}`)

    end = writeClientCancel(buf, 0, id)
    expect(end === clientCancelBytes(id), 'client cancel size')
    expect(wireInt(ClientEnvelope.decode(buf.subarray(0, end)).cancelOrder!.clientOrderId) === id, `client cancel ${id}`)

    // Seq and order ID differ (a swap would show) and both stay below 2^53.
    const seq = Number.MAX_SAFE_INTEGER - id + 1
    end = writeLinkNewOrder(buf, 0, template, seq, id, Side.BUY, price)
    expect(end === linkNewOrderBytes(template, seq, id, price), 'link new order size')
    const link = LinkEnvelope.decode(buf.subarray(0, end))
    const linkOrder = link.newOrder!
    expect(wireInt(link.seq) === seq && wireInt(linkOrder.orderId) === id && linkOrder.account === 'bench-acct' &&
      linkOrder.instrument === 'rb2605' && linkOrder.side === Side.BUY && wireInt(linkOrder.price) === price &&
      linkOrder.quantityLots === 3 && linkOrder.timeInForce === TimeInForce.FAK, `link new order ${id}`)

    end = writeLinkCancel(buf, 0, 7, id)
    expect(end === linkCancelBytes(7, id), 'link cancel size')
    const cancel = LinkEnvelope.decode(buf.subarray(0, end))
    expect(wireInt(cancel.seq) === 7 && wireInt(cancel.cancel!.orderId) === id, `link cancel ${id}`)

    const scanned = new ScannedMessage()
    const report = ClientEnvelope.encode({
      seq: 9, sentTimeUs: Date.now() * 1000,
      executionReport: { clientOrderId: id, execType: ExecType.CANCELLED, exchangeOrderId: 77, instrument: 'rb2605', leavesLots: 1, text: 'FAK: remainder cancelled' },
    }).finish()
    scanClientEnvelope(report, 0, report.length, scanned)
    expect(scanned.kind === 'report' && scanned.orderId === id && scanned.execType === ExecType.CANCELLED && !scanned.cancelRejected &&
      scanned.reason === 0 && !scanned.warning, `client report scan ${id}`)
    const refused = ClientEnvelope.encode({
      seq: 10,
      executionReport: {
        clientOrderId: id, execType: ExecType.REJECTED, instrument: 'rb2605', leavesLots: 0, reason: RejectReason.MAX_OPEN_ORDERS, text: 'refused', limit: 5, observed: 6,
        warning: { monitor: RejectReason.CANCEL_LIMIT, observed: 9, warningLevel: 8, blockingLevel: 10, text: 'near' },
      },
    }).finish()
    scanClientEnvelope(refused, 0, refused.length, scanned)
    expect(scanned.kind === 'report' && scanned.orderId === id && scanned.execType === ExecType.REJECTED && scanned.reason === RejectReason.MAX_OPEN_ORDERS &&
      scanned.warning, `client rejected report scan ${id}`)

    const linkReport = LinkEnvelope.encode({
      seq: 12, sentTimeUs: Date.now() * 1000,
      report: { orderId: id, execType: ExecType.ACK, exchangeOrderId: 5, reason: id % 3, text: 'x', transactTimeUs: Date.now() * 1000, cancelRejected: id === 1 },
    }).finish()
    scanLinkEnvelope(linkReport, 0, linkReport.length, scanned)
    expect(scanned.kind === 'report' && scanned.orderId === id && scanned.execType === ExecType.ACK && scanned.cancelRejected === (id === 1) &&
      scanned.reason === id % 3, `link report scan ${id}`)
  }
  const scanned = new ScannedMessage()
  const reply = ClientEnvelope.encode({ seq: 1, logonReply: { ok: true, lane: 'hft' } }).finish()
  scanClientEnvelope(reply, 0, reply.length, scanned)
  expect(scanned.kind === 'logon-reply', 'logon reply scan')
  const reject = ClientEnvelope.encode({ seq: 2, reject: { reason: 108, text: 'no such order' } }).finish()
  scanClientEnvelope(reject, 0, reject.length, scanned)
  expect(scanned.kind === 'reject' && scanned.reason === 108, 'reject scan')
}
