// `gatehouse ...` as its own process, for tests of the CLI: its exit code
// and everything it wrote.
import { spawn, type SpawnOptions } from 'node:child_process'
import { once } from 'node:events'
import { CLI_PATH } from '../../supervisor/exchange-sim-process.js'

export interface CliRun {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs the gatehouse CLI with `argv` (stdin closed) and resolves once it exits. */
export async function runCli (argv: string[], options: Pick<SpawnOptions, 'env' | 'uid' | 'gid'> = {}): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI_PATH, ...argv], { ...options, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (s: string) => { stdout += s })
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { stderr += s })
  const [code] = await once(child, 'close') as [number | null]
  return { code, stdout, stderr }
}
