// A real gateway (supervisor + lane worker threads) in the test process,
// wired to the exchange simulator running as its own process. Everything
// listens on 127.0.0.1 with ephemeral ports.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { mergeConfig, type GatewayConfig } from '../../config/config.js'
import { resolveConfig } from '../../config/load.js'
import { type LaneName } from '../../protocol/lanes.js'
import { Supervisor } from '../../supervisor/supervisor.js'
import { startExchangeSim, type SimProcess } from './exchange-sim-process.js'

export interface TestGateway {
  config: GatewayConfig
  supervisor: Supervisor
  sim: SimProcess
  url: (lane: LaneName) => string
  /** The bearer token of the ops port's account routes (the file the gateway generated). */
  opsToken: () => string
  /** A request to the ops port, with the bearer token unless `init.headers` says otherwise. */
  ops: (path: string, init?: RequestInit) => Promise<Response>
  stop: () => Promise<void>
}

/** Ephemeral ports everywhere, no embedded simulator: the test owns it. */
export function testConfig (simPort: number, overrides: Record<string, unknown> = {}): GatewayConfig {
  const lanePorts = { terminal: { port: 0 }, platform: { port: 0 }, hft: { port: 0 } }
  const lanes = { ...lanePorts, ...(overrides.lanes as object | undefined) }
  for (const name of Object.keys(lanePorts) as LaneName[]) {
    lanes[name] = { port: 0, ...(overrides.lanes as Record<string, object> | undefined)?.[name] }
  }
  return resolveConfig({
    // Audit files and other run-time state go to a throwaway directory.
    runDir: mkdtempSync(join(tmpdir(), 'gatehouse-test-run-')),
    ...overrides,
    lanes,
    ops: { port: 0, ...(overrides.ops as object | undefined) },
    exchange: { embeddedSimulator: false, host: '127.0.0.1', port: simPort, heartbeatIntervalMs: 200, reconnectDelayMs: 50, maxReconnectDelayMs: 200, ...(overrides.exchange as object | undefined) },
    // A Unix socket path must fit ~107 bytes; test directories can be longer.
    admin: { enabled: true, socketPath: join(mkdtempSync(join(tmpdir(), 'gh-admin-')), 'admin.sock'), ...(overrides.admin as object | undefined) },
    // One operator makes each change in most tests; the dual-control tests
    // (admin-dual-control.test.ts) turn it on as the default config has it.
    compliance: mergeConfig({ dualControl: { requireFor: { appProduction: false, limitRaise: false, globalKillLift: false, fingerprintApproval: false } } }, overrides.compliance),
  })
}

export async function startTestGateway (options: { overrides?: Record<string, unknown>, simArgs?: string[] } = {}): Promise<TestGateway> {
  const sim = await startExchangeSim(options.simArgs)
  const config = testConfig(sim.port, options.overrides)
  const supervisor = new Supervisor(config)
  try {
    await supervisor.start()
    await supervisor.whenLinksUp()
  } catch (err) {
    await sim.stop()
    throw err
  }
  return testGatewayHandle(config, supervisor, sim, async () => {
    await supervisor.stop()
    await sim.stop()
  })
}

/** The TestGateway of a started supervisor; `stop` is what stopping it takes. */
export function testGatewayHandle (config: GatewayConfig, supervisor: Supervisor, sim: SimProcess, stop: () => Promise<void>): TestGateway {
  const opsToken = (): string => readFileSync(supervisor.running().ops.tokenFile, 'utf8').trim()
  return {
    config,
    supervisor,
    sim,
    url: (lane) => `ws://127.0.0.1:${supervisor.running().lanes[lane]!.port}`,
    opsToken,
    ops: (path, init = {}) => fetch(`http://127.0.0.1:${supervisor.running().ops.port}${path}`, { headers: { authorization: `Bearer ${opsToken()}` }, ...init }),
    stop,
  }
}
