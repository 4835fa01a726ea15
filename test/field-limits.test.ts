// The client field limits (protocol/field-limits.ts) and the exact 64-bit
// codec (protocol/long-off.ts): a decoded envelope is accepted iff every
// field is within its documented limit, accepted values are exactly what
// was sent, and nothing at or above 2^53 is ever rounded into range.
import t from 'tap'
import fc from 'fast-check'
import { strict as assert } from 'node:assert'
import { ClientEnvelope, LinkEnvelope, Side, TimeInForce, type ClientEnvelopeInit, type LinkEnvelopeInit } from '../protocol/messages.js'
import { decodeLinkEnvelope } from '../protocol/link-codec.js'
import type { Side as SideType, TimeInForce as TimeInForceType } from '../protocol/messages.js'
import { decodeClientEnvelope, encodeClientEnvelope } from '../protocol/client-codec.js'
import { CLIENT_FIELD_RULES, FieldCheck, echoableId, validateClientEnvelope, type FieldRule } from '../protocol/field-limits.js'
import { salvageEnvelopeIds } from '../protocol/envelope-salvage.js'
import { wire64 } from './helpers/wire64.js'

const TWO_53 = 2n ** 53n
const MAX_SAFE = TWO_53 - 1n
const TWO_63 = 2n ** 63n
const TWO_64 = 2n ** 64n

t.test('64-bit fields decode exactly below 2^53 and as NaN at or above it, never rounded', async (t) => {
  const unsigned: Array<[bigint, number]> = [
    [0n, 0], [1n, 1], [MAX_SAFE, Number.MAX_SAFE_INTEGER],
    [TWO_53, NaN], [TWO_53 + 1n, NaN], [TWO_53 + 2n, NaN], [2n ** 60n + 3n, NaN], [TWO_64 - 1n, NaN],
  ]
  for (const [value, expected] of unsigned) {
    const decoded = decodeClientEnvelope(encodeClientEnvelope({ seq: wire64(value), heartbeat: { testId: wire64(value) } }))
    t.same([decoded.seq, decoded.heartbeat!.testId], [expected, expected], `uint64 ${value}`)
  }
  const signed: Array<[bigint, number]> = [
    [-1n, -1], [-MAX_SAFE, -Number.MAX_SAFE_INTEGER], [MAX_SAFE, Number.MAX_SAFE_INTEGER],
    [-TWO_53, NaN], [TWO_53, NaN], [2n ** 62n + 1n, NaN], [-TWO_63, NaN], [TWO_63 - 1n, NaN],
  ]
  for (const [value, expected] of signed) {
    const decoded = decodeClientEnvelope(encodeClientEnvelope({ newOrder: { price: wire64(value) } }))
    t.same(decoded.newOrder!.price, expected, `int64 ${value}`)
  }
})

t.test('property: any 64-bit value decodes to itself when safe and to NaN otherwise', async () => {
  fc.assert(fc.property(fc.bigInt({ min: 0n, max: TWO_64 - 1n }), fc.bigInt({ min: -TWO_63, max: TWO_63 - 1n }), (u, s) => {
    const decoded = decodeClientEnvelope(encodeClientEnvelope({ seq: wire64(u), newOrder: { price: wire64(s) } }))
    assert.ok(Object.is(decoded.seq, u <= MAX_SAFE ? Number(u) : NaN), `uint64 ${u}`)
    assert.ok(Object.is(decoded.newOrder!.price, s >= -MAX_SAFE && s <= MAX_SAFE ? Number(s) : NaN), `int64 ${s}`)
  }), { numRuns: 500 })
})

t.test('encoding a number beyond ±(2^53 - 1), or NaN, throws instead of sending another value', async (t) => {
  for (const value of [2 ** 53, 2 ** 53 + 2, 2 ** 64 - 1, -(2 ** 53), NaN, Infinity, -Infinity]) {
    t.throws(() => encodeClientEnvelope({ heartbeat: { testId: value } }), { code: 'GH_ERR_UNSAFE_INTEGER' }, `testId ${value}`)
    t.throws(() => encodeClientEnvelope({ reject: { refSeq: value } }), { code: 'GH_ERR_UNSAFE_INTEGER' }, `refSeq ${value}`)
  }
  t.throws(() => encodeClientEnvelope({ heartbeat: { testId: 2 ** 53 } }),
    { message: '9007199254740992 is not within ±(2^53 - 1); a 64-bit field cannot carry it exactly as a number' })
  t.equal(decodeClientEnvelope(encodeClientEnvelope({ reject: { limit: 1000.5 } })).reject!.limit, 1000, 'a fraction (a money limit in fen) is truncated toward zero, as protobufjs always did')
  for (const value of [0, 1, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER]) {
    const decoded = decodeClientEnvelope(encodeClientEnvelope({ newOrder: { price: value, clientOrderId: Math.abs(value) } }))
    t.same([decoded.newOrder!.price, decoded.newOrder!.clientOrderId], [value, Math.abs(value)], `${value} round-trips`)
  }
})

t.test('enum rules take their values from the .proto', async (t) => {
  const rules = CLIENT_FIELD_RULES.bodies.newOrder!
  t.same(rules.find((r) => r.key === 'side')!.values, [Side.SIDE_UNSPECIFIED, Side.BUY, Side.SELL])
  t.same(rules.find((r) => r.key === 'timeInForce')!.values, [TimeInForce.TIME_IN_FORCE_UNSPECIFIED, TimeInForce.GFD, TimeInForce.FAK, TimeInForce.FOK])
})

t.test('each refusal names the field and its limit', async (t) => {
  const cases: Array<[ClientEnvelopeInit, string, string]> = [
    [{ authenticate: { account: 'a'.repeat(80) } }, 'authenticate.account', 'authenticate.account is 80 characters; at most 64'],
    [{ authenticate: { appId: 'a'.repeat(65) } }, 'authenticate.app_id', 'authenticate.app_id is 65 characters; at most 64'],
    [{ authenticate: { proof: new Uint8Array(33) } }, 'authenticate.proof', 'authenticate.proof is 33 bytes; at most 32'],
    [{ logon: { account: 'x', password: 'p'.repeat(129) } }, 'logon.password', 'logon.password is 129 characters; at most 128'],
    [{ terminalInfo: { ips: new Array<string>(17).fill('10.0.0.1') } }, 'terminal_info.ips', 'terminal_info.ips has 17 entries; at most 16'],
    [{ terminalInfo: { ips: ['10.0.0.1', 'f'.repeat(46)] } }, 'terminal_info.ips', 'terminal_info.ips[1] is 46 characters; at most 45'],
    [{ terminalInfo: { systemDiskPartition: 'C'.repeat(257) } }, 'terminal_info.system_disk_partition', 'terminal_info.system_disk_partition is 257 characters; at most 256'],
    [{ newOrder: { clientOrderId: wire64(TWO_53 + 2n) } }, 'new_order.client_order_id', 'new_order.client_order_id is 2^53 or more; it must be an integer in [0, 9007199254740991] (2^53 - 1)'],
    [{ newOrder: { clientOrderId: 1, price: wire64(2n ** 62n + 1n) } }, 'new_order.price', 'new_order.price is 2^53 or more in magnitude; it must be an integer in [-9007199254740991, 9007199254740991]'],
    [{ newOrder: { clientOrderId: 1, instrument: 'r'.repeat(33) } }, 'new_order.instrument', 'new_order.instrument is 33 characters; at most 32'],
    [{ newOrder: { clientOrderId: 1, side: 9 as SideType } }, 'new_order.side', 'new_order.side is 9, which the protocol does not define; use one of 0 SIDE_UNSPECIFIED, 1 BUY, 2 SELL'],
    [{ newOrder: { clientOrderId: 1, timeInForce: 7 as TimeInForceType } }, 'new_order.time_in_force', 'new_order.time_in_force is 7, which the protocol does not define; use one of 0 TIME_IN_FORCE_UNSPECIFIED, 1 GFD, 2 FAK, 3 FOK'],
    [{ newOrder: { clientOrderId: 1, timeInForce: -1 as TimeInForceType } }, 'new_order.time_in_force', 'new_order.time_in_force is -1, which the protocol does not define; use one of 0 TIME_IN_FORCE_UNSPECIFIED, 1 GFD, 2 FAK, 3 FOK'],
    [{ cancelOrder: { clientOrderId: wire64(TWO_64 - 1n) } }, 'cancel_order.client_order_id', 'cancel_order.client_order_id is 2^53 or more; it must be an integer in [0, 9007199254740991] (2^53 - 1)'],
    [{ heartbeat: { testId: wire64(TWO_64 - 1n) } }, 'heartbeat.test_id', 'heartbeat.test_id is 2^53 or more; it must be an integer in [0, 9007199254740991] (2^53 - 1)'],
    [{ seq: wire64(2n ** 60n + 3n), heartbeat: {} }, 'envelope.seq', 'envelope.seq is 2^53 or more; it must be an integer in [0, 9007199254740991] (2^53 - 1)'],
    [{ sentTimeUs: wire64(TWO_53), heartbeat: {} }, 'envelope.sent_time_us', 'envelope.sent_time_us is 2^53 or more; it must be an integer in [0, 9007199254740991] (2^53 - 1)'],
    [{ logout: { text: 'z'.repeat(257) } }, 'logout.text', 'logout.text is 257 characters; at most 256'],
  ]
  for (const [envelope, path, text] of cases) {
    t.same(validateClientEnvelope(decodeClientEnvelope(encodeClientEnvelope(envelope))), { path, text }, path)
  }
  // At the limit is within it.
  t.equal(validateClientEnvelope(decodeClientEnvelope(encodeClientEnvelope({ authenticate: { account: 'a'.repeat(64), appId: 'b'.repeat(64), proof: new Uint8Array(32) } }))), null)
  t.equal(validateClientEnvelope(decodeClientEnvelope(encodeClientEnvelope({ seq: Number.MAX_SAFE_INTEGER, heartbeat: { testId: Number.MAX_SAFE_INTEGER } }))), null)
})

// ---- property: accepted iff every field is within its limit -----------------

/** A value for a rule, within its limit or outside it, as the sender puts it in the envelope. */
function valueFor (rule: FieldRule, within: boolean): fc.Arbitrary<unknown> {
  const chars = (min: number, max: number): fc.Arbitrary<string> =>
    fc.array(fc.constantFrom('a', 'Z', '7', '.', 'é', '中'), { minLength: min, maxLength: max }).map((a) => a.join(''))
  switch (rule.check) {
    case FieldCheck.UINT64:
      return (within ? fc.bigInt({ min: 0n, max: MAX_SAFE }) : fc.bigInt({ min: TWO_53, max: TWO_64 - 1n })).map(wire64)
    case FieldCheck.INT64:
      return (within
        ? fc.bigInt({ min: -MAX_SAFE, max: MAX_SAFE })
        : fc.oneof(fc.bigInt({ min: TWO_53, max: TWO_63 - 1n }), fc.bigInt({ min: -TWO_63, max: -TWO_53 }))).map(wire64)
    case FieldCheck.STRING:
      return within ? chars(0, rule.max) : chars(rule.max + 1, rule.max + 40)
    case FieldCheck.BYTES:
      return fc.uint8Array(within ? { maxLength: rule.max } : { minLength: rule.max + 1, maxLength: rule.max + 40 })
    case FieldCheck.STRING_LIST:
      return within
        ? fc.array(chars(0, rule.max), { maxLength: rule.maxItems })
        : fc.oneof(
          fc.array(chars(0, rule.max), { minLength: rule.maxItems + 1, maxLength: rule.maxItems + 5 }),
          fc.tuple(fc.array(chars(0, rule.max), { maxLength: rule.maxItems - 1 }), chars(rule.max + 1, rule.max + 20)).map(([list, long]) => [...list, long]))
    case FieldCheck.ENUM:
      return within
        ? fc.constantFrom(...rule.values)
        : fc.oneof(fc.integer({ min: -3, max: 40 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 })).filter((v) => !rule.values.includes(v))
    default:
      throw new Error(`no arbitrary for check ${rule.check}`)
  }
}

/** What the decoder should give back for a value the sender put in. */
function expectedDecoded (value: unknown): unknown {
  if (typeof value === 'object' && value !== null && 'big' in value) return Number((value as { big: bigint }).big)
  if (value instanceof Uint8Array) return Buffer.from(value)
  return value
}

interface Case { kind: string, fields: Array<{ rule: FieldRule, within: boolean, value: unknown }>, envelope: ClientEnvelopeInit }

function fieldsArb (rules: readonly FieldRule[], allWithin: boolean): fc.Arbitrary<Array<{ rule: FieldRule, within: boolean, value: unknown }>> {
  return fc.tuple(...rules.map((rule) => (allWithin ? fc.constant(true) : fc.boolean())
    .chain((within) => valueFor(rule, within).map((value) => ({ rule, within, value })))))
}

// Half the envelopes have every field within its limit, so each body kind
// is seen both accepted and refused in a short run.
const caseArb: fc.Arbitrary<Case> = fc.tuple(fc.constantFrom(...Object.keys(CLIENT_FIELD_RULES.bodies)), fc.boolean()).chain(([kind, allWithin]) =>
  fc.tuple(fieldsArb(CLIENT_FIELD_RULES.envelope, allWithin), fieldsArb(CLIENT_FIELD_RULES.bodies[kind]!, allWithin)).map(([outer, inner]) => {
    const body: Record<string, unknown> = {}
    for (const f of inner) body[f.rule.key] = f.value
    const envelope: Record<string, unknown> = { [kind]: body }
    for (const f of outer) envelope[f.rule.key] = f.value
    return { kind, fields: [...outer, ...inner], envelope: envelope as ClientEnvelopeInit }
  }))

t.test('property: an envelope is accepted iff every field is within its limit; accepted values are exact', async (t) => {
  const seen = new Set<string>()
  fc.assert(fc.property(caseArb, ({ kind, fields, envelope }) => {
    const decoded = ClientEnvelope.decode(encodeClientEnvelope(envelope))
    const violation = validateClientEnvelope(decoded)
    const firstOut = fields.find((f) => !f.within)
    seen.add(`${kind}:${firstOut === undefined ? 'ok' : 'refused'}`)
    if (firstOut !== undefined) {
      assert.ok(violation !== null, `${firstOut.rule.path} is outside its limit and was accepted`)
      assert.equal(violation.path, firstOut.rule.path, 'the refusal names the first field outside its limit')
      return
    }
    assert.equal(violation, null, `accepted: ${JSON.stringify(violation)}`)
    const body = (decoded as unknown as Record<string, Record<string, unknown>>)[kind]!
    for (const { rule, value } of fields) {
      const actual = CLIENT_FIELD_RULES.envelope.includes(rule) ? (decoded as unknown as Record<string, unknown>)[rule.key] : body[rule.key]
      assert.deepEqual(actual, expectedDecoded(value), `${rule.path} decodes to exactly what was sent`)
    }
    // And what the gateway echoes is what the client sent.
    assert.equal(echoableId(decoded.seq), expectedDecoded(fields[0]!.value))
  }), { numRuns: 400 })
  for (const kind of Object.keys(CLIENT_FIELD_RULES.bodies)) {
    t.ok(seen.has(`${kind}:ok`) && seen.has(`${kind}:refused`), `${kind}: both accepted and refused envelopes were generated`)
  }
})

t.test('a malformed frame still yields the seq and client_order_id read before the damage, never an altered one', async (t) => {
  const full = encodeClientEnvelope({ seq: 41, newOrder: { clientOrderId: 977, instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 1 } })
  t.same(salvageEnvelopeIds(full.subarray(0, full.length - 3)), { refSeq: 41, clientOrderId: 977 }, 'a truncated order')
  const cancel = encodeClientEnvelope({ seq: 42, cancelOrder: { clientOrderId: 978 } })
  t.same(salvageEnvelopeIds(Buffer.concat([cancel, Buffer.from([0xff])])), { refSeq: 42, clientOrderId: 978 }, 'a cancel with garbage after it')
  const unsafe = encodeClientEnvelope({ seq: wire64(TWO_53 + 1n), newOrder: { clientOrderId: wire64(TWO_64 - 1n), instrument: 'rb2605' } })
  t.same(salvageEnvelopeIds(unsafe.subarray(0, unsafe.length - 2)), { refSeq: 0, clientOrderId: 0 }, 'unsafe values are not echoed')
  t.same(salvageEnvelopeIds(Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f])), { refSeq: 0, clientOrderId: 0 }, 'garbage')
  fc.assert(fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.nat(), (seq, id, cut) => {
    const bytes = encodeClientEnvelope({ seq, newOrder: { clientOrderId: id, instrument: 'rb2605', price: -5 } })
    const ids = salvageEnvelopeIds(bytes.subarray(0, cut % (bytes.length + 1)))
    assert.ok(ids.refSeq === 0 || ids.refSeq === seq)
    assert.ok(ids.clientOrderId === 0 || ids.clientOrderId === id)
  }))
})

t.test('a link frame with a 64-bit value at or above 2^53 is refused at decode, naming the field; within range it decodes exactly', async (t) => {
  const cases: Array<[LinkEnvelopeInit, string]> = [
    [{ seq: wire64(TWO_53), heartbeat: {} }, 'link_envelope.seq'],
    [{ seq: 1, report: { orderId: wire64(TWO_53 + 1n) } }, 'report.order_id'],
    [{ seq: 1, report: { orderId: 1, exchangeOrderId: wire64(TWO_64 - 1n) } }, 'report.exchange_order_id'],
    [{ seq: 1, report: { orderId: 1, lastPrice: wire64(-(2n ** 62n)) } }, 'report.last_price'],
    [{ seq: 1, report: { orderId: 1, transactTimeUs: wire64(TWO_53) } }, 'report.transact_time_us'],
    [{ seq: 1, newOrder: { orderId: 1, price: wire64(2n ** 62n + 1n) } }, 'new_order.price'],
    [{ seq: 1, cancel: { orderId: wire64(TWO_53) } }, 'cancel.order_id'],
    [{ logonReply: { ok: true, instruments: [{ symbol: 'rb2605' }, { symbol: 'x', upperLimitPrice: wire64(TWO_53) }] } }, 'instrument.upper_limit_price'],
    [{ instrumentUpdate: { instrument: { symbol: 'x', tickSize: wire64(TWO_63 - 1n) } } }, 'instrument.tick_size'],
  ]
  for (const [envelope, path] of cases) {
    const body = LinkEnvelope.encode(envelope).finish()
    t.throws(() => decodeLinkEnvelope(body), { code: 'GH_ERR_MALFORMED_FRAME', message: new RegExp(`^LinkEnvelope field out of range: ${path.replace('.', '\\.')} is 2\\^53 or more`) }, path)
  }
  const fine = decodeLinkEnvelope(LinkEnvelope.encode({ seq: Number.MAX_SAFE_INTEGER, report: { orderId: Number.MAX_SAFE_INTEGER, lastPrice: -Number.MAX_SAFE_INTEGER } }).finish())
  t.same([fine.seq, fine.report!.orderId, fine.report!.lastPrice], [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER])
  // Enums are the exchange's to judge per order (INVALID_SIDE / INVALID_FIELD reports), not a reason to drop the link.
  t.equal(decodeLinkEnvelope(LinkEnvelope.encode({ seq: 1, newOrder: { orderId: 1, side: 9 as SideType, timeInForce: 7 as TimeInForceType } }).finish()).newOrder!.timeInForce, 7)
})
