// The journal's binary record format: what one record looks like on disk,
// how a segment file is made of records, and the fixed payloads of the
// three records the journal writes for itself (segment header, batch seal,
// segment seal). Encoding is the lane's hot path: it writes straight into
// a caller-owned scratch buffer and allocates nothing. Decoding is for the tools and may allocate.
//
// One record, little-endian, 36 bytes of overhead plus the account:
//
//   0       4       5       6       7       8
//   ┌───────┬───────┬───────┬───────┬───────┐
//   │length │ kind  │ lane  │ dir   │acctLen│   length: whole record, these 4 bytes and the CRC included
//   ├───────┴───────┴───────┴───────┴───────┤ 8
//   │ seq     u64 (lo u32, hi u32)          │   per stream, +1 per record, across segments
//   ├───────────────────────────────────────┤ 16
//   │ timeUs  u64 (lo u32, hi u32)          │   µs since the epoch, non-decreasing per stream
//   ├───────────────┬───────────┬───────────┤ 24
//   │ sessionId u32 │msgType u16│ flags u16 │   msgType: the envelope's oneof field number, 0 if none
//   ├───────────────┴───────────┴───────────┤ 32
//   │ account   acctLen bytes, UTF-8        │
//   │ payload   length - 36 - acctLen bytes │   raw protobuf frame, or JSON when flags has FLAG_JSON
//   ├───────────────────────────────────────┤ length - 4
//   │ crc32 u32 of bytes [0, length - 4)    │
//   └───────────────────────────────────────┘
//
// u64 fields are two u32 halves rather than writeBigUInt64LE because a
// BigInt per field would allocate on every record; every value stays below
// 2^53 (µs since the epoch reach 2^53 in the year 2255).
//
// A segment file is a run of batches. Each batch is what one commit()
// wrote with one write(2). The segment header's format version says how a
// batch ends and how the chain is laid out; the tools read both.
//
// Format 2 (written now): the batch's last record carries FLAG_BATCH_END,
// and the SHA-256 chain advances at chain points, written at a cadence
// (every N records or T ms, whichever comes first; segment-writer.ts
// ChainCadence) as the last record of the batch that reaches it. A chain
// point covers every record since the previous one (chain points
// excluded), across batches. The first batch holds the segment header
// (and at most a chain point); a sealed segment ends with one segment
// seal, whose chain covers the records after the last chain point too.
//
//   ┌────────┐┌─────┬─────┬──────┐┌─────┬─────┬────────┐     ┌──────┐┌─────────┐
//   │ header*││ rec │ ... │ rec* ││ rec │ ... │ chainpt││ ... │ rec* ││ segseal │
//   └────────┘└─────┴─────┴──────┘└─────┴─────┴────────┘     └──────┘└─────────┘
//    batch 1   batch 2 (one write)  batch 3, reaching the     batch n  closing write
//                                   cadence                   (* = FLAG_BATCH_END)
//
//   chain(0) = header.prevSealHash   (32 zero bytes for a stream's first segment)
//   chain(k) = SHA-256(chain(k-1) ‖ bytes of the records since chain point k-1
//              (from the header for k = 1), chain points excluded)
//   seal chain = chain(last), or SHA-256(chain(last) ‖ records after it) if any
//
// Format 1 (still read): every batch ended with a BATCH_SEAL record and
// the chain advanced per batch, chain(k) = SHA-256(chain(k-1) ‖ batch k's
// records, its seal excluded); the first batch was the header and its seal.
// Paying a record and a hash call per batch cost more than the rest of a
// small commit, hence format 2.
//
//   sealHash = SHA-256(bytes of the segment seal record); the next segment's
//              header carries it as prevSealHash, so segments chain as well
//              (across format versions too).
import type { LaneName } from '../protocol/lanes.js'
import { JournalError, journalErrorCodes } from './errors.js'

/** Bytes before the account: length, kind, lane, direction, acctLen, seq, timeUs, sessionId, msgType, flags. */
export const RECORD_HEAD_BYTES = 32
export const RECORD_CRC_BYTES = 4
export const RECORD_OVERHEAD_BYTES = RECORD_HEAD_BYTES + RECORD_CRC_BYTES
/** Accounts are short codes; 64 UTF-16 units is at most 192 UTF-8 bytes, which fits acctLen's u8. A longer one is clipped (FLAG_ACCOUNT_CLIPPED). */
export const MAX_ACCOUNT_CHARS = 64
/** Far above any frame a lane or the link accepts (4 KiB and 64 KiB); a larger length is damage. */
export const MAX_PAYLOAD_BYTES = 16 * 1024 * 1024
export const MAX_RECORD_BYTES = RECORD_OVERHEAD_BYTES + 3 * MAX_ACCOUNT_CHARS + MAX_PAYLOAD_BYTES
/** The scratch buffer grows in whole steps of this, like undici's parser buffer, so growth is rare and bounded. */
export const SCRATCH_STEP_BYTES = 64 * 1024
export const HASH_BYTES = 32
const TWO_POW_32 = 0x1_0000_0000
export const US_PER_DAY = 86_400_000_000

// Field offsets, named so the encoder, decoder and tamper tests agree.
export const OFF_LENGTH = 0
export const OFF_KIND = 4
export const OFF_LANE = 5
export const OFF_DIRECTION = 6
export const OFF_ACCOUNT_LEN = 7
export const OFF_SEQ = 8
export const OFF_TIME_US = 16
export const OFF_SESSION_ID = 24
export const OFF_MSG_TYPE = 28
export const OFF_FLAGS = 30

/** What a record is. The journal's own records sit below 16. */
export const RecordKind = {
  SEGMENT_HEADER: 1,
  BATCH_SEAL: 2,
  SEGMENT_SEAL: 3,
  /** Format 2: the chain hash over the records since the previous chain point (written at a cadence, not per batch). */
  CHAIN_POINT: 4,
  CLIENT_IN: 16,
  CLIENT_OUT: 17,
  LINK_IN: 18,
  LINK_OUT: 19,
  LOGON_STEP: 32,
  CHECK_DECISION: 33,
  ADMIN_CHANGE: 34,
  PURGE: 35,
  /** A tool showed masked terminal info (`search --reveal`): the reveal itself is evidence. */
  REVEAL: 36,
  /** A lane rolled the trading day: positions carried into it (gateway-records.ts, PositionsCarriedDocument). */
  POSITIONS_CARRIED: 37,
  /**
   * An execution report numbered for an account while no session of it
   * was there to take it (lane/report-log.ts): held for a resend.
   */
  REPORT_HELD: 38,
  /**
   * A new order that passed its checks and went out, in one record: the
   * client-in frame, the check decision and the link-out order
   * (gateway-records.ts, ORDER_ENTRY). Readers yield it as those three.
   */
  ORDER_ENTRY: 39,
} as const
export type RecordKindCode = typeof RecordKind[keyof typeof RecordKind]

const KIND_NAMES: Record<number, string> = {
  1: 'segment-header',
  2: 'batch-seal',
  3: 'segment-seal',
  4: 'chain-point',
  16: 'client-in',
  17: 'client-out',
  18: 'link-in',
  19: 'link-out',
  32: 'logon-step',
  33: 'check-decision',
  34: 'admin-change',
  35: 'purge',
  36: 'reveal',
  37: 'positions-carried',
  38: 'report-held',
  39: 'order-entry',
}

export function recordKindName (kind: number): string {
  return KIND_NAMES[kind] ?? `kind-${kind}`
}

export function isKnownKind (kind: number): boolean {
  return KIND_NAMES[kind] !== undefined
}

/** The journal's own records: they frame and seal, they carry no message. */
export function isMetaKind (kind: number): boolean {
  return kind === RecordKind.SEGMENT_HEADER || kind === RecordKind.BATCH_SEAL || kind === RecordKind.SEGMENT_SEAL || kind === RecordKind.CHAIN_POINT
}

export const Direction = { NONE: 0, IN: 1, OUT: 2 } as const
export type DirectionCode = typeof Direction[keyof typeof Direction]

/** 0 is "no lane": the supervisor's records (admin, purge). */
export const LANE_NONE = 0
/** Typed against the config's lane names, so a new lane cannot be journaled without a code. */
export const LANE_CODES: Readonly<Record<LaneName, number>> = Object.freeze({ terminal: 1, platform: 2, hft: 3 })
const LANE_NAMES_BY_CODE: readonly string[] = ['none', 'terminal', 'platform', 'hft']

export function laneName (code: number): string {
  return LANE_NAMES_BY_CODE[code] ?? `lane-${code}`
}

/** The payload is a UTF-8 JSON document (logon steps, admin changes, purges), not a protobuf frame. */
export const FLAG_JSON = 1
/**
 * The account was longer than MAX_ACCOUNT_CHARS and the record holds its
 * first MAX_ACCOUNT_CHARS characters (a JSON payload still has it whole).
 * The top bit: the flags below it are the record kinds' own.
 */
export const FLAG_ACCOUNT_CLIPPED = 0x8000
/**
 * Format 2: the last record of a batch (what one commit() wrote with one
 * write(2)). The writer sets it when it commits; a reader trusts records
 * up to the last one carrying it, and the records after it are a torn
 * final write. Format 1 ended each batch with a BATCH_SEAL record instead.
 */
export const FLAG_BATCH_END = 0x4000
/** The flags the journal owns (the record kinds' own sit below them). */
export const JOURNAL_FLAGS = FLAG_ACCOUNT_CLIPPED | FLAG_BATCH_END

/**
 * The fields of a record that the caller chooses. A lane keeps one per
 * session (or per message kind) and changes fields in place, so appending
 * allocates nothing.
 */
export interface RecordHead {
  kind: number
  lane: number
  direction: number
  sessionId: number
  account: string
  msgType: number
  flags: number
  /**
   * Filled by the encoder: `account` as UTF-8, and the string it was made
   * from. Encoded once per account rather than per record (pino's
   * genLsCache idea); a changed `account` is noticed and re-encoded.
   */
  accountBytes?: Buffer
  accountBytesOf?: string
}

export function newRecordHead (fields: Partial<RecordHead> = {}): RecordHead {
  return {
    kind: fields.kind ?? RecordKind.CLIENT_IN,
    lane: fields.lane ?? LANE_NONE,
    direction: fields.direction ?? Direction.NONE,
    sessionId: fields.sessionId ?? 0,
    account: fields.account ?? '',
    msgType: fields.msgType ?? 0,
    flags: fields.flags ?? 0,
  }
}

/**
 * A reused, caller-owned encode buffer. `length` bytes at the front are in
 * use (the batch being built); the rest is spare. It only grows, in whole
 * SCRATCH_STEP_BYTES steps, and stays at its high-water mark, so a steady
 * load allocates nothing.
 */
export class Scratch {
  buf: Buffer
  length = 0

  constructor (readonly stepBytes = SCRATCH_STEP_BYTES) {
    // allocUnsafeSlow: a buffer of its own rather than a slice of Node's
    // shared pool, since it lives as long as the stream.
    this.buf = Buffer.allocUnsafeSlow(stepBytes)
  }

  /** Makes room for `bytes` more after `length`. */
  reserve (bytes: number): void {
    const need = this.length + bytes
    if (need <= this.buf.length) return
    const next = Buffer.allocUnsafeSlow(Math.ceil(need / this.stepBytes) * this.stepBytes)
    this.buf.copy(next, 0, 0, this.length)
    this.buf = next
  }
}

// Plain indexed stores: the encoder's bounds are settled by reserve(), and
// Buffer's writeUInt32LE re-checks range and offset on every call (a
// profile of encodeRecord put a fifth of its time in those checks).
function putU32 (buf: Buffer, offset: number, value: number): void {
  buf[offset] = value
  buf[offset + 1] = value >>> 8
  buf[offset + 2] = value >>> 16
  buf[offset + 3] = value >>> 24
}

function putU16 (buf: Buffer, offset: number, value: number): void {
  buf[offset] = value
  buf[offset + 1] = value >>> 8
}

export function writeU64 (buf: Buffer, offset: number, value: number): void {
  // >>> 0 is ToUint32, i.e. value mod 2^32 for any integer below 2^53.
  const lo = value >>> 0
  putU32(buf, offset, lo)
  putU32(buf, offset + 4, (value - lo) / TWO_POW_32)
}

export function readU64 (buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset) + buf.readUInt32LE(offset + 4) * TWO_POW_32
}

/**
 * CRC-32 (the zip/PNG polynomial, so any tool can recheck it) of
 * buf[start, end), as an unsigned 32-bit value.
 *
 * Slice-by-16 over the range in place: the same tables and loop as the
 * crc-32 package (SheetJS, which computed it up to format version 1), but
 * indexed from `start` to `end` instead of over a whole array. crc-32's
 * buf() takes whole arrays only, so each record cost a Uint8Array view
 * (~96 bytes of young-generation garbage); this allocates nothing.
 * Node's zlib.crc32 was slower on ~100-byte records (its native call's
 * fixed cost dominates; they tie at ~300 bytes) and needs Node 20.15.
 * test/journal-segments.test.ts checks it against crc-32 on random ranges.
 */
export function crc32Of (buf: Uint8Array, start: number, end: number): number {
  let c = -1
  let i = start
  const last16 = end - 15
  while (i < last16) {
    c = CRC_T[15 * 256 + (buf[i]! ^ (c & 255))]! ^
      CRC_T[14 * 256 + (buf[i + 1]! ^ ((c >> 8) & 255))]! ^
      CRC_T[13 * 256 + (buf[i + 2]! ^ ((c >> 16) & 255))]! ^
      CRC_T[12 * 256 + (buf[i + 3]! ^ (c >>> 24))]! ^
      CRC_T[11 * 256 + buf[i + 4]!]! ^ CRC_T[10 * 256 + buf[i + 5]!]! ^
      CRC_T[9 * 256 + buf[i + 6]!]! ^ CRC_T[8 * 256 + buf[i + 7]!]! ^
      CRC_T[7 * 256 + buf[i + 8]!]! ^ CRC_T[6 * 256 + buf[i + 9]!]! ^
      CRC_T[5 * 256 + buf[i + 10]!]! ^ CRC_T[4 * 256 + buf[i + 11]!]! ^
      CRC_T[3 * 256 + buf[i + 12]!]! ^ CRC_T[2 * 256 + buf[i + 13]!]! ^
      CRC_T[256 + buf[i + 14]!]! ^ CRC_T[buf[i + 15]!]!
    i += 16
  }
  while (i < end) c = (c >>> 8) ^ CRC_T[(c ^ buf[i++]!) & 255]!
  return ~c >>> 0
}

/** 16 tables of 256 in one Int32Array: table k holds the CRC of a byte followed by k zero bytes. */
const CRC_T: Int32Array = (() => {
  const t = new Int32Array(16 * 256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (-306674912 ^ (c >>> 1)) : (c >>> 1)
    t[n] = c
  }
  for (let n = 0; n < 256; n++) {
    let v = t[n]!
    for (let k = 1; k < 16; k++) {
      v = t[v & 255]! ^ (v >>> 8)
      t[k * 256 + n] = v
    }
  }
  return t
})()

function invalidRecord (message: string): JournalError {
  return new JournalError(journalErrorCodes.INVALID_RECORD, message)
}

/**
 * Encodes one record at scratch.length and advances it. Returns the
 * record's offset in scratch.buf. `extraFlags` are ORed into head.flags
 * (appendJson sets FLAG_JSON this way without touching the caller's head).
 */
export function encodeRecord (scratch: Scratch, head: RecordHead, seq: number, timeUs: number, payload: Uint8Array, extraFlags = 0,
  payloadLength = payload.length): number {
  const account = head.account
  const { sessionId, msgType, kind, lane, direction } = head
  const clipped = account.length > MAX_ACCOUNT_CHARS
  const flags = head.flags | extraFlags | (clipped ? FLAG_ACCOUNT_CLIPPED : 0)
  // Range checks cost a compare each; a value that silently wrapped would
  // journal the wrong session or message type forever.
  if (payloadLength > MAX_PAYLOAD_BYTES || payloadLength > payload.length) throw invalidRecord(`payload is ${payloadLength} bytes; at most ${MAX_PAYLOAD_BYTES} fit a record, and at most the ${payload.length} given`)
  if ((sessionId >>> 0) !== sessionId) throw invalidRecord(`sessionId ${sessionId} is not an integer in [0, 2^32)`)
  if ((msgType & 0xffff) !== msgType || (flags & 0xffff) !== flags) throw invalidRecord(`msgType ${msgType} or flags ${flags} is not a u16`)
  if ((kind & 0xff) !== kind || (lane & 0xff) !== lane || (direction & 0xff) !== direction) throw invalidRecord(`kind ${kind}, lane ${lane} or direction ${direction} is not a u8`)
  if (!(timeUs >= 0 && timeUs <= Number.MAX_SAFE_INTEGER)) throw invalidRecord(`timeUs ${timeUs} is not in [0, 2^53)`)

  let accountUtf8 = head.accountBytes
  if (accountUtf8 === undefined || head.accountBytesOf !== account) {
    // The account can come from a client (a refused logon step is still
    // evidence): a longer one is cut to what the field holds and the
    // record says so, rather than the journal failing over a value.
    accountUtf8 = head.accountBytes = Buffer.from(clipped ? account.slice(0, MAX_ACCOUNT_CHARS) : account, 'utf8')
    head.accountBytesOf = account
  }
  const accountBytes = accountUtf8.length
  scratch.reserve(RECORD_OVERHEAD_BYTES + accountBytes + payloadLength)
  const buf = scratch.buf
  const start = scratch.length
  // Copying cached bytes is ~3x cheaper than buf.write(account) per record.
  buf.set(accountUtf8, start + RECORD_HEAD_BYTES)
  const payloadAt = start + RECORD_HEAD_BYTES + accountBytes
  if (payloadLength === payload.length) {
    buf.set(payload, payloadAt)
  } else {
    // The front of a reused buffer (a merged record's parts): a copy loop
    // rather than a subarray, which would allocate a view.
    for (let i = 0; i < payloadLength; i++) buf[payloadAt + i] = payload[i]!
  }
  const crcAt = payloadAt + payloadLength
  const length = crcAt + RECORD_CRC_BYTES - start

  putU32(buf, start + OFF_LENGTH, length)
  buf[start + OFF_KIND] = kind
  buf[start + OFF_LANE] = lane
  buf[start + OFF_DIRECTION] = direction
  buf[start + OFF_ACCOUNT_LEN] = accountBytes
  writeU64(buf, start + OFF_SEQ, seq)
  writeU64(buf, start + OFF_TIME_US, Math.floor(timeUs))
  putU32(buf, start + OFF_SESSION_ID, sessionId)
  putU16(buf, start + OFF_MSG_TYPE, msgType)
  putU16(buf, start + OFF_FLAGS, flags)
  putU32(buf, crcAt, crc32Of(buf, start, crcAt))
  scratch.length = start + length
  return start
}

/**
 * Sets FLAG_BATCH_END on the record encoded at `offset` (the batch's last)
 * and refreshes its CRC: one CRC per batch, rather than a seal record.
 */
export function markBatchEnd (buf: Buffer, offset: number): void {
  buf[offset + OFF_FLAGS + 1] |= FLAG_BATCH_END >>> 8
  const crcAt = offset + (buf[offset]! | (buf[offset + 1]! << 8) | (buf[offset + 2]! << 16) | (buf[offset + 3]! << 24)) - RECORD_CRC_BYTES
  putU32(buf, crcAt, crc32Of(buf, offset, crcAt))
}

/** True when the record at `offset` ends its batch (format 2). */
export function isBatchEndAt (buf: Buffer, offset: number): boolean {
  return (buf[offset + OFF_FLAGS + 1]! & (FLAG_BATCH_END >>> 8)) !== 0
}

/** What checkRecordAt found at an offset. */
export const RecordCheck = {
  OK: 0,
  /** Fewer bytes remain than the record (or a minimal record) needs: the file ends inside it. */
  INCOMPLETE: 1,
  /** The length field cannot be a record's: too small, too large, or the account overruns it. */
  BAD_LENGTH: 2,
  /** The bytes are there but do not match their CRC. */
  BAD_CRC: 3,
} as const
export type RecordCheckCode = typeof RecordCheck[keyof typeof RecordCheck]

/** Checks the framing and CRC of the record at `offset` in buf[0, end). */
export function checkRecordAt (buf: Buffer, offset: number, end: number): RecordCheckCode {
  if (end - offset < RECORD_OVERHEAD_BYTES) return RecordCheck.INCOMPLETE
  const length = buf.readUInt32LE(offset + OFF_LENGTH)
  if (length < RECORD_OVERHEAD_BYTES || length > MAX_RECORD_BYTES) return RecordCheck.BAD_LENGTH
  if (RECORD_OVERHEAD_BYTES + buf[offset + OFF_ACCOUNT_LEN]! > length) return RecordCheck.BAD_LENGTH
  if (end - offset < length) return RecordCheck.INCOMPLETE
  const crcAt = offset + length - RECORD_CRC_BYTES
  return crc32Of(buf, offset, crcAt) === buf.readUInt32LE(crcAt) ? RecordCheck.OK : RecordCheck.BAD_CRC
}

export function recordLengthAt (buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset + OFF_LENGTH)
}

export function recordKindAt (buf: Buffer, offset: number): number {
  return buf[offset + OFF_KIND]!
}

export function recordSeqAt (buf: Buffer, offset: number): number {
  return readU64(buf, offset + OFF_SEQ)
}

export function recordTimeUsAt (buf: Buffer, offset: number): number {
  return readU64(buf, offset + OFF_TIME_US)
}

/** buf[start, end) of the record's payload, as a view. */
export function payloadBoundsAt (buf: Buffer, offset: number): [number, number] {
  const start = offset + RECORD_HEAD_BYTES + buf[offset + OFF_ACCOUNT_LEN]!
  return [start, offset + recordLengthAt(buf, offset) - RECORD_CRC_BYTES]
}

/** A decoded record. `payload` is a view into the buffer it was decoded from. */
export interface JournalRecord {
  offset: number
  length: number
  kind: number
  lane: number
  direction: number
  flags: number
  sessionId: number
  msgType: number
  seq: number
  timeUs: number
  account: string
  payload: Buffer
  /** The record ends its batch (one commit, one write(2)): it has FLAG_BATCH_END (format 2) or is a batch seal (format 1). */
  batchEnd: boolean
}

/** Decodes a record that checkRecordAt found OK. */
export function decodeRecord (buf: Buffer, offset: number): JournalRecord {
  const length = recordLengthAt(buf, offset)
  const accountLen = buf[offset + OFF_ACCOUNT_LEN]!
  const accountAt = offset + RECORD_HEAD_BYTES
  const [payloadStart, payloadEnd] = payloadBoundsAt(buf, offset)
  return {
    offset,
    length,
    kind: buf[offset + OFF_KIND]!,
    lane: buf[offset + OFF_LANE]!,
    direction: buf[offset + OFF_DIRECTION]!,
    // FLAG_BATCH_END is framing, set on whichever record a commit ended
    // with: not part of what the record says.
    flags: buf.readUInt16LE(offset + OFF_FLAGS) & ~FLAG_BATCH_END,
    sessionId: buf.readUInt32LE(offset + OFF_SESSION_ID),
    msgType: buf.readUInt16LE(offset + OFF_MSG_TYPE),
    seq: readU64(buf, offset + OFF_SEQ),
    timeUs: readU64(buf, offset + OFF_TIME_US),
    account: buf.toString('utf8', accountAt, accountAt + accountLen),
    payload: buf.subarray(payloadStart, payloadEnd),
    batchEnd: isBatchEndAt(buf, offset) || buf[offset + OFF_KIND] === RecordKind.BATCH_SEAL,
  }
}

// ---------------------------------------------------------------------
// The journal's own payloads.

/** "GHJ1": lets `file` and a hex dump tell a segment from anything else. */
export const SEGMENT_MAGIC = 0x314a4847
/** The format this writer writes; see the top of this file. */
export const FORMAT_VERSION = 2
/** Batch seals and a chain per batch; read, no longer written. */
export const FORMAT_VERSION_BATCH_SEALS = 1
/** Header flag: the segment's day is a trading day passed in, not the UTC date of its first record. */
export const HEADER_TRADING_DAY = 1

// Segment header payload:
//
//   0        4        6        8          12               20            52      53
//   ┌────────┬────────┬────────┬──────────┬────────────────┬─────────────┬───────┬────────┐
//   │ "GHJ1" │version │ flags  │segment # │ day "YYYYMMDD" │prevSealHash │nameLen│ stream │
//   └────────┴────────┴────────┴──────────┴────────────────┴─────────────┴───────┴────────┘
//     u32      u16      u16      u32        8 ASCII bytes    32 bytes      u8      ASCII

export interface SegmentHeader {
  version: number
  flags: number
  segment: number
  day: string
  prevSealHash: Buffer
  stream: string
}

const HEADER_FIXED_BYTES = 53

export function encodeSegmentHeader (header: SegmentHeader): Buffer {
  const out = Buffer.alloc(HEADER_FIXED_BYTES + header.stream.length)
  out.writeUInt32LE(SEGMENT_MAGIC, 0)
  out.writeUInt16LE(header.version, 4)
  out.writeUInt16LE(header.flags, 6)
  out.writeUInt32LE(header.segment, 8)
  out.write(header.day, 12, 8, 'latin1')
  header.prevSealHash.copy(out, 20)
  out[52] = header.stream.length
  out.write(header.stream, 53, 'latin1')
  return out
}

/** Null when the payload is not a header this version can read. */
export function decodeSegmentHeader (payload: Buffer): SegmentHeader | null {
  if (payload.length < HEADER_FIXED_BYTES || payload.readUInt32LE(0) !== SEGMENT_MAGIC) return null
  const nameLen = payload[52]!
  if (payload.length !== HEADER_FIXED_BYTES + nameLen) return null
  return {
    version: payload.readUInt16LE(4),
    flags: payload.readUInt16LE(6),
    segment: payload.readUInt32LE(8),
    day: payload.toString('latin1', 12, 20),
    prevSealHash: Buffer.from(payload.subarray(20, 52)),
    stream: payload.toString('latin1', 53, 53 + nameLen),
  }
}

// Batch seal payload (40 bytes):
//
//   0                  32          36          40
//   ┌──────────────────┬───────────┬───────────┐
//   │ chain hash       │ records   │ bytes     │   records and bytes of the batch, its seal excluded
//   └──────────────────┴───────────┴───────────┘
//     SHA-256            u32         u32

export const BATCH_SEAL_PAYLOAD_BYTES = 40
/** A format-2 chain point has the batch seal's payload: the chain hash, then the records and bytes it covers (chain points excluded). */
export const CHAIN_POINT_PAYLOAD_BYTES = BATCH_SEAL_PAYLOAD_BYTES

export function writeBatchSealPayload (out: Buffer, chain: Buffer, records: number, bytes: number): void {
  chain.copy(out, 0, 0, HASH_BYTES)
  writeBatchSealCounts(out, records, bytes)
}

/** The batch seal payload but its chain hash, for the writer, which puts the hash in place byte by byte. */
export function writeBatchSealCounts (out: Buffer, records: number, bytes: number): void {
  putU32(out, 32, records)
  putU32(out, 36, bytes)
}

export interface BatchSeal { chain: Buffer, records: number, bytes: number }

export function decodeBatchSeal (payload: Buffer): BatchSeal | null {
  if (payload.length !== BATCH_SEAL_PAYLOAD_BYTES) return null
  return { chain: payload.subarray(0, 32), records: payload.readUInt32LE(32), bytes: payload.readUInt32LE(36) }
}

// Segment seal payload (48 bytes):
//
//   0                  32          36          40          44       45
//   ┌──────────────────┬───────────┬───────────┬───────────┬────────┬─────┐
//   │ final chain hash │ records   │ batches   │ tornBytes │ reason │ pad │
//   └──────────────────┴───────────┴───────────┴───────────┴────────┴─────┘
//     SHA-256            u32         u32         u32         u8       3
//
// records counts every record before the seal, headers and batch seals
// included. tornBytes is what recovery cut from a torn final batch (kept
// beside the segment in a .torn file), 0 otherwise.

export const SEGMENT_SEAL_PAYLOAD_BYTES = 48

export const SealReason = {
  CLOSED: 1,
  ROTATED_DAY: 2,
  ROTATED_SIZE: 3,
  /** Found unsealed, ending on a whole batch, when the stream was opened again (a crash or kill). */
  RESUMED: 4,
  /** Found unsealed with a torn final batch; the torn bytes were cut. */
  RECOVERED: 5,
} as const

const SEAL_REASON_NAMES: Record<number, string> = { 1: 'closed', 2: 'rotated-day', 3: 'rotated-size', 4: 'resumed', 5: 'recovered' }

export function sealReasonName (reason: number): string {
  return SEAL_REASON_NAMES[reason] ?? `reason-${reason}`
}

export interface SegmentSeal { chain: Buffer, records: number, batches: number, tornBytes: number, reason: number }

export function encodeSegmentSeal (seal: SegmentSeal): Buffer {
  const out = Buffer.alloc(SEGMENT_SEAL_PAYLOAD_BYTES)
  seal.chain.copy(out, 0, 0, HASH_BYTES)
  out.writeUInt32LE(seal.records, 32)
  out.writeUInt32LE(seal.batches, 36)
  out.writeUInt32LE(seal.tornBytes, 40)
  out[44] = seal.reason
  return out
}

export function decodeSegmentSeal (payload: Buffer): SegmentSeal | null {
  if (payload.length !== SEGMENT_SEAL_PAYLOAD_BYTES) return null
  return {
    chain: payload.subarray(0, 32),
    records: payload.readUInt32LE(32),
    batches: payload.readUInt32LE(36),
    tornBytes: payload.readUInt32LE(40),
    reason: payload[44]!,
  }
}

// ---------------------------------------------------------------------
// Days.

/** 'YYYYMMDD' of a µs timestamp, in UTC. */
export function utcDayOfUs (timeUs: number): string {
  const d = new Date(Math.floor(timeUs / 1000))
  return `${d.getUTCFullYear()}${String(d.getUTCMonth() + 1).padStart(2, '0')}${String(d.getUTCDate()).padStart(2, '0')}`
}

export function dayNumberOfUs (timeUs: number): number {
  return Math.floor(timeUs / US_PER_DAY)
}

export const DAY_PATTERN = /^\d{8}$/
