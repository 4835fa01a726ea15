// The one base of every error Gatehouse raises on purpose. It lives at the
// lowest floor (protocol/) so the journal, the checks, the gateway, the
// tools and the client can all extend it. Match on `code`, never on the
// class or the message: the codes are stable, the wording is not.
import type { ErrorCode } from './error-codes.js'

/**
 * An error with a stable code from the registry (error-codes.ts, listed
 * in docs/errors.md). Subclasses fix a code or narrow the set they use;
 * `name` is the subclass's name so a stack trace says which one.
 */
export class GatehouseError extends Error {
  readonly code: ErrorCode
  constructor (code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}

/** True for any Gatehouse error, or one with the given code. */
export function isGatehouseError (err: unknown, code?: ErrorCode): err is GatehouseError {
  return err instanceof GatehouseError && (code === undefined || err.code === code)
}
