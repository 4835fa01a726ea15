// Placeholder: being written (issue 6).
export async function runExportCommand (_argv: string[]): Promise<number> {
  process.stderr.write('gatehouse journal export: not built yet\n')
  return 2
}
