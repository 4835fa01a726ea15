// `gatehouse compliance report`: the regulator pack from a run directory's
// journal (regulator-pack.ts), written as JSON, CSV and an HTML summary, or
// with --verify checked against the journal. Reads the journal's files
// only, never a running gateway, through the journal's bounded reader.
import { parseArgs } from 'node:util'
import { join, resolve } from 'node:path'
import { existsSync } from 'node:fs'
import { EXIT_FAILED, EXIT_OK, UsageError, failCommand, parseCommandLine, processIo, runSubcommand, type CommandIo, type Subcommand } from '../../platform/cli-kit.js'
import { dayNumberOf } from '../../compliance/trading-calendar.js'
import { buildPack } from './regulator-pack.js'
import { writePack } from './pack-files.js'
import { verifyPack } from './pack-verify.js'
import { checkTimeZone } from './pack-time.js'
import { monitoringReport } from './monitoring-report.js'
import { loadConfigFile, resolveConfig } from '../../config/load.js'

const REPORT = 'gatehouse compliance report'
const REPORT_HELP = `usage: ${REPORT} --as-of YYYY-MM-DD --run-dir DIR --out DIR [--tz ZONE] [--journal DIR]
       ${REPORT} --verify --run-dir DIR --out DIR [--journal DIR]

Writes the regulator pack as of the end of the date: every external system
(AppID) with its status history, evidence and certification; the accounts
using each and their access models; programmatic accounts with their report
and filing clocks; incidents; dual-control requests; every admin change.
Each item cites the journal records it came from.

  --as-of DATE    the last day the pack covers (end of the day in --tz)
  --run-dir DIR   the gateway's runDir; the journal is DIR/journal
  --journal DIR   the journal directory, when journal.dir is set elsewhere
  --out DIR       where the pack goes: pack.json, *.csv, index.html
  --tz ZONE       times in this IANA zone (e.g. Asia/Shanghai); default UTC
  --verify        check the pack in --out against the journal instead of
                  writing it: exit 0 if it matches, 1 naming each item that
                  does not (GH_ERR_PACK_VERIFY_FAILED)
`

interface ReportArgs { asOf: string | null, journal: string, out: string, tz: string, verify: boolean }

function parseReport (argv: string[]): ReportArgs {
  const { values } = parseArgs({
    args: argv,
    options: { 'as-of': { type: 'string' }, 'run-dir': { type: 'string' }, journal: { type: 'string' }, out: { type: 'string' }, tz: { type: 'string' }, verify: { type: 'boolean' } },
    strict: true,
    allowPositionals: false,
  })
  const verify = values.verify === true
  const asOf = values['as-of'] ?? null
  if (asOf === null && !verify) throw new UsageError('--as-of YYYY-MM-DD is required')
  if (asOf !== null && dayNumberOf(asOf) === null) throw new UsageError(`--as-of: expected a date as YYYY-MM-DD; got '${asOf.slice(0, 40)}'`)
  const runDir = values['run-dir']
  if (runDir === undefined && values.journal === undefined) throw new UsageError('--run-dir DIR (or --journal DIR) is required')
  const journal = resolve(values.journal ?? join(runDir!, 'journal'))
  if (values.out === undefined) throw new UsageError('--out DIR is required')
  const tz = values.tz ?? 'UTC'
  try {
    checkTimeZone(tz)
  } catch {
    throw new UsageError(`--tz: unknown time zone '${tz.slice(0, 60)}'; give an IANA name such as Asia/Shanghai or UTC`)
  }
  return { asOf, journal, out: resolve(values.out), tz, verify }
}

export async function runReportCommand (argv: string[], io: CommandIo = processIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(REPORT_HELP)
    return EXIT_OK
  }
  const parsed = parseCommandLine(io, REPORT, REPORT_HELP, () => parseReport(argv))
  if (!parsed.ok) return parsed.exitCode
  const args = parsed.value
  if (!existsSync(args.journal)) return failCommand(io, REPORT, `no journal at ${args.journal}; give the gateway's runDir (--run-dir) or --journal DIR`)
  try {
    if (args.verify) {
      const result = verifyPack(args.out, args.journal)
      if (result.ok) {
        io.out(`pack ${args.out}: OK: ${result.items} items, ${result.records} cited records match the journal\n`)
        return EXIT_OK
      }
      io.err(`${REPORT}: GH_ERR_PACK_VERIFY_FAILED: pack ${args.out} does not match the journal ${args.journal}:\n${result.problems.map((p) => `  - ${p}\n`).join('')}`)
      return EXIT_FAILED
    }
    const pack = buildPack(args.journal, args.asOf!, args.tz)
    const files = writePack(pack, args.out)
    const s = pack.sections
    io.out(`pack as of ${pack.asOf} (${pack.timeZone}) in ${args.out}: ${files.join(', ')}\n` +
      `  ${s.externalSystems.length} external systems, ${s.accounts.length} accounts, ${s.programmatic.length} programmatic, ` +
      `${s.incidents.length} incidents, ${s.dualControl.length} dual-control requests, ${s.adminChanges.length} admin changes, ${Object.keys(pack.records).length} records cited\n`)
    return EXIT_OK
  } catch (err) {
    return failCommand(io, REPORT, (err as Error).message)
  }
}

const MONITORING = 'gatehouse compliance monitoring'
const MONITORING_HELP = `usage: ${MONITORING} --run-dir DIR [--journal DIR] [--config FILE] [--day YYYYMMDD] [--json]

The day's transaction monitoring report, per account: each regulatory
monitor's level at the end of the trading day (its peak: the daily
monitors only count up) against its warning and blocking limits, and the
accounts that crossed a high-frequency reporting threshold without a
confirmed programmatic-trading report. The day is replayed from the
journal through the check engine (as \`gatehouse journal replay\` does)
with the limits of --config (the gateway's config; default: the built-in).

  --day YYYYMMDD  the trading day; default the latest in the journal
`

export async function runMonitoringCommand (argv: string[], io: CommandIo = processIo): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(MONITORING_HELP)
    return EXIT_OK
  }
  const parsed = parseCommandLine(io, MONITORING, MONITORING_HELP, () => {
    const { values } = parseArgs({ args: argv, options: { 'run-dir': { type: 'string' }, journal: { type: 'string' }, config: { type: 'string' }, day: { type: 'string' }, json: { type: 'boolean' } }, strict: true, allowPositionals: false })
    if (values['run-dir'] === undefined && values.journal === undefined) throw new UsageError('--run-dir DIR (or --journal DIR) is required')
    if (values.day !== undefined && !/^\d{8}$/.test(values.day)) throw new UsageError(`--day: expected YYYYMMDD; got '${values.day.slice(0, 20)}'`)
    return { journal: resolve(values.journal ?? join(values['run-dir']!, 'journal')), config: values.config, day: values.day, json: values.json === true }
  })
  if (!parsed.ok) return parsed.exitCode
  const a = parsed.value
  try {
    const config = a.config === undefined ? resolveConfig({}) : loadConfigFile(a.config)
    const report = monitoringReport(a.journal, config, a.day)
    if (a.json) {
      io.out(JSON.stringify(report) + '\n')
      return EXIT_OK
    }
    const lines = [`transaction monitoring, trading day ${report.day}`]
    for (const acc of report.accounts) {
      lines.push(`account ${acc.account} (lane ${acc.lane}, programmatic report ${acc.programmaticReport})`)
      for (const m of acc.monitors) lines.push(`  ${m.monitor.padEnd(17)} ${m.instrument.padEnd(10)} ${String(m.observed).padStart(8)}  warn ${String(m.warning ?? 'none').padStart(8)}  block ${String(m.blocking ?? 'none').padStart(8)}  ${m.state}`)
    }
    lines.push(report.unreportedHighFrequency.length === 0
      ? 'no account crossed a high-frequency reporting threshold without a confirmed report'
      : `crossed a high-frequency reporting threshold without a confirmed report:\n${report.unreportedHighFrequency.map((u) => `  ${u.account}: ${u.monitor} ${u.observed} ≥ ${u.threshold} (report ${u.programmaticReport})`).join('\n')}`)
    io.out(lines.join('\n') + '\n')
    return EXIT_OK
  } catch (err) {
    return failCommand(io, MONITORING, (err as Error).message)
  }
}

const tools: Record<string, Subcommand> = {
  monitoring: {
    summary: 'a trading day\'s monitors per account against their warning and blocking levels, replayed from the journal',
    run: async (argv) => runMonitoringCommand(argv),
  },
  report: {
    summary: 'the regulator pack as of a date (JSON, CSV, HTML), each item citing its journal records; --verify checks one',
    run: async (argv) => runReportCommand(argv),
  },
}

export async function runComplianceCommand (argv: string[]): Promise<number> {
  return runSubcommand(processIo, { command: 'gatehouse compliance', noun: 'tool', subcommands: tools }, argv)
}
