// The exchange link's framing (protocol/link-codec.ts), byte by byte and in
// random splits, without sockets.
import t from 'tap'
import fc from 'fast-check'
import { strict as assert } from 'node:assert'
import { LinkEnvelope, type LinkEnvelopeInit } from '../protocol/messages.js'
import { LinkFrameDecoder, decodeLinkEnvelope, encodeLinkFrame } from '../protocol/link-codec.js'
import { LINK_LENGTH_PREFIX_BYTES, MAX_LINK_FRAME_BYTES } from '../protocol/constants.js'
import { ProtocolError } from '../protocol/errors.js'

const MAX = Number.MAX_SAFE_INTEGER

/** Canonical bytes of an envelope body; equal bytes mean equal messages. */
function bodyBytes (env: LinkEnvelopeInit): Buffer {
  return Buffer.from(LinkEnvelope.encode(env).finish())
}

/** Every body the decoder yields, re-encoded (bodies are only valid during the callback). */
function pushAll (decoder: LinkFrameDecoder, chunks: Buffer[]): Buffer[] {
  const out: Buffer[] = []
  for (const chunk of chunks) {
    decoder.push(chunk, (body) => { out.push(bodyBytes(decodeLinkEnvelope(body))) })
  }
  return out
}

const sample: LinkEnvelopeInit[] = [
  { seq: 0, sentTimeUs: 1_767_571_200_123_456, logon: { memberId: '0188', sessionName: 'gw1-hft', nextExpectedSeq: 1, heartbeatIntervalMs: 1000 } },
  { seq: 1, sentTimeUs: 1, newOrder: { orderId: 42, account: '8800123', instrument: 'rb2605', side: 1, price: 3200, quantityLots: 3, timeInForce: 1 } },
  { seq: MAX, possibleDuplicate: true, report: { orderId: MAX, execType: 3, exchangeOrderId: MAX, lastPrice: 3200, lastLots: 3, cumulativeLots: 3, transactTimeUs: MAX, text: '成交' } },
  { seq: 0, heartbeat: {} },
  { seq: 2, cancel: { orderId: 42 } },
  { seq: 3, massCancel: { account: '8800123', instrument: '' } },
  { seq: 0, logout: { text: 'bye' } },
]

t.test('a frame round-trips through encodeLinkFrame and the decoder', async (t) => {
  for (const env of sample) {
    const frame = encodeLinkFrame(env)
    t.equal(frame.readUInt32BE(0), frame.length - LINK_LENGTH_PREFIX_BYTES, 'prefix is the body length, big-endian')
    const decoder = new LinkFrameDecoder()
    const got = pushAll(decoder, [frame])
    t.equal(got.length, 1)
    t.same(got[0], bodyBytes(env))
    t.equal(decoder.pendingBytes, 0)
  }
  const decoded = decodeLinkEnvelope(encodeLinkFrame(sample[2]!).subarray(LINK_LENGTH_PREFIX_BYTES))
  t.equal(decoded.body, 'report')
  t.equal(decoded.seq, MAX, '2^53-1 decodes exactly')
  t.equal(typeof decoded.report!.orderId, 'number')
  t.equal(decoded.report!.orderId, MAX)
  t.equal(decoded.possibleDuplicate, true)
  t.equal(decoded.report!.text, '成交')
})

t.test('several frames fed one byte at a time decode in order', async (t) => {
  const stream = Buffer.concat(sample.map((env) => encodeLinkFrame(env)))
  const decoder = new LinkFrameDecoder()
  const chunks: Buffer[] = []
  for (let i = 0; i < stream.length; i++) chunks.push(stream.subarray(i, i + 1))
  t.same(pushAll(decoder, chunks), sample.map(bodyBytes))
  t.equal(decoder.pendingBytes, 0)
})

t.test('an empty envelope is a valid zero-length frame', async (t) => {
  const frame = encodeLinkFrame({})
  t.equal(frame.length, LINK_LENGTH_PREFIX_BYTES)
  const decoder = new LinkFrameDecoder()
  let bodies = 0
  decoder.push(Buffer.concat([frame, frame]), (body) => {
    bodies++
    t.equal(body.length, 0)
    t.equal(decodeLinkEnvelope(body).body, undefined)
  })
  t.equal(bodies, 2)
})

t.test('length limit: exactly MAX_LINK_FRAME_BYTES passes, one more throws GH_ERR_LINK_FRAME_TOO_LARGE', async (t) => {
  // Size a logout text so the whole envelope is exactly the maximum.
  const overhead = bodyBytes({ logout: { text: 'x'.repeat(60_000) } }).length - 60_000
  const env = { logout: { text: 'x'.repeat(MAX_LINK_FRAME_BYTES - overhead) } }
  const frame = encodeLinkFrame(env)
  t.equal(frame.length - LINK_LENGTH_PREFIX_BYTES, MAX_LINK_FRAME_BYTES)
  t.same(pushAll(new LinkFrameDecoder(), [frame]), [bodyBytes(env)])

  const tooLarge = Buffer.alloc(LINK_LENGTH_PREFIX_BYTES)
  tooLarge.writeUInt32BE(MAX_LINK_FRAME_BYTES + 1, 0)
  t.throws(() => new LinkFrameDecoder().push(tooLarge, () => t.fail('no frame expected')),
    { name: 'ProtocolError', code: 'GH_ERR_LINK_FRAME_TOO_LARGE' })
  // The check fires on the prefix alone, before any of the body arrives.
  const huge = Buffer.from([0xff, 0xff, 0xff, 0xff])
  const decoder = new LinkFrameDecoder()
  decoder.push(huge.subarray(0, 2), () => {})
  const err = (() => { try { decoder.push(huge.subarray(2), () => {}) } catch (e) { return e } })()
  t.ok(err instanceof ProtocolError)
  t.equal((err as ProtocolError).code, 'GH_ERR_LINK_FRAME_TOO_LARGE')
})

t.test('a garbage body decodes to ProtocolError GH_ERR_MALFORMED_FRAME', async (t) => {
  t.throws(() => decodeLinkEnvelope(Buffer.from([0x7a, 0x05, 0x08])), { code: 'GH_ERR_MALFORMED_FRAME' })
  t.throws(() => decodeLinkEnvelope(Buffer.from([0x0f])), { code: 'GH_ERR_MALFORMED_FRAME' }, 'wire type 7')
})

t.test('views are not retained: only an unfinished frame is held, as a copy', async (t) => {
  const a = encodeLinkFrame(sample[1]!)
  const b = encodeLinkFrame(sample[2]!)
  const decoder = new LinkFrameDecoder()
  const chunk = Buffer.concat([a, b.subarray(0, 7)])
  const first = pushAll(decoder, [chunk])
  t.same(first, [bodyBytes(sample[1]!)])
  t.equal(decoder.pendingBytes, 7, 'holds only the 7 bytes of the unfinished frame')
  // Scribble over the chunk the decoder was given: a retained view would see it.
  chunk.fill(0xee)
  t.same(pushAll(decoder, [b.subarray(7)]), [bodyBytes(sample[2]!)], 'the carried bytes were copied')
  t.equal(decoder.pendingBytes, 0, 'nothing held after a frame boundary')

  const whole = Buffer.concat([a, b])
  const again = new LinkFrameDecoder()
  pushAll(again, [whole])
  t.equal(again.pendingBytes, 0, 'complete frames leave nothing behind')
})

t.test('reset() drops a partial frame so a new connection starts clean', async (t) => {
  const frame = encodeLinkFrame(sample[1]!)
  const decoder = new LinkFrameDecoder()
  pushAll(decoder, [frame.subarray(0, 5)])
  t.equal(decoder.pendingBytes, 5)
  decoder.reset()
  t.equal(decoder.pendingBytes, 0)
  t.same(pushAll(decoder, [frame]), [bodyBytes(sample[1]!)], 'the next stream decodes from its first byte')
})

const wireInt = fc.integer({ min: 0, max: MAX })
const signedWireInt = fc.integer({ min: -MAX, max: MAX })
const u32 = fc.integer({ min: 0, max: 0xffff_ffff })
const text = fc.string({ unit: 'grapheme', maxLength: 24 })
const enumValue = fc.integer({ min: 0, max: 5 })

const envelopeArb: fc.Arbitrary<LinkEnvelopeInit> = fc.record({
  seq: wireInt,
  sentTimeUs: wireInt,
  possibleDuplicate: fc.boolean(),
}).chain((head) => fc.oneof(
  fc.record({ orderId: wireInt, account: text, instrument: text, side: enumValue, price: signedWireInt, quantityLots: u32, timeInForce: enumValue })
    .map((newOrder) => ({ ...head, newOrder })),
  fc.record({
    orderId: wireInt, execType: enumValue, exchangeOrderId: wireInt, lastPrice: signedWireInt, lastLots: u32,
    cumulativeLots: u32, leavesLots: u32, reason: fc.constantFrom(0, 1, 100, 103, 108, 501), text,
    transactTimeUs: wireInt, cancelRejected: fc.boolean(),
  }).map((report) => ({ ...head, report })),
  fc.record({ orderId: wireInt }).map((cancel) => ({ ...head, cancel })),
  fc.record({ account: text, instrument: text }).map((massCancel) => ({ ...head, massCancel })),
  fc.record({ memberId: text, sessionName: text, nextExpectedSeq: wireInt, heartbeatIntervalMs: u32 }).map((logon) => ({ ...head, logon })),
  fc.constant({ ...head, heartbeat: {} }),
  fc.record({ text }).map((logout) => ({ ...head, logout })),
))

t.test('property: random envelopes, concatenated and split anywhere, decode equal and in order', async (t) => {
  fc.assert(fc.property(
    fc.array(envelopeArb, { minLength: 1, maxLength: 12 }),
    fc.array(fc.nat(), { maxLength: 20 }),
    (envelopes, cutSeeds) => {
      const stream = Buffer.concat(envelopes.map((env) => encodeLinkFrame(env)))
      const cuts = [...new Set(cutSeeds.map((c) => c % (stream.length + 1)))].sort((x, y) => x - y)
      const chunks: Buffer[] = []
      let from = 0
      for (const cut of [...cuts, stream.length]) {
        chunks.push(stream.subarray(from, cut))
        from = cut
      }
      const decoder = new LinkFrameDecoder()
      const decoded: LinkEnvelope[] = []
      for (const chunk of chunks) decoder.push(chunk, (body) => { decoded.push(decodeLinkEnvelope(body)) })
      assert.equal(decoded.length, envelopes.length)
      assert.equal(decoder.pendingBytes, 0)
      envelopes.forEach((env, i) => {
        const got = decoded[i]!
        assert.deepEqual(bodyBytes(got), bodyBytes(env))
        // 64-bit fields come back as exact numbers, not Long objects.
        assert.equal(got.seq, env.seq)
        assert.equal(typeof got.seq, 'number')
        if (env.report != null) {
          assert.equal(got.report!.orderId, env.report.orderId)
          assert.equal(got.report!.lastPrice, env.report.lastPrice)
          assert.equal(got.report!.transactTimeUs, env.report.transactTimeUs)
        }
        if (env.newOrder != null) assert.equal(got.newOrder!.price, env.newOrder.price)
      })
    },
  ), { numRuns: 200 })
  t.pass('property held')
})
