// The embedded default configuration: what `npm start` runs with no
// arguments. Everything binds to loopback, so no TLS is needed, and the
// exchange simulator is started alongside. A config file given with
// --config is merged over this object (objects field by field, arrays
// replaced whole), then validated as a whole.
import type { GatewayConfig } from './config.js'
import { DEMO_APP_ID, DEMO_AUTH_CODE, DEMO_TERMINAL_INFO } from './demo-identity.js'
import { fingerprintId, type TerminalInfo } from './terminal-fingerprint.js'
import { v1 } from '../protocol/messages.js'

const DEMO_FINGERPRINT = fingerprintId(v1.TerminalInfo.create(DEMO_TERMINAL_INFO) as TerminalInfo)
function demoAccount (id: string, passwordHash: string): GatewayConfig['accounts'][number] {
  return {
    id,
    passwordHash,
    lanes: ['terminal', 'platform', 'hft'],
    appIds: [DEMO_APP_ID],
    ipRanges: ['127.0.0.0/8', '::1/128'],
    programmaticReport: 'none',
    maxSessions: 8,
    knownFingerprints: [DEMO_FINGERPRINT],
  }
}

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
      policy: {
        // Linux VMs often fail to return disk, CPU and BIOS serials
        // (DOMAIN.md), so those are not required by default.
        requiredTerminalFields: ['terminalType', 'collectedTime', 'ips', 'mac', 'deviceName', 'osVersion'],
        newFingerprint: 'allow-alert',
        allowedAppStatuses: ['production', 'testing'],
        logonTimeoutMs: 30_000,
        nonceTtlMs: 30_000,
        maxConnectionsPerIpPerSecond: 20,
      },
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
      policy: {
        requiredTerminalFields: ['terminalType', 'collectedTime', 'ips', 'mac', 'deviceName'],
        newFingerprint: 'hold',
        allowedAppStatuses: ['production', 'testing'],
        logonTimeoutMs: 15_000,
        nonceTtlMs: 15_000,
        maxConnectionsPerIpPerSecond: 20,
      },
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
      policy: {
        requiredTerminalFields: ['terminalType', 'collectedTime', 'mac', 'deviceName'],
        newFingerprint: 'reject',
        allowedAppStatuses: ['production'],
        logonTimeoutMs: 10_000,
        nonceTtlMs: 10_000,
        maxConnectionsPerIpPerSecond: 10,
      },
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
  security: {
    // CTP bans a login after repeated failures; Gatehouse also tells the
    // client for how long (DOMAIN.md, CTP error 75).
    maxFailures: 5,
    failureWindowMs: 300_000,
    lockoutMs: 300_000,
    maxTrackedEntries: 100_000,
  },
  // Demo software and accounts only. Real deployments replace these lists.
  software: [{
    appId: DEMO_APP_ID,
    vendor: 'Gatehouse',
    name: 'gatehouse demo client',
    version: '0.1.0',
    authCode: DEMO_AUTH_CODE,
    status: 'production',
    assessment: { documents: [{ name: 'demo self-assessment', expires: '2099-12-31' }], accessTestPassed: '2026-01-05' },
  }],
  accounts: [
    // Passwords: maker-pass and taker-pass (scrypt N=16384, r=8, p=1).
    demoAccount('demo-maker', 'scrypt$16384$8$1$EGf9/jclm1aBSGN0y9xZ5g==$5vXtz6Cex3gmaKuA/QbaGRN5yaGzhh3SrZiN9MIgQbU='),
    demoAccount('demo-taker', 'scrypt$16384$8$1$ZKXwI3+d+fKJ+z7iEQ694A==$5kG16gybEL5wBdzfWi3Vygt4GPkcYOJyLMlcMW3n2So='),
  ],
} satisfies GatewayConfig)
