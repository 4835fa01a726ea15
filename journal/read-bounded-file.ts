// Reads a file an operator handed a tool, within a budget. readFileSync
// alone reads whatever is there: a FIFO blocks it forever, /dev/zero (or
// a symlink named like a segment pointing at it) grows its buffer without
// end, a sparse 1.5 GB "segment" is read whole, and a directory ends in a
// stack trace. Here only a regular file is read, and only up to maxBytes.
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'
import { JournalError, journalErrorCodes } from './errors.js'

/**
 * The largest segment file the tools read (each is held in memory while it
 * is checked). The gateway rolls a segment at journal.maxSegmentBytes
 * (256 MiB by default), so a segment is at most that plus one batch.
 */
export const MAX_SEGMENT_FILE_BYTES = 1024 * 1024 * 1024

/** The largest JSON file (a config, a limits file) read: a config with thousands of accounts is a few MiB. */
export const MAX_JSON_FILE_BYTES = 16 * 1024 * 1024

function unreadable (path: string, why: string, cause?: unknown): JournalError {
  return new JournalError(journalErrorCodes.UNREADABLE, `${path}: ${why}`, cause === undefined ? undefined : { cause })
}

function aOr (noun: string): string {
  return `${/^[aeiouAEIOU]/.test(noun) ? 'an' : 'a'} ${noun}`
}

function kindOf (stat: import('node:fs').Stats): string {
  if (stat.isDirectory()) return 'a directory'
  if (stat.isFIFO()) return 'a FIFO'
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device'
  if (stat.isSocket()) return 'a socket'
  return 'not a regular file'
}

/**
 * The bytes of the regular file at `path`, at most maxBytes of them.
 * Throws JournalError UNREADABLE naming the path and why otherwise
 * (missing, not a regular file, too large, an I/O error).
 */
export function readBoundedFile (path: string, maxBytes: number, what = 'file'): Buffer {
  let fd: number
  try {
    // O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  } catch (err) {
    throw unreadable(path, `cannot read the ${what} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, err)
  }
  try {
    const stat = fstatSync(fd)
    if (!stat.isFile()) throw unreadable(path, `is ${kindOf(stat)}, not ${aOr(what)}`)
    if (stat.size > maxBytes) {
      throw unreadable(path, `is ${stat.size} bytes; ${aOr(what)} may be at most ${maxBytes} bytes`)
    }
    const buf = Buffer.allocUnsafe(stat.size)
    let off = 0
    // A file that shrinks while it is read is cut where it ended; one that grows is read up to the size it had.
    while (off < buf.length) {
      const n = readSync(fd, buf, off, buf.length - off, off)
      if (n === 0) break
      off += n
    }
    return off === buf.length ? buf : buf.subarray(0, off)
  } catch (err) {
    if (err instanceof JournalError) throw err
    throw unreadable(path, `cannot read the ${what} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, err)
  } finally {
    closeSync(fd)
  }
}
