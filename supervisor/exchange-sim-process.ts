// Runs the exchange simulator as a child process, exactly as a user would
// (`gatehouse exchange-sim`). `gatehouse start` uses it for the embedded
// simulator; tests and the benchmark use it too.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { GatehouseError } from '../protocol/gatehouse-error.js'
import { CLI_PATH } from '../platform/cli-process.js'

export { CLI_PATH }

export interface ExchangeSimProcess {
  host: string
  port: number
  child: ChildProcess
  /** JSON lines the simulator printed on stdout after its listening line. */
  stdoutLines: string[]
  stop: () => Promise<void>
}

/** The simulator exited before it listened; `listenErrorCode` is the errno of a failed bind (EADDRINUSE...), if that was why. */
export class ExchangeSimStartError extends GatehouseError {
  declare readonly code: 'GH_ERR_SIM_START'
  constructor (message: string, readonly listenErrorCode: string | undefined, readonly stderr: string) {
    super('GH_ERR_SIM_START', message)
  }
}

/**
 * Starts `gatehouse exchange-sim` with `args` and resolves once it prints
 * its listening line ({"event":"listening","host":..,"port":..}). What it
 * writes on stderr before then is kept for the error if it never listens
 * (the caller says why in its own words); after, it goes to our stderr.
 */
export async function startExchangeSimProcess (args: string[]): Promise<ExchangeSimProcess> {
  const child = spawn(process.execPath, [CLI_PATH, 'exchange-sim', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let listening = false
  let earlyStderr = ''
  child.stderr!.on('data', (chunk: Buffer) => {
    if (listening) process.stderr.write(chunk)
    else earlyStderr += chunk.toString()
  })
  const stdoutLines: string[] = []
  const lines = createInterface({ input: child.stdout! })
  let listenErrorCode: string | undefined
  const { host, port } = await new Promise<{ host: string, port: number }>((resolve, reject) => {
    const onExit = (code: number | null): void => {
      const said = earlyStderr.trim().split('\n').at(-1) ?? ''
      reject(new ExchangeSimStartError(`the exchange simulator exited before listening (code ${code})${said === '' ? '' : `: ${said}`}`, listenErrorCode, earlyStderr))
    }
    child.once('exit', onExit)
    lines.on('line', (line) => {
      let event: { event?: string, host?: string, port?: number, code?: string } | undefined
      try { event = JSON.parse(line) } catch { event = undefined }
      if (event?.event === 'listening' && typeof event.port === 'number') {
        listening = true
        child.off('exit', onExit)
        if (earlyStderr !== '') process.stderr.write(earlyStderr)
        resolve({ host: event.host ?? '127.0.0.1', port: event.port })
      } else if (event?.event === 'listen-failed' && !listening) {
        listenErrorCode = event.code
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
