// The hand codecs (protocol/hot-codec.ts) against protobufjs, the
// reference, on both sides of the link (the gateway's and the exchange
// simulator's): every encoder writes the bytes protobufjs writes, byte for
// byte; every decoder that takes a frame reads the values protobufjs
// reads, and takes a frame only when protobufjs accepts it. Frames are
// built field by field, with unknown fields of every wire type, repeated
// and out-of-order fields, over-long varints, values past 2^53 and bad
// UTF-8; plus arbitrary byte strings and damaged frames. FC_RUNS sets
// the number of runs (default 300 per property: a short CI run).
import t from 'tap'
import fc from 'fast-check'
import { strict as assert } from 'node:assert'
import $protobuf from 'protobufjs/minimal.js'
import { ClientEnvelope, LinkEnvelope, type ClientEnvelopeInit, type ExecutionReportInit, type LinkEnvelopeInit } from '../protocol/messages.js'
import { encodeLinkFrame, LinkFrameDecoder } from '../protocol/link-codec.js'
import { encodeClientEnvelope } from '../protocol/client-codec.js'
import { HotClientDecoder, HotLinkDecoder, HotLinkOrderDecoder, encodeExecutionReportEnvelope, encodeLinkOrderFrame, encodeLinkReportFrame } from '../protocol/hot-codec.js'
import { WireScratch } from '../protocol/wire-scratch.js'
import { ERR_UNSAFE_INTEGER } from '../protocol/errors.js'

const RUNS = Number(process.env.FC_RUNS ?? 300)
const MAX = Number.MAX_SAFE_INTEGER

// ---- values -----------------------------------------------------------------

const safeUint = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: MAX }))
const safeInt = fc.oneof(fc.integer({ min: -300, max: 300 }), fc.integer({ min: -MAX, max: MAX }))
const u32 = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 0xffff_ffff }))
/** Enums as the lane may hold them, undefined values and negatives included (10-byte varints). */
const enumValue = fc.oneof(fc.integer({ min: 0, max: 6 }), fc.integer({ min: -2_147_483_648, max: 2_147_483_647 }))
/** Well-formed text (no lone surrogates: the decoders never yield one), short and long (the two string writers, one- and two-byte lengths). */
const text = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.string({ unit: 'grapheme', minLength: 35, maxLength: 90 }),
  fc.string({ minLength: 100, maxLength: 300 }),
)

const warningArb = fc.record({
  monitor: enumValue, observed: safeInt, warningLevel: safeInt, blockingLevel: safeInt, text,
}, { requiredKeys: [] })

/** An execution report with any subset of its 24 fields, each possibly at its default. */
const reportArb: fc.Arbitrary<ExecutionReportInit> = fc.record({
  clientOrderId: safeUint, execType: enumValue, exchangeOrderId: safeUint, instrument: text, side: enumValue,
  price: safeInt, quantityLots: u32, lastPrice: safeInt, lastLots: u32, cumulativeLots: u32, leavesLots: u32,
  reason: enumValue, text, limit: safeInt, observed: safeInt, transactTimeUs: safeUint, warning: fc.option(warningArb, { nil: null }),
  offsetFlag: enumValue, hedgeFlag: enumValue, reportSeq: safeUint, execId: text, tradeId: text,
  possibleDuplicate: fc.boolean(), timeInForce: enumValue,
}, { requiredKeys: [] })

const linkNewOrderArb = fc.record({
  orderId: safeUint, account: text, instrument: text, side: enumValue, price: safeInt, quantityLots: u32,
  timeInForce: enumValue, offsetFlag: enumValue, hedgeFlag: enumValue,
}, { requiredKeys: [] })

const linkEnvelopeArb: fc.Arbitrary<LinkEnvelopeInit> = fc.tuple(
  fc.record({ seq: safeUint, sentTimeUs: safeUint, possibleDuplicate: fc.boolean() }, { requiredKeys: [] }),
  fc.oneof(
    linkNewOrderArb.map((newOrder) => ({ newOrder })),
    fc.record({ orderId: safeUint }, { requiredKeys: [] }).map((cancel) => ({ cancel })),
  ),
).map(([head, body]) => ({ ...head, ...body }))

const linkReportArb = fc.record({
  orderId: safeUint, execType: enumValue, exchangeOrderId: safeUint, lastPrice: safeInt, lastLots: u32,
  cumulativeLots: u32, leavesLots: u32, reason: enumValue, text, transactTimeUs: safeUint, cancelRejected: fc.boolean(), tradeId: text,
}, { requiredKeys: [] })

function smallScratch (): WireScratch {
  // Small chunks, so that runs cross chunk boundaries and take new chunks.
  return new WireScratch(512)
}

// ---- encoders ------------------------------------------------------------------

t.test('property: an ExecutionReport envelope encodes byte for byte as protobufjs encodes it', async (t) => {
  const scratch = smallScratch()
  fc.assert(fc.property(safeUint, safeUint, reportArb, fc.integer({ min: 1, max: 4 }), (seq, sentTimeUs, executionReport, repeat) => {
    const envelope: ClientEnvelopeInit = { seq, sentTimeUs, executionReport }
    const expected = Buffer.from(ClientEnvelope.encode(envelope).finish())
    // Several messages into one scratch: earlier views stay intact.
    const views = Array.from({ length: repeat }, () => encodeExecutionReportEnvelope(scratch, envelope))
    for (const view of views) assert.deepEqual(Buffer.from(view), expected)
    if (scratch.pos > 4096) scratch.reset()
  }), { numRuns: RUNS })
  t.pass('property held')
})

t.test('property: a link new order or cancel frame encodes byte for byte as encodeLinkFrame does', async (t) => {
  const scratch = smallScratch()
  fc.assert(fc.property(linkEnvelopeArb, (envelope) => {
    const view = encodeLinkOrderFrame(scratch, envelope)
    assert.notEqual(view, null)
    assert.deepEqual(Buffer.from(view!), encodeLinkFrame(envelope))
    scratch.reset()
  }), { numRuns: RUNS })
  t.equal(encodeLinkOrderFrame(scratch, { seq: 1, heartbeat: {} }), null, 'another body is left to protobufjs')
})

t.test('property: a link execution report frame (the simulator\'s side) encodes byte for byte as encodeLinkFrame does', async (t) => {
  const scratch = smallScratch()
  fc.assert(fc.property(
    fc.record({ seq: safeUint, sentTimeUs: safeUint, possibleDuplicate: fc.boolean() }, { requiredKeys: [] }), linkReportArb, fc.integer({ min: 1, max: 3 }),
    (head, report, repeat) => {
      const envelope: LinkEnvelopeInit = { ...head, report }
      const expected = encodeLinkFrame(envelope)
      const views = Array.from({ length: repeat }, () => encodeLinkReportFrame(scratch, envelope))
      for (const view of views) assert.deepEqual(Buffer.from(view!), expected)
      if (scratch.pos > 4096) scratch.reset()
    }), { numRuns: RUNS })
  t.equal(encodeLinkReportFrame(scratch, { seq: 1, heartbeat: {} }), null, 'another body is left to protobufjs')
  t.equal(encodeLinkReportFrame(scratch, { seq: 1, report: null }), null, 'so is a null report')
})

/** 64-bit values the encoders must refuse or write exactly as protobufjs: fractions, -0, 2^53 and past, NaN, infinities. */
const awkwardNumber = fc.oneof(
  safeInt,
  fc.double({ min: -MAX, max: MAX, noNaN: true }),
  fc.constantFrom(-0, 0.5, -0.5, 2 ** 53, -(2 ** 53), 2 ** 53 + 2, 2 ** 64, -(2 ** 64), NaN, Infinity, -Infinity),
)

function outcome (encode: () => Uint8Array): { bytes?: string, code?: string } {
  try {
    return { bytes: Buffer.from(encode()).toString('hex') }
  } catch (err) {
    return { code: (err as { code?: string }).code ?? String(err) }
  }
}

t.test('property: awkward 64-bit values are refused (GH_ERR_UNSAFE_INTEGER) or written exactly as protobufjs does', async (t) => {
  const scratch = smallScratch()
  let refused = 0
  fc.assert(fc.property(awkwardNumber, awkwardNumber, awkwardNumber, (a, b, c) => {
    const envelope: ClientEnvelopeInit = { seq: 1, executionReport: { clientOrderId: a, price: b, transactTimeUs: c, limit: b, warning: { observed: c } } }
    const want = outcome(() => ClientEnvelope.encode(envelope).finish())
    const before = scratch.pos
    const got = outcome(() => encodeExecutionReportEnvelope(scratch, envelope))
    assert.deepEqual(got, want)
    if (want.code !== undefined) {
      assert.equal(want.code, ERR_UNSAFE_INTEGER)
      assert.equal(scratch.pos, before, 'a refused message takes no room')
      refused++
    }
    const link: LinkEnvelopeInit = { seq: 2, newOrder: { orderId: a, price: b, account: 'a' } }
    assert.deepEqual(outcome(() => encodeLinkOrderFrame(scratch, link)!), outcome(() => encodeLinkFrame(link)))
    const report: LinkEnvelopeInit = { seq: c, report: { orderId: a, lastPrice: b, transactTimeUs: c, text: 'x' } }
    const beforeReport = scratch.pos
    const reportOutcome = outcome(() => encodeLinkReportFrame(scratch, report)!)
    assert.deepEqual(reportOutcome, outcome(() => encodeLinkFrame(report)))
    if (reportOutcome.code !== undefined) assert.equal(scratch.pos, beforeReport, 'a refused report frame takes no room')
    scratch.reset()
  }), { numRuns: RUNS })
  t.ok(refused > 0, `some values were refused (${refused})`)
})

// ---- frames built field by field -------------------------------------------------

function varint (value: bigint, padding = 0): number[] {
  const out: number[] = []
  let v = BigInt.asUintN(64, value)
  while (v > 127n) {
    out.push(Number(v & 127n) | 128)
    v >>= 7n
  }
  if (padding === 0) {
    out.push(Number(v))
    return out
  }
  // Over-long: the last group carried on in zero groups (valid up to 10 bytes for known fields).
  out.push(Number(v) | 128)
  for (let i = 1; i < padding; i++) out.push(128)
  out.push(0)
  return out
}

function tagBytes (field: number, wire: number): number[] {
  return varint(BigInt(field) << 3n | BigInt(wire))
}

/** One field as raw bytes. */
type Piece = number[]

const anyVarint = fc.oneof(
  fc.constantFrom(0n, 1n, 64n, 127n, 128n, 2n ** 28n, 2n ** 31n, 2n ** 32n - 1n, 2n ** 32n, 2n ** 35n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n, -1n),
  fc.bigInt({ min: 0n, max: 300n }),
  fc.bigInt({ min: 0n, max: 2n ** 53n + 5n }),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  fc.bigInt({ min: -(2n ** 63n), max: -1n }),
)
const padding = fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 10 }) })

const varintField = (field: number): fc.Arbitrary<Piece> =>
  fc.tuple(anyVarint, padding).map(([v, pad]) => [...tagBytes(field, 0), ...varint(v, pad)])

const utf8Bytes = fc.oneof(
  { weight: 6, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }).map((s) => [...Buffer.from(s, 'utf8')]) },
  { weight: 1, arbitrary: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ minLength: 60, maxLength: 140 }).map((s) => [...Buffer.from(s, 'utf8')]) },
)
const stringField = (field: number): fc.Arbitrary<Piece> =>
  utf8Bytes.map((bytes) => [...tagBytes(field, 2), ...varint(BigInt(bytes.length)), ...bytes])

/** An unknown field (or a known one with the wrong wire type) of wire type 0, 1, 2 or 5. */
const unknownField = (maxField: number): fc.Arbitrary<Piece> => fc.tuple(
  fc.oneof(fc.integer({ min: 1, max: maxField }), fc.integer({ min: 1, max: 2 ** 29 - 1 })),
  fc.constantFrom(0, 1, 2, 5),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 9 }),
  fc.integer({ min: 0, max: 14 }),
).map(([field, wire, v, bytes, longPad]) => {
  const tag = tagBytes(field, wire)
  switch (wire) {
    case 0: return [...tag, ...varint(v, longPad > 10 ? longPad : 0)] // protobufjs skips varints of any length
    case 1: return [...tag, ...bytes.concat(0, 0, 0, 0, 0, 0, 0, 0).slice(0, 8)]
    case 5: return [...tag, ...bytes.concat(0, 0, 0, 0).slice(0, 4)]
    default: return [...tag, ...varint(BigInt(bytes.length)), ...bytes]
  }
})

function message (pieces: fc.Arbitrary<Piece>[], maxField: number): fc.Arbitrary<number[]> {
  return fc.array(fc.oneof({ weight: 6, arbitrary: fc.oneof(...pieces) }, { weight: 1, arbitrary: unknownField(maxField) }), { maxLength: 14 })
    .map((list) => list.flat())
}

function delimited (field: number, body: fc.Arbitrary<number[]>): fc.Arbitrary<Piece> {
  return body.map((bytes) => [...tagBytes(field, 2), ...varint(BigInt(bytes.length)), ...bytes])
}

const newOrderBody = message([
  varintField(1), stringField(2), varintField(3), varintField(4), varintField(5),
  varintField(6), varintField(7), varintField(8), varintField(9),
], 12)
const cancelBody = message([varintField(1)], 4)

/** A ClientEnvelope of a new order or a cancel, as any encoder (or attacker) may lay it out. */
const clientFrame = fc.array(fc.oneof(
  { weight: 2, arbitrary: varintField(1) },
  { weight: 2, arbitrary: varintField(2) },
  { weight: 4, arbitrary: delimited(12, newOrderBody) },
  { weight: 2, arbitrary: delimited(13, cancelBody) },
  { weight: 1, arbitrary: unknownField(30) },
), { minLength: 1, maxLength: 6 }).map((list) => Uint8Array.from(list.flat()))

const linkReportBody = message([
  varintField(1), varintField(2), varintField(3), varintField(4), varintField(5), varintField(6),
  varintField(7), varintField(8), stringField(9), varintField(10), varintField(11), stringField(12),
], 14)

const linkNewOrderBody = message([
  varintField(1), stringField(2), stringField(3), varintField(4), varintField(5),
  varintField(6), varintField(7), varintField(8), varintField(9),
], 12)

/** A LinkEnvelope of a new order or a cancel, as the simulator may receive it. */
const linkOrderFrame = fc.array(fc.oneof(
  { weight: 2, arbitrary: varintField(1) },
  { weight: 1, arbitrary: varintField(2) },
  { weight: 1, arbitrary: varintField(3) },
  { weight: 4, arbitrary: delimited(13, linkNewOrderBody) },
  { weight: 2, arbitrary: delimited(14, cancelBody) },
  { weight: 1, arbitrary: unknownField(20) },
), { minLength: 1, maxLength: 6 }).map((list) => Uint8Array.from(list.flat()))

const linkFrame = fc.array(fc.oneof(
  { weight: 2, arbitrary: varintField(1) },
  { weight: 1, arbitrary: varintField(2) },
  { weight: 1, arbitrary: varintField(3) },
  { weight: 4, arbitrary: delimited(15, linkReportBody) },
  { weight: 1, arbitrary: unknownField(20) },
), { minLength: 1, maxLength: 6 }).map((list) => Uint8Array.from(list.flat()))

// ---- comparing decodes ------------------------------------------------------------

const NEW_ORDER_KEYS = ['clientOrderId', 'instrument', 'side', 'price', 'quantityLots', 'timeInForce', 'reduceOnly', 'offsetFlag', 'hedgeFlag'] as const
const LINK_NEW_ORDER_KEYS = ['orderId', 'account', 'instrument', 'side', 'price', 'quantityLots', 'timeInForce', 'offsetFlag', 'hedgeFlag'] as const
const LINK_REPORT_KEYS = ['orderId', 'execType', 'exchangeOrderId', 'lastPrice', 'lastLots', 'cumulativeLots', 'leavesLots', 'reason', 'text', 'transactTimeUs', 'cancelRejected', 'tradeId'] as const

function pick (o: unknown, keys: readonly string[]): Record<string, unknown> | null {
  if (o == null) return null
  const out: Record<string, unknown> = {}
  for (const key of keys) out[key] = (o as Record<string, unknown>)[key]
  return out
}

/** What the lane reads of a decoded ClientEnvelope, from either decoder. */
function clientView (e: unknown): unknown {
  const env = e as Record<string, unknown>
  const body = env.body as string | undefined
  return {
    seq: env.seq,
    sentTimeUs: env.sentTimeUs,
    body,
    newOrder: body === 'newOrder' ? pick(env.newOrder, NEW_ORDER_KEYS) : null,
    cancelOrder: body === 'cancelOrder' ? pick(env.cancelOrder, ['clientOrderId']) : null,
  }
}

function linkView (e: unknown): unknown {
  const env = e as Record<string, unknown>
  const body = env.body as string | undefined
  return { seq: env.seq, sentTimeUs: env.sentTimeUs, possibleDuplicate: env.possibleDuplicate, body, report: body === 'report' ? pick(env.report, LINK_REPORT_KEYS) : null }
}

function linkOrderView (e: unknown): unknown {
  const env = e as Record<string, unknown>
  const body = env.body as string | undefined
  return {
    seq: env.seq,
    sentTimeUs: env.sentTimeUs,
    possibleDuplicate: env.possibleDuplicate,
    body,
    newOrder: body === 'newOrder' ? pick(env.newOrder, LINK_NEW_ORDER_KEYS) : null,
    cancel: body === 'cancel' ? pick(env.cancel, ['orderId']) : null,
  }
}

function reference<T> (decode: () => T): { ok: true, value: T } | { ok: false } {
  try {
    return { ok: true, value: decode() }
  } catch {
    return { ok: false }
  }
}

/** Groups and other bodies are left to protobufjs by design; anything else protobufjs accepts, the fast path must take. */
function mustTake (bytes: Uint8Array, bodyFields: readonly number[], first: number, last: number): boolean {
  // Walk the top level with protobufjs's own reader: any group or other body means the fast path may decline.
  let taken = true
  const reader = $protobuf.Reader.create(bytes)
  try {
    while (reader.pos < reader.len) {
      const tag = reader.uint32()
      const field = tag >>> 3
      const wire = tag & 7
      if (wire === 3 || wire === 4) return false
      if (wire === 2 && field >= first && field <= last && !bodyFields.includes(field)) return false
      if (wire === 2 && bodyFields.includes(field)) {
        const end = reader.uint32() + reader.pos
        while (reader.pos < end) {
          const inner = reader.uint32()
          if ((inner & 7) === 3 || (inner & 7) === 4) return false
          reader.skipType(inner & 7)
        }
      } else {
        reader.skipType(wire)
      }
    }
  } catch {
    taken = false
  }
  return taken
}

function checkClient (decoder: HotClientDecoder, bytes: Uint8Array): void {
  const want = reference(() => ClientEnvelope.decode(bytes))
  const taken = decoder.decode(bytes)
  if (taken) {
    assert.ok(want.ok, 'the fast path took a frame protobufjs refuses')
    assert.deepStrictEqual(clientView(decoder.envelope), clientView(want.value))
  } else if (want.ok) {
    assert.ok(!mustTake(bytes, [12, 13], 10, 26), 'the fast path declined a plain order frame protobufjs accepts')
  }
}

function checkLink (decoder: HotLinkDecoder, bytes: Uint8Array): void {
  const want = reference(() => LinkEnvelope.decode(bytes))
  const taken = decoder.decode(bytes)
  if (taken) {
    assert.ok(want.ok, 'the fast path took a frame protobufjs refuses')
    assert.deepStrictEqual(linkView(decoder.envelope), linkView(want.value))
  } else if (want.ok) {
    assert.ok(!mustTake(bytes, [15], 10, 18), 'the fast path declined a plain report frame protobufjs accepts')
  }
}

function checkLinkOrder (decoder: HotLinkOrderDecoder, bytes: Uint8Array): void {
  const want = reference(() => LinkEnvelope.decode(bytes))
  const taken = decoder.decode(bytes)
  if (taken) {
    assert.ok(want.ok, 'the fast path took a frame protobufjs refuses')
    assert.deepStrictEqual(linkOrderView(decoder.envelope), linkOrderView(want.value))
  } else if (want.ok) {
    assert.ok(!mustTake(bytes, [13, 14], 10, 18), 'the fast path declined a plain order frame protobufjs accepts')
  }
}

t.test('property: link new order and cancel frames (the simulator\'s side), laid out any way, decode as protobufjs decodes them', async (t) => {
  const decoder = new HotLinkOrderDecoder()
  let taken = 0
  fc.assert(fc.property(linkOrderFrame, (bytes) => {
    checkLinkOrder(decoder, bytes)
    if (decoder.decode(bytes)) taken++
  }), { numRuns: RUNS * 2 })
  t.ok(taken > RUNS / 2, `most frames took the fast path (${taken} of ${RUNS * 2})`)
})

t.test('property: client order and cancel frames, laid out any way, decode as protobufjs decodes them', async (t) => {
  const decoder = new HotClientDecoder()
  let taken = 0
  fc.assert(fc.property(clientFrame, (bytes) => {
    checkClient(decoder, bytes)
    if (decoder.decode(bytes)) taken++
  }), { numRuns: RUNS * 2 })
  t.ok(taken > RUNS / 2, `most frames took the fast path (${taken} of ${RUNS * 2})`)
})

t.test('property: link report frames, laid out any way, decode as protobufjs decodes them', async (t) => {
  const decoder = new HotLinkDecoder()
  let taken = 0
  fc.assert(fc.property(linkFrame, (bytes) => {
    checkLink(decoder, bytes)
    if (decoder.decode(bytes)) taken++
  }), { numRuns: RUNS * 2 })
  t.ok(taken > RUNS / 2, `most frames took the fast path (${taken} of ${RUNS * 2})`)
})

t.test('property: arbitrary bytes and damaged frames never throw out of the fast path, which takes only what protobufjs accepts', async (t) => {
  const client = new HotClientDecoder()
  const link = new HotLinkDecoder()
  const damaged = (frame: fc.Arbitrary<Uint8Array>): fc.Arbitrary<Uint8Array> => fc.tuple(frame, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean())
    .map(([bytes, at, value, truncate]) => {
      if (bytes.length === 0) return bytes
      const i = at % bytes.length
      if (truncate) return bytes.subarray(0, i)
      const copy = Uint8Array.from(bytes)
      copy[i] = value
      return copy
    })
  const linkOrder = new HotLinkOrderDecoder()
  const bytesArb = fc.oneof(fc.uint8Array({ maxLength: 64 }), damaged(clientFrame), damaged(linkFrame), damaged(linkOrderFrame))
  fc.assert(fc.property(bytesArb, (bytes) => {
    checkClient(client, bytes)
    checkLink(link, bytes)
    checkLinkOrder(linkOrder, bytes)
  }), { numRuns: RUNS * 2 })
  t.pass('property held')
})

t.test('frames protobufjs encodes decode on the fast path, with the same values', async (t) => {
  const client = new HotClientDecoder()
  const samples: ClientEnvelopeInit[] = [
    { seq: 7, sentTimeUs: 1_767_571_200_123_456, newOrder: { clientOrderId: 42, instrument: 'rb2605', side: 1, price: -3200, quantityLots: 3, timeInForce: 2, reduceOnly: true, offsetFlag: 3, hedgeFlag: 2 } },
    { seq: MAX, cancelOrder: { clientOrderId: MAX } },
    { seq: 1, newOrder: {} },
  ]
  for (const envelope of samples) {
    const bytes = encodeClientEnvelope(envelope)
    t.ok(client.decode(bytes), 'taken')
    t.same(clientView(client.envelope), clientView(ClientEnvelope.decode(bytes)))
  }
  t.notOk(client.decode(encodeClientEnvelope({ seq: 1, heartbeat: { testId: 1 } })), 'a heartbeat is left to protobufjs')
  t.notOk(client.decode(Uint8Array.from([0x0b, 0x0c])), 'a group is left to protobufjs')
  // A 2^53 client_order_id reads as NaN, as protobufjs reads it (field-limits.ts then refuses it).
  t.ok(client.decode(Uint8Array.from([0x62, 0x09, 0x08, ...varint(2n ** 53n)])))
  t.ok(Number.isNaN(client.envelope.newOrder!.clientOrderId))

  const linkOrder = new HotLinkOrderDecoder()
  const linkSamples: LinkEnvelopeInit[] = [
    { seq: 9, sentTimeUs: 1_767_571_200_123_456, newOrder: { orderId: 1_765_000_000_000_001, account: 'demo-taker', instrument: 'rb2605', side: 2, price: -3200, quantityLots: 3, timeInForce: 1, offsetFlag: 4, hedgeFlag: 3 } },
    { seq: MAX, possibleDuplicate: true, cancel: { orderId: MAX } },
    { seq: 1, newOrder: {} },
  ]
  for (const envelope of linkSamples) {
    const bytes = encodeLinkFrame(envelope).subarray(4)
    t.ok(linkOrder.decode(bytes), 'a link order frame is taken')
    t.same(linkOrderView(linkOrder.envelope), linkOrderView(LinkEnvelope.decode(bytes)))
  }
  t.notOk(linkOrder.decode(encodeLinkFrame({ seq: 0, logon: { sessionName: 'x' } }).subarray(4)), 'a logon is left to protobufjs')
  t.notOk(linkOrder.decode(encodeLinkFrame({ seq: 3, report: { orderId: 1 } }).subarray(4)), 'a report is not the exchange\'s to receive: left to protobufjs')
})

t.test('property: link report frames split anywhere: each body decodes on the fast path as protobufjs decodes it', async (t) => {
  const reportArbLink = linkReportArb
  const decoder = new HotLinkDecoder()
  fc.assert(fc.property(
    fc.array(fc.tuple(safeUint, fc.boolean(), reportArbLink), { minLength: 1, maxLength: 8 }),
    fc.array(fc.nat(), { maxLength: 12 }),
    fc.boolean(),
    (reports, cutSeeds, byteByByte) => {
      const stream = Buffer.concat(reports.map(([seq, possibleDuplicate, report]) => encodeLinkFrame({ seq, possibleDuplicate, report })))
      const cuts = byteByByte
        ? Array.from({ length: stream.length }, (_, i) => i)
        : [...new Set(cutSeeds.map((c) => c % (stream.length + 1)))].sort((x, y) => x - y)
      const framer = new LinkFrameDecoder()
      let n = 0
      let from = 0
      for (const cut of [...cuts, stream.length]) {
        framer.push(stream.subarray(from, cut), (body) => {
          assert.ok(decoder.decode(body), 'taken')
          assert.deepStrictEqual(linkView(decoder.envelope), linkView(LinkEnvelope.decode(body)))
          n++
        })
        from = cut
      }
      assert.equal(n, reports.length)
    },
  ), { numRuns: RUNS })
  t.pass('property held')
})

t.test('the scratch grows in new chunks and never moves or overwrites a view before reset()', async (t) => {
  const scratch = new WireScratch(4096)
  const envelopes: ClientEnvelopeInit[] = Array.from({ length: 40 }, (_, i) => ({
    seq: i + 1, executionReport: { clientOrderId: i + 1, instrument: 'rb2605', execId: `20260106-platform-8800123-${i + 1}`, text: 'x'.repeat(i * 7) },
  }))
  const views = envelopes.map((envelope) => encodeExecutionReportEnvelope(scratch, envelope))
  t.ok(scratch.grownChunks > 1 && scratch.grownChunks < envelopes.length / 2, `new chunks were taken, each holding several messages (${scratch.grownChunks})`)
  envelopes.forEach((envelope, i) => { t.same(Buffer.from(views[i]!), Buffer.from(ClientEnvelope.encode(envelope).finish()), `view ${i} intact`) })
  const chunk = scratch.buf
  scratch.reset()
  const again = encodeExecutionReportEnvelope(scratch, envelopes[0]!)
  t.equal(again.buffer, chunk.buffer, 'after reset the current chunk is reused from its start')
  t.equal(again.byteOffset, chunk.byteOffset)
})
