// The embedded default configuration: what `npm start` runs with no
// arguments. Everything binds to loopback, so no TLS is needed, and the
// exchange simulator is started alongside. A config file given with
// --config is merged over this object (objects field by field, arrays
// replaced whole), then validated as a whole.
import type { GatewayConfig } from './config.js'

export const DEFAULT_CONFIG: Readonly<GatewayConfig> = Object.freeze({
  gatewayId: 'gw1',
  // Everything the gateway writes at run time goes under here: the journal
  // in journal/, the admin socket, any state.
  runDir: './var',
  lanes: {
    // Off-the-shelf terminal software operated by people: many sessions,
    // low rates.
    terminal: {
      enabled: true,
      host: '127.0.0.1',
      port: 7001,
      maxFrameBytes: 4096,
      idleTimeoutS: 120,
      maxBackpressureBytes: 1_048_576,
      allowInsecureNonLoopback: false,
    },
    // Self-developed or third-party platforms of programmatic clients.
    platform: {
      enabled: true,
      host: '127.0.0.1',
      port: 7002,
      maxFrameBytes: 4096,
      idleTimeoutS: 60,
      maxBackpressureBytes: 4_194_304,
      allowInsecureNonLoopback: false,
    },
    // Registered high-frequency clients: own listener and own thread.
    hft: {
      enabled: true,
      host: '127.0.0.1',
      port: 7003,
      maxFrameBytes: 1024,
      idleTimeoutS: 32,
      maxBackpressureBytes: 16_777_216,
      allowInsecureNonLoopback: false,
    },
  },
  ops: { host: '127.0.0.1', port: 7080 },
  exchange: {
    host: '127.0.0.1',
    port: 7090,
    memberId: 'GATEHOUSE',
    embeddedSimulator: true,
    heartbeatIntervalMs: 1000,
    reconnectDelayMs: 250,
    maxReconnectDelayMs: 5000,
  },
  // Demo accounts only. Real deployments replace this list.
  accounts: [
    { id: 'demo-maker', password: 'maker-pass', lanes: ['terminal', 'platform', 'hft'] },
    { id: 'demo-taker', password: 'taker-pass', lanes: ['terminal', 'platform', 'hft'] },
  ],
} satisfies GatewayConfig)
