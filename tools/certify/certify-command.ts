// `gatehouse certify`: runs the published conformance suite
// (conformance-suite.ts, docs/certification.md) against a gateway's test
// environment as one AppID, prints a summary, and writes the report as
// JSON and HTML. Exit 0 when every step passed, 1 when any failed, 2 for
// a bad command line. Vendors run it before they apply; the broker runs
// it and records the report (`gatehouse admin apps certify-record`).
import { parseArgs } from 'node:util'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { z } from 'zod'
import { MAX_JSON_FILE_BYTES, readBoundedFile } from '../../journal/read-bounded-file.js'
import { DEMO_TERMINAL_INFO } from '../../protocol/demo-identity.js'
import { EXIT_FAILED, EXIT_OK, UsageError, isUsageError, processIo, refuseUsage, type CommandIo } from '../../platform/cli-kit.js'
import type { TerminalInfoInit } from '../../client/gatehouse-client.js'
import { runConformanceSuite, type CertifyOptions } from './conformance-suite.js'
import { formatHtml, formatJson, formatSummary, stepLine } from './certify-report.js'

const COMMAND = 'gatehouse certify'

const HELP = `usage: gatehouse certify --url URL --app-id X --account A --counterparty B --secrets FILE
                         [--terminal-info FILE] [--instrument SYMBOL] [--timeout-ms N] [--out DIR]

Runs the published conformance suite (docs/certification.md) against a
gateway's TEST environment as AppID X: logon; order, fill and cancel; each
reject family; the session throttle; reconnect and resend; cancel-on-disconnect.
Needs only what a vendor holds: the lane URL, two test accounts bound to the
AppID (the second is the other side of the fills), their passwords, the AppID
and its AuthCode.

options:
  --url URL              a lane of the gateway's test environment (ws:// or wss://)
  --app-id X             the AppID to certify
  --account A            the test account to certify with
  --counterparty B       a second test account bound to the same AppID
  --secrets FILE         JSON {"authCode": "...", "password": "...", "counterpartyPassword": "..."}
                         (secrets never go on a command line, which ps and shell history show)
  --terminal-info FILE   JSON TerminalInfo collected on this machine (default: the demo terminal)
  --instrument SYMBOL    instrument to trade (default: the first listed)
  --timeout-ms N         how long each expected message is waited for (default 5000)
  --out DIR              where the reports go (default .): certification-<AppID>-<time>.json and .html
  -h, --help             show this help

Exit status: 0 every step passed, 1 a step failed (the summary names it), 2 bad usage.
A passing report is recorded by the broker: gatehouse admin apps certify-record.
`

const SecretsSchema = z.object({
  authCode: z.string().min(16, 'must be the AppID\'s AuthCode (at least 16 characters)').max(256),
  password: z.string().min(1, 'must be the account\'s password').max(256),
  counterpartyPassword: z.string().min(1, 'must be the counterparty\'s password').max(256),
}).strict()

function readJsonFile (path: string, what: string): unknown {
  try {
    return JSON.parse(readBoundedFile(path, MAX_JSON_FILE_BYTES, what).toString('utf8'))
  } catch (err) {
    throw new UsageError(`${what} ${path}: ${(err as Error).message}`)
  }
}

function required (values: Record<string, string | boolean | undefined>, name: string): string {
  const value = values[name]
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`)
  return value
}

export function parseCertifyArgs (argv: string[]): { options: CertifyOptions, outDir: string } | { help: true } {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      'app-id': { type: 'string' },
      account: { type: 'string' },
      counterparty: { type: 'string' },
      secrets: { type: 'string' },
      'terminal-info': { type: 'string' },
      instrument: { type: 'string' },
      'timeout-ms': { type: 'string', default: '5000' },
      out: { type: 'string', default: '.' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  if (values.help === true) return { help: true }
  const url = required(values, 'url')
  if (!/^wss?:\/\//.test(url)) throw new UsageError(`--url ${url}: must be a ws:// or wss:// lane URL`)
  const timeoutMs = Number(values['timeout-ms'])
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > 600_000) throw new UsageError(`--timeout-ms: expected a whole number of milliseconds from 100 to 600000; got '${String(values['timeout-ms'])}'`)
  const secretsPath = required(values, 'secrets')
  const secrets = SecretsSchema.safeParse(readJsonFile(secretsPath, 'secrets file'))
  // Issue paths only: the values are secrets.
  if (!secrets.success) throw new UsageError(`--secrets ${secretsPath}: ${secrets.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.code === 'unrecognized_keys' ? 'unknown field' : i.message}`).join('; ')}`)
  const terminalPath = values['terminal-info']
  const terminalInfo = (terminalPath === undefined ? DEMO_TERMINAL_INFO : readJsonFile(terminalPath, 'terminal info file')) as TerminalInfoInit
  if (typeof terminalInfo !== 'object' || terminalInfo === null || Array.isArray(terminalInfo)) throw new UsageError(`--terminal-info ${String(terminalPath)}: must hold a JSON object of TerminalInfo fields`)
  const options: CertifyOptions = {
    url,
    appId: required(values, 'app-id'),
    authCode: secrets.data.authCode,
    account: required(values, 'account'),
    password: secrets.data.password,
    counterparty: required(values, 'counterparty'),
    counterpartyPassword: secrets.data.counterpartyPassword,
    terminalInfo,
    timeoutMs,
  }
  if (typeof values.instrument === 'string') options.instrument = values.instrument
  return { options, outDir: resolve(values.out as string) }
}

export async function runCertifyCommand (argv: string[], io: CommandIo = processIo): Promise<number> {
  let parsed: ReturnType<typeof parseCertifyArgs>
  try {
    parsed = parseCertifyArgs(argv)
  } catch (err) {
    if (!isUsageError(err)) throw err
    return refuseUsage(io, COMMAND, err.message, HELP)
  }
  if ('help' in parsed) {
    io.out(HELP)
    return EXIT_OK
  }
  const { options, outDir } = parsed
  io.out(`gatehouse certify: running suite against ${options.url} as ${options.appId} (${options.account}, counterparty ${options.counterparty})\n`)
  const report = await runConformanceSuite(options, undefined, (step) => { io.out(stepLine(step) + '\n') })
  const stem = `certification-${options.appId.replace(/[^A-Za-z0-9_.-]/g, '_')}-${report.finishedAt.replace(/[:.]/g, '-')}`
  mkdirSync(outDir, { recursive: true })
  const jsonPath = join(outDir, `${stem}.json`)
  const htmlPath = join(outDir, `${stem}.html`)
  writeFileSync(jsonPath, formatJson(report))
  writeFileSync(htmlPath, formatHtml(report))
  const summary = formatSummary(report)
  io.out(summary.slice(summary.lastIndexOf('\n', summary.length - 2) + 1))
  io.out(`report: ${jsonPath}\n        ${htmlPath}\n`)
  return report.passed ? EXIT_OK : EXIT_FAILED
}
