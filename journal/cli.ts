#!/usr/bin/env node
// Stand-alone entry for the journal tools until `gatehouse journal …` is
// wired into gateway/cli.ts. Only verify exists so far; search, export
// and replay build on reader.ts.
//
//   node dist/journal/cli.js verify DIR [--require-sealed] [--json] [--verbose]
//
// Exit codes: 0 the journal verifies, 1 it does not (the first bad record
// is printed), 2 the command line is wrong.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { formatVerifyResult, verifyJournal } from './verify.js'

const USAGE = `usage: journal verify DIR [--require-sealed] [--json] [--verbose]

Checks every segment of every stream under DIR (or the one stream DIR holds):
record CRCs, stream sequence numbers, the hash chain of every batch, each
segment's seal, and the links between segments. Prints the first bad record
(file, byte offset, seq, and whether it was changed, is missing, reordered,
truncated or unsealed) and exits 1 if anything is wrong.

  --require-sealed  report each stream's live (unsealed) segment as a problem
  --json            print the whole result as JSON
  --verbose         list every segment with its status
`

export function runJournalCli (argv: readonly string[], out: (line: string) => void = console.log): number {
  const [command, ...rest] = argv
  if (command === undefined || command === '--help' || command === '-h' || rest.includes('--help')) {
    out(USAGE)
    return command === undefined ? 2 : 0
  }
  if (command !== 'verify') {
    out(`unknown command '${command}'\n${USAGE}`)
    return 2
  }
  const flags = new Set(rest.filter((a) => a.startsWith('--')))
  const dirs = rest.filter((a) => !a.startsWith('--'))
  const unknown = [...flags].filter((f) => f !== '--require-sealed' && f !== '--json' && f !== '--verbose')
  if (unknown.length > 0 || dirs.length !== 1) {
    out(`${unknown.length > 0 ? `unknown option ${unknown[0]}` : 'give exactly one DIR'}\n${USAGE}`)
    return 2
  }
  const dir = dirs[0]!
  if (!existsSync(dir)) {
    out(`no such directory: ${dir}`)
    return 2
  }
  const result = verifyJournal(dir, { requireSealed: flags.has('--require-sealed') })
  out(flags.has('--json') ? JSON.stringify(result, null, 2) : formatVerifyResult(result, flags.has('--verbose')))
  return result.ok ? 0 : 1
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  process.exitCode = runJournalCli(process.argv.slice(2))
}
