// `gatehouse journal <tool>`: the compliance tools over the retention
// journal. Each tool lives in its own module, loaded only when asked for.
// None of them touches a running gateway: they read the files (and, for
// `search --reveal`, append one record to the 'tools' stream).

interface JournalTool {
  summary: string
  run: (argv: string[]) => Promise<number>
}

const tools: Record<string, JournalTool> = {
  verify: {
    summary: 'check every chain and seal; name the first bad record',
    run: async (argv) => (await import('./verify-command.js')).runVerifyCommand(argv),
  },
  search: {
    summary: 'find records by account, session, AppID, instrument, order ID, time or reason; decoded',
    run: async (argv) => (await import('./search-command.js')).runSearchCommand(argv),
  },
  export: {
    summary: 'decoded records of a day or a range as JSONL or CSV, for a regulator',
    run: async (argv) => (await import('./export-command.js')).runExportCommand(argv),
  },
  replay: {
    summary: 're-run a past day\'s orders through the check engine with proposed limits',
    run: async (argv) => (await import('./replay-command.js')).runReplayCommand(argv),
  },
}

function usage (): string {
  const width = Math.max(...Object.keys(tools).map((name) => name.length))
  const lines = Object.entries(tools).map(([name, { summary }]) => `  ${name.padEnd(width)}  ${summary}`)
  return `usage: gatehouse journal <tool> [options]\n\ntools:\n${lines.join('\n')}\n\n` +
    'Run `gatehouse journal <tool> --help` for the options of each.\n'
}

export async function runJournalCommand (argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(usage())
    return name === undefined ? 2 : 0
  }
  const tool = tools[name]
  if (tool === undefined) {
    process.stderr.write(`gatehouse journal: unknown tool "${name}"\n\n${usage()}`)
    return 2
  }
  return tool.run(rest)
}
