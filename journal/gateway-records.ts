// What the gateway puts in the journal, record kind by record kind. The
// record layout itself is record-format.ts; this file fixes the payloads,
// so the lanes (writing) and the tools and recovery (reading) agree.
//
// | kind           | stream     | head.sessionId / account   | msgType                        | payload
// |----------------|------------|----------------------------|--------------------------------|-------------------------------
// | CLIENT_IN      | lane       | session; account once on   | ClientEnvelope oneof field no. | the frame as received (FLAG_TEXT_FRAME: a text frame;
// |                |            |                            | (0: undecodable or text frame) |  msgType 0 and not FLAG_TEXT_FRAME: not a valid envelope;
// |                |            |                            |                                |  FLAG_DIGEST: the frame's length and SHA-256, not its bytes)
// | CLIENT_OUT     | lane       | session; account once on   | ClientEnvelope oneof field no. | the encoded ClientEnvelope as sent
// | REPORT_HELD    | lane       | 0; the report's account    | 14 (executionReport)           | an encoded ClientEnvelope holding the ExecutionReport
// |                |            |                            |                                |  (seq 0): numbered while no session of the account was
// |                |            |                            |                                |  there, held for a resend (lane/report-log.ts)
// | LINK_OUT       | lane       | the client session that    | LinkEnvelope oneof field no.   | the LinkEnvelope body (no length prefix)
// |                |            | caused it (0: the gateway) |                                |
// | LINK_IN        | lane       | 0, ''                      | LinkEnvelope oneof field no.   | the LinkEnvelope body
// | CHECK_DECISION | lane       | session; account           | the reject reason (0: passed)  | DECISION_PAYLOAD_BYTES, below
// | LOGON_STEP     | supervisor | session; account if known  | 0                              | JSON LogonStepDocument (FLAG_JSON)
// | ADMIN_CHANGE   | supervisor | 0; account if one          | 0                              | JSON AdminChangeDocument (FLAG_JSON)
// | PURGE, REVEAL  | supervisor / tools | 0                  | 0                              | JSON (retention.ts, the search tool)
// | POSITIONS_     | lane       | 0, ''                      | 0                              | JSON PositionsCarriedDocument (FLAG_JSON), below
// |  CARRIED       |            |                            |                                |
// | ORDER_ENTRY    | lane       | session; account           | 12 (client newOrder)           | ORDER_ENTRY, below: CLIENT_IN + CHECK_DECISION (passed)
// |                |            |                            |                                |  + LINK_OUT newOrder of one order in one record
//
// Each lane thread writes the stream named after its lane; the supervisor
// writes 'supervisor'; the tools write 'tools' (reveals).

import { createHash } from 'node:crypto'
import { CLIENT_BODY_FIELDS, LINK_BODY_FIELDS } from '../protocol/body-fields.js'
import { Direction, RecordKind, type JournalRecord } from './record-format.js'

/** The client sent a text frame (refused with TEXT_FRAME_NOT_ALLOWED); the payload is its bytes. */
export const FLAG_TEXT_FRAME = 2
/**
 * A frame from a connection not logged on, past its pre-logon journal
 * allowance (lane/pre-logon-budget.ts): the payload is not the frame
 * but its digest, the frame's length (u32 LE) and SHA-256 (32 bytes).
 */
export const FLAG_DIGEST = 4
/** Length (u32 LE) of the frame, then the SHA-256 of its bytes. */
export const DIGEST_PAYLOAD_BYTES = 4 + 32

/** The FLAG_DIGEST payload of a frame: its length and SHA-256. */
export function frameDigest (bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(DIGEST_PAYLOAD_BYTES)
  out.writeUInt32LE(bytes.length, 0)
  createHash('sha256').update(bytes).digest().copy(out, 4)
  return out
}

/** Reads a FLAG_DIGEST payload back; null if it is not one. */
export function readFrameDigest (payload: Uint8Array): { frameBytes: number, sha256: string } | null {
  if (payload.length !== DIGEST_PAYLOAD_BYTES) return null
  const buf = Buffer.from(payload.buffer, payload.byteOffset, payload.length)
  return { frameBytes: buf.readUInt32LE(0), sha256: buf.subarray(4).toString('hex') }
}

export const SUPERVISOR_STREAM = 'supervisor'
export const TOOLS_STREAM = 'tools'

/** The envelopes' body field numbers are a record's msgType. */
export { CLIENT_BODY_FIELDS, LINK_BODY_FIELDS }

const invert = (fields: Readonly<Record<string, number>>): readonly string[] => {
  const names: string[] = []
  for (const [name, number] of Object.entries(fields)) names[number] = name
  return names
}
const CLIENT_BODY_NAMES = invert(CLIENT_BODY_FIELDS)
const LINK_BODY_NAMES = invert(LINK_BODY_FIELDS)

export function clientBodyName (msgType: number): string {
  return CLIENT_BODY_NAMES[msgType] ?? (msgType === 0 ? 'none' : `field-${msgType}`)
}

export function linkBodyName (msgType: number): string {
  return LINK_BODY_NAMES[msgType] ?? (msgType === 0 ? 'none' : `field-${msgType}`)
}

// ---- check decisions -------------------------------------------------------
//
// One per new order the lane decided, 40 bytes, little-endian:
//
//   0        1        2          4          8                 16               24        32         40
//   ┌────────┬────────┬──────────┬──────────┬─────────────────┬────────────────┬─────────┬──────────┐
//   │ passed │ stage  │ reason   │ riskSlot │ clientOrderId   │ linkOrderId    │ limit   │ observed │
//   │ u8     │ u8     │ u16      │ i32      │ f64             │ f64            │ f64     │ f64      │
//   └────────┴────────┴──────────┴──────────┴─────────────────┴────────────────┴─────────┴──────────┘
//
// linkOrderId is 0 when the order was refused (nothing went out). limit is
// +Infinity when the scope has no limit. Doubles, not u64 halves: every ID
// stays below 2^53 (MAX_WIRE_INTEGER) and a Float64 store allocates nothing.

export const DECISION_PAYLOAD_BYTES = 40

/** Which part of the pipeline decided. */
export const DecisionStage = {
  /** Duplicate or zero client order ID. */
  ORDER_ID: 1,
  /** checks/order-validity.ts: instrument, side, price tick, quantity, TIF. */
  VALIDITY: 2,
  /** The exchange link was down. */
  LINK: 3,
  /** checks/risk-engine.ts: switches, states, limits, monitors, self-match. */
  RISK: 4,
  /** The session message throttle. */
  THROTTLE: 5,
  /** An exception in the lane's handler (reason INTERNAL_ERROR); the message had no effect. */
  INTERNAL: 6,
  /** The lane's working-order table was at its bound (reason MAX_OPEN_ORDERS), before the risk check: nothing reserved or counted. */
  CAPACITY: 7,
} as const

const STAGE_NAMES = ['none', 'order-id', 'validity', 'link', 'risk', 'throttle', 'internal', 'capacity']

export function decisionStageName (stage: number): string {
  return STAGE_NAMES[stage] ?? `stage-${stage}`
}

export interface CheckDecision {
  passed: boolean
  stage: number
  /** RejectReason code; 0 when passed. */
  reason: number
  /** The order's slot in the account's shared order table; -1 when refused. */
  riskSlot: number
  clientOrderId: number
  linkOrderId: number
  limit: number
  observed: number
}

/**
 * Writes a decision into `out` (DECISION_PAYLOAD_BYTES long, reused by the
 * lane) through `f64`, a Float64Array over the same bytes: no allocation.
 */
export function writeDecision (out: Buffer, f64: Float64Array, passed: boolean, stage: number, reason: number, riskSlot: number,
  clientOrderId: number, linkOrderId: number, limit: number, observed: number): void {
  out[0] = passed ? 1 : 0
  out[1] = stage
  out[2] = reason & 0xff
  out[3] = (reason >>> 8) & 0xff
  out.writeInt32LE(riskSlot, 4)
  f64[1] = clientOrderId
  f64[2] = linkOrderId
  f64[3] = limit
  f64[4] = observed
}

/** A decision buffer and its Float64 view, for writeDecision. Little-endian hosts only (x64, arm64). */
export function newDecisionScratch (): { bytes: Buffer, f64: Float64Array } {
  const bytes = Buffer.alloc(DECISION_PAYLOAD_BYTES)
  return { bytes, f64: new Float64Array(bytes.buffer, bytes.byteOffset, DECISION_PAYLOAD_BYTES / 8) }
}

export function decodeDecision (payload: Uint8Array): CheckDecision | null {
  if (payload.length !== DECISION_PAYLOAD_BYTES) return null
  const b = Buffer.from(payload.buffer, payload.byteOffset, payload.length)
  return {
    passed: b[0] === 1,
    stage: b[1]!,
    reason: b.readUInt16LE(2),
    riskSlot: b.readInt32LE(4),
    clientOrderId: b.readDoubleLE(8),
    linkOrderId: b.readDoubleLE(16),
    limit: b.readDoubleLE(24),
    observed: b.readDoubleLE(32),
  }
}

// ---- Order entry: three records in one ------------------------------------
//
// A new order that passes its checks and goes out costs three records
// (client-in, check-decision, link-out) written back to back in one
// turn. The lane writes them as one ORDER_ENTRY record when they come in
// that order with nothing between them (lane/lane-journal.ts), and as the
// three otherwise. Its payload, after the record head (whose session,
// account and time are the client-in's):
//
//   0             2                   2+c                 2+c+40
//   ┌─────────────┬───────────────────┬───────────────────┬──────────────────┐
//   │ c: u16      │ client frame      │ decision (40 B)   │ link body        │
//   └─────────────┴───────────────────┴───────────────────┴──────────────────┘
//
// The reader (journal/reader.ts) yields it as the three records it stands
// for, each with the ORDER_ENTRY record's seq, time and offset: recovery,
// replay, search and export read one layout. msgTypes are fixed: the
// client's newOrder, reason 0 (passed), the link's newOrder.

/** Bytes of an ORDER_ENTRY payload before the client frame: its length. */
export const ORDER_ENTRY_PREFIX_BYTES = 2
/** The longest client frame an ORDER_ENTRY holds; a longer one is journaled as three records. */
export const ORDER_ENTRY_MAX_CLIENT_BYTES = 0xffff

/**
 * Writes an ORDER_ENTRY payload at the front of `out` (grown by the caller
 * to fit) and returns its length.
 */
export function writeOrderEntry (out: Buffer, client: Uint8Array, clientLength: number, decision: Uint8Array, link: Uint8Array): number {
  out[0] = clientLength & 0xff
  out[1] = clientLength >>> 8
  let at = ORDER_ENTRY_PREFIX_BYTES
  for (let i = 0; i < clientLength; i++) out[at + i] = client[i]!
  at += clientLength
  out.set(decision, at)
  at += DECISION_PAYLOAD_BYTES
  out.set(link, at)
  return at + link.length
}

/**
 * The CLIENT_IN, CHECK_DECISION and LINK_OUT records an ORDER_ENTRY record
 * stands for (payloads are views into its payload); null when its payload
 * cannot be one.
 */
export function splitOrderEntry<R extends JournalRecord> (record: R): [R, R, R] | null {
  const p = record.payload
  if (p.length < ORDER_ENTRY_PREFIX_BYTES + DECISION_PAYLOAD_BYTES) return null
  const clientLength = p[0]! | (p[1]! << 8)
  const decisionAt = ORDER_ENTRY_PREFIX_BYTES + clientLength
  const linkAt = decisionAt + DECISION_PAYLOAD_BYTES
  if (linkAt > p.length) return null
  return [
    { ...record, kind: RecordKind.CLIENT_IN, direction: Direction.IN, msgType: CLIENT_BODY_FIELDS.newOrder!, payload: p.subarray(ORDER_ENTRY_PREFIX_BYTES, decisionAt) },
    { ...record, kind: RecordKind.CHECK_DECISION, direction: Direction.NONE, msgType: 0, payload: p.subarray(decisionAt, linkAt) },
    { ...record, kind: RecordKind.LINK_OUT, direction: Direction.OUT, msgType: LINK_BODY_FIELDS.newOrder!, payload: p.subarray(linkAt) },
  ]
}

// ---- JSON documents ---------------------------------------------------------

/** A logon step as the supervisor decided it (LOGON_STEP, supervisor stream). */
export interface LogonStepDocument {
  lane: string
  step: 'connect' | 'authenticate' | 'terminal-info' | 'logon' | 'logout' | 'timeout' | 'disconnect'
  ip: string
  account?: string
  appId?: string
  /** RejectReason code, 0 when the step passed. */
  reason: number
  reasonName: string
  text: string
  /** The terminal-info record (docs/domain.md fields) on the terminal-info step. Masked by `search` unless --reveal. */
  terminal?: Record<string, unknown>
  fingerprintId?: string
  newFingerprint?: boolean
}

/**
 * Positions carried into a new trading day (POSITIONS_CARRIED, the stream
 * of the lane whose link logon rolled the shared day). Recovery reads only
 * the newest day's segments, so these are what it knows of the positions
 * held before that day: it adds them to yesterday's lots. One roll writes
 * `parts` records of at most MAX_POSITIONS_PER_CARRIED_RECORD entries
 * each, so no record grows with the number of accounts; a roll with no
 * position held writes none.
 */
export interface PositionsCarriedDocument {
  tradingDay: string
  /** 1-based: this record's place among the roll's records. */
  part: number
  parts: number
  positions: CarriedPositionEntry[]
  /**
   * Set when the positions were handed over by another instance of a
   * cluster (an account move, cluster/account-handover.ts) rather than
   * carried by a day roll; the entries then carry today's lots and daily
   * counters too, and `accounts` the account-wide daily counters.
   */
  handover?: { from: string, to: string, operator: string }
  accounts?: HandedOverAccountDaily[]
}

/** Account-wide daily counters handed over with an account (an account move). */
export interface HandedOverAccountDaily {
  account: string
  tradedLotsToday: number
  actionsToday: number
  hfBurstsToday: number
}

/** Today's lots and daily counters of an account's position in one instrument, handed over with it (an account move). */
export interface HandedOverToday {
  longTodayLots: number
  shortTodayLots: number
  tradedLotsToday: number
  cancelsToday: number
  largeCancelsToday: number
  selfTradesToday: number
  openedLotsToday: number
}

export interface CarriedPositionEntry {
  account: string
  instrument: string
  /** The instrument's exchange code, e.g. "SHFE". */
  exchange: string
  /** Lots held after the roll: all of them yesterday's now. */
  longYesterdayLots: number
  shortYesterdayLots: number
  /** An account move only: what the account did today in the instrument, added to the book and counters like the yesterday lots. */
  today?: HandedOverToday
}

/** Entries per POSITIONS_CARRIED record (about 100 bytes of JSON each, so a record stays under ~26 KB). */
export const MAX_POSITIONS_PER_CARRIED_RECORD = 256

/** A roll's carried positions as the records that journal them (none when none is held). */
export function positionsCarriedDocuments (tradingDay: string, entries: readonly CarriedPositionEntry[], handover?: { handover: NonNullable<PositionsCarriedDocument['handover']>, accounts: HandedOverAccountDaily[] }): PositionsCarriedDocument[] {
  // A handover writes a record even with no position: its daily counters go in the first.
  const parts = Math.max(handover === undefined ? 0 : 1, Math.ceil(entries.length / MAX_POSITIONS_PER_CARRIED_RECORD))
  const docs: PositionsCarriedDocument[] = []
  for (let part = 0; part < parts; part++) {
    const positions = entries.slice(part * MAX_POSITIONS_PER_CARRIED_RECORD, (part + 1) * MAX_POSITIONS_PER_CARRIED_RECORD)
    docs.push({ tradingDay, part: part + 1, parts, positions, ...(handover === undefined ? {} : { handover: handover.handover, accounts: part === 0 ? handover.accounts : [] }) })
  }
  return docs
}

/** Reads a POSITIONS_CARRIED payload back; null when it is not one (the caller reports it). */
export function decodePositionsCarried (payload: Uint8Array): PositionsCarriedDocument | null {
  let doc: unknown
  try {
    doc = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('utf8'))
  } catch {
    return null
  }
  if (typeof doc !== 'object' || doc === null) return null
  const d = doc as Partial<PositionsCarriedDocument>
  if (typeof d.tradingDay !== 'string' || !Array.isArray(d.positions) || d.positions.length > MAX_POSITIONS_PER_CARRIED_RECORD) return null
  // A handover's source journals the account handed away as the same
  // amounts negated (recovery then adds them back to zero): signed there.
  const lots = d.handover === undefined
    ? (n: unknown): boolean => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0
    : (n: unknown): boolean => typeof n === 'number' && Number.isSafeInteger(n)
  for (const e of d.positions as unknown[]) {
    if (typeof e !== 'object' || e === null) return null
    const p = e as Partial<CarriedPositionEntry>
    if (typeof p.account !== 'string' || typeof p.instrument !== 'string' || typeof p.exchange !== 'string' ||
      !lots(p.longYesterdayLots) || !lots(p.shortYesterdayLots)) return null
    if (p.today !== undefined && (typeof p.today !== 'object' || p.today === null || !Object.values(p.today).every(lots))) return null
  }
  if (d.accounts !== undefined) {
    if (!Array.isArray(d.accounts) || d.accounts.length > MAX_POSITIONS_PER_CARRIED_RECORD) return null
    for (const a of d.accounts as unknown[]) {
      const daily = a as Partial<HandedOverAccountDaily> | null
      if (typeof daily !== 'object' || daily === null || typeof daily.account !== 'string' || !lots(daily.tradedLotsToday) || !lots(daily.actionsToday) || !lots(daily.hfBurstsToday)) return null
    }
  }
  return {
    tradingDay: d.tradingDay,
    part: Number(d.part ?? 1),
    parts: Number(d.parts ?? 1),
    positions: d.positions,
    ...(d.handover === undefined ? {} : { handover: d.handover }),
    ...(d.accounts === undefined ? {} : { accounts: d.accounts }),
  }
}

/** A change made by an operator or the gateway itself (ADMIN_CHANGE, supervisor stream). */
export interface AdminChangeDocument {
  /** Who: the operator named in the admin command, or 'config' / 'gateway' for changes at start. */
  operator: string
  /** What was asked, e.g. 'set-limit', 'kill-switch', 'trading-state', 'programmatic-report'. */
  command: string
  /** The scope it applied to, e.g. { kind: 'account', account: 'ACC1' }. */
  scope: Record<string, unknown>
  before: unknown
  after: unknown
  /** Anything else the command reports, e.g. cancels sent by a mass-cancel. */
  detail?: Record<string, unknown>
}

// ---- evidence and certification (ADMIN_CHANGE records) -------------------
//
// The evidence store (supervisor/evidence/) journals each document it keeps
// and each certification it records as an ADMIN_CHANGE record, so the
// history of an AppID (registration, evidence, certification, status
// changes) is one kind of record, read in one order. The command names
// below pick them out; the payloads are these types (docs/compliance.md).

/** What a stored document is. `certification` is a report of `gatehouse certify`. */
export const EVIDENCE_KINDS = ['business-licence', 'quality-test-report', 'security-test-report', 'assessment-conclusion', 'certification'] as const
export type EvidenceKind = typeof EVIDENCE_KINDS[number]

/** The ADMIN_CHANGE command of each evidence record. */
export const EVIDENCE_COMMANDS = {
  /** A document stored for an AppID: after is its EvidenceMetadata. */
  ADD: 'app-evidence-add',
  /** A certification run recorded for an AppID: after is its CertificationRecord. */
  CERTIFICATION: 'app-certification',
  /** The AppID's status changed (by an operator, or by the gateway when a document expired: detail is an ExpirySuspensionDetail). */
  STATUS: 'app-status',
} as const

/** One stored document: its file is <runDir>/evidence/<sha256>. */
export interface EvidenceMetadata {
  appId: string
  /** SHA-256 of the file's bytes, lowercase hex: also its file name in the store. */
  sha256: string
  sizeBytes: number
  kind: EvidenceKind
  /** Who issued it (a testing lab, the vendor, the broker's compliance desk). */
  issuer: string
  /** YYYY-MM-DD. */
  issued: string
  /** YYYY-MM-DD (valid through that UTC day) or a UTC instant YYYY-MM-DDTHH:MM:SSZ; null: does not expire (a certification report). */
  expires: string | null
  /** The operator who added it. */
  addedBy: string
  /** ISO 8601 UTC. */
  addedAt: string
  /** The file's name where the operator had it (informational; the store names it by its digest). */
  sourceName: string
}

/** A certification run as the gateway recorded it (from the report `gatehouse certify` wrote). */
export interface CertificationRecord {
  appId: string
  /** True only if every step of the suite passed. */
  passed: boolean
  suiteVersion: string
  /** SHA-256 of the JSON report stored as evidence (kind certification). */
  reportSha256: string
  /** The gateway the suite ran against, and as which account. */
  url: string
  account: string
  startedAt: string
  finishedAt: string
  steps: Array<{ id: string, passed: boolean }>
  /** The operator who recorded it, and when (ISO 8601 UTC). */
  recordedBy: string
  recordedAt: string
}

/** detail of the app-status record the gateway writes, once, when an expired document suspends an AppID. */
export interface ExpirySuspensionDetail {
  cause: 'evidence-expired'
  /** The document that expired: a stored one (sha256) or a named config document (name). */
  document: { sha256?: string, name?: string, kind?: string, expires: string }
}

/** An ADMIN_CHANGE record of the evidence store, as the journal holds it. */
export type EvidenceAddedDocument = AdminChangeDocument & { command: typeof EVIDENCE_COMMANDS.ADD, scope: { kind: 'app', appId: string }, before: null, after: EvidenceMetadata }
export type CertificationDocument = AdminChangeDocument & { command: typeof EVIDENCE_COMMANDS.CERTIFICATION, scope: { kind: 'app', appId: string }, before: CertificationRecord | null, after: CertificationRecord }
