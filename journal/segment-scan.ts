// Checks one segment file on its own: framing, per-record CRC, sequence
// continuity, each batch's chain hash and the segment seal. It stops at
// the first thing wrong and says exactly where, because after that point
// neither the framing nor the chain can be trusted. What crosses segment
// boundaries (the seal-to-header link, numbering, the stream's start) is
// verify.ts's job; the writer uses this scan alone when it reopens a
// stream after a crash.
import { createHash } from 'node:crypto'
import {
  HASH_BYTES, RecordCheck, RecordKind, checkRecordAt, decodeBatchSeal, decodeSegmentHeader, decodeSegmentSeal,
  payloadBoundsAt, recordKindAt, recordKindName, recordLengthAt, recordSeqAt, recordTimeUsAt, readU64, OFF_SEQ,
  RECORD_OVERHEAD_BYTES, FORMAT_VERSION, FORMAT_VERSION_BATCH_SEALS, HEADER_TRADING_DAY, isBatchEndAt, type SegmentHeader, type SegmentSeal,
} from './record-format.js'
import type { SegmentFile } from './segment-names.js'

/**
 * What is wrong, in the words a compliance officer uses:
 * - changed: bytes differ from what was written (CRC or chain hash mismatch, a malformed field);
 * - missing: a record, batch or segment that should be there is not (a sequence or segment-number gap);
 * - reordered: records are present but out of sequence;
 * - truncated: the file ends inside a record or a batch;
 * - unsealed: a segment that should have been sealed (or, with --require-sealed, any) has no seal;
 * - unreadable: the tools cannot read the file as a segment (verify.ts: not a regular file, or too large).
 */
export type ProblemKind = 'changed' | 'missing' | 'reordered' | 'truncated' | 'unsealed' | 'unreadable'

export interface ScanProblem {
  kind: ProblemKind
  /** Byte offset of the bad record, or of the first record of the bad batch. */
  offset: number
  /** The stream seq the record at `offset` should carry, when known. */
  seq: number | null
  /** The seq found there, when it could be read. */
  storedSeq: number | null
  /** For a batch-level problem (a chain mismatch, a torn batch): the batch's last record before its seal. */
  seqEnd: number | null
  message: string
}

export interface SegmentScan {
  file: SegmentFile
  bytes: number
  header: SegmentHeader | null
  /** Seq of the segment header, the segment's first record. */
  firstSeq: number | null
  /** Seq of the last record that checked out (the seal's, for a clean sealed segment). */
  lastSeq: number | null
  /** Records that checked out, meta records included. */
  records: number
  /** Whole batches that checked out, the header batch included. */
  batches: number
  /** Offset just past the last batch that checked out (past the seal when sealed). */
  goodEnd: number
  /**
   * Chain hash at `chainFrom`: after the last batch that checked out
   * (format 1), or at the last chain point that did (format 2; the
   * header's prevSealHash before the first). chainThrough() extends it
   * over the checked records after it, as a segment seal covers them.
   */
  chain: Buffer
  /** Offset just past the last chain point (format 2) or batch seal (format 1) that checked out; 0 before any. */
  chainFrom: number
  firstTimeUs: number | null
  /** Time of the last record before the seal: the last batch's last record, i.e. the last commit. */
  lastTimeUs: number | null
  seal: SegmentSeal | null
  sealSeq: number | null
  sealTimeUs: number | null
  sealHash: Buffer | null
  problem: ScanProblem | null
  /**
   * The problem is a torn final batch that a crash or power loss explains:
   * only whole, CRC-valid, in-sequence records (or zeros, or a record cut
   * by the end of the file) follow the last batch seal. The writer may cut
   * such a tail when it reopens the stream; anything else it refuses.
   */
  tornTail: boolean
  /** Seal hashes (hex) named by purge records in batches that checked out. */
  purgedSealHashes: string[]
}

const ZERO_HASH = Buffer.alloc(HASH_BYTES)

export function zeroHash (): Buffer {
  return Buffer.from(ZERO_HASH)
}

export function chainNext (prev: Buffer, buf: Buffer, start: number, end: number): Buffer {
  return createHash('sha256').update(prev).update(buf.subarray(start, end)).digest()
}

export function sha256Of (buf: Buffer, start: number, end: number): Buffer {
  return createHash('sha256').update(buf.subarray(start, end)).digest()
}

/** The chain over every record that checked out, up to goodEnd: what a segment seal written there holds. */
export function chainThrough (scan: SegmentScan, buf: Buffer): Buffer {
  return scan.chainFrom < scan.goodEnd ? chainNext(scan.chain, buf, scan.chainFrom, scan.goodEnd) : scan.chain
}

/** Scans a whole segment held in memory. */
export function scanSegment (buf: Buffer, file: SegmentFile): SegmentScan {
  const size = buf.length
  const scan: SegmentScan = {
    file, bytes: size, header: null, firstSeq: null, lastSeq: null, records: 0, batches: 0, goodEnd: 0,
    chain: zeroHash(), chainFrom: 0, firstTimeUs: null, lastTimeUs: null, seal: null, sealSeq: null, sealTimeUs: null, sealHash: null,
    problem: null, tornTail: false, purgedSealHashes: [],
  }
  if (size === 0) return scan

  let off = 0
  let expectSeq: number | null = null
  let batchStart = 0
  let batchRecords = 0
  let batchFirstSeq = 0
  let purgeOffsets: number[] = []
  // Format 2: the records since the last chain point (from the header on).
  let chained = false
  let chainRecords = 0
  let chainFirstSeq = 0

  const fail = (kind: ProblemKind, at: number, storedSeq: number | null, message: string, seqEnd: number | null = null): SegmentScan => {
    scan.problem = { kind, offset: at, seq: expectSeq, storedSeq, seqEnd, message }
    return scan
  }

  while (off < size) {
    const check = checkRecordAt(buf, off, size)
    if (check !== RecordCheck.OK) return failFraming(scan, buf, off, check, expectSeq, fail)
    const len = recordLengthAt(buf, off)
    const kind = recordKindAt(buf, off)
    const seq = recordSeqAt(buf, off)

    if (expectSeq === null) {
      // The first record: the header fixes where this segment's sequence starts.
      if (kind !== RecordKind.SEGMENT_HEADER) return fail('missing', off, seq, `the segment header is missing: the first record is a ${recordKindName(kind)}`)
      const [ps, pe] = payloadBoundsAt(buf, off)
      const header = decodeSegmentHeader(buf.subarray(ps, pe))
      if (header === null) return fail('changed', off, seq, 'the segment header is malformed')
      if (header.version !== FORMAT_VERSION && header.version !== FORMAT_VERSION_BATCH_SEALS) {
        return fail('changed', off, seq, `the segment header has format version ${header.version}; this tool reads ${FORMAT_VERSION_BATCH_SEALS} and ${FORMAT_VERSION}`)
      }
      chained = header.version === FORMAT_VERSION
      if (header.stream !== file.stream || header.segment !== file.segment || header.day !== file.day) {
        return fail('changed', off, seq, `the header says ${header.stream} segment ${header.segment} of ${header.day} but the file is named ${file.file}`)
      }
      scan.header = header
      scan.firstSeq = seq
      scan.firstTimeUs = recordTimeUsAt(buf, off)
      scan.chain = Buffer.from(header.prevSealHash)
      expectSeq = seq
    } else if (kind === RecordKind.SEGMENT_HEADER) {
      return fail('changed', off, seq, 'a second segment header inside the segment')
    }

    if (seq !== expectSeq) {
      if (seq < expectSeq) return fail('reordered', off, seq, `seq ${seq} appears where seq ${expectSeq} belongs, after seq ${expectSeq - 1}`)
      const laterAt = findSeqAhead(buf, off + len, size, expectSeq)
      if (laterAt >= 0) return fail('reordered', off, seq, `seq ${seq} appears where seq ${expectSeq} belongs; seq ${expectSeq} is later, at offset ${laterAt}`)
      const gap = seq - expectSeq
      return fail('missing', off, seq, `${gap === 1 ? `record seq ${expectSeq} is` : `records seq ${expectSeq}..${seq - 1} are`} missing before this record (seq ${seq})`)
    }

    if (chained && kind === RecordKind.BATCH_SEAL) {
      return fail('changed', off, seq, 'a batch seal in a format 2 segment, which ends batches with FLAG_BATCH_END')
    } else if (!chained && kind === RecordKind.CHAIN_POINT) {
      return fail('changed', off, seq, 'a chain point in a format 1 segment, which seals every batch')
    } else if (kind === RecordKind.CHAIN_POINT) {
      const [ps, pe] = payloadBoundsAt(buf, off)
      const point = decodeBatchSeal(buf.subarray(ps, pe))
      if (point === null) return fail('changed', off, seq, 'a chain point is malformed')
      if (!isBatchEndAt(buf, off)) return fail('changed', off, seq, 'a chain point that does not end its batch')
      if (point.records !== chainRecords || point.bytes !== off - scan.chainFrom) {
        return fail('changed', off, seq, `the chain point counts ${point.records} records in ${point.bytes} bytes, but ${chainRecords} records in ${off - scan.chainFrom} bytes precede it since the last one`)
      }
      const chain = chainNext(scan.chain, buf, scan.chainFrom, off)
      if (!chain.equals(point.chain)) {
        // The CRCs all held, so whoever changed a record recomputed its
        // CRC: only the chain shows it, and only to the records it covers.
        scan.problem = {
          kind: 'changed', offset: scan.chainFrom, seq: chainFirstSeq, storedSeq: chainFirstSeq, seqEnd: seq - 1,
          message: `the records seq ${chainFirstSeq}..${seq - 1} from offset ${scan.chainFrom} do not match their chain hash (chain point at offset ${off}, seq ${seq}): a record among them was changed and its CRC recomputed, or the chain point was`,
        }
        return scan
      }
      if (scan.batches === 0 && batchRecords !== 1) return fail('changed', off, seq, 'the first batch must hold the segment header alone (and at most a chain point)')
      scan.chain = chain
      scan.chainFrom = off + len
      chainRecords = 0
      endBatch(off, len, seq, 1)
    } else if (kind === RecordKind.BATCH_SEAL) {
      const [ps, pe] = payloadBoundsAt(buf, off)
      const seal = decodeBatchSeal(buf.subarray(ps, pe))
      if (seal === null) return fail('changed', off, seq, 'a batch seal is malformed')
      if (batchRecords === 0) return fail('changed', off, seq, 'a batch seal seals no records')
      if (seal.records !== batchRecords || seal.bytes !== off - batchStart) {
        return fail('changed', off, seq, `the batch seal counts ${seal.records} records in ${seal.bytes} bytes, but ${batchRecords} records in ${off - batchStart} bytes precede it`)
      }
      const chain = chainNext(scan.chain, buf, batchStart, off)
      if (!chain.equals(seal.chain)) {
        // The CRCs all held, so whoever changed a record recomputed its
        // CRC: only the chain shows it, and only to the batch.
        scan.problem = {
          kind: 'changed', offset: batchStart, seq: batchFirstSeq, storedSeq: batchFirstSeq, seqEnd: seq - 1,
          message: `the batch of seq ${batchFirstSeq}..${seq - 1} at offset ${batchStart} does not match its chain hash (seal at offset ${off}, seq ${seq}): a record in it was changed and its CRC recomputed, or the seal was`,
        }
        return scan
      }
      if (scan.batches === 0 && batchRecords !== 1) return fail('changed', off, seq, 'the first batch must hold the segment header alone')
      scan.chain = chain
      scan.chainFrom = off + len
      endBatch(off, len, seq, 1)
    } else if (kind === RecordKind.SEGMENT_SEAL) {
      if (batchRecords !== 0) return fail('changed', off, seq, `a segment seal follows ${batchRecords} records that have no batch seal`)
      const [ps, pe] = payloadBoundsAt(buf, off)
      const seal = decodeSegmentSeal(buf.subarray(ps, pe))
      if (seal === null) return fail('changed', off, seq, 'the segment seal is malformed')
      if (!seal.chain.equals(chainThrough(scan, buf)) || seal.records !== scan.records || seal.batches !== scan.batches) {
        return fail('changed', off, seq, `the segment seal (${seal.records} records, ${seal.batches} batches) does not match the segment (${scan.records} records, ${scan.batches} batches) or its final chain hash`)
      }
      scan.seal = { ...seal, chain: Buffer.from(seal.chain) }
      scan.sealSeq = seq
      scan.sealTimeUs = recordTimeUsAt(buf, off)
      scan.sealHash = createHash('sha256').update(buf.subarray(off, off + len)).digest()
      scan.records++
      scan.lastSeq = seq
      scan.goodEnd = off + len
      if (off + len !== size) {
        expectSeq = seq + 1
        return fail('changed', off + len, null, `${size - off - len} bytes follow the segment seal`)
      }
      return scan
    } else {
      if (batchRecords === 0) {
        batchFirstSeq = seq
      }
      if (chained && chainRecords === 0) chainFirstSeq = seq
      batchRecords++
      chainRecords++
      if (kind === RecordKind.PURGE) purgeOffsets.push(off)
      if (chained && isBatchEndAt(buf, off)) {
        if (scan.batches === 0 && batchRecords !== 1) return fail('changed', off, seq, 'the first batch must hold the segment header alone (and at most a chain point)')
        endBatch(off, len, seq, 0)
      }
    }
    expectSeq = seq + 1
    off += len
  }

  if (batchRecords > 0) {
    const lastSeq = (expectSeq ?? 1) - 1
    scan.tornTail = true
    scan.problem = {
      kind: 'truncated', offset: batchStart, seq: batchFirstSeq, storedSeq: batchFirstSeq, seqEnd: lastSeq,
      message: `the file ends after ${batchRecords} records (seq ${batchFirstSeq}..${lastSeq}) that ${chained ? 'no batch end follows' : 'have no batch seal'}: a torn final write`,
    }
  }
  return scan

  /** The record at `at` ended a batch that checked out; `metaRecords` is 1 when it is a seal or chain point. */
  function endBatch (at: number, len: number, seq: number, metaRecords: number): void {
    scan.batches++
    scan.records += batchRecords + metaRecords
    scan.lastSeq = seq
    scan.lastTimeUs = recordTimeUsAt(buf, at)
    scan.goodEnd = at + len
    for (const p of purgeOffsets) collectPurgedSeals(buf, p, scan.purgedSealHashes)
    purgeOffsets = []
    batchStart = at + len
    batchRecords = 0
  }
}

type Fail = (kind: ProblemKind, at: number, storedSeq: number | null, message: string) => SegmentScan

/** A record that does not frame or check: a torn end, or damage. */
function failFraming (scan: SegmentScan, buf: Buffer, off: number, check: number, expectSeq: number | null, fail: Fail): SegmentScan {
  const size = buf.length
  const storedSeq = size - off >= OFF_SEQ + 8 ? readU64(buf, off + OFF_SEQ) : null
  if (check === RecordCheck.BAD_CRC) return fail('changed', off, storedSeq, `the record at offset ${off} does not match its CRC`)
  if (isAllZero(buf, off, size)) {
    // What a lost write looks like after power loss on some filesystems:
    // the file's size moved on but the data blocks read back as zeros.
    scan.tornTail = true
    return fail('truncated', off, null, `the file ends in ${size - off} zero bytes where a record should start`)
  }
  if (check === RecordCheck.BAD_LENGTH) return fail('changed', off, storedSeq, `the record at offset ${off} has an impossible length`)
  // INCOMPLETE: the length reaches past the end of the file. Either the
  // file was cut inside this record, or the length field itself was
  // changed. If a whole, valid record with the next seq starts later in
  // the file, the file goes on past this record: its length was changed.
  if (expectSeq !== null && findSeqAhead(buf, off + RECORD_OVERHEAD_BYTES, size, expectSeq + 1, true) >= 0) {
    return fail('changed', off, storedSeq, `the record at offset ${off} has a changed length (it would run past the end of the file, yet records follow it)`)
  }
  scan.tornTail = true
  return fail('truncated', off, storedSeq, `the file ends inside the record at offset ${off} (${size - off} of its bytes are there)`)
}

/**
 * Offset of a valid record carrying `seq` at or after `from`, or -1.
 * Walks record by record; with `byteWise`, tries every offset (to find
 * the framing again after a damaged length), checking the seq first
 * because it rejects almost every wrong offset without a CRC.
 */
function findSeqAhead (buf: Buffer, from: number, end: number, seq: number, byteWise = false): number {
  if (byteWise) {
    for (let at = from; at + RECORD_OVERHEAD_BYTES <= end; at++) {
      if (readU64(buf, at + OFF_SEQ) === seq && checkRecordAt(buf, at, end) === RecordCheck.OK) return at
    }
    return -1
  }
  let at = from
  while (at < end && checkRecordAt(buf, at, end) === RecordCheck.OK) {
    if (recordSeqAt(buf, at) === seq) return at
    at += recordLengthAt(buf, at)
  }
  return -1
}

function isAllZero (buf: Buffer, from: number, end: number): boolean {
  for (let i = from; i < end; i++) if (buf[i] !== 0) return false
  return true
}

function collectPurgedSeals (buf: Buffer, at: number, into: string[]): void {
  const [ps, pe] = payloadBoundsAt(buf, at)
  try {
    const doc = JSON.parse(buf.toString('utf8', ps, pe)) as { removed?: Array<{ sealHash?: unknown }> }
    for (const r of doc.removed ?? []) if (typeof r.sealHash === 'string') into.push(r.sealHash)
  } catch {
    // A purge record whose JSON does not parse names nothing; the stream
    // head it should explain is then reported missing, which is right.
  }
}

/** True when the header's day is a trading day passed in rather than a UTC date. */
export function isTradingDayHeader (header: SegmentHeader): boolean {
  return (header.flags & HEADER_TRADING_DAY) !== 0
}
