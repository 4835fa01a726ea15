// `gatehouse admin <command>`: the ops client of the admin socket
// (admin-protocol.ts). Each invocation sends one request, prints the reply
// as a table (or the raw result with --json) and exits:
//
//   0 done   1 the gateway refused (code and message printed)
//   2 bad command line   3 the socket could not be reached
//
// Requests are validated here with the same schemas the gateway uses, so a
// mistake on the command line is reported (exit 2) without a round trip;
// the gateway validates again all the same.
import { parseArgs } from 'node:util'
import { describeSummary, type FanOutSummary } from '../cluster/control-summary.js'
import { createConnection } from 'node:net'
import { MAX_JSON_FILE_BYTES, readBoundedFile } from '../journal/read-bounded-file.js'
import { join, resolve } from 'node:path'
import { userInfo } from 'node:os'
import process from 'node:process'
import { DEFAULT_CONFIG } from '../config/defaults.js'
import { mergeConfig } from '../config/config.js'
import { SELF_MATCH_MODES } from '../checks/limits.js'
import {
  AdminReplySchema, isReadOnlyCommand, parseRequestObject,
  type AdminCommandName, type AdminErrorBody, type AdminReply,
} from '../supervisor/admin/admin-protocol.js'
import type { AppInfo, ChangeReply, EvidenceListing, PendingInfo } from '../supervisor/admin/admin-api.js'
import { EVIDENCE_KINDS } from '../journal/gateway-records.js'
import type { DiligenceView } from '../supervisor/admin/account-diligence.js'
import type { FilingClock } from '../compliance/filing-clocks.js'
import type { SessionInfo } from '../lane/worker-contract.js'
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, failCommand, helpHint, isUsageError, processIo, refuseUsage, type CommandIo } from '../platform/cli-kit.js'

/** A mass-cancel or a reload can take a while; past this the client gives up (the change may still happen). */
const REPLY_TIMEOUT_MS = 30_000

/** An AuthCode file holds one AuthCode (at most 256 characters) and a newline. */
const MAX_AUTH_CODE_FILE_BYTES = 4096

const COMMAND = 'gatehouse admin'
/** The gateway answered with an error. */
const EXIT_REFUSED = EXIT_FAILED
/** The admin socket could not be reached: nothing was asked. */
const EXIT_UNREACHABLE = 3

type OptionSpec = Record<string, { type: 'string' | 'boolean', short?: string }>
type Values = Record<string, string | boolean | undefined>

const GLOBAL_OPTIONS = {
  socket: { type: 'string' },
  config: { type: 'string' },
  operator: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec

const GLOBAL_HELP = `common options:
  --socket PATH    the admin socket (default: admin.socketPath of --config FILE,
                   else <runDir>/admin.sock of it, else ./var/admin.sock)
  --config FILE    the gateway's config file, to find the socket
  --operator NAME  who is making the change, journaled with it (default:
                   $GATEHOUSE_OPERATOR, else the OS user this runs as;
                   commands that only read need none)
  --json           print the reply's result as JSON (for scripts)
  -h, --help       show this help

exit codes: 0 done, 1 the gateway refused (code and message on stderr),
2 bad command line, 3 the admin socket could not be reached.
`

interface CommandSpec {
  summary: string
  /** The synopsis and what it does; the common options are appended. */
  help: string
  options?: OptionSpec
  positionals?: boolean
  build: (values: Values, positionals: string[]) => Promise<{ command: AdminCommandName, args: Record<string, unknown> }> | { command: AdminCommandName, args: Record<string, unknown> }
  /** Prints the result for people. */
  show: (result: unknown, io: CommandIo) => void
}

// ---- formatting -------------------------------------------------------------------

/** Columns aligned under a header; columns of numbers (but the first, which names the row) are right-aligned. */
export function formatTable (header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  if (rows.length === 0) return '(none)\n'
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const numeric = header.map((_, i) => i > 0 && rows.every((r) => /^-?\d+(\.\d+)?$|^-$|^none$/.test(r[i] ?? '')))
  const line = (cells: readonly string[]): string => cells
    .map((cell, i) => numeric[i] === true ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))
    .join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n') + '\n'
}

/** A value as a person reads it: null is "none" (no limit), objects as JSON. */
function shown (value: unknown): string {
  if (value === null) return 'none'
  if (value === undefined) return '-'
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.length === 0 ? '(none)' : value.join(', ')
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

/** A limit as config spells it: selfMatchMode as its word, cancelOnDisconnect as a boolean. */
function shownLimit (name: string, value: unknown): string {
  if (name === 'selfMatchMode' && typeof value === 'number') return SELF_MATCH_MODES[value] ?? String(value)
  if (name === 'cancelOnDisconnect' && typeof value === 'number') return value === 1 ? 'true' : 'false'
  return shown(value)
}

function showChanges (result: unknown, io: CommandIo): void {
  const reply = result as ChangeReply
  const lines: string[] = []
  if (reply.changes.length === 0) lines.push('no change')
  else {
    lines.push('changed:')
    for (const c of reply.changes) lines.push(`  ${c.field}: ${shownLimit(c.field, c.before)} → ${shownLimit(c.field, c.after)}`)
  }
  for (const [key, value] of Object.entries(reply.detail ?? {})) {
    if (Array.isArray(value) && value.length === 0) continue
    lines.push(`${key}: ${shown(value)}`)
  }
  lines.push(...instancesLine(result))
  io.out(lines.join('\n') + '\n')
}

/** With cluster.enabled, which instances applied the change (supervisor/admin/control-fanout.ts); nothing otherwise. */
function instancesLine (result: unknown): string[] {
  const summary = result as Partial<FanOutSummary>
  if (!Array.isArray(summary.instances) || !Array.isArray(summary.missing)) return []
  return [describeSummary({ instances: summary.instances, missing: summary.missing })]
}

function showMoveSteps (result: unknown, io: CommandIo): void {
  const { steps } = result as { steps: Array<{ step: string, at: string, detail: Record<string, unknown> }> }
  const lines = steps.map((s) => `${s.at}  ${s.step.padEnd(10)} ${Object.entries(s.detail).map(([k, v]) => `${k}=${shown(v)}`).join(' ')}`)
  io.out(lines.join('\n') + '\nmoved\n')
}

function showLimits (result: unknown, io: CommandIo): void {
  const rows = Object.entries(result as Record<string, unknown>).map(([name, value]) => [name, shownLimit(name, value)])
  io.out(rows.length === 0 ? 'no limits set at this scope (every one inherits)\n' : formatTable(['LIMIT', 'VALUE'], rows))
}

function showCounters (result: unknown, io: CommandIo): void {
  const c = result as Record<string, unknown> & {
    instruments: Array<Record<string, number | string>>
    monitors: Array<{ instrument: string, monitor: string, observed: number, warning: number | null, blocking: number | null }>
  }
  const scalar = Object.entries(c).filter(([key]) => key !== 'instruments' && key !== 'monitors').map(([key, value]) => [key, shown(value)])
  let text = formatTable(['COUNTER', 'VALUE'], scalar)
  if (c.instruments.length > 0) {
    // Held lots as today/yesterday, frozen (by working closes) likewise.
    const split = (today: number | string | undefined, yesterday: number | string | undefined): string => `${String(today)}/${String(yesterday)}`
    text += '\n' + formatTable(['INSTRUMENT', 'LONG TD/YD', 'SHORT TD/YD', 'FROZEN-L TD/YD', 'FROZEN-S TD/YD', 'OPEN-L', 'OPEN-S', 'OPENED',
      'WORK-BUY', 'WORK-SELL', 'BUY-ORD', 'SELL-ORD', 'TRADED', 'CANCELS', 'LARGE-CXL', 'SELF-TRADES'],
    c.instruments.map((i) => [i.instrument, split(i.longTodayLots, i.longYesterdayLots), split(i.shortTodayLots, i.shortYesterdayLots),
      split(i.longTodayFrozenLots, i.longYesterdayFrozenLots), split(i.shortTodayFrozenLots, i.shortYesterdayFrozenLots),
      i.workingOpenLongLots, i.workingOpenShortLots, i.openedLotsToday,
      i.workingBuyLots, i.workingSellLots, i.workingBuyOrders, i.workingSellOrders, i.tradedLotsToday, i.cancelsToday, i.largeCancelsToday, i.selfTradesToday].map(String)))
  }
  text += '\n' + formatTable(['INSTRUMENT', 'MONITOR', 'OBSERVED', 'WARNING', 'BLOCKING'],
    c.monitors.map((m) => [m.instrument, m.monitor, String(m.observed), shown(m.warning), shown(m.blocking)]))
  io.out(text)
}

function showSessions (result: unknown, io: CommandIo): void {
  const sessions = result as SessionInfo[]
  io.out(formatTable(['SESSION', 'LANE', 'ACCOUNT', 'APPID', 'IP', 'LOGON-TIME', 'MSGS-IN', 'MSGS-OUT', 'WORKING'],
    sessions.map((s) => [String(s.sessionId), s.lane, s.account ?? '-', s.appId ?? '-', s.ip, s.logonTime ?? '(logging on)', String(s.messagesIn), String(s.messagesOut), String(s.workingOrders)])))
}

function showApps (result: unknown, io: CommandIo): void {
  const apps = result as AppInfo[]
  io.out(formatTable(['APPID', 'STATUS', 'VENDOR', 'NAME', 'VERSION', 'ACCESS-TEST', 'DOCUMENTS', 'ACCOUNTS'],
    apps.map((a) => [a.appId, a.status, a.vendor, a.name, a.version,
      a.accessTest === 'certified' ? `certified ${a.certification!.finishedAt.slice(0, 10)}` : a.accessTest === 'legacy-date' ? `${a.assessment.accessTestPassed!} (legacy typed date)` : a.certification !== null ? `failed ${a.certification.finishedAt.slice(0, 10)}` : '-',
      [...a.assessment.documents.map((d) => `${d.name} (expires ${d.expires})`), ...a.evidence.map((d) => `${d.kind} ${d.sha256.slice(0, 12)} (expires ${d.expires ?? 'never'})`)].join(', ') || '-',
      a.accounts.length === 0 ? '-' : a.accounts.join(', ')])))
}

function showEvidence (result: unknown, io: CommandIo): void {
  const rows = result as EvidenceListing[]
  io.out(rows.length === 0 ? 'no stored documents\n' : formatTable(['APPID', 'KIND', 'SHA256', 'ISSUER', 'ISSUED', 'EXPIRES', 'DAYS-LEFT', 'STATE', 'ADDED-BY'],
    rows.map((d) => [d.appId, d.kind, d.sha256.slice(0, 16), d.issuer, d.issued, d.expires ?? '-', d.daysToExpiry === null ? '-' : String(d.daysToExpiry), d.state, d.addedBy])))
}

function showAlerts (result: unknown, io: CommandIo): void {
  const rows = result as Array<{ time: string, kind: string, lane: string | null, account: string | null, ip: string | null, text: string }>
  io.out(rows.length === 0 ? 'no logon alerts\n' : formatTable(['TIME', 'KIND', 'LANE', 'ACCOUNT', 'IP', 'TEXT'], rows.map((a) => [a.time, a.kind, a.lane ?? '-', a.account ?? '-', a.ip ?? '-', a.text])))
}

function showFingerprints (result: unknown, io: CommandIo): void {
  const rows = result as Array<{ fingerprintId: string, status: string, firstSeen: string | null, lastSeen: string | null }>
  io.out(formatTable(['FINGERPRINT', 'STATUS', 'FIRST-SEEN', 'LAST-SEEN'], rows.map((f) => [f.fingerprintId, f.status, f.firstSeen ?? '-', f.lastSeen ?? '-'])))
}

function showPending (result: unknown, io: CommandIo): void {
  const rows = result as PendingInfo[]
  io.out(rows.length === 0 ? 'no request is waiting for approval\n' : formatTable(['REQUEST', 'CHANGE', 'BY', 'REQUESTED', 'EXPIRES', 'WHAT'],
    rows.map((r) => [r.requestId, r.change, r.requestedBy, r.requestedAt, r.expiresAt, r.summary])))
}

/** A change reply, or the pending request a dual-controlled change became. */
function showChangeOrPending (result: unknown, io: CommandIo): void {
  const pending = (result as ChangeReply).detail?.pending as PendingInfo | undefined
  if (pending === undefined) {
    showChanges(result, io)
    return
  }
  io.out(`pending: ${pending.summary} needs a second operator's approval before ${pending.expiresAt}\n` +
    `  request ${pending.requestId}: gatehouse admin approve ${pending.requestId}  (or reject)\n` +
    instancesLine(result).map((line) => `${line}\n`).join(''))
}

function showClocks (result: unknown, io: CommandIo): void {
  const rows = result as FilingClock[]
  io.out(rows.length === 0 ? 'no filing clock is running\n' : formatTable(['ACCOUNT', 'CLOCK', 'STARTED', 'DUE', 'DONE', 'DAYS-LEFT', 'STATE'],
    rows.map((c) => [c.account, c.clock, c.startedOn, c.dueOn, c.doneOn ?? '-', String(c.tradingDaysLeft), c.state])))
}

function showDiligence (result: unknown, io: CommandIo): void {
  const views = result as DiligenceView[]
  const lines: string[] = []
  for (const v of views) {
    const d = v.diligence
    lines.push(`account ${v.account}`,
      `  access model (lanes): ${v.lanes.join(', ')}`,
      `  software (AppIDs):    ${v.appIds.join(', ')}`,
      `  known terminals:      ${v.knownTerminals.length === 0 ? '(none)' : v.knownTerminals.map((t) => `${t.fingerprintId.slice(0, 12)}… ${t.status}`).join(', ')}`,
      `  programmatic report:  ${v.programmaticReport}; received ${d.reportReceivedOn ?? '-'}, filed ${d.filedOn ?? '-'}, confirmed ${d.confirmedOn ?? '-'}`,
      `  execution method:     ${d.executionMethod ?? '-'}`,
      `  report software:      ${d.software === undefined ? '-' : d.software.map((p) => `${p.name} (${p.functions}; by ${p.developer})`).join('; ')}`)
    if (v.missingContents.length > 0) lines.push(`  report lacks:         ${v.missingContents.join(', ')}`)
    for (const c of v.clocks) lines.push(`  clock ${c.clock}: started ${c.startedOn}, due ${c.dueOn}, ${c.state}${c.doneOn === null ? ` (${c.tradingDaysLeft} trading days left)` : ` (done ${c.doneOn})`}`)
  }
  io.out(lines.join('\n') + '\n')
}

// ---- argument helpers -----------------------------------------------------------------

function str (values: Values, name: string): string | undefined {
  const value = values[name]
  return typeof value === 'string' ? value : undefined
}

function required (values: Values, name: string, what: string): string {
  const value = str(values, name)
  if (value === undefined) throw new UsageError(`--${name} is required: ${what}`)
  return value
}

function onePositional (positionals: string[], what: string): string {
  if (positionals.length !== 1) throw new UsageError(`give exactly one ${what}${positionals.length > 1 ? ` (got ${positionals.join(' ')})` : ''}`)
  return positionals[0]!
}

const SCOPE_OPTIONS = {
  global: { type: 'boolean' },
  lane: { type: 'string' },
  exchange: { type: 'string' },
  'app-id': { type: 'string' },
  account: { type: 'string' },
  instrument: { type: 'string' },
} as const satisfies OptionSpec

/** --global | --lane L | --exchange E | --app-id X | --account A [--instrument SYM]: exactly one scope. */
function limitScope (values: Values): Record<string, unknown> {
  const account = str(values, 'account')
  const instrument = str(values, 'instrument')
  const scopes: Array<Record<string, unknown>> = []
  if (values.global === true) scopes.push({ kind: 'global' })
  if (str(values, 'lane') !== undefined) scopes.push({ kind: 'lane', lane: str(values, 'lane') })
  if (str(values, 'exchange') !== undefined) scopes.push({ kind: 'exchange', exchange: str(values, 'exchange') })
  if (str(values, 'app-id') !== undefined) scopes.push({ kind: 'app', appId: str(values, 'app-id') })
  if (account !== undefined) scopes.push(instrument === undefined ? { kind: 'account', account } : { kind: 'account-instrument', account, instrument })
  else if (instrument !== undefined) throw new UsageError('--instrument needs --account (limits are set per account × instrument)')
  if (scopes.length !== 1) throw new UsageError('name exactly one scope: --global, --lane L, --exchange E, --app-id X, or --account A [--instrument SYM]')
  return scopes[0]!
}

/** --global | --lane L | --account A | --instrument SYM. */
function killScope (values: Values): Record<string, unknown> {
  const scopes: Array<Record<string, unknown>> = []
  if (values.global === true) scopes.push({ kind: 'global' })
  if (str(values, 'lane') !== undefined) scopes.push({ kind: 'lane', lane: str(values, 'lane') })
  if (str(values, 'account') !== undefined) scopes.push({ kind: 'account', account: str(values, 'account') })
  if (str(values, 'instrument') !== undefined) scopes.push({ kind: 'instrument', instrument: str(values, 'instrument') })
  if (scopes.length !== 1) throw new UsageError('name exactly one scope: --global, --lane L, --account A or --instrument SYM')
  return scopes[0]!
}

/** name=value words: none → null (no limit), inherit, true/false, numbers; anything else as given (the schema says what is wrong). */
function limitValues (positionals: string[]): Record<string, unknown> {
  if (positionals.length === 0) throw new UsageError('give at least one limit as name=value, e.g. maxOpenOrders=50')
  const values: Record<string, unknown> = {}
  for (const word of positionals) {
    const eq = word.indexOf('=')
    if (eq <= 0) throw new UsageError(`"${word}" is not name=value`)
    const name = word.slice(0, eq)
    const text = word.slice(eq + 1)
    let value: unknown = text
    if (text === 'none' || text === 'null') value = null
    else if (text === 'true' || text === 'false') value = text === 'true'
    else if (text !== '' && text !== 'inherit' && Number.isFinite(Number(text))) value = Number(text)
    values[name] = value
  }
  return values
}

async function readAuthCode (values: Values): Promise<string> {
  const file = str(values, 'auth-code-file') ?? '-'
  if (file !== '-') {
    try {
      // An AuthCode is at most 256 characters: a FIFO, a device or a big file given by mistake is refused, not read.
      return readBoundedFile(file, MAX_AUTH_CODE_FILE_BYTES, 'AuthCode file').toString('utf8').replace(/\r?\n$/, '')
    } catch (err) {
      throw new UsageError(`--auth-code-file: ${(err as Error).message}`)
    }
  }
  if (process.stdin.isTTY === true) process.stderr.write('AuthCode (one line, then Enter or Ctrl-D): ')
  let input = ''
  for await (const chunk of process.stdin) {
    input += String(chunk)
    if (process.stdin.isTTY === true && input.includes('\n')) break
  }
  return input.split(/\r?\n/)[0] ?? ''
}

// ---- commands ---------------------------------------------------------------------

const SCOPE_HELP = `scope (exactly one):
  --global                 the global limits (every limit must keep a value)
  --lane L                 terminal, platform or hft
  --exchange E             an exchange's preset: SHFE, INE, DCE, ZCE, CFFEX, GFEX
  --app-id X               an AppID
  --account A              an account; with --instrument SYM, that account on that contract`

const commands: Record<string, CommandSpec> = {
  'limits show': {
    summary: 'the limits set at one scope',
    help: `usage: gatehouse admin limits show <scope>

Prints the limits set at the scope (limits it does not set inherit from the
next wider scope: account × instrument > account > AppID > lane > exchange > global).

${SCOPE_HELP}
`,
    options: SCOPE_OPTIONS,
    build: (values) => ({ command: 'limits.show', args: { scope: limitScope(values) } }),
    show: showLimits,
  },
  'limits set': {
    summary: 'set limits at one scope, all or none',
    help: `usage: gatehouse admin limits set <scope> NAME=VALUE...

Sets one or more limits at the scope, atomically: the lanes see all of them
from the next message, or none if any is refused. VALUE is a number, "none"
for no limit, or "inherit" to clear the scope's own value; selfMatchMode is
reject-incoming or cancel-resting, cancelOnDisconnect true or false.

  gatehouse admin limits set --account ACC1 maxOpenOrders=50 funds=1000000 maxLongLots=none

${SCOPE_HELP}
`,
    options: SCOPE_OPTIONS,
    positionals: true,
    build: (values, positionals) => ({ command: 'limits.set', args: { scope: limitScope(values), values: limitValues(positionals) } }),
    show: showChangeOrPending,
  },
  'trading-state set': {
    summary: 'an account\'s trading state: active, reducing or halted',
    help: `usage: gatehouse admin trading-state set --account A active|reducing|halted

reducing accepts only orders that reduce a position; halted accepts none.
`,
    options: { account: { type: 'string' } },
    positionals: true,
    build: (values, positionals) => ({ command: 'trading-state.set', args: { account: required(values, 'account', 'the account'), state: onePositional(positionals, 'state: active, reducing or halted') } }),
    show: showChanges,
  },
  'kill-switch on': {
    summary: 'refuse every new order in a scope (--mass-cancel: and cancel its working orders)',
    help: `usage: gatehouse admin kill-switch on <scope> [--mass-cancel]

From the next message on, no new order in the scope passes. With
--mass-cancel every lane then cancels the scope's working orders; the reply
says how many cancels went to the exchange.

scope (exactly one): --global, --lane L, --account A, --instrument SYM
`,
    options: { global: { type: 'boolean' }, lane: { type: 'string' }, account: { type: 'string' }, instrument: { type: 'string' }, 'mass-cancel': { type: 'boolean' } },
    build: (values) => ({ command: 'kill-switch.set', args: { scope: killScope(values), on: true, massCancel: values['mass-cancel'] === true } }),
    show: showChanges,
  },
  'kill-switch off': {
    summary: 'lift a kill switch',
    help: `usage: gatehouse admin kill-switch off <scope>

scope (exactly one): --global, --lane L, --account A, --instrument SYM
`,
    options: { global: { type: 'boolean' }, lane: { type: 'string' }, account: { type: 'string' }, instrument: { type: 'string' } },
    build: (values) => ({ command: 'kill-switch.set', args: { scope: killScope(values), on: false } }),
    show: showChangeOrPending,
  },
  'programmatic-report set': {
    summary: 'an account\'s programmatic-trading report status: none, filed or confirmed',
    help: `usage: gatehouse admin programmatic-report set --account A none|filed|confirmed
`,
    options: { account: { type: 'string' } },
    positionals: true,
    build: (values, positionals) => ({ command: 'programmatic-report.set', args: { account: required(values, 'account', 'the account'), status: onePositional(positionals, 'status: none, filed or confirmed') } }),
    show: showChanges,
  },
  counters: {
    summary: 'what the limits see for an account, and its monitor levels',
    help: `usage: gatehouse admin counters --account A

Open orders and lots, reserved margin, today's traded lots and actions, per
contract positions and cancels, and each regulatory monitor's observed
value against its warning and blocking levels.
`,
    options: { account: { type: 'string' } },
    build: (values) => ({ command: 'counters.show', args: { account: required(values, 'account', 'the account') } }),
    show: showCounters,
  },
  sessions: {
    summary: 'connected sessions: lane, account, AppID, IP, logon time, message counts',
    help: `usage: gatehouse admin sessions [--lane L] [--account A]
`,
    options: { lane: { type: 'string' }, account: { type: 'string' } },
    build: (values) => {
      const args: Record<string, unknown> = {}
      if (str(values, 'lane') !== undefined) args.lane = str(values, 'lane')
      if (str(values, 'account') !== undefined) args.account = str(values, 'account')
      return { command: 'sessions.list', args }
    },
    show: showSessions,
  },
  disconnect: {
    summary: 'close a session (its lane cancels its orders if it asked for cancel-on-disconnect)',
    help: `usage: gatehouse admin disconnect --session ID [--reason TEXT]

ID is the SESSION column of \`gatehouse admin sessions\`. The reason is
journaled with the operator.
`,
    options: { session: { type: 'string' }, reason: { type: 'string' } },
    build: (values) => {
      const id = required(values, 'session', 'the session ID (see `gatehouse admin sessions`)')
      if (!/^\d+$/.test(id)) throw new UsageError(`--session ${id}: must be a session ID, a whole number`)
      return { command: 'sessions.disconnect', args: { sessionId: Number(id), reason: str(values, 'reason') ?? 'disconnected by ops' } }
    },
    show: showChanges,
  },
  'apps list': {
    summary: 'registered AppIDs, their status, evidence and bound accounts',
    help: 'usage: gatehouse admin apps list\n',
    build: () => ({ command: 'apps.list', args: {} }),
    show: showApps,
  },
  'apps register': {
    summary: 'register a new AppID (the AuthCode is read from stdin or a file, never the command line)',
    help: `usage: gatehouse admin apps register --app-id X --vendor V --name N --version VER
                                   [--status testing|suspended|revoked] [--auth-code-file FILE]

Registers client software. The AuthCode is read from --auth-code-file, or
from standard input (one line) when that is absent or "-": a command line
shows in ps and shell history. A new AppID starts in testing (the default):
production needs a passing certification first (apps certify-record).
`,
    options: { 'app-id': { type: 'string' }, vendor: { type: 'string' }, name: { type: 'string' }, version: { type: 'string' }, status: { type: 'string' }, 'auth-code-file': { type: 'string' } },
    build: async (values) => ({
      command: 'apps.register',
      args: {
        appId: required(values, 'app-id', 'the AppID'),
        vendor: required(values, 'vendor', 'the vendor'),
        name: required(values, 'name', 'the software\'s name'),
        version: required(values, 'version', 'the software\'s version'),
        status: str(values, 'status') ?? 'testing',
        authCode: await readAuthCode(values),
      },
    }),
    show: showChanges,
  },
  'apps evidence': {
    summary: 'store an assessment document (add), list stored ones (list), or record a named document (legacy)',
    help: `usage: gatehouse admin apps evidence add --app-id X --file FILE --kind KIND --issuer NAME
                                       --issued YYYY-MM-DD --expires YYYY-MM-DD|YYYY-MM-DDTHH:MM:SSZ|none
       gatehouse admin apps evidence list [--app-id X] [--expiring]
       gatehouse admin apps evidence --app-id X --document NAME --expires YYYY-MM-DD   (legacy)

add     stores FILE in the evidence store (<runDir>/evidence/<sha256>, owner-only)
        and journals its metadata. The gateway reads FILE (give a path its user
        can read); at most evidence.maxFileBytes (GH_ERR_EVIDENCE_TOO_LARGE).
        Adding the same bytes again for the AppID changes nothing.
        KIND: ${EVIDENCE_KINDS.join(', ')}.
list    stored documents with their days to expiry; --expiring shows only those
        expired or expiring within evidence.expiryWarningDays.
legacy  records a document by name only (no file). Any expired document, stored
        or named, makes the AppID act as suspended, and the gateway suspends it.

Access testing is no longer typed in: run \`gatehouse certify\`, then
\`apps certify-record\` (docs/certification.md).
`,
    options: {
      'app-id': { type: 'string' }, document: { type: 'string' }, expires: { type: 'string' }, 'access-test-passed': { type: 'string' },
      file: { type: 'string' }, kind: { type: 'string' }, issuer: { type: 'string' }, issued: { type: 'string' }, expiring: { type: 'boolean' },
    },
    positionals: true,
    build: (values, positionals) => {
      const sub = positionals.length === 0 ? undefined : onePositional(positionals, 'add or list')
      if (sub === 'add') {
        const expires = required(values, 'expires', 'the expiry (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ, or none)')
        return {
          command: 'apps.evidence.add',
          args: {
            appId: required(values, 'app-id', 'the AppID'),
            // The gateway reads it, from its own working directory.
            path: resolve(required(values, 'file', 'the document to store')),
            kind: required(values, 'kind', `the document's kind (${EVIDENCE_KINDS.join(', ')})`),
            issuer: required(values, 'issuer', 'who issued the document'),
            issued: required(values, 'issued', 'the date it was issued'),
            expires: expires === 'none' ? null : expires,
          },
        }
      }
      if (sub === 'list') {
        const args: Record<string, unknown> = {}
        if (str(values, 'app-id') !== undefined) args.appId = str(values, 'app-id')
        if (values.expiring === true) args.expiring = true
        return { command: 'apps.evidence.list', args }
      }
      if (sub !== undefined) throw new UsageError(`apps evidence ${sub}: expected add or list`)
      const args: Record<string, unknown> = { appId: required(values, 'app-id', 'the AppID') }
      const document = str(values, 'document')
      const expires = str(values, 'expires')
      if ((document === undefined) !== (expires === undefined)) throw new UsageError('--document and --expires go together')
      if (document !== undefined) args.document = { name: document, expires }
      if (str(values, 'access-test-passed') !== undefined) args.accessTestPassed = str(values, 'access-test-passed')
      return { command: 'apps.evidence', args }
    },
    show: (result, io) => { if (Array.isArray(result)) showEvidence(result, io); else showChanges(result, io) },
  },
  'apps certify-record': {
    summary: 'record a gatehouse certify report: stored as evidence, journaled; a pass allows production',
    help: `usage: gatehouse admin apps certify-record --app-id X --report REPORT.json [--html REPORT.html]

Reads the JSON report \`gatehouse certify\` wrote (and its HTML, if given),
stores both in the evidence store (kind certification) and journals a
certification record. A report whose every step passed is what
\`apps status production\` needs (docs/certification.md).
`,
    options: { 'app-id': { type: 'string' }, report: { type: 'string' }, html: { type: 'string' } },
    build: (values) => {
      const args: Record<string, unknown> = { appId: required(values, 'app-id', 'the AppID'), report: resolve(required(values, 'report', 'the JSON report of gatehouse certify')) }
      if (str(values, 'html') !== undefined) args.html = resolve(str(values, 'html')!)
      return { command: 'apps.certify-record', args }
    },
    show: showChanges,
  },
  'apps status': {
    summary: 'set an AppID\'s status: testing, production, suspended or revoked',
    help: `usage: gatehouse admin apps status --app-id X testing|production|suspended|revoked

suspended and revoked AppIDs cannot log on from the next Authenticate on;
sessions already logged on stay (disconnect them if they must go).
`,
    options: { 'app-id': { type: 'string' } },
    positionals: true,
    build: (values, positionals) => ({ command: 'apps.status', args: { appId: required(values, 'app-id', 'the AppID'), status: onePositional(positionals, 'status') } }),
    show: showChangeOrPending,
  },
  'apps bind': {
    summary: 'let an account log on with an AppID',
    help: 'usage: gatehouse admin apps bind --app-id X --account A\n',
    options: { 'app-id': { type: 'string' }, account: { type: 'string' } },
    build: (values) => ({ command: 'apps.bind', args: { appId: required(values, 'app-id', 'the AppID'), account: required(values, 'account', 'the account') } }),
    show: showChanges,
  },
  'apps unbind': {
    summary: 'stop an account logging on with an AppID',
    help: 'usage: gatehouse admin apps unbind --app-id X --account A\n\nAn account must stay bound to at least one AppID.\n',
    options: { 'app-id': { type: 'string' }, account: { type: 'string' } },
    build: (values) => ({ command: 'apps.unbind', args: { appId: required(values, 'app-id', 'the AppID'), account: required(values, 'account', 'the account') } }),
    show: showChanges,
  },
  'fingerprints list': {
    summary: 'terminal fingerprints seen for an account, and their status',
    help: 'usage: gatehouse admin fingerprints list --account A\n',
    options: { account: { type: 'string' } },
    build: (values) => ({ command: 'fingerprints.list', args: { account: required(values, 'account', 'the account') } }),
    show: showFingerprints,
  },
  'alerts list': {
    summary: 'the newest logon alerts: new, held or abnormal terminals, churn, lockouts, a full lock store, shedding',
    help: 'usage: gatehouse admin alerts list [--limit N]\n\nNewest last; the gateway keeps the last 1000 (default 50 shown).\n',
    options: { limit: { type: 'string' } },
    build: (values) => ({ command: 'alerts.list', args: values.limit === undefined ? {} : { limit: Number(values.limit) } }),
    show: showAlerts,
  },
  'fingerprints approve': {
    summary: 'approve a held fingerprint for an account',
    help: 'usage: gatehouse admin fingerprints approve --account A --fingerprint ID\n',
    options: { account: { type: 'string' }, fingerprint: { type: 'string' } },
    build: (values) => ({ command: 'fingerprints.approve', args: { account: required(values, 'account', 'the account'), fingerprintId: required(values, 'fingerprint', 'the fingerprint ID (fingerprints list)') } }),
    show: showChangeOrPending,
  },
  'fingerprints reject': {
    summary: 'reject a fingerprint for an account',
    help: 'usage: gatehouse admin fingerprints reject --account A --fingerprint ID\n',
    options: { account: { type: 'string' }, fingerprint: { type: 'string' } },
    build: (values) => ({ command: 'fingerprints.reject', args: { account: required(values, 'account', 'the account'), fingerprintId: required(values, 'fingerprint', 'the fingerprint ID (fingerprints list)') } }),
    show: showChanges,
  },
  'pending list': {
    summary: 'dual-control requests waiting for a second operator',
    help: 'usage: gatehouse admin pending list\n\nRequests past their window are dropped (and journaled as expired).\n',
    build: () => ({ command: 'pending.list', args: {} }),
    show: showPending,
  },
  approve: {
    summary: 'approve a dual-control request made by another operator: the change takes effect',
    help: `usage: gatehouse admin approve REQUEST-ID

The operator approving must not be the one who asked (GH_ERR_ADMIN_SELF_APPROVAL),
and the request must still be in its window (GH_ERR_ADMIN_REQUEST_EXPIRED).
`,
    positionals: true,
    build: (_values, positionals) => ({ command: 'pending.approve', args: { requestId: onePositional(positionals, 'request ID') } }),
    show: showChanges,
  },
  reject: {
    summary: 'reject a dual-control request (the requester may withdraw their own)',
    help: 'usage: gatehouse admin reject REQUEST-ID\n',
    positionals: true,
    build: (_values, positionals) => ({ command: 'pending.reject', args: { requestId: onePositional(positionals, 'request ID') } }),
    show: showChanges,
  },
  'accounts diligence show': {
    summary: 'an account\'s due diligence: access model, AppIDs, terminals, programmatic report and its clocks',
    help: 'usage: gatehouse admin accounts diligence show [--account A]\n\nEvery account when --account is not given.\n',
    options: { account: { type: 'string' } },
    build: (values) => ({ command: 'diligence.show', args: str(values, 'account') === undefined ? {} : { account: str(values, 'account') } }),
    show: showDiligence,
  },
  'accounts diligence set': {
    summary: 'record the programmatic report\'s contents: execution method, and the software\'s name, functions and developer',
    help: `usage: gatehouse admin accounts diligence set --account A [--execution-method TEXT]
                 [--software-file FILE]

FILE is JSON: [{"name": "...", "functions": "...", "developer": "..."}, ...]
`,
    options: { account: { type: 'string' }, 'execution-method': { type: 'string' }, 'software-file': { type: 'string' } },
    build: (values) => {
      const args: Record<string, unknown> = { account: required(values, 'account', 'the account') }
      if (str(values, 'execution-method') !== undefined) args.executionMethod = str(values, 'execution-method')
      const file = str(values, 'software-file')
      if (file !== undefined) {
        try {
          args.software = JSON.parse(readBoundedFile(file, MAX_JSON_FILE_BYTES, 'software file').toString('utf8'))
        } catch (err) {
          throw new UsageError(`--software-file: ${(err as Error).message}`)
        }
      }
      return { command: 'diligence.set', args }
    },
    show: showChanges,
  },
  ...reportStepCommands(),
  'accounts move': {
    summary: 'move an account to another instance of the cluster: halt, drain, hand over its state, re-home, resume',
    help: `usage: gatehouse admin accounts move ACCOUNT --to INSTANCE [--drain-timeout-ms MS]

Run on the instance that holds ACCOUNT; needs cluster.directory.source
nats-kv (with source config, edit cluster.directory.accounts on every
instance instead). Steps, each journaled and printed with its time:
halt (trading state halted), drain (its working orders cancelled; waits up
to --drain-timeout-ms, default 10000), handover (positions and daily
counters installed on INSTANCE), re-home (the directory names INSTANCE),
disconnect (its sessions here closed: they reconnect and are redirected),
resume (INSTANCE sets the trading state back). A move that stops before
re-home leaves the account halted here and still homed here.
`,
    options: { to: { type: 'string' }, 'drain-timeout-ms': { type: 'string' } },
    positionals: true,
    build: (values, positionals) => {
      const drain = str(values, 'drain-timeout-ms')
      const drainTimeoutMs = drain === undefined ? undefined : Number(drain)
      if (drainTimeoutMs !== undefined && !Number.isSafeInteger(drainTimeoutMs)) throw new UsageError('--drain-timeout-ms: must be a whole number of milliseconds')
      return { command: 'accounts.move', args: { account: onePositional(positionals, 'the account to move'), to: required(values, 'to', 'the instance to move it to'), ...(drainTimeoutMs === undefined ? {} : { drainTimeoutMs }) } }
    },
    show: showMoveSteps,
  },
  'accounts clocks': {
    summary: 'filing clocks: 5 trading days to file a report, 30 to report a material change',
    help: 'usage: gatehouse admin accounts clocks [--alerts]\n\n--alerts: only clocks due within compliance.clockAlertDaysAhead or past due.\n',
    options: { alerts: { type: 'boolean' } },
    build: (values) => ({ command: 'clocks.list', args: values.alerts === true ? { alertsOnly: true } : {} }),
    show: showClocks,
  },
  reload: {
    summary: 'validate a config file and apply its limits, states, AppIDs and accounts',
    help: `usage: gatehouse admin reload --config FILE

The gateway reads FILE (give a path it can read; it is made absolute here),
validates all of it, and applies limits, trading states, programmatic-report
statuses, the AppID registry and the accounts at once, or nothing if
anything is wrong. Listeners, the exchange, the journal and capacity need a
restart: the reply lists those that differ. FILE also locates the socket
unless --socket is given.
`,
    build: (values) => ({ command: 'config.reload', args: { path: resolve(required(values, 'config', 'the config file to reload')) } }),
    show: showChanges,
  },
}

/** `accounts report receive|file|confirm|change|change-reported`: one step of a programmatic report each. */
function reportStepCommands (): Record<string, CommandSpec> {
  const steps = {
    receive: 'the client\'s report was received (starts the 5-trading-day filing clock)',
    file: 'the report was filed with the exchange (status filed)',
    confirm: 'the exchange confirmed the report (status confirmed: programmatic trading may start)',
    change: 'the client made a material change (starts the 30-trading-day clock)',
    'change-reported': 'the material change was reported',
  } as const
  return Object.fromEntries(Object.entries(steps).map(([step, summary]) => [`accounts report ${step}`, {
    summary,
    help: `usage: gatehouse admin accounts report ${step} --account A [--date YYYY-MM-DD]\n\nThe date defaults to today (UTC).\n`,
    options: { account: { type: 'string' }, date: { type: 'string' } },
    build: (values: Values) => ({
      command: 'report.step' as const,
      args: { account: required(values, 'account', 'the account'), step, ...(str(values, 'date') === undefined ? {} : { date: str(values, 'date') }) },
    }),
    show: showChanges,
  } satisfies CommandSpec]))
}

/** Command groups whose second word picks the command. */
const GROUPS = new Set(Object.keys(commands).filter((words) => words.includes(' ')).flatMap((words) => {
  const parts = words.split(' ')
  return parts.length > 2 ? [parts[0]!, parts.slice(0, 2).join(' ')] : [parts[0]!]
}))

function usage (): string {
  const width = Math.max(...Object.keys(commands).map((words) => words.length))
  const lines = Object.entries(commands).map(([words, spec]) => `  ${words.padEnd(width)}  ${spec.summary}`)
  return `usage: gatehouse admin <command> [options]

Tunes a running gateway over its admin socket (owner-only: run as the
gateway's user). Every change is journaled with the operator and its
before and after values, and the reply says what changed.

commands:
${lines.join('\n')}

Run \`gatehouse admin <command> --help\` for each one's options.

${GLOBAL_HELP}`
}

function groupUsage (group: string): string {
  const entries = Object.entries(commands).filter(([words]) => words.startsWith(`${group} `))
  const width = Math.max(...entries.map(([words]) => words.length))
  return `usage: gatehouse admin ${group} <${entries.map(([words]) => words.split(' ')[1]).join('|')}> [options]\n\n` +
    entries.map(([words, spec]) => `  ${words.padEnd(width)}  ${spec.summary}`).join('\n') + '\n'
}

// ---- socket -----------------------------------------------------------------------

/**
 * The socket to use: --socket, else the one --config's file names (only
 * the admin and runDir fields are read, so `reload` of a file the gateway
 * will refuse still finds the socket), else the embedded defaults'.
 */
function socketPathOf (values: Values, command: AdminCommandName): string {
  const explicit = str(values, 'socket')
  if (explicit !== undefined) return explicit
  const file = str(values, 'config')
  let overrides: unknown = {}
  if (file !== undefined) {
    try {
      overrides = JSON.parse(readBoundedFile(file, MAX_JSON_FILE_BYTES, 'config file').toString('utf8'))
    } catch (err) {
      // The gateway says what is wrong with a file it is asked to reload.
      if (command !== 'config.reload') throw new UsageError(`cannot read --config ${file} to find the admin socket: ${(err as Error).message}; or give --socket PATH`)
    }
  }
  const merged = mergeConfig(structuredClone(DEFAULT_CONFIG), overrides) as { runDir?: unknown, admin?: { socketPath?: unknown } }
  const configured = merged.admin?.socketPath
  if (typeof configured === 'string') return configured
  return join(typeof merged.runDir === 'string' ? merged.runDir : DEFAULT_CONFIG.runDir, 'admin.sock')
}

type Exchange =
  | { kind: 'reply', reply: AdminReply }
  | { kind: 'unreachable', message: string }

/** Why a connect failed, in the words an operator needs. */
function unreachable (path: string, err: NodeJS.ErrnoException): string {
  const cause = err.code === 'ENOENT'
    ? 'there is no socket file there'
    : err.code === 'EACCES' || err.code === 'EPERM'
      ? 'permission denied: the socket is owner-only (0600); run as the gateway\'s user'
      : err.code === 'ECONNREFUSED'
        ? 'nobody is listening on it (a socket file left by a gateway that stopped?)'
        : err.message
  return `cannot reach the admin socket at ${path}: ${cause}. The gateway may not be running (or admin.enabled is false, or it uses another path: --socket, --config), or you lack permission to open it.`
}

/** Sends one request line, reads one reply line. */
function exchange (path: string, line: string): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = createConnection(path)
    let connected = false
    let buffered = ''
    let settled = false
    const settle = (result: Exchange): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      resolve(result)
    }
    const timer = setTimeout(() => {
      settle({ kind: 'unreachable', message: `no reply from the admin socket at ${path} within ${REPLY_TIMEOUT_MS / 1000} s; the request may still have been applied (check with a show command)` })
    }, REPLY_TIMEOUT_MS)
    socket.setEncoding('utf8')
    socket.on('connect', () => {
      connected = true
      socket.write(line)
    })
    socket.on('data', (chunk: string) => {
      buffered += chunk
      const nl = buffered.indexOf('\n')
      if (nl === -1) return
      let reply: unknown
      try {
        reply = JSON.parse(buffered.slice(0, nl))
      } catch {
        settle({ kind: 'unreachable', message: `the admin socket at ${path} answered something that is not a reply (is it a Gatehouse admin socket?)` })
        return
      }
      const parsed = AdminReplySchema.safeParse(reply)
      settle(parsed.success
        ? { kind: 'reply', reply: parsed.data as AdminReply }
        : { kind: 'unreachable', message: `the admin socket at ${path} answered something that is not a reply (is it a Gatehouse admin socket?)` })
    })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      settle({ kind: 'unreachable', message: connected ? `the admin socket at ${path} failed: ${err.message}` : unreachable(path, err) })
    })
    socket.on('close', () => {
      settle({ kind: 'unreachable', message: `the gateway closed the admin socket at ${path} without replying (is it stopping?)` })
    })
  })
}

// ---- entry point --------------------------------------------------------------------

/** The OS account this process runs as; null when the system cannot say (no passwd entry for the uid). */
function osUserName (): string | null {
  try {
    const name = userInfo().username
    return name === '' ? null : name
  } catch {
    return null
  }
}

/**
 * Who a change is journaled under: --operator, else $GATEHOUSE_OPERATOR,
 * else the OS account (from the uid, so it works where $USER is unset:
 * systemd units, cron, containers). Reads name nobody.
 */
function changeOperator (values: Values): string {
  const given = str(values, 'operator') ?? nonEmpty(process.env.GATEHOUSE_OPERATOR)
  if (given !== undefined) return given
  const os = osUserName()
  if (os === null) throw new UsageError('name the operator: --operator NAME, or set GATEHOUSE_OPERATOR (this process\'s user has no name in the system\'s user database)')
  return os
}

function nonEmpty (value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value
}

const VALUE_OPTIONS = new Set(['--socket', '--config', '--operator'])

/**
 * Splits `[common options] <command> [<sub>] [options]`: common options
 * may come before the command words too.
 */
function splitCommand (argv: string[]): { words: string[], rest: string[] } {
  const leading: string[] = []
  let i = 0
  while (i < argv.length && argv[i]!.startsWith('-') && argv[i] !== '-h' && argv[i] !== '--help') {
    leading.push(argv[i]!)
    if (VALUE_OPTIONS.has(argv[i]!) && i + 1 < argv.length) leading.push(argv[++i]!)
    i++
  }
  const words: string[] = []
  if (i < argv.length && !argv[i]!.startsWith('-')) {
    words.push(argv[i++]!)
    if (GROUPS.has(words[0]!) && i < argv.length && !argv[i]!.startsWith('-')) words.push(argv[i++]!)
    // Three-word commands (accounts diligence show): a second-level group.
    if (words.length === 2 && GROUPS.has(words.join(' ')) && i < argv.length && !argv[i]!.startsWith('-')) words.push(argv[i++]!)
  }
  return { words, rest: [...leading, ...argv.slice(i)] }
}

export async function runAdminCommand (argv: string[], io: CommandIo = processIo): Promise<number> {
  const { words, rest } = splitCommand(argv)
  const wantsHelp = rest.includes('--help') || rest.includes('-h')
  if (words.length === 0) {
    if (wantsHelp) {
      io.out(usage())
      return EXIT_OK
    }
    return refuseUsage(io, COMMAND, 'name a command', usage())
  }
  const key = words.join(' ')
  const spec = commands[key]
  if (spec === undefined) {
    if (GROUPS.has(words[0]!)) {
      if (words.length === 1 && wantsHelp) {
        io.out(groupUsage(words[0]!))
        return EXIT_OK
      }
      return refuseUsage(io, COMMAND, words.length === 1 ? `${words[0]!} needs a subcommand` : `unknown command "${key}"`, groupUsage(words[0]!))
    }
    return refuseUsage(io, COMMAND, `unknown command "${key}"`, usage())
  }
  const help = `${spec.help}\n${GLOBAL_HELP}`
  let values: Values
  let positionals: string[]
  try {
    ({ values, positionals } = parseArgs({ args: rest, options: { ...GLOBAL_OPTIONS, ...spec.options }, allowPositionals: spec.positionals === true, strict: true }))
  } catch (err) {
    if (!isUsageError(err)) throw err
    return refuseUsage(io, `${COMMAND} ${key}`, err.message, help)
  }
  if (values.help === true) {
    io.out(help)
    return EXIT_OK
  }
  let request: { id: number, operator?: string, command: AdminCommandName, args: Record<string, unknown> }
  let path: string
  try {
    const built = await spec.build(values, positionals)
    const operator = isReadOnlyCommand(built.command) ? str(values, 'operator') : changeOperator(values)
    request = operator === undefined ? { id: 1, ...built } : { id: 1, operator, ...built }
    path = socketPathOf(values, built.command)
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    return refuseUsage(io, `${COMMAND} ${key}`, err.message, helpHint(`${COMMAND} ${key}`, 'its options'))
  }
  // The gateway's own validation, before the round trip: a typo is a
  // command-line mistake, answered with the same messages.
  const checked = parseRequestObject(request)
  if (!checked.ok) {
    io.err(`gatehouse admin ${key}: ${checked.error.message}\n${issueLines(checked.error)}`)
    return EXIT_USAGE
  }
  const json = values.json === true
  const answer = await exchange(path, JSON.stringify(request) + '\n')
  if (answer.kind === 'unreachable') {
    return failCommand(io, COMMAND, answer.message, EXIT_UNREACHABLE)
  }
  const { reply } = answer
  if (!reply.ok) {
    io.err(json ? JSON.stringify(reply.error) + '\n' : describeError(reply.error))
    return EXIT_REFUSED
  }
  if (json) io.out(JSON.stringify(reply.result) + '\n')
  else spec.show(reply.result, io)
  return EXIT_OK
}

/** Every issue, when the message shows only the first. */
function issueLines (error: AdminErrorBody): string {
  const issues = error.issues ?? []
  return issues.length < 2 ? '' : issues.map((issue) => `  - ${issue}\n`).join('')
}

function describeError (error: AdminErrorBody): string {
  return `gatehouse admin: ${error.code}: ${error.message}\n${issueLines(error)}`
}
