/**
 * Errors raised by the codecs. Each has a stable `code`; match on it, not on
 * the class or the message (the undici convention).
 */
export class ProtocolError extends Error {
  readonly code: string
  constructor (code: string, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'ProtocolError'
    this.code = code
  }
}

/** A frame did not decode as the expected envelope. */
export const ERR_MALFORMED_FRAME = 'GH_ERR_MALFORMED_FRAME'
/** A link frame announced a length above MAX_LINK_FRAME_BYTES. */
export const ERR_LINK_FRAME_TOO_LARGE = 'GH_ERR_LINK_FRAME_TOO_LARGE'
/** A number about to be encoded into a 64-bit field is not a safe integer: it would be sent altered (long-off.ts). */
export const ERR_UNSAFE_INTEGER = 'GH_ERR_UNSAFE_INTEGER'
