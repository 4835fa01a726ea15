// In-thread micro-benchmarks, run in a process of their own (forked by
// run.ts while no system is running):
//
// - checks: checkOrderValidity() alone, with one reused verdict, as the lane
//   calls it. Time per order and bytes allocated per order.
// - codec: encode + decode of a NewOrder ClientEnvelope with the generated
//   static code, with protobufjs reflection (loadSync of the .proto files),
//   and as JSON. The protocol issue picks static vs reflection by this.
//
// Timing is per batch (BATCH_OPS calls between two hrtime reads, divided),
// because one call is far below the clock's resolution and overhead.
// Allocation is read from the new space: V8 bump-allocates there, so with
// no scavenge in between, the growth of its used size is what the loop
// allocated. Chunks in which a scavenge ran are discarded; the cost of the
// reading itself is measured on an empty chunk and subtracted.
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks'
import { getHeapSpaceStatistics } from 'node:v8'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'
import { ClientEnvelope, Side, TimeInForce, TradingStatus, Instrument, type NewOrder, type Instrument as InstrumentType } from '../protocol/messages.js'
import { checkOrderValidity, newCheckVerdict } from '../checks/order-validity.js'
import type { ScenarioRow } from './types.js'

const BATCH_OPS = 1000
/**
 * Calls per allocation chunk for an op that should allocate nothing: large
 * enough that the allocation granularity of the reading is noise.
 */
const ALLOCATION_CHUNK_OPS = 10_000
/** For ops that allocate hundreds of bytes: small enough that most chunks see no scavenge. */
const ALLOCATING_CHUNK_OPS = 200
const PROTOCOL_DIR = fileURLToPath(new URL('../../protocol/', import.meta.url))

export interface MicroOptions {
  /** Timed batches per benchmark (each BATCH_OPS calls). */
  samples: number
  /** Calls over which GCs are counted and allocation estimated. */
  allocationOps: number
}

/** Percentile of an ascending array (nearest rank). */
function percentile (sorted: Float64Array, p: number): number {
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))
  return sorted[rank]!
}

/** ns per op of `samples` batches, ascending. */
function timeBatches (samples: number, op: (i: number) => void): Float64Array {
  const perOpNs = new Float64Array(samples)
  let i = 0
  for (let s = 0; s < samples; s++) {
    const t0 = process.hrtime.bigint()
    for (let n = 0; n < BATCH_OPS; n++) op(i++)
    perOpNs[s] = Number(process.hrtime.bigint() - t0) / BATCH_OPS
  }
  return perOpNs.sort()
}

function newSpaceUsedBytes (): number {
  for (const space of getHeapSpaceStatistics()) if (space.space_name === 'new_space') return space.space_used_size
  return 0
}

/** Bytes allocated per call of `op`, and the GCs that ran over `ops` calls. */
async function measureAllocation (ops: number, chunkOps: number, op: (i: number) => void): Promise<{ bytesPerOp: number, minorGcs: number, majorGcs: number }> {
  const gcKinds: number[] = []
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) gcKinds.push(((entry as unknown as { detail?: { kind: number } }).detail)?.kind ?? 0)
  })
  observer.observe({ entryTypes: ['gc'] })
  // Cost of reading the heap statistics themselves: an empty chunk.
  let overhead = Infinity
  for (let k = 0; k < 20; k++) {
    const before = newSpaceUsedBytes()
    const after = newSpaceUsedBytes()
    if (after >= before) overhead = Math.min(overhead, after - before)
  }
  let allocated = 0
  let measuredOps = 0
  let i = 0
  for (let done = 0; done < ops; done += chunkOps) {
    const before = newSpaceUsedBytes()
    for (let n = 0; n < chunkOps; n++) op(i++)
    const after = newSpaceUsedBytes()
    // A drop means a scavenge emptied the space mid-chunk: no reading.
    if (after < before) continue
    allocated += Math.max(0, after - before - overhead)
    measuredOps += chunkOps
  }
  // GC entries are delivered asynchronously.
  await new Promise((resolve) => setTimeout(resolve, 50))
  observer.disconnect()
  const minorGcs = gcKinds.filter((kind) => kind === perfConstants.NODE_PERFORMANCE_GC_MINOR).length
  return {
    bytesPerOp: measuredOps === 0 ? NaN : Math.round(allocated / measuredOps * 100) / 100,
    minorGcs,
    majorGcs: gcKinds.length - minorGcs,
  }
}

function rowFrom (name: string, system: string, sortedNs: Float64Array, extra: Record<string, unknown>): ScenarioRow {
  const us = (ns: number): number => Math.round(ns) / 1000
  const p50 = percentile(sortedNs, 50)
  return {
    name,
    system,
    rate_per_s: 0,
    p50_us: us(percentile(sortedNs, 50)),
    p99_us: us(percentile(sortedNs, 99)),
    p999_us: us(percentile(sortedNs, 99.9)),
    max_us: us(sortedNs[sortedNs.length - 1]!),
    throughput_per_s: Math.round(1e9 / p50),
    mode: 'in-thread',
    ns_per_op_p50: Math.round(p50 * 100) / 100,
    ns_per_op_p99: Math.round(percentile(sortedNs, 99) * 100) / 100,
    batch_ops: BATCH_OPS,
    samples: sortedNs.length,
    ...extra,
  }
}

/** rb2605 as the lane holds it: a decoded Instrument (class instance with prototype defaults). */
function benchInstrument (): InstrumentType {
  return Instrument.decode(Instrument.encode({
    symbol: 'rb2605', exchange: 'SHFE', priceDecimals: 0, tickSize: 1, multiplier: 10, referencePrice: 3200,
    lowerLimitPrice: 2976, upperLimitPrice: 3424, maxOrderLots: 500, status: TradingStatus.TRADING, marginRateBps: 700,
  }).finish())
}

export async function runChecksBench (options: MicroOptions): Promise<ScenarioRow[]> {
  const instrument = benchInstrument()
  // Orders decoded from bytes, as the lane sees them; all pass, so the
  // whole path runs (every check, no early exit).
  const orders: NewOrder[] = []
  for (let i = 0; i < 1024; i++) {
    const bytes = ClientEnvelope.encode({ newOrder: { clientOrderId: i + 1, instrument: 'rb2605', side: i % 2 === 0 ? Side.BUY : Side.SELL, price: 3000 + (i % 400), quantityLots: 1 + (i % 10), timeInForce: TimeInForce.GFD } }).finish()
    orders.push(ClientEnvelope.decode(bytes).newOrder as NewOrder)
  }
  const verdict = newCheckVerdict()
  let passed = 0
  const op = (i: number): void => { if (checkOrderValidity(orders[i & 1023]!, instrument, verdict)) passed++ }
  timeBatches(Math.max(10, options.samples / 10), op) // warm up: let V8 optimise first
  const sorted = timeBatches(options.samples, op)
  const allocation = await measureAllocation(options.allocationOps, ALLOCATION_CHUNK_OPS, op)
  if (passed === 0) throw new Error('checks bench: no order passed, the benchmark is not measuring the full path')
  return [rowFrom('checks', 'checkOrderValidity', sorted, {
    bytes_per_order: allocation.bytesPerOp,
    minor_gcs: allocation.minorGcs,
    major_gcs: allocation.majorGcs,
    allocation_calls: options.allocationOps,
  })]
}

/** The .proto files loaded at run time, 64-bit integers as numbers (Long is off: messages.js was imported). */
function reflectionEnvelopeType (): protobuf.Type {
  const root = new protobuf.Root()
  root.resolvePath = (_origin, target) => PROTOCOL_DIR + target
  root.loadSync(['gatehouse/v1/common.proto', 'gatehouse/v1/client.proto'])
  return root.lookupType('gatehouse.v1.ClientEnvelope')
}

export async function runCodecBench (options: MicroOptions): Promise<ScenarioRow[]> {
  const reflected = reflectionEnvelopeType()
  const envelopeAt = (i: number): Record<string, unknown> => ({
    seq: i + 1,
    sentTimeUs: 1_767_225_600_000_000 + i,
    newOrder: { clientOrderId: i + 1, instrument: 'rb2605', side: Side.BUY, price: 3200, quantityLots: 1, timeInForce: TimeInForce.FAK },
  })
  // Prove the three agree before timing them.
  const sample = envelopeAt(41)
  const staticBytes = ClientEnvelope.encode(sample).finish()
  const reflectedBytes = reflected.encode(sample).finish()
  if (Buffer.compare(Buffer.from(staticBytes), Buffer.from(reflectedBytes)) !== 0) throw new Error('codec bench: static and reflection encodings differ')
  const decoded = reflected.decode(staticBytes) as unknown as { newOrder: { clientOrderId: unknown } }
  if (decoded.newOrder.clientOrderId !== 42) throw new Error('codec bench: reflection did not decode 64-bit integers as numbers (is Long off?)')

  let sink = 0
  const variants: Array<[string, (i: number) => void]> = [
    ['protobuf-static', (i) => {
      const bytes = ClientEnvelope.encode(envelopeAt(i)).finish()
      sink += ClientEnvelope.decode(bytes).newOrder!.quantityLots!
    }],
    ['protobuf-reflection', (i) => {
      const bytes = reflected.encode(envelopeAt(i)).finish()
      sink += (reflected.decode(bytes) as unknown as { newOrder: { quantityLots: number } }).newOrder.quantityLots
    }],
    ['json', (i) => {
      const bytes = Buffer.from(JSON.stringify(envelopeAt(i)))
      sink += (JSON.parse(bytes.toString()) as { newOrder: { quantityLots: number } }).newOrder.quantityLots
    }],
  ]
  const encodedBytes: Record<string, number> = {
    'protobuf-static': staticBytes.length,
    'protobuf-reflection': reflectedBytes.length,
    json: Buffer.byteLength(JSON.stringify(sample)),
  }
  const rows: ScenarioRow[] = []
  for (const [system, op] of variants) {
    timeBatches(Math.max(10, options.samples / 10), op)
    const sorted = timeBatches(options.samples, op)
    const allocation = await measureAllocation(Math.min(options.allocationOps, 200_000), ALLOCATING_CHUNK_OPS, op)
    rows.push(rowFrom('codec', system, sorted, { encoded_bytes: encodedBytes[system], bytes_per_op: allocation.bytesPerOp, minor_gcs: allocation.minorGcs }))
  }
  if (sink === 0) throw new Error('codec bench: nothing decoded')
  return rows
}

// Forked by run.ts: {type:'run', which, options} in, {type:'result', rows} out.
if (process.send !== undefined && process.argv.includes('--child')) {
  process.on('disconnect', () => { process.exit(0) })
  process.once('message', (message: { which: 'checks' | 'codec', options: MicroOptions }) => {
    const run = message.which === 'checks' ? runChecksBench : runCodecBench
    run(message.options).then((rows) => {
      process.send!({ type: 'result', rows }, () => { process.disconnect() })
    }, (err: unknown) => {
      process.send!({ type: 'failed', error: err instanceof Error ? err.stack ?? err.message : String(err) }, () => { process.disconnect() })
    })
  })
}
