// `gatehouse exchange-sim`: runs the exchange simulator on its own until
// SIGTERM or SIGINT; SIGUSR2 rolls the trading day. Prints one JSON line
// per operator event on stdout, starting with
// {"event":"listening","host":...,"port":...} once it accepts connections
// (test/helpers/exchange-sim-process.ts waits for it).
import process from 'node:process'
import type { InstrumentInit } from '../protocol/messages.js'
import { DEFAULT_MAX_ACCOUNTS, DEFAULT_SIM_HOST, DEFAULT_SIM_PORT } from './constants.js'
import { listenFailureText } from '../platform/listen-failure.js'
import { EXIT_OK, EXIT_USAGE, failCommand, processIo } from '../platform/cli-kit.js'
import { SimConfigError } from './errors.js'
import { ExchangeSimulator, todayTradingDay, tradingDayDate, type ExchangeSimulatorOptions, type SimEvent } from './exchange-sim.js'
import { DEFAULT_INSTRUMENTS, loadInstrumentsFile } from './instruments.js'

/** Parsed command line; every field has a value. */
export interface ExchangeSimArgs {
  host: string
  port: number
  instrumentsFile: string | undefined
  recordFile: string | undefined
  environment: 'production' | 'test'
  tradingDay: string
  faultRejectEvery: number
  faultDelayMs: number
  faultDropEvery: number
  maxAccounts: number
  help: boolean
}

type FlagKind = 'string' | 'port' | 'count' | 'positive' | 'environment' | 'day'

/** Every flag: the field it sets, how its value is checked, the value's name in --help, and its help line. */
const FLAGS: Readonly<Record<string, readonly [keyof ExchangeSimArgs, FlagKind, string, string]>> = Object.freeze({
  '--host': ['host', 'string', 'HOST', `address to listen on (default ${DEFAULT_SIM_HOST})`],
  '--port': ['port', 'port', 'PORT', `TCP port; 0 picks a free one (default ${DEFAULT_SIM_PORT})`],
  '--instruments': ['instrumentsFile', 'string', 'FILE', 'JSON array of Instrument objects to list instead of the defaults'],
  '--record': ['recordFile', 'string', 'FILE', 'append one JSON line per new order received to FILE'],
  '--environment': ['environment', 'environment', 'ENV', 'environment reported at logon: production or test (default production)'],
  '--trading-day': ['tradingDay', 'day', 'YYYYMMDD', 'trading day reported at logon (default today, local time)'],
  '--fault-reject-every': ['faultRejectEvery', 'count', 'N', 'reject every Nth new order with EXCHANGE_REJECTED (default 0 = off)'],
  '--fault-delay-ms': ['faultDelayMs', 'count', 'N', 'delay every execution report by N ms (default 0 = off)'],
  '--fault-drop-every': ['faultDropEvery', 'count', 'N', 'silently drop every Nth new order, no report (default 0 = off)'],
  '--max-accounts': ['maxAccounts', 'positive', 'N', `member accounts holding positions at once; an order from one more is rejected (default ${DEFAULT_MAX_ACCOUNTS})`],
})

export function exchangeSimUsage (): string {
  const rows: Array<readonly [string, string]> = Object.entries(FLAGS)
    .map(([flag, [, , value, help]]) => [`${flag} ${value}`, help] as const)
  rows.push(['--help', 'print this help and exit'])
  const width = Math.max(...rows.map(([left]) => left.length))
  return 'usage: gatehouse exchange-sim [options]\n\n' +
    'Runs the exchange simulator: a price-time order book per instrument behind the\n' +
    'link protocol (protocol/gatehouse/v1/link.proto). Prints JSON event lines on\n' +
    'stdout, the first being {"event":"listening",...}. Stops on SIGTERM or SIGINT;\n' +
    'SIGHUP is ignored.\n\n' +
    'Positions: every member account (LinkNewOrder.account) holds long and short\n' +
    "lots per instrument, today's and yesterday's apart, as the gateway counts them\n" +
    '(docs/positions.md). OFFSET_OPEN (or unset) opens; a close asking more than the\n' +
    'account may close is REJECTED with CLOSE_EXCEEDS_POSITION. A plain close\n' +
    "(OFFSET_CLOSE) takes yesterday's lots only on SHFE and INE, today's then\n" +
    "yesterday's elsewhere; OFFSET_CLOSE_TODAY and OFFSET_CLOSE_YESTERDAY take only\n" +
    'the lots they name. Every fill carries a trade_id, T<trading day>-<n>, the same\n' +
    'on both sides of one match.\n\n' +
    'Trading-day roll: SIGUSR2 ends the day. Working (GFD) orders expire with a\n' +
    "CANCELLED report, today's lots become yesterday's, the trading day advances one\n" +
    'calendar day (weekends and holidays are not skipped), and every connected link\n' +
    'is logged out, so its gateway logs on again and learns the new day. Sequence\n' +
    'numbers and resend history carry on. A {"event":"trading-day-roll",...} line\n' +
    'reports it.\n\n' +
    'options:\n' + rows.map(([left, help]) => `  ${left.padEnd(width)}  ${help}`).join('\n') + '\n'
}

/** Parses argv; throws SimConfigError naming the flag on anything wrong. */
export function parseExchangeSimArgs (argv: readonly string[], now = new Date()): ExchangeSimArgs {
  const args: ExchangeSimArgs = {
    host: DEFAULT_SIM_HOST,
    port: DEFAULT_SIM_PORT,
    instrumentsFile: undefined,
    recordFile: undefined,
    environment: 'production',
    tradingDay: todayTradingDay(now),
    faultRejectEvery: 0,
    faultDelayMs: 0,
    faultDropEvery: 0,
    maxAccounts: DEFAULT_MAX_ACCOUNTS,
    help: false,
  }
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!
    if (token === '--help' || token === '-h') {
      args.help = true
      continue
    }
    const eq = token.indexOf('=')
    const flag = token.startsWith('--') && eq > 0 ? token.slice(0, eq) : token
    const spec = FLAGS[flag]
    if (spec === undefined) {
      throw new SimConfigError(`unknown option ${JSON.stringify(flag)}; run \`gatehouse exchange-sim --help\` for the list`)
    }
    let raw: string | undefined
    if (flag !== token) raw = token.slice(eq + 1)
    else {
      raw = argv[++i]
      if (raw === undefined) throw new SimConfigError(`${flag} needs a value`)
    }
    const [field, kind] = spec
    const fields = args as unknown as Record<string, unknown>
    fields[field] = parseValue(flag, kind, raw)
  }
  return args
}

function parseValue (flag: string, kind: FlagKind, raw: string): string | number {
  switch (kind) {
    case 'string':
      if (raw === '') throw new SimConfigError(`${flag} must not be empty`)
      return raw
    case 'port': {
      const n = /^\d+$/.test(raw) ? Number(raw) : NaN
      if (!(n >= 0 && n <= 65_535)) throw new SimConfigError(`${flag} must be a port number from 0 to 65535, got ${JSON.stringify(raw)}`)
      return n
    }
    case 'count': {
      const n = /^\d+$/.test(raw) ? Number(raw) : NaN
      if (!Number.isSafeInteger(n)) throw new SimConfigError(`${flag} must be a whole number (0 = off), got ${JSON.stringify(raw)}`)
      if (flag === '--fault-delay-ms' && n > 2_147_483_647) throw new SimConfigError(`${flag} must be at most 2147483647, got ${raw}`)
      return n
    }
    case 'positive': {
      const n = /^\d+$/.test(raw) ? Number(raw) : NaN
      if (!Number.isSafeInteger(n) || n < 1) throw new SimConfigError(`${flag} must be a whole number of at least 1, got ${JSON.stringify(raw)}`)
      return n
    }
    case 'environment':
      if (raw !== 'production' && raw !== 'test') throw new SimConfigError(`${flag} must be "production" or "test", got ${JSON.stringify(raw)}`)
      return raw
    case 'day':
      if (tradingDayDate(raw) === null) {
        throw new SimConfigError(`${flag} must be a real date as YYYYMMDD, e.g. 20260105, got ${JSON.stringify(raw)}`)
      }
      return raw
  }
}

/** Builds simulator options from parsed args (loads --instruments). Throws SimConfigError. */
export function exchangeSimOptions (args: ExchangeSimArgs, onEvent?: (event: SimEvent) => void): ExchangeSimulatorOptions {
  const instruments: readonly InstrumentInit[] = args.instrumentsFile === undefined
    ? DEFAULT_INSTRUMENTS
    : loadInstrumentsFile(args.instrumentsFile)
  return {
    host: args.host,
    port: args.port,
    instruments,
    ...(args.recordFile === undefined ? {} : { recordFile: args.recordFile }),
    environment: args.environment,
    tradingDay: args.tradingDay,
    faults: { rejectEvery: args.faultRejectEvery, delayMs: args.faultDelayMs, dropEvery: args.faultDropEvery },
    maxAccounts: args.maxAccounts,
    ...(onEvent === undefined ? {} : { onEvent }),
  }
}

const COMMAND = 'gatehouse exchange-sim'

function printEvent (event: SimEvent): void {
  processIo.out(JSON.stringify(event) + '\n')
}

/**
 * Entry point of `gatehouse exchange-sim`. Resolves with the exit code:
 * 0 after a signal-initiated shutdown or --help, 2 for a bad flag or
 * instruments file, 1 if the simulator cannot start (e.g. port in use).
 */
export async function runExchangeSimCommand (argv: string[]): Promise<number> {
  let options: ExchangeSimulatorOptions
  try {
    const args = parseExchangeSimArgs(argv)
    if (args.help) {
      processIo.out(exchangeSimUsage())
      return EXIT_OK
    }
    options = exchangeSimOptions(args, printEvent)
  } catch (err) {
    if (!(err instanceof SimConfigError)) throw err
    return failCommand(processIo, COMMAND, err.message, EXIT_USAGE)
  }

  // A hangup reaches the whole process group: a gateway's embedded
  // simulator got the SIGHUP sent to `gatehouse start` from a closed
  // terminal, and died of it while the gateway (which reopens its audit
  // file on SIGHUP) went on without an exchange.
  process.on('SIGHUP', () => {})
  const sim = new ExchangeSimulator(options)
  let address: { host: string, port: number }
  try {
    address = await sim.start()
  } catch (err) {
    const host = options.host ?? DEFAULT_SIM_HOST
    const port = options.port ?? DEFAULT_SIM_PORT
    const code = (err as NodeJS.ErrnoException).code
    // For whoever started it (gatehouse start), who names its own config field.
    if (code !== undefined) processIo.out(JSON.stringify({ event: 'listen-failed', host, port, code }) + '\n')
    await sim.stop()
    return failCommand(processIo, COMMAND, code === undefined ? `cannot start on ${host}:${port}: ${(err as Error).message}` : listenFailureText({ host: '--host', port: '--port' }, host, port, code))
  }
  printEvent({ event: 'listening', host: address.host, port: address.port })
  // The end of the trading day, on the operator's (or a test's) signal.
  const onRoll = (): void => { sim.rollTradingDay() }
  process.on('SIGUSR2', onRoll)

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (name: NodeJS.Signals): void => {
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
      resolve(name)
    }
    process.on('SIGTERM', onSignal)
    process.on('SIGINT', onSignal)
  })
  process.off('SIGUSR2', onRoll)
  await sim.stop()
  printEvent({ event: 'stopped', signal })
  return EXIT_OK
}
