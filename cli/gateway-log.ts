// The gateway's operational log: one pino JSON line per thing ops should
// know (running, link up or down, a lane fault, a journal failure, a
// logon or risk alert, stopping), each with `time`, `level`, `msg` and,
// where it is an event, `event` and its fields. `pino-pretty` reads it
// with no flags. Harness events (`--json-events`) are the same calls: one
// emit() writes both, so the two never disagree.
//
// Where it goes: a file (--log-file, reopened on SIGHUP for logrotate),
// else stdout, else, when stdout carries the harness events, stderr (and
// there only the error events and the lines that are not events).
import pino from 'pino'

/** The levels the gateway logs at: pino's names, so filters and pino-pretty know them. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal'

/**
 * Keys pino writes itself. An event field of the same name would make a
 * line with the key twice (JSON.parse keeps the last), so the log line
 * leaves such fields out; the harness line keeps them.
 */
const PINO_OWN_KEYS: ReadonlySet<string> = new Set(['time', 'level', 'msg', 'pid', 'hostname'])

export interface GatewayLogOptions {
  /** Append here instead of stdout/stderr. Created (mode 0640) with its directory when missing. */
  file?: string
  /** stdout carries harness events: log lines go to stderr instead. */
  jsonEvents: boolean
  level?: LogLevel
  /** A test's capture of the harness lines; defaults to process.stdout. */
  writeEvent?: (line: string) => void
}

export interface GatewayLog {
  readonly logger: pino.Logger
  /** Logs `msg` at `level` with the event's fields, and prints the harness line when --json-events asked for them. */
  emit: (level: LogLevel, event: string, fields: Record<string, unknown>, msg: string) => void
  /** Reopens the log file at its path (after logrotate renamed it); a no-op without a file. */
  reopen: () => void
  /** Writes what is buffered; called before exit. */
  flush: () => void
}

export function createGatewayLog (options: GatewayLogOptions): GatewayLog {
  // Synchronous writes: the log is a few lines a minute, and a line
  // written before a crash or an exit must be on disk, not in a buffer.
  const destination = options.file !== undefined
    ? pino.destination({ dest: options.file, sync: true, mkdir: true, mode: 0o640 })
    : pino.destination({ fd: options.jsonEvents ? 2 : 1, sync: true })
  // A full disk or a reopen into a removed directory must not end the
  // gateway: the harness events and /metrics still tell ops what happens.
  destination.on('error', (err: Error) => { process.stderr.write(`gatehouse: log file ${options.file ?? '(stdout)'}: ${err.message}\n`) })
  const logger = pino({
    level: options.level ?? 'info',
    // ISO times: a person reading the raw file sees the time without a tool.
    timestamp: pino.stdTimeFunctions.isoTime,
    base: { pid: process.pid },
  }, destination)
  const writeEvent = options.writeEvent ?? ((line: string) => { process.stdout.write(line) })
  const eventsOnStdoutOnly = options.jsonEvents && options.file === undefined
  return {
    logger,
    emit: (level, event, fields, msg) => {
      // Harness mode on stderr: the event is on stdout already, so stderr
      // keeps what it always had, the errors a person must see (and the
      // log-only lines, which do not come through here).
      if (eventsOnStdoutOnly && level !== 'error' && level !== 'fatal') {
        writeEvent(JSON.stringify({ event, ...fields }) + '\n')
        return
      }
      const logFields: Record<string, unknown> = { event }
      for (const [key, value] of Object.entries(fields)) if (!PINO_OWN_KEYS.has(key)) logFields[key] = value
      logger[level](logFields, msg)
      if (options.jsonEvents) writeEvent(JSON.stringify({ event, ...fields }) + '\n')
    },
    reopen: () => { if (options.file !== undefined) destination.reopen() },
    flush: () => {
      // Nothing to flush when the last write already failed (see the error handler).
      try { destination.flushSync() } catch {}
    },
  }
}
