// Two (or more) gateway instances of one cluster for a test: each with its
// own run directory and journal, fixed loopback lane ports chosen up front
// (each instance's config must name every instance's endpoints before any
// starts), one NATS server and one exchange simulator shared by all.
import { createServer } from 'node:net'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LANE_NAMES, type LaneName } from '../../protocol/lanes.js'
import { testConfig } from './gateway.js'
import { tradingAccount } from './trading.js'
import type { GatewayConfig } from '../../config/config.js'

/** Free loopback ports, found by binding port 0 and closing; a race with another test file is possible but unlikely. */
export async function freePorts (count: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: count }, async () => {
    const server = createServer()
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(0, '127.0.0.1', resolve) })
    return server
  }))
  const ports = servers.map((server) => (server.address() as { port: number }).port)
  await Promise.all(servers.map(async (server) => new Promise((resolve) => server.close(resolve))))
  return ports
}

export interface ClusterPlan {
  /** gatewayId → its config (each instance's is complete and valid). */
  configs: Record<string, GatewayConfig>
  /** gatewayId → lane → ws:// URL. */
  endpoints: Record<string, Record<LaneName, string>>
}

export interface ClusterOptions {
  natsUrl: string
  simPort: number
  instances: string[]
  /** Accounts every instance's config has (tradingAccount()). */
  accounts: string[]
  directory: { source: 'config' | 'nats-kv', accounts: Record<string, string>, bucket?: string }
  /** More overrides for every instance (merged over the cluster's). */
  overrides?: Record<string, unknown>
}

/** The configs of a cluster whose instances share one NATS server and one simulator. */
export async function planCluster (options: ClusterOptions): Promise<ClusterPlan> {
  const ports = await freePorts(options.instances.length * LANE_NAMES.length)
  const endpoints: ClusterPlan['endpoints'] = {}
  const lanePorts: Record<string, Record<LaneName, number>> = {}
  options.instances.forEach((id, i) => {
    lanePorts[id] = Object.fromEntries(LANE_NAMES.map((lane, j) => [lane, ports[i * LANE_NAMES.length + j]!])) as Record<LaneName, number>
    endpoints[id] = Object.fromEntries(LANE_NAMES.map((lane) => [lane, `ws://127.0.0.1:${lanePorts[id]![lane]}`])) as Record<LaneName, string>
  })
  const configs: ClusterPlan['configs'] = {}
  for (const id of options.instances) {
    configs[id] = testConfig(options.simPort, {
      gatewayId: id,
      accounts: options.accounts.map((account) => tradingAccount(account)),
      // The platform lane stays off: two instances of three lane threads each are a lot for a 2-vCPU runner.
      lanes: Object.fromEntries(LANE_NAMES.map((lane) => [lane, { port: lanePorts[id]![lane], ...(lane === 'platform' ? { enabled: false } : {}) }])),
      cluster: {
        enabled: true,
        nats: { servers: [options.natsUrl] },
        instances: Object.fromEntries(options.instances.map((other) => [other, { endpoints: endpoints[other] }])),
        directory: { source: options.directory.source, bucket: options.directory.bucket ?? 'gatehouse-accounts', accounts: options.directory.accounts },
        // Journal replication is another part's; these tests are about the directory.
        replication: { enabled: false },
      },
      ...options.overrides,
    })
  }
  return { configs, endpoints }
}

/** Writes a config to a file of its own, for `gatehouse start --config`. */
export function writeConfigFile (config: GatewayConfig): string {
  const file = join(mkdtempSync(join(tmpdir(), 'gh-cluster-config-')), 'gatehouse.json')
  writeFileSync(file, JSON.stringify(config))
  return file
}
