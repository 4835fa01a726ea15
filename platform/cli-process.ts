// `gatehouse ...` as a child process of its own, as an operator would run
// it: for the embedded simulator, the cluster demo's admin and journal
// steps, and the tests of the CLI.
import { spawn, type SpawnOptions } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'

/** The built CLI entry point (dist/cli/cli.js). */
export const CLI_PATH = fileURLToPath(new URL('../cli/cli.js', import.meta.url))

export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the gatehouse CLI with `argv` (stdin closed) and resolves once it exits, with everything it wrote. */
export async function runCli (argv: string[], options: Pick<SpawnOptions, 'env' | 'uid' | 'gid'> = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI_PATH, ...argv], { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { stdout += s })
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  const [code] = await once(child, 'close') as [number | null]
  return { code, stdout, stderr }
}
