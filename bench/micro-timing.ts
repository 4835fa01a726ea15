// Timing and allocation readings of the in-thread micro-benchmarks
// (micro-bench.ts, hot-codec-bench.ts).
//
// Timing is per batch (BATCH_OPS calls between two hrtime reads, divided),
// because one call is far below the clock's resolution and overhead.
// Allocation is read from the new space: V8 bump-allocates there, so with
// no scavenge in between, the growth of its used size is what the loop
// allocated. Chunks in which a scavenge ran are discarded; the cost of the
// reading itself is measured on an empty chunk and subtracted.

import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks'
import { newSpaceUsedBytes } from './journal-bench.js'
import type { ScenarioRow } from './types.js'

export const BATCH_OPS = 1000

/** Percentile of an ascending array (nearest rank). */
export function percentile (sorted: Float64Array, p: number): number {
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(p / 100 * sorted.length) - 1))
  return sorted[rank]!
}

/**
 * ns per op of `samples` batches, ascending. `between` runs before each
 * batch, outside the timing (the full check path rolls the trading day
 * there).
 */
export function timeBatches (samples: number, op: (i: number) => void, between?: () => void, batchOps = BATCH_OPS): Float64Array {
  const perOpNs = new Float64Array(samples)
  let i = 0
  for (let s = 0; s < samples; s++) {
    between?.()
    const t0 = process.hrtime.bigint()
    for (let n = 0; n < batchOps; n++) op(i++)
    perOpNs[s] = Number(process.hrtime.bigint() - t0) / batchOps
  }
  return perOpNs.sort()
}

export interface AllocationReading {
  bytesPerOp: number
  /** Bytes the measured chunks allocated in all, after the reading's own cost. */
  bytesTotal: number
  /** Calls in the chunks that were read (chunks with a scavenge are dropped). */
  measuredOps: number
  minorGcs: number
  majorGcs: number
}

/**
 * Bytes allocated per call of `op`, and the GCs that ran over `ops` calls.
 * `between` runs before each chunk, before its first reading.
 */
export async function measureAllocation (ops: number, chunkOps: number, op: (i: number) => void, between?: () => void): Promise<AllocationReading> {
  // Two chunks unread first: this loop is new code calling `op`, and its
  // own compilation once read as megabytes in the first full-path row.
  let i = 0
  for (let k = 0; k < 2; k++) {
    between?.()
    for (let n = 0; n < chunkOps; n++) op(i++)
  }
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
  for (let done = 0; done < ops; done += chunkOps) {
    between?.()
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
    bytesTotal: allocated,
    measuredOps,
    minorGcs,
    majorGcs: gcKinds.length - minorGcs,
  }
}

export function rowFrom (name: string, system: string, sortedNs: Float64Array, extra: Record<string, unknown>): ScenarioRow {
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
    ns_per_op_p999: Math.round(percentile(sortedNs, 99.9) * 100) / 100,
    batch_ops: BATCH_OPS,
    samples: sortedNs.length,
    ...extra,
  }
}
