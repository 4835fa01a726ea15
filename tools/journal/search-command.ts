// `gatehouse journal search DIR [filters]`: finds records in the retention
// journal and prints them decoded, one per line (or JSONL).
//
// Exit codes: 0 records matched, 1 none did (or the journal is damaged,
// or the reveal could not be journaled), 2 the command line is wrong.
//
// Terminal info is masked unless --reveal, which needs --operator and is
// itself journaled (a REVEAL record in the 'tools' stream) before anything
// is shown. The filter and time parsing here is shared with export.
import { REPLICA_HELP } from './replica-help.js'
import { existsSync, statSync } from 'node:fs'
import { JournalError, journalErrorCodes } from '../../journal/errors.js'
import { TOOLS_STREAM } from '../../journal/gateway-records.js'
import { readJournal, readStream, type ReadRecord } from '../../journal/reader.js'
import { decodeJournalRecord, reasonCodeOf, summarizeRecord, type DecodedRecord } from '../../journal/record-decoder.js'
import {
  DAY_PATTERN, Direction, HEADER_TRADING_DAY, LANE_CODES, LANE_NONE, RecordKind, US_PER_DAY, decodeSegmentHeader, isMetaKind, laneName,
  newRecordHead, recordKindName,
} from '../../journal/record-format.js'
import { DEFAULT_JOURNAL_ROOT, SEGMENT_SUFFIX, listSegments, listStreamDirs } from '../../journal/segment-names.js'
import { JournalStream } from '../../journal/segment-writer.js'
import { EXIT_FAILED, EXIT_OK, UsageError, helpHint, processIo, refuseUsage, type CommandIo } from '../../platform/cli-kit.js'
import { DEFAULT_TIME_ZONE, TZ_HELP, timeFormatter, type TimeFormatter } from './time-zone.js'

export const SEARCH_HELP = `usage: gatehouse journal search DIR [filters] [--json] [--limit N]
                                [--reveal --operator NAME [--reason-text TEXT]]

Finds records in the journal under DIR and prints each decoded, one per
line: time, stream/seq, kind, lane, direction, session, account, and a
short summary (prices are integer price units, as on the wire). Filters
are ANDed:

  --account A            trading account (the record's, or the one its message names)
  --session ID           gateway session ID
  --app-id X             AppID (authenticate, logon steps)
  --instrument SYM       instrument symbol
  --client-order-id N    the client's order ID
  --exec-id ID           an execution report's exec_id (e.g. 20261206-hft-acct1-17)
  --trade-id ID          a fill's trade ID, in the client's and the exchange's reports
  --link-order-id N      the gateway's order ID on the exchange link
  --reason R             reject reason, a code (223) or a name (INSUFFICIENT_FUNDS)
  --trading-day YYYYMMDD the exchange's trading day: from the first to the last
                         record the lanes journaled under it (a night session
                         belongs to the next trading day, as on the exchange)
  --day YYYYMMDD         one UTC day (00:00Z to 00:00Z)
  --from T, --to T       a time range, --to exclusive; T is an ISO time with a
                         zone (2026-11-20T09:30:00Z, up to µs) or a day YYYYMMDD
                         (its UTC midnight)
  --kind K               ${searchKindNames().join(', ')}
  --lane L               terminal, platform, hft, none (the supervisor's records)

Output:
  --json                 one JSON object per line (the decoded record)
  --limit N              stop after N matches
${TZ_HELP}

Terminal info (the TerminalInfo message, a logon step's terminal fields) is
shown as '***' unless:
  --reveal               show it; needs --operator. Before printing anything,
                         search appends a REVEAL record (operator, reason,
                         filters, how many records it revealed) to the
                         '${TOOLS_STREAM}' stream under DIR: the reveal is evidence itself
  --operator NAME        who is revealing
  --reason-text TEXT     why (a case or request number)
Passwords and authentication proofs are never shown, even with --reveal.

Exit codes: 0 records matched (the count goes to stderr), 1 none matched or
the journal is damaged (run \`gatehouse journal verify DIR\`), 2 bad usage.

  -h, --help             show this help

${REPLICA_HELP}`

/**
 * Record kinds a user can search for: every kind but the journal's own
 * framing, and but order-entry, which the reader yields as the client-in,
 * check-decision and link-out it holds (journal/gateway-records.ts).
 */
function searchKindNames (): string[] {
  return Object.values(RecordKind).filter((k) => !isMetaKind(k) && k !== RecordKind.ORDER_ENTRY).map(recordKindName)
}

// ---- filters ------------------------------------------------------------------

/** What a record must match; every field set is ANDed. Times in µs since the epoch, `toUs` exclusive. */
export interface RecordFilter {
  account?: string
  sessionId?: number
  appId?: string
  instrument?: string
  clientOrderId?: number
  linkOrderId?: number
  /** An execution report's exec_id. */
  execId?: string
  /** A fill's trade ID, in client and link reports. */
  tradeId?: string
  reason?: number
  fromUs?: number
  toUs?: number
  kind?: number
  lane?: number
}

/** The part of the filter the record's head answers, checked before decoding. */
export function matchesHead (r: ReadRecord, f: RecordFilter): boolean {
  return (f.fromUs === undefined || r.timeUs >= f.fromUs) &&
    (f.toUs === undefined || r.timeUs < f.toUs) &&
    (f.kind === undefined || r.kind === f.kind) &&
    (f.lane === undefined || r.lane === f.lane) &&
    (f.sessionId === undefined || r.sessionId === f.sessionId)
}

/**
 * The exchange's reports, and the gateway's cancels to it, name only the
 * gateway's link order ID, not the account. This remembers the account
 * from the order the lane sent (a link-out newOrder; order IDs are unique
 * per lane stream) and fills it in, so that "everything of account A"
 * holds the exchange's acknowledgements and fills, not only what A's
 * client saw. (The instrument stays as the record names it: --instrument
 * finds the orders, and --link-order-id their reports.) Every record must
 * be shown to it, in order, before any filter: an order sent before the
 * range is answered inside it.
 */
export class LinkOrderAttribution {
  private readonly accounts = new Map<string, string>()

  /** Whether the record must be decoded for this even when the filters refuse it. */
  static wants (r: ReadRecord): boolean {
    return r.kind === RecordKind.LINK_OUT
  }

  /** Learns from an order sent; fills in the account of a link record that names only the order ID. */
  apply (d: DecodedRecord): void {
    if (d.linkOrderId === 0 || (d.kind !== 'link-out' && d.kind !== 'link-in')) return
    const key = `${d.stream}/${d.linkOrderId}`
    if (d.messageType === 'newOrder') this.accounts.set(key, d.account)
    else if (d.account === '') d.account = this.accounts.get(key) ?? ''
  }
}

export function matchesDecoded (d: DecodedRecord, f: RecordFilter): boolean {
  return (f.account === undefined || d.account === f.account) &&
    (f.appId === undefined || d.appId === f.appId) &&
    (f.instrument === undefined || d.instrument === f.instrument) &&
    (f.clientOrderId === undefined || d.clientOrderId === f.clientOrderId) &&
    (f.linkOrderId === undefined || d.linkOrderId === f.linkOrderId) &&
    (f.reason === undefined || d.reason === f.reason) &&
    (f.execId === undefined || d.execId === f.execId) &&
    (f.tradeId === undefined || d.tradeId === f.tradeId)
}

/** µs of a day's UTC midnight. */
function dayStartUs (day: string): number | null {
  const ms = Date.UTC(Number(day.slice(0, 4)), Number(day.slice(4, 6)) - 1, Number(day.slice(6, 8)))
  const check = new Date(ms)
  // Date.UTC rolls 20261131 over to December 1st; a day that does not round-trip is not a day.
  if (check.getUTCDate() !== Number(day.slice(6, 8)) || check.getUTCMonth() + 1 !== Number(day.slice(4, 6))) return null
  return ms * 1000
}

const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:\d{2}))?$/

/**
 * µs since the epoch of 'YYYYMMDD' (UTC midnight), 'YYYY-MM-DD' (UTC
 * midnight) or an ISO time with a zone, to the microsecond. A time with no
 * zone is refused: whose local time it meant cannot be known afterwards.
 */
export function parseTimeUs (option: string, text: string): number {
  const expected = `${option}: expected an ISO time with a zone (2026-11-20T09:30:00Z, 2026-11-20T17:30:00.000123+08:00) or a day YYYYMMDD; got '${text}'`
  if (DAY_PATTERN.test(text)) {
    const us = dayStartUs(text)
    if (us === null) throw new UsageError(expected)
    return us
  }
  const m = ISO_TIME.exec(text)
  if (m === null) throw new UsageError(expected)
  const day = dayStartUs(`${m[1]}${m[2]}${m[3]}`)
  if (day === null) throw new UsageError(expected)
  if (m[4] === undefined) return day
  const [hh, mm, ss] = [Number(m[4]), Number(m[5]), Number(m[6] ?? '0')]
  if (hh > 23 || mm > 59 || ss > 59) throw new UsageError(expected)
  const fractionUs = Number((m[7] ?? '').padEnd(6, '0'))
  const zone = m[8]!
  const offsetMin = zone === 'Z' ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)))
  return day + ((hh * 60 + mm - offsetMin) * 60 + ss) * 1_000_000 + fractionUs
}

function positiveInteger (option: string, text: string, what: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || !Number.isSafeInteger(Number(text))) {
    throw new UsageError(`${option}: expected ${what}, a whole number from 1; got '${text}'`)
  }
  return Number(text)
}

/** Lane names for --lane: the config's lanes, and 'none' for the supervisor's records. */
export function laneCodeOf (option: string, text: string): number {
  if (text === laneName(LANE_NONE)) return LANE_NONE
  const code = (LANE_CODES as Readonly<Record<string, number>>)[text]
  if (code === undefined) throw new UsageError(`${option}: expected one of ${[...Object.keys(LANE_CODES), 'none'].join(', ')}; got '${text}'`)
  return code
}

export interface ParsedArgs {
  dir: string
  /** Each value option given, by name without the dashes; given once at most. */
  values: Map<string, string>
  flags: Set<string>
}

/**
 * Parses argv strictly: unknown options, repeated options and a missing
 * DIR are usage errors. `--opt=value` works as well as `--opt value`; a
 * value that starts with '--' must use the '=' form, so a forgotten value
 * is reported rather than swallowing the next option.
 */
export function parseToolArgs (argv: string[], valueNames: readonly string[], flagNames: readonly string[]): ParsedArgs {
  const values = new Map<string, string>()
  const flags = new Set<string>()
  const positionals: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1))
      break
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg)
      continue
    }
    const eq = arg.indexOf('=')
    const name = arg.startsWith('--') ? arg.slice(2, eq < 0 ? undefined : eq) : ''
    if (flagNames.includes(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`)
      flags.add(name)
      continue
    }
    if (!valueNames.includes(name)) throw new UsageError(`unknown option ${eq < 0 ? arg : arg.slice(0, eq)}`)
    let value: string
    if (eq >= 0) {
      value = arg.slice(eq + 1)
    } else {
      const next = argv[i + 1]
      if (next === undefined || next.startsWith('--')) throw new UsageError(`--${name} needs a value`)
      value = next
      i++
    }
    if (values.has(name)) throw new UsageError(`--${name} given twice; give it once`)
    values.set(name, value)
  }
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length === 0 ? 'give the journal directory DIR' : `give exactly one DIR; got ${positionals.join(' ')}`)
  }
  const dir = positionals[0]!
  requireJournalDir(dir)
  return { dir, values, flags }
}

/**
 * Throws UsageError unless dir is a directory holding journal segments
 * (a journal root, or one stream's directory). Without this, the runDir
 * (`var` instead of `var/journal`), a typo'd path or an empty directory
 * read as a journal with no records: search and export answered "0
 * records" and verify "journal OK", as if something had been checked.
 * Returns the segment count.
 */
export function requireJournalDir (dir: string): number {
  if (!existsSync(dir)) throw new UsageError(`no such directory: ${dir}`)
  if (!statSync(dir).isDirectory()) throw new UsageError(`not a directory: ${dir}`)
  const segments = countJournalSegments(dir)
  if (segments === 0) throw new UsageError(noSegmentsText(dir))
  return segments
}

/** Segment files under a journal root or a stream's directory. */
export function countJournalSegments (dir: string): number {
  return listStreamDirs(dir).reduce((n, s) => n + listSegments(s.dir, s.stream).length, 0)
}

export function noSegmentsText (dir: string): string {
  return `${dir} holds no journal segments (<stream>/<stream>-<day>-<nnnn>${SEGMENT_SUFFIX}), so there is nothing to read; ` +
    `give the journal directory (the gateway's is <runDir>/journal, by default ${DEFAULT_JOURNAL_ROOT})`
}

/** Filter options shared by search and export. */
export const FILTER_OPTIONS = ['account', 'session', 'app-id', 'instrument', 'client-order-id', 'link-order-id', 'exec-id', 'trade-id', 'reason', 'day', 'trading-day', 'from', 'to', 'kind', 'lane'] as const

/** The options that set the time range; at most one way of giving it. */
const RANGE_OPTIONS = ['day', 'trading-day'] as const

/**
 * Where an exchange trading day lies in the journal under dir: from the
 * first to the last record the lanes wrote in segments labelled with it
 * (a lane labels its segments with the trading day its exchange logon
 * announced). A regulator asks for a trading day, and on Chinese futures
 * exchanges the night session belongs to the next one: UTC day D holds
 * the end of trading day D and the night session of D+1, so a UTC day is
 * the wrong unit for "what happened on day D". Every stream's records in
 * the span (the supervisor's logon steps and admin changes too) are the
 * day's. `days` lists the trading days the lanes' segments carry.
 */
export function tradingDaySpanUs (dir: string, day: string): { fromUs: number, toUs: number } | { days: string[] } {
  const days = new Set<string>()
  let fromUs = Infinity
  let lastUs = -Infinity
  for (const s of listStreamDirs(dir)) {
    if (!(s.stream in LANE_CODES)) continue
    let inDay = false
    for (const r of readStream(s.dir, s.stream, { includeMeta: true })) {
      if (r.kind === RecordKind.SEGMENT_HEADER) {
        const header = decodeSegmentHeader(r.payload)
        const labelled = header !== null && (header.flags & HEADER_TRADING_DAY) !== 0
        if (labelled) days.add(header.day)
        inDay = labelled && header.day === day
      } else if (inDay && !isMetaKind(r.kind)) {
        if (r.timeUs < fromUs) fromUs = r.timeUs
        if (r.timeUs > lastUs) lastUs = r.timeUs
      }
    }
  }
  return fromUs === Infinity ? { days: [...days].sort() } : { fromUs, toUs: lastUs + 1 }
}

/** Builds the filter from the options given; throws UsageError naming the option at fault. `dir` is read for --trading-day. */
export function filterFromArgs (values: ReadonlyMap<string, string>, dir: string): RecordFilter {
  const f: RecordFilter = {}
  const v = (name: string): string | undefined => values.get(name)
  const nonEmpty = (name: string): string | undefined => {
    const text = v(name)
    if (text === '') throw new UsageError(`--${name}: expected a value; got ''`)
    return text
  }
  f.account = nonEmpty('account')
  f.appId = nonEmpty('app-id')
  f.instrument = nonEmpty('instrument')
  const session = v('session')
  if (session !== undefined) f.sessionId = positiveInteger('--session', session, 'a session ID')
  const coid = v('client-order-id')
  if (coid !== undefined) f.clientOrderId = positiveInteger('--client-order-id', coid, 'a client order ID')
  const loid = v('link-order-id')
  if (loid !== undefined) f.linkOrderId = positiveInteger('--link-order-id', loid, 'a link order ID')
  f.execId = nonEmpty('exec-id')
  f.tradeId = nonEmpty('trade-id')
  const reason = v('reason')
  if (reason !== undefined) {
    const code = reasonCodeOf(reason)
    if (code === null || code === 0) throw new UsageError(`--reason: expected a reject reason code (223) or name (INSUFFICIENT_FUNDS); got '${reason}'`)
    f.reason = code
  }
  const ranges = RANGE_OPTIONS.filter((name) => v(name) !== undefined)
  if (ranges.length > 1) throw new UsageError(`--${ranges[0]}, --${ranges[1]}: give one of them`)
  for (const name of ranges) {
    if (v('from') !== undefined || v('to') !== undefined) throw new UsageError(`--${name}: give either --${name} or --from/--to, not both`)
  }
  const tradingDay = v('trading-day')
  if (tradingDay !== undefined) {
    if (!DAY_PATTERN.test(tradingDay) || dayStartUs(tradingDay) === null) throw new UsageError(`--trading-day: expected a day YYYYMMDD; got '${tradingDay}'`)
    const span = tradingDaySpanUs(dir, tradingDay)
    if ('days' in span) {
      throw new UsageError(`--trading-day: no lane journaled trading day ${tradingDay} under ${dir}; ` +
        (span.days.length === 0 ? 'no lane segment is labelled with a trading day (no exchange logon was journaled)' : `the lanes journaled ${span.days.join(', ')}`))
    }
    f.fromUs = span.fromUs
    f.toUs = span.toUs
  }
  const day = v('day')
  if (day !== undefined) {
    const start = DAY_PATTERN.test(day) ? dayStartUs(day) : null
    if (start === null) throw new UsageError(`--day: expected a day YYYYMMDD; got '${day}'`)
    f.fromUs = start
    f.toUs = start + US_PER_DAY
  }
  const from = v('from')
  if (from !== undefined) f.fromUs = parseTimeUs('--from', from)
  const to = v('to')
  if (to !== undefined) f.toUs = parseTimeUs('--to', to)
  if (f.fromUs !== undefined && f.toUs !== undefined && f.toUs <= f.fromUs) throw new UsageError('--to: must be after --from (--to is exclusive)')
  const kind = v('kind')
  if (kind !== undefined) {
    const names = searchKindNames()
    if (!names.includes(kind)) throw new UsageError(`--kind: expected one of ${names.join(', ')}; got '${kind}'`)
    f.kind = Object.values(RecordKind).find((k) => recordKindName(k) === kind)!
  }
  const lane = v('lane')
  if (lane !== undefined) f.lane = laneCodeOf('--lane', lane)
  for (const key of Object.keys(f) as Array<keyof RecordFilter>) if (f[key] === undefined) delete f[key]
  return f
}

/**
 * Every record under dir that matches, decoded, in time order; at most
 * `limit`. Throws JournalError(CORRUPT) where the journal is damaged.
 */
export function * searchJournal (dir: string, filter: RecordFilter, options: { reveal: boolean, limit?: number }): Generator<DecodedRecord> {
  let n = 0
  if (options.limit !== undefined && options.limit <= 0) return
  const attribution = new LinkOrderAttribution()
  for (const record of readJournal(dir)) {
    const head = matchesHead(record, filter)
    if (!head && !LinkOrderAttribution.wants(record)) continue
    const decoded = decodeJournalRecord(record, { reveal: options.reveal })
    attribution.apply(decoded)
    if (!head || !matchesDecoded(decoded, filter)) continue
    yield decoded
    if (options.limit !== undefined && ++n >= options.limit) return
  }
}

/** A journal that does not read: the message, and where to look further. Exit 1. */
export function journalProblemText (dir: string, err: unknown): string {
  if (err instanceof JournalError && err.code === journalErrorCodes.CORRUPT) {
    return `the journal is damaged: ${err.message}\nrun \`gatehouse journal verify ${dir}\` for the full report\n`
  }
  return `cannot read the journal: ${err instanceof Error ? err.message : String(err)}\n`
}

/** One human line: time, stream/seq, kind, lane, direction, session, account, summary. */
export function formatRecordLine (r: DecodedRecord): string {
  const arrow = r.direction === 'in' ? '<-' : r.direction === 'out' ? '->' : '  '
  return `${r.time}  ${`${r.stream}/${r.seq}`.padEnd(16)} ${r.kind.padEnd(14)} ${r.lane.padEnd(8)} ${arrow} ` +
    `s=${String(r.sessionId).padEnd(6)} ${(r.account || '-').padEnd(10)} ${summarizeRecord(r)}`
}

/**
 * Journals a reveal before it is shown: one REVEAL record in the tools
 * stream, fsynced, sealed and closed. If this throws, nothing is shown.
 */
export function journalReveal (dir: string, doc: Record<string, unknown>): void {
  const stream = JournalStream.open({ stream: TOOLS_STREAM, root: dir, fsync: 'every-batch' })
  try {
    stream.appendJson(newRecordHead({ kind: RecordKind.REVEAL, lane: LANE_NONE, direction: Direction.NONE }), doc)
    stream.commit()
  } finally {
    stream.close()
  }
}

const SEARCH_VALUE_OPTIONS = [...FILTER_OPTIONS, 'limit', 'operator', 'reason-text', 'tz']
const SEARCH_FLAGS = ['json', 'reveal', 'help']

export async function runSearchCommand (argv: string[], io: CommandIo = processIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(SEARCH_HELP)
    return EXIT_OK
  }
  let args: ParsedArgs
  let filter: RecordFilter
  let limit: number | undefined
  let operator: string | undefined
  let reveal = false
  let times: TimeFormatter
  try {
    args = parseToolArgs(argv, SEARCH_VALUE_OPTIONS, SEARCH_FLAGS)
    times = timeFormatter(args.values.get('tz'))
    filter = filterFromArgs(args.values, args.dir)
    const limitText = args.values.get('limit')
    if (limitText !== undefined) limit = positiveInteger('--limit', limitText, 'how many records to print at most')
    operator = args.values.get('operator')?.trim()
    reveal = args.flags.has('reveal')
    if (reveal) {
      if (operator === undefined || operator === '') throw new UsageError('--reveal: needs --operator NAME (who is revealing); the reveal is journaled under that name')
      // The REVEAL record goes to <DIR>/tools; in one stream's own directory
      // it would land where readJournal never looks for it.
      if (listStreamDirs(args.dir).some((s) => s.dir === args.dir)) {
        throw new UsageError(`--reveal: give the journal root (the directory holding the stream directories), not one stream's directory ${args.dir}`)
      }
    } else if (operator !== undefined || args.values.has('reason-text')) {
      throw new UsageError(`--${operator !== undefined ? 'operator' : 'reason-text'}: only used with --reveal`)
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    return refuseUsage(io, 'gatehouse journal search', err.message, helpHint('gatehouse journal search'))
  }

  // Matches are collected first: the REVEAL record must name how many
  // records it reveals, and must be on disk before the first is printed.
  const matches: DecodedRecord[] = []
  try {
    for (const d of searchJournal(args.dir, filter, { reveal, limit })) matches.push(d)
  } catch (err) {
    io.err(journalProblemText(args.dir, err))
    return EXIT_FAILED
  }

  if (reveal) {
    const filters: Record<string, string> = {}
    for (const [name, value] of args.values) if (name !== 'operator' && name !== 'reason-text') filters[name] = value
    try {
      journalReveal(args.dir, {
        operator,
        reason: args.values.get('reason-text') ?? '',
        filters,
        records: matches.filter((d) => d.terminalInfo === 'revealed').length,
        tool: 'search',
      })
    } catch (err) {
      io.err(`gatehouse journal search: could not journal the reveal, so nothing is shown: ${err instanceof Error ? err.message : String(err)}\n`)
      return EXIT_FAILED
    }
  }

  const json = args.flags.has('json')
  for (const d of matches) {
    if (times.zone !== DEFAULT_TIME_ZONE) d.time = times.format(d.timeUs)
    io.out(`${json ? JSON.stringify(d) : formatRecordLine(d)}\n`)
  }
  io.err(`${matches.length} record${matches.length === 1 ? '' : 's'}${limit !== undefined && matches.length === limit ? ' (--limit reached)' : ''}\n`)
  return matches.length > 0 ? 0 : 1
}
