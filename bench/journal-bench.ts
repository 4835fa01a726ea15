// Micro-benchmark of the journal on this machine's disk, one thread:
//
// - append: encode + append of one hft-sized record (46-byte order frame,
//   8-character account) into the batch, ns per record, and bytes
//   allocated per record (read from V8's new space by newSpaceUsedBytes,
//   which bench/micro-bench.ts shares; chunks with a scavenge dropped);
// - per-record check: crc-32 (what the format uses) and Node's zlib.crc32
//   per record, against SHA-256 per record and SHA-256 per 64-record
//   batch (why the integrity scheme is what it is);
// - commit: one commit() of a batch of 1, 16 and 256 records under each
//   fsync policy, µs p50/p99/p99.9 from an HDR histogram, with the plain
//   fs.writeSync sink as the baseline measured in the same run;
// - sustained: records per second one thread journals with 'never' and
//   with a 10 ms fsync interval, committing once per event-loop turn as a
//   lane does.
//
//   node dist/bench/journal-bench.js [--quick] [--json FILE] [--dir DIR]
//   strace -f -c -e trace=write,writev,pwrite64 node dist/bench/journal-bench.js --sink-probe
//
// --order: only the per-order rows (below) and the preallocation probe,
// for interleaved before/after runs against another build.
//
// - order: what the platform lane journals for one new order that is
//   acknowledged and filled, through lane/lane-journal.ts as the lane
//   calls it (client-in, decision, link-out, commit; link-in ACK,
//   client-out, commit; link-in fill, client-out, commit): ns per order
//   for append + commit, records, bytes and write(2)s per order, bytes
//   allocated per order. Runs unchanged against a build of format 1.
// - prealloc: write(2) of one ~400-byte batch appended to a growing file,
//   against a positional write into a file extended ahead by ftruncate
//   (Node has no fallocate; mmap needs a native add-on): ns per write.
//
// --sink-probe only commits 1000 batches of 1 record and 1000 of 256
// records (~23 KiB, past SonicBoom's 16 KiB maxWrite) through the
// sonic-boom sink, fsync 'never', so strace can count the write(2)s: one
// per commit means pino's destination does group commit as we need.
//
// Prints a table and, with --json, writes the same figures as JSON so a
// later run can be compared with this one.
//
// The batch loop (timeBatches) and the new-space reading are exported:
// bench/micro-bench.ts times the lane's append + commit with them, so the
// bench's journal rows and this tool measure the same way. Importing this
// module runs nothing; main() runs only when it is the entry script.
import { createHash } from 'node:crypto'
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { getHeapSpaceStatistics } from 'node:v8'
import { crc32 } from 'node:zlib'
import { newHistogram, recordNs, summaryUs, type Histogram } from './histogram.js'
import { Direction, LANE_CODES, RecordKind, crc32Of, newRecordHead, type RecordHead } from '../journal/record-format.js'
import { JournalStream, type FsyncPolicy, type SinkKind } from '../journal/segment-writer.js'
import { LaneJournal, type LaneJournalOptions, type SessionJournalHeads } from '../lane/lane-journal.js'

/** A NewOrder ClientEnvelope is 46 bytes (the size bench `codec` reports). */
const ORDER_FRAME = Buffer.alloc(46, 0x5a)
const HEAD = newRecordHead({ kind: RecordKind.CLIENT_IN, lane: LANE_CODES.hft, direction: Direction.IN, sessionId: 17, account: '88001234', msgType: 20 })

/** Where this run writes, and how long it runs: set by main() from the command line. */
interface RunContext {
  workDir: string
  quick: boolean
}

let streamCount = 0

/** A stream of its own under `dir`, with segments large enough that no run rotates. */
export function openBenchStream (dir: string, fsync: FsyncPolicy, sink: SinkKind = 'fs'): JournalStream {
  return JournalStream.open({ stream: `s${streamCount++}`, root: dir, fsync, sink, maxSegmentBytes: 1024 * 1024 * 1024 })
}

export function policyName (p: FsyncPolicy): string {
  return typeof p === 'object' ? `interval ${p.intervalMs} ms` : p
}

/** Bytes used in V8's new space: its growth over a loop with no scavenge is what the loop allocated. */
export function newSpaceUsedBytes (): number {
  for (const space of getHeapSpaceStatistics()) if (space.space_name === 'new_space') return space.space_used_size
  return 0
}

export const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

export interface BatchLoopOptions {
  /** Records appended per batch, then one commit(). */
  batchRecords: number
  /** Batches timed. */
  batches: number
  /** Untimed batches first (at most this many). */
  warmupBatches: number
  /**
   * What the clock covers: 'commit' alone (the batch is appended before
   * it starts), or 'append+commit', the whole turn's journal work.
   */
  timed: 'commit' | 'append+commit'
}

export interface BatchLoopResult {
  /** ns per timed batch. */
  histogram: Histogram
  /** Bytes the timed batches wrote (records, seals). */
  bytes: number
}

/**
 * Batches of `batchRecords` appends and one commit() each, timed per batch.
 * The loop yields to the event loop every batch, as a lane commits once per
 * turn, so an interval fsync runs (on the thread pool) as it would live.
 */
export async function timeBatches (j: JournalStream, head: RecordHead, payload: Uint8Array, options: BatchLoopOptions): Promise<BatchLoopResult> {
  const { batchRecords, batches } = options
  const appendToo = options.timed === 'append+commit'
  const h = newHistogram()
  let bytes = 0
  for (let b = -Math.min(options.warmupBatches, batches); b < batches; b++) {
    let t0 = 0n
    if (appendToo) t0 = process.hrtime.bigint()
    for (let n = 0; n < batchRecords; n++) j.append(head, payload)
    if (!appendToo) t0 = process.hrtime.bigint()
    const written = j.commit()
    const ns = Number(process.hrtime.bigint() - t0)
    if (b >= 0) {
      recordNs(h, ns)
      bytes += written
    }
    await yieldTurn()
  }
  return { histogram: h, bytes }
}

interface AppendResult { ns_per_record_p50: number, ns_per_record_p99: number, bytes_per_record: number }

/** Appends in timed chunks of 256 (then an untimed commit, so the batch does not grow without bound). */
function benchAppend (ctx: RunContext): AppendResult {
  const j = openBenchStream(ctx.workDir, 'never')
  const chunk = 256
  const chunks = ctx.quick ? 400 : 4000
  const perRecordNs: number[] = []
  for (let w = 0; w < 200; w++) {
    for (let n = 0; n < chunk; n++) j.append(HEAD, ORDER_FRAME)
    j.commit()
  }
  let allocated = 0
  let measured = 0
  for (let c = 0; c < chunks; c++) {
    const before = newSpaceUsedBytes()
    const t0 = process.hrtime.bigint()
    for (let n = 0; n < chunk; n++) j.append(HEAD, ORDER_FRAME)
    const ns = Number(process.hrtime.bigint() - t0)
    const after = newSpaceUsedBytes()
    perRecordNs.push(ns / chunk)
    // A drop means a scavenge ran inside the chunk: no allocation reading.
    if (after >= before) {
      allocated += after - before
      measured += chunk
    }
    j.commit()
  }
  j.close()
  perRecordNs.sort((a, b) => a - b)
  return {
    ns_per_record_p50: Math.round(perRecordNs[Math.floor(perRecordNs.length * 0.5)]!),
    ns_per_record_p99: Math.round(perRecordNs[Math.floor(perRecordNs.length * 0.99)]!),
    bytes_per_record: measured > 0 ? Math.round(allocated / measured) : -1,
  }
}

interface CheckResult {
  crc32_ns_per_record: number
  zlib_crc32_ns_per_record: number
  sha256_ns_per_record: number
  sha256_per_64_batch_ns_per_record: number
}

/** The three per-record integrity options on a ~100-byte record (the encoded size of an hft order). */
function benchChecks (ctx: RunContext): CheckResult {
  const record = Buffer.alloc(100, 7)
  const batch = Buffer.alloc(100 * 64, 7)
  const n = ctx.quick ? 100_000 : 1_000_000
  let sink = 0
  const time = (ops: number, fn: () => void): number => {
    for (let i = 0; i < Math.min(ops, 10_000); i++) fn()
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < ops; i++) fn()
    return Number(process.hrtime.bigint() - t0) / ops
  }
  const crc = time(n, () => { sink ^= crc32Of(record, 0, 96) })
  // zlib.crc32 exists from Node 20.15; typed loosely so an older Node reports -1.
  const zlibCrc = (crc32 as unknown) === undefined ? -1 : time(n, () => { sink ^= crc32(new Uint8Array(record.buffer, record.byteOffset, 96)) })
  let prev = Buffer.alloc(32)
  const perRecord = time(n / 4, () => { prev = createHash('sha256').update(prev).update(record).digest() })
  const perBatch = time(n / 64, () => { prev = createHash('sha256').update(prev).update(batch).digest() }) / 64
  if (sink === 0.5) console.log('')
  return { crc32_ns_per_record: Math.round(crc), zlib_crc32_ns_per_record: Math.round(zlibCrc), sha256_ns_per_record: Math.round(perRecord), sha256_per_64_batch_ns_per_record: Math.round(perBatch) }
}

interface CommitRow {
  policy: string
  sink: SinkKind
  batch_records: number
  batches: number
  p50_us: number
  p99_us: number
  p999_us: number
  max_us: number
  bytes_per_batch: number
}

/** commit() alone, timed; the batch is appended before the clock starts (timeBatches). */
async function benchCommit (ctx: RunContext, policy: FsyncPolicy, sink: SinkKind, batchRecords: number): Promise<CommitRow> {
  const j = openBenchStream(ctx.workDir, policy, sink)
  const every = policy === 'every-batch'
  const batches = Math.max(ctx.quick ? 200 : 500, Math.floor((every ? (ctx.quick ? 300 : 2000) : (ctx.quick ? 3000 : 20_000)) / Math.sqrt(batchRecords)))
  const { histogram, bytes } = await timeBatches(j, HEAD, ORDER_FRAME, { batchRecords, batches, warmupBatches: 200, timed: 'commit' })
  j.close()
  return { policy: policyName(policy), sink, batch_records: batchRecords, batches, ...pick(summaryUs(histogram)), bytes_per_batch: Math.round(bytes / batches) }
}

function pick (s: ReturnType<typeof summaryUs>): { p50_us: number, p99_us: number, p999_us: number, max_us: number } {
  return { p50_us: s.p50_us, p99_us: s.p99_us, p999_us: s.p999_us, max_us: s.max_us }
}

interface SustainedRow { policy: string, batch_records: number, records_per_s: number, batches_per_s: number, mib_per_s: number, fsyncs: number }

async function benchSustained (ctx: RunContext, policy: FsyncPolicy, batchRecords: number): Promise<SustainedRow> {
  const j = openBenchStream(ctx.workDir, policy)
  const durationMs = ctx.quick ? 500 : 2000
  const start = process.hrtime.bigint()
  const endNs = start + BigInt(durationMs) * 1_000_000n
  let records = 0
  let batches = 0
  let bytes = 0
  while (process.hrtime.bigint() < endNs) {
    for (let n = 0; n < batchRecords; n++) j.append(HEAD, ORDER_FRAME)
    bytes += j.commit()
    records += batchRecords
    batches++
    await yieldTurn()
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9
  const fsyncs = j.stats().fsyncs
  j.close()
  return {
    policy: policyName(policy),
    batch_records: batchRecords,
    records_per_s: Math.round(records / seconds),
    batches_per_s: Math.round(batches / seconds),
    mib_per_s: Math.round(bytes / seconds / 1024 / 1024 * 10) / 10,
    fsyncs,
  }
}

function sinkProbe (ctx: RunContext): void {
  const j = openBenchStream(ctx.workDir, 'never', 'sonic-boom')
  let commits = 0
  for (const batch of [1, 256]) {
    for (let b = 0; b < 1000; b++) {
      for (let n = 0; n < batch; n++) j.append(HEAD, ORDER_FRAME)
      j.commit()
      commits++
    }
  }
  const stats = j.stats()
  j.close()
  // +2: the header batch and the segment seal.
  console.log(`sink probe: ${commits} commits, ${stats.batches} batches written (expect ~${commits + 2} write(2) calls from the journal in strace)`)
}

interface OrderRow {
  policy: string
  orders: number
  ns_per_order_p50: number
  ns_per_order_p99: number
  records_per_order: number
  writes_per_order: number
  bytes_per_order: number
  alloc_bytes_per_order: number
}

const CLIENT_NEW_ORDER = Buffer.alloc(46, 0x11)
const LINK_NEW_ORDER = Buffer.alloc(40, 0x22)
const LINK_REPORT = Buffer.alloc(52, 0x33)
const CLIENT_REPORT = Buffer.alloc(92, 0x44)
const NEW_ORDER_ENVELOPE = { newOrder: {} }
let orderRuns = 0

/**
 * One order's journal work as the platform lane does it, in chunks of 64
 * orders (time and allocation per chunk, divided), yielding to the event
 * loop between chunks so an interval fsync runs as it would live.
 */
async function benchOrder (ctx: RunContext, policy: FsyncPolicy): Promise<OrderRow> {
  const options: LaneJournalOptions = { lane: 'platform', root: join(ctx.workDir, `order-${orderRuns++}`), fsync: policy, maxSegmentBytes: 1024 * 1024 * 1024 }
  const lj = new LaneJournal(options)
  const heads: SessionJournalHeads = lj.sessionHeads(17)
  // Every head of the session, whatever this build's heads are.
  for (const h of Object.values(heads)) h.account = '88001234'
  const chunk = 64
  const chunks = ctx.quick ? 300 : 1500
  const perOrderNs: number[] = []
  let allocated = 0
  let measuredOrders = 0
  let id = 0
  const one = (): void => {
    id++
    lj.clientIn(heads, CLIENT_NEW_ORDER, 12, 0, Date.now() * 1000)
    lj.decision(heads, true, 4, 0, 3, id, id, 0, 0)
    lj.linkOut(heads, LINK_NEW_ORDER, NEW_ORDER_ENVELOPE)
    lj.commit()
    lj.linkIn(LINK_REPORT, null)
    lj.clientOut(heads, CLIENT_REPORT, 14)
    lj.commit()
    lj.linkIn(LINK_REPORT, null)
    lj.clientOut(heads, CLIENT_REPORT, 14)
    lj.commit()
  }
  for (let w = 0; w < 30; w++) {
    for (let n = 0; n < chunk; n++) one()
    await yieldTurn()
  }
  const stats0 = lj['stream'] as unknown as JournalStream
  const records0 = stats0.recordsWritten
  const bytes0 = stats0.bytesWritten
  const writes0 = stats0.batchesWritten
  for (let c = 0; c < chunks; c++) {
    const before = newSpaceUsedBytes()
    const t0 = process.hrtime.bigint()
    for (let n = 0; n < chunk; n++) one()
    const ns = Number(process.hrtime.bigint() - t0)
    const after = newSpaceUsedBytes()
    perOrderNs.push(ns / chunk)
    if (after >= before) {
      allocated += after - before
      measuredOrders += chunk
    }
    await yieldTurn()
  }
  const orders = chunks * chunk
  const records = stats0.recordsWritten - records0
  const bytes = stats0.bytesWritten - bytes0
  const writes = stats0.batchesWritten - writes0
  lj.close()
  perOrderNs.sort((a, b) => a - b)
  return {
    policy: policyName(policy),
    orders,
    ns_per_order_p50: Math.round(perOrderNs[Math.floor(perOrderNs.length * 0.5)]!),
    ns_per_order_p99: Math.round(perOrderNs[Math.floor(perOrderNs.length * 0.99)]!),
    records_per_order: Math.round(records / orders * 100) / 100,
    writes_per_order: Math.round(writes / orders * 100) / 100,
    bytes_per_order: Math.round(bytes / orders),
    alloc_bytes_per_order: measuredOrders > 0 ? Math.round(allocated / measuredOrders) : -1,
  }
}

interface PreallocRow { mode: string, writes: number, ns_per_write_p50: number, ns_per_write_p99: number }

/** write(2) of a ~400-byte batch: appended to a growing file, or positioned in one extended ahead by ftruncate. */
function benchPrealloc (ctx: RunContext): PreallocRow[] {
  const batch = Buffer.alloc(400, 0x55)
  const writes = ctx.quick ? 50_000 : 250_000
  const rows: PreallocRow[] = []
  for (const mode of ['append', 'ftruncate-ahead'] as const) {
    const fd = openSync(join(ctx.workDir, `prealloc-${mode}`), 'ax', 0o600)
    if (mode === 'ftruncate-ahead') ftruncateSync(fd, writes * batch.length + 4096)
    const ns: number[] = []
    let position = 0
    for (let i = 0; i < writes; i++) {
      const t0 = process.hrtime.bigint()
      if (mode === 'append') writeSync(fd, batch, 0, batch.length)
      else writeSync(fd, batch, 0, batch.length, position)
      ns.push(Number(process.hrtime.bigint() - t0))
      position += batch.length
    }
    closeSync(fd)
    ns.sort((a, b) => a - b)
    rows.push({ mode, writes, ns_per_write_p50: ns[Math.floor(writes * 0.5)]!, ns_per_write_p99: ns[Math.floor(writes * 0.99)]! })
  }
  return rows
}

async function orderReport (ctx: RunContext, jsonPath: string | undefined): Promise<void> {
  const orders: OrderRow[] = []
  for (const p of ['never', { intervalMs: 10 }] as FsyncPolicy[]) orders.push(await benchOrder(ctx, p))
  const prealloc = benchPrealloc(ctx)
  const out: string[] = []
  out.push(`journal order bench ${new Date().toISOString()}${ctx.quick ? ' (quick)' : ''}, node ${process.version}`)
  out.push('one platform order (new, ACK, fill: 3 commits)   ns/order p50   p99   records   writes   bytes   alloc B')
  for (const r of orders) {
    out.push(`${r.policy.padEnd(47)} ${String(r.ns_per_order_p50).padStart(12)} ${String(r.ns_per_order_p99).padStart(5)} ${String(r.records_per_order).padStart(9)} ${String(r.writes_per_order).padStart(8)} ${String(r.bytes_per_order).padStart(7)} ${String(r.alloc_bytes_per_order).padStart(9)}`)
  }
  for (const r of prealloc) out.push(`write(2) of 400 B, ${r.mode.padEnd(16)} p50 ${r.ns_per_write_p50} ns, p99 ${r.ns_per_write_p99} ns (${r.writes} writes)`)
  console.log(out.join('\n'))
  if (jsonPath !== undefined) writeFileSync(jsonPath, JSON.stringify({ quick: ctx.quick, node: process.version, orders, prealloc }, null, 2))
}

async function main (args: string[]): Promise<void> {
  const jsonAt = args.indexOf('--json')
  const jsonPath = jsonAt >= 0 ? args[jsonAt + 1] : undefined
  const dirAt = args.indexOf('--dir')
  const ctx: RunContext = {
    workDir: mkdtempSync(join(dirAt >= 0 ? args[dirAt + 1]! : tmpdir(), 'gatehouse-journal-bench-')),
    quick: args.includes('--quick'),
  }
  try {
    if (args.includes('--sink-probe')) {
      sinkProbe(ctx)
      return
    }
    if (args.includes('--order')) {
      await orderReport(ctx, jsonPath)
      return
    }
    await report(ctx, jsonPath)
  } finally {
    rmSync(ctx.workDir, { recursive: true, force: true })
  }
}

async function report (ctx: RunContext, jsonPath: string | undefined): Promise<void> {
  const startedAt = new Date().toISOString()
  const append = benchAppend(ctx)
  const checks = benchChecks(ctx)
  const policies: FsyncPolicy[] = ['never', { intervalMs: 10 }, 'every-batch']
  const commits: CommitRow[] = []
  for (const batch of [1, 16, 256]) {
    // SonicBoom (format 1's sink) as the comparison for the plain write(2) sink.
    commits.push(await benchCommit(ctx, 'never', 'sonic-boom', batch))
    for (const p of policies) commits.push(await benchCommit(ctx, p, 'fs', batch))
  }
  const sustained: SustainedRow[] = []
  for (const batch of [1, 64]) {
    for (const p of ['never', { intervalMs: 10 }] as FsyncPolicy[]) sustained.push(await benchSustained(ctx, p, batch))
  }

  const out: string[] = []
  out.push(`journal bench ${startedAt}${ctx.quick ? ' (quick)' : ''}, node ${process.version}`)
  out.push(`append (encode + append, 46-byte frame): p50 ${append.ns_per_record_p50} ns/record, p99 ${append.ns_per_record_p99} ns/record, ${append.bytes_per_record} bytes allocated/record`)
  out.push(`per-record check on ~100 B: crc-32 ${checks.crc32_ns_per_record} ns; zlib.crc32 ${checks.zlib_crc32_ns_per_record} ns; sha256 per record ${checks.sha256_ns_per_record} ns; sha256 per 64-record batch ${checks.sha256_per_64_batch_ns_per_record} ns/record`)
  out.push('')
  out.push('commit (one write per batch)        batch   p50 µs   p99 µs  p99.9 µs   max µs  bytes/batch')
  for (const r of commits) {
    out.push(`${`${r.policy} / ${r.sink}`.padEnd(34)} ${String(r.batch_records).padStart(6)} ${r.p50_us.toFixed(2).padStart(8)} ${r.p99_us.toFixed(2).padStart(8)} ${r.p999_us.toFixed(2).padStart(9)} ${r.max_us.toFixed(1).padStart(8)} ${String(r.bytes_per_batch).padStart(12)}`)
  }
  out.push('')
  out.push('sustained, one thread, commit per event-loop turn   batch   records/s   batches/s   MiB/s  fsyncs')
  for (const r of sustained) {
    out.push(`${r.policy.padEnd(50)} ${String(r.batch_records).padStart(6)} ${String(r.records_per_s).padStart(11)} ${String(r.batches_per_s).padStart(11)} ${String(r.mib_per_s).padStart(7)} ${String(r.fsyncs).padStart(7)}`)
  }
  console.log(out.join('\n'))
  if (jsonPath !== undefined) {
    writeFileSync(jsonPath, JSON.stringify({ startedAt, quick: ctx.quick, node: process.version, append, checks, commits, sustained }, null, 2))
  }
}

// Only as the entry script: bench/micro-bench.ts imports the loop above.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err)
    process.exitCode = 1
  })
}
