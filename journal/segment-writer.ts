// JournalStream: one thread's retention journal. A lane (or the
// supervisor) appends a record for every message, decision and change,
// then calls commit() before it sends anything: commit() writes the whole
// batch with one write(2) and returns only once that write has returned
// (write-ahead). One stream belongs to one thread; nothing here locks.
//
// The per-message path (append) encodes into a reused scratch buffer,
// computes the record's CRC over its range in place and allocates
// nothing of its own; the clock is read once per batch, at its first
// record. Per batch (commit) the cost is one CRC refresh of the last
// record (FLAG_BATCH_END), one write(2) and, by policy, an fsync; every
// `chain.everyRecords` records or `chain.everyMs` ms, one SHA-256 call
// and a chain point record.
//
// Integrity, cheapest first (record-format.ts has the layout):
// - stream seq on every record, +1 each, across segments: a dropped or
//   reordered record shows as a gap or a step back, and verify names it;
// - CRC-32 per record (record-format.ts crc32Of): it names the exact
//   record a flipped byte is in. It is not tamper evidence (anyone can
//   recompute it), only a cheap pointer;
// - FLAG_BATCH_END on each batch's last record: what a reader trusts ends
//   there, and a torn final write is told from a whole one;
// - SHA-256 chain at chain points: chain(k) = SHA-256(chain(k-1) ‖ every
//   record since chain point k-1). Editing a record and recomputing its
//   CRC breaks the chain at the next point. The records since the last
//   point are kept in the scratch after the chain hash (they were already
//   written), so the input is one contiguous range and one hash call;
// - the segment seal (final chain, over the records after the last point
//   too, and counts) and its hash in the next segment's header chain
//   segments together, so deleting or replacing a whole segment breaks
//   the link.
//
// The byte sink is fs.writeSync on a file descriptor the stream opens and
// closes itself ('fs'): one write(2) per commit (a short write, which a
// regular file only does when the disk is full, is retried until all is
// written or it fails), so "commit returned" means exactly "the write(2)
// returned". Format 1 wrote through pino's SonicBoom in synchronous buffer
// mode; it cost ~0.2 µs and ~290 B a batch over the bare write and added
// nothing write-ahead needs. It stays selectable (sink: 'sonic-boom') as
// the benchmark's comparison. We keep the file descriptor's lifetime
// ourselves either way: a segment's seal must be on disk before the next
// header names it.
import * as nodeCrypto from 'node:crypto'
import { closeSync, fdatasync, fdatasyncSync, mkdirSync, openSync, readFileSync, truncateSync, unlinkSync, writeFileSync, writeSync, chmodSync, statSync } from 'node:fs'
import { join } from 'node:path'
import pino from 'pino'
import { JournalError, journalErrorCodes } from './errors.js'
import {
  BATCH_SEAL_PAYLOAD_BYTES, DAY_PATTERN, FLAG_BATCH_END, FLAG_JSON, FORMAT_VERSION, HASH_BYTES, HEADER_TRADING_DAY, MAX_RECORD_BYTES, RecordKind, Scratch, SealReason,
  dayNumberOfUs, encodeRecord, encodeSegmentHeader, encodeSegmentSeal, markBatchEnd, newRecordHead, utcDayOfUs, writeBatchSealCounts, type RecordHead,
} from './record-format.js'
import { chainThrough, scanSegment, sha256Of } from './segment-scan.js'
import { DEFAULT_JOURNAL_ROOT, JOURNAL_DIR_MODE, fsyncDir, JOURNAL_FILE_MODE, STREAM_NAME_PATTERN, listSegments, segmentFileName } from './segment-names.js'
import { nowMicros } from '../protocol/clock.js'

/**
 * When written bytes are forced to disk (they reach the OS page cache at
 * every commit regardless, which is what survives a process crash or
 * kill -9). Costs measured here (journal-bench.js, commit of one record):
 * - 'never': the OS writes back when it likes; a power loss can lose the
 *   last ~30 s. commit p50 ~1.7 µs.
 * - { intervalMs }: fdatasync at most intervalMs after a commit, run on
 *   libuv's thread pool so the lane thread does not wait for the disk; a
 *   power loss loses at most the last interval. commit p50 ~1.7 µs, as
 *   'never'; sustained records/s 5-15% lower (the disk is busier).
 * - 'every-batch': fdatasync inside commit(), so commit() returns only
 *   once the batch is on disk: p50 ~200-230 µs, p99 0.3-3.8 ms on this
 *   (shared) disk, per batch. Nothing acknowledged is lost.
 */
export type FsyncPolicy = 'never' | 'every-batch' | { intervalMs: number }
export type SinkKind = 'sonic-boom' | 'fs'

export interface JournalStreamOptions {
  /** Stream name: the thread's, e.g. 'hft', 'platform', 'terminal', 'supervisor'. */
  stream: string
  /** Journal root; the stream's files go under <root>/<stream>/. */
  root?: string
  fsync?: FsyncPolicy
  /** A segment is sealed once it reaches this size (checked between batches, so it may exceed it by one batch). */
  maxSegmentBytes?: number
  /** append() commits by itself once the batch reaches this size, so one burst cannot grow the scratch without bound. */
  maxBatchBytes?: number
  sink?: SinkKind
  /** µs since the epoch; injected by tests to cross midnight without waiting for it. */
  clockUs?: () => number
  /** Label segments with this trading day ('YYYYMMDD') instead of the UTC date of their first record. */
  tradingDay?: string | null
  /** When the SHA-256 chain advances (a chain point); see ChainCadence. */
  chain?: ChainCadence
}

/**
 * A chain point is written as the last record of the first batch that
 * brings the records since the previous one to `everyRecords`, or that
 * commits `everyMs` or more after it (by the batch's time), or whose
 * unchained bytes reach maxBatchBytes; and a segment seal chains whatever
 * follows the last one. The chain is tamper evidence, not a pointer: a
 * rewritten record with a recomputed CRC is caught at the next chain point
 * and named to the records between the two. Between chain points, and
 * after the last one in a live segment, records are covered by their CRC
 * and seq alone until the next point or the seal.
 */
export interface ChainCadence {
  everyRecords: number
  everyMs: number
}

export const JOURNAL_STREAM_DEFAULTS = Object.freeze({
  root: DEFAULT_JOURNAL_ROOT,
  fsync: Object.freeze({ intervalMs: 10 }) as FsyncPolicy,
  maxSegmentBytes: 256 * 1024 * 1024,
  maxBatchBytes: 1024 * 1024,
  sink: 'fs' as SinkKind,
  tradingDay: null as string | null,
  chain: Object.freeze({ everyRecords: 256, everyMs: 100 }) as ChainCadence,
})

export const MAX_CHAIN_EVERY_RECORDS = 65_536
export const MAX_CHAIN_EVERY_MS = 60_000

const MIN_SEGMENT_BYTES = 64 * 1024
const MIN_BATCH_BYTES = 4 * 1024
const MAX_FSYNC_INTERVAL_MS = 60_000

/** Where a batch goes: buf[start, start + length) in order, all of it, or an exception. */
export interface ByteSink {
  writeAll (buf: Buffer, start: number, length: number): void
}

/** SonicBoom's buffer mode takes Buffers; its typings only list strings. */
interface BufferSonicBoom {
  write (data: Buffer): boolean
  flushSync (): void
}

/** Builds the sink for a file descriptor the caller owns. Exported so a test can aim it at /dev/full. */
export function createSink (fd: number, kind: SinkKind): ByteSink {
  // pino.destination reads a dest of 0 as "none given" and would write to
  // stdout; a daemon that closed stdin can get fd 0 for a segment.
  if (kind === 'sonic-boom' && fd !== 0) {
    const boom = pino.destination({ dest: fd, sync: true, contentMode: 'buffer', minLength: 0 }) as unknown as BufferSonicBoom
    return {
      writeAll (buf: Buffer, start: number, length: number): void {
        boom.write(buf.subarray(start, start + length))
        boom.flushSync()
      },
    }
  }
  return {
    writeAll (buf: Buffer, start: number, length: number): void {
      const end = start + length
      let off = start
      while (off < end) {
        const n = writeSync(fd, buf, off, end - off)
        // A regular file only writes short when the disk is full; a zero
        // would loop forever.
        if (n <= 0) throw new Error(`write(2) wrote ${n} of ${end - off} bytes`)
        off += n
      }
    },
  }
}

const FSYNC_NEVER = 0
const FSYNC_EVERY_BATCH = 1
const FSYNC_INTERVAL = 2

export interface JournalStreamStats {
  stream: string
  segment: number
  segmentFile: string | null
  segmentBytes: number
  nextSeq: number
  batches: number
  records: number
  bytes: number
  fsyncs: number
}

function invalid (message: string): JournalError {
  return new JournalError(journalErrorCodes.INVALID_OPTION, message)
}

/** Validates options against the frozen defaults; each message names the field and what to change. */
export function resolveStreamOptions (options: JournalStreamOptions): Required<JournalStreamOptions> {
  const o: Required<JournalStreamOptions> = { ...JOURNAL_STREAM_DEFAULTS, clockUs: nowMicros, ...stripUndefined(options), stream: options.stream }
  if (typeof o.stream !== 'string' || !STREAM_NAME_PATTERN.test(o.stream)) {
    throw invalid(`stream '${o.stream}' must be 1 to 32 characters of a-z, 0-9 and _, starting with a letter`)
  }
  const f = o.fsync
  if (f !== 'never' && f !== 'every-batch') {
    if (typeof f !== 'object' || f === null || !Number.isInteger(f.intervalMs) || f.intervalMs < 1 || f.intervalMs > MAX_FSYNC_INTERVAL_MS) {
      throw invalid(`fsync must be 'never', 'every-batch' or { intervalMs } with intervalMs an integer from 1 to ${MAX_FSYNC_INTERVAL_MS}; got ${JSON.stringify(f)}`)
    }
  }
  if (!Number.isInteger(o.maxSegmentBytes) || o.maxSegmentBytes < MIN_SEGMENT_BYTES) {
    throw invalid(`maxSegmentBytes must be an integer of at least ${MIN_SEGMENT_BYTES}; got ${o.maxSegmentBytes}`)
  }
  if (!Number.isInteger(o.maxBatchBytes) || o.maxBatchBytes < MIN_BATCH_BYTES || o.maxBatchBytes > o.maxSegmentBytes) {
    throw invalid(`maxBatchBytes must be an integer from ${MIN_BATCH_BYTES} to maxSegmentBytes (${o.maxSegmentBytes}); got ${o.maxBatchBytes}`)
  }
  if (o.sink !== 'sonic-boom' && o.sink !== 'fs') throw invalid(`sink must be 'sonic-boom' or 'fs'; got ${JSON.stringify(o.sink)}`)
  if (o.tradingDay !== null) checkDay(o.tradingDay)
  const c = o.chain
  if (typeof c !== 'object' || c === null || !Number.isInteger(c.everyRecords) || c.everyRecords < 1 || c.everyRecords > MAX_CHAIN_EVERY_RECORDS ||
    !Number.isInteger(c.everyMs) || c.everyMs < 1 || c.everyMs > MAX_CHAIN_EVERY_MS) {
    throw invalid(`chain must be { everyRecords, everyMs } with everyRecords an integer from 1 to ${MAX_CHAIN_EVERY_RECORDS} and everyMs an integer from 1 to ${MAX_CHAIN_EVERY_MS}; got ${JSON.stringify(c)}`)
  }
  return o
}

function checkDay (day: string): void {
  if (typeof day !== 'string' || !DAY_PATTERN.test(day)) throw invalid(`tradingDay must be 'YYYYMMDD'; got ${JSON.stringify(day)}`)
}

function stripUndefined<T extends object> (o: T): Partial<T> {
  const out: Partial<T> = {}
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v
  return out
}

/**
 * SHA-256 of `data` as a 32-character latin1 ('binary') string, one char
 * per byte. crypto.hash (Node 20.12) is one native call with no Hash
 * object; a string digest is what it returns cheaply (measured on a
 * 174-byte input: ~0.35 µs as 'binary' or 'hex', ~0.8 µs as 'buffer',
 * ~1.0-1.5 µs for createHash().update().digest()). engines allows Node
 * 20.0, hence the createHash fallback with the same result, and the
 * namespace import: a named import of a missing export fails to link.
 */
const sha256Binary: (data: Uint8Array) => string = typeof nodeCrypto.hash === 'function'
  ? (data) => nodeCrypto.hash('sha256', data, 'binary')
  : (data) => nodeCrypto.createHash('sha256').update(data).digest('binary')

/** The head the stream uses for its own records (headers, seals). */
const META_HEAD = Object.freeze(newRecordHead({ kind: RecordKind.BATCH_SEAL }))

export class JournalStream {
  readonly stream: string
  /** <root>/<stream> */
  readonly dir: string
  private readonly clockUs: () => number
  /**
   * [0, HASH_BYTES): the chain hash at the last chain point; then the
   * records written since it (unchained); then, from writeFrom, the batch
   * being built. With the previous chain hash just before the records it
   * covers, the next one is a single hash over one contiguous range. Only
   * the batch is written.
   */
  private readonly scratch = new Scratch()
  private writeFrom = HASH_BYTES
  /** Offset in the scratch of the batch's last record: commit marks it FLAG_BATCH_END. */
  private lastRecordAt = HASH_BYTES
  /** Records since the last chain point, the current batch's included. */
  private chainRecords = 0
  private lastChainUs = 0
  private readonly chainEveryRecords: number
  private readonly chainEveryUs: number
  private readonly sealPayload = Buffer.alloc(BATCH_SEAL_PAYLOAD_BYTES)
  private readonly metaHead: RecordHead = { ...META_HEAD }
  private readonly sinkKind: SinkKind
  private readonly maxSegmentBytes: number
  private readonly maxBatchBytes: number
  private readonly fsyncMode: number
  private readonly fsyncIntervalMs: number

  private fd = -1
  private sink: ByteSink | null = null
  private segmentNumber = 0
  private segmentPath: string | null = null
  private segmentDay = ''
  /** The current segment's label is a trading day (HEADER_TRADING_DAY), not a UTC date that happens to read the same. */
  private segmentLabelIsTradingDay = false
  private segmentDayNumber = -1
  private segmentBytes = 0
  private segmentRecords = 0
  private segmentBatches = 0
  private prevSealHash: Buffer = Buffer.alloc(HASH_BYTES)
  private seqNext = 1
  private lastTimeUs = 0
  private batchRecords = 0
  private tradingDay: string | null
  private failure: JournalError | null = null
  private closed = false

  private fsyncTimer: NodeJS.Timeout | undefined
  private fsyncInFlightFd = -1
  /** Descriptors sealed while their interval fsync was running: closed when it ends, so the number is not reused under it. */
  private readonly closeAfterFsync = new Set<number>()
  private fsyncWaiters: Array<(fsyncs: number) => void> = []

  private totalBatches = 0
  private totalRecords = 0
  private totalBytes = 0
  private totalFsyncs = 0

  /**
   * Opens (or reopens) a stream. On reopen it continues the seq and the
   * chain from the last segment. That segment is sealed if it was left
   * open (a crash or kill -9: reason 'resumed'); a torn final batch (a
   * write that never returned, so nothing it covers was sent) is moved to
   * a .torn file beside it and cut before sealing (reason 'recovered').
   * Any other damage throws GH_ERR_JOURNAL_CORRUPT and writes nothing.
   */
  static open (options: JournalStreamOptions): JournalStream {
    return new JournalStream(resolveStreamOptions(options))
  }

  private constructor (options: Required<JournalStreamOptions>) {
    this.stream = options.stream
    this.dir = join(options.root, options.stream)
    this.clockUs = options.clockUs
    this.sinkKind = options.sink
    this.maxSegmentBytes = options.maxSegmentBytes
    this.maxBatchBytes = options.maxBatchBytes
    this.tradingDay = options.tradingDay
    const f = options.fsync
    this.fsyncMode = f === 'never' ? FSYNC_NEVER : f === 'every-batch' ? FSYNC_EVERY_BATCH : FSYNC_INTERVAL
    this.fsyncIntervalMs = typeof f === 'object' ? f.intervalMs : 0
    this.chainEveryRecords = options.chain.everyRecords
    this.chainEveryUs = options.chain.everyMs * 1000
    this.scratch.buf.fill(0, 0, HASH_BYTES)
    this.scratch.length = HASH_BYTES
    mkdirSync(options.root, { recursive: true, mode: JOURNAL_DIR_MODE })
    mkdirSync(this.dir, { recursive: true, mode: JOURNAL_DIR_MODE })
    // mkdir leaves an existing directory's mode alone; the journal must
    // still be owner-only.
    if ((statSync(this.dir).mode & 0o777) !== JOURNAL_DIR_MODE) chmodSync(this.dir, JOURNAL_DIR_MODE)
    this.resume()
  }

  /**
   * Adds a record to the current batch and returns its stream seq. Nothing
   * reaches the file until commit(). `timeUs` defaults to now; a time
   * earlier than the stream's last is raised to it, so record times never
   * go backwards (and a segment's day never flips back) when the clock
   * steps.
   */
  append (head: RecordHead, payload: Uint8Array, timeUs?: number, extraFlags = 0, payloadLength = payload.length): number {
    if (this.failure !== null || this.closed) throw this.unwritable()
    let t: number
    if (this.batchRecords === 0) {
      // The batch's one clock read: the records after its first one that
      // bring no time of their own take the batch's (a batch is one
      // event-loop turn's work, microseconds long).
      const now = timeUs ?? this.clockUs()
      t = now > this.lastTimeUs ? now : this.lastTimeUs
      this.prepareBatch(t)
    } else {
      t = timeUs !== undefined && timeUs > this.lastTimeUs ? timeUs : this.lastTimeUs
    }
    const seq = this.seqNext
    this.lastRecordAt = encodeRecord(this.scratch, head, seq, t, payload, extraFlags, payloadLength)
    this.seqNext = seq + 1
    this.lastTimeUs = t
    this.batchRecords++
    // A size threshold commits inline (nats.js FLUSH_THRESHOLD): writing
    // early never breaks write-ahead, it only splits the batch.
    if (this.scratch.length - this.writeFrom >= this.maxBatchBytes) this.commit()
    return seq
  }

  /** Appends a JSON document (logon step, admin change, purge): allocates, for the paths that are not hot. */
  appendJson (head: RecordHead, doc: unknown, timeUs?: number): number {
    return this.append(head, Buffer.from(JSON.stringify(doc), 'utf8'), timeUs, FLAG_JSON)
  }

  /**
   * Writes the current batch and its seal with one write(2). When it
   * returns, every record appended so far has reached the OS (and, under
   * 'every-batch', the disk): only then may the lane send what they cover.
   * Returns the bytes written, 0 when there was nothing to write. Throws
   * GH_ERR_JOURNAL_WRITE_FAILED, after which the stream accepts nothing.
   */
  commit (): number {
    if (this.batchRecords === 0) return 0
    if (this.failure !== null || this.closed) throw this.unwritable()
    return this.writeBatch()
  }

  /**
   * Sets (or with null, clears) the trading day that labels segments. The
   * next batch starts a new segment when the label changes.
   */
  setTradingDay (day: string | null): void {
    if (day !== null) checkDay(day)
    this.tradingDay = day
  }

  /** Commits, then seals the current segment now; the next append opens a new one. */
  rotate (reason: number = SealReason.ROTATED_DAY): void {
    this.commit()
    if (this.fd >= 0) this.sealSegment(reason, 0)
  }

  /** Commits, seals the segment and closes. Idempotent. */
  close (): void {
    if (this.closed) return
    try {
      if (this.failure === null) {
        this.commit()
        if (this.fd >= 0) this.sealSegment(SealReason.CLOSED, 0)
      }
    } finally {
      this.closed = true
      if (this.fsyncTimer !== undefined) clearTimeout(this.fsyncTimer)
      this.fsyncTimer = undefined
      if (this.fd >= 0) this.closeFd(this.fd)
      this.fd = -1
    }
  }

  /**
   * Resolves after the next fsync the policy makes (under 'every-batch',
   * the next commit's; under an interval, the next timer's), with the
   * stream's fsync count. For shutdown paths and tests; never resolves
   * under 'never'.
   */
  nextFsync (): Promise<number> {
    // Someone is waiting on it now, so the timer may hold the loop open.
    this.fsyncTimer?.ref()
    return new Promise((resolve) => { this.fsyncWaiters.push(resolve) })
  }

  /** The seq the next record will get. */
  get nextSeq (): number {
    return this.seqNext
  }

  /** Records appended but not yet committed. */
  get pendingRecords (): number {
    return this.batchRecords
  }

  // The totals of stats() one at a time: a lane publishes them to /metrics
  // after every commit, where stats() would allocate an object per turn.

  /** Records written since open (headers and seals included). */
  get recordsWritten (): number {
    return this.totalRecords
  }

  get bytesWritten (): number {
    return this.totalBytes
  }

  /** Batches written: one write(2) each. */
  get batchesWritten (): number {
    return this.totalBatches
  }

  /** True once a write or fdatasync has failed: the stream accepts nothing more. */
  get failed (): boolean {
    return this.failure !== null
  }

  /** Path of the segment being written, or null between segments. */
  get currentSegmentPath (): string | null {
    return this.fd >= 0 ? this.segmentPath : null
  }

  stats (): JournalStreamStats {
    return {
      stream: this.stream,
      segment: this.segmentNumber,
      segmentFile: this.fd >= 0 ? this.segmentPath : null,
      segmentBytes: this.segmentBytes,
      nextSeq: this.seqNext,
      batches: this.totalBatches,
      records: this.totalRecords,
      bytes: this.totalBytes,
      fsyncs: this.totalFsyncs,
    }
  }

  // -------------------------------------------------------------------

  private unwritable (): JournalError {
    if (this.failure !== null) return new JournalError(journalErrorCodes.CLOSED, `journal stream ${this.stream} stopped after a failure: ${this.failure.message}`, { cause: this.failure })
    return new JournalError(journalErrorCodes.CLOSED, `journal stream ${this.stream} is closed`)
  }

  /** First record of a batch: the only point where a segment may end, since a batch never spans two. */
  private prepareBatch (timeUs: number): void {
    if (this.fd < 0) {
      this.openSegment(timeUs)
      return
    }
    // A trading-day label starts its own segment even when the UTC label
    // reads the same, so that the day's first segment is found by its flag.
    const dayChanged = this.tradingDay !== null
      ? this.tradingDay !== this.segmentDay || !this.segmentLabelIsTradingDay
      : dayNumberOfUs(timeUs) !== this.segmentDayNumber
    if (dayChanged) {
      this.sealSegment(SealReason.ROTATED_DAY, 0)
      this.openSegment(timeUs)
    } else if (this.segmentBytes >= this.maxSegmentBytes) {
      this.sealSegment(SealReason.ROTATED_SIZE, 0)
      this.openSegment(timeUs)
    }
  }

  private writeBatch (): number {
    const scratch = this.scratch
    const records = this.batchRecords
    const chainRecords = this.chainRecords + records
    const chainDue = chainRecords >= this.chainEveryRecords || this.lastTimeUs - this.lastChainUs >= this.chainEveryUs ||
      scratch.length - HASH_BYTES >= this.maxBatchBytes
    let metaRecords = 0
    if (chainDue) {
      // chain(k) = SHA-256(chain(k-1) ‖ records since chain point k-1),
      // over [0, length) in one call; chain(k) then replaces chain(k-1) in
      // place. (A 32-byte loop rather than Buffer.copy, which would make
      // a view.)
      const buf = scratch.buf
      const bodyEnd = scratch.length
      const chain = sha256Binary(new Uint8Array(buf.buffer, buf.byteOffset, bodyEnd))
      const payload = this.sealPayload
      for (let i = 0; i < HASH_BYTES; i++) buf[i] = payload[i] = chain.charCodeAt(i)
      writeBatchSealCounts(payload, chainRecords, bodyEnd - HASH_BYTES)
      const meta = this.metaHead
      meta.kind = RecordKind.CHAIN_POINT
      meta.flags = FLAG_BATCH_END
      // The chain point takes the batch's last time rather than a new clock read.
      encodeRecord(scratch, meta, this.seqNext, this.lastTimeUs, payload)
      meta.flags = 0
      this.seqNext++
      this.lastChainUs = this.lastTimeUs
      metaRecords = 1
    } else {
      markBatchEnd(scratch.buf, this.lastRecordAt)
    }
    const from = this.writeFrom
    const length = scratch.length - from
    this.writeOut(from, length, 'batch')
    if (chainDue) {
      scratch.length = HASH_BYTES
      this.chainRecords = 0
    } else {
      this.chainRecords = chainRecords
    }
    this.writeFrom = scratch.length
    this.batchRecords = 0
    this.segmentBytes += length
    this.segmentRecords += records + metaRecords
    this.segmentBatches++
    this.totalBatches++
    this.totalRecords += records + metaRecords
    this.totalBytes += length
    if (this.fsyncMode === FSYNC_EVERY_BATCH) this.fsyncNow()
    else if (this.fsyncMode === FSYNC_INTERVAL && this.fsyncTimer === undefined) this.armFsyncTimer()
    return length
  }

  /** Writes scratch.buf[from, from + length). */
  private writeOut (from: number, length: number, what: string): void {
    try {
      this.sink!.writeAll(this.scratch.buf, from, length)
    } catch (err) {
      this.failure = new JournalError(journalErrorCodes.WRITE_FAILED, `journal stream ${this.stream}: write(2) of a ${length}-byte ${what} to ${this.segmentPath} failed: ${(err as Error).message}`, { cause: err })
      throw this.failure
    }
  }

  private fsyncNow (): void {
    try {
      fdatasyncSync(this.fd)
      this.totalFsyncs++
      if (this.fsyncWaiters.length > 0) this.wakeFsyncWaiters()
    } catch (err) {
      this.failure = new JournalError(journalErrorCodes.FSYNC_FAILED, `journal stream ${this.stream}: fdatasync of ${this.segmentPath} failed: ${(err as Error).message}`, { cause: err })
      throw this.failure
    }
  }

  private armFsyncTimer (): void {
    this.fsyncTimer = setTimeout(this.onFsyncTimer, this.fsyncIntervalMs)
    // The journal must not keep a lane's event loop alive on its own.
    if (this.fsyncWaiters.length === 0) this.fsyncTimer.unref()
  }

  // fdatasync, not fsync: the data and the file size are what a reader
  // needs after power loss; mtime is not worth a second metadata write.
  private readonly onFsyncTimer = (): void => {
    this.fsyncTimer = undefined
    const fd = this.fd
    if (fd < 0 || this.closed) return
    if (this.fsyncInFlightFd >= 0) {
      // The disk is slower than the interval: try again, do not pile up.
      this.armFsyncTimer()
      return
    }
    this.fsyncInFlightFd = fd
    fdatasync(fd, (err) => {
      this.fsyncInFlightFd = -1
      if (this.closeAfterFsync.delete(fd)) {
        // Sealed meanwhile, and the seal fdatasync'd it synchronously.
        closeSync(fd)
      } else if (err !== null && this.failure === null) {
        this.failure = new JournalError(journalErrorCodes.FSYNC_FAILED, `journal stream ${this.stream}: interval fdatasync of ${this.segmentPath} failed: ${err.message}`, { cause: err })
        return
      }
      this.totalFsyncs++
      if (this.fsyncWaiters.length > 0) this.wakeFsyncWaiters()
    })
  }

  private wakeFsyncWaiters (): void {
    const waiters = this.fsyncWaiters
    this.fsyncWaiters = []
    for (const w of waiters) w(this.totalFsyncs)
  }

  private closeFd (fd: number): void {
    if (fd === this.fsyncInFlightFd) this.closeAfterFsync.add(fd)
    else closeSync(fd)
  }

  /** Creates the next segment and writes its header batch. */
  private openSegment (timeUs: number): void {
    const day = this.tradingDay ?? utcDayOfUs(timeUs)
    const segment = this.segmentNumber + 1
    const path = join(this.dir, segmentFileName(this.stream, day, segment))
    // 'ax' is O_EXCL: never append to a segment this stream did not just create.
    this.fd = openSync(path, 'ax', JOURNAL_FILE_MODE)
    this.sink = createSink(this.fd, this.sinkKind)
    this.segmentNumber = segment
    this.segmentPath = path
    this.segmentDay = day
    this.segmentLabelIsTradingDay = this.tradingDay !== null
    this.segmentDayNumber = dayNumberOfUs(timeUs)
    this.segmentBytes = 0
    this.segmentRecords = 0
    this.segmentBatches = 0
    this.prevSealHash.copy(this.scratch.buf, 0)
    this.scratch.length = HASH_BYTES
    this.writeFrom = HASH_BYTES
    this.chainRecords = 0
    this.lastChainUs = timeUs
    const header = encodeSegmentHeader({
      version: FORMAT_VERSION,
      flags: this.tradingDay !== null ? HEADER_TRADING_DAY : 0,
      segment,
      day,
      prevSealHash: this.prevSealHash,
      stream: this.stream,
    })
    this.metaHead.kind = RecordKind.SEGMENT_HEADER
    this.lastRecordAt = encodeRecord(this.scratch, this.metaHead, this.seqNext, timeUs, header)
    this.seqNext++
    this.lastTimeUs = timeUs
    this.batchRecords = 1
    this.writeBatch()
    // A new file's name is metadata of the directory: without this, power
    // loss could keep the data and lose the name.
    if (this.fsyncMode !== FSYNC_NEVER) fsyncDir(this.dir)
  }

  /** Writes the segment seal and closes the file. The batch must be empty. */
  private sealSegment (reason: number, tornBytes: number): void {
    const t = Math.max(this.clockUs(), this.lastTimeUs)
    const scratch = this.scratch
    // The seal's chain covers the records after the last chain point too.
    if (scratch.length > HASH_BYTES) sha256Of(scratch.buf, 0, scratch.length).copy(scratch.buf, 0)
    scratch.length = HASH_BYTES
    this.writeFrom = HASH_BYTES
    this.chainRecords = 0
    const payload = encodeSegmentSeal({ chain: scratch.buf.subarray(0, HASH_BYTES), records: this.segmentRecords, batches: this.segmentBatches, tornBytes, reason })
    this.metaHead.kind = RecordKind.SEGMENT_SEAL
    encodeRecord(scratch, this.metaHead, this.seqNext, t, payload)
    const length = scratch.length - HASH_BYTES
    const sealHash = sha256Of(scratch.buf, HASH_BYTES, HASH_BYTES + length)
    this.writeOut(HASH_BYTES, length, 'segment seal')
    scratch.length = HASH_BYTES
    this.seqNext++
    this.lastTimeUs = t
    this.totalBytes += length
    this.totalRecords++
    // A sealed segment is final: make it durable now under any policy
    // that asks for durability at all.
    if (this.fsyncMode !== FSYNC_NEVER) this.fsyncNow()
    this.closeFd(this.fd)
    this.fd = -1
    this.sink = null
    this.prevSealHash = sealHash
  }

  /** Picks up the stream where its last segment left off (see open()). */
  private resume (): void {
    const segments = listSegments(this.dir, this.stream)
    while (segments.length > 0) {
      const last = segments[segments.length - 1]!
      const buf = readFileSync(last.path)
      const scan = scanSegment(buf, last)
      if (scan.seal !== null && scan.problem === null) {
        this.continueAfter(last.segment, scan.sealSeq!, scan.sealTimeUs!, scan.sealHash!)
        return
      }
      const torn = scan.problem !== null && scan.tornTail && buf.length - scan.goodEnd <= this.maxBatchBytes + MAX_RECORD_BYTES
      if (scan.problem !== null && !torn) {
        const p = scan.problem
        throw new JournalError(journalErrorCodes.CORRUPT, `journal stream ${this.stream}: the last segment ${last.file} is damaged (${p.kind} at offset ${p.offset}: ${p.message}); not writing to it. Run verify and investigate.`)
      }
      const tornBytes = buf.length - scan.goodEnd
      if (tornBytes > 0) {
        // Keep the cut bytes beside the segment: they were never
        // acknowledged, but they are still evidence of what was attempted.
        writeFileSync(`${last.path}.torn-${scan.goodEnd}`, buf.subarray(scan.goodEnd), { mode: JOURNAL_FILE_MODE, flag: 'wx' })
      }
      if (scan.batches === 0) {
        // Created but its header batch never completed: nothing was ever
        // acknowledged from it.
        unlinkSync(last.path)
        segments.pop()
        continue
      }
      if (tornBytes > 0) truncateSync(last.path, scan.goodEnd)
      this.fd = openSync(last.path, 'a')
      this.sink = createSink(this.fd, this.sinkKind)
      this.segmentNumber = last.segment
      this.segmentPath = last.path
      this.segmentDay = last.day
      this.segmentBytes = scan.goodEnd
      this.segmentRecords = scan.records
      this.segmentBatches = scan.batches
      // The chain as a seal must hold it: over the records after the
      // last chain point too (format 2; format 1 chained every batch).
      chainThrough(scan, buf).copy(this.scratch.buf, 0)
      this.scratch.length = HASH_BYTES
      this.writeFrom = HASH_BYTES
      this.seqNext = scan.lastSeq! + 1
      this.lastTimeUs = scan.lastTimeUs!
      this.sealSegment(tornBytes > 0 ? SealReason.RECOVERED : SealReason.RESUMED, tornBytes)
      return
    }
  }

  private continueAfter (segment: number, sealSeq: number, lastTimeUs: number, sealHash: Buffer): void {
    this.segmentNumber = segment
    this.seqNext = sealSeq + 1
    this.lastTimeUs = lastTimeUs
    this.prevSealHash = Buffer.from(sealHash)
  }
}
