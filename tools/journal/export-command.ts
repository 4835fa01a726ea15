// `gatehouse journal export DIR`: every decoded record of a day or a time
// range, as JSONL or CSV, for a regulator or an audit.
//
// Exit codes: 0 records were written, 1 none in the range (no file is
// created) or the journal is damaged, 2 the command line is wrong.
//
// Terminal info is always masked here: an export leaves the gateway's
// control, so it carries nothing a reveal would need to be journaled for.
// Whoever needs terminal info gets it through `search --reveal`.
import { REPLICA_HELP } from './replica-help.js'
import { closeSync, existsSync, fchmodSync, openSync, writeSync } from 'node:fs'
import { decodeJournalRecord, summarizeRecord, type DecodedRecord } from '../../journal/record-decoder.js'
import { readJournal } from '../../journal/reader.js'
import {
  LinkOrderAttribution, filterFromArgs, journalProblemText, matchesDecoded, matchesHead, parseToolArgs,
  type ParsedArgs, type RecordFilter,
} from './search-command.js'
import { EXIT_FAILED, EXIT_OK, UsageError, helpHint, processIo, refuseUsage, type CommandIo } from '../../platform/cli-kit.js'
import { DEFAULT_TIME_ZONE, timeFormatter, type TimeFormatter } from './time-zone.js'

/** The CSV columns, fixed: a regulator's loader keys on them. */
export const CSV_COLUMNS: readonly string[] = Object.freeze([
  'time', 'time_us', 'stream', 'seq', 'kind', 'lane', 'direction', 'session_id', 'account', 'app_id', 'instrument',
  'client_order_id', 'link_order_id', 'message_type', 'reason_code', 'reason_name', 'summary', 'body_json',
  // Added with futures order semantics: after the first columns, so a loader keyed on those still reads them.
  'offset_flag', 'hedge_flag', 'report_seq', 'exec_id', 'trade_id',
])

export const EXPORT_HELP = `usage: gatehouse journal export DIR (--trading-day YYYYMMDD | --day YYYYMMDD | --from T --to T)
                                [--format jsonl|csv] [--out FILE [--force]] [--account A] [--lane L]
                                [--tz ZONE]

Writes every record of the journal under DIR in the range, decoded, in time
order. The journal is verified as it is read: damage stops the export
(exit 1; run \`gatehouse journal verify DIR\` for the full report).

  --trading-day YYYYMMDD
                     the exchange's trading day, night session included: from
                     the first to the last record the lanes journaled under it,
                     every stream's records in that span
  --day YYYYMMDD     one UTC day (00:00Z to 00:00Z)
  --from T, --to T   a time range, --to exclusive; T is an ISO time with a zone
                     (2026-11-20T09:30:00Z) or a day YYYYMMDD (its UTC midnight)
  --format F         jsonl (default): one decoded record per line, as
                     \`search --json\` prints it; csv: the columns
                     ${CSV_COLUMNS.join(',')}
                     (RFC 4180: CRLF line ends, quoted where needed; a
                     text cell that begins with = + - @ ' a tab or a CR gets
                     a ' in front, so no spreadsheet runs it as a formula:
                     drop one leading ' to get the journaled text back;
                     numeric columns are left as numbers)
  --tz ZONE          write the time column in this IANA time zone with its
                     offset (Asia/Shanghai: 2026-11-20T09:30:00.000000+08:00);
                     default UTC (…Z). time_us and the range stay UTC
  --out FILE         write FILE (mode 0600) instead of stdout; an existing
                     FILE is refused (exit 2), never silently replaced
  --force            with --out: replace FILE if it exists
  --account A        only this trading account's records
  --lane L           only this lane's records: terminal, platform, hft, none

Terminal info is always masked ('***') in an export, and passwords and
authentication proofs are never included. Terminal info is shown only by
\`gatehouse journal search --reveal\`, which journals who revealed it.

Exit codes: 0 records written (the count goes to stderr), 1 no record in
the range (no file is written) or the journal is damaged, 2 bad usage.

  -h, --help         show this help

${REPLICA_HELP}`

/** RFC 4180: a field with a comma, quote or line break is quoted, its quotes doubled. */
export function csvField (text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

/**
 * First characters a spreadsheet takes as the start of a formula (OWASP,
 * CSV injection), and the quote that marks a cell as defused: a text cell
 * that begins with one gets a `'` in front, so `=HYPERLINK(..)` from a
 * client's order lands as text, and removing one leading `'` from any text
 * cell that starts with `'` gives back exactly what was journaled.
 */
const FORMULA_START = /^[=+\-@\t\r']/

/** A text column's cell: defused when it could start a formula, then RFC 4180. A defused cell is always quoted. */
export function csvTextField (text: string): string {
  if (!FORMULA_START.test(text)) return csvField(text)
  return `"'${text.replaceAll('"', '""')}"`
}

/**
 * The columns that hold numbers the gateway wrote (never client text):
 * left as numbers, so a sheet sums and sorts them, and a negative number
 * stays a number.
 */
const NUMERIC_COLUMNS: ReadonlySet<string> = new Set(['time_us', 'seq', 'session_id', 'client_order_id', 'link_order_id', 'reason_code', 'report_seq'])
const NUMERIC_AT: readonly boolean[] = CSV_COLUMNS.map((name) => NUMERIC_COLUMNS.has(name))

export function csvHeader (): string {
  return `${CSV_COLUMNS.join(',')}\r\n`
}

export function csvRow (d: DecodedRecord): string {
  const fields = [
    d.time, String(d.timeUs), d.stream, String(d.seq), d.kind, d.lane, d.direction, String(d.sessionId), d.account, d.appId, d.instrument,
    String(d.clientOrderId), String(d.linkOrderId), d.messageType, String(d.reason), d.reasonName, summarizeRecord(d), JSON.stringify(d.body),
    d.offsetFlag, d.hedgeFlag, String(d.reportSeq), d.execId, d.tradeId,
  ]
  return `${fields.map((field, i) => NUMERIC_AT[i] === true ? csvField(field) : csvTextField(field)).join(',')}\r\n`
}

/** Where the export goes: a 0600 file opened at the first record (so an empty range leaves none), or io.out. */
class ExportSink {
  private fd = -1
  private pending: string[] = []
  private pendingChars = 0

  constructor (private readonly path: string | undefined, private readonly io: CommandIo, private readonly replace = false) {}

  write (text: string): void {
    if (this.path === undefined) {
      this.io.out(text)
      return
    }
    if (this.fd < 0) {
      // 'wx' unless --force: an earlier export is evidence that may already
      // have been handed on, and 'w' truncated it without a word (checked
      // up front too; 'wx' closes the window between that check and here).
      this.fd = openSync(this.path, this.replace ? 'w' : 'wx', 0o600)
      // The mode of open() applies only to a new file; an existing one keeps its own.
      fchmodSync(this.fd, 0o600)
    }
    // One write(2) per ~64 KiB rather than per record.
    this.pending.push(text)
    this.pendingChars += text.length
    if (this.pendingChars >= 64 * 1024) this.flush()
  }

  flush (): void {
    if (this.fd < 0 || this.pending.length === 0) return
    const buf = Buffer.from(this.pending.join(''), 'utf8')
    this.pending = []
    this.pendingChars = 0
    let off = 0
    while (off < buf.length) off += writeSync(this.fd, buf, off, buf.length - off)
  }

  close (): void {
    if (this.fd < 0) return
    try {
      this.flush()
    } finally {
      closeSync(this.fd)
      this.fd = -1
    }
  }
}

const EXPORT_VALUE_OPTIONS = ['day', 'trading-day', 'from', 'to', 'format', 'out', 'account', 'lane', 'tz']
const EXPORT_FLAGS = ['help', 'force']

export async function runExportCommand (argv: string[], io: CommandIo = processIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(EXPORT_HELP)
    return EXIT_OK
  }
  let args: ParsedArgs
  let filter: RecordFilter
  let format: 'jsonl' | 'csv'
  let times: TimeFormatter
  try {
    if (argv.includes('--reveal')) throw new UsageError('--reveal: export never shows terminal info; use `gatehouse journal search --reveal --operator NAME`, which journals the reveal')
    args = parseToolArgs(argv, EXPORT_VALUE_OPTIONS, EXPORT_FLAGS)
    const v = args.values
    if (!v.has('day') && !v.has('trading-day') && !(v.has('from') && v.has('to'))) {
      throw new UsageError(v.has('from') || v.has('to')
        ? `--${v.has('from') ? 'to' : 'from'}: give both --from and --to (or --trading-day, or --day)`
        : 'give the range: --day YYYYMMDD, or --from T --to T, or --trading-day YYYYMMDD')
    }
    filter = filterFromArgs(v, args.dir)
    times = timeFormatter(v.get('tz'))
    const f = v.get('format') ?? 'jsonl'
    if (f !== 'jsonl' && f !== 'csv') throw new UsageError(`--format: expected jsonl or csv; got '${f}'`)
    format = f
    const outPath = v.get('out')
    if (outPath === '') throw new UsageError('--out: expected a file name; got \'\'')
    if (args.flags.has('force') && outPath === undefined) throw new UsageError('--force: only used with --out FILE')
    if (outPath !== undefined && !args.flags.has('force') && existsSync(outPath)) {
      throw new UsageError(`--out: ${outPath} exists; an export does not replace a file (give --force to replace it)`)
    }
  } catch (err) {
    if (!(err instanceof UsageError)) throw err
    return refuseUsage(io, 'gatehouse journal export', err.message, helpHint('gatehouse journal export'))
  }

  const out = args.values.get('out')
  const sink = new ExportSink(out, io, args.flags.has('force'))
  let count = 0
  let writing = false
  try {
    const attribution = new LinkOrderAttribution()
    for (const record of readJournal(args.dir)) {
      const head = matchesHead(record, filter)
      if (!head && !LinkOrderAttribution.wants(record)) continue
      const d = decodeJournalRecord(record, { reveal: false })
      attribution.apply(d)
      if (!head || !matchesDecoded(d, filter)) continue
      if (times.zone !== DEFAULT_TIME_ZONE) d.time = times.format(d.timeUs)
      writing = true
      if (count === 0 && format === 'csv') sink.write(csvHeader())
      sink.write(format === 'csv' ? csvRow(d) : `${JSON.stringify(d)}\n`)
      writing = false
      count++
    }
    writing = true
    sink.close()
  } catch (err) {
    // The first error is the one to report; a second from closing adds nothing.
    try { sink.close() } catch {}
    const problem = writing
      ? `cannot write ${out ?? 'the output'}: ${err instanceof Error ? err.message : String(err)}\n`
      : journalProblemText(args.dir, err)
    // Whatever was written stops short of the range: say so, so nobody hands it on as whole.
    io.err(`${problem}${count > 0 && out !== undefined ? `${out} is incomplete (${count} records written)\n` : ''}`)
    return EXIT_FAILED
  }
  if (count === 0) {
    io.err('no records in the range\n')
    return EXIT_FAILED
  }
  io.err(`${count} record${count === 1 ? '' : 's'}${out !== undefined ? ` written to ${out}` : ''}\n`)
  return EXIT_OK
}
