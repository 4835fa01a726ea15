// Codec for the client protocol: one ClientEnvelope per binary WebSocket
// frame. It knows nothing about sockets; lanes, the client library and the
// load generators all call it.
import { ClientEnvelope, type ClientEnvelopeInit } from './messages.js'
import { ERR_MALFORMED_FRAME, ProtocolError } from './errors.js'
import { encodeExecutionReportEnvelope, type HotClientDecoder } from './hot-codec.js'
import type { WireScratch } from './wire-scratch.js'

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

/**
 * The lane's decode of a frame: on the hand decoder's fast path
 * (hot-codec.ts) when it takes the frame (a new order, a cancel), into
 * the decoder's reused envelope, valid until its next decode; otherwise
 * decodeClientEnvelope, which decodes the frame or throws as above.
 */
export function decodeClientFrame (decoder: HotClientDecoder, payload: Uint8Array): ClientEnvelope {
  if (decoder.decode(payload)) return decoder.envelope as unknown as ClientEnvelope
  return decodeClientEnvelope(payload)
}

/**
 * The lane's encode of an outgoing envelope: an execution report by hand
 * into `scratch` (a view valid until the scratch is reset), anything else
 * with protobufjs. Both write the same bytes (test/hot-codecs-property.test.ts).
 */
export function encodeClientFrame (scratch: WireScratch, envelope: ClientEnvelopeInit): Uint8Array {
  if (envelope.executionReport != null) return encodeExecutionReportEnvelope(scratch, envelope)
  return encodeClientEnvelope(envelope)
}
