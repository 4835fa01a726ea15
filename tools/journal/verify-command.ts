// `gatehouse journal verify DIR`: checks every chain and seal.
//
// Exit codes: 0 the journal verifies, 1 it does not (the first bad record
// is printed), 2 the command line is wrong or DIR holds no segments.
import { REPLICA_HELP } from './replica-help.js'
import { requireJournalDir } from './search-command.js'
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, UsageError, failCommand, processIo, refuseUsage, type CommandIo } from '../../platform/cli-kit.js'
import { formatVerifyResult, verifyJournal, type VerifyResult } from '../../journal/verify.js'

export const VERIFY_HELP = `usage: gatehouse journal verify DIR [--require-sealed] [--json] [--verbose]

Checks every segment of every stream under DIR (or the one stream DIR holds):
record CRCs, stream sequence numbers, batch ends, the hash chain (at each
chain point; per batch in format 1 segments), each
segment's seal, and the links between segments. Prints the first bad record
(file, byte offset, seq, and whether it was changed, is missing, reordered,
truncated or unsealed) and exits 1 if anything is wrong. Says what it
checked (streams, segments, records); a DIR with no segments at all is
refused (exit 2) rather than passed.

  --require-sealed  report each stream's live (unsealed) segment as a problem
  --json            print the whole result as JSON
  --verbose         list every segment with its status
  -h, --help        show this help

${REPLICA_HELP}`

const COMMAND = 'gatehouse journal verify'

/**
 * `io.out` gets the report; `io.err` the usage errors and failures to read
 * (they used to go to stdout, into the file of `verify DIR --json > report.json`).
 */
export function runVerifyCommand (argv: readonly string[], io: CommandIo = processIo): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(VERIFY_HELP)
    return EXIT_OK
  }
  const flags = new Set(argv.filter((a) => a.startsWith('--')))
  const dirs = argv.filter((a) => !a.startsWith('--'))
  const unknown = [...flags].filter((f) => f !== '--require-sealed' && f !== '--json' && f !== '--verbose')
  if (unknown.length > 0 || dirs.length !== 1) {
    return refuseUsage(io, COMMAND, unknown.length > 0 ? `unknown option ${unknown[0]}` : 'give exactly one DIR', VERIFY_HELP)
  }
  const dir = dirs[0]!
  // A file given as DIR used to end in an ENOTDIR stack trace, and the
  // runDir (`var` for `var/journal`) or an empty directory in "journal OK:
  // 0 segments", exit 0: a pass with nothing verified.
  try {
    requireJournalDir(dir)
  } catch (e) {
    if (!(e instanceof UsageError)) throw e
    return failCommand(io, COMMAND, e.message, EXIT_USAGE)
  }
  let result: VerifyResult
  try {
    result = verifyJournal(dir, { requireSealed: flags.has('--require-sealed') })
  } catch (e) {
    // A directory that cannot be listed (permissions, an I/O error): the
    // journal was not verified, which is a failure, said in one line.
    if (typeof (e as { code?: unknown } | null)?.code !== 'string') throw e
    return failCommand(io, COMMAND, `cannot read the journal under ${dir}: ${(e as Error).message}`)
  }
  io.out(`${flags.has('--json') ? JSON.stringify(result, null, 2) : formatVerifyResult(result, flags.has('--verbose'))}\n`)
  return result.ok ? EXIT_OK : EXIT_FAILED
}
