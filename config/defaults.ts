// The embedded default configuration: what `npm start` runs with no
// arguments. Everything binds to loopback, so no TLS is needed, and the
// exchange simulator is started alongside. A config file given with
// --config is merged over this object (objects field by field, arrays
// replaced whole), then validated as a whole.
import type { GatewayConfig } from './config.js'
import { DEMO_APP_ID, DEMO_AUTH_CODE, DEMO_TERMINAL_INFO } from '../protocol/demo-identity.js'
import { fingerprintId, type TerminalInfo } from '../protocol/terminal-fingerprint.js'
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
      resendWindowReports: 100_000,
      maxResendReports: 10_000,
      // CTP allows one query in flight and a few per second.
      queriesPerSecond: 5,
      queryScanReportsPerSecond: 20_000,
      allowInsecureNonLoopback: false,
      policy: {
        // Linux VMs often fail to return disk, CPU and BIOS serials
        // (docs/domain.md), so those are not required by default.
        requiredTerminalFields: ['terminalType', 'collectedTime', 'ips', 'mac', 'deviceName', 'osVersion'],
        newFingerprint: 'allow-alert',
        allowedAppStatuses: ['production', 'testing'],
        logonTimeoutMs: 30_000,
        // Shorter than the logon timeout: a proof must follow its challenge
        // promptly, and a stale one is refused (NONCE_EXPIRED) with a new one.
        nonceTtlMs: 10_000,
        maxConnectionsPerIpPerSecond: 20,
        abnormalTerminal: 'allow-alert',
        maxTerminalInfoAttempts: 3,
        // Before logon: the logon messages and a few heartbeats, small
        // frames, and a bounded journal footprint (docs/client-budgets.md).
        preLogonMaxFrameBytes: 1024,
        preLogonMaxMessages: 16,
        preLogonJournalBytes: 4096,
        maxUnauthenticatedConnections: 256,
        maxUnauthenticatedPerIp: 16,
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
      resendWindowReports: 100_000,
      maxResendReports: 10_000,
      // CTP allows one query in flight and a few per second.
      queriesPerSecond: 5,
      queryScanReportsPerSecond: 20_000,
      allowInsecureNonLoopback: false,
      policy: {
        requiredTerminalFields: ['terminalType', 'collectedTime', 'ips', 'mac', 'deviceName'],
        newFingerprint: 'hold',
        allowedAppStatuses: ['production', 'testing'],
        logonTimeoutMs: 15_000,
        // Shorter than the logon timeout: a proof must follow its challenge
        // promptly, and a stale one is refused (NONCE_EXPIRED) with a new one.
        nonceTtlMs: 5_000,
        maxConnectionsPerIpPerSecond: 20,
        abnormalTerminal: 'hold',
        maxTerminalInfoAttempts: 3,
        preLogonMaxFrameBytes: 1024,
        preLogonMaxMessages: 16,
        preLogonJournalBytes: 4096,
        maxUnauthenticatedConnections: 128,
        maxUnauthenticatedPerIp: 16,
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
      resendWindowReports: 100_000,
      maxResendReports: 10_000,
      // CTP allows one query in flight and a few per second.
      queriesPerSecond: 5,
      queryScanReportsPerSecond: 20_000,
      allowInsecureNonLoopback: false,
      policy: {
        requiredTerminalFields: ['terminalType', 'collectedTime', 'mac', 'deviceName'],
        newFingerprint: 'reject',
        allowedAppStatuses: ['production'],
        logonTimeoutMs: 10_000,
        // Shorter than the logon timeout: a proof must follow its challenge
        // promptly, and a stale one is refused (NONCE_EXPIRED) with a new one.
        nonceTtlMs: 3_000,
        maxConnectionsPerIpPerSecond: 10,
        abnormalTerminal: 'reject',
        maxTerminalInfoAttempts: 3,
        preLogonMaxFrameBytes: 1024,
        preLogonMaxMessages: 16,
        preLogonJournalBytes: 4096,
        maxUnauthenticatedConnections: 32,
        maxUnauthenticatedPerIp: 8,
      },
    },
  },
  ops: {
    host: '127.0.0.1',
    port: 7080,
    allowInsecureNonLoopback: false,
    // <runDir>/ops-token, generated owner-only at first start.
    tokenFile: null,
  },
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
    // client for how long (docs/domain.md, CTP error 75).
    maxFailures: 5,
    failureWindowMs: 300_000,
    lockoutMs: 300_000,
    maxTrackedEntries: 100_000,
    // Locks live apart from the counters, so spraying cannot evict one.
    maxLocks: 100_000,
    // A /24 or /64 is one network: its addresses together get 10x one
    // address's allowance before the whole prefix is locked.
    prefixMaxFailures: 50,
    // 2 hashing threads: 16 pending is under a second of queue.
    maxPendingHashes: 16,
    hashesReservedForKnownTerminals: 4,
    maxNewFingerprintsPerAccount: 10,
    fingerprintChurnWindowMs: 3_600_000,
    // The unauthenticated caps of all lanes plus this must
    // fit RLIMIT_NOFILE, which start raises to its hard limit.
    fdReserve: 256,
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
  risk: {
    // About 40 MiB of shared memory reserved at these sizes, mostly the
    // order tables (accounts × openOrdersPerAccount × 96 bytes) and the rate
    // rings (accounts × rateRingSize × 8 bytes); pages are touched only as
    // accounts trade.
    capacity: {
      accounts: 1024,
      // Account × instrument scopes with limits of their own.
      accountInstrumentLimitRows: 4096,
      appIds: 256,
      instruments: 1024,
      instrumentsPerAccount: 32,
      openOrdersPerAccount: 256,
      rateRingSize: 1024,
    },
    limits: {
      global: {
        sessionMessagesPerSecond: 200,
        // CTP caps order inserts plus cancels per second per investor
        // (docs/domain.md, "CTP flow controls").
        accountActionsPerSecond: 100,
        // The instrument's own max_order_lots always applies too.
        maxOrderLots: null,
        maxNotionalPerOrder: 50_000_000,
        // Exchange limit-up/limit-down always applies; this is the tighter
        // fat-finger band, off unless a lane or account sets it.
        priceBandBps: null,
        maxOpenOrders: 200,
        maxLongLots: 1000,
        maxShortLots: 1000,
        funds: 20_000_000,
        maxDailyVolumeLots: 50_000,
        // Monitor defaults where no exchange preset applies: the SHFE
        // figures (see exchanges below).
        cancelsWarn: 400,
        cancelsBlock: 475,
        largeCancelsWarn: 40,
        largeCancelsBlock: 48,
        largeOrderMinLots: 300,
        largeOrderPctOfMax: null,
        selfTradesWarn: 3,
        selfTradesBlock: 5,
        // Programmatic-trading reporting threshold, DCE notice 〔2025〕305号
        // (docs/domain.md): >=10 occasions a day of >=10 orders plus cancels
        // within 1 second. Warned at 8 occasions.
        hfBurstOrders: 10,
        hfBurstsWarn: 8,
        hfBurstsReporting: 10,
        // High-frequency thresholds: the stock exchanges' >=300 orders plus
        // cancels per second or >=20,000 per day per account (docs/domain.md);
        // warned at 80%.
        hfPerSecondWarn: 240,
        hfPerSecondBlock: 300,
        hfDailyWarn: 16_000,
        hfDailyBlock: 20_000,
        selfMatchMode: 'reject-incoming',
        cancelOnDisconnect: false,
        // Opening-volume monitor per contract per day: off unless an
        // exchange preset, account or contract sets it (exchanges set their
        // figures per contract by notice; docs/pre-trade-checks.md).
        openVolumeWarn: null,
        openVolumeBlock: null,
      },
      lanes: {
        // People at screens: slower, with a fat-finger price band.
        terminal: { sessionMessagesPerSecond: 50, accountActionsPerSecond: 20, priceBandBps: 500 },
        platform: { sessionMessagesPerSecond: 500, accountActionsPerSecond: 200 },
        // Registered high-frequency clients: the throttles carry the load
        // limits; the HF levels still warn, but do not block (these accounts
        // are expected to have their report confirmed).
        hft: { sessionMessagesPerSecond: 1000, accountActionsPerSecond: 1000, hfPerSecondBlock: null, hfDailyBlock: null },
      },
      // Abnormal-trading thresholds per exchange, counted per client per
      // contract per trading day, FAK/FOK excluded (docs/domain.md, "Exchange
      // abnormal-trading thresholds"). Warning at 80% of the exchange's
      // figure; blocking at 95% (rounded down), so that cancels of orders
      // still working after new orders are blocked have room before the
      // exchange's own count is reached. Self-trades: the gateway prevents
      // them, and blocks at the exchange's count of attempts (5).
      exchanges: {
        // SHFE/INE: 500 cancels; 50 cancels of orders of >=300 lots.
        SHFE: { cancelsWarn: 400, cancelsBlock: 475, largeOrderMinLots: 300, largeOrderPctOfMax: null, largeCancelsWarn: 40, largeCancelsBlock: 47 },
        INE: { cancelsWarn: 400, cancelsBlock: 475, largeOrderMinLots: 300, largeOrderPctOfMax: null, largeCancelsWarn: 40, largeCancelsBlock: 47 },
        // DCE: 500 cancels; 400 cancels of orders >80% of the max order
        // size (read here as >=80%, which counts slightly more as large).
        DCE: { cancelsWarn: 400, cancelsBlock: 475, largeOrderMinLots: null, largeOrderPctOfMax: 80, largeCancelsWarn: 320, largeCancelsBlock: 380 },
        // ZCE: 500 cancels; 50 cancels of orders of >=800 lots.
        ZCE: { cancelsWarn: 400, cancelsBlock: 475, largeOrderMinLots: 800, largeOrderPctOfMax: null, largeCancelsWarn: 40, largeCancelsBlock: 47 },
        // CFFEX index futures: 400 cancels; 100 cancels of orders >=80% of
        // the max limit-order size.
        CFFEX: { cancelsWarn: 320, cancelsBlock: 380, largeOrderMinLots: null, largeOrderPctOfMax: 80, largeCancelsWarn: 80, largeCancelsBlock: 95 },
      },
      appIds: {},
      accounts: {},
      accountInstruments: {},
    },
    tradingStates: {},
  },
  journal: {
    enabled: true,
    // <runDir>/journal, i.e. ./var/journal with the default runDir.
    dir: null,
    // A process crash or kill -9 loses nothing under any policy (every
    // commit has reached the OS before anything is sent); this bounds a
    // power loss to the last 10 ms without a disk wait on the lane
    // (journal/README.md has the measured cost of each policy).
    fsync: { intervalMs: 10 },
    maxSegmentBytes: 256 * 1024 * 1024,
    // A chain point every 256 records or 100 ms: the hash costs one call
    // per point rather than per commit (journal/README.md, Integrity).
    chain: { everyRecords: 256, everyMs: 100 },
    // docs/domain.md, Retention: brokers commonly keep trading records 20 years.
    retentionYears: 20,
    recoverOnStart: true,
    // Below 1 GiB or 2% free, new logons are refused and ops alerted;
    // below 64 MiB the lanes fail closed rather than die mid-write.
    disk: { checkIntervalMs: 1000, lowWatermarkBytes: 1024 * 1024 * 1024, lowWatermarkPercent: 2, floorBytes: 64 * 1024 * 1024 },
  },
  admin: {
    enabled: true,
    // <runDir>/admin.sock
    socketPath: null,
  },
  evidence: {
    maxFileBytes: 50 * 1024 * 1024,
    expiryWarningDays: 30,
    expiryCheckIntervalMs: 60_000,
  },
  compliance: {
    // docs/compliance.md, Dual control: all four changes need a second
    // operator unless the broker turns one off.
    dualControl: {
      windowMs: 30 * 60_000,
      limitRaiseFactor: 2,
      requireFor: { appProduction: true, limitRaise: true, globalKillLift: true, fingerprintApproval: true },
    },
    // The broker lists the exchanges' holidays here; weekends are never trading days.
    tradingCalendar: { holidays: [] },
    clockAlertDaysAhead: 2,
  },
  // One instance by default: nothing but this process is needed. docs/cluster.md
  // says how to run several on NATS JetStream.
  cluster: {
    enabled: false,
    nats: { servers: ['nats://127.0.0.1:4222'], tokenFile: null, connectTimeoutMs: 2000 },
    instances: {},
    directory: { source: 'config', bucket: 'gatehouse-accounts', accounts: {} },
    replication: { enabled: true, stream: 'GATEHOUSE_JOURNAL', subjectPrefix: 'journal', replicas: 1, maxMessageBytes: 262_144, maxInFlightMessages: 64, pollIntervalMs: 20, lagAlertMs: 10_000 },
    control: { subject: 'gatehouse.control', replyTimeoutMs: 2000 },
  },
} satisfies GatewayConfig)
