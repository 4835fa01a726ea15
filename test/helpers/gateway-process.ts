// The gateway as a real child process (`gatehouse start --json-events`),
// for tests that must kill it: kill -9 has to hit a process, not threads
// inside the test runner.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const GATEWAY_CLI = fileURLToPath(new URL('../../cli/cli.js', import.meta.url))

export interface ReadyEvent {
  event: 'ready'
  pid: number
  lanes: Record<string, { host: string, port: number }>
  ops: { host: string, port: number, tls: boolean, tokenFile: string }
}

export interface GatewayProcess {
  child: ChildProcess
  ready: ReadyEvent
  /** Every JSON event printed before ready (recovered, link-state, ...). */
  events: Array<Record<string, unknown>>
  stderr: () => string
  url: (lane: string) => string
  /** GET on the ops port with the bearer token, parsed as JSON. */
  ops: (path: string) => Promise<unknown>
  /** Resolves with the first event (printed before or after the call) that matches. */
  event: (match: (e: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>>
  /** SIGKILL, and resolves once the process is gone. */
  kill9: () => Promise<void>
  /** SIGTERM (orderly stop), and resolves once it has exited. */
  stop: () => Promise<void>
}

export interface GatewayProcessOptions {
  /** RLIMIT_FSIZE for the gateway (ulimit -f, KiB): a write past it fails with EFBIG, as on a full disk. */
  fileSizeLimitKiB?: number
  /** RLIMIT_NOFILE for the gateway (set with prlimit): start raises the soft limit to the hard one. */
  openFiles?: { soft: number, hard: number }
  /** More arguments for `gatehouse start` (e.g. --log-file FILE). */
  args?: string[]
}

export async function startGatewayProcess (configFile: string, options: GatewayProcessOptions = {}): Promise<GatewayProcess> {
  const args = [GATEWAY_CLI, 'start', '--config', configFile, '--json-events', ...(options.args ?? [])]
  // Run as a user would, without the test runner's NODE_OPTIONS (its
  // instrumentation hooks signals, SIGXFSZ among them).
  const spawnOptions = { stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } }
  // `gatehouse start` catches SIGXFSZ, so the write returns EFBIG instead of killing the process.
  const fileSize = options.fileSizeLimitKiB === undefined ? '' : `ulimit -f ${options.fileSizeLimitKiB} && `
  // sh's ulimit cannot set the soft and hard open-file limits apart; util-linux prlimit can.
  const openFiles = options.openFiles === undefined ? '' : `prlimit --nofile=${options.openFiles.soft}:${options.openFiles.hard} `
  const child = fileSize === '' && openFiles === ''
    ? spawn(process.execPath, args, spawnOptions)
    : spawn('/bin/sh', ['-c', `${fileSize}exec ${openFiles}"$0" "$@"`, process.execPath, ...args], spawnOptions)
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const events: Array<Record<string, unknown>> = []
  const eventWaiters: Array<{ match: (e: Record<string, unknown>) => boolean, resolve: (e: Record<string, unknown>) => void }> = []
  const lines = createInterface({ input: child.stdout! })
  const exited = once(child, 'exit')
  const ready = await new Promise<ReadyEvent>((resolve, reject) => {
    lines.on('line', (line) => {
      const event = JSON.parse(line) as Record<string, unknown>
      events.push(event)
      for (const waiter of eventWaiters.splice(0)) {
        if (waiter.match(event)) waiter.resolve(event)
        else eventWaiters.push(waiter)
      }
      if (event.event === 'ready') resolve(event as unknown as ReadyEvent)
    })
    void exited.then(([code]) => { reject(new Error(`gateway exited with ${String(code)} before ready: ${stderr}`)) })
  })
  return {
    child,
    ready,
    events,
    stderr: () => stderr,
    url: (lane) => `ws://127.0.0.1:${ready.lanes[lane]!.port}`,
    ops: async (path) => {
      const token = readFileSync(ready.ops.tokenFile, 'utf8').trim()
      const response = await fetch(`http://127.0.0.1:${ready.ops.port}${path}`, { headers: { authorization: `Bearer ${token}` } })
      return response.json()
    },
    event: (match) => {
      const seen = events.find(match)
      if (seen !== undefined) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        eventWaiters.push({ match, resolve })
        void exited.then(([code, signal]) => { reject(new Error(`gateway exited (${String(code ?? signal)}) before the event: ${stderr}`)) })
      })
    },
    kill9: async () => {
      child.kill('SIGKILL')
      await exited
    },
    stop: async () => {
      child.kill('SIGTERM')
      await exited
    },
  }
}
