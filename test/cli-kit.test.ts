// The commands' shared kit (platform/cli-kit.ts): how a bad command line is
// refused, the exit codes, subcommand dispatch, and stdout closed early by
// the reader, through real processes where a process is what is at stake.
import t from 'tap'
import { execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { parseArgs, promisify } from 'node:util'
import {
  EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, failCommand, helpHint, isUsageError, parseCommandLine, refuseUsage, runSubcommand, subcommandUsage,
  type CommandIo, type SubcommandTable,
} from '../platform/cli-kit.js'
import { ERROR_CODES } from '../protocol/error-codes.js'
import { GatehouseError } from '../protocol/gatehouse-error.js'
import { CLI_PATH } from '../supervisor/exchange-sim-process.js'

const execFileAsync = promisify(execFile)
const KIT_URL = new URL('../platform/cli-kit.js', import.meta.url).href

function capture (): CommandIo & { outText: () => string, errText: () => string } {
  let out = ''
  let err = ''
  return { out: (text) => { out += text }, err: (text) => { err += text }, outText: () => out, errText: () => err }
}

/** What node:util parseArgs throws for `args` against one boolean option --flag. */
function parseArgsError (args: string[]): unknown {
  try {
    parseArgs({ args, options: { flag: { type: 'boolean' }, name: { type: 'string' } }, strict: true })
  } catch (err) {
    return err
  }
  throw new Error(`parseArgs accepted ${args.join(' ')}`)
}

t.test('exit codes: usage is the registry\'s GH_ERR_USAGE exit code', async (t) => {
  t.equal(EXIT_OK, 0)
  t.equal(EXIT_FAILED, 1)
  t.equal(EXIT_USAGE, 2)
  t.equal(ERROR_CODES.GH_ERR_USAGE.exitCode, EXIT_USAGE)
})

t.test('refuseUsage and failCommand: one line naming the command, on stderr', async (t) => {
  const io = capture()
  t.equal(refuseUsage(io, 'gatehouse thing', 'unknown option --x', helpHint('gatehouse thing')), EXIT_USAGE)
  t.equal(io.errText(), 'gatehouse thing: unknown option --x\n\nRun `gatehouse thing --help` for the options.\n')
  t.equal(io.outText(), '', 'nothing on stdout, so `> file` stays clean')
  const failed = capture()
  t.equal(failCommand(failed, 'gatehouse thing', 'no records'), EXIT_FAILED)
  t.equal(failCommand(failed, 'gatehouse thing', 'unreachable', 3), 3)
  t.equal(failed.errText(), 'gatehouse thing: no records\ngatehouse thing: unreachable\n')
  t.equal(helpHint('gatehouse admin sessions', 'its options'), 'Run `gatehouse admin sessions --help` for its options.\n')
})

t.test('isUsageError: ours and parseArgs\' refusals, nothing else', async (t) => {
  t.ok(isUsageError(new UsageError('bad')))
  t.equal(new UsageError('bad').code, 'GH_ERR_USAGE')
  t.ok(new UsageError('bad') instanceof GatehouseError)
  t.ok(isUsageError(parseArgsError(['--nope'])), 'unknown option')
  t.ok(isUsageError(parseArgsError(['--name'])), 'an option without its value')
  t.ok(isUsageError(parseArgsError(['stray'])), 'an unexpected positional')
  t.notOk(isUsageError(new GatehouseError('GH_ERR_CONFIG', 'not a usage error')))
  t.notOk(isUsageError(Object.assign(new Error('EACCES'), { code: 'EACCES' })))
  t.notOk(isUsageError('a string'))
  t.notOk(isUsageError(null))
})

t.test('parseCommandLine: the value, or the refusal; other errors are not the user\'s', async (t) => {
  const io = capture()
  t.same(parseCommandLine(io, 'gatehouse thing', 'HELP\n', () => 42), { ok: true, value: 42 })
  t.same(parseCommandLine(io, 'gatehouse thing', 'HELP\n', () => { throw new UsageError('give DIR') }), { ok: false, exitCode: EXIT_USAGE })
  t.equal(io.errText(), 'gatehouse thing: give DIR\n\nHELP\n')
  t.throws(() => parseCommandLine(io, 'gatehouse thing', 'HELP\n', () => { throw new TypeError('a bug') }), { name: 'TypeError' })
})

t.test('runSubcommand: dispatch, usage, help and unknown names', async (t) => {
  const ran: string[][] = []
  const table: SubcommandTable = {
    command: 'gatehouse journal',
    noun: 'tool',
    subcommands: {
      verify: { summary: 'check chains', run: async (argv) => { ran.push(argv); return 7 } },
      export: { summary: 'decoded records', run: async () => EXIT_OK },
    },
  }
  const usage = 'usage: gatehouse journal <tool> [options]\n\ntools:\n  verify  check chains\n  export  decoded records\n\nRun `gatehouse journal <tool> --help` for the options of each.\n'
  t.equal(subcommandUsage(table), usage)

  const io = capture()
  t.equal(await runSubcommand(io, table, ['verify', 'DIR', '--json']), 7, 'the subcommand\'s exit code')
  t.same(ran, [['DIR', '--json']], 'the rest of argv')
  t.equal(await runSubcommand(io, table, []), EXIT_USAGE, 'no name: usage, exit 2')
  t.equal(await runSubcommand(io, table, ['--help']), EXIT_OK)
  t.equal(await runSubcommand(io, table, ['-h']), EXIT_OK)
  t.equal(io.outText(), usage.repeat(3), 'usage on stdout each time')
  for (const name of ['nosuch', 'help', 'constructor', '__proto__', 'toString']) {
    const refused = capture()
    t.equal(await runSubcommand(refused, table, [name]), EXIT_USAGE, `${name}: refused`)
    t.equal(refused.errText(), `gatehouse journal: unknown tool "${name}"\n\n${usage}`)
  }
  const helpWord = capture()
  t.equal(await runSubcommand(helpWord, table, ['help'], { helpWord: true }), EXIT_OK, '`help` where the command allows it')
})

t.test('through the real CLI: an unknown or inherited command name is a usage error, not a crash', async (t) => {
  for (const name of ['nosuch', 'constructor']) {
    const result = await execFileAsync(process.execPath, [CLI_PATH, name]).then(() => ({ code: 0, stdout: '', stderr: '' }), (e: { code: number, stdout: string, stderr: string }) => e)
    t.equal(result.code, EXIT_USAGE, name)
    t.match(result.stderr, new RegExp(`^gatehouse: unknown command "${name}"\\n\\nusage: gatehouse <command>`))
    t.equal(result.stdout, '')
  }
})

t.test('processIo: a reader that closes stdout early ends the command quietly with exit 0', async (t) => {
  // Writes until the pipe breaks, as `gatehouse journal search DIR | head -1` does.
  const script = `import { processIo } from ${JSON.stringify(KIT_URL)}\n` +
    'const line = "x".repeat(1023) + "\\n"\nconst more = () => { for (let i = 0; i < 64; i++) processIo.out(line); setImmediate(more) }\nmore()\n'
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  await once(child.stdout, 'data')
  child.stdout.destroy()
  const [code] = await once(child, 'exit') as [number | null]
  t.equal(code, EXIT_OK)
  t.equal(stderr, '', 'no stack trace')
})

t.test('the kit is what the commands use: a parseArgs refusal of gatehouse start, through the real CLI', async (t) => {
  const result = await execFileAsync(process.execPath, [CLI_PATH, 'start', '--bogus']).then(() => ({ code: 0, stdout: '', stderr: '' }), (e: { code: number, stdout: string, stderr: string }) => e)
  t.equal(result.code, EXIT_USAGE)
  t.match(result.stderr, /^gatehouse start: Unknown option '--bogus'.*\n\nusage: gatehouse start/)
  t.notMatch(result.stderr, /\bat .*\.js:\d+/, 'no stack trace')
})
