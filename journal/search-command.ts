// Placeholder: being written (issue 6).
export async function runSearchCommand (_argv: string[]): Promise<number> {
  process.stderr.write('gatehouse journal search: not built yet\n')
  return 2
}
