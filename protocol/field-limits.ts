// The documented limits of every field a client may send, and the check a
// lane runs on each decoded ClientEnvelope before anything acts on it. A
// field outside its limit refuses the whole message with INVALID_FIELD and
// a text naming the field (docs/client-input-validation.md lists them).
//
// Why here and not deeper: everything downstream (access control, the
// journal's fixed-size record fields, the audit file, the risk engine's
// float64 state, the exchange link) may then rely on bounded strings,
// exact integers and defined enum values, and a refusal can still name the
// message's seq and client_order_id.
//
// 64-bit integers: long-off.ts makes the decoder return NaN for any value
// whose magnitude is at or above 2^53, so "is a safe integer" here is also
// "arrived exactly". The rules are data (CLIENT_FIELD_RULES) and one check
// per rule (fieldOk), so a hand-written codec can run the same rules on the
// values it reads.
import { HedgeFlag, OffsetFlag, QueryKind, Side, TimeInForce, type ClientEnvelope, type LinkEnvelope } from './messages.js'
import { MAX_WIRE_INTEGER } from './constants.js'

/** What a rule checks. */
export const FieldCheck = {
  /** uint64: an integer in [0, 2^53 - 1]. */
  UINT64: 1,
  /** int64: an integer in [-(2^53 - 1), 2^53 - 1]. */
  INT64: 2,
  /** string: at most `max` characters (UTF-16 code units, JavaScript's length). */
  STRING: 3,
  /** bytes: at most `max` bytes. */
  BYTES: 4,
  /** repeated string: at most `maxItems` entries of at most `max` characters each. */
  STRING_LIST: 5,
  /** enum: one of the values the .proto defines. */
  ENUM: 6,
} as const

export interface FieldRule {
  /** The field's name on the decoded object (protobufjs camelCase). */
  readonly key: string
  /** The field as the .proto names it, with its message: what a refusal names. */
  readonly path: string
  readonly check: number
  /** STRING, BYTES, STRING_LIST: the most characters (bytes for BYTES) one value may have. */
  readonly max: number
  /** STRING_LIST: the most entries. */
  readonly maxItems: number
  /** ENUM: the defined values, and their names for the refusal text. */
  readonly values: readonly number[]
  readonly valueNames: string
}

/** Accounts: the journal record's account field holds up to 64 characters (journal/record-format.ts MAX_ACCOUNT_CHARS). */
export const MAX_ACCOUNT_CHARS = 64
export const MAX_APP_ID_CHARS = 64
/** HMAC-SHA256: exactly 32 bytes verify; anything longer never can. */
export const MAX_PROOF_BYTES = 32
export const MAX_PASSWORD_CHARS = 128
/** The shared risk state keeps symbols in 32 bytes (checks/risk-layout.ts SYMBOL_BYTES). */
export const MAX_INSTRUMENT_CHARS = 32
export const MAX_TERMINAL_FIELD_CHARS = 128
export const MAX_TERMINAL_TYPE_CHARS = 32
/** An IPv6 address in text with an IPv4 tail is at most 45 characters. */
export const MAX_IP_CHARS = 45
export const MAX_IPS = 16
export const MAX_MAC_CHARS = 64
export const MAX_SYSTEM_DISK_PARTITION_CHARS = 256
export const MAX_TEXT_CHARS = 256

const NO_VALUES: readonly number[] = Object.freeze([])

function rule (key: string, path: string, check: number, max = 0, maxItems = 0): FieldRule {
  return Object.freeze({ key, path, check, max, maxItems, values: NO_VALUES, valueNames: '' })
}

/** An enum rule whose values come from the generated enum, i.e. from the .proto itself. */
function enumRule (key: string, path: string, generated: Readonly<Record<string, number>>): FieldRule {
  const entries = Object.keys(generated).map((name) => [generated[name]!, name] as const).sort((a, b) => a[0] - b[0])
  return Object.freeze({
    key, path, check: FieldCheck.ENUM, max: 0, maxItems: 0,
    values: Object.freeze(entries.map(([value]) => value)),
    valueNames: entries.map(([value, name]) => `${value} ${name}`).join(', '),
  })
}

const uint64 = (key: string, path: string): FieldRule => rule(key, path, FieldCheck.UINT64)
const int64 = (key: string, path: string): FieldRule => rule(key, path, FieldCheck.INT64)
const string = (key: string, path: string, max: number): FieldRule => rule(key, path, FieldCheck.STRING, max)

/**
 * Every field a client may send with a limit, per ClientEnvelope body (by
 * its protobufjs name). uint32 and bool fields need no rule: the decoder
 * cannot produce a value outside their range. Bodies only the gateway
 * sends have no rules: they are refused as UNEXPECTED_MESSAGE whatever
 * they hold.
 */
export const CLIENT_FIELD_RULES: Readonly<{ envelope: readonly FieldRule[], bodies: Readonly<Record<string, readonly FieldRule[]>> }> = Object.freeze({
  envelope: Object.freeze([
    uint64('seq', 'envelope.seq'),
    uint64('sentTimeUs', 'envelope.sent_time_us'),
  ]),
  bodies: Object.freeze({
    authenticate: Object.freeze([
      string('appId', 'authenticate.app_id', MAX_APP_ID_CHARS),
      string('account', 'authenticate.account', MAX_ACCOUNT_CHARS),
      rule('proof', 'authenticate.proof', FieldCheck.BYTES, MAX_PROOF_BYTES),
    ]),
    terminalInfo: Object.freeze([
      string('terminalType', 'terminal_info.terminal_type', MAX_TERMINAL_TYPE_CHARS),
      uint64('collectedTimeUs', 'terminal_info.collected_time_us'),
      rule('ips', 'terminal_info.ips', FieldCheck.STRING_LIST, MAX_IP_CHARS, MAX_IPS),
      string('mac', 'terminal_info.mac', MAX_MAC_CHARS),
      string('deviceName', 'terminal_info.device_name', MAX_TERMINAL_FIELD_CHARS),
      string('osVersion', 'terminal_info.os_version', MAX_TERMINAL_FIELD_CHARS),
      string('diskSerial', 'terminal_info.disk_serial', MAX_TERMINAL_FIELD_CHARS),
      string('cpuSerial', 'terminal_info.cpu_serial', MAX_TERMINAL_FIELD_CHARS),
      string('bios', 'terminal_info.bios', MAX_TERMINAL_FIELD_CHARS),
      string('systemDiskPartition', 'terminal_info.system_disk_partition', MAX_SYSTEM_DISK_PARTITION_CHARS),
    ]),
    logon: Object.freeze([
      string('account', 'logon.account', MAX_ACCOUNT_CHARS),
      string('password', 'logon.password', MAX_PASSWORD_CHARS),
    ]),
    newOrder: Object.freeze([
      uint64('clientOrderId', 'new_order.client_order_id'),
      string('instrument', 'new_order.instrument', MAX_INSTRUMENT_CHARS),
      enumRule('side', 'new_order.side', Side as unknown as Record<string, number>),
      int64('price', 'new_order.price'),
      enumRule('timeInForce', 'new_order.time_in_force', TimeInForce as unknown as Record<string, number>),
      enumRule('offsetFlag', 'new_order.offset_flag', OffsetFlag as unknown as Record<string, number>),
      enumRule('hedgeFlag', 'new_order.hedge_flag', HedgeFlag as unknown as Record<string, number>),
    ]),
    resendRequest: Object.freeze([
      uint64('afterReportSeq', 'resend_request.after_report_seq'),
    ]),
    query: Object.freeze([
      uint64('requestId', 'query.request_id'),
      enumRule('kind', 'query.kind', QueryKind as unknown as Record<string, number>),
      string('instrument', 'query.instrument', MAX_INSTRUMENT_CHARS),
      uint64('clientOrderId', 'query.client_order_id'),
    ]),
    cancelOrder: Object.freeze([
      uint64('clientOrderId', 'cancel_order.client_order_id'),
    ]),
    heartbeat: Object.freeze([
      uint64('testId', 'heartbeat.test_id'),
    ]),
    logout: Object.freeze([
      string('text', 'logout.text', MAX_TEXT_CHARS),
    ]),
  }),
})

/** True when `value` is within the rule's limits. Allocates nothing. */
export function fieldOk (rule: FieldRule, value: unknown): boolean {
  switch (rule.check) {
    case FieldCheck.UINT64:
      return Number.isSafeInteger(value) && (value as number) >= 0
    case FieldCheck.INT64:
      return Number.isSafeInteger(value)
    case FieldCheck.STRING:
      return typeof value === 'string' && value.length <= rule.max
    case FieldCheck.BYTES:
      return value instanceof Uint8Array && value.length <= rule.max
    case FieldCheck.STRING_LIST: {
      if (!Array.isArray(value) || value.length > rule.maxItems) return false
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i]
        if (typeof item !== 'string' || item.length > rule.max) return false
      }
      return true
    }
    case FieldCheck.ENUM:
      return typeof value === 'number' && rule.values.includes(value)
    default:
      return false
  }
}

/** Why `value` breaks the rule, for the refusal's text: the field's name first, then what to change. */
export function violationText (rule: FieldRule, value: unknown): string {
  const path = rule.path
  switch (rule.check) {
    case FieldCheck.UINT64:
      return typeof value === 'number' && Number.isFinite(value) && value < 0
        ? `${path} is ${value}; it must be an integer in [0, ${MAX_WIRE_INTEGER}]`
        : `${path} is 2^53 or more; it must be an integer in [0, ${MAX_WIRE_INTEGER}] (2^53 - 1)`
    case FieldCheck.INT64:
      return `${path} is 2^53 or more in magnitude; it must be an integer in [-${MAX_WIRE_INTEGER}, ${MAX_WIRE_INTEGER}]`
    case FieldCheck.STRING:
      return `${path} is ${typeof value === 'string' ? value.length : '?'} characters; at most ${rule.max}`
    case FieldCheck.BYTES:
      return `${path} is ${value instanceof Uint8Array ? value.length : '?'} bytes; at most ${rule.max}`
    case FieldCheck.STRING_LIST: {
      const list = Array.isArray(value) ? value as unknown[] : []
      if (list.length > rule.maxItems) return `${path} has ${list.length} entries; at most ${rule.maxItems}`
      const index = list.findIndex((item) => typeof item !== 'string' || item.length > rule.max)
      const item = list[index]
      return `${path}[${index}] is ${typeof item === 'string' ? item.length : '?'} characters; at most ${rule.max}`
    }
    case FieldCheck.ENUM:
      return `${path} is ${String(value)}, which the protocol does not define; use one of ${rule.valueNames}`
    default:
      return `${path} is not valid`
  }
}

/** A field outside its limit. */
export interface FieldViolation {
  /** The field as the .proto names it, e.g. "authenticate.account". */
  path: string
  /** The refusal's text, naming the field and its limit. */
  text: string
}

function checkRules (rules: readonly FieldRule[], message: object): FieldViolation | null {
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i]!
    const value = (message as Record<string, unknown>)[r.key]
    if (!fieldOk(r, value)) return { path: r.path, text: violationText(r, value) }
  }
  return null
}

/**
 * The first field of a decoded client envelope outside its limit, or null
 * when every field is within. Allocates only for a violation.
 */
export function validateClientEnvelope (envelope: ClientEnvelope): FieldViolation | null {
  const outer = checkRules(CLIENT_FIELD_RULES.envelope, envelope)
  if (outer !== null) return outer
  const name = envelope.body
  if (name === undefined) return null
  const rules = CLIENT_FIELD_RULES.bodies[name]
  const body = (envelope as unknown as Record<string, object | null | undefined>)[name]
  if (rules === undefined || body == null) return null
  return checkRules(rules, body)
}

/**
 * A decoded 64-bit ID or seq as it may be echoed back: itself when it
 * arrived exactly and is not negative, otherwise 0 ("not known"), so a
 * reply never carries an altered value.
 */
export function echoableId (value: unknown): number {
  return Number.isSafeInteger(value) && (value as number) >= 0 ? value as number : 0
}

// ---- the exchange link --------------------------------------------------
//
// Both ends of the link decode with the same exact-or-NaN rule, so a
// 64-bit value at or above 2^53 from either peer would otherwise reach a
// book, a report or a reply as NaN. The link has no per-message refusal:
// a LinkEnvelope outside these rules is a malformed frame (link-codec.ts),
// like one that does not decode. Enums are left to the receiver: the
// exchange rejects an order with an undefined side (INVALID_SIDE) or time
// in force (INVALID_FIELD) by its report, as an exchange does, rather than
// dropping the link over one order.

/** Instrument reference data, in a logon reply or an instrument update. */
const INSTRUMENT_RULES: readonly FieldRule[] = Object.freeze([
  int64('tickSize', 'instrument.tick_size'),
  int64('referencePrice', 'instrument.reference_price'),
  int64('lowerLimitPrice', 'instrument.lower_limit_price'),
  int64('upperLimitPrice', 'instrument.upper_limit_price'),
])

export const LINK_FIELD_RULES: Readonly<{ envelope: readonly FieldRule[], bodies: Readonly<Record<string, readonly FieldRule[]>> }> = Object.freeze({
  envelope: Object.freeze([
    uint64('seq', 'link_envelope.seq'),
    uint64('sentTimeUs', 'link_envelope.sent_time_us'),
  ]),
  bodies: Object.freeze({
    logon: Object.freeze([uint64('nextExpectedSeq', 'logon.next_expected_seq')]),
    logonReply: Object.freeze([uint64('nextExpectedSeq', 'logon_reply.next_expected_seq')]),
    newOrder: Object.freeze([
      uint64('orderId', 'new_order.order_id'),
      int64('price', 'new_order.price'),
    ]),
    cancel: Object.freeze([uint64('orderId', 'cancel.order_id')]),
    report: Object.freeze([
      uint64('orderId', 'report.order_id'),
      uint64('exchangeOrderId', 'report.exchange_order_id'),
      int64('lastPrice', 'report.last_price'),
      uint64('transactTimeUs', 'report.transact_time_us'),
    ]),
  }),
})

/** The first field of a decoded link envelope outside its limit, or null. */
export function validateLinkEnvelope (envelope: LinkEnvelope): FieldViolation | null {
  const outer = checkRules(LINK_FIELD_RULES.envelope, envelope)
  if (outer !== null) return outer
  const name = envelope.body
  if (name === undefined) return null
  if (name === 'logonReply') {
    for (const instrument of envelope.logonReply!.instruments ?? []) {
      const violation = checkRules(INSTRUMENT_RULES, instrument)
      if (violation !== null) return violation
    }
  } else if (name === 'instrumentUpdate') {
    const instrument = envelope.instrumentUpdate!.instrument
    if (instrument != null) return checkRules(INSTRUMENT_RULES, instrument)
  }
  const rules = LINK_FIELD_RULES.bodies[name]
  const body = (envelope as unknown as Record<string, object | null | undefined>)[name]
  if (rules === undefined || body == null) return null
  return checkRules(rules, body)
}
