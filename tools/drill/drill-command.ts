// `gatehouse drill`: runs attack scenarios against a gateway while a
// well-behaved session trades, and reports PASS or FAIL per scenario.
// Exit 0 iff every scenario passed, 1 if any failed (or the drill could
// not reach the gateway or log the trader on), 2 for usage errors and
// refused targets (production, non-loopback).
import { readFileSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import { DRILL_LANES, DrillSettingsError, resolveDrillSettings, type DrillSettings } from './drill-settings.js'
import { fetchHealth } from './gateway-probe.js'
import { runDrill } from './drill-runner.js'
import { formatHtml, formatJson, formatTable } from './drill-report.js'
import { SCENARIOS } from './scenarios/index.js'
import { TraderError } from './trader.js'
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, failCommand, helpHint, isUsageError, processIo, refuseUsage } from '../../platform/cli-kit.js'
import { isLoopbackHost } from '../../platform/loopback.js'

const COMMAND = 'gatehouse drill'

const HELP = `usage: gatehouse drill [--config FILE | --lane-url LANE=URL ... --ops-url URL]
                       [--scenario NAME ...] [--short] [--json] [--html FILE]
                       [--trader-account A --trader-password-file F --app-id X --auth-code-file F]
                       [--victim-account A --victim-password-file F] [--pid N]
                       [--admin-socket PATH]
                       [--allow-production] [--allow-remote] [--list]

Runs attack scenarios against a running gateway while a well-behaved
session (the trader) trades on one lane, and reports per scenario: PASS or
FAIL, the trader's p50/p99 round trip and errors, the gateway's RSS and
open fds before and after, journal bytes written, and what broke.
With no options it drills \`npm start\`'s embedded defaults with the demo
identity. The logon scenarios lock the victim account (demo-maker by
default) for the gateway's security.lockoutMs, lock the trader account
(demo-taker) for terminals it never approved, use up its new-fingerprint
allowance for security.fingerprintChurnWindowMs, and lock many 127.x
addresses and /24s: drill a fresh test gateway, not one that trades.

options:
  --config FILE            JSON drill settings merged over the defaults
                           (target, identity, trader, thresholds; see docs/attack-drill.md)
  --lane-url LANE=URL      a lane to drill, e.g. platform=ws://127.0.0.1:7002 (repeatable;
                           given any, only those lanes are drilled)
  --ops-url URL            the gateway's ops HTTP, e.g. http://127.0.0.1:7080
  --scenario NAME          run only this scenario (repeatable); --list shows them
  --short                  small, fast scenarios (about 30 s in all)
  --json                   print the report as JSON instead of the table
  --html FILE              also write a self-contained HTML report
  --trader-account A       account the trader (and the logged-on attack sessions) use
  --trader-password-file F file holding its password
  --app-id X               AppID to authenticate with
  --auth-code-file F       file holding that AppID's AuthCode
  --victim-account A       real account the brute-force scenarios attack (it gets locked)
  --victim-password-file F file holding the victim's right password
  --pid N                  the gateway's process ID, for RSS and fds (default: /healthz's pid)
  --admin-socket PATH      the gateway's admin socket, for logon-alerts' \`admin alerts list\`
                           (default: ./var/admin.sock if it is there, else "not checked")
  --allow-production       drill a gateway whose exchange environment is production
  --allow-remote           allow targets outside 127.0.0.0/8 (then every attack comes from one address)
  --list                   list the scenarios and exit
  -h, --help               show this help
`

/** How long the process may linger after the report before it exits regardless. */
const EXIT_GRACE_MS = 2000

function readSecret (path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '')
  } catch (err) {
    throw new UsageError(`${flag}: cannot read "${path}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
}

interface Parsed {
  settings: DrillSettings
  scenarioNames: string[]
  short: boolean
  json: boolean
  html: string | undefined
  allowProduction: boolean
  allowRemote: boolean
}

function parse (argv: string[]): Parsed | 'help' | 'list' {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      'lane-url': { type: 'string', multiple: true },
      'ops-url': { type: 'string' },
      scenario: { type: 'string', multiple: true },
      short: { type: 'boolean' },
      json: { type: 'boolean' },
      html: { type: 'string' },
      'allow-production': { type: 'boolean' },
      'allow-remote': { type: 'boolean' },
      'trader-account': { type: 'string' },
      'trader-password-file': { type: 'string' },
      'app-id': { type: 'string' },
      'auth-code-file': { type: 'string' },
      'victim-account': { type: 'string' },
      'victim-password-file': { type: 'string' },
      pid: { type: 'string' },
      'admin-socket': { type: 'string' },
      list: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  })
  if (values.help === true) return 'help'
  if (values.list === true) return 'list'
  let overrides: Record<string, unknown> = {}
  if (values.config !== undefined) {
    let text: string
    try {
      text = readFileSync(values.config, 'utf8')
    } catch (err) {
      throw new UsageError(`--config: cannot read "${values.config}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
    }
    try {
      overrides = JSON.parse(text) as Record<string, unknown>
    } catch (err) {
      throw new UsageError(`--config: "${values.config}" is not valid JSON (${(err as Error).message})`)
    }
    if (typeof overrides !== 'object' || overrides === null || Array.isArray(overrides)) throw new UsageError(`--config: "${values.config}" must hold a JSON object`)
  }
  const target: Record<string, unknown> = { ...(overrides.target as object | undefined) }
  const identity: Record<string, unknown> = { ...(overrides.identity as object | undefined) }
  if (values['lane-url'] !== undefined) {
    const laneUrls: Record<string, string> = {}
    for (const entry of values['lane-url']) {
      const eq = entry.indexOf('=')
      const lane = entry.slice(0, eq)
      if (eq < 0 || !(DRILL_LANES as readonly string[]).includes(lane)) throw new UsageError(`--lane-url: "${entry}" must be LANE=URL with LANE one of ${DRILL_LANES.join(', ')}`)
      laneUrls[lane] = entry.slice(eq + 1)
    }
    // Given any, only those: the defaults' other lanes are dropped.
    target.laneUrls = laneUrls
  }
  if (values['ops-url'] !== undefined) target.opsUrl = values['ops-url']
  if (values['admin-socket'] !== undefined) target.adminSocket = values['admin-socket']
  if (values.pid !== undefined) {
    const pid = Number(values.pid)
    if (!Number.isInteger(pid) || pid <= 0) throw new UsageError(`--pid: "${values.pid}" must be a process ID`)
    target.pid = pid
  }
  if (values['trader-account'] !== undefined) identity.traderAccount = values['trader-account']
  if (values['trader-password-file'] !== undefined) identity.traderPassword = readSecret(values['trader-password-file'], '--trader-password-file')
  if (values['app-id'] !== undefined) identity.appId = values['app-id']
  if (values['auth-code-file'] !== undefined) identity.authCode = readSecret(values['auth-code-file'], '--auth-code-file')
  if (values['victim-account'] !== undefined) identity.victimAccount = values['victim-account']
  if (values['victim-password-file'] !== undefined) identity.victimPassword = readSecret(values['victim-password-file'], '--victim-password-file')
  const merged: Record<string, unknown> = { ...overrides, target, identity }
  // --lane-url replaces the lane list whole, rather than merging into the defaults'.
  const settings = resolveDrillSettings(merged)
  if (values['lane-url'] !== undefined) settings.target.laneUrls = target.laneUrls as DrillSettings['target']['laneUrls']
  const scenarioNames = values.scenario ?? []
  for (const name of scenarioNames) {
    if (!SCENARIOS.some((s) => s.name === name)) throw new UsageError(`--scenario: unknown scenario "${name}"; one of ${SCENARIOS.map((s) => s.name).join(', ')}`)
  }
  return {
    settings,
    scenarioNames,
    short: values.short === true,
    json: values.json === true,
    html: values.html,
    allowProduction: values['allow-production'] === true,
    allowRemote: values['allow-remote'] === true,
  }
}

/** Why the target's addresses may not be drilled (a usage error), or null. */
export function remoteRefusal (settings: DrillSettings, allowRemote: boolean): string | null {
  if (allowRemote) return null
  const urls = [settings.target.opsUrl, ...Object.values(settings.target.laneUrls)]
  const remote = urls.filter((url) => !isLoopbackHost(new URL(url).hostname))
  if (remote.length === 0) return null
  return `refusing a target outside 127.0.0.0/8 (${remote.join(', ')}); the drill floods what it points at. Pass --allow-remote if that is really meant.`
}

/** Why a gateway reaching these exchange environments (lane to environment, from /healthz) may not be drilled, or null. */
export function environmentRefusal (environments: Record<string, string>, allowProduction: boolean): string | null {
  if (allowProduction) return null
  const production = Object.entries(environments).filter(([, env]) => env === 'production').map(([lane]) => lane)
  if (production.length > 0) {
    return `refusing to drill: the gateway's exchange environment is production (lanes ${production.join(', ')}). The drill locks accounts and floods the gateway; pass --allow-production only for a gateway that trades nothing real.`
  }
  const unknown = Object.entries(environments).filter(([, env]) => env !== 'test').map(([lane]) => lane)
  if (unknown.length > 0 || Object.keys(environments).length === 0) {
    return `refusing to drill: the gateway does not say which exchange environment ${unknown.length > 0 ? `lanes ${unknown.join(', ')} reach` : 'it reaches'} (/healthz reports lanes[].environment once their exchange links are up). Pass --allow-production to drill it anyway.`
  }
  return null
}

export async function runDrillCommand (argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (err) {
    if (err instanceof DrillSettingsError || isUsageError(err)) return refuseUsage(processIo, COMMAND, err.message, helpHint(COMMAND))
    throw err
  }
  if (parsed === 'help') {
    processIo.out(HELP)
    return EXIT_OK
  }
  if (parsed === 'list') {
    const width = Math.max(...SCENARIOS.map((s) => s.name.length))
    processIo.out(SCENARIOS.map((s) => `${s.name.padEnd(width)}  ${s.summary}`).join('\n') + '\n')
    return EXIT_OK
  }
  const { settings } = parsed
  if (settings.target.laneUrls[settings.trader.lane] === undefined) {
    return failCommand(processIo, COMMAND, `the trader's lane (${settings.trader.lane}) has no URL; add --lane-url ${settings.trader.lane}=ws://... or set trader.lane to a lane you gave`, EXIT_USAGE)
  }
  const remote = remoteRefusal(settings, parsed.allowRemote)
  if (remote !== null) {
    return failCommand(processIo, COMMAND, remote, EXIT_USAGE)
  }
  const health = await fetchHealth(settings.target.opsUrl)
  if (health.status === 0) {
    return failCommand(processIo, COMMAND, `the gateway is not reachable: ${settings.target.opsUrl}/healthz: ${health.error}. Is it running? (\`npm start\`, or point --ops-url and --lane-url at it)`)
  }
  const refusal = environmentRefusal(health.environments, parsed.allowProduction)
  if (refusal !== null) {
    return failCommand(processIo, COMMAND, refusal, EXIT_USAGE)
  }
  const chosen = parsed.scenarioNames.length === 0 ? SCENARIOS : SCENARIOS.filter((s) => parsed.scenarioNames.includes(s.name))
  const loopback = Object.values(settings.target.laneUrls).every((url) => isLoopbackHost(new URL(url).hostname))
  let report
  try {
    report = await runDrill(settings, { short: parsed.short, scenarios: chosen, loopback, log: (line) => { process.stderr.write(`drill: ${line}\n`) } })
  } catch (err) {
    if (err instanceof TraderError) {
      return failCommand(processIo, COMMAND, err.message)
    }
    throw err
  }
  processIo.out(parsed.json ? formatJson(report) : formatTable(report))
  if (parsed.html !== undefined) {
    try {
      writeFileSync(parsed.html, formatHtml(report))
    } catch (err) {
      return failCommand(processIo, COMMAND, `could not write ${parsed.html}: ${(err as Error).message}`)
    }
  }
  const code = report.passed ? EXIT_OK : EXIT_FAILED
  // Every scenario has closed what it opened; should a socket the gateway
  // never answered still hold the loop, the drill ends anyway.
  setTimeout(() => { process.exit(code) }, EXIT_GRACE_MS).unref()
  return code
}
