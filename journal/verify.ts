// verifyJournal: the check behind `journal verify DIR`. Every segment of
// every stream is scanned on its own (segment-scan.ts: framing, CRCs,
// seq, batch chain, seal), then the links between segments are checked:
// numbering without gaps, each header naming the previous segment's seal
// hash, the seq running on across the boundary, and a stream that does
// not start at segment 1 being explained by a purge record that names the
// seal it now starts from. The result names the first bad record by file,
// byte offset and stream seq, and says what is wrong.
import { relative } from 'node:path'
import { JournalError } from './errors.js'
import { MAX_SEGMENT_FILE_BYTES, readBoundedFile } from './read-bounded-file.js'
import { HASH_BYTES, sealReasonName } from './record-format.js'
import { scanSegment, type ProblemKind, type ScanProblem, type SegmentScan } from './segment-scan.js'
import { listSegments, listStreamDirs, type SegmentFile } from './segment-names.js'

export interface VerifyOptions {
  /** Report a stream's live (last, unsealed) segment as a problem instead of as open. */
  requireSealed?: boolean
}

export interface JournalProblem extends ScanProblem {
  stream: string
  /** Path relative to the verified directory. */
  file: string
  segment: number
}

/**
 * sealed: checked and sealed. open: the stream's live segment, checked up
 * to its last batch and not yet sealed. bad: has a problem.
 */
export type SegmentStatus = 'sealed' | 'open' | 'bad'

export interface SegmentReport {
  stream: string
  file: string
  segment: number
  day: string
  bytes: number
  status: SegmentStatus
  firstSeq: number | null
  lastSeq: number | null
  records: number
  batches: number
  sealHash: string | null
  sealReason: string | null
  /** Bytes cut from a torn final batch when the writer recovered this segment. */
  tornBytes: number
}

export interface VerifyResult {
  ok: boolean
  dir: string
  streams: string[]
  segments: SegmentReport[]
  problems: JournalProblem[]
  firstBad: JournalProblem | null
}

export function verifyJournal (dir: string, options: VerifyOptions = {}): VerifyResult {
  const streamDirs = listStreamDirs(dir)
  const scansByStream = streamDirs.map(({ stream, dir: streamDir }) => ({
    stream,
    scans: listSegments(streamDir, stream).map(scanSegmentFile),
  }))
  // Purge records may live in any stream (the supervisor's, normally), so
  // gather them all before judging where each stream starts.
  const purged = new Set<string>()
  for (const { scans } of scansByStream) for (const scan of scans) for (const h of scan.purgedSealHashes) purged.add(h)

  const segments: SegmentReport[] = []
  const problems: JournalProblem[] = []
  for (const { stream, scans } of scansByStream) {
    for (let i = 0; i < scans.length; i++) {
      const scan = scans[i]!
      const isLast = i === scans.length - 1
      const found: ScanProblem[] = []
      const link = checkLink(scan, i > 0 ? scans[i - 1]! : null, purged)
      if (link !== null) found.push(link)
      if (scan.problem !== null) found.push(scan.problem)
      else if (scan.header === null) {
        if (!isLast || options.requireSealed === true) found.push(problem('truncated', 0, null, null, 'the segment file is empty: it has no header'))
      } else if (scan.seal === null && (!isLast || options.requireSealed === true)) {
        const next = (scan.lastSeq ?? 0) + 1
        found.push(problem('unsealed', scan.goodEnd, next, null, isLast
          ? 'the segment has no seal (--require-sealed)'
          : 'the segment has no seal, yet a later segment follows it'))
      }
      for (const p of found) problems.push({ ...p, stream, file: relative(dir, scan.file.path) || scan.file.file, segment: scan.file.segment })
      segments.push(report(dir, stream, scan, found.length > 0))
    }
  }
  return { ok: problems.length === 0, dir, streams: streamDirs.map((s) => s.stream), segments, problems, firstBad: problems[0] ?? null }
}

/**
 * A segment file scanned, or, when it cannot be read within the tools'
 * budget (a directory, FIFO or device named like a segment, a file larger
 * than any segment the gateway writes), an empty scan with that problem.
 */
function scanSegmentFile (file: SegmentFile): SegmentScan {
  let buf: Buffer
  try {
    buf = readBoundedFile(file.path, MAX_SEGMENT_FILE_BYTES, 'segment')
  } catch (err) {
    if (!(err instanceof JournalError)) throw err
    const scan = scanSegment(Buffer.alloc(0), file)
    scan.problem = problem('unreadable', 0, null, null, err.message.startsWith(`${file.path}: `) ? err.message.slice(file.path.length + 2) : err.message)
    return scan
  }
  return scanSegment(buf, file)
}

function problem (kind: ProblemKind, offset: number, seq: number | null, storedSeq: number | null, message: string): ScanProblem {
  return { kind, offset, seq, storedSeq, seqEnd: null, message }
}

/** The link from the previous segment (or, for a stream's first, from nothing or a purge) to this one's header. */
function checkLink (scan: SegmentScan, prev: SegmentScan | null, purged: Set<string>): ScanProblem | null {
  const header = scan.header
  if (header === null || scan.firstSeq === null) return null
  if (prev === null) {
    const fromZero = header.prevSealHash.equals(Buffer.alloc(HASH_BYTES))
    if (fromZero) {
      if (scan.firstSeq !== 1 || scan.file.segment !== 1) {
        return problem('missing', 0, 1, scan.firstSeq, `the stream starts at segment ${scan.file.segment}, seq ${scan.firstSeq}, with no link to an earlier seal`)
      }
      return null
    }
    const hex = header.prevSealHash.toString('hex')
    if (purged.has(hex)) return null
    return problem('missing', 0, null, scan.firstSeq, `the segments before ${scan.file.file} (seq below ${scan.firstSeq}) are gone and no purge record names the seal ${hex.slice(0, 16)}… it links to`)
  }
  if (scan.file.segment !== prev.file.segment + 1) {
    const first = prev.file.segment + 1
    const last = scan.file.segment - 1
    const which = first === last ? `segment ${first} is` : `segments ${first}..${last} are`
    return problem('missing', 0, prev.sealSeq !== null ? prev.sealSeq + 1 : null, scan.firstSeq, `${which} missing between ${prev.file.file} and ${scan.file.file}`)
  }
  // A previous segment that is damaged or unsealed has its own problem;
  // its seal cannot vouch for this link either way.
  if (prev.problem !== null || prev.seal === null || prev.sealSeq === null || prev.sealHash === null) return null
  const expectSeq = prev.sealSeq + 1
  if (scan.firstSeq > expectSeq) {
    return problem('missing', 0, expectSeq, scan.firstSeq, `records seq ${expectSeq}..${scan.firstSeq - 1} are missing between ${prev.file.file} and ${scan.file.file}`)
  }
  if (scan.firstSeq < expectSeq) {
    return problem('reordered', 0, expectSeq, scan.firstSeq, `${scan.file.file} starts at seq ${scan.firstSeq}, before the end of ${prev.file.file} (seq ${prev.sealSeq})`)
  }
  if (!header.prevSealHash.equals(prev.sealHash)) {
    return problem('changed', 0, expectSeq, scan.firstSeq, `the header links to a seal other than ${prev.file.file}'s: one of the two segments was replaced`)
  }
  return null
}

function report (dir: string, stream: string, scan: SegmentScan, bad: boolean): SegmentReport {
  return {
    stream,
    file: relative(dir, scan.file.path) || scan.file.file,
    segment: scan.file.segment,
    day: scan.file.day,
    bytes: scan.bytes,
    status: bad ? 'bad' : scan.seal !== null ? 'sealed' : 'open',
    firstSeq: scan.firstSeq,
    lastSeq: scan.lastSeq,
    records: scan.records,
    batches: scan.batches,
    sealHash: scan.sealHash?.toString('hex') ?? null,
    sealReason: scan.seal !== null ? sealReasonName(scan.seal.reason) : null,
    tornBytes: scan.seal?.tornBytes ?? 0,
  }
}

/** One line per problem, then a summary line: what `journal verify` prints. */
export function formatProblem (p: JournalProblem): string {
  const seq = p.seq !== null ? ` seq ${p.seq}` : p.storedSeq !== null ? ` (stored seq ${p.storedSeq})` : ''
  return `${p.kind.toUpperCase()} ${p.file} offset ${p.offset}${seq}: ${p.message}`
}

export function formatVerifyResult (result: VerifyResult, verbose = false): string {
  const lines: string[] = []
  if (verbose) {
    for (const s of result.segments) {
      const seqs = s.firstSeq !== null ? ` seq ${s.firstSeq}..${s.lastSeq ?? '?'}` : ''
      const seal = s.sealReason !== null ? ` (${s.sealReason}${s.tornBytes > 0 ? `, ${s.tornBytes} torn bytes cut` : ''})` : ''
      lines.push(`${s.status.padEnd(6)} ${s.file}${seqs}, ${s.records} records in ${s.batches} batches${seal}`)
    }
  }
  for (const p of result.problems) lines.push(formatProblem(p))
  // Say what was checked, not only that nothing was wrong: "OK" over 0
  // records is not the same evidence as "OK" over 420 (the summary line
  // below keeps its form, which scripts and tests match on).
  const records = result.segments.reduce((n, s) => n + s.records, 0)
  const batches = result.segments.reduce((n, s) => n + s.batches, 0)
  lines.push(`checked ${result.streams.length} stream${result.streams.length === 1 ? '' : 's'} (${result.streams.join(', ')}), ` +
    `${result.segments.length} segment${result.segments.length === 1 ? '' : 's'}, ${records} record${records === 1 ? '' : 's'} in ${batches} batch${batches === 1 ? '' : 'es'} (headers and seals included)`)
  const open = result.segments.filter((s) => s.status === 'open').length
  const summary = `${result.segments.length} segments in ${result.streams.length} streams, ${open} open, ${result.problems.length} problems`
  lines.push(result.ok ? `journal OK: ${summary}` : `journal BAD: ${summary}; first bad: ${formatProblem(result.firstBad!)}`)
  return lines.join('\n')
}
