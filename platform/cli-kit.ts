// The commands' shared kit: where their text goes, the exit codes, how a
// bad command line is refused, and the table of subcommands. Every command
// of `gatehouse` answers a usage error the same way: one line naming the
// command and what is wrong, then its help or a hint, on stderr, exit 2.
import { GatehouseError } from '../protocol/gatehouse-error.js'
import { USAGE_EXIT_CODE } from '../protocol/error-codes.js'

/** Done as asked. */
export const EXIT_OK = 0
/** Ran, and the answer is no: a check failed, the gateway refused, nothing matched. */
export const EXIT_FAILED = 1
/** The command line is wrong; nothing was done. */
export const EXIT_USAGE = USAGE_EXIT_CODE

/** Where a command writes: the process's stdout and stderr, or a test's capture. */
export interface CommandIo {
  out: (text: string) => void
  err: (text: string) => void
}

let stdoutGuarded = false

function writeStdout (text: string): void {
  if (!stdoutGuarded) {
    stdoutGuarded = true
    // `gatehouse journal search ... | head` closes the pipe early: the
    // reader has seen enough, which is not a failure to report with a stack trace.
    process.stdout.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(EXIT_OK)
      throw err
    })
  }
  process.stdout.write(text)
}

export const processIo: CommandIo = {
  out: writeStdout,
  err: (text) => { process.stderr.write(text) },
}

/** A bad command line: the message names the option or argument and what it expects. */
export class UsageError extends GatehouseError {
  declare readonly code: 'GH_ERR_USAGE'
  constructor (message: string) {
    super('GH_ERR_USAGE', message)
  }
}

/** Our UsageError, or node:util parseArgs refusing an option (its codes are ERR_PARSE_ARGS_*). */
export function isUsageError (err: unknown): err is Error {
  if (err instanceof UsageError) return true
  const code = (err as { code?: unknown } | null)?.code
  return err instanceof Error && typeof code === 'string' && PARSE_ARGS_CODES.has(code)
}

/** What node:util parseArgs throws for a command line it refuses (Node 20). */
const PARSE_ARGS_CODES: ReadonlySet<string> = new Set([
  'ERR_PARSE_ARGS_UNKNOWN_OPTION',
  'ERR_PARSE_ARGS_INVALID_OPTION_VALUE',
  'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL',
])

/** The line that sends a user to a command's help. */
export function helpHint (command: string, what = 'the options'): string {
  return `Run \`${command} --help\` for ${what}.\n`
}

/**
 * Refuses a command line: `<command>: <message>`, a blank line, then
 * `help` (the command's help text, or a helpHint()), on stderr. Returns
 * EXIT_USAGE for the command to return.
 */
export function refuseUsage (io: CommandIo, command: string, message: string, help: string): number {
  io.err(`${command}: ${message}\n\n${help}`)
  return EXIT_USAGE
}

/** Reports a failure in one line, `<command>: <message>`, and returns its exit code (EXIT_FAILED unless given). */
export function failCommand (io: CommandIo, command: string, message: string, exitCode = EXIT_FAILED): number {
  io.err(`${command}: ${message}\n`)
  return exitCode
}

/**
 * Parses a command line with `parse`, refusing it (refuseUsage) when parse
 * throws a usage error; any other error is not the user's and propagates.
 */
export function parseCommandLine<T> (io: CommandIo, command: string, help: string, parse: () => T): { ok: true, value: T } | { ok: false, exitCode: number } {
  try {
    return { ok: true, value: parse() }
  } catch (err) {
    if (!isUsageError(err)) throw err
    return { ok: false, exitCode: refuseUsage(io, command, err.message, help) }
  }
}

/** One subcommand of a command that dispatches (`gatehouse`, `gatehouse journal`). */
export interface Subcommand {
  summary: string
  run: (argv: string[]) => Promise<number>
}

export interface SubcommandTable {
  /** The command that dispatches, e.g. "gatehouse journal". */
  command: string
  /** What a subcommand is called in its usage: "command", "tool". */
  noun: string
  subcommands: Record<string, Subcommand>
}

/** The dispatching command's usage: one line per subcommand with its summary. */
export function subcommandUsage ({ command, noun, subcommands }: SubcommandTable): string {
  const width = Math.max(...Object.keys(subcommands).map((name) => name.length))
  const lines = Object.entries(subcommands).map(([name, { summary }]) => `  ${name.padEnd(width)}  ${summary}`)
  return `usage: ${command} <${noun}> [options]\n\n${noun}s:\n${lines.join('\n')}\n\n` +
    `Run \`${command} <${noun}> --help\` for the options of each.\n`
}

/**
 * Runs the subcommand argv[0] names with the rest. No name prints the
 * usage and is a usage error; --help, -h (and `help`, if allowed) print
 * it and succeed; an unknown name is refused with the usage.
 */
export async function runSubcommand (io: CommandIo, table: SubcommandTable, argv: string[], options: { helpWord?: boolean } = {}): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h' || (options.helpWord === true && name === 'help')) {
    io.out(subcommandUsage(table))
    return name === undefined ? EXIT_USAGE : EXIT_OK
  }
  const subcommand = Object.hasOwn(table.subcommands, name) ? table.subcommands[name] : undefined
  if (subcommand === undefined) {
    return refuseUsage(io, table.command, `unknown ${table.noun} "${name}"`, subcommandUsage(table))
  }
  return subcommand.run(rest)
}
