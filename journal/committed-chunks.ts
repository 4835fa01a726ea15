// The committed part of a segment file, cut into runs of whole records:
// what the cluster replicator publishes, byte for byte, so a copy of the
// segment rebuilt from the runs verifies with the same code as the file.
// Only records up to the last batch end are committed (a batch is one
// write(2); a later record of an unfinished batch may still be torn), and
// a run never splits a record.
//
//   offset 0           header record alone (run 0)
//   header end ...     whole records, greedily, at most maxBytes per run
//   ... last batch end the final run stops here; bytes past it wait
//
// Cuts depend only on the bytes from the start offset and on where the
// last batch end lies: from the same start with the same bytes committed,
// the same runs come out.
import {
  RecordCheck, RecordKind, checkRecordAt, isBatchEndAt, recordKindAt, recordLengthAt, recordSeqAt, recordTimeUsAt, OFF_LENGTH,
  RECORD_OVERHEAD_BYTES,
} from './record-format.js'

export interface CommittedChunk {
  /** File offset of the run's first byte. */
  start: number
  /** File offset just past its last record. */
  end: number
  firstSeq: number
  lastSeq: number
  records: number
  /** Journal time of the run's first record. */
  firstTimeUs: number
  /** The run ends with the segment seal: nothing follows in this file. */
  sealed: boolean
}

export interface CommittedChunks {
  chunks: CommittedChunk[]
  /** File offset of a record that is whole but fails its check (CRC, length): damage, nothing past it is committed. */
  damagedAt: number | null
  /** When no run came out because one record is longer than `buf`: the bytes needed from `from` to hold it. */
  needBytes: number | null
}

/** A record that ends a batch: FLAG_BATCH_END (format 2), a batch seal (format 1), or the segment seal. */
function endsBatch (buf: Buffer, at: number, kind: number): boolean {
  return kind === RecordKind.SEGMENT_SEAL || kind === RecordKind.BATCH_SEAL || isBatchEndAt(buf, at)
}

/**
 * Runs of committed whole records in `buf`, which holds the file's bytes
 * from offset `from` (a run boundary: 0, or the end of an earlier run).
 * At most `maxChunks` runs are returned; a record longer than `maxBytes`
 * goes alone in its run.
 */
export function committedChunks (buf: Buffer, from: number, maxBytes: number, maxChunks = Number.MAX_SAFE_INTEGER): CommittedChunks {
  const chunks: CommittedChunk[] = []
  let damagedAt: number | null = null
  let needBytes: number | null = null
  // Offsets within buf; file offset = from + at.
  let at = 0
  let runStart = 0
  let runRecords = 0
  let runFirstSeq = 0
  let runFirstTimeUs = 0
  /** Where the last batch end seen in the current run lies (its end), or -1. */
  let batchEndInRun = -1
  let batchEndSeq = 0
  let batchEndRecords = 0
  /**
   * Runs cut by size whose records are not all known to be committed yet,
   * each with where its last batch end lies inside it (-1: none). Only the
   * first can have one: a batch end in a later run commits all before it.
   */
  const pending: Array<CommittedChunk & { batchEnd: number, batchEndSeq: number, batchEndRecords: number }> = []
  const close = (end: number, sealed: boolean): void => {
    pending.push({
      start: from + runStart, end: from + end, firstSeq: runFirstSeq, lastSeq: 0, records: runRecords, firstTimeUs: runFirstTimeUs, sealed,
      batchEnd: batchEndInRun, batchEndSeq, batchEndRecords,
    })
  }
  let lastSeq = 0
  const commit = (): void => {
    // Every pending run is now followed by a batch end: committed.
    for (const run of pending.splice(0)) chunks.push(run)
  }

  while (at < buf.length && chunks.length < maxChunks) {
    const check = checkRecordAt(buf, at, buf.length)
    if (check === RecordCheck.INCOMPLETE) {
      if (chunks.length === 0 && pending.length === 0 && runRecords === 0 && buf.length - at >= RECORD_OVERHEAD_BYTES) {
        needBytes = at + buf.readUInt32LE(at + OFF_LENGTH)
      }
      break
    }
    if (check !== RecordCheck.OK) {
      damagedAt = from + at
      break
    }
    const len = recordLengthAt(buf, at)
    const kind = recordKindAt(buf, at)
    const seq = recordSeqAt(buf, at)
    // Cut before this record when it would overflow the run (never leaving a run empty).
    if (runRecords > 0 && at + len - runStart > maxBytes) {
      const last = pending.length
      close(at, false)
      pending[last]!.lastSeq = lastSeq
      if (batchEndInRun === at) commit()
      runStart = at
      runRecords = 0
      batchEndInRun = -1
    }
    if (runRecords === 0) {
      runFirstSeq = seq
      runFirstTimeUs = recordTimeUsAt(buf, at)
    }
    runRecords++
    lastSeq = seq
    at += len
    const isHeader = from + at - len === 0
    const sealed = kind === RecordKind.SEGMENT_SEAL
    if (isHeader || endsBatch(buf, at - len, kind)) {
      batchEndInRun = at
      batchEndSeq = seq
      batchEndRecords = runRecords
      // The header goes alone, and so does the seal's run end: nothing follows either.
      if (isHeader || sealed) {
        close(at, sealed)
        pending[pending.length - 1]!.lastSeq = seq
        commit()
        runStart = at
        runRecords = 0
        batchEndInRun = -1
        if (sealed) break
        continue
      }
      commit()
    }
  }
  // A run cut by size but not yet followed by a batch end: up to the last
  // batch end inside it. (When the batch completes, the whole run follows
  // from that point; either way each message is whole committed records.)
  const first = pending[0]
  if (first !== undefined) {
    if (chunks.length < maxChunks && first.batchEnd > first.start - from) {
      chunks.push({ start: first.start, end: from + first.batchEnd, firstSeq: first.firstSeq, lastSeq: first.batchEndSeq, records: first.batchEndRecords, firstTimeUs: first.firstTimeUs, sealed: false })
    }
  } else if (chunks.length < maxChunks && runRecords > 0 && batchEndInRun > runStart) {
    // The open run up to its last batch end, if it reached one.
    chunks.push({
      start: from + runStart,
      end: from + batchEndInRun,
      firstSeq: runFirstSeq,
      lastSeq: batchEndSeq,
      records: batchEndRecords,
      firstTimeUs: runFirstTimeUs,
      sealed: false,
    })
  }
  return { chunks: chunks.slice(0, maxChunks).map(({ start, end, firstSeq, lastSeq, records, firstTimeUs, sealed }) => ({ start, end, firstSeq, lastSeq, records, firstTimeUs, sealed })), damagedAt, needBytes }
}
