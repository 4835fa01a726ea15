// Where segments live and what they are called. Names sort by time within
// a stream: <stream>-<YYYYMMDD>-<nnnn>.ghj, where nnnn is the stream's own
// segment number (1, 2, 3, ... never reset, so a day split by size or a
// trading day that starts the evening before still orders correctly).
// Tools order segments by that number, never by the name's text, so a
// stream that passes segment 9999 keeps its order.
import { closeSync, existsSync, fsyncSync, openSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

export const DEFAULT_JOURNAL_ROOT = 'var/journal'
export const SEGMENT_SUFFIX = '.ghj'
/** Owner-only: the journal holds credentials' outcomes, terminal fingerprints and every order. */
export const JOURNAL_DIR_MODE = 0o700
export const JOURNAL_FILE_MODE = 0o600
/** Lower-case and no '-', so a file name splits back into stream, day and number without ambiguity. */
export const STREAM_NAME_PATTERN = /^[a-z][a-z0-9_]{0,31}$/
const SEGMENT_NAME_PATTERN = /^([a-z][a-z0-9_]{0,31})-(\d{8})-(\d{4,})\.ghj$/

export interface SegmentFile {
  /** Full path. */
  path: string
  /** Base name, as reports show it. */
  file: string
  stream: string
  day: string
  segment: number
}

export function segmentFileName (stream: string, day: string, segment: number): string {
  return `${stream}-${day}-${String(segment).padStart(4, '0')}${SEGMENT_SUFFIX}`
}

export function parseSegmentFileName (file: string): Omit<SegmentFile, 'path'> | null {
  const m = SEGMENT_NAME_PATTERN.exec(file)
  if (m === null) return null
  return { file, stream: m[1]!, day: m[2]!, segment: Number(m[3]) }
}

/** The segments of one stream directory, in segment-number order. Other files (.torn, notes) are ignored. */
export function listSegments (streamDir: string, stream?: string): SegmentFile[] {
  if (!existsSync(streamDir)) return []
  const out: SegmentFile[] = []
  for (const file of readdirSync(streamDir)) {
    const parsed = parseSegmentFileName(file)
    if (parsed === null || (stream !== undefined && parsed.stream !== stream)) continue
    out.push({ ...parsed, path: join(streamDir, file) })
  }
  return out.sort((a, b) => a.segment - b.segment)
}

export interface StreamDir { stream: string, dir: string }

/**
 * The streams under a journal root: one subdirectory per stream. A
 * directory that itself holds segments is taken as one stream's
 * directory, so `verify var/journal/hft` works as well as `verify var/journal`.
 */
export function listStreamDirs (root: string): StreamDir[] {
  if (!existsSync(root)) return []
  const direct = new Set<string>()
  for (const file of readdirSync(root)) {
    const parsed = parseSegmentFileName(file)
    if (parsed !== null) direct.add(parsed.stream)
  }
  if (direct.size > 0) return [...direct].sort().map((stream) => ({ stream, dir: root }))
  const out: StreamDir[] = []
  for (const name of readdirSync(root).sort()) {
    if (!STREAM_NAME_PATTERN.test(name)) continue
    const dir = join(root, name)
    if (isDirectory(dir)) out.push({ stream: name, dir })
  }
  return out
}

/** False for anything but a directory, including what cannot be followed (a dangling symlink, a symlink loop). */
function isDirectory (path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

/** Makes a directory's entries (a new or removed segment's name) durable. */
export function fsyncDir (dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}
