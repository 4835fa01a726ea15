// The gateway as a real child process (`gatehouse start --json-events`),
// for tests that must kill it: kill -9 has to hit a process, not threads
// inside the test runner.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

export const GATEWAY_CLI = fileURLToPath(new URL('../../gateway/cli.js', import.meta.url))

export interface ReadyEvent {
  event: 'ready'
  pid: number
  lanes: Record<string, { host: string, port: number }>
  ops: { host: string, port: number }
}

export interface GatewayProcess {
  child: ChildProcess
  ready: ReadyEvent
  /** Every JSON event printed before ready (recovered, link-state, ...). */
  events: Array<Record<string, unknown>>
  stderr: () => string
  url: (lane: string) => string
  /** GET on the ops port, parsed as JSON. */
  ops: (path: string) => Promise<unknown>
  /** SIGKILL, and resolves once the process is gone. */
  kill9: () => Promise<void>
  /** SIGTERM (orderly stop), and resolves once it has exited. */
  stop: () => Promise<void>
}

export async function startGatewayProcess (configFile: string): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [GATEWAY_CLI, 'start', '--config', configFile, '--json-events'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  const events: Array<Record<string, unknown>> = []
  const lines = createInterface({ input: child.stdout! })
  const exited = once(child, 'exit')
  const ready = await new Promise<ReadyEvent>((resolve, reject) => {
    lines.on('line', (line) => {
      const event = JSON.parse(line) as Record<string, unknown>
      events.push(event)
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
      const response = await fetch(`http://127.0.0.1:${ready.ops.port}${path}`)
      return response.json()
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
