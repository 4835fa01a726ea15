// Builds real journals on disk and damages them the way an attacker or a
// failing disk would. Offsets are found by walking the file's own framing,
// so a test can say "record seq 57" and touch exactly its bytes.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { JournalStream, type JournalStreamOptions } from '../../journal/segment-writer.js'
import {
  Direction, LANE_CODES, OFF_SEQ, RECORD_CRC_BYTES, RecordKind, crc32Of, decodeBatchSeal, decodeSegmentHeader, decodeSegmentSeal, encodeSegmentHeader,
  encodeSegmentSeal, isBatchEndAt, newRecordHead, payloadBoundsAt, recordKindAt, recordLengthAt, recordSeqAt, writeBatchSealPayload,
} from '../../journal/record-format.js'
import { chainNext, sha256Of } from '../../journal/segment-scan.js'
import { listSegments } from '../../journal/segment-names.js'

export const DAY_US = 86_400_000_000
/** buildJournal's chain cadence: by records only (its clock moves 7 µs a record). */
export const BUILD_CHAIN = Object.freeze({ everyRecords: 8, everyMs: 60_000 })
/** 2026-01-05 (a Monday) 01:30 UTC, in µs. */
export const T0_US = Date.UTC(2026, 0, 5, 1, 30) * 1000

export interface RecordAt {
  offset: number
  length: number
  seq: number
  kind: number
  /** The record ends its batch: FLAG_BATCH_END (format 2) or a batch seal (format 1). */
  batchEnd: boolean
}

/** Every record of a segment file, by walking its framing. */
export function recordsOf (path: string): RecordAt[] {
  const buf = readFileSync(path)
  const out: RecordAt[] = []
  let off = 0
  while (off < buf.length) {
    const length = recordLengthAt(buf, off)
    const kind = recordKindAt(buf, off)
    out.push({ offset: off, length, seq: recordSeqAt(buf, off), kind, batchEnd: kind === RecordKind.BATCH_SEAL || (kind !== RecordKind.SEGMENT_SEAL && isBatchEndAt(buf, off)) })
    off += length
  }
  return out
}

export function recordBySeq (path: string, seq: number): RecordAt {
  const r = recordsOf(path).find((x) => x.seq === seq)
  if (r === undefined) throw new Error(`no seq ${seq} in ${path}`)
  return r
}

/** A clock the test moves by hand. */
export class ManualClock {
  constructor (public nowUs = T0_US) {}
  readonly read = (): number => this.nowUs
}

export interface BuiltJournal {
  root: string
  streamDir: string
  clock: ManualClock
  /** Segment paths in order. */
  segments: string[]
  /** Seqs of the data records (not headers or seals), in order. */
  dataSeqs: number[]
}

/**
 * An 'hft' stream of `days` days, `batchesPerDay` batches of
 * `recordsPerBatch` client-in records each, rotated daily. The last day's
 * segment is left open unless `close`. Unless `options.chain` says
 * otherwise, a chain point comes every 8 records, so that a day's segment
 * holds one with records before and after it.
 */
export function buildJournal (root: string, opts: { days?: number, batchesPerDay?: number, recordsPerBatch?: number, close?: boolean, options?: Partial<JournalStreamOptions> } = {}): BuiltJournal {
  const days = opts.days ?? 3
  const batchesPerDay = opts.batchesPerDay ?? 4
  const recordsPerBatch = opts.recordsPerBatch ?? 5
  const clock = new ManualClock()
  const journal = JournalStream.open({ stream: 'hft', root, fsync: 'never', clockUs: clock.read, chain: BUILD_CHAIN, ...opts.options })
  const head = newRecordHead({ kind: RecordKind.CLIENT_IN, lane: LANE_CODES.hft, direction: Direction.IN, sessionId: 42, account: '8800123', msgType: 11 })
  const dataSeqs: number[] = []
  for (let d = 0; d < days; d++) {
    clock.nowUs = T0_US + d * DAY_US
    for (let b = 0; b < batchesPerDay; b++) {
      for (let r = 0; r < recordsPerBatch; r++) {
        dataSeqs.push(journal.append(head, Buffer.from(`order ${d}/${b}/${r}`)))
        clock.nowUs += 7
      }
      journal.commit()
    }
  }
  if (opts.close === true) journal.close()
  const streamDir = join(root, 'hft')
  return { root, streamDir, clock, segments: listSegments(streamDir).map((s) => s.path), dataSeqs }
}

export function flipByte (path: string, offset: number, mask = 0x01): void {
  const buf = readFileSync(path)
  buf[offset] = buf[offset]! ^ mask
  writeFileSync(path, buf)
}

/** Removes a record's bytes, as if it had never been written. */
export function dropRecord (path: string, seq: number): RecordAt {
  const r = recordBySeq(path, seq)
  const buf = readFileSync(path)
  writeFileSync(path, Buffer.concat([buf.subarray(0, r.offset), buf.subarray(r.offset + r.length)]))
  return r
}

/** Swaps two adjacent records (a then b). */
export function swapAdjacent (path: string, seqA: number): { a: RecordAt, b: RecordAt } {
  const a = recordBySeq(path, seqA)
  const b = recordBySeq(path, seqA + 1)
  const buf = readFileSync(path)
  writeFileSync(path, Buffer.concat([buf.subarray(0, a.offset), buf.subarray(b.offset, b.offset + b.length), buf.subarray(a.offset, a.offset + a.length), buf.subarray(b.offset + b.length)]))
  return { a, b }
}

/** Recomputes the CRC of the record at `offset` in place. */
export function fixCrc (buf: Buffer, offset: number): void {
  const crcAt = offset + recordLengthAt(buf, offset) - RECORD_CRC_BYTES
  buf.writeUInt32LE(crc32Of(buf, offset, crcAt), crcAt)
}

/** Changes a byte of a record's payload and recomputes its CRC: only the chain can tell. */
export function editPayloadFixCrc (path: string, seq: number): RecordAt {
  const r = recordBySeq(path, seq)
  const buf = readFileSync(path)
  const [ps] = payloadBoundsAt(buf, r.offset)
  buf[ps] = buf[ps]! ^ 0x20
  fixCrc(buf, r.offset)
  writeFileSync(path, buf)
  return r
}

/**
 * What a careful forger does after editing records: recompute every CRC,
 * every chain point's (or format 1 batch seal's) chain hash and the segment seal, so the segment is
 * consistent in itself. Returns the new seal hash. Only the next
 * segment's header (which names the old seal hash) can still tell.
 */
export function resealSegment (path: string): Buffer {
  const buf = readFileSync(path)
  let off = 0
  let chain: Buffer = Buffer.alloc(32)
  let batchStart = 0
  let sealHash: Buffer = Buffer.alloc(32)
  while (off < buf.length) {
    const len = recordLengthAt(buf, off)
    const kind = recordKindAt(buf, off)
    const [ps, pe] = payloadBoundsAt(buf, off)
    if (kind === RecordKind.SEGMENT_HEADER) {
      const header = decodeSegmentHeader(buf.subarray(ps, pe))!
      encodeSegmentHeader(header).copy(buf, ps)
      chain = Buffer.from(header.prevSealHash)
      fixCrc(buf, off)
    } else if (kind === RecordKind.BATCH_SEAL || kind === RecordKind.CHAIN_POINT) {
      const seal = decodeBatchSeal(buf.subarray(ps, pe))!
      chain = chainNext(chain, buf, batchStart, off)
      writeBatchSealPayload(buf.subarray(ps, pe), chain, seal.records, seal.bytes)
      fixCrc(buf, off)
      batchStart = off + len
    } else if (kind === RecordKind.SEGMENT_SEAL) {
      const seal = decodeSegmentSeal(buf.subarray(ps, pe))!
      if (batchStart < off) chain = chainNext(chain, buf, batchStart, off)
      encodeSegmentSeal({ ...seal, chain }).copy(buf, ps)
      fixCrc(buf, off)
      sealHash = sha256Of(buf, off, off + len)
    } else {
      fixCrc(buf, off)
    }
    off += len
  }
  writeFileSync(path, buf)
  return sealHash
}

/** Seq stored at an offset (for checking what a report names). */
export function seqAt (path: string, offset: number): number {
  const buf = readFileSync(path)
  return buf.readUInt32LE(offset + OFF_SEQ)
}
