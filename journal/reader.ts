// Decoded records of a journal directory, in order: the base of search,
// export, replay and recovery. A reader yields only what verifies: each
// segment is scanned first (CRCs, seq, chain), and records are yielded up
// to the end of its last whole batch. A torn or still-being-written tail
// of a stream's live segment is not yet committed, so it is skipped
// silently; damage anywhere else throws, naming where (run verify for the
// full report).
import { JournalError, journalErrorCodes } from './errors.js'
import { MAX_SEGMENT_FILE_BYTES, readBoundedFile } from './read-bounded-file.js'
import { RecordKind, decodeRecord, isMetaKind, recordLengthAt, type JournalRecord } from './record-format.js'
import { splitOrderEntry } from './gateway-records.js'
import { scanSegment } from './segment-scan.js'
import { listSegments, listStreamDirs } from './segment-names.js'

export interface ReadRecord extends JournalRecord {
  stream: string
  /** Base name of the segment file. */
  file: string
  /**
   * 0 for a record as written; 1, 2, 3 for the client-in, check-decision
   * and link-out an ORDER_ENTRY record stands for (gateway-records.ts),
   * which share its seq, time and offset.
   */
  part: number
}

export interface ReadOptions {
  /** Also yield segment headers, batch seals and segment seals. */
  includeMeta?: boolean
  /** Only these streams (default: all under the directory). */
  streams?: readonly string[]
  /** readStream only: start at this segment number (recovery reads just the current trading day's). */
  fromSegment?: number
}

/** One stream's records in seq order, across its segments. */
export function * readStream (streamDir: string, stream: string, options: ReadOptions = {}): Generator<ReadRecord> {
  const files = listSegments(streamDir, stream).filter((f) => f.segment >= (options.fromSegment ?? 0))
  for (let i = 0; i < files.length; i++) {
    const file = files[i]!
    const buf = readBoundedFile(file.path, MAX_SEGMENT_FILE_BYTES, 'segment')
    const scan = scanSegment(buf, file)
    const isLast = i === files.length - 1
    if (scan.problem !== null && !(isLast && scan.tornTail)) {
      const p = scan.problem
      throw new JournalError(journalErrorCodes.CORRUPT, `${file.file}: ${p.kind} at offset ${p.offset}${p.seq !== null ? ` (seq ${p.seq})` : ''}: ${p.message}`)
    }
    let off = 0
    while (off < scan.goodEnd) {
      const record = decodeRecord(buf, off)
      off += recordLengthAt(buf, off)
      if (record.kind === RecordKind.ORDER_ENTRY) {
        const parts = splitOrderEntry(record)
        if (parts !== null) {
          for (let p = 0; p < 3; p++) yield { ...parts[p]!, stream, file: file.file, part: p + 1 }
          continue
        }
      }
      if (options.includeMeta === true || !isMetaKind(record.kind)) yield { ...record, stream, file: file.file, part: 0 }
    }
  }
}

/**
 * Every stream's records merged into one order: by time, then stream name
 * (each stream is already in seq order, and its times never go back).
 */
export function * readJournal (dir: string, options: ReadOptions = {}): Generator<ReadRecord> {
  const wanted = options.streams !== undefined ? new Set(options.streams) : null
  const sources = listStreamDirs(dir)
    .filter((s) => wanted === null || wanted.has(s.stream))
    .map((s) => readStream(s.dir, s.stream, options))
  const heads: Array<ReadRecord | null> = sources.map((g) => next(g))
  for (;;) {
    let pick = -1
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i]
      if (h == null) continue
      const p = pick >= 0 ? heads[pick]! : null
      if (p === null || h.timeUs < p.timeUs) pick = i
    }
    if (pick < 0) return
    yield heads[pick]!
    heads[pick] = next(sources[pick]!)
  }
}

function next (g: Generator<ReadRecord>): ReadRecord | null {
  const r = g.next()
  return r.done === true ? null : r.value
}
