// Retention: removes segments past the retention period, and only those
// that can prove what they were. A segment is purged only if it is sealed,
// verifies clean on its own, is not its stream's newest, and its last
// commit is older than `retentionYears` before now. Per stream only the
// oldest run of such segments goes (never one from the middle, which would
// break the chain that verify follows). The purge record, naming each
// removed segment by its seal hash, is committed before any file is
// removed, so a crash between the two leaves extra segments, never an
// unexplained gap. verify accepts a stream that starts after a purge only
// when a purge record names the seal it starts from.
import { readFileSync, unlinkSync } from 'node:fs'
import { JournalError, journalErrorCodes } from './errors.js'
import { Direction, LANE_NONE, RecordKind, newRecordHead } from './record-format.js'
import { scanSegment } from './segment-scan.js'
import { fsyncDir, listSegments, listStreamDirs, type SegmentFile } from './segment-names.js'
import type { JournalStream } from './segment-writer.js'

export interface PurgedSegment {
  stream: string
  file: string
  segment: number
  day: string
  firstSeq: number
  lastSeq: number
  records: number
  bytes: number
  /** ISO time of the segment's last commit. */
  lastCommit: string
  /** SHA-256 of the segment seal record, hex: what the next segment's header links to. */
  sealHash: string
}

/** The payload of a purge record (JSON). */
export interface PurgeDocument {
  type: 'purge'
  retentionYears: number
  /** Segments whose last commit is before this ISO time were eligible. */
  cutoff: string
  removed: PurgedSegment[]
}

export interface PurgeResult {
  cutoffUs: number
  removed: PurgedSegment[]
  /**
   * The purge record's document: already appended and committed when a
   * journal was given (its seq in recordSeq), otherwise for the caller to
   * append. Null when nothing expired.
   */
  record: PurgeDocument | null
  recordSeq: number | null
}

export interface PurgeOptions {
  /** The stream that records the purge (the supervisor's). Without it, the caller must journal `record` itself. */
  journal?: JournalStream
}

/** The retention cutoff: the same UTC calendar instant `years` years before now. */
export function retentionCutoffUs (retentionYears: number, nowMs: number): number {
  const d = new Date(nowMs)
  const cutoffMs = Date.UTC(d.getUTCFullYear() - retentionYears, d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds())
  return cutoffMs * 1000
}

export function purgeExpired (dir: string, retentionYears: number, nowMs: number, options: PurgeOptions = {}): PurgeResult {
  if (!Number.isInteger(retentionYears) || retentionYears < 1) {
    throw new JournalError(journalErrorCodes.INVALID_OPTION, `retentionYears must be a whole number of years, at least 1; got ${retentionYears}`)
  }
  const cutoffUs = retentionCutoffUs(retentionYears, nowMs)
  const doomed: Array<{ file: SegmentFile, dir: string }> = []
  const removed: PurgedSegment[] = []
  for (const { stream, dir: streamDir } of listStreamDirs(dir)) {
    const files = listSegments(streamDir, stream)
    // The newest segment always stays: it is live, or it is what the
    // stream's next segment will link to.
    for (let i = 0; i < files.length - 1; i++) {
      const file = files[i]!
      const buf = readFileSync(file.path)
      const scan = scanSegment(buf, file)
      if (scan.problem !== null || scan.seal === null || scan.sealHash === null || scan.lastTimeUs === null) break
      if (scan.lastTimeUs >= cutoffUs) break
      doomed.push({ file, dir: streamDir })
      removed.push({
        stream,
        file: file.file,
        segment: file.segment,
        day: file.day,
        firstSeq: scan.firstSeq!,
        lastSeq: scan.sealSeq!,
        records: scan.records,
        bytes: scan.bytes,
        lastCommit: new Date(Math.floor(scan.lastTimeUs / 1000)).toISOString(),
        sealHash: scan.sealHash.toString('hex'),
      })
    }
  }
  if (removed.length === 0) return { cutoffUs, removed, record: null, recordSeq: null }

  const record: PurgeDocument = { type: 'purge', retentionYears, cutoff: new Date(Math.floor(cutoffUs / 1000)).toISOString(), removed }
  let recordSeq: number | null = null
  if (options.journal !== undefined) {
    const head = newRecordHead({ kind: RecordKind.PURGE, lane: LANE_NONE, direction: Direction.NONE })
    recordSeq = options.journal.appendJson(head, record)
    options.journal.commit()
  }
  const dirs = new Set<string>()
  for (const { file, dir: streamDir } of doomed) {
    unlinkSync(file.path)
    dirs.add(streamDir)
  }
  for (const d of dirs) fsyncDir(d)
  return { cutoffUs, removed, record, recordSeq }
}
