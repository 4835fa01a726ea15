// The hand codecs (protocol/hot-codec.ts) against protobufjs, per hot
// message: ns per op and bytes allocated per op, in-thread. Each pair is
// timed in ROUNDS interleaved rounds (hand, protobufjs, hand, ...) and
// reported as the median of the rounds' p50s with their spread, so a
// neighbour's burst on a shared machine shows as spread rather than as a
// skewed figure. The codec scenario (micro-bench.ts runCodecBench)
// appends these rows; `node dist/bench/hot-codec-bench.js [--json FILE]`
// runs them alone.
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ClientEnvelope, LinkEnvelope, Side, TimeInForce, ExecType, OffsetFlag, HedgeFlag, type ClientEnvelopeInit, type LinkEnvelopeInit } from '../protocol/messages.js'
import { encodeLinkFrame } from '../protocol/link-codec.js'
import { HotClientDecoder, HotLinkDecoder, HotLinkOrderDecoder, encodeExecutionReportEnvelope, encodeLinkOrderFrame, encodeLinkReportFrame } from '../protocol/hot-codec.js'
import { WireScratch } from '../protocol/wire-scratch.js'
import { measureAllocation, rowFrom, timeBatches } from './micro-timing.js'
import type { ScenarioRow } from './types.js'

const ROUNDS = 3
/** Calls per allocation chunk: small enough that most chunks see no scavenge even for protobufjs's ~0.5 KB per call. */
const CHUNK_OPS = 200

/** A report as the lane sends a fill: every field the lane sets, exec_id and trade_id included. */
function fillReport (i: number): ClientEnvelopeInit {
  return {
    seq: 1000 + i,
    sentTimeUs: 1_767_225_600_000_000 + i,
    executionReport: {
      clientOrderId: 1 + i, execType: ExecType.FILL, exchangeOrderId: 880_000 + i, instrument: 'rb2605', side: Side.BUY,
      price: 3200, quantityLots: 1, lastPrice: 3200, lastLots: 1, cumulativeLots: 1, leavesLots: 0, reason: 0, text: '',
      transactTimeUs: 1_767_225_600_000_100 + i, warning: null, offsetFlag: OffsetFlag.OFFSET_OPEN, hedgeFlag: HedgeFlag.HEDGE_SPECULATION,
      reportSeq: 1 + i, execId: `20260106-platform-8800123-${1 + i}`, tradeId: `T${500_000 + i}`, timeInForce: TimeInForce.FAK,
    },
  }
}

function linkOrder (i: number): LinkEnvelopeInit {
  return {
    seq: 1 + i,
    sentTimeUs: 1_767_225_600_000_000 + i,
    newOrder: { orderId: 1 + i, account: '8800123', instrument: 'rb2605', side: Side.BUY, price: 3200, quantityLots: 1, timeInForce: TimeInForce.FAK, offsetFlag: OffsetFlag.OFFSET_OPEN, hedgeFlag: HedgeFlag.HEDGE_SPECULATION },
  }
}

interface Pair {
  message: string
  /** Size of the message on the wire (the codec table's encoded-size column). */
  encodedBytes: number
  hand: (i: number) => void
  protobufjs: (i: number) => void
}

export async function runHotCodecBench (samples: number, allocationOps: number): Promise<ScenarioRow[]> {
  let sink = 0
  const scratch = new WireScratch()
  const clientDecoder = new HotClientDecoder()
  const linkDecoder = new HotLinkDecoder()
  const simDecoder = new HotLinkOrderDecoder()
  // Fixed frames to decode, as they arrive: a NewOrder and a CancelOrder from a client, a fill report from the exchange.
  const newOrderFrame = ClientEnvelope.encode({
    seq: 42, sentTimeUs: 1_767_225_600_000_000,
    newOrder: { clientOrderId: 42, instrument: 'rb2605', side: Side.BUY, price: 3200, quantityLots: 1, timeInForce: TimeInForce.FAK, offsetFlag: OffsetFlag.OFFSET_OPEN, hedgeFlag: HedgeFlag.HEDGE_SPECULATION },
  }).finish()
  const cancelFrame = ClientEnvelope.encode({ seq: 43, sentTimeUs: 1_767_225_600_000_001, cancelOrder: { clientOrderId: 42 } }).finish()
  const reportFrame = LinkEnvelope.encode({
    seq: 7, sentTimeUs: 1_767_225_600_000_002,
    report: { orderId: 42, execType: ExecType.FILL, exchangeOrderId: 880_042, lastPrice: 3200, lastLots: 1, cumulativeLots: 1, leavesLots: 0, transactTimeUs: 1_767_225_600_000_002, tradeId: 'T500042' },
  }).finish()
  // Encoders reuse the scratch as the lane does: reset once per "turn" of 64 messages.
  const turn = (i: number): void => { if ((i & 63) === 0) scratch.reset() }
  // The messages to encode are built once, outside the timing, so that
  // both codecs are timed (and their allocation read) on the encode alone.
  const reports = Array.from({ length: 64 }, (_, k) => fillReport(k))
  const orders = Array.from({ length: 64 }, (_, k) => linkOrder(k))
  const cancels: LinkEnvelopeInit[] = Array.from({ length: 64 }, (_, k) => ({ seq: 1 + k, sentTimeUs: 1_767_225_600_000_000 + k, cancel: { orderId: 1 + k } }))
  // The simulator's side: the link order as it arrives, the fill report as it leaves.
  const linkOrderFrame = encodeLinkFrame(linkOrder(0)).subarray(4)
  const linkReports: LinkEnvelopeInit[] = Array.from({ length: 64 }, (_, k) => ({
    seq: 7 + k, sentTimeUs: 1_767_225_600_000_002 + k,
    report: { orderId: 42 + k, execType: ExecType.FILL, exchangeOrderId: 880_042 + k, lastPrice: 3200, lastLots: 1, cumulativeLots: 1, leavesLots: 0, transactTimeUs: 1_767_225_600_000_002 + k, tradeId: `T${500_042 + k}` },
  }))

  const pairs: Pair[] = [
    {
      message: 'client NewOrder decode',
      encodedBytes: newOrderFrame.length,
      hand: () => { if (clientDecoder.decode(newOrderFrame)) sink += clientDecoder.envelope.newOrder!.quantityLots },
      protobufjs: () => { sink += ClientEnvelope.decode(newOrderFrame).newOrder!.quantityLots! },
    },
    {
      message: 'client CancelOrder decode',
      encodedBytes: cancelFrame.length,
      hand: () => { if (clientDecoder.decode(cancelFrame)) sink += clientDecoder.envelope.cancelOrder!.clientOrderId },
      protobufjs: () => { sink += ClientEnvelope.decode(cancelFrame).cancelOrder!.clientOrderId as number },
    },
    {
      message: 'ExecutionReport envelope encode',
      encodedBytes: ClientEnvelope.encode(reports[0]!).finish().length,
      hand: (i) => { turn(i); sink += encodeExecutionReportEnvelope(scratch, reports[i & 63]!).length },
      protobufjs: (i) => { sink += ClientEnvelope.encode(reports[i & 63]!).finish().length },
    },
    {
      message: 'link new order frame encode',
      encodedBytes: encodeLinkFrame(orders[0]!).length,
      hand: (i) => { turn(i); sink += encodeLinkOrderFrame(scratch, orders[i & 63]!)!.length },
      protobufjs: (i) => { sink += encodeLinkFrame(orders[i & 63]!).length },
    },
    {
      message: 'link cancel frame encode',
      encodedBytes: encodeLinkFrame(cancels[0]!).length,
      hand: (i) => { turn(i); sink += encodeLinkOrderFrame(scratch, cancels[i & 63]!)!.length },
      protobufjs: (i) => { sink += encodeLinkFrame(cancels[i & 63]!).length },
    },
    {
      message: 'link report decode',
      encodedBytes: reportFrame.length,
      hand: () => { if (linkDecoder.decode(reportFrame)) sink += linkDecoder.envelope.report!.lastLots },
      protobufjs: () => { sink += LinkEnvelope.decode(reportFrame).report!.lastLots! },
    },
    {
      message: 'simulator: link new order decode',
      encodedBytes: linkOrderFrame.length,
      hand: () => { if (simDecoder.decode(linkOrderFrame)) sink += simDecoder.envelope.newOrder!.quantityLots },
      protobufjs: () => { sink += LinkEnvelope.decode(linkOrderFrame).newOrder!.quantityLots! },
    },
    {
      message: 'simulator: link report frame encode',
      encodedBytes: encodeLinkFrame(linkReports[0]!).length,
      hand: (i) => { turn(i); sink += encodeLinkReportFrame(scratch, linkReports[i & 63]!)!.length },
      protobufjs: (i) => { sink += encodeLinkFrame(linkReports[i & 63]!).length },
    },
  ]

  // Prove each pair agrees before timing it.
  if (!Buffer.from(encodeExecutionReportEnvelope(scratch, reports[0]!)).equals(Buffer.from(ClientEnvelope.encode(reports[0]!).finish())) ||
    !Buffer.from(encodeLinkOrderFrame(scratch, orders[0]!)!).equals(encodeLinkFrame(orders[0]!)) ||
    !Buffer.from(encodeLinkReportFrame(scratch, linkReports[0]!)!).equals(encodeLinkFrame(linkReports[0]!)) ||
    !clientDecoder.decode(newOrderFrame) || !clientDecoder.decode(cancelFrame) || !linkDecoder.decode(reportFrame) || !simDecoder.decode(linkOrderFrame)) {
    throw new Error('hot codec bench: the hand codecs disagree with protobufjs')
  }
  scratch.reset()
  const rows: ScenarioRow[] = []
  for (const pair of pairs) {
    const p50s: Record<'hand' | 'protobufjs', number[]> = { hand: [], protobufjs: [] }
    const last: Record<string, Float64Array> = {}
    for (const system of ['hand', 'protobufjs'] as const) timeBatches(Math.max(10, samples / 10), pair[system])
    for (let round = 0; round < ROUNDS; round++) {
      for (const system of ['hand', 'protobufjs'] as const) {
        const sorted = timeBatches(samples, pair[system])
        p50s[system].push(sorted[Math.floor(sorted.length / 2)]!)
        last[system] = sorted
      }
    }
    const medians: Record<string, number> = {}
    for (const system of ['hand', 'protobufjs'] as const) {
      const rounds = p50s[system].sort((a, b) => a - b)
      const median = rounds[Math.floor(rounds.length / 2)]!
      medians[system] = median
      const allocation = await measureAllocation(allocationOps, CHUNK_OPS, pair[system])
      rows.push(rowFrom('hot-codec', `${system}: ${pair.message}`, last[system]!, {
        ns_per_op_median_of_rounds: Math.round(median * 10) / 10,
        ns_per_op_round_p50s: rounds.map((ns) => Math.round(ns * 10) / 10),
        rounds: ROUNDS,
        encoded_bytes: pair.encodedBytes,
        bytes_per_op: allocation.bytesPerOp,
        minor_gcs: allocation.minorGcs,
      }))
    }
    rows[rows.length - 2]!.speedup_over_protobufjs = Math.round(medians.protobufjs! / medians.hand! * 100) / 100
  }
  if (sink === 0) throw new Error('hot codec bench: nothing decoded or encoded')
  return rows
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const jsonAt = process.argv.indexOf('--json')
  const rows = await runHotCodecBench(Number(process.env.HOT_CODEC_SAMPLES ?? 400), 100_000)
  for (const row of rows) {
    const rounds = row.ns_per_op_round_p50s as number[]
    console.log(`${String(row.system).padEnd(46)} ${String(row.ns_per_op_median_of_rounds).padStart(8)} ns/op  (rounds ${rounds.join(' / ')})  ${String(row.bytes_per_op).padStart(8)} B/op${row.speedup_over_protobufjs === undefined ? '' : `  ${String(row.speedup_over_protobufjs)}x`}`)
  }
  if (jsonAt > 0) writeFileSync(process.argv[jsonAt + 1]!, JSON.stringify(rows, null, 2))
}
