// `gatehouse hash-password`: turns a password into the scrypt hash that
// accounts[].passwordHash holds, so no password is ever stored in config.
// On a terminal it prompts (on stderr, so `> hash.txt` keeps only the
// hash) with echo off, twice; from a pipe it reads one line, as scripts need.
import process from 'node:process'
import { hashPassword, SCRYPT_PARAMS } from '../supervisor/access/password-hash.js'
import { GatehouseError } from '../protocol/gatehouse-error.js'
import { ERROR_CODES } from '../protocol/error-codes.js'
import { EXIT_OK, EXIT_USAGE, failCommand, processIo, refuseUsage } from '../platform/cli-kit.js'

const COMMAND = 'gatehouse hash-password'

const HELP = `usage: gatehouse hash-password

Prints the scrypt hash (N=${SCRYPT_PARAMS.N}, r=${SCRYPT_PARAMS.r}, p=${SCRYPT_PARAMS.p}) of a password for
accounts[].passwordHash. On a terminal it asks for the password twice
without echoing it (Ctrl-C aborts); otherwise it reads one line from
standard input:

  echo -n 'the-password' | gatehouse hash-password

Exit codes: 0 the hash was printed, 2 too short, the two entries differ,
or a bad argument, 130 aborted with Ctrl-C.
`

const MIN_PASSWORD_CHARS = 8
/** A password is typed by a person: past this, the prompt stops taking characters (and says so at Enter). */
const MAX_PASSWORD_CHARS = 1024
/** From a pipe: more than this is not a password (a file given by mistake); refused rather than read to the end. */
const MAX_PIPED_BYTES = 64 * 1024

const CTRL_C = '\u0003'
const CTRL_D = '\u0004'
const CTRL_U = '\u0015'
const BACKSPACE = '\u0008'
const DELETE = '\u007f'

class Aborted extends GatehouseError {
  constructor () {
    super('GH_ERR_ABORTED', 'aborted at the prompt')
  }
}

/**
 * Reads lines from the terminal in raw mode (echo off): Enter ends a line,
 * Backspace/Delete removes the last character, Ctrl-U clears the line,
 * Ctrl-C (or Ctrl-D on an empty line) aborts. Whatever happens, close()
 * puts the terminal back as it was.
 */
class HiddenLineReader {
  private pending: string[] = []
  private waiter: (() => void) | null = null
  private ended = false
  private readonly onData = (chunk: Buffer | string): void => {
    // Characters, not UTF-16 units: a backspace removes a whole code point.
    this.pending.push(...String(chunk))
    this.wake()
  }

  private readonly onEnd = (): void => {
    this.ended = true
    this.wake()
  }

  private readonly onSignal = (signal: NodeJS.Signals): void => {
    this.close()
    process.stderr.write('\n')
    process.kill(process.pid, signal)
  }

  constructor (private readonly input: NodeJS.ReadStream) {
    input.setRawMode(true)
    input.setEncoding('utf8')
    input.on('data', this.onData)
    input.on('end', this.onEnd)
    // Killed while the terminal is raw, it would stay so (no echo, no
    // line editing) in the user's shell: restore, then die of the signal.
    for (const signal of ['SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) process.once(signal, this.onSignal)
    input.resume()
  }

  private wake (): void {
    const waiter = this.waiter
    this.waiter = null
    waiter?.()
  }

  private async nextChar (): Promise<string | null> {
    while (this.pending.length === 0) {
      if (this.ended) return null
      await new Promise<void>((resolve) => { this.waiter = resolve })
    }
    return this.pending.shift()!
  }

  async readLine (prompt: string): Promise<{ text: string, overlong: boolean }> {
    process.stderr.write(prompt)
    const chars: string[] = []
    let overlong = false
    for (;;) {
      const c = await this.nextChar()
      if (c === null || c === CTRL_C || (c === CTRL_D && chars.length === 0)) {
        process.stderr.write('\n')
        throw new Aborted()
      }
      if (c === '\r' || c === '\n') {
        process.stderr.write('\n')
        return { text: chars.join(''), overlong }
      }
      if (c === BACKSPACE || c === DELETE) chars.pop()
      else if (c === CTRL_U) chars.length = 0
      else if (c < ' ' || c === CTRL_D) continue
      else if (chars.length >= MAX_PASSWORD_CHARS) overlong = true
      else chars.push(c)
    }
  }

  close (): void {
    for (const signal of ['SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) process.off(signal, this.onSignal)
    this.input.off('data', this.onData)
    this.input.off('end', this.onEnd)
    if (this.input.isRaw) this.input.setRawMode(false)
    this.input.pause()
  }
}

/** The password from the terminal, typed twice; null (with the reason on stderr) if it cannot be used. */
async function promptPassword (): Promise<string | null> {
  const reader = new HiddenLineReader(process.stdin)
  try {
    const first = await reader.readLine('Password: ')
    if (first.overlong) {
      failCommand(processIo, COMMAND, `the password is longer than ${MAX_PASSWORD_CHARS} characters`)
      return null
    }
    if (first.text.length < MIN_PASSWORD_CHARS) {
      failCommand(processIo, COMMAND, `the password must be at least ${MIN_PASSWORD_CHARS} characters`)
      return null
    }
    const again = await reader.readLine('Password again: ')
    if (again.text !== first.text || again.overlong) {
      failCommand(processIo, COMMAND, 'the two passwords differ; nothing was printed')
      return null
    }
    return first.text
  } finally {
    reader.close()
  }
}

/** One line from a pipe or file, as before; null (with the reason on stderr) if it cannot be used. */
async function readPipedPassword (): Promise<string | null> {
  const chunks: Buffer[] = []
  let bytes = 0
  for await (const chunk of process.stdin) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk))
    bytes += buf.length
    if (bytes > MAX_PIPED_BYTES) {
      failCommand(processIo, COMMAND, `standard input holds more than ${MAX_PIPED_BYTES} bytes; give the password alone, on one line`)
      return null
    }
    chunks.push(buf)
  }
  const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
  if (password.length < MIN_PASSWORD_CHARS) {
    failCommand(processIo, COMMAND, `the password must be at least ${MIN_PASSWORD_CHARS} characters`)
    return null
  }
  return password
}

export async function runHashPasswordCommand (argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    processIo.out(HELP)
    return EXIT_OK
  }
  if (argv.length > 0) {
    return refuseUsage(processIo, COMMAND, `unexpected argument "${argv[0]}"; the password is read from standard input`, HELP)
  }
  let password: string | null
  if (process.stdin.isTTY === true) {
    try {
      password = await promptPassword()
    } catch (err) {
      if (!(err instanceof Aborted)) throw err
      return failCommand(processIo, COMMAND, 'aborted', ERROR_CODES.GH_ERR_ABORTED.exitCode)
    }
  } else {
    password = await readPipedPassword()
  }
  if (password === null) return EXIT_USAGE
  processIo.out(hashPassword(password) + '\n')
  return EXIT_OK
}
