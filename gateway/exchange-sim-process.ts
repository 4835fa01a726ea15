// Runs the exchange simulator as a child process, exactly as a user would
// (`gatehouse exchange-sim`). `gatehouse start` uses it for the embedded
// simulator; tests and the benchmark use it too.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const CLI_PATH = fileURLToPath(new URL('./cli.js', import.meta.url))

export interface ExchangeSimProcess {
  host: string
  port: number
  child: ChildProcess
  /** JSON lines the simulator printed on stdout after its listening line. */
  stdoutLines: string[]
  stop: () => Promise<void>
}

/**
 * Starts `gatehouse exchange-sim` with `args` and resolves once it prints
 * its listening line ({"event":"listening","host":..,"port":..}).
 */
export async function startExchangeSimProcess (args: string[]): Promise<ExchangeSimProcess> {
  const child = spawn(process.execPath, [CLI_PATH, 'exchange-sim', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const stdoutLines: string[] = []
  const lines = createInterface({ input: child.stdout! })
  const { host, port } = await new Promise<{ host: string, port: number }>((resolve, reject) => {
    const onExit = (code: number | null): void => { reject(new Error(`exchange-sim exited before listening (code ${code})`)) }
    child.once('exit', onExit)
    lines.on('line', (line) => {
      let event: { event?: string, host?: string, port?: number } | undefined
      try { event = JSON.parse(line) } catch { event = undefined }
      if (event?.event === 'listening' && typeof event.port === 'number') {
        child.off('exit', onExit)
        resolve({ host: event.host ?? '127.0.0.1', port: event.port })
      } else {
        stdoutLines.push(line)
      }
    })
  })
  return {
    host,
    port,
    child,
    stdoutLines,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = once(child, 'exit')
      child.kill('SIGTERM')
      await exited
    },
  }
}
