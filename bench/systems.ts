// Starting and stopping the systems under test, each as real processes on
// loopback: the exchange simulator, then Gatehouse (`gatehouse start`,
// with the journal config of its variant), the bare relay or the naive
// gateway in front of it. Every child is tracked so that the runner can
// kill all of them on any exit path.
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { CLI_PATH, startExchangeSimProcess } from '../supervisor/exchange-sim-process.js'
import { startNatsServer, type NatsServerProcess } from '../cluster/nats-server-process.js'
import { GATEHOUSE_JOURNAL, benchJournalDir, gatehouseBenchConfig } from './gatehouse-config.js'
import { isGatehouse, type Credentials, type GatehouseSystem, type SystemName } from './types.js'

export const HOST = '127.0.0.1'
const BENCH_DIR = fileURLToPath(new URL('.', import.meta.url))
/** How long a system may take to print that it is ready. */
const READY_TIMEOUT_MS = 20_000
/** SIGTERM first (uWS servers must close their own sockets); SIGKILL after this. */
const STOP_GRACE_MS = 5_000

/** Every child process the runner started and has not seen exit. */
export class ChildRegistry {
  private readonly children = new Map<ChildProcess, string>()

  track (child: ChildProcess, role: string): ChildProcess {
    this.children.set(child, role)
    child.once('exit', () => { this.children.delete(child) })
    return child
  }

  /** Stops one child: SIGTERM, then SIGKILL if it lingers. */
  async stop (child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    const timer = setTimeout(() => { child.kill('SIGKILL') }, STOP_GRACE_MS)
    await exited
    clearTimeout(timer)
  }

  async stopAll (): Promise<void> {
    await Promise.all([...this.children.keys()].map((child) => this.stop(child)))
  }

  /** Last resort on process exit: no time for grace. */
  killAllNow (): void {
    for (const child of this.children.keys()) child.kill('SIGKILL')
  }

  get size (): number {
    return this.children.size
  }
}

export interface RunningSystem {
  name: SystemName
  /** Port of the listener a scenario connects to, by lane (gatehouse) or 'any'. */
  ports: Record<string, number>
  /** pid -> role, for CPU accounting. */
  roles: Map<number, string>
  /** pid whose memory the terminal scenario reports. */
  gatewayPid: number
  /** Gatehouse with its journal on: the journal's root directory (deleted by stop()); otherwise null. */
  journalRoot: string | null
  /**
   * Stops the processes. A Gatehouse run then hands its journal, complete
   * and sealed, to `inspect`, and deletes its run directory, journal and
   * all, whatever `inspect` does.
   */
  stop: (inspect?: (journalRoot: string) => void) => Promise<void>
}

export interface SystemOptions {
  tmpDir: string
  credentials: Credentials[]
  /** Extra node flags for the gateway process (e.g. --cpu-prof). */
  gatewayNodeArgs: string[]
}

/** Waits for a JSON line on the child's stdout that `accept` takes; rejects on exit or timeout. */
function waitForLine (child: ChildProcess, role: string, accept: (event: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! })
    const timer = setTimeout(() => { reject(new Error(`${role} was not ready within ${READY_TIMEOUT_MS} ms`)) }, READY_TIMEOUT_MS)
    const onExit = (code: number | null): void => {
      clearTimeout(timer)
      reject(new Error(`${role} exited (code ${code}) before it was ready`))
    }
    child.once('exit', onExit)
    lines.on('line', (line) => {
      let event: Record<string, unknown>
      try { event = JSON.parse(line) as Record<string, unknown> } catch { return }
      if (accept(event)) {
        clearTimeout(timer)
        child.off('exit', onExit)
        resolve(event)
      }
    })
  })
}

async function startSim (registry: ChildRegistry): Promise<{ port: number, pid: number, child: ChildProcess }> {
  const sim = await startExchangeSimProcess(['--host', HOST, '--port', '0'])
  registry.track(sim.child, 'exchange-sim')
  // Keep reading its event lines so a full pipe can never stall it; with
  // BENCH_SIM_EVENTS=1 they are shown (link logons, slow consumers, drops).
  if (process.env.BENCH_SIM_EVENTS === '1') sim.child.stdout?.on('data', (chunk: Buffer) => { process.stderr.write(`exchange-sim: ${chunk.toString()}`) })
  else sim.child.stdout?.resume()
  return { port: sim.port, pid: sim.child.pid!, child: sim.child }
}

async function startGatehouse (registry: ChildRegistry, name: GatehouseSystem, options: SystemOptions): Promise<RunningSystem> {
  // A fresh run directory per gateway: a reused one would be recovered from
  // at start (journal.recoverOnStart) and its journal would keep growing.
  const runDir = mkdtempSync(join(options.tmpDir, `${name}-`))
  const journal = GATEHOUSE_JOURNAL[name]
  const journalRoot = journal.enabled ? benchJournalDir(runDir) : null
  let sim: Awaited<ReturnType<typeof startSim>> | null = null
  let child: ChildProcess | null = null
  let nats: NatsServerProcess | null = null
  const stopProcesses = async (): Promise<void> => {
    if (child !== null) await registry.stop(child)
    if (sim !== null) await registry.stop(sim.child)
    if (nats !== null) await registry.stop(nats.child)
  }
  try {
    sim = await startSim(registry)
    // gatehouse-replicated: a nats-server of its own, and the gateway as
    // the one instance of a cluster that publishes its journal to it.
    if (name === 'gatehouse-replicated') {
      nats = await startNatsServer({ storeDir: join(runDir, 'nats') })
      registry.track(nats.child, 'nats-server')
    }
    const configFile = join(runDir, 'gatehouse.json')
    const config = gatehouseBenchConfig({
      simHost: HOST,
      simPort: sim.port,
      runDir,
      credentials: options.credentials,
      journal,
    }) as Record<string, unknown>
    if (nats !== null) {
      config.cluster = { enabled: true, nats: { servers: [nats.url] }, instances: { bench: { endpoints: {} } }, replication: { enabled: true } }
    }
    writeFileSync(configFile, JSON.stringify(config))
    child = registry.track(spawn(process.execPath, [...options.gatewayNodeArgs, CLI_PATH, 'start', '--config', configFile, '--json-events'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    }), name)
    const linksUp = new Set<string>()
    let ready: Record<string, unknown> | null = null
    await waitForLine(child, name, (event) => {
      if (event.event === 'ready') ready = event
      if (event.event === 'link-state' && event.state === 'up') linksUp.add(String(event.lane))
      return ready !== null && linksUp.size === 3
    })
    child.stdout?.resume()
    const lanes = (ready as unknown as { lanes: Record<string, { port: number }> }).lanes
    const gateway = child
    return {
      name,
      ports: Object.fromEntries(Object.entries(lanes).map(([lane, status]) => [lane, status.port])),
      roles: new Map([
        [gateway.pid!, `${name} (supervisor + 3 lane threads${nats === null ? '' : ' + replicator thread'}; ${journal.text})`], [sim.pid, 'exchange-sim'],
        ...(nats === null ? [] : [[nats.child.pid!, 'nats-server'] as [number, string]]),
      ]),
      gatewayPid: gateway.pid!,
      journalRoot,
      stop: async (inspect) => {
        try {
          await stopProcesses()
          if (inspect !== undefined && journalRoot !== null) inspect(journalRoot)
        } finally {
          rmSync(runDir, { recursive: true, force: true })
        }
      },
    }
  } catch (err) {
    // Not started: nothing else will stop these or delete the directory.
    await stopProcesses()
    rmSync(runDir, { recursive: true, force: true })
    throw err
  }
}

async function startScript (registry: ChildRegistry, name: SystemName, script: string, args: string[], roleName: string): Promise<RunningSystem> {
  const sim = await startSim(registry)
  const child = registry.track(spawn(process.execPath, [join(BENCH_DIR, script), '--exchange-port', String(sim.port), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  }), name)
  const event = await waitForLine(child, name, (e) => e.event === 'listening')
  child.stdout?.resume()
  const port = Number(event.port)
  return {
    name,
    ports: { terminal: port, platform: port, hft: port },
    roles: new Map([[child.pid!, roleName], [sim.pid, 'exchange-sim']]),
    gatewayPid: child.pid!,
    journalRoot: null,
    stop: async () => {
      await registry.stop(child)
      await registry.stop(sim.child)
    },
  }
}

export async function startSystem (registry: ChildRegistry, name: SystemName, options: SystemOptions): Promise<RunningSystem> {
  if (isGatehouse(name)) return startGatehouse(registry, name, options)
  switch (name) {
    case 'bare-relay':
      return startScript(registry, name, 'bare-relay.js', [], 'bare-relay (uWS, one thread)')
    case 'naive': {
      const accountsFile = join(options.tmpDir, 'naive-accounts.json')
      writeFileSync(accountsFile, JSON.stringify(options.credentials.map((c) => ({ id: c.account, password: c.password }))))
      return startScript(registry, name, 'naive-gateway.js',
        ['--accounts', accountsFile, '--log-file', join(options.tmpDir, `naive-${Date.now()}.log`)],
        'naive (ws + piscina pool threads + pino)')
    }
  }
}
