// The evidence store: an AppID's assessment documents as files under
// <runDir>/evidence/, each named by the SHA-256 of its bytes. The
// directory is 0700 and each file 0600: only the gateway's user reads
// them. The same bytes always land in the same file, so adding a document
// twice stores it once; a file already there is never rewritten (its name
// is its content).
//
// The file is read by path on the gateway's side (the admin socket's
// requests are lines of at most 1 MiB, and a test report can be tens of
// MiB): only a regular file, only up to evidence.maxFileBytes, checked
// before a byte is read (readBoundedFile). The admin socket is owner-only,
// so whoever names the path already acts as the gateway's user.
import { chmodSync, closeSync, existsSync, fsyncSync, mkdirSync, openSync, renameSync, statSync, writeSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { readBoundedFile } from '../../journal/read-bounded-file.js'
import { GatehouseError } from '../../protocol/gatehouse-error.js'

export const evidenceErrorCodes = {
  /** The file is larger than evidence.maxFileBytes. */
  TOO_LARGE: 'GH_ERR_EVIDENCE_TOO_LARGE',
  /** The file cannot be read (missing, not a regular file, an I/O error) or stored. */
  UNREADABLE: 'GH_ERR_EVIDENCE_UNREADABLE',
} as const
export type EvidenceErrorCode = typeof evidenceErrorCodes[keyof typeof evidenceErrorCodes]

export class EvidenceError extends GatehouseError {
  declare readonly code: EvidenceErrorCode
  constructor (code: EvidenceErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}

export interface StoredFile {
  sha256: string
  sizeBytes: number
  /** False when the same bytes were stored before. */
  created: boolean
}

export function evidenceDir (runDir: string): string {
  return join(runDir, 'evidence')
}

export class EvidenceStore {
  constructor (readonly dir: string, private readonly maxFileBytes: number) {}

  /** Where a document's bytes are. */
  pathOf (sha256: string): string {
    return join(this.dir, sha256)
  }

  has (sha256: string): boolean {
    return /^[0-9a-f]{64}$/.test(sha256) && existsSync(this.pathOf(sha256))
  }

  /** Reads the file at `path` (bounded) and stores it. Throws EvidenceError. */
  addFile (path: string): StoredFile {
    // A regular file's size is checked here for its own code;
    // readBoundedFile checks again on the descriptor it opens (a file that
    // grew in between) and refuses anything that is not a regular file.
    const size = sizeOfRegularFile(path)
    if (size !== null && size > this.maxFileBytes) throw tooLarge(path, size, this.maxFileBytes)
    let bytes: Buffer
    try {
      bytes = readBoundedFile(path, this.maxFileBytes, 'document')
    } catch (err) {
      if (/may be at most/.test((err as Error).message)) throw tooLarge(path, sizeOfRegularFile(path) ?? this.maxFileBytes + 1, this.maxFileBytes)
      throw new EvidenceError(evidenceErrorCodes.UNREADABLE, (err as Error).message, { cause: err })
    }
    return this.addBytes(bytes)
  }

  /** Stores bytes already in memory (a report this process wrote). */
  addBytes (bytes: Uint8Array): StoredFile {
    if (bytes.length > this.maxFileBytes) throw tooLarge('the document', bytes.length, this.maxFileBytes)
    const sha256 = createHash('sha256').update(bytes).digest('hex')
    const target = this.pathOf(sha256)
    try {
      mkdirSync(this.dir, { recursive: true, mode: 0o700 })
      // mkdir's mode applies only to a directory it creates; one made
      // earlier by hand is tightened too.
      chmodSync(this.dir, 0o700)
      if (existsSync(target)) return { sha256, sizeBytes: bytes.length, created: false }
      // Written under a temporary name and renamed: the digest-named file
      // is never half there after a crash.
      const tmp = `${target}.tmp-${process.pid}`
      const fd = openSync(tmp, 'w', 0o600)
      try {
        writeSync(fd, bytes)
        fsyncSync(fd)
      } finally {
        closeSync(fd)
      }
      renameSync(tmp, target)
    } catch (err) {
      throw new EvidenceError(evidenceErrorCodes.UNREADABLE, `cannot store the document in ${this.dir}: ${(err as Error).message}`, { cause: err })
    }
    return { sha256, sizeBytes: bytes.length, created: true }
  }
}

/** The size of the regular file at path; null when it is not one or cannot be stat'ed (readBoundedFile then says why). */
function sizeOfRegularFile (path: string): number | null {
  try {
    const stat = statSync(path)
    return stat.isFile() ? stat.size : null
  } catch {
    return null
  }
}

function tooLarge (path: string, size: number, max: number): EvidenceError {
  return new EvidenceError(evidenceErrorCodes.TOO_LARGE, `${path} is ${size} bytes; a document may be at most ${max} bytes (evidence.maxFileBytes)`)
}
