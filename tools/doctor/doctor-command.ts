// `gatehouse doctor`: checks a host and a config before the gateway
// starts there (host-checks.ts), prints one row per check, and exits 1
// if any failed. Warnings (a certificate near expiry, no sign of clock
// synchronisation) are printed but do not fail the run.
import { parseArgs } from 'node:util'
import { ConfigError, type GatewayConfig } from '../../config/config.js'
import { loadConfigFile, resolveConfig } from '../../config/load.js'
import { EXIT_FAILED, EXIT_OK, parseCommandLine, processIo, type CommandIo } from '../../platform/cli-kit.js'
import { packageVersion } from '../../platform/package-version.js'
import { checkCertificates, checkClock, checkJournalDisk, checkPorts, checkUws, type CheckResult } from './host-checks.js'

const COMMAND = 'gatehouse doctor'

const HELP = `usage: gatehouse doctor [--config FILE] [--json]

Checks this host and a config before \`gatehouse start\`:
  config        the file validates (as start would load it)
  port <field>  every listener's address can be bound now (port 0: skipped)
  tls <field>   certificate and key readable, a pair, not expired
                (warning within 30 days of expiry)
  journal disk  free space on the journal's file system above the low
                watermark and the floor (journal.disk)
  clock         systemd-timesyncd says synchronised, or chronyd, ntpd or
                ptp4l runs (warning otherwise)
  uws binary, glibc, uws version, uws load
                the uWebSockets.js binary for this Node ABI exists, this
                glibc is new enough for it, the installed version is the
                locked one, and it loads

options:
  --config FILE  the config to check (default: the embedded defaults)
  --json         one JSON object: {"ok":bool,"checks":[{name,status,detail}]}
  -h, --help     show this help

Exit code 0 when nothing failed (warnings allowed), 1 when a check failed,
2 for a bad command line.
`

/** Every check, in the order printed. */
export async function runDoctorChecks (configFile: string | undefined, nowMs = Date.now()): Promise<CheckResult[]> {
  const results: CheckResult[] = []
  let config: GatewayConfig | null = null
  try {
    config = configFile === undefined ? resolveConfig() : loadConfigFile(configFile)
    results.push({ name: 'config', status: 'ok', detail: `${configFile ?? 'embedded defaults'}: valid (gateway ${config.gatewayId}, gatehouse ${packageVersion()})` })
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    results.push({ name: 'config', status: 'fail', detail: `${configFile ?? 'embedded defaults'}: ${err.problems.join('; ')}` })
  }
  if (config !== null) {
    results.push(...await checkPorts(config))
    results.push(...checkCertificates(config, nowMs))
    results.push(checkJournalDisk(config))
  }
  results.push(checkClock())
  results.push(...checkUws())
  return results
}

/** The results as an aligned table, one row per check. */
export function doctorTable (results: readonly CheckResult[]): string {
  const nameWidth = Math.max(5, ...results.map((r) => r.name.length))
  const rows = results.map((r) => `${r.name.padEnd(nameWidth)}  ${r.status.toUpperCase().padEnd(6)}  ${r.detail}`)
  const failed = results.filter((r) => r.status === 'fail').length
  const warned = results.filter((r) => r.status === 'warn').length
  return `${'check'.padEnd(nameWidth)}  status  detail\n${rows.join('\n')}\n\n` +
    `${failed === 0 ? 'ready to start' : 'NOT ready to start'}: ${results.length} checks, ${failed} failed, ${warned} warnings\n`
}

export async function runDoctorCommand (argv: string[], io: CommandIo = processIo): Promise<number> {
  const parsed = parseCommandLine(io, COMMAND, HELP, () => parseArgs({
    args: argv,
    options: { config: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    strict: true,
  }).values)
  if (!parsed.ok) return parsed.exitCode
  if (parsed.value.help === true) {
    io.out(HELP)
    return EXIT_OK
  }
  const results = await runDoctorChecks(parsed.value.config)
  const ok = !results.some((r) => r.status === 'fail')
  io.out(parsed.value.json === true ? JSON.stringify({ ok, checks: results }) + '\n' : doctorTable(results))
  return ok ? EXIT_OK : EXIT_FAILED
}
