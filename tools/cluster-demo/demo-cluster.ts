// The processes of `gatehouse cluster-demo` and their configs: one
// nats-server with JetStream, one exchange simulator, and two
// `gatehouse start` processes (gw1, gw2) that share both. Everything binds
// to loopback; everything written goes under one temporary directory.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { writeFileSync, mkdirSync } from 'node:fs'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { DEFAULT_CONFIG } from '../../config/defaults.js'
import { LANE_NAMES, type LaneName } from '../../protocol/lanes.js'
import { CLI_PATH } from '../../platform/cli-process.js'

/** The demo's two instances. */
export const INSTANCE_IDS = ['gw1', 'gw2'] as const
export type InstanceId = (typeof INSTANCE_IDS)[number]

/** A demo account: its password, and the instance the directory homes it on. */
export interface DemoAccount {
  id: string
  password: string
  home: InstanceId
}

/**
 * gw1 holds the embedded config's two demo accounts; gw2 holds two more
 * with the same passwords (and so the same scrypt hashes), so each
 * instance has a maker and a taker of its own to trade against.
 */
export const DEMO_ACCOUNTS: readonly DemoAccount[] = [
  { id: 'demo-maker', password: 'maker-pass', home: 'gw1' },
  { id: 'demo-taker', password: 'taker-pass', home: 'gw1' },
  { id: 'demo-maker-2', password: 'maker-pass', home: 'gw2' },
  { id: 'demo-taker-2', password: 'taker-pass', home: 'gw2' },
]

/** Lane ports picked before start: each instance's config names the other's endpoints, so port 0 cannot do. */
export type LanePorts = Record<LaneName, number>

/** A free TCP port on 127.0.0.1: bound at port 0, read, closed. */
export async function freeLoopbackPort (): Promise<number> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  const port = typeof address === 'object' && address !== null ? address.port : 0
  server.close()
  await once(server, 'close')
  return port
}

export async function pickLanePorts (): Promise<LanePorts> {
  const ports: Partial<LanePorts> = {}
  for (const lane of LANE_NAMES) ports[lane] = await freeLoopbackPort()
  return ports as LanePorts
}

export function laneUrl (port: number): string {
  return `ws://127.0.0.1:${port}`
}

export interface DemoConfigInput {
  id: InstanceId
  runDir: string
  adminSocket: string
  natsUrl: string
  simPort: number
  ports: Record<InstanceId, LanePorts>
}

/**
 * One instance's config file (merged over the embedded defaults by
 * `gatehouse start --config`). Lifting a global kill switch needs a second
 * operator by default; the demo has one operator, so its configs turn
 * that rule off (`compliance.dualControl.requireFor.globalKillLift`), and
 * the demo's output says so.
 */
export function demoConfig (input: DemoConfigInput): Record<string, unknown> {
  const template = DEFAULT_CONFIG.accounts.find((a) => a.id === 'demo-maker')!
  const hashOf = (password: string): string => DEFAULT_CONFIG.accounts.find((a) => a.id === (password === 'maker-pass' ? 'demo-maker' : 'demo-taker'))!.passwordHash
  const instances = Object.fromEntries(INSTANCE_IDS.map((id) => [id, {
    endpoints: Object.fromEntries(LANE_NAMES.map((lane) => [lane, laneUrl(input.ports[id][lane])])),
  }]))
  return {
    gatewayId: input.id,
    runDir: input.runDir,
    lanes: Object.fromEntries(LANE_NAMES.map((lane) => [lane, { host: '127.0.0.1', port: input.ports[input.id][lane] }])),
    ops: { host: '127.0.0.1', port: 0 },
    exchange: { embeddedSimulator: false, host: '127.0.0.1', port: input.simPort },
    admin: { enabled: true, socketPath: input.adminSocket },
    accounts: DEMO_ACCOUNTS.map((a) => ({ ...template, id: a.id, passwordHash: hashOf(a.password) })),
    compliance: { dualControl: { requireFor: { globalKillLift: false } } },
    cluster: {
      enabled: true,
      nats: { servers: [input.natsUrl] },
      instances,
      directory: { source: 'nats-kv', accounts: Object.fromEntries(DEMO_ACCOUNTS.map((a) => [a.id, a.home])) },
      // Short waits suit one host; the defaults are for a real network.
      control: { replyTimeoutMs: 3000 },
    },
  }
}

export function writeDemoConfig (file: string, config: Record<string, unknown>): void {
  writeFileSync(file, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 })
}

/** What `gatehouse start --json-events` prints once it serves. */
export interface GatewayReady {
  pid: number
  lanes: Record<string, { host: string, port: number }>
  ops: { host: string, port: number, tls: boolean, tokenFile: string }
}

export interface GatewayChild {
  id: InstanceId
  child: ChildProcess
  ready: GatewayReady
  logFile: string
  /** SIGTERM (an orderly stop: the journal is sealed), then wait for the exit; SIGKILL after `graceMs`. */
  stop: (graceMs?: number) => Promise<void>
}

/**
 * `gatehouse start --config FILE --json-events` as a child process, as an
 * operator would run it; resolves at its ready event, rejects if it exits
 * first (with its last stderr line) or is not ready within `timeoutMs`.
 * `onSpawn` gets its stop function as soon as the process exists.
 */
export async function startGatewayChild (id: InstanceId, configFile: string, logFile: string, timeoutMs: number,
  onSpawn: (stop: (graceMs?: number) => Promise<void>) => void = () => {}): Promise<GatewayChild> {
  mkdirSync(join(logFile, '..'), { recursive: true })
  const child = spawn(process.execPath, [CLI_PATH, 'start', '--config', configFile, '--json-events', '--log-file', logFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_OPTIONS: '' },
  })
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (s: string) => { if (stderr.length < 65_536) stderr += s })
  const exited = once(child, 'exit')
  const lines = createInterface({ input: child.stdout! })
  const stop = async (graceMs = 10_000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return
    child.kill('SIGTERM')
    const timer = setTimeout(() => { child.kill('SIGKILL') }, graceMs)
    await exited
    clearTimeout(timer)
  }
  // The caller can stop it from now on, ready or not (Ctrl-C during the start).
  onSpawn(stop)
  try {
    const ready = await new Promise<GatewayReady>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`${id} was not ready within ${timeoutMs} ms`)) }, timeoutMs)
      lines.on('line', (line) => {
        let event: Record<string, unknown>
        try { event = JSON.parse(line) as Record<string, unknown> } catch { return }
        if (event.event === 'ready') {
          clearTimeout(timer)
          resolve(event as unknown as GatewayReady)
        }
      })
      void exited.then(([code]) => {
        clearTimeout(timer)
        const said = stderr.trim().split('\n').at(-1) ?? ''
        reject(new Error(`${id} exited (code ${String(code)}) before it was ready${said === '' ? '' : `: ${said}`}`))
      })
    })
    return { id, child, ready, logFile, stop }
  } catch (err) {
    await stop(2000)
    throw err
  }
}
