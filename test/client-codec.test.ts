// The client protocol codec (protocol/client-codec.ts): every body kind
// round-trips, 64-bit fields stay exact numbers, garbage is refused with
// a stable code.
import t from 'tap'
import fc from 'fast-check'
import { strict as assert } from 'node:assert'
import { ClientEnvelope, type ClientEnvelopeInit } from '../protocol/messages.js'
import { decodeClientEnvelope, encodeClientEnvelope } from '../protocol/client-codec.js'
import { ProtocolError } from '../protocol/errors.js'

const MAX = Number.MAX_SAFE_INTEGER

const wireInt = fc.integer({ min: 0, max: MAX })
const signedWireInt = fc.integer({ min: -MAX, max: MAX })
const u32 = fc.integer({ min: 0, max: 0xffff_ffff })
const text = fc.string({ unit: 'grapheme', maxLength: 24 })
const enumValue = fc.integer({ min: 0, max: 5 })
const reason = fc.constantFrom(0, 1, 7, 20, 63, 75, 100, 106, 500, 501)

const instrument = fc.record({
  symbol: text, exchange: text, priceDecimals: fc.integer({ min: 0, max: 9 }), tickSize: wireInt, multiplier: u32,
  referencePrice: signedWireInt, lowerLimitPrice: signedWireInt, upperLimitPrice: signedWireInt,
  maxOrderLots: u32, status: fc.integer({ min: 0, max: 3 }), marginRateBps: u32,
})

/** One arbitrary per body kind of the oneof, so every kind is exercised. */
const BODIES = {
  logon: fc.record({ account: text, password: text, heartbeatIntervalMs: u32 }),
  logonReply: fc.record({
    ok: fc.boolean(), reason, text, sessionId: wireInt, lane: fc.constantFrom('terminal', 'platform', 'hft'),
    tradingDay: fc.constantFrom('20260105', ''), heartbeatIntervalMs: u32, retryAfterMs: u32,
    instruments: fc.array(instrument, { maxLength: 3 }),
  }),
  newOrder: fc.record({
    clientOrderId: wireInt, instrument: text, side: enumValue, price: signedWireInt, quantityLots: u32,
    timeInForce: enumValue, reduceOnly: fc.boolean(),
  }),
  cancelOrder: fc.record({ clientOrderId: wireInt }),
  executionReport: fc.record({
    clientOrderId: wireInt, execType: enumValue, exchangeOrderId: wireInt, instrument: text, side: enumValue,
    price: signedWireInt, quantityLots: u32, lastPrice: signedWireInt, lastLots: u32, cumulativeLots: u32,
    leavesLots: u32, reason, text, limit: signedWireInt, observed: signedWireInt, transactTimeUs: wireInt,
  }),
  reject: fc.record({ reason, text, refSeq: wireInt, clientOrderId: wireInt }),
  heartbeat: fc.record({ testId: wireInt }),
  logout: fc.record({ text }),
} as const

type BodyKind = keyof typeof BODIES

const envelopeArb = fc.record({ seq: wireInt, sentTimeUs: wireInt, kind: fc.constantFrom(...Object.keys(BODIES) as BodyKind[]) })
  .chain(({ seq, sentTimeUs, kind }) => (BODIES[kind] as fc.Arbitrary<object>)
    .map((body) => ({ kind, envelope: { seq, sentTimeUs, [kind]: body } as ClientEnvelopeInit })))

/**
 * Every field of `expected` is on `actual` with the same value and type;
 * fields the sender left at their default decode to that default (from the
 * message prototype), so reading through the prototype is right here.
 */
function assertFields (actual: unknown, expected: unknown, path: string): void {
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path} is an array`)
    assert.equal(actual.length, expected.length, `${path}.length`)
    expected.forEach((e, i) => assertFields(actual[i], e, `${path}[${i}]`))
    return
  }
  if (expected !== null && typeof expected === 'object') {
    for (const [key, value] of Object.entries(expected)) {
      assertFields((actual as Record<string, unknown>)[key], value, `${path}.${key}`)
    }
    return
  }
  assert.equal(typeof actual, typeof expected, `${path} type`)
  assert.equal(actual, expected, path)
}

t.test('property: every body kind round-trips with exact 64-bit numbers', async (t) => {
  const seen = new Set<string>()
  fc.assert(fc.property(envelopeArb, ({ kind, envelope }) => {
    seen.add(kind)
    const decoded = decodeClientEnvelope(encodeClientEnvelope(envelope))
    assert.equal(decoded.body, kind)
    assertFields(decoded, envelope, 'envelope')
    // Re-encoding the decoded message gives the same bytes.
    assert.deepEqual(Buffer.from(encodeClientEnvelope(decoded)), Buffer.from(encodeClientEnvelope(envelope)))
  }), { numRuns: 200 })
  t.same([...seen].sort(), Object.keys(BODIES).sort(), 'every body kind was generated')
})

t.test('64-bit fields decode as exact numbers at 2^53-1', async (t) => {
  const decoded = decodeClientEnvelope(encodeClientEnvelope({
    seq: MAX,
    sentTimeUs: MAX,
    executionReport: { clientOrderId: MAX, exchangeOrderId: MAX, price: -MAX, limit: MAX, observed: -1, transactTimeUs: MAX },
  }))
  for (const [name, value, want] of [
    ['seq', decoded.seq, MAX],
    ['sent_time_us', decoded.sentTimeUs, MAX],
    ['client_order_id', decoded.executionReport!.clientOrderId, MAX],
    ['exchange_order_id', decoded.executionReport!.exchangeOrderId, MAX],
    ['price', decoded.executionReport!.price, -MAX],
    ['limit', decoded.executionReport!.limit, MAX],
    ['observed', decoded.executionReport!.observed, -1],
    ['transact_time_us', decoded.executionReport!.transactTimeUs, MAX],
  ] as const) {
    t.equal(typeof value, 'number', `${name} is a number`)
    t.equal(value, want, `${name} is exact`)
  }
})

t.test('garbage bytes throw ProtocolError GH_ERR_MALFORMED_FRAME', async (t) => {
  const cases: Array<[string, number[]]> = [
    ['truncated varint', [0x08, 0xff]],
    ['length past the end', [0x62, 0x05, 0x08]],
    ['invalid wire type 7', [0x0f]],
    ['all 0xff', [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]],
  ]
  for (const [name, bytes] of cases) {
    t.throws(() => decodeClientEnvelope(Uint8Array.from(bytes)), { name: 'ProtocolError', code: 'GH_ERR_MALFORMED_FRAME' }, name)
  }
  let err: unknown
  try { decodeClientEnvelope(Uint8Array.from([0x0f])) } catch (e) { err = e }
  t.ok(err instanceof ProtocolError)
  t.ok((err as ProtocolError).cause instanceof Error, 'the decoder\'s complaint is kept as the cause')
})

t.test('property: random bytes either decode or throw ProtocolError, never anything else', async (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
    try {
      decodeClientEnvelope(bytes)
    } catch (err) {
      assert.ok(err instanceof ProtocolError, `unexpected ${String(err)}`)
      assert.equal(err.code, 'GH_ERR_MALFORMED_FRAME')
    }
  }), { numRuns: 200 })
  t.pass('property held')
})

t.test('an envelope with no body decodes with body undefined', async (t) => {
  const empty = decodeClientEnvelope(new Uint8Array(0))
  t.equal(empty.body, undefined)
  t.equal(empty.seq, 0)
  const onlySeq = decodeClientEnvelope(encodeClientEnvelope({ seq: 7, sentTimeUs: 9 }))
  t.equal(onlySeq.body, undefined)
  t.equal(onlySeq.seq, 7)
  // A body from a newer protocol version (unknown field 99) is skipped, not an error.
  const future = Uint8Array.from([...ClientEnvelope.encode({ seq: 3 }).finish(), 0x9a, 0x06, 0x01, 0x00])
  const decoded = decodeClientEnvelope(future)
  t.equal(decoded.body, undefined)
  t.equal(decoded.seq, 3)
})
