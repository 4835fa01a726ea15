// Placeholder: being written (issue 6).
export async function runReplayCommand (_argv: string[]): Promise<number> {
  process.stderr.write('gatehouse journal replay: not built yet\n')
  return 2
}
