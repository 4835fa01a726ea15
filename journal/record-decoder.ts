// One journal record as a plain, JSON-able object: the record's head in
// words, its payload decoded per gateway-records.ts, and the keys the
// tools search on (account, AppID, instrument, order IDs, reason). Shared
// by `search` and `export`, so both show a record the same way and mask
// the same fields.
//
// Masking, decided here and nowhere else:
// - terminal info (a TerminalInfo message, a logon step's `terminal`) is
//   masked unless the caller reveals it: field names stay, every string
//   becomes '***', numbers and booleans (collectFailureMask, abnormal)
//   stay, since they say what was collected without identifying the machine;
// - credentials (Logon.password, Authenticate.proof, and any such key in a
//   JSON document) are masked always: no tool ever shows them.
// The socket IP of a logon step is not terminal info (the gateway saw it,
// the client did not report it) and is shown.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'
import { decodeClientEnvelope } from '../protocol/client-codec.js'
import { decodeLinkEnvelope } from '../protocol/link-codec.js'
import { HedgeFlag, OffsetFlag, RejectReason, reasonName, wireInt, type ClientEnvelope, type LinkEnvelope } from '../protocol/messages.js'
import {
  FLAG_DIGEST, FLAG_TEXT_FRAME, clientBodyName, readFrameDigest, decisionStageName, decodeDecision, linkBodyName,
} from './gateway-records.js'
import { Direction, FLAG_JSON, RecordKind, laneName, recordKindName } from './record-format.js'
import type { ReadRecord } from './reader.js'

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject
export interface JsonObject { [key: string]: JsonValue }

/** What stands in for a masked value. */
export const MASK = '***'

export interface DecodeOptions {
  /** Show terminal info. Credentials stay masked regardless. */
  reveal: boolean
}

/** Whether a record carries terminal info, and whether this decoding shows it. */
export type TerminalInfoState = 'none' | 'masked' | 'revealed'

export interface DecodedRecord {
  /** ISO 8601, UTC, to the microsecond: 2026-11-20T09:30:00.000123Z. */
  time: string
  timeUs: number
  stream: string
  seq: number
  /** recordKindName: 'client-in', 'check-decision', 'logon-step', ... */
  kind: string
  /** laneName: 'terminal', 'platform', 'hft', or 'none' for the supervisor's records. */
  lane: string
  direction: 'in' | 'out' | ''
  sessionId: number
  /** The head's account, or else the account the message names (link order, authenticate, logon). '' if none. */
  account: string
  /** AppID the record names (authenticate, logon step); '' if none. */
  appId: string
  /** Instrument symbol the record names; '' if none. */
  instrument: string
  /** The client's order ID the record names; 0 if none. */
  clientOrderId: number
  /** The gateway's link order ID the record names; 0 if none. */
  linkOrderId: number
  /** The envelope's body field ('newOrder', 'report', ...), 'decision', or the document's step or command. */
  messageType: string
  /** An order's offset flag by name ('OFFSET_CLOSE_TODAY', ...) as the order or report carries it; '' if none. */
  offsetFlag: string
  /** An order's hedge flag by name ('HEDGE_SPECULATION', ...); '' if none. */
  hedgeFlag: string
  /** An execution report's report_seq (per account, lane and trading day); 0 if none. */
  reportSeq: number
  /** An execution report's exec_id; '' if none. */
  execId: string
  /** A fill's trade ID (client report or link report); '' if none. */
  tradeId: string
  /** RejectReason code the record gives; 0 if none. */
  reason: number
  /** Its name, '' when reason is 0. */
  reasonName: string
  terminalInfo: TerminalInfoState
  flags: number
  /**
   * The payload: the envelope as protobufjs toObject gives it (longs as
   * numbers, enums and reasons as names, bytes as base64, fields at their
   * default left out), the decision, or the JSON document; or
   * { undecodable: '<hex>', error } when it does not decode.
   */
  body: JsonValue
}

// ---- protobuf reflection ------------------------------------------------------
//
// The generated static module is built with --no-convert (the lanes never
// need toObject, and it would double the module), so the tools load the
// .proto files themselves, once, and convert the static decoder's output
// with the reflected types. protobufjs's converter reads plain fields, so
// it works on the static classes' instances unchanged.

const CONVERSION: protobuf.IConversionOptions = { longs: Number, enums: String, bytes: String, defaults: false }
/** Where the .proto files are: protocol/ from dist/journal/ (compiled) or journal/ (source). */
const PROTO_DIR_CANDIDATES = ['../../protocol/', '../protocol/']

interface ReflectedTypes { client: protobuf.Type, link: protobuf.Type }
let reflected: ReflectedTypes | null = null

function reflectedTypes (): ReflectedTypes {
  if (reflected !== null) return reflected
  const dirs = PROTO_DIR_CANDIDATES.map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
  const protoDir = dirs.find((dir) => existsSync(`${dir}gatehouse/v1/client.proto`))
  if (protoDir === undefined) throw new Error(`cannot find gatehouse/v1/*.proto to decode with; looked in ${dirs.join(', ')}`)
  const root = new protobuf.Root()
  // Imports are written from the proto root ("gatehouse/v1/common.proto").
  root.resolvePath = (_origin, target) => `${protoDir}${target}`
  root.loadSync(['gatehouse/v1/client.proto', 'gatehouse/v1/link.proto'])
  root.resolveAll()
  reflected = { client: root.lookupType('gatehouse.v1.ClientEnvelope'), link: root.lookupType('gatehouse.v1.LinkEnvelope') }
  return reflected
}

function toPlain (type: protobuf.Type, message: ClientEnvelope | LinkEnvelope): JsonObject {
  return asObject(toJsonValue(type.toObject(message as unknown as protobuf.Message, CONVERSION)))
}

// ---- JSON helpers ---------------------------------------------------------------

/** A deep copy as JSON: non-finite numbers become null (JSON has none), bytes base64, undefined dropped. */
export function toJsonValue (value: unknown): JsonValue {
  if (value === null || value === undefined) return null
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value
    case 'number':
      return Number.isFinite(value) ? value : null
    case 'bigint':
      return Number(value)
    case 'object': {
      if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.length).toString('base64')
      if (Array.isArray(value)) return value.map(toJsonValue)
      const out: JsonObject = {}
      for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJsonValue(v)
      return out
    }
    default:
      return null
  }
}

function asObject (value: JsonValue | undefined): JsonObject {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value) ? value : {}
}

function isObject (value: JsonValue | undefined): value is JsonObject {
  return value !== null && value !== undefined && typeof value === 'object' && !Array.isArray(value)
}

function str (obj: JsonObject, key: string): string {
  const v = obj[key]
  return typeof v === 'string' ? v : ''
}

function num (obj: JsonObject, key: string): number {
  const v = obj[key]
  return typeof v === 'number' ? v : 0
}

/** Every string to MASK, arrays of strings to [MASK] (their length identifies too); numbers and booleans kept. */
export function maskStrings (value: JsonValue): JsonValue {
  if (typeof value === 'string') return MASK
  if (Array.isArray(value)) {
    if (value.length > 0 && value.every((v) => typeof v === 'string')) return [MASK]
    return value.map(maskStrings)
  }
  if (isObject(value)) {
    const out: JsonObject = {}
    for (const [k, v] of Object.entries(value)) out[k] = maskStrings(v)
    return out
  }
  return value
}

/** Keys whose values are credentials wherever they appear. */
const CREDENTIAL_KEYS = new Set(['password', 'passwordHash', 'proof', 'authCode', 'authCodeHash', 'secret'])

function maskCredentials (value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(maskCredentials)
  if (!isObject(value)) return value
  const out: JsonObject = {}
  for (const [k, v] of Object.entries(value)) out[k] = CREDENTIAL_KEYS.has(k) && v !== null ? MASK : maskCredentials(v)
  return out
}

// ---- decoding -------------------------------------------------------------------

/** ISO 8601 in UTC with six fractional digits (Date alone stops at milliseconds). */
export function isoTimeOfUs (timeUs: number): string {
  const ms = Math.floor(timeUs / 1000)
  const iso = new Date(ms).toISOString()
  return `${iso.slice(0, -1)}${String(timeUs - ms * 1000).padStart(3, '0')}Z`
}

function directionName (direction: number): 'in' | 'out' | '' {
  return direction === Direction.IN ? 'in' : direction === Direction.OUT ? 'out' : ''
}

/** The search keys and the decoded payload, filled in per kind. */
interface Decoded {
  messageType: string
  account: string
  appId: string
  instrument: string
  clientOrderId: number
  linkOrderId: number
  offsetFlag: number
  hedgeFlag: number
  reportSeq: number
  execId: string
  tradeId: string
  reason: number
  terminalInfo: TerminalInfoState
  body: JsonValue
}

function emptyDecoded (messageType: string): Decoded {
  return {
    messageType, account: '', appId: '', instrument: '', clientOrderId: 0, linkOrderId: 0,
    offsetFlag: 0, hedgeFlag: 0, reportSeq: 0, execId: '', tradeId: '', reason: 0, terminalInfo: 'none', body: null,
  }
}

/** The name of a defined enum value, '' for 0 (unset) and the number itself for one the protocol does not define. */
function enumName (generated: unknown, value: number): string {
  if (value === 0) return ''
  return (generated as Record<number, string | undefined>)[value] ?? String(value)
}

function undecodable (payload: Uint8Array, error: unknown): JsonObject {
  const message = error instanceof Error ? error.message + (error.cause instanceof Error ? `: ${error.cause.message}` : '') : String(error)
  return { undecodable: Buffer.from(payload.buffer, payload.byteOffset, payload.length).toString('hex'), error: message }
}

function decodeClient (record: ReadRecord, options: DecodeOptions): Decoded {
  if ((record.flags & FLAG_DIGEST) !== 0) {
    const d = emptyDecoded('frame-digest')
    const digest = readFrameDigest(record.payload)
    d.body = digest === null ? undecodable(record.payload, new Error('not a frame digest')) : { frameDigest: digest }
    return d
  }
  if ((record.flags & FLAG_TEXT_FRAME) !== 0) {
    const d = emptyDecoded('text-frame')
    d.body = { textFrame: record.payload.toString('utf8') }
    return d
  }
  const envelope = decodeClientEnvelope(record.payload)
  const d = emptyDecoded(envelope.body ?? clientBodyName(record.msgType))
  const body = toPlain(reflectedTypes().client, envelope)
  // Keys from the typed message rather than the plain copy: numbers stay
  // numbers (reasons are names in the copy).
  const e = envelope
  if (e.logon != null) d.account = e.logon.account ?? ''
  if (e.authenticate != null) {
    d.account = e.authenticate.account ?? ''
    d.appId = e.authenticate.appId ?? ''
  }
  if (e.newOrder != null) {
    d.clientOrderId = wireInt(e.newOrder.clientOrderId)
    d.instrument = e.newOrder.instrument ?? ''
    d.offsetFlag = e.newOrder.offsetFlag ?? 0
    d.hedgeFlag = e.newOrder.hedgeFlag ?? 0
  }
  if (e.cancelOrder != null) d.clientOrderId = wireInt(e.cancelOrder.clientOrderId)
  if (e.executionReport != null) {
    const r = e.executionReport
    d.clientOrderId = wireInt(r.clientOrderId)
    d.instrument = r.instrument ?? ''
    d.reason = r.reason ?? 0
    d.offsetFlag = r.offsetFlag ?? 0
    d.hedgeFlag = r.hedgeFlag ?? 0
    d.reportSeq = wireInt(r.reportSeq)
    d.execId = r.execId ?? ''
    d.tradeId = r.tradeId ?? ''
  }
  if (e.reject != null) {
    d.clientOrderId = wireInt(e.reject.clientOrderId)
    d.reason = e.reject.reason ?? 0
  }
  if (e.logonReply != null) d.reason = e.logonReply.reason ?? 0
  if (e.authenticateReply != null) d.reason = e.authenticateReply.reason ?? 0
  if (e.terminalInfoReply != null) d.reason = e.terminalInfoReply.reason ?? 0
  if (isObject(body.terminalInfo)) {
    d.terminalInfo = options.reveal ? 'revealed' : 'masked'
    if (!options.reveal) body.terminalInfo = maskStrings(body.terminalInfo)
  }
  d.body = maskCredentials(body)
  return d
}

function decodeLink (record: ReadRecord): Decoded {
  const envelope = decodeLinkEnvelope(record.payload)
  const d = emptyDecoded(envelope.body ?? linkBodyName(record.msgType))
  const e = envelope
  if (e.newOrder != null) {
    d.linkOrderId = wireInt(e.newOrder.orderId)
    d.account = e.newOrder.account ?? ''
    d.instrument = e.newOrder.instrument ?? ''
    d.offsetFlag = e.newOrder.offsetFlag ?? 0
    d.hedgeFlag = e.newOrder.hedgeFlag ?? 0
  }
  if (e.cancel != null) d.linkOrderId = wireInt(e.cancel.orderId)
  if (e.report != null) {
    d.linkOrderId = wireInt(e.report.orderId)
    d.reason = e.report.reason ?? 0
    d.tradeId = e.report.tradeId ?? ''
  }
  if (e.massCancel != null) {
    d.account = e.massCancel.account ?? ''
    d.instrument = e.massCancel.instrument ?? ''
  }
  if (e.instrumentUpdate?.instrument != null) d.instrument = e.instrumentUpdate.instrument.symbol ?? ''
  d.body = maskCredentials(toPlain(reflectedTypes().link, envelope))
  return d
}

function decodeCheckDecision (record: ReadRecord): Decoded {
  const decision = decodeDecision(record.payload)
  if (decision === null) throw new Error(`a decision is 40 bytes; this payload is ${record.payload.length}`)
  const d = emptyDecoded('decision')
  d.clientOrderId = decision.clientOrderId
  d.linkOrderId = decision.linkOrderId
  d.reason = decision.reason
  d.body = {
    passed: decision.passed,
    stage: decisionStageName(decision.stage),
    reason: reasonName(decision.reason),
    riskSlot: decision.riskSlot,
    clientOrderId: decision.clientOrderId,
    linkOrderId: decision.linkOrderId,
    // +Infinity (no limit) has no JSON form: null says "no limit".
    limit: Number.isFinite(decision.limit) ? decision.limit : null,
    observed: Number.isFinite(decision.observed) ? decision.observed : null,
  }
  return d
}

function decodeJsonDoc (record: ReadRecord, options: DecodeOptions): Decoded {
  if ((record.flags & FLAG_JSON) === 0) throw new Error(`${recordKindName(record.kind)} records carry JSON, and FLAG_JSON is not set`)
  const doc = asObject(toJsonValue(JSON.parse(record.payload.toString('utf8')) as unknown))
  const d = emptyDecoded(recordKindName(record.kind))
  switch (record.kind) {
    case RecordKind.LOGON_STEP:
      d.messageType = str(doc, 'step') || d.messageType
      d.account = str(doc, 'account')
      d.appId = str(doc, 'appId')
      d.reason = num(doc, 'reason')
      if (isObject(doc.terminal)) {
        d.terminalInfo = options.reveal ? 'revealed' : 'masked'
        if (!options.reveal) doc.terminal = maskStrings(doc.terminal)
      }
      break
    case RecordKind.ADMIN_CHANGE: {
      d.messageType = str(doc, 'command') || d.messageType
      const scope = asObject(doc.scope)
      d.account = str(scope, 'account')
      d.instrument = str(scope, 'instrument')
      break
    }
  }
  d.body = maskCredentials(doc)
  return d
}

function decodePayload (record: ReadRecord, options: DecodeOptions): Decoded {
  switch (record.kind) {
    case RecordKind.CLIENT_IN:
    case RecordKind.CLIENT_OUT:
    case RecordKind.REPORT_HELD:
      return decodeClient(record, options)
    case RecordKind.LINK_IN:
    case RecordKind.LINK_OUT:
      return decodeLink(record)
    case RecordKind.CHECK_DECISION:
      return decodeCheckDecision(record)
    case RecordKind.LOGON_STEP:
    case RecordKind.ADMIN_CHANGE:
    case RecordKind.PURGE:
    case RecordKind.REVEAL:
    case RecordKind.POSITIONS_CARRIED:
      return decodeJsonDoc(record, options)
    default:
      throw new Error(`no decoder for ${recordKindName(record.kind)} records`)
  }
}

function typeNameOnFailure (record: ReadRecord): string {
  switch (record.kind) {
    case RecordKind.CLIENT_IN:
    case RecordKind.CLIENT_OUT:
    case RecordKind.REPORT_HELD:
      return clientBodyName(record.msgType)
    case RecordKind.LINK_IN:
    case RecordKind.LINK_OUT:
      return linkBodyName(record.msgType)
    default:
      return recordKindName(record.kind)
  }
}

/**
 * Decodes one record for the tools. Never throws: a payload that does not
 * decode comes back as { undecodable: '<hex>', error }, since a tool that
 * stops at the first odd record hides everything after it.
 */
export function decodeJournalRecord (record: ReadRecord, options: DecodeOptions): DecodedRecord {
  let d: Decoded
  try {
    d = decodePayload(record, options)
  } catch (err) {
    d = emptyDecoded(typeNameOnFailure(record))
    d.body = undecodable(record.payload, err)
  }
  return {
    time: isoTimeOfUs(record.timeUs),
    timeUs: record.timeUs,
    stream: record.stream,
    seq: record.seq,
    kind: recordKindName(record.kind),
    lane: laneName(record.lane),
    direction: directionName(record.direction),
    sessionId: record.sessionId,
    account: record.account !== '' ? record.account : d.account,
    appId: d.appId,
    instrument: d.instrument,
    clientOrderId: d.clientOrderId,
    linkOrderId: d.linkOrderId,
    messageType: d.messageType,
    offsetFlag: enumName(OffsetFlag, d.offsetFlag),
    hedgeFlag: enumName(HedgeFlag, d.hedgeFlag),
    reportSeq: d.reportSeq,
    execId: d.execId,
    tradeId: d.tradeId,
    reason: d.reason,
    reasonName: d.reason === 0 ? '' : reasonName(d.reason),
    terminalInfo: d.terminalInfo,
    flags: record.flags,
    body: d.body,
  }
}

/** A RejectReason code from a number or a name ('INSUFFICIENT_FUNDS', any case); null if neither. */
export function reasonCodeOf (text: string): number | null {
  if (/^\d+$/.test(text)) {
    const code = Number(text)
    return code <= 0xffff ? code : null
  }
  const code = (RejectReason as unknown as Record<string, number | undefined>)[text.toUpperCase()]
  return typeof code === 'number' ? code : null
}

// ---- one-line summaries -------------------------------------------------------

function orderText (o: JsonObject): string {
  return `${str(o, 'side') || 'SIDE?'} ${num(o, 'quantityLots')}@${num(o, 'price')}`
}

function limitText (o: JsonObject): string {
  const parts: string[] = []
  if ('limit' in o) parts.push(`limit=${o.limit === null ? 'none' : String(o.limit)}`)
  if ('observed' in o) parts.push(`observed=${String(o.observed)}`)
  return parts.join(' ')
}

function quoted (text: string): string {
  return text === '' ? '' : JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text)
}

/** Scalar fields as k=v, for messages without a summary of their own. */
function genericText (o: JsonObject): string {
  const parts: string[] = []
  for (const [k, v] of Object.entries(o)) {
    if (v === null || typeof v === 'object') continue
    parts.push(`${k}=${typeof v === 'string' ? (v.includes(' ') || v === '' ? JSON.stringify(v) : v) : String(v)}`)
    if (parts.length === 6) break
  }
  return parts.join(' ')
}

function join (...parts: string[]): string {
  return parts.filter((p) => p !== '').join(' ')
}

function clientSummary (r: DecodedRecord, env: JsonObject): string {
  const type = r.messageType
  const m = asObject(env[type])
  switch (type) {
    case 'newOrder':
      return join('newOrder', str(m, 'instrument'), orderText(m), r.offsetFlag, r.hedgeFlag, str(m, 'timeInForce'), m.reduceOnly === true ? 'reduce-only' : '', `coid=${r.clientOrderId}`)
    case 'cancelOrder':
      return `cancelOrder coid=${r.clientOrderId}`
    case 'executionReport': {
      const exec = str(m, 'execType') || 'EXEC_TYPE?'
      const fill = exec === 'FILL' || exec === 'PARTIAL_FILL' ? `last=${num(m, 'lastLots')}@${num(m, 'lastPrice')} cum=${num(m, 'cumulativeLots')} leaves=${num(m, 'leavesLots')}` : ''
      return join('executionReport', exec, str(m, 'instrument'), orderText(m), r.offsetFlag, `coid=${r.clientOrderId}`, fill,
        r.tradeId !== '' ? `trade=${r.tradeId}` : '', r.reportSeq !== 0 ? `rs=${r.reportSeq}` : '', m.possibleDuplicate === true ? 'possible-duplicate' : '',
        r.reasonName, limitText(m), quoted(str(m, 'text')))
    }
    case 'reject':
      return join('reject', r.reasonName || 'REASON_UNSPECIFIED', limitText(m), r.clientOrderId !== 0 ? `coid=${r.clientOrderId}` : '', quoted(str(m, 'text')))
    case 'logon':
      return join('logon', str(m, 'account'), 'password' in m ? `password=${MASK}` : '', m.cancelOnDisconnect === true ? 'cancel-on-disconnect' : '')
    case 'logonReply':
    case 'authenticateReply':
    case 'terminalInfoReply':
      return join(type, m.ok === true ? 'ok' : 'refused', r.reasonName, 'sessionId' in m ? `session=${num(m, 'sessionId')}` : '', quoted(str(m, 'text')))
    case 'authenticate':
      return join('authenticate', `appId=${str(m, 'appId')}`, `account=${str(m, 'account')}`)
    case 'terminalInfo':
      return r.terminalInfo === 'masked'
        ? 'terminalInfo (masked)'
        : join('terminalInfo', str(m, 'terminalType'), `mac=${str(m, 'mac')}`, `device=${str(m, 'deviceName')}`, m.abnormal === true ? 'abnormal' : '')
    case 'text-frame':
      return `text frame ${quoted(str(env, 'textFrame'))}`
    default:
      return join(type, genericText(m))
  }
}

function linkSummary (r: DecodedRecord, env: JsonObject): string {
  const type = r.messageType
  const m = asObject(env[type])
  switch (type) {
    case 'newOrder':
      return join('newOrder', `oid=${r.linkOrderId}`, str(m, 'account'), str(m, 'instrument'), orderText(m), r.offsetFlag, r.hedgeFlag, str(m, 'timeInForce'))
    case 'cancel':
      return `cancel oid=${r.linkOrderId}`
    case 'report': {
      const exec = str(m, 'execType') || 'EXEC_TYPE?'
      const fill = exec === 'FILL' || exec === 'PARTIAL_FILL' ? `last=${num(m, 'lastLots')}@${num(m, 'lastPrice')} cum=${num(m, 'cumulativeLots')} leaves=${num(m, 'leavesLots')}` : ''
      return join('report', exec, `oid=${r.linkOrderId}`, fill, r.tradeId !== '' ? `trade=${r.tradeId}` : '', r.reasonName, m.cancelRejected === true ? 'cancel-rejected' : '', quoted(str(m, 'text')))
    }
    case 'instrumentUpdate': {
      const i = asObject(m.instrument)
      return join('instrumentUpdate', str(i, 'symbol'), str(i, 'status'))
    }
    case 'logonReply':
      return join('logonReply', m.ok === true ? 'ok' : 'refused', str(m, 'tradingDay'), str(m, 'environment'), quoted(str(m, 'text')))
    default:
      return join(type, genericText(m))
  }
}

/** One short line about a decoded record, e.g. `newOrder IF2506 BUY 2@35000 coid=7`. Prices are in integer price units. */
export function summarizeRecord (r: DecodedRecord): string {
  const body = asObject(r.body)
  if ('undecodable' in body) return join(r.messageType, `undecodable (${str(body, 'error')})`)
  switch (r.kind) {
    case 'client-in':
    case 'client-out':
    case 'report-held':
      return clientSummary(r, body)
    case 'link-in':
    case 'link-out':
      return linkSummary(r, body)
    case 'check-decision':
      return body.passed === true
        ? `decision passed coid=${r.clientOrderId} oid=${r.linkOrderId}`
        : join('decision refused', str(body, 'stage'), r.reasonName, `coid=${r.clientOrderId}`, limitText(body))
    case 'logon-step':
      return join(`logon-step ${r.messageType}`, r.reason === 0 ? 'ok' : r.reasonName, `ip=${str(body, 'ip')}`, r.appId !== '' ? `appId=${r.appId}` : '',
        r.terminalInfo !== 'none' ? `terminal ${r.terminalInfo}` : '', quoted(str(body, 'text')))
    case 'admin-change':
      return join(`admin ${r.messageType}`, `by ${str(body, 'operator')}`, JSON.stringify(body.scope ?? null), `${JSON.stringify(body.before ?? null)} -> ${JSON.stringify(body.after ?? null)}`)
    case 'reveal':
      return join(`reveal by ${str(body, 'operator')}`, `tool=${str(body, 'tool')}`, `records=${num(body, 'records')}`, quoted(str(body, 'reason')))
    default:
      return join(r.messageType, genericText(body))
  }
}
