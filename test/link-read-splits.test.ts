// The exchange link reads its socket through `onread` into one reused
// buffer (lane/exchange-link.ts). Over real loopback TCP, a peer sends the
// link's logon reply and then a run of execution reports cut at random
// points, one piece per read (the next piece is written only once the link
// has handled the last one): every report must arrive once, in order, with
// exactly the bytes sent, whether its frame sat inside one read, straddled
// two, or straddled many (a frame longer than several pieces), and also
// when a burst is larger than the read buffer.
import t from 'tap'
import fc from 'fast-check'
import { ExchangeLink, LINK_READ_BUFFER_BYTES } from '../lane/exchange-link.js'
import { encodeLinkFrame } from '../protocol/link-codec.js'
import { startLinkPeer } from './helpers/link-peer.js'
import { LinkEnvelope, type LinkExecutionReport, type LinkEnvelopeInit } from '../protocol/messages.js'
import { MAX_TEXT_CHARS } from '../protocol/field-limits.js'

type ReportInit = NonNullable<LinkEnvelopeInit['report']>

/** Canonical bytes of a report, for comparing what was sent with what arrived. */
function reportBytes (report: ReportInit | LinkExecutionReport): string {
  return Buffer.from(LinkEnvelope.encode({ seq: 0, report }).finish()).toString('hex')
}

const reportArb: fc.Arbitrary<ReportInit> = fc.record({
  orderId: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  execType: fc.integer({ min: 1, max: 5 }),
  exchangeOrderId: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  lastPrice: fc.integer({ min: -1_000_000, max: 1_000_000 }),
  lastLots: fc.integer({ min: 0, max: 1000 }),
  cumulativeLots: fc.integer({ min: 0, max: 1000 }),
  leavesLots: fc.integer({ min: 0, max: 1000 }),
  transactTimeUs: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  text: fc.string({ maxLength: MAX_TEXT_CHARS }),
})

/**
 * Sends `reports` (seq 1..n) cut at `cuts` (fractions of the stream) and
 * returns what the link delivered. Each piece is written after the link
 * finished handling the previous read, so pieces reach it as separate reads
 * (TCP may still split a piece further, never join two).
 */
async function deliver (reports: ReportInit[], cuts: number[]): Promise<{ delivered: string[], reads: number }> {
  const peer = await startLinkPeer()
  const delivered: string[] = []
  let reads = 0
  let readDone: (() => void) | null = null
  let linkUp!: () => void
  const up = new Promise<void>((resolve) => { linkUp = resolve })
  const link = new ExchangeLink({
    host: '127.0.0.1', port: peer.port, memberId: '0188', sessionName: 'gw1-splits', heartbeatIntervalMs: 60_000, reconnectDelayMs: 10, maxReconnectDelayMs: 50,
  }, {
    onLinkUp: () => { linkUp() },
    onLinkDown: () => {},
    onReport: (report) => { delivered.push(reportBytes(report)) },
    onInstrumentUpdate: () => {},
    onChunkStart: () => { reads++ },
    onChunkEnd: () => { readDone?.() },
  })
  try {
    link.connect()
    const socket = await peer.connection
    await up
    const stream = Buffer.concat(reports.map((report, i) => encodeLinkFrame({ seq: i + 1, report })))
    const points = [...new Set(cuts.map((f) => Math.floor(f * stream.length)))].filter((p) => p > 0 && p < stream.length).sort((a, b) => a - b)
    let from = 0
    for (const to of [...points, stream.length]) {
      // Resolved by the link's next onChunkEnd: the read that took this piece (or its first part) was handled.
      const handled = new Promise<void>((resolve) => { readDone = resolve })
      socket.write(stream.subarray(from, to))
      await handled
      from = to
    }
    // TCP may have split the last piece: wait until every report is in.
    while (delivered.length < reports.length) await new Promise<void>((resolve) => { readDone = resolve })
    return { delivered, reads }
  } finally {
    await link.close()
    peer.server.close()
  }
}

t.test('property: reports cut anywhere across reads arrive once, in order, byte for byte', async (t) => {
  await fc.assert(fc.asyncProperty(
    fc.array(reportArb, { minLength: 1, maxLength: 40 }),
    fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 60 }),
    async (reports, cuts) => {
      const { delivered } = await deliver(reports, cuts)
      t.same(delivered, reports.map(reportBytes))
    }), { numRuns: 40, interruptAfterTimeLimit: 20_000 })
})

t.test('one byte per read: every frame straddles reads', async (t) => {
  const reports: ReportInit[] = [
    { orderId: 7, execType: 1, exchangeOrderId: 70, text: '已报' },
    { orderId: 8, execType: 3, exchangeOrderId: 80, lastPrice: 3200, lastLots: 1, cumulativeLots: 1, text: '成交' },
  ]
  const length = Buffer.concat(reports.map((report, i) => encodeLinkFrame({ seq: i + 1, report }))).length
  const cuts = Array.from({ length: length - 1 }, (_, i) => (i + 1) / length + 1e-9)
  const { delivered, reads } = await deliver(reports, cuts)
  t.same(delivered, reports.map(reportBytes))
  t.ok(reads >= length, `${reads} reads for ${length} bytes`)
})

t.test('a burst larger than the reused read buffer arrives whole', async (t) => {
  const reports: ReportInit[] = Array.from({ length: 1200 }, (_, i) => ({ orderId: i + 1, execType: 1, exchangeOrderId: i + 1, text: 'x'.repeat(100 + (i % 50)) }))
  const bytes = Buffer.concat(reports.map((report, i) => encodeLinkFrame({ seq: i + 1, report }))).length
  t.ok(bytes > 2 * LINK_READ_BUFFER_BYTES, `${bytes} bytes, more than two read buffers`)
  const { delivered, reads } = await deliver(reports, [])
  t.same(delivered, reports.map(reportBytes))
  t.ok(reads >= 2, `took ${reads} reads`)
})
