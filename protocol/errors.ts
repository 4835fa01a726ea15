import type { ErrorCode } from './error-codes.js'
import { GatehouseError } from './gatehouse-error.js'

/** A frame did not decode as the expected envelope. */
export const ERR_MALFORMED_FRAME = 'GH_ERR_MALFORMED_FRAME' satisfies ErrorCode
/** A link frame announced a length above MAX_LINK_FRAME_BYTES. */
export const ERR_LINK_FRAME_TOO_LARGE = 'GH_ERR_LINK_FRAME_TOO_LARGE' satisfies ErrorCode
/** A number about to be encoded into a 64-bit field is not a safe integer: it would be sent altered (long-off.ts). */
export const ERR_UNSAFE_INTEGER = 'GH_ERR_UNSAFE_INTEGER' satisfies ErrorCode

export type ProtocolErrorCode = typeof ERR_MALFORMED_FRAME | typeof ERR_LINK_FRAME_TOO_LARGE | typeof ERR_UNSAFE_INTEGER

/** Errors raised by the codecs; match on `code`, not on the class or the message. */
export class ProtocolError extends GatehouseError {
  declare readonly code: ProtocolErrorCode
  constructor (code: ProtocolErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}
