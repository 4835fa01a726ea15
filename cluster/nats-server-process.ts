// Runs Debian's `nats-server` with JetStream as a child process on
// loopback, for `npm run cluster-demo`, the tests and the benchmark. The
// gateway itself never starts NATS: in production the broker's NATS
// cluster is configured in `cluster.nats.servers`.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdirSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { GatehouseError } from '../protocol/gatehouse-error.js'

export interface NatsServerProcess {
  /** nats://127.0.0.1:PORT */
  url: string
  port: number
  /** JetStream's store: reuse it (and the port) to restart the same server. */
  storeDir: string
  child: ChildProcess
  /** SIGTERM, then wait for the exit. */
  stop: () => Promise<void>
  /** SIGKILL, then wait for the exit: what a crash looks like to the clients. */
  kill: () => Promise<void>
}

export interface NatsServerOptions {
  storeDir: string
  /** 0 (the default): a free port chosen by the server. Give the old port to restart a server where clients expect it. */
  port?: number
  /** The executable; `nats-server` on PATH by default. */
  command?: string
  /** Give up waiting for "Server is ready" after this long. */
  startTimeoutMs?: number
}

/** nats-server is not installed, or exited before it was ready. */
export class NatsServerStartError extends GatehouseError {
  declare readonly code: 'GH_ERR_NATS_START'
  constructor (message: string) {
    super('GH_ERR_NATS_START', message)
  }
}

const LISTENING = /Listening for client connections on [^\s]+:(\d+)/

/** Starts nats-server on 127.0.0.1 with JetStream in `storeDir`; resolves once it is ready. */
export async function startNatsServer (options: NatsServerOptions): Promise<NatsServerProcess> {
  mkdirSync(options.storeDir, { recursive: true, mode: 0o700 })
  const args = ['-a', '127.0.0.1', '-p', String(options.port === undefined || options.port === 0 ? -1 : options.port), '-js', '-sd', options.storeDir]
  const child = spawn(options.command ?? 'nats-server', args, { stdio: ['ignore', 'ignore', 'pipe'] })
  const lines = createInterface({ input: child.stderr! })
  const early: string[] = []
  const port = await new Promise<number>((resolve, reject) => {
    let listenPort: number | undefined
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new NatsServerStartError(`nats-server was not ready within ${options.startTimeoutMs ?? 10_000} ms: ${early.slice(-3).join(' | ')}`))
    }, options.startTimeoutMs ?? 10_000)
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      reject(new NatsServerStartError(error.code === 'ENOENT'
        ? 'nats-server is not installed: install Debian\'s nats-server package (apt-get install nats-server)'
        : `nats-server could not start: ${error.message}`))
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new NatsServerStartError(`nats-server exited (code ${code}) before it was ready: ${early.slice(-3).join(' | ')}`))
    })
    lines.on('line', (line) => {
      if (early.length < 200) early.push(line)
      const match = LISTENING.exec(line)
      if (match !== null) listenPort = Number(match[1])
      if (line.includes('Server is ready') && listenPort !== undefined) {
        clearTimeout(timer)
        resolve(listenPort)
      }
    })
  })
  child.removeAllListeners('exit')
  const end = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill(signal)
    await exited
  }
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    storeDir: options.storeDir,
    child,
    stop: async () => end('SIGTERM'),
    kill: async () => end('SIGKILL'),
  }
}
