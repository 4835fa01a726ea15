// Hand-rolled protobuf for the few messages a load generator sends and the
// two fields it reads back. The generator must not measure itself: the
// generated codec allocates a Writer and an object per message, which at
// 150k+ orders/s on a 2-vCPU box would take CPU from the system under test.
// Every byte written here is a valid gatehouse.v1 message; wire-self-check.ts
// proves it against the generated codec before each run.
//
// ClientEnvelope with a NewOrder (seq and sent_time_us left 0, so omitted):
//
//   0x62 len | 0x08 client_order_id | 0x12 len "rb2605" | 0x18 side
//            | 0x20 price | 0x28 quantity_lots | 0x30 time_in_force
//
// LinkEnvelope with a LinkNewOrder (bare-relay mode: the generator speaks
// the link protocol itself, so it also numbers the messages):
//
//   0x08 seq | 0x6a len | 0x08 order_id | 0x12 len account | 0x1a len instrument
//            | 0x20 side | 0x28 price | 0x30 quantity_lots | 0x38 time_in_force

import { CLIENT_BODY_FIELDS, ENVELOPE_SEQ_FIELD, LINK_BODY_FIELDS } from '../protocol/body-fields.js'

const WIRE_VARINT = 0
const WIRE_LENGTH_DELIMITED = 2
/** A field's tag byte, (field << 3) | wire type; every field here is below 16, so one byte. */
const tagByte = (field: number, wireType: number): number => (field << 3) | wireType

const TAG_CLIENT_NEW_ORDER = tagByte(CLIENT_BODY_FIELDS.newOrder!, WIRE_LENGTH_DELIMITED)
const TAG_CLIENT_CANCEL_ORDER = tagByte(CLIENT_BODY_FIELDS.cancelOrder!, WIRE_LENGTH_DELIMITED)
const FIELD_CLIENT_EXECUTION_REPORT = CLIENT_BODY_FIELDS.executionReport!
const FIELD_CLIENT_LOGON_REPLY = CLIENT_BODY_FIELDS.logonReply!
const FIELD_CLIENT_REJECT = CLIENT_BODY_FIELDS.reject!
const TAG_LINK_SEQ = tagByte(ENVELOPE_SEQ_FIELD, WIRE_VARINT)
const TAG_LINK_NEW_ORDER = tagByte(LINK_BODY_FIELDS.newOrder!, WIRE_LENGTH_DELIMITED)
const TAG_LINK_CANCEL = tagByte(LINK_BODY_FIELDS.cancel!, WIRE_LENGTH_DELIMITED)
const FIELD_LINK_REPORT = LINK_BODY_FIELDS.report!
const FIELD_LINK_LOGON_REPLY = LINK_BODY_FIELDS.logonReply!

/** The fields read back inside a body, as Message.field → number; test/body-fields.test.ts checks them against the .proto. */
export const SCANNED_BODY_FIELDS = Object.freeze({
  'ExecutionReport.clientOrderId': 1,
  'ExecutionReport.execType': 2,
  'ExecutionReport.reason': 12,
  /** A MonitorWarning: its presence is all the generator notes. */
  'ExecutionReport.warning': 17,
  'LinkExecutionReport.orderId': 1,
  'LinkExecutionReport.execType': 2,
  'LinkExecutionReport.reason': 8,
  'LinkExecutionReport.cancelRejected': 11,
  'Reject.reason': 1,
} as const)
const FIELD_REPORT_ORDER_ID = SCANNED_BODY_FIELDS['ExecutionReport.clientOrderId']
const FIELD_REPORT_EXEC_TYPE = SCANNED_BODY_FIELDS['ExecutionReport.execType']
const FIELD_LINK_CANCEL_REJECTED = SCANNED_BODY_FIELDS['LinkExecutionReport.cancelRejected']
const FIELD_CLIENT_REPORT_REASON = SCANNED_BODY_FIELDS['ExecutionReport.reason']
const FIELD_CLIENT_REPORT_WARNING = SCANNED_BODY_FIELDS['ExecutionReport.warning']
const FIELD_LINK_REPORT_REASON = SCANNED_BODY_FIELDS['LinkExecutionReport.reason']
const FIELD_REJECT_REASON = SCANNED_BODY_FIELDS['Reject.reason']

/** Bytes a varint of `value` (0 <= value < 2^53) takes. */
export function varintBytes (value: number): number {
  let bytes = 1
  while (value >= 128) {
    value = Math.floor(value / 128)
    bytes++
  }
  return bytes
}

/** Writes a varint at `pos`; returns the new position. Division, not >>>, keeps values above 2^32 exact. */
export function writeVarint (buf: Uint8Array, pos: number, value: number): number {
  while (value >= 128) {
    buf[pos++] = (value % 128) | 0x80
    value = Math.floor(value / 128)
  }
  buf[pos++] = value
  return pos
}

/** The fixed part of an order: what never changes between orders of one run. */
export interface OrderTemplate {
  /** UTF-8 bytes of the instrument symbol. */
  instrument: Uint8Array
  /** UTF-8 bytes of the account (link messages only). */
  account: Uint8Array
  quantityLots: number
  timeInForce: number
}

function clientNewOrderBodyBytes (t: OrderTemplate, clientOrderId: number, price: number): number {
  return 1 + varintBytes(clientOrderId) + 2 + t.instrument.length + 2 + 1 + varintBytes(price) +
    1 + varintBytes(t.quantityLots) + 2
}

/** Size of a ClientEnvelope{newOrder} (side is always one byte, so it is not an input). */
export function clientNewOrderBytes (t: OrderTemplate, clientOrderId: number, price: number): number {
  const body = clientNewOrderBodyBytes(t, clientOrderId, price)
  return 1 + varintBytes(body) + body
}

/** Writes a ClientEnvelope{newOrder} at `pos`; returns the new position. */
export function writeClientNewOrder (buf: Uint8Array, pos: number, t: OrderTemplate, clientOrderId: number, side: number, price: number): number {
  buf[pos++] = TAG_CLIENT_NEW_ORDER
  pos = writeVarint(buf, pos, clientNewOrderBodyBytes(t, clientOrderId, price))
  buf[pos++] = 0x08
  pos = writeVarint(buf, pos, clientOrderId)
  buf[pos++] = 0x12
  buf[pos++] = t.instrument.length
  buf.set(t.instrument, pos)
  pos += t.instrument.length
  buf[pos++] = 0x18
  buf[pos++] = side
  buf[pos++] = 0x20
  pos = writeVarint(buf, pos, price)
  buf[pos++] = 0x28
  pos = writeVarint(buf, pos, t.quantityLots)
  buf[pos++] = 0x30
  buf[pos++] = t.timeInForce
  return pos
}

/** Size of a ClientEnvelope{cancelOrder}. */
export function clientCancelBytes (clientOrderId: number): number {
  return 3 + varintBytes(clientOrderId)
}

export function writeClientCancel (buf: Uint8Array, pos: number, clientOrderId: number): number {
  buf[pos++] = TAG_CLIENT_CANCEL_ORDER
  buf[pos++] = 1 + varintBytes(clientOrderId)
  buf[pos++] = 0x08
  return writeVarint(buf, pos, clientOrderId)
}

function linkNewOrderBodyBytes (t: OrderTemplate, orderId: number, price: number): number {
  return 1 + varintBytes(orderId) + 2 + t.account.length + 2 + t.instrument.length + 2 +
    1 + varintBytes(price) + 1 + varintBytes(t.quantityLots) + 2
}

/** Size of a LinkEnvelope{seq, newOrder} (without the 4-byte frame prefix: the relay adds it). */
export function linkNewOrderBytes (t: OrderTemplate, seq: number, orderId: number, price: number): number {
  const body = linkNewOrderBodyBytes(t, orderId, price)
  return 1 + varintBytes(seq) + 1 + varintBytes(body) + body
}

export function writeLinkNewOrder (buf: Uint8Array, pos: number, t: OrderTemplate, seq: number, orderId: number, side: number, price: number): number {
  buf[pos++] = TAG_LINK_SEQ
  pos = writeVarint(buf, pos, seq)
  buf[pos++] = TAG_LINK_NEW_ORDER
  pos = writeVarint(buf, pos, linkNewOrderBodyBytes(t, orderId, price))
  buf[pos++] = 0x08
  pos = writeVarint(buf, pos, orderId)
  buf[pos++] = 0x12
  buf[pos++] = t.account.length
  buf.set(t.account, pos)
  pos += t.account.length
  buf[pos++] = 0x1a
  buf[pos++] = t.instrument.length
  buf.set(t.instrument, pos)
  pos += t.instrument.length
  buf[pos++] = 0x20
  buf[pos++] = side
  buf[pos++] = 0x28
  pos = writeVarint(buf, pos, price)
  buf[pos++] = 0x30
  pos = writeVarint(buf, pos, t.quantityLots)
  buf[pos++] = 0x38
  buf[pos++] = t.timeInForce
  return pos
}

export function linkCancelBytes (seq: number, orderId: number): number {
  return 1 + varintBytes(seq) + 3 + varintBytes(orderId)
}

export function writeLinkCancel (buf: Uint8Array, pos: number, seq: number, orderId: number): number {
  buf[pos++] = TAG_LINK_SEQ
  pos = writeVarint(buf, pos, seq)
  buf[pos++] = TAG_LINK_CANCEL
  buf[pos++] = 1 + varintBytes(orderId)
  buf[pos++] = 0x08
  return writeVarint(buf, pos, orderId)
}

/** What the generator needs from an inbound envelope. Reused: one per generator. */
export class ScannedMessage {
  /** 'report', 'logon-reply', 'reject' or 'other'. */
  kind: 'report' | 'logon-reply' | 'reject' | 'other' = 'other'
  orderId = 0
  execType = 0
  cancelRejected = false
  /** RejectReason of a report or a reject; 0 if none. */
  reason = 0
  /** A client report that carries a MonitorWarning. */
  warning = false
}

/** A read position shared by the scanners: one object, so scanning allocates nothing. */
class Cursor {
  pos = 0
  readVarint (buf: Uint8Array): number {
    let value = 0
    let scale = 1
    for (;;) {
      const byte = buf[this.pos++]!
      value += (byte & 0x7f) * scale
      if (byte < 0x80) return value
      scale *= 128
    }
  }

  skip (buf: Uint8Array, wireType: number): void {
    switch (wireType) {
      case 0: this.readVarint(buf); return
      case 1: this.pos += 8; return
      case 2: { const length = this.readVarint(buf); this.pos += length; return }
      case 5: this.pos += 4; return
      default: throw new Error(`unsupported protobuf wire type ${wireType}`)
    }
  }
}

const cursor = new Cursor()

/**
 * Reads fields 1 (the order ID) and 2 (exec_type) of a report body, which
 * ExecutionReport and LinkExecutionReport share, its reason, plus the
 * link's cancel_rejected (field 11 there; in ExecutionReport 11 is
 * leaves_lots, so client scans pass -1) and the client's warning (-1 for
 * link scans).
 */
function scanReport (buf: Uint8Array, end: number, out: ScannedMessage, reasonField: number, cancelRejectedField: number, warningField: number): void {
  out.orderId = 0
  out.execType = 0
  out.cancelRejected = false
  while (cursor.pos < end) {
    const tag = cursor.readVarint(buf)
    const field = tag >>> 3
    if (field === FIELD_REPORT_ORDER_ID && (tag & 7) === 0) out.orderId = cursor.readVarint(buf)
    else if (field === FIELD_REPORT_EXEC_TYPE && (tag & 7) === 0) out.execType = cursor.readVarint(buf)
    else if (field === reasonField && (tag & 7) === 0) out.reason = cursor.readVarint(buf)
    else if (field === cancelRejectedField && (tag & 7) === 0) out.cancelRejected = cursor.readVarint(buf) !== 0
    else {
      if (field === warningField && (tag & 7) === 2) out.warning = true
      cursor.skip(buf, tag & 7)
    }
  }
}

/** The reason (field 1) of a Reject body. */
function scanReject (buf: Uint8Array, end: number, out: ScannedMessage): void {
  while (cursor.pos < end) {
    const tag = cursor.readVarint(buf)
    if (tag >>> 3 === FIELD_REJECT_REASON && (tag & 7) === 0) out.reason = cursor.readVarint(buf)
    else cursor.skip(buf, tag & 7)
  }
}

interface EnvelopeFields {
  report: number
  logonReply: number
  reject: number
  reportReason: number
  cancelRejected: number
  reportWarning: number
}

const CLIENT_FIELDS: EnvelopeFields = {
  report: FIELD_CLIENT_EXECUTION_REPORT, logonReply: FIELD_CLIENT_LOGON_REPLY, reject: FIELD_CLIENT_REJECT,
  reportReason: FIELD_CLIENT_REPORT_REASON, cancelRejected: -1, reportWarning: FIELD_CLIENT_REPORT_WARNING,
}
const LINK_FIELDS: EnvelopeFields = {
  report: FIELD_LINK_REPORT, logonReply: FIELD_LINK_LOGON_REPLY, reject: -1,
  reportReason: FIELD_LINK_REPORT_REASON, cancelRejected: FIELD_LINK_CANCEL_REJECTED, reportWarning: -1,
}

function scanEnvelope (buf: Uint8Array, start: number, end: number, out: ScannedMessage, fields: EnvelopeFields): void {
  out.kind = 'other'
  out.reason = 0
  out.warning = false
  cursor.pos = start
  while (cursor.pos < end) {
    const tag = cursor.readVarint(buf)
    const field = tag >>> 3
    if ((tag & 7) === 2 && field === fields.report) {
      const length = cursor.readVarint(buf)
      out.kind = 'report'
      scanReport(buf, cursor.pos + length, out, fields.reportReason, fields.cancelRejected, fields.reportWarning)
      return
    }
    if ((tag & 7) === 2 && field === fields.logonReply) { out.kind = 'logon-reply'; return }
    if ((tag & 7) === 2 && field === fields.reject) {
      const length = cursor.readVarint(buf)
      out.kind = 'reject'
      scanReject(buf, cursor.pos + length, out)
      return
    }
    cursor.skip(buf, tag & 7)
  }
}

/** Scans a ClientEnvelope payload for an execution report, logon reply or reject. */
export function scanClientEnvelope (buf: Uint8Array, start: number, end: number, out: ScannedMessage): void {
  scanEnvelope(buf, start, end, out, CLIENT_FIELDS)
}

/** Scans a LinkEnvelope payload for a report or logon reply. */
export function scanLinkEnvelope (buf: Uint8Array, start: number, end: number, out: ScannedMessage): void {
  scanEnvelope(buf, start, end, out, LINK_FIELDS)
}
