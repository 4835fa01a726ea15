// Hand-written protobuf codecs for the messages every order crosses:
// decode of a client NewOrder or CancelOrder (inside its ClientEnvelope)
// and of the exchange link's execution report (inside its LinkEnvelope);
// encode of the ExecutionReport (inside its ClientEnvelope) and of the
// link's new order and cancel (inside a length-prefixed LinkEnvelope).
// And their mirrors on the exchange's side of the link, which the
// simulator (exchange-sim/) uses: decode of the link's new order and
// cancel, encode of the link's execution report as a frame.
// Everything else, and every frame these decoders do not take, goes
// through protobufjs (client-codec.ts, link-codec.ts): the .proto stays
// the contract, and test/hot-codecs-property.test.ts proves these codecs
// read and write exactly what protobufjs does.
//
// Why by hand: protobufjs allocates a Reader, a message object per level
// and a Writer with its own buffer per call; on the platform lane those
// were the largest share of the CPU per order (bench `micro` has
// hand against protobufjs per message). Here:
// - decoders write into objects reused for every frame (one set per
//   decoder: the client edge and the exchange link each own one), so a
//   decoded message is valid only until the next decode;
// - encoders write into a WireScratch (wire-scratch.ts) and return a
//   view of it, valid until its owner resets it.
//
// Decoding: the fast path, or protobufjs. A decoder returns false for
// anything it does not take: another body, a group (wire types 3 and 4),
// or any malformed input (a truncated varint, a length past the end, bad
// UTF-8, field number 0, a tag or length encoded past 32 bits). The
// caller then decodes the same bytes with protobufjs, which either
// decodes them (groups, other bodies) or throws exactly as it always did,
// so the error, its code and its text are those of the protobufjs path
// by construction. Every reading rule below is protobufjs 8's
// (src/reader.js), so that a frame the fast path takes is one protobufjs
// takes, with the same values:
// - a known field with the wrong wire type is skipped as unknown;
// - unknown fields are skipped: varints of any length, 64- and 32-bit
//   fixed values, length-delimited bytes;
// - a repeated field takes its last value; a repeated body merges into
//   the first unless another body came between (the oneof replaced it);
// - 64-bit integers go through long-off.ts safeNumberOfBits (NaN at or
//   above 2^53), 32-bit ones keep their low 32 bits, enums are read as
//   int32, bools are true when any bit is set;
// - strings are strict UTF-8 (a TextDecoder with fatal and ignoreBOM).
//
// Encoding: proto3 as protobufjs 8 writes it: fields in field-number
// order, a field at its default (0, '', false, null) left out, 64-bit
// values through long-off.ts assertSafeWireNumber (GH_ERR_UNSAFE_INTEGER)
// and truncated toward zero, negative enums in 10 bytes, strings shorter
// than 40 UTF-16 units through protobufjs's own utf8.write and longer ones
// through Buffer (as its BufferWriter does; the two differ only for a
// lone surrogate). Messages are plain objects whose fields are numbers:
// no Long, no $unknowns (the lane never builds either).
import './long-off.js'
import $protobuf from 'protobufjs/minimal.js'
import { assertSafeWireNumber, safeNumberOfBits } from './long-off.js'
import { CLIENT_BODY_FIELDS, ENVELOPE_SEQ_FIELD, LINK_BODY_FIELDS } from './body-fields.js'
import { LINK_LENGTH_PREFIX_BYTES } from './constants.js'
import type { ClientEnvelopeInit, ExecutionReportInit, LinkEnvelopeInit, LinkExecutionReportInit } from './messages.js'

/**
 * Where an encoder writes: `reserve` makes room for a message of at most
 * n bytes at `pos` in `buf`, `take` hands out the bytes written and moves
 * `pos` past them. A WireScratch (wire-scratch.ts) is one; the
 * simulator's frame batch (exchange-sim/link-frame-writer.ts) another.
 */
export interface EncodeTarget {
  buf: Buffer
  pos: number
  reserve (maxBytes: number): void
  take (length: number): Buffer
}

const WIRE_VARINT = 0
const WIRE_FIXED64 = 1
const WIRE_LENGTH_DELIMITED = 2
const WIRE_FIXED32 = 5

const TWO_POW_32 = 4294967296
const EMPTY = new Uint8Array(0)
/** protobufjs's strict reader uses the same options (util/utf8.js readStrict). */
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const utf8Write = $protobuf.util.utf8.write
/** protobufjs BufferWriter.string: below this many UTF-16 units util.utf8.write, from it on Buffer's UTF-8 writer. */
const SHORT_STRING_UNITS = 40

const SEQ_FIELD = ENVELOPE_SEQ_FIELD
const SENT_TIME_FIELD = 2
const LINK_POSSIBLE_DUPLICATE_FIELD = 3

function fieldRange (fields: Readonly<Record<string, number>>): { first: number, last: number } {
  const numbers = Object.values(fields)
  return { first: Math.min(...numbers), last: Math.max(...numbers) }
}
const CLIENT_BODIES = fieldRange(CLIENT_BODY_FIELDS)
const LINK_BODIES = fieldRange(LINK_BODY_FIELDS)
const CLIENT_NEW_ORDER = CLIENT_BODY_FIELDS.newOrder!
const CLIENT_CANCEL_ORDER = CLIENT_BODY_FIELDS.cancelOrder!
const CLIENT_EXECUTION_REPORT = CLIENT_BODY_FIELDS.executionReport!
const LINK_NEW_ORDER = LINK_BODY_FIELDS.newOrder!
const LINK_CANCEL = LINK_BODY_FIELDS.cancel!
const LINK_REPORT = LINK_BODY_FIELDS.report!

// ---- reading -------------------------------------------------------------

/**
 * A position in the bytes being decoded, bounded by `end` (the enclosing
 * message's end). A reader that meets malformed input sets `failed`,
 * moves to `end` (so every loop stops) and returns a dummy value; the
 * decoders check `failed` before anything is used.
 */
class WireCursor {
  buf: Uint8Array = EMPTY
  pos = 0
  end = 0
  failed = false

  start (bytes: Uint8Array): void {
    this.buf = bytes
    this.pos = 0
    this.end = bytes.length
    this.failed = false
  }

  fail (): number {
    this.failed = true
    this.pos = this.end
    return 0
  }

  private failBool (): boolean {
    this.fail()
    return false
  }

  /** A tag: at most 5 bytes, the 5th at most 15 (protobufjs: "invalid tag encoding"). */
  tag (): number {
    const buf = this.buf
    let pos = this.pos
    const end = this.end
    if (pos < end && buf[pos]! < 128) {
      this.pos = pos + 1
      return buf[pos]!
    }
    let value = 0
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) return this.fail()
      const b = buf[pos++]!
      value = (value | (b & 127) << shift) >>> 0
      if (b < 128) {
        this.pos = pos
        return value
      }
    }
    if (pos >= end || buf[pos]! > 15) return this.fail()
    value = (value | buf[pos]! << 28) >>> 0
    this.pos = pos + 1
    return value
  }

  /** A length: at most 5 bytes, the 5th at most 7 (protobufjs: "invalid length encoding"). */
  size (): number {
    const buf = this.buf
    let pos = this.pos
    const end = this.end
    let value = 0
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) return this.fail()
      const b = buf[pos++]!
      value = (value | (b & 127) << shift) >>> 0
      if (b < 128) {
        this.pos = pos
        return value
      }
    }
    if (pos >= end || buf[pos]! > 7) return this.fail()
    value = (value | buf[pos]! << 28) >>> 0
    this.pos = pos + 1
    return value
  }

  /** A varint of at most 10 bytes, as its low 32 bits (uint32; `| 0` makes it int32). */
  uint32 (): number {
    const buf = this.buf
    let pos = this.pos
    const end = this.end
    let value = 0
    for (let i = 0; i < 10; i++) {
      if (pos >= end) return this.fail()
      const b = buf[pos++]!
      if (i < 5) value = (value | (b & 127) << 7 * i) >>> 0
      if (b < 128) {
        this.pos = pos
        return value
      }
    }
    return this.fail()
  }

  /** A 64-bit varint (at most 10 bytes) as an exact number, or NaN at or above 2^53 (long-off.ts). */
  uint64 (unsigned: boolean): number {
    const buf = this.buf
    let pos = this.pos
    const end = this.end
    if (pos < end && buf[pos]! < 128) {
      this.pos = pos + 1
      return buf[pos]!
    }
    // The halves as protobufjs's readLongVarint builds them.
    let lo = 0
    let hi = 0
    for (let i = 0; i < 10; i++) {
      if (pos >= end) return this.fail()
      const b = buf[pos++]!
      if (i < 4) {
        lo = (lo | (b & 127) << i * 7) >>> 0
      } else if (i === 4) {
        lo = (lo | (b & 127) << 28) >>> 0
        hi = (hi | (b & 127) >> 4) >>> 0
      } else {
        hi = (hi | (b & 127) << (i - 5) * 7 + 3) >>> 0
      }
      if (b < 128) {
        this.pos = pos
        return safeNumberOfBits(lo, hi, unsigned)
      }
    }
    return this.fail()
  }

  /** A bool: a varint of at most 10 bytes, true when any bit is set. */
  bool (): boolean {
    const buf = this.buf
    let pos = this.pos
    const end = this.end
    let value = false
    for (let i = 0; i < 10; i++) {
      if (pos >= end) return this.failBool()
      const b = buf[pos++]!
      if ((b & 127) !== 0) value = true
      if (b < 128) {
        this.pos = pos
        return value
      }
    }
    return this.failBool()
  }

  /** A strict UTF-8 string. */
  string (): string {
    const length = this.size()
    if (this.failed) return ''
    const start = this.pos
    const stop = start + length
    if (stop > this.end) {
      this.fail()
      return ''
    }
    this.pos = stop
    const buf = this.buf
    let text = ''
    for (let i = start; i < stop; i++) {
      const c = buf[i]!
      if (c >= 128) {
        try {
          return text + strictUtf8.decode(buf.subarray(i, stop))
        } catch {
          this.fail()
          return ''
        }
      }
      text += String.fromCharCode(c)
    }
    return text
  }

  /**
   * A string that repeats from message to message (an instrument): read
   * through `cache`, so a known one costs no allocation. Anything not
   * short ASCII is read as string() reads it.
   */
  cachedString (cache: StringCache): string {
    const start = this.pos
    const length = this.size()
    if (this.failed) return ''
    const from = this.pos
    const stop = from + length
    if (length > MAX_CACHED_STRING_BYTES || stop > this.end) {
      this.pos = start
      return this.string()
    }
    const buf = this.buf
    let hash = length
    for (let i = from; i < stop; i++) {
      const c = buf[i]!
      if (c >= 128) {
        this.pos = start
        return this.string()
      }
      hash = Math.imul(hash, 31) + c | 0
    }
    this.pos = stop
    return cache.get(buf, from, stop, hash)
  }

  /** Skips one unknown field's value. Groups, end-group tags, wire types 6 and 7 and field number 0 are left to protobufjs. */
  skip (wire: number, field: number): void {
    if (field === 0) {
      this.fail()
      return
    }
    switch (wire) {
      case WIRE_VARINT: {
        // Any length: protobufjs's skip() reads to the first byte below 128.
        const buf = this.buf
        let pos = this.pos
        for (;;) {
          if (pos >= this.end) {
            this.fail()
            return
          }
          if (buf[pos++]! < 128) break
        }
        this.pos = pos
        return
      }
      case WIRE_FIXED64:
        this.skipBytes(8)
        return
      case WIRE_LENGTH_DELIMITED: {
        const length = this.size()
        if (!this.failed) this.skipBytes(length)
        return
      }
      case WIRE_FIXED32:
        this.skipBytes(4)
        return
      default:
        this.fail()
    }
  }

  private skipBytes (length: number): void {
    if (this.pos + length > this.end) this.fail()
    else this.pos += length
  }

  /** Enters a length-delimited value: returns the enclosing end to restore with leave(), or -1 (failed). */
  enter (): number {
    const length = this.size()
    if (this.failed) return -1
    const stop = this.pos + length
    if (stop > this.end) {
      this.fail()
      return -1
    }
    const outer = this.end
    this.end = stop
    return outer
  }

  leave (outer: number): void {
    this.end = outer
  }
}

const MAX_CACHED_STRING_BYTES = 32
const STRING_CACHE_SLOTS = 64

/**
 * Direct-mapped cache of short ASCII strings by the hash of their bytes;
 * a slot whose string differs from the bytes is replaced.
 */
class StringCache {
  private readonly slots: string[] = new Array<string>(STRING_CACHE_SLOTS).fill('')

  get (buf: Uint8Array, from: number, stop: number, hash: number): string {
    const slot = hash & STRING_CACHE_SLOTS - 1
    const cached = this.slots[slot]!
    const length = stop - from
    if (cached.length === length) {
      let same = true
      for (let i = 0; i < length; i++) {
        if (cached.charCodeAt(i) !== buf[from + i]) {
          same = false
          break
        }
      }
      if (same) return cached
    }
    let text = ''
    for (let i = from; i < stop; i++) text += String.fromCharCode(buf[i]!)
    this.slots[slot] = text
    return text
  }
}

/** A client NewOrder as decoded by the hand decoder: the fields of the generated class, plain numbers. */
export class HotNewOrder {
  clientOrderId = 0
  instrument = ''
  side = 0
  price = 0
  quantityLots = 0
  timeInForce = 0
  reduceOnly = false
  offsetFlag = 0
  hedgeFlag = 0
}

export class HotCancelOrder {
  clientOrderId = 0
}

/** A decoded ClientEnvelope carrying a NewOrder, a CancelOrder or no body; reused for every frame. */
export class HotClientEnvelope {
  seq = 0
  sentTimeUs = 0
  body: 'newOrder' | 'cancelOrder' | undefined = undefined
  newOrder: HotNewOrder | null = null
  cancelOrder: HotCancelOrder | null = null
}

function readNewOrder (c: WireCursor, o: HotNewOrder, instruments: StringCache): void {
  while (c.pos < c.end) {
    const tag = c.tag()
    const field = tag >>> 3
    const wire = tag & 7
    switch (field) {
      case 1: if (wire === WIRE_VARINT) { o.clientOrderId = c.uint64(true); continue } break
      case 2: if (wire === WIRE_LENGTH_DELIMITED) { o.instrument = c.cachedString(instruments); continue } break
      case 3: if (wire === WIRE_VARINT) { o.side = c.uint32() | 0; continue } break
      case 4: if (wire === WIRE_VARINT) { o.price = c.uint64(false); continue } break
      case 5: if (wire === WIRE_VARINT) { o.quantityLots = c.uint32(); continue } break
      case 6: if (wire === WIRE_VARINT) { o.timeInForce = c.uint32() | 0; continue } break
      case 7: if (wire === WIRE_VARINT) { o.reduceOnly = c.bool(); continue } break
      case 8: if (wire === WIRE_VARINT) { o.offsetFlag = c.uint32() | 0; continue } break
      case 9: if (wire === WIRE_VARINT) { o.hedgeFlag = c.uint32() | 0; continue } break
    }
    c.skip(wire, field)
  }
}

function readCancelOrder (c: WireCursor, o: HotCancelOrder): void {
  while (c.pos < c.end) {
    const tag = c.tag()
    const field = tag >>> 3
    const wire = tag & 7
    if (field === 1 && wire === WIRE_VARINT) o.clientOrderId = c.uint64(true)
    else c.skip(wire, field)
  }
}

function resetNewOrder (o: HotNewOrder): void {
  o.clientOrderId = 0
  o.instrument = ''
  o.side = 0
  o.price = 0
  o.quantityLots = 0
  o.timeInForce = 0
  o.reduceOnly = false
  o.offsetFlag = 0
  o.hedgeFlag = 0
}

/**
 * Decodes ClientEnvelopes that carry a new order or a cancel into one
 * reused HotClientEnvelope. One per client edge: the envelope and its
 * body are overwritten by the next decode.
 */
export class HotClientDecoder {
  readonly envelope = new HotClientEnvelope()
  private readonly newOrder = new HotNewOrder()
  private readonly cancelOrder = new HotCancelOrder()
  private readonly cursor = new WireCursor()
  /** A lane trades a few dozen instruments: their names are read without allocating. */
  private readonly instruments = new StringCache()

  /**
   * True when `bytes` decoded into `envelope`; false when they are not
   * for the fast path (another body, a group, or malformed): decode them
   * with protobufjs (client-codec.ts), which takes or refuses them.
   */
  decode (bytes: Uint8Array): boolean {
    const c = this.cursor
    const e = this.envelope
    c.start(bytes)
    e.seq = 0
    e.sentTimeUs = 0
    e.body = undefined
    e.newOrder = null
    e.cancelOrder = null
    while (c.pos < c.end) {
      const tag = c.tag()
      const field = tag >>> 3
      const wire = tag & 7
      if (wire === WIRE_VARINT && field === SEQ_FIELD) {
        e.seq = c.uint64(true)
      } else if (wire === WIRE_VARINT && field === SENT_TIME_FIELD) {
        e.sentTimeUs = c.uint64(true)
      } else if (wire === WIRE_LENGTH_DELIMITED && field >= CLIENT_BODIES.first && field <= CLIENT_BODIES.last) {
        if (field === CLIENT_NEW_ORDER) {
          // A body repeated back to back merges (protobufjs decodes into the
          // existing message); after another body it starts afresh.
          if (e.body !== 'newOrder') {
            resetNewOrder(this.newOrder)
            e.body = 'newOrder'
            e.newOrder = this.newOrder
            e.cancelOrder = null
          }
          const outer = c.enter()
          if (outer < 0) return false
          readNewOrder(c, this.newOrder, this.instruments)
          c.leave(outer)
        } else if (field === CLIENT_CANCEL_ORDER) {
          if (e.body !== 'cancelOrder') {
            this.cancelOrder.clientOrderId = 0
            e.body = 'cancelOrder'
            e.cancelOrder = this.cancelOrder
            e.newOrder = null
          }
          const outer = c.enter()
          if (outer < 0) return false
          readCancelOrder(c, this.cancelOrder)
          c.leave(outer)
        } else {
          return false
        }
      } else {
        c.skip(wire, field)
      }
      if (c.failed) return false
    }
    return !c.failed
  }
}

/** A link execution report as decoded by the hand decoder. */
export class HotLinkExecutionReport {
  orderId = 0
  execType = 0
  exchangeOrderId = 0
  lastPrice = 0
  lastLots = 0
  cumulativeLots = 0
  leavesLots = 0
  reason = 0
  text = ''
  transactTimeUs = 0
  cancelRejected = false
  tradeId = ''
}

/** A decoded LinkEnvelope carrying a report or no body; reused for every frame. */
export class HotLinkEnvelope {
  seq = 0
  sentTimeUs = 0
  possibleDuplicate = false
  body: 'report' | undefined = undefined
  report: HotLinkExecutionReport | null = null
}

function resetLinkReport (r: HotLinkExecutionReport): void {
  r.orderId = 0
  r.execType = 0
  r.exchangeOrderId = 0
  r.lastPrice = 0
  r.lastLots = 0
  r.cumulativeLots = 0
  r.leavesLots = 0
  r.reason = 0
  r.text = ''
  r.transactTimeUs = 0
  r.cancelRejected = false
  r.tradeId = ''
}

function readLinkReport (c: WireCursor, r: HotLinkExecutionReport): void {
  while (c.pos < c.end) {
    const tag = c.tag()
    const field = tag >>> 3
    const wire = tag & 7
    switch (field) {
      case 1: if (wire === WIRE_VARINT) { r.orderId = c.uint64(true); continue } break
      case 2: if (wire === WIRE_VARINT) { r.execType = c.uint32() | 0; continue } break
      case 3: if (wire === WIRE_VARINT) { r.exchangeOrderId = c.uint64(true); continue } break
      case 4: if (wire === WIRE_VARINT) { r.lastPrice = c.uint64(false); continue } break
      case 5: if (wire === WIRE_VARINT) { r.lastLots = c.uint32(); continue } break
      case 6: if (wire === WIRE_VARINT) { r.cumulativeLots = c.uint32(); continue } break
      case 7: if (wire === WIRE_VARINT) { r.leavesLots = c.uint32(); continue } break
      case 8: if (wire === WIRE_VARINT) { r.reason = c.uint32() | 0; continue } break
      case 9: if (wire === WIRE_LENGTH_DELIMITED) { r.text = c.string(); continue } break
      case 10: if (wire === WIRE_VARINT) { r.transactTimeUs = c.uint64(true); continue } break
      case 11: if (wire === WIRE_VARINT) { r.cancelRejected = c.bool(); continue } break
      case 12: if (wire === WIRE_LENGTH_DELIMITED) { r.tradeId = c.string(); continue } break
    }
    c.skip(wire, field)
  }
}

/**
 * Decodes LinkEnvelopes that carry an execution report into one reused
 * HotLinkEnvelope. One per exchange link.
 */
export class HotLinkDecoder {
  readonly envelope = new HotLinkEnvelope()
  private readonly report = new HotLinkExecutionReport()
  private readonly cursor = new WireCursor()

  /** True when `bytes` decoded into `envelope`; false: decode them with protobufjs (link-codec.ts). */
  decode (bytes: Uint8Array): boolean {
    const c = this.cursor
    const e = this.envelope
    c.start(bytes)
    e.seq = 0
    e.sentTimeUs = 0
    e.possibleDuplicate = false
    e.body = undefined
    e.report = null
    while (c.pos < c.end) {
      const tag = c.tag()
      const field = tag >>> 3
      const wire = tag & 7
      if (wire === WIRE_VARINT && field === SEQ_FIELD) {
        e.seq = c.uint64(true)
      } else if (wire === WIRE_VARINT && field === SENT_TIME_FIELD) {
        e.sentTimeUs = c.uint64(true)
      } else if (wire === WIRE_VARINT && field === LINK_POSSIBLE_DUPLICATE_FIELD) {
        e.possibleDuplicate = c.bool()
      } else if (wire === WIRE_LENGTH_DELIMITED && field >= LINK_BODIES.first && field <= LINK_BODIES.last) {
        if (field !== LINK_REPORT) return false
        if (e.body !== 'report') {
          resetLinkReport(this.report)
          e.body = 'report'
          e.report = this.report
        }
        const outer = c.enter()
        if (outer < 0) return false
        readLinkReport(c, this.report)
        c.leave(outer)
      } else {
        c.skip(wire, field)
      }
      if (c.failed) return false
    }
    return !c.failed
  }
}

/** A link new order as the exchange's side decodes it by hand: the fields of the generated class, plain numbers. */
export class HotLinkNewOrder {
  orderId = 0
  account = ''
  instrument = ''
  side = 0
  price = 0
  quantityLots = 0
  timeInForce = 0
  offsetFlag = 0
  hedgeFlag = 0
}

export class HotLinkCancel {
  orderId = 0
}

/** A decoded LinkEnvelope carrying a new order, a cancel or no body; reused for every frame. */
export class HotLinkOrderEnvelope {
  seq = 0
  sentTimeUs = 0
  possibleDuplicate = false
  body: 'newOrder' | 'cancel' | undefined = undefined
  newOrder: HotLinkNewOrder | null = null
  cancel: HotLinkCancel | null = null
}

function resetLinkNewOrder (o: HotLinkNewOrder): void {
  o.orderId = 0
  o.account = ''
  o.instrument = ''
  o.side = 0
  o.price = 0
  o.quantityLots = 0
  o.timeInForce = 0
  o.offsetFlag = 0
  o.hedgeFlag = 0
}

function readLinkNewOrder (c: WireCursor, o: HotLinkNewOrder, accounts: StringCache, instruments: StringCache): void {
  while (c.pos < c.end) {
    const tag = c.tag()
    const field = tag >>> 3
    const wire = tag & 7
    switch (field) {
      case 1: if (wire === WIRE_VARINT) { o.orderId = c.uint64(true); continue } break
      case 2: if (wire === WIRE_LENGTH_DELIMITED) { o.account = c.cachedString(accounts); continue } break
      case 3: if (wire === WIRE_LENGTH_DELIMITED) { o.instrument = c.cachedString(instruments); continue } break
      case 4: if (wire === WIRE_VARINT) { o.side = c.uint32() | 0; continue } break
      case 5: if (wire === WIRE_VARINT) { o.price = c.uint64(false); continue } break
      case 6: if (wire === WIRE_VARINT) { o.quantityLots = c.uint32(); continue } break
      case 7: if (wire === WIRE_VARINT) { o.timeInForce = c.uint32() | 0; continue } break
      case 8: if (wire === WIRE_VARINT) { o.offsetFlag = c.uint32() | 0; continue } break
      case 9: if (wire === WIRE_VARINT) { o.hedgeFlag = c.uint32() | 0; continue } break
    }
    c.skip(wire, field)
  }
}

/**
 * Decodes LinkEnvelopes that carry a new order or a cancel (what the
 * exchange receives per order) into one reused HotLinkOrderEnvelope. One
 * per simulator connection; the same rules as HotLinkDecoder.
 */
export class HotLinkOrderDecoder {
  readonly envelope = new HotLinkOrderEnvelope()
  private readonly newOrder = new HotLinkNewOrder()
  private readonly cancel = new HotLinkCancel()
  private readonly cursor = new WireCursor()
  private readonly accounts = new StringCache()
  private readonly instruments = new StringCache()

  /** True when `bytes` decoded into `envelope`; false: decode them with protobufjs (link-codec.ts). */
  decode (bytes: Uint8Array): boolean {
    const c = this.cursor
    const e = this.envelope
    c.start(bytes)
    e.seq = 0
    e.sentTimeUs = 0
    e.possibleDuplicate = false
    e.body = undefined
    e.newOrder = null
    e.cancel = null
    while (c.pos < c.end) {
      const tag = c.tag()
      const field = tag >>> 3
      const wire = tag & 7
      if (wire === WIRE_VARINT && field === SEQ_FIELD) {
        e.seq = c.uint64(true)
      } else if (wire === WIRE_VARINT && field === SENT_TIME_FIELD) {
        e.sentTimeUs = c.uint64(true)
      } else if (wire === WIRE_VARINT && field === LINK_POSSIBLE_DUPLICATE_FIELD) {
        e.possibleDuplicate = c.bool()
      } else if (wire === WIRE_LENGTH_DELIMITED && field >= LINK_BODIES.first && field <= LINK_BODIES.last) {
        if (field === LINK_NEW_ORDER) {
          // Back to back the body merges; after another body it starts afresh (HotClientDecoder).
          if (e.body !== 'newOrder') {
            resetLinkNewOrder(this.newOrder)
            e.body = 'newOrder'
            e.newOrder = this.newOrder
            e.cancel = null
          }
          const outer = c.enter()
          if (outer < 0) return false
          readLinkNewOrder(c, this.newOrder, this.accounts, this.instruments)
          c.leave(outer)
        } else if (field === LINK_CANCEL) {
          if (e.body !== 'cancel') {
            this.cancel.orderId = 0
            e.body = 'cancel'
            e.cancel = this.cancel
            e.newOrder = null
          }
          const outer = c.enter()
          if (outer < 0) return false
          // LinkCancel has the one field order_id (1), read as CancelOrder's.
          readLinkCancel(c, this.cancel)
          c.leave(outer)
        } else {
          return false
        }
      } else {
        c.skip(wire, field)
      }
      if (c.failed) return false
    }
    return !c.failed
  }
}

function readLinkCancel (c: WireCursor, o: HotLinkCancel): void {
  while (c.pos < c.end) {
    const tag = c.tag()
    const field = tag >>> 3
    const wire = tag & 7
    if (field === 1 && wire === WIRE_VARINT) o.orderId = c.uint64(true)
    else c.skip(wire, field)
  }
}

// ---- writing -------------------------------------------------------------
//
// Each put* writes at `pos` and returns the position after it. The caller
// has reserved room (WireScratch.reserve) for the worst case first.

function putVarint32 (buf: Buffer, pos: number, value: number): number {
  while (value > 127) {
    buf[pos++] = value & 127 | 128
    value >>>= 7
  }
  buf[pos] = value
  return pos + 1
}

function putVarint64 (buf: Buffer, pos: number, lo: number, hi: number): number {
  while (hi !== 0) {
    buf[pos++] = lo & 127 | 128
    lo = (lo >>> 7 | hi << 25) >>> 0
    hi >>>= 7
  }
  while (lo > 127) {
    buf[pos++] = lo & 127 | 128
    lo = lo >>> 7
  }
  buf[pos] = lo
  return pos + 1
}

/** A 64-bit field (uint64 or int64: the same varint) of a nonzero number: exact or GH_ERR_UNSAFE_INTEGER, truncated toward zero (protobufjs LongBits.fromNumber). */
function putInt64 (buf: Buffer, pos: number, value: number): number {
  assertSafeWireNumber(value)
  if (value > 0 && value < 128) {
    buf[pos] = value
    return pos + 1
  }
  const negative = value < 0
  if (negative) value = -value
  let lo = value >>> 0
  let hi = (value - lo) / TWO_POW_32 >>> 0
  if (negative) {
    hi = ~hi >>> 0
    lo = ~lo >>> 0
    if (++lo > 0xffffffff) {
      lo = 0
      if (++hi > 0xffffffff) hi = 0
    }
  }
  return putVarint64(buf, pos, lo, hi)
}

/** An int32 (enum) field: a negative value takes 10 bytes, as the spec and protobufjs write it. */
function putInt32 (buf: Buffer, pos: number, value: number): number {
  value |= 0
  if (value < 0) return putVarint64(buf, pos, value >>> 0, 0xffffffff)
  return putVarint32(buf, pos, value)
}

/** A string field's length and bytes. */
function putString (buf: Buffer, pos: number, value: string): number {
  if (value.length < SHORT_STRING_UNITS) {
    // At most 3 bytes per unit: under 128 bytes, a one-byte length.
    const length = utf8Write(value, buf, pos + 1)
    buf[pos] = length
    return pos + 1 + length
  }
  const length = Buffer.byteLength(value, 'utf8')
  pos = putVarint32(buf, pos, length)
  return pos + buf.write(value, pos, length, 'utf8')
}

/** Worst case of a string field: tag, a 5-byte length, 3 bytes per UTF-16 unit. */
function stringBound (value: string | null | undefined): number {
  return value == null ? 0 : 7 + 3 * value.length
}

/**
 * Length-delimited bodies are written after a 2-byte gap for their
 * length, then the gap is fitted to the length's varint (one byte for a
 * body under 128 bytes: the body moves back by one).
 */
const LENGTH_GAP_BYTES = 2

function closeDelimited (buf: Buffer, lengthPos: number, end: number): number {
  const bodyStart = lengthPos + LENGTH_GAP_BYTES
  const length = end - bodyStart
  const lengthBytes = length < 128 ? 1 : length < 16384 ? 2 : length < 2097152 ? 3 : length < 268435456 ? 4 : 5
  if (lengthBytes !== LENGTH_GAP_BYTES) buf.copyWithin(lengthPos + lengthBytes, bodyStart, end)
  putVarint32(buf, lengthPos, length)
  return end + lengthBytes - LENGTH_GAP_BYTES
}

type WireNumber = number | { low: number, high: number } | null | undefined

/** The number a field holds, for the lane's messages (plain numbers: long-off.ts); null or undefined is the default. */
function num (value: WireNumber): number {
  return value == null ? 0 : value as number
}

interface MonitorWarningLike {
  monitor?: number | null
  observed?: WireNumber
  warningLevel?: WireNumber
  blockingLevel?: WireNumber
  text?: string | null
}

function putWarning (buf: Buffer, pos: number, w: MonitorWarningLike): number {
  let v: number
  if ((v = num(w.monitor)) !== 0) { buf[pos++] = 8; pos = putInt32(buf, pos, v) }
  if ((v = num(w.observed)) !== 0) { buf[pos++] = 16; pos = putInt64(buf, pos, v) }
  if ((v = num(w.warningLevel)) !== 0) { buf[pos++] = 24; pos = putInt64(buf, pos, v) }
  if ((v = num(w.blockingLevel)) !== 0) { buf[pos++] = 32; pos = putInt64(buf, pos, v) }
  if (w.text != null && w.text !== '') { buf[pos++] = 42; pos = putString(buf, pos, w.text) }
  return pos
}

/** Tag bytes of ExecutionReport fields 16 and up (two bytes each). */
const TAG_TRANSACT_TIME = 128
const TAG_WARNING = 138
const TAG_OFFSET_FLAG = 144
const TAG_HEDGE_FLAG = 152
const TAG_REPORT_SEQ = 160
const TAG_EXEC_ID = 170
const TAG_TRADE_ID = 178
const TAG_POSSIBLE_DUPLICATE = 184
const TAG_TIME_IN_FORCE = 192

function putExecutionReport (buf: Buffer, pos: number, r: ExecutionReportInit): number {
  let v: number
  if ((v = num(r.clientOrderId)) !== 0) { buf[pos++] = 8; pos = putInt64(buf, pos, v) }
  if ((v = num(r.execType)) !== 0) { buf[pos++] = 16; pos = putInt32(buf, pos, v) }
  if ((v = num(r.exchangeOrderId)) !== 0) { buf[pos++] = 24; pos = putInt64(buf, pos, v) }
  if (r.instrument != null && r.instrument !== '') { buf[pos++] = 34; pos = putString(buf, pos, r.instrument) }
  if ((v = num(r.side)) !== 0) { buf[pos++] = 40; pos = putInt32(buf, pos, v) }
  if ((v = num(r.price)) !== 0) { buf[pos++] = 48; pos = putInt64(buf, pos, v) }
  if ((v = num(r.quantityLots)) !== 0) { buf[pos++] = 56; pos = putVarint32(buf, pos, v >>> 0) }
  if ((v = num(r.lastPrice)) !== 0) { buf[pos++] = 64; pos = putInt64(buf, pos, v) }
  if ((v = num(r.lastLots)) !== 0) { buf[pos++] = 72; pos = putVarint32(buf, pos, v >>> 0) }
  if ((v = num(r.cumulativeLots)) !== 0) { buf[pos++] = 80; pos = putVarint32(buf, pos, v >>> 0) }
  if ((v = num(r.leavesLots)) !== 0) { buf[pos++] = 88; pos = putVarint32(buf, pos, v >>> 0) }
  if ((v = num(r.reason)) !== 0) { buf[pos++] = 96; pos = putInt32(buf, pos, v) }
  if (r.text != null && r.text !== '') { buf[pos++] = 106; pos = putString(buf, pos, r.text) }
  if ((v = num(r.limit)) !== 0) { buf[pos++] = 112; pos = putInt64(buf, pos, v) }
  if ((v = num(r.observed)) !== 0) { buf[pos++] = 120; pos = putInt64(buf, pos, v) }
  if ((v = num(r.transactTimeUs)) !== 0) { pos = putVarint32(buf, pos, TAG_TRANSACT_TIME); pos = putInt64(buf, pos, v) }
  if (r.warning != null) {
    pos = putVarint32(buf, pos, TAG_WARNING)
    pos = closeDelimited(buf, pos, putWarning(buf, pos + LENGTH_GAP_BYTES, r.warning))
  }
  if ((v = num(r.offsetFlag)) !== 0) { pos = putVarint32(buf, pos, TAG_OFFSET_FLAG); pos = putInt32(buf, pos, v) }
  if ((v = num(r.hedgeFlag)) !== 0) { pos = putVarint32(buf, pos, TAG_HEDGE_FLAG); pos = putInt32(buf, pos, v) }
  if ((v = num(r.reportSeq)) !== 0) { pos = putVarint32(buf, pos, TAG_REPORT_SEQ); pos = putInt64(buf, pos, v) }
  if (r.execId != null && r.execId !== '') { pos = putVarint32(buf, pos, TAG_EXEC_ID); pos = putString(buf, pos, r.execId) }
  if (r.tradeId != null && r.tradeId !== '') { pos = putVarint32(buf, pos, TAG_TRADE_ID); pos = putString(buf, pos, r.tradeId) }
  if (r.possibleDuplicate != null && r.possibleDuplicate !== false) { pos = putVarint32(buf, pos, TAG_POSSIBLE_DUPLICATE); buf[pos++] = r.possibleDuplicate ? 1 : 0 }
  if ((v = num(r.timeInForce)) !== 0) { pos = putVarint32(buf, pos, TAG_TIME_IN_FORCE); pos = putInt32(buf, pos, v) }
  return pos
}

/** Every fixed-size field at its largest (2-byte tag, 10-byte value), plus the length gaps. */
const FIXED_FIELDS_BOUND = 32 * 12

function reportBound (r: ExecutionReportInit): number {
  const w = r.warning
  return FIXED_FIELDS_BOUND + stringBound(r.instrument) + stringBound(r.text) + stringBound(r.execId) + stringBound(r.tradeId) +
    (w == null ? 0 : FIXED_FIELDS_BOUND + stringBound(w.text))
}

/** A ClientEnvelope's seq and sent time (fields 1 and 2). */
function putEnvelopeHead (buf: Buffer, pos: number, seq: WireNumber, sentTimeUs: WireNumber): number {
  let v: number
  if ((v = num(seq)) !== 0) { buf[pos++] = 8; pos = putInt64(buf, pos, v) }
  if ((v = num(sentTimeUs)) !== 0) { buf[pos++] = 16; pos = putInt64(buf, pos, v) }
  return pos
}

const CLIENT_REPORT_TAG = CLIENT_EXECUTION_REPORT << 3 | WIRE_LENGTH_DELIMITED

/**
 * Encodes a ClientEnvelope whose one body is an execution report, into
 * `scratch`; the bytes are a view valid until the scratch is reset.
 * Throws GH_ERR_UNSAFE_INTEGER, as protobufjs does (long-off.ts), for a
 * 64-bit value it cannot carry exactly; the scratch is then unchanged.
 */
export function encodeExecutionReportEnvelope (scratch: EncodeTarget, envelope: ClientEnvelopeInit): Buffer {
  const report = envelope.executionReport!
  scratch.reserve(FIXED_FIELDS_BOUND + reportBound(report))
  const buf = scratch.buf
  const start = scratch.pos
  let pos = putEnvelopeHead(buf, start, envelope.seq, envelope.sentTimeUs)
  pos = putVarint32(buf, pos, CLIENT_REPORT_TAG)
  pos = closeDelimited(buf, pos, putExecutionReport(buf, pos + LENGTH_GAP_BYTES, report))
  return scratch.take(pos - start)
}

type LinkNewOrderLike = NonNullable<LinkEnvelopeInit['newOrder']>

function putLinkNewOrder (buf: Buffer, pos: number, o: LinkNewOrderLike): number {
  let v: number
  if ((v = num(o.orderId)) !== 0) { buf[pos++] = 8; pos = putInt64(buf, pos, v) }
  if (o.account != null && o.account !== '') { buf[pos++] = 18; pos = putString(buf, pos, o.account) }
  if (o.instrument != null && o.instrument !== '') { buf[pos++] = 26; pos = putString(buf, pos, o.instrument) }
  if ((v = num(o.side)) !== 0) { buf[pos++] = 32; pos = putInt32(buf, pos, v) }
  if ((v = num(o.price)) !== 0) { buf[pos++] = 40; pos = putInt64(buf, pos, v) }
  if ((v = num(o.quantityLots)) !== 0) { buf[pos++] = 48; pos = putVarint32(buf, pos, v >>> 0) }
  if ((v = num(o.timeInForce)) !== 0) { buf[pos++] = 56; pos = putInt32(buf, pos, v) }
  if ((v = num(o.offsetFlag)) !== 0) { buf[pos++] = 64; pos = putInt32(buf, pos, v) }
  if ((v = num(o.hedgeFlag)) !== 0) { buf[pos++] = 72; pos = putInt32(buf, pos, v) }
  return pos
}

const LINK_NEW_ORDER_TAG = LINK_NEW_ORDER << 3 | WIRE_LENGTH_DELIMITED
const LINK_CANCEL_TAG = LINK_CANCEL << 3 | WIRE_LENGTH_DELIMITED

/**
 * Encodes a LinkEnvelope whose one body is a new order or a cancel as a
 * whole frame (length prefix included, link-codec.ts) into `scratch`;
 * null for any other body (encode it with link-codec.ts encodeLinkFrame).
 * Throws GH_ERR_UNSAFE_INTEGER like protobufjs.
 *
 *   start    start + 4
 *   +--------+--------------------------------------------------+
 *   | length | seq | sent_time_us | possible_dup | new_order/cancel |
 *   | u32 BE | LinkEnvelope (length bytes)                      |
 *   +--------+--------------------------------------------------+
 */
export function encodeLinkOrderFrame (scratch: EncodeTarget, envelope: LinkEnvelopeInit): Buffer | null {
  const order = envelope.newOrder
  const cancel = order == null ? envelope.cancel : null
  if (order == null && cancel == null) return null
  scratch.reserve(order == null ? FIXED_FIELDS_BOUND : FIXED_FIELDS_BOUND + stringBound(order.account) + stringBound(order.instrument))
  const buf = scratch.buf
  const start = scratch.pos
  let pos = putEnvelopeHead(buf, start + LINK_LENGTH_PREFIX_BYTES, envelope.seq, envelope.sentTimeUs)
  if (envelope.possibleDuplicate != null && envelope.possibleDuplicate !== false) { buf[pos++] = 24; buf[pos++] = envelope.possibleDuplicate ? 1 : 0 }
  if (order != null) {
    buf[pos++] = LINK_NEW_ORDER_TAG
    pos = closeDelimited(buf, pos, putLinkNewOrder(buf, pos + LENGTH_GAP_BYTES, order))
  } else {
    buf[pos++] = LINK_CANCEL_TAG
    const bodyStart = pos + LENGTH_GAP_BYTES
    let end = bodyStart
    const orderId = num(cancel!.orderId)
    if (orderId !== 0) { buf[end++] = 8; end = putInt64(buf, end, orderId) }
    pos = closeDelimited(buf, pos, end)
  }
  buf.writeUInt32BE(pos - start - LINK_LENGTH_PREFIX_BYTES, start)
  return scratch.take(pos - start)
}

function putLinkReport (buf: Buffer, pos: number, r: LinkExecutionReportInit): number {
  let v: number
  if ((v = num(r.orderId)) !== 0) { buf[pos++] = 8; pos = putInt64(buf, pos, v) }
  if ((v = num(r.execType)) !== 0) { buf[pos++] = 16; pos = putInt32(buf, pos, v) }
  if ((v = num(r.exchangeOrderId)) !== 0) { buf[pos++] = 24; pos = putInt64(buf, pos, v) }
  if ((v = num(r.lastPrice)) !== 0) { buf[pos++] = 32; pos = putInt64(buf, pos, v) }
  if ((v = num(r.lastLots)) !== 0) { buf[pos++] = 40; pos = putVarint32(buf, pos, v >>> 0) }
  if ((v = num(r.cumulativeLots)) !== 0) { buf[pos++] = 48; pos = putVarint32(buf, pos, v >>> 0) }
  if ((v = num(r.leavesLots)) !== 0) { buf[pos++] = 56; pos = putVarint32(buf, pos, v >>> 0) }
  if ((v = num(r.reason)) !== 0) { buf[pos++] = 64; pos = putInt32(buf, pos, v) }
  if (r.text != null && r.text !== '') { buf[pos++] = 74; pos = putString(buf, pos, r.text) }
  if ((v = num(r.transactTimeUs)) !== 0) { buf[pos++] = 80; pos = putInt64(buf, pos, v) }
  if (r.cancelRejected != null && r.cancelRejected !== false) { buf[pos++] = 88; buf[pos++] = r.cancelRejected ? 1 : 0 }
  if (r.tradeId != null && r.tradeId !== '') { buf[pos++] = 98; pos = putString(buf, pos, r.tradeId) }
  return pos
}

const LINK_REPORT_TAG = LINK_REPORT << 3 | WIRE_LENGTH_DELIMITED

/**
 * Encodes a LinkEnvelope whose one body is an execution report (what the
 * exchange sends per order event) as a whole frame, length prefix
 * included, into `target`; null for any other body (encode it with
 * link-codec.ts encodeLinkFrame). Throws GH_ERR_UNSAFE_INTEGER like
 * protobufjs, leaving `target` unchanged. The frame's layout is
 * encodeLinkOrderFrame's.
 */
export function encodeLinkReportFrame (target: EncodeTarget, envelope: LinkEnvelopeInit): Buffer | null {
  const length = writeLinkReportFrame(target, envelope)
  return length < 0 ? null : target.take(length)
}

/**
 * encodeLinkReportFrame without the view: writes the frame at
 * `target.pos` and returns its length (or -1 for another body), leaving
 * `pos` to the caller (the simulator's frame batch moves it: no view per
 * frame).
 */
export function writeLinkReportFrame (target: EncodeTarget, envelope: LinkEnvelopeInit): number {
  const report = envelope.report
  if (report == null) return -1
  target.reserve(FIXED_FIELDS_BOUND + stringBound(report.text) + stringBound(report.tradeId))
  const buf = target.buf
  const start = target.pos
  let pos = putEnvelopeHead(buf, start + LINK_LENGTH_PREFIX_BYTES, envelope.seq, envelope.sentTimeUs)
  if (envelope.possibleDuplicate != null && envelope.possibleDuplicate !== false) { buf[pos++] = 24; buf[pos++] = envelope.possibleDuplicate ? 1 : 0 }
  buf[pos++] = LINK_REPORT_TAG
  pos = closeDelimited(buf, pos, putLinkReport(buf, pos + LENGTH_GAP_BYTES, report))
  buf.writeUInt32BE(pos - start - LINK_LENGTH_PREFIX_BYTES, start)
  return pos - start
}
