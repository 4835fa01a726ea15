// Codec for the exchange link: length-prefixed LinkEnvelope frames on a TCP
// byte stream. No sockets here: the exchange link and the simulator feed it
// whatever chunks TCP delivers.
//
//   0        4                          4 + length
//   +--------+--------------------------+--------+---------- ...
//   | length | LinkEnvelope             | length | LinkEnvelope
//   | u32 BE | (length bytes)           | u32 BE |
//   +--------+--------------------------+--------+---------- ...
import { LinkEnvelope, type LinkEnvelopeInit } from './messages.js'
import { LINK_LENGTH_PREFIX_BYTES, MAX_LINK_FRAME_BYTES } from './constants.js'
import { ERR_LINK_FRAME_TOO_LARGE, ERR_MALFORMED_FRAME, ProtocolError } from './errors.js'
import { validateLinkEnvelope } from './field-limits.js'
import { encodeLinkOrderFrame, type HotLinkDecoder, type HotLinkOrderDecoder } from './hot-codec.js'
import type { WireScratch } from './wire-scratch.js'

/** Encodes one envelope as a complete frame, length prefix included. */
export function encodeLinkFrame (envelope: LinkEnvelopeInit): Buffer {
  const body = LinkEnvelope.encode(envelope).finish()
  const frame = Buffer.allocUnsafe(LINK_LENGTH_PREFIX_BYTES + body.length)
  frame.writeUInt32BE(body.length, 0)
  frame.set(body, LINK_LENGTH_PREFIX_BYTES)
  return frame
}

/**
 * Decodes one envelope body (without its prefix). A body that does not
 * decode, or carries a value outside the link's field limits (an integer
 * at or above 2^53, an undefined side or time in force: field-limits.ts),
 * throws ProtocolError(GH_ERR_MALFORMED_FRAME) naming what is wrong.
 */
export function decodeLinkEnvelope (body: Uint8Array): LinkEnvelope {
  let envelope: LinkEnvelope
  try {
    envelope = LinkEnvelope.decode(body)
  } catch (cause) {
    throw new ProtocolError(ERR_MALFORMED_FRAME, 'frame is not a valid LinkEnvelope', { cause })
  }
  const violation = validateLinkEnvelope(envelope)
  if (violation !== null) throw new ProtocolError(ERR_MALFORMED_FRAME, `LinkEnvelope field out of range: ${violation.text}`)
  return envelope
}

/**
 * The link's decode of a frame body: what the hand decoder takes on its
 * fast path (hot-codec.ts: an execution report on the gateway's side, a
 * new order or cancel on the exchange simulator's), into its reused
 * envelope (valid until its next decode), checked against the same field
 * limits; anything else through decodeLinkEnvelope. Throws as
 * decodeLinkEnvelope.
 */
export function decodeLinkFrame (decoder: HotLinkDecoder | HotLinkOrderDecoder, body: Uint8Array): LinkEnvelope {
  if (!decoder.decode(body)) return decodeLinkEnvelope(body)
  const envelope = decoder.envelope as unknown as LinkEnvelope
  const violation = validateLinkEnvelope(envelope)
  if (violation !== null) throw new ProtocolError(ERR_MALFORMED_FRAME, `LinkEnvelope field out of range: ${violation.text}`)
  return envelope
}

/**
 * The link's encode of an outgoing envelope as a frame: a new order or a
 * cancel by hand into `scratch` (a view valid until the scratch is
 * reset), anything else with encodeLinkFrame. Both write the same bytes.
 */
export function encodeLinkFrameInto (scratch: WireScratch, envelope: LinkEnvelopeInit): Buffer {
  return encodeLinkOrderFrame(scratch, envelope) ?? encodeLinkFrame(envelope)
}

/**
 * Splits a TCP byte stream into frame bodies.
 *
 * Bodies are handed out as views into the chunk they arrived in (no copy);
 * bytes are copied only when a frame straddles two chunks, into a carry
 * buffer that holds just the unfinished frame. A view is valid only during
 * the callback: decode it there, don't keep it.
 */
export class LinkFrameDecoder {
  private carry: Buffer | null = null

  /**
   * Feeds one chunk; calls onFrame for each complete body in order. Throws
   * ProtocolError(GH_ERR_LINK_FRAME_TOO_LARGE) when a length is out of range;
   * the stream cannot be resynchronised after that, so the caller closes it.
   */
  push (chunk: Buffer, onFrame: (body: Buffer) => void): void {
    let buf = chunk
    if (this.carry !== null) {
      buf = Buffer.concat([this.carry, chunk])
      this.carry = null
    }
    let offset = 0
    while (buf.length - offset >= LINK_LENGTH_PREFIX_BYTES) {
      const length = buf.readUInt32BE(offset)
      if (length > MAX_LINK_FRAME_BYTES) {
        throw new ProtocolError(ERR_LINK_FRAME_TOO_LARGE,
          `link frame of ${length} bytes exceeds the ${MAX_LINK_FRAME_BYTES}-byte maximum`)
      }
      const end = offset + LINK_LENGTH_PREFIX_BYTES + length
      if (end > buf.length) break
      onFrame(buf.subarray(offset + LINK_LENGTH_PREFIX_BYTES, end))
      offset = end
    }
    if (offset < buf.length) this.carry = Buffer.from(buf.subarray(offset))
  }

  /** Drops any partial frame, for a fresh connection. */
  reset (): void {
    this.carry = null
  }

  /** Bytes held back waiting for the rest of a frame. */
  get pendingBytes (): number {
    return this.carry === null ? 0 : this.carry.length
  }
}
