// Errors of the retention journal. Each has a stable `code` from the
// registry (protocol/error-codes.ts); match on it, never on the class or
// the message.
import type { ErrorCode } from '../protocol/error-codes.js'
import { GatehouseError } from '../protocol/gatehouse-error.js'

export const journalErrorCodes = {
  /** An option of a JournalStream or a tool is out of range; the message says which and what to change. */
  INVALID_OPTION: 'GH_ERR_JOURNAL_INVALID_OPTION',
  /** A record field cannot be encoded (account too long, session id out of range, payload too large). */
  INVALID_RECORD: 'GH_ERR_JOURNAL_INVALID_RECORD',
  /**
   * write(2) of a batch failed or wrote short. The batch is not journaled,
   * so the messages it covers must not be sent; the stream refuses further
   * appends, because the file may now end in a partial batch.
   */
  WRITE_FAILED: 'GH_ERR_JOURNAL_WRITE_FAILED',
  /** An fsync the policy asked for failed: durability is no longer assured, so the stream stops. */
  FSYNC_FAILED: 'GH_ERR_JOURNAL_FSYNC_FAILED',
  /** The stream was closed, or stopped by an earlier write or fsync failure. */
  CLOSED: 'GH_ERR_JOURNAL_CLOSED',
  /**
   * The last segment of a stream, found on open, is damaged in a way a
   * crash cannot explain (anything but a torn final batch). The writer
   * will not append to or repair it; run `verify` and investigate.
   */
  CORRUPT: 'GH_ERR_JOURNAL_CORRUPT',
  /**
   * A file a tool was given cannot be read within its budget: missing, not
   * a regular file (a directory, FIFO or device named like a segment),
   * larger than the tools read, or an I/O error. The message names the
   * file and why.
   */
  UNREADABLE: 'GH_ERR_JOURNAL_UNREADABLE',
} as const satisfies Record<string, ErrorCode>

export type JournalErrorCode = typeof journalErrorCodes[keyof typeof journalErrorCodes]

export class JournalError extends GatehouseError {
  declare readonly code: JournalErrorCode
  constructor (code: JournalErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}
