// Codec for the client protocol: one ClientEnvelope per binary WebSocket
// frame. It knows nothing about sockets; lanes, the client library and the
// load generators all call it.
import { ClientEnvelope, type ClientEnvelopeInit } from './messages.js'
import { ERR_MALFORMED_FRAME, ProtocolError } from './errors.js'

/** Encodes one envelope into a fresh byte array (a frame payload). */
export function encodeClientEnvelope (envelope: ClientEnvelopeInit): Uint8Array {
  return ClientEnvelope.encode(envelope).finish()
}

/**
 * Decodes one frame payload. Throws ProtocolError(GH_ERR_MALFORMED_FRAME)
 * with the decoder's complaint as the cause; an envelope with no body is
 * returned as is (the caller answers UNKNOWN_MESSAGE, since it may be a
 * message from a newer protocol version).
 */
export function decodeClientEnvelope (payload: Uint8Array): ClientEnvelope {
  try {
    return ClientEnvelope.decode(payload)
  } catch (cause) {
    throw new ProtocolError(ERR_MALFORMED_FRAME, 'frame is not a valid ClientEnvelope', { cause })
  }
}
