/** Link frames: 4-byte big-endian length, then the LinkEnvelope bytes. */
export const LINK_LENGTH_PREFIX_BYTES = 4
/** Largest LinkEnvelope the link accepts; a longer length is a fatal framing error. */
export const MAX_LINK_FRAME_BYTES = 65_536
/** Default largest ClientEnvelope a lane accepts (per-lane config may lower it). */
export const DEFAULT_MAX_CLIENT_FRAME_BYTES = 4_096
/** Every 64-bit integer on the wire must stay below this to decode exactly. */
export const MAX_WIRE_INTEGER = Number.MAX_SAFE_INTEGER
