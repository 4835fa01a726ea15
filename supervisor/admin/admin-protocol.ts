// The admin socket's wire protocol: newline-delimited JSON over a Unix
// socket, one request per line, one reply per line, in order. This module
// knows the shapes and their validation; it opens no sockets
// (admin-server.ts does, admin-command.ts is the client).
//
//   request  {"id": 7, "operator": "alice", "command": "limits.set", "args": {...}}\n
//   reply    {"id": 7, "ok": true, "result": {...}}\n
//            {"id": 7, "ok": false, "error": {"code": "GH_ERR_ADMIN_BAD_REQUEST", "message": "...", "issues": ["args.scope.kind: ..."]}}\n
//
// Every request is validated here before anything is called: a request
// that fails gets BAD_REQUEST and changes nothing. Messages never quote
// the values a request carried (an AuthCode must not come back in an
// error), only field paths, names and what is expected.
import { z } from 'zod'
import { LIMIT_NAMES, type LimitName } from '../../checks/limits.js'
import { RISK_LANES, type KillScope, type LimitScope, type LimitSet } from '../../checks/risk-control.js'
import { EXCHANGES, PROGRAMMATIC_REPORTS, TRADING_STATES } from '../../checks/risk-layout.js'
import { APP_STATUSES, InstanceIdSchema, LimitSetSchema, type LimitSetConfig } from '../../config/config.js'
import { LANE_NAMES } from '../../protocol/lanes.js'
import { limitSetFromConfig } from '../../config/risk-config.js'
import { adminErrorCodes, type AdminErrorCode } from './admin-api.js'
import { formatZodIssue } from '../../platform/zod-issue.js'
import { EVIDENCE_KINDS } from '../../journal/gateway-records.js'
import { isExpiryText } from '../evidence/evidence-expiry.js'

/** A request line longer than this (newline excluded) is refused unread. */
export const MAX_REQUEST_LINE_BYTES = 1024 * 1024

// ---- envelope ---------------------------------------------------------------------

/** Echoed back in the reply so a client can pair replies with requests. */
export const RequestIdSchema = z.union([z.number().finite(), z.string().max(128, 'must be at most 128 characters')], {
  error: 'must be a number or a string the client chose (it is echoed in the reply)',
})
export type RequestId = z.infer<typeof RequestIdSchema>

/** Who is making the change: journaled with every change. */
export const OperatorSchema = z.string({ error: 'is required: the name of the person making the request' })
  .regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'must be 1-64 letters, digits, "_", ".", "@" or "-"')

// ---- argument pieces --------------------------------------------------------------

const name = (what: string) => z.string({ error: `is required: ${what}` }).min(1, `must be ${what}`).max(64, 'must be at most 64 characters')
const account = name('an account ID')
const appId = z.string({ error: 'is required: an AppID' }).regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 letters, digits, ".", "_", ":" or "-"')
const instrument = name('an instrument symbol')
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)) && new Date(`${s}T00:00:00Z`).toISOString().startsWith(s), 'is not a calendar date')
const laneName = z.enum(LANE_NAMES)
const filePath = (what: string) => z.string({ error: `is required: ${what}` }).max(4096, 'must be at most 4096 characters')
  .refine((p) => p.startsWith('/'), `must be ${what} (absolute: the gateway's working directory is not yours)`)
const appStatus = z.enum(APP_STATUSES)

export const LimitScopeSchema: z.ZodType<LimitScope> = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('global') }).strict(),
  z.object({ kind: z.literal('lane'), lane: z.enum(RISK_LANES) }).strict(),
  z.object({ kind: z.literal('exchange'), exchange: z.enum(EXCHANGES) }).strict(),
  z.object({ kind: z.literal('app'), appId }).strict(),
  z.object({ kind: z.literal('account'), account }).strict(),
  z.object({ kind: z.literal('account-instrument'), account, instrument }).strict(),
], { error: 'must be one of global, lane, exchange, app, account, account-instrument' })

export const KillScopeSchema: z.ZodType<KillScope> = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('global') }).strict(),
  z.object({ kind: z.literal('lane'), lane: z.enum(RISK_LANES) }).strict(),
  z.object({ kind: z.literal('account'), account }).strict(),
  z.object({ kind: z.literal('instrument'), instrument }).strict(),
], { error: 'must be one of global, lane, account, instrument' })

/**
 * Limit values as the config file spells them (LimitSetSchema: a number,
 * null for no limit, selfMatchMode as a word, cancelOnDisconnect as a
 * boolean), plus "inherit" to clear the value at this scope so the next
 * wider scope's applies again.
 */
const limitValueShape = Object.fromEntries(LIMIT_NAMES.map((limit) => [
  limit,
  z.union([z.literal('inherit'), LimitSetSchema.shape[limit]], { error: `must be ${limitExpectation(limit)}` }),
])) as unknown as Record<LimitName, z.ZodType<unknown>>
export const LimitValuesSchema = z.object(limitValueShape).strict()
  // Only when the names are right: "no such limit" says enough on its own.
  .refine((values) => Object.keys(values).length > 0, { message: 'must set at least one limit', when: (payload) => payload.issues.length === 0 })

function limitExpectation (limit: LimitName): string {
  if (limit === 'selfMatchMode') return '"reject-incoming", "cancel-resting" or "inherit"'
  if (limit === 'cancelOnDisconnect') return 'true, false or "inherit"'
  return 'a number of at least 0, null for no limit, or "inherit"'
}

/** The wire's limit values to the API's: words and booleans to numbers, "inherit" to unset. */
export function limitSetFromRequest (values: Record<string, unknown>): LimitSet {
  const inherit: LimitSet = {}
  const given: Record<string, unknown> = {}
  for (const [limit, value] of Object.entries(values)) {
    if (value === 'inherit') inherit[limit as LimitName] = undefined
    else given[limit] = value
  }
  return { ...limitSetFromConfig(given as LimitSetConfig), ...inherit }
}

// ---- commands ---------------------------------------------------------------------

const noArgs = z.object({}).strict()

/** Each command's arguments. The command names are the protocol; the AdminApi method each calls is in admin-server.ts. */
export const commandArgs = {
  'limits.show': z.object({ scope: LimitScopeSchema }).strict(),
  'limits.set': z.object({ scope: LimitScopeSchema, values: LimitValuesSchema }).strict(),
  'trading-state.set': z.object({ account, state: z.enum(TRADING_STATES) }).strict(),
  'kill-switch.set': z.object({ scope: KillScopeSchema, on: z.boolean(), massCancel: z.boolean().optional() }).strict(),
  'programmatic-report.set': z.object({ account, status: z.enum(PROGRAMMATIC_REPORTS) }).strict(),
  'counters.show': z.object({ account }).strict(),
  'sessions.list': z.object({ lane: laneName.optional(), account: account.optional() }).strict(),
  'sessions.disconnect': z.object({
    sessionId: z.number().int('must be a whole number').positive('must be a session ID from sessions.list'),
    reason: z.string().min(1, 'must say why').max(200, 'must be at most 200 characters'),
  }).strict(),
  'apps.list': noArgs,
  'apps.register': z.object({
    appId,
    vendor: name('the vendor'),
    name: name('the software\'s name'),
    version: name('the version'),
    // Same rule as software[].authCode in config; never echoed back.
    authCode: z.string({ error: 'is required: the AuthCode issued for this AppID' }).min(16, 'must be at least 16 characters').max(256, 'must be at most 256 characters'),
    status: appStatus,
  }).strict(),
  'apps.evidence': z.object({
    appId,
    document: z.object({ name: name('the document\'s name'), expires: isoDate }).strict().optional(),
    accessTestPassed: isoDate.optional(),
  }).strict().refine((a) => a.document !== undefined || a.accessTestPassed !== undefined, 'must give a document, accessTestPassed, or both'),
  'apps.evidence.add': z.object({
    appId,
    path: filePath('the absolute path of the document, which the gateway reads'),
    kind: z.enum(EVIDENCE_KINDS, { error: `must be one of ${EVIDENCE_KINDS.join(', ')}` }),
    issuer: z.string({ error: 'is required: who issued the document' }).min(1, 'must name who issued the document').max(200, 'must be at most 200 characters'),
    issued: isoDate,
    expires: z.string({ error: 'is required: YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, or null for no expiry' }).refine(isExpiryText, 'must be a date as YYYY-MM-DD or a UTC instant as YYYY-MM-DDTHH:MM:SSZ').nullable(),
  }).strict(),
  'apps.evidence.list': z.object({ appId: appId.optional(), expiring: z.boolean().optional() }).strict(),
  'apps.certify-record': z.object({
    appId,
    report: filePath('the absolute path of the JSON report gatehouse certify wrote'),
    html: filePath('the absolute path of the HTML report gatehouse certify wrote').optional(),
  }).strict(),
  'apps.status': z.object({ appId, status: appStatus }).strict(),
  'apps.bind': z.object({ appId, account }).strict(),
  'apps.unbind': z.object({ appId, account }).strict(),
  'fingerprints.list': z.object({ account }).strict(),
  'fingerprints.approve': z.object({ account, fingerprintId: z.string().regex(/^[0-9a-f]{64}$/, 'must be a 64-hex-digit fingerprint ID') }).strict(),
  'fingerprints.reject': z.object({ account, fingerprintId: z.string().regex(/^[0-9a-f]{64}$/, 'must be a 64-hex-digit fingerprint ID') }).strict(),
  'alerts.list': z.object({ limit: z.number().int().min(1, 'must be at least 1').max(1000, 'must be at most 1000 (the gateway keeps the last 1000)').optional() }).strict(),
  'pending.list': noArgs,
  'pending.approve': z.object({ requestId: z.string({ error: 'is required: a request ID from pending list' }).regex(/^[a-z0-9]{1,16}-\d{1,12}$/, 'must be a request ID from pending list, e.g. dc1abc-3') }).strict(),
  'pending.reject': z.object({ requestId: z.string({ error: 'is required: a request ID from pending list' }).regex(/^[a-z0-9]{1,16}-\d{1,12}$/, 'must be a request ID from pending list, e.g. dc1abc-3') }).strict(),
  'diligence.show': z.object({ account: account.optional() }).strict(),
  'diligence.set': z.object({
    account,
    executionMethod: z.string().min(1, 'must say how orders are decided and sent').max(500, 'must be at most 500 characters').optional(),
    software: z.array(z.object({
      name: z.string().min(1, 'must be the software\'s name').max(200),
      functions: z.string().min(1, 'must say what the software does').max(1000),
      developer: z.string().min(1, 'must name the developer').max(200),
    }).strict()).min(1, 'must list at least one program').max(32, 'must list at most 32 programs').optional(),
  }).strict().refine((a) => a.executionMethod !== undefined || a.software !== undefined, 'must give executionMethod, software, or both'),
  'report.step': z.object({ account, step: z.enum(['receive', 'file', 'confirm', 'change', 'change-reported']), date: isoDate.optional() }).strict(),
  'clocks.list': z.object({ alertsOnly: z.boolean().optional() }).strict(),
  'accounts.move': z.object({
    account,
    to: InstanceIdSchema,
    // Below the CLI's own reply timeout (30 s) with the handover's replies added.
    drainTimeoutMs: z.number().int('must be a whole number').min(100, 'must be at least 100 ms').max(15_000, 'must be at most 15000 ms').optional(),
  }).strict(),
  'config.reload': z.object({ path: z.string().min(1, 'must be the path of a config file the gateway can read').max(4096) }).strict(),
} as const

export type AdminCommandName = keyof typeof commandArgs
export const ADMIN_COMMANDS = Object.keys(commandArgs) as AdminCommandName[]

/** Commands that only read; every other one changes something and is journaled. */
export const READ_ONLY_COMMANDS: readonly AdminCommandName[] = ['limits.show', 'counters.show', 'sessions.list', 'apps.list', 'apps.evidence.list', 'fingerprints.list', 'alerts.list', 'pending.list', 'diligence.show', 'clocks.list'] satisfies ReadOnlyCommand[]

export function isReadOnlyCommand (command: AdminCommandName): boolean {
  return READ_ONLY_COMMANDS.includes(command)
}

type ReadOnlyCommand = 'limits.show' | 'counters.show' | 'sessions.list' | 'apps.list' | 'apps.evidence.list' | 'fingerprints.list' | 'alerts.list' | 'pending.list' | 'diligence.show' | 'clocks.list'
/**
 * A read names no operator (nothing is journaled, and cron or systemd
 * often runs without $USER); a change always does.
 */
type RequestOf<C extends AdminCommandName> = C extends ReadOnlyCommand
  ? { id: RequestId, operator?: string, command: C, args: z.infer<typeof commandArgs[C]> }
  : { id: RequestId, operator: string, command: C, args: z.infer<typeof commandArgs[C]> }
/** A validated request: the command names the shape of args. */
export type AdminRequest = { [C in AdminCommandName]: RequestOf<C> }[AdminCommandName]

function requestSchema<C extends AdminCommandName> (command: C) {
  return z.object({
    id: RequestIdSchema,
    operator: isReadOnlyCommand(command) ? OperatorSchema.optional() : OperatorSchema,
    command: z.literal(command),
    args: commandArgs[command],
  }).strict()
}

/** Every request: a union discriminated on `command`. */
export const AdminRequestSchema = z.discriminatedUnion('command',
  ADMIN_COMMANDS.map(requestSchema) as unknown as [ReturnType<typeof requestSchema>, ...Array<ReturnType<typeof requestSchema>>])

// ---- replies ----------------------------------------------------------------------

export interface AdminErrorBody {
  code: AdminErrorCode
  message: string
  /** For BAD_REQUEST: each problem as "path: what is wrong". */
  issues?: string[]
}

export type AdminReply =
  | { id: RequestId | null, ok: true, result: unknown }
  | { id: RequestId | null, ok: false, error: AdminErrorBody }

/** Reply lines a client reads back; validated so a client fails clearly on anything else. */
export const AdminReplySchema = z.union([
  z.object({ id: RequestIdSchema.nullable(), ok: z.literal(true), result: z.unknown() }),
  z.object({
    id: RequestIdSchema.nullable(),
    ok: z.literal(false),
    error: z.object({ code: z.enum(Object.values(adminErrorCodes) as [AdminErrorCode, ...AdminErrorCode[]]), message: z.string(), issues: z.array(z.string()).optional() }),
  }),
])

export function encodeReply (reply: AdminReply): string {
  return JSON.stringify(reply) + '\n'
}

// ---- parsing ----------------------------------------------------------------------

/** One zod issue as "path: what is wrong", never quoting the value that was sent. */
export function formatIssue (issue: z.core.$ZodIssue): string {
  return formatZodIssue(issue, {
    topLevel: '(request)',
    dropInvalidInputPrefix: true,
    describeUnknownKeys: (unknown, keys) => unknown.path.at(-1) === 'values' ? `no such limit ${keys}; limits are ${LIMIT_NAMES.join(', ')}` : undefined,
  })
}

export type ParsedRequest =
  | { ok: true, request: AdminRequest }
  | { ok: false, id: RequestId | null, error: AdminErrorBody }

function badRequest (id: RequestId | null, message: string, issues?: string[]): ParsedRequest {
  return { ok: false, id, error: issues === undefined ? { code: adminErrorCodes.BAD_REQUEST, message } : { code: adminErrorCodes.BAD_REQUEST, message, issues } }
}

/** Validates an already-decoded request object. */
export function parseRequestObject (input: unknown): ParsedRequest {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return badRequest(null, 'a request must be a JSON object: {"id", "operator", "command", "args"}')
  }
  const fields = input as Record<string, unknown>
  // The id is echoed even when the rest is wrong, so the client can tell
  // which request failed.
  const idParsed = RequestIdSchema.safeParse(fields.id)
  const id = idParsed.success ? idParsed.data : null
  const command = fields.command
  if (typeof command !== 'string' || !Object.hasOwn(commandArgs, command)) {
    const shown = typeof command === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(command) ? `unknown command "${command}"` : 'command is missing or not a command name'
    return badRequest(id, `${shown}; commands are ${ADMIN_COMMANDS.join(', ')}`, [`command: must be one of ${ADMIN_COMMANDS.join(', ')}`])
  }
  const parsed = AdminRequestSchema.safeParse(input)
  if (!parsed.success) {
    const issues = parsed.error.issues.map(formatIssue)
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''}, in issues)` : ''
    return badRequest(id, `${command}: ${issues[0]!}${more}; nothing was changed`, issues)
  }
  return { ok: true, request: parsed.data as AdminRequest }
}

/** Parses one request line (without its newline). */
export function parseRequestLine (line: string): ParsedRequest {
  let input: unknown
  try {
    input = JSON.parse(line)
  } catch (err) {
    // V8's message quotes part of the line, which may hold a secret: keep
    // only the position.
    const at = /position (\d+)/.exec((err as Error).message)
    return badRequest(null, `the request is not valid JSON${at === null ? '' : ` (at character ${at[1]})`}; send one JSON object per line`)
  }
  return parseRequestObject(input)
}
