// What a lane thread journaled during a measurement window, counted from
// its stream after the run: the records themselves, read back through
// journal/reader.ts (readStream), so a count is of records that verify
// (CRC, seq, chain), not of what the lane meant to write.
//
// The window is the load generator's, on the runner's clock; record times
// are the lane thread's clock. Both are read with protocol/clock.ts nowMicros
// (performance.timeOrigin + performance.now()) on one machine, so they
// agree to well under a millisecond, against windows of seconds.
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { readStream } from '../journal/reader.js'
import { RecordKind, isMetaKind, recordKindName } from '../journal/record-format.js'

export interface JournalWindowCount {
  stream: string
  window_s: number
  /**
   * Message, decision and link records (not headers, chain points or
   * seals) stamped inside the window, as written: an ORDER_ENTRY record,
   * which the reader yields as its three parts, counts once.
   */
  records: number
  /** Batches ended in the window (a record marked as a batch's end, or a format 1 batch seal): one per commit, i.e. per write(2). */
  batches: number
  /** Bytes of those records, chain points and seals on disk. */
  bytes: number
  records_by_kind: Record<string, number>
  /** Every record and seal of the stream over the whole run, and how long reading them back took. */
  stream_records_total: number
  read_ms: number
}

/** Counts the records of `stream` under `journalRoot` stamped in [fromUs, fromUs + windowS). */
export function countJournalWindow (journalRoot: string, stream: string, fromUs: number, windowS: number): JournalWindowCount {
  const toUs = fromUs + windowS * 1e6
  const started = performance.now()
  let records = 0
  let batches = 0
  let bytes = 0
  let total = 0
  const byKind = new Map<number, number>()
  for (const record of readStream(join(journalRoot, stream), stream, { includeMeta: true })) {
    // Parts 2 and 3 of an ORDER_ENTRY are the same record on disk.
    if (record.part > 1) continue
    total++
    if (record.timeUs < fromUs || record.timeUs >= toUs) continue
    bytes += record.length
    if (record.batchEnd) batches++
    if (!isMetaKind(record.kind)) {
      records++
      const kind = record.part === 1 ? RecordKind.ORDER_ENTRY : record.kind
      byKind.set(kind, (byKind.get(kind) ?? 0) + 1)
    }
  }
  return {
    stream,
    window_s: windowS,
    records,
    batches,
    bytes,
    records_by_kind: Object.fromEntries([...byKind].sort((a, b) => a[0] - b[0]).map(([kind, n]) => [recordKindName(kind), n])),
    stream_records_total: total,
    read_ms: Math.round(performance.now() - started),
  }
}
