// `gatehouse start`: run the gateway. With no arguments it runs on the
// embedded defaults (loopback only) and starts the bundled exchange
// simulator, so `npm ci && npm start` is a working system.
import { parseArgs } from 'node:util'
import { setTimeout as delay } from 'node:timers/promises'
import { ConfigError, adminSocketPath, journalDir, type GatewayConfig } from '../config/config.js'
import { loadConfigFile, resolveConfig } from '../config/load.js'
import { ExchangeSimStartError, startExchangeSimProcess, type ExchangeSimProcess } from '../supervisor/exchange-sim-process.js'
import { listenFailureText, sectionFields } from '../platform/listen-failure.js'
import { Supervisor } from '../supervisor/supervisor.js'
import { reasonName } from '../protocol/messages.js'
import { fdReserveProblem, raiseNofileLimit, type FdLimitReport } from '../supervisor/fd-limit.js'
import { EXIT_OK, EXIT_USAGE, failCommand, isUsageError, processIo, refuseUsage } from '../platform/cli-kit.js'
import { createGatewayLog, type GatewayLog } from './gateway-log.js'

const HELP = `usage: gatehouse start [--config FILE] [--print-config] [--json-events] [--log-file FILE]

Runs the gateway: one worker thread per enabled lane (terminal, platform,
hft), ops HTTP (/healthz), and, when exchange.embeddedSimulator is true (the
default), the exchange simulator as a child process.

Once running, it logs pino JSON lines (time, level, msg, event) on stdout;
read them with \`gatehouse start | npx pino-pretty\`. A refusal to start
is one plain line on stderr and exit code 1 (2 for a bad config).

options:
  --config FILE    JSON config merged over the embedded defaults
                   (objects field by field, arrays replaced whole)
  --print-config   print the effective config as JSON and exit
  --log-file FILE  append the log lines to FILE instead (created with its
                   directory; reopened on SIGHUP)
  --log-level L    debug, info (default), warn or error
  --json-events    print events as bare JSON lines on stdout, for
                   supervisors and harnesses: {"event":"ready",...},
                   {"event":"link-state",...}, {"event":"stopped"}; the log
                   then goes to stderr (or --log-file), and on stderr holds
                   only errors and lines that are not events
  -h, --help       show this help

Stop with Ctrl-C (SIGINT) or SIGTERM: lanes close their sockets, the
exchange links log out, then the simulator stops. SIGHUP reopens the log
file and the logon audit file (<runDir>/audit/logon-steps.jsonl) at their
paths, for logrotate; it stops nothing.
`

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const

/** How long start waits for the exchange links before reporting ready anyway. */
const LINK_UP_WAIT_MS = 5000

function describeFds (fds: FdLimitReport): string {
  const raised = fds.softBefore === fds.soft ? '' : ` (raised from ${fds.softBefore})`
  return `  open files    limit ${fds.soft}${raised}, hard ${fds.hard}; ${fds.unauthenticatedCaps} for connections not logged on, ` +
    `${fds.reserve} reserved${fds.note === '' ? '' : `; ${fds.note}`}`
}

function describe (config: GatewayConfig, supervisor: Supervisor, sim: ExchangeSimProcess | null, fds: FdLimitReport): string {
  const running = supervisor.running()
  const lines = [`gatehouse ${config.gatewayId} is running`]
  for (const [name, lane] of Object.entries(running.lanes)) {
    lines.push(`  lane ${name.padEnd(8)} ${lane.tls ? 'wss' : 'ws'}://${lane.host}:${lane.port}`)
  }
  const ops = `${running.ops.tls ? 'https' : 'http'}://${running.ops.host}:${running.ops.port}`
  lines.push(`  ops           ${ops}/healthz and /metrics; ${ops}/accounts/<id>/counters with the bearer token in ${running.ops.tokenFile}`)
  lines.push(config.admin.enabled
    ? `  admin         ${adminSocketPath(config)} (\`gatehouse admin --help\`)`
    : '  admin         OFF (admin.enabled is false)')
  lines.push(config.journal.enabled
    ? `  journal       ${journalDir(config)} (fsync ${typeof config.journal.fsync === 'string' ? config.journal.fsync : `every ${config.journal.fsync.intervalMs} ms`}; verify with \`gatehouse journal verify ${journalDir(config)}\`)`
    : '  journal       OFF: nothing is recorded (journal.enabled is false; for benchmarks only)')
  lines.push(sim === null
    ? `  exchange      ${config.exchange.host}:${config.exchange.port} (external)`
    : `  exchange      ${sim.host}:${sim.port} (embedded simulator, pid ${sim.child.pid})`)
  lines.push(describeFds(fds))
  lines.push('Try `npm run demo` in another terminal. Ctrl-C stops.')
  return lines.join('\n') + '\n'
}

/**
 * Every expected start-up failure (a busy port, a bad token file, a
 * journal that cannot be written) ends here: one line on stderr, no stack,
 * exit code 1. Config errors print one such line per problem and exit 2.
 */
function didNotStart (reason: string): number {
  return failCommand(processIo, COMMAND, `did not start: ${reason.replace(/\s*\n\s*/g, ' ')}`)
}

const COMMAND = 'gatehouse start'

export async function runStartCommand (argv: string[]): Promise<number> {
  let values: { config?: string, 'print-config'?: boolean, 'json-events'?: boolean, 'log-file'?: string, 'log-level'?: string, help?: boolean }
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        'print-config': { type: 'boolean' },
        'json-events': { type: 'boolean' },
        'log-file': { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }))
  } catch (err) {
    if (!isUsageError(err)) throw err
    return refuseUsage(processIo, COMMAND, err.message, HELP)
  }
  if (values.help === true) {
    processIo.out(HELP)
    return EXIT_OK
  }
  const logLevel = values['log-level'] ?? 'info'
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    return refuseUsage(processIo, COMMAND, `--log-level must be one of ${LOG_LEVELS.join(', ')} (got "${logLevel}")`, HELP)
  }
  if (values['log-file'] === '') return refuseUsage(processIo, COMMAND, '--log-file needs a path', HELP)
  let config: GatewayConfig
  try {
    config = values.config === undefined ? resolveConfig() : loadConfigFile(values.config)
  } catch (err) {
    if (err instanceof ConfigError) {
      // One line per problem, each naming its field.
      for (const problem of err.problems) failCommand(processIo, COMMAND, `did not start: invalid config: ${problem}`)
      return EXIT_USAGE
    }
    throw err
  }
  if (values['print-config'] === true) {
    process.stdout.write(JSON.stringify(config, null, 2) + '\n')
    return 0
  }

  const jsonEvents = values['json-events'] === true
  let log: GatewayLog
  try {
    log = createGatewayLog({ file: values['log-file'], jsonEvents, level: logLevel as (typeof LOG_LEVELS)[number] })
  } catch (err) {
    return didNotStart(`--log-file ${values['log-file']}: ${(err as Error).message}`)
  }
  // SIGHUP's default action ends the process: a logrotate postrotate
  // script (or a closed terminal) stopped the gateway mid-session. It
  // reopens the log file, and the logon audit file once the supervisor
  // has one, instead.
  let onHangup = (): void => {}
  process.on('SIGHUP', () => {
    log.reopen()
    onHangup()
    log.emit('info', 'log-reopened', { file: values['log-file'] ?? null }, 'SIGHUP: reopened the log and logon audit files')
  })
  // Each connection holds a descriptor: raise the soft limit to the hard
  // one, and refuse caps that would leave no reserve for the rest.
  const fds = raiseNofileLimit(config)
  const fdProblem = fdReserveProblem(config, fds.soft)
  if (fdProblem !== null) {
    return failCommand(processIo, COMMAND, `${fdProblem}\nThe gateway did not start.`, EXIT_USAGE)
  }

  let sim: ExchangeSimProcess | null = null
  if (config.exchange.embeddedSimulator) {
    // The bundled simulator is never a production exchange, and says so
    // (lanes report it on /healthz; testing AppIDs may reach it).
    try {
      sim = await startExchangeSimProcess(['--host', config.exchange.host, '--port', String(config.exchange.port), '--environment', 'test'])
    } catch (err) {
      const code = err instanceof ExchangeSimStartError ? err.listenErrorCode : undefined
      return didNotStart(code === undefined
        ? `the embedded exchange simulator did not start: ${(err as Error).message}`
        : listenFailureText(sectionFields('exchange'), config.exchange.host, config.exchange.port, code))
    }
    // With port 0 the simulator picked one; the lanes must dial that.
    config = { ...config, exchange: { ...config.exchange, port: sim.port } }
  }
  // A write past RLIMIT_FSIZE raises SIGXFSZ, whose default action kills
  // the process. Caught, the write fails with EFBIG instead, and the
  // journal stream that hit the limit fails closed while the rest of the
  // gateway keeps serving (and ops are told).
  process.on('SIGXFSZ', () => {})
  let supervisor: Supervisor
  try {
    supervisor = new Supervisor(config)
  } catch (err) {
    await sim?.stop()
    return didNotStart((err as Error).message)
  }
  onHangup = () => { supervisor.access.audit.reopen() }
  supervisor.access.audit.onError = (error) => {
    log.logger.error({ event: 'audit-file-error', error: error.message }, `logon audit file: ${error.message} (the journal still records every logon step)`)
  }
  // Monitor warnings and logon alerts (new, held or abnormal terminals,
  // fingerprint churn, lockouts, a full lock store, shedding) are for ops:
  // one warn line per crossing.
  supervisor.onRiskAlert = (alert) => {
    log.emit('warn', 'risk-alert', { ...alert, monitor: reasonName(alert.monitor) },
      `risk alert: ${alert.account} ${alert.instrument} on ${alert.lane}: ${reasonName(alert.monitor)} at ${alert.observed} ` +
      `(warning ${alert.warningLevel}, blocking ${alert.blockingLevel})`)
  }
  supervisor.access.onAlert = (alert) => {
    log.emit('warn', 'logon-alert', { ...alert, time: new Date(alert.timeMs).toISOString() },
      `logon alert: ${alert.kind}: ${alert.text}${alert.ip === undefined ? '' : ` (from ${alert.ip})`}`)
  }
  // A journal that cannot be written fails closed where it is: loud.
  supervisor.onJournalFailure = (where, error) => {
    log.emit('error', 'journal-failed', { where, error },
      `JOURNAL FAILURE in ${where}: ${error}. It sends nothing more (fail closed); fix the disk and restart.`)
  }
  // Journal replication to NATS: trading continues without it, so a warning, not a failure.
  supervisor.onReplicationAlert = (alert) => {
    log.emit(alert.kind === 'nats-lost' || alert.kind === 'lag-high' ? 'warn' : 'info', 'replication-alert', { ...alert }, `journal replication: ${alert.text}`)
  }
  supervisor.onLaneEvent = (event) => {
    if (event.type === 'lane-fault' || event.type === 'disk-space') {
      const { type, ...detail } = event
      if (type === 'lane-fault') {
        log.emit('error', type, detail, `LANE FAULT in lane ${event.lane} (${event.where}${event.sessionId === 0 ? '' : `, session ${event.sessionId}`}): ${event.error}. Contained; the lane keeps serving.`)
      } else {
        log.emit(event.state === 'ok' ? 'info' : event.state === 'low' ? 'warn' : 'error', type, detail,
          `journal disk on lane ${event.lane}: ${event.state} (${event.freeBytes} bytes free; low watermark ${event.lowWatermarkBytes}, floor ${event.floorBytes})` +
          `${event.state === 'low' ? ': new logons are refused' : event.state === 'floor' ? ': the lane has failed closed' : ''}`)
      }
      return
    }
    if (event.type === 'recovered') {
      const { type: _type, ...report } = event
      log.emit('info', 'recovered', report, report.tradingDay === null
        ? `lane ${event.lane}: nothing to recover (no trading day in the journal)`
        : `lane ${event.lane}: recovered trading day ${report.tradingDay} from ${report.records} journal records: ` +
          `${report.ordersReplayed} orders replayed, ${report.workingOrders} still working, exchange reports up to seq ${report.lastReceivedSeq}`)
      for (const problem of report.problems) log.logger.warn({ event: 'recovery-problem', lane: event.lane, problem }, `lane ${event.lane}: recovery: ${problem}`)
      return
    }
    if (event.type !== 'link-state') return
    log.emit(event.state === 'up' ? 'info' : 'warn', 'link-state', { lane: event.lane, state: event.state, detail: event.detail },
      `lane ${event.lane}: exchange link ${event.state}${event.detail === '' ? '' : ` (${event.detail})`}`)
  }
  try {
    await supervisor.start()
    // Report ready once the lanes can trade, or after a bounded wait when
    // the exchange is not answering (the link-state events say so).
    await Promise.race([supervisor.whenLinksUp(), delay(LINK_UP_WAIT_MS, undefined, { ref: false })])
  } catch (err) {
    await sim?.stop()
    return didNotStart((err as Error).message)
  }
  for (const problem of supervisor.adminStateSkipped) log.logger.warn({ event: 'admin-state-skipped', problem }, `admin state: not restored: ${problem}`)
  log.emit('info', 'ready', { pid: process.pid, ...supervisor.running(), exchange: { host: config.exchange.host, port: config.exchange.port, embedded: sim !== null }, openFiles: fds },
    describe(config, supervisor, sim, fds).trimEnd())

  const signal = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => { resolve('SIGINT') })
    process.once('SIGTERM', () => { resolve('SIGTERM') })
  })
  log.emit('info', 'stopping', { signal }, `${signal}: stopping`)
  await supervisor.stop()
  await sim?.stop()
  log.emit('info', 'stopped', { signal }, 'stopped')
  log.flush()
  return 0
}
