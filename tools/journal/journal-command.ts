// `gatehouse journal <tool>`: the compliance tools over the retention
// journal. Each tool lives in its own module, loaded only when asked for.
// None of them touches a running gateway: they read the files (and, for
// `search --reveal`, append one record to the 'tools' stream).
import { processIo, runSubcommand, type Subcommand } from '../../platform/cli-kit.js'
import { readsReplica, runReplicated } from './replicated-command.js'

const tools: Record<string, Subcommand> = {
  verify: {
    summary: 'check every chain and seal; name the first bad record',
    run: async (argv) => {
      const { runVerifyCommand } = await import('./verify-command.js')
      return readsReplica(argv) ? runReplicated('verify', argv, processIo, runVerifyCommand) : runVerifyCommand(argv)
    },
  },
  search: {
    summary: 'find records by account, session, AppID, instrument, order ID, time or reason; decoded',
    run: async (argv) => {
      const { runSearchCommand } = await import('./search-command.js')
      return readsReplica(argv) ? runReplicated('search', argv, processIo, runSearchCommand) : runSearchCommand(argv)
    },
  },
  export: {
    summary: 'decoded records of a day or a range as JSONL or CSV, for a regulator',
    run: async (argv) => {
      const { runExportCommand } = await import('./export-command.js')
      return readsReplica(argv) ? runReplicated('export', argv, processIo, runExportCommand) : runExportCommand(argv)
    },
  },
  replay: {
    summary: 're-run a past day\'s orders through the check engine with proposed limits',
    run: async (argv) => (await import('./replay-command.js')).runReplayCommand(argv),
  },
}

export async function runJournalCommand (argv: string[]): Promise<number> {
  return runSubcommand(processIo, { command: 'gatehouse journal', noun: 'tool', subcommands: tools }, argv)
}
