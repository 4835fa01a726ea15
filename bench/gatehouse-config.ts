// The Gatehouse config and client identity the benchmark runs with: its own
// AppID, terminal fingerprint and accounts, all registered the way a broker
// would register a real client, so every benchmark session goes through the
// whole look-through logon (AuthCode proof, terminal info, password).
//
// Two deliberate departures from production settings, both because every
// benchmark session comes from one host in a bounded run:
// - password hashes use scrypt N=1024 instead of 16384, so 5000 logons take
//   seconds rather than minutes (the logon rate is reported with this cost);
//   logon-rate's own accounts keep the production cost, since the logon
//   rate is what that scenario measures;
// - the per-IP connection throttle is raised, since all sessions share
//   127.0.0.1;
// - the load-shaped risk limits are lifted (BENCH_RISK_LIMITS): the bench
//   drives one account per session at tens of thousands of orders per
//   second, where production throttles and HF monitors would refuse.
//   Every check still runs; see BENCH_RISK_LIMITS.
//
// The journal keeps its production defaults in plain `gatehouse`; the
// gatehouse-* variants (GATEHOUSE_JOURNAL) change one field of it so that
// the journal's cost is measured against the same gateway in the same run.
// Every gateway run gets a fresh run directory (systems.ts), so no journal
// is recovered from, or piles up behind, an earlier run.
import { join } from 'node:path'
import { v1 } from '../protocol/messages.js'
import type { gatehouse } from '../protocol/generated/gatehouse.js'
import { SCRYPT_PARAMS, hashPassword } from '../supervisor/access/password-hash.js'
import { DEFAULT_CONFIG } from '../config/defaults.js'
import { fingerprintId, type TerminalInfo } from '../protocol/terminal-fingerprint.js'
import type { FsyncPolicy } from '../journal/segment-writer.js'
import type { ClientIdentity, Credentials, GatehouseSystem } from './types.js'

export const BENCH_APP_ID = 'gatehouse-bench'
export const BENCH_AUTH_CODE = 'bench-authcode-6c1f0e9a2d7b4c35'

function scryptText (params: Readonly<{ N: number, r: number, p: number }>): string {
  return `scrypt N=${params.N} r=${params.r} p=${params.p}`
}

/** Cost of the bench accounts' password hashes (production default: N=16384). */
export const BENCH_SCRYPT = Object.freeze({ N: 1024, r: 8, p: 1 })
export const BENCH_SCRYPT_TEXT = scryptText(BENCH_SCRYPT)
/** The production default (supervisor/access/password-hash.ts), for the accounts of logon-rate. */
export const PRODUCTION_SCRYPT_TEXT = `${scryptText(SCRYPT_PARAMS)} (production default)`
/** Sessions one bench account may hold; scenarios with more sessions than accounts stay under it. */
export const BENCH_MAX_SESSIONS = 4

export const BENCH_TERMINAL_INFO: gatehouse.v1.TerminalInfo.$Properties = Object.freeze({
  terminalType: 'linux-server',
  collectedTimeUs: 0, // set at each logon
  ips: ['127.0.0.1'],
  mac: '02:42:ac:11:00:42',
  deviceName: 'bench-load-generator',
  osVersion: 'Linux 6.1',
  diskSerial: '',
  cpuSerial: '',
  bios: '',
  systemDiskPartition: '',
  // Disk, CPU, BIOS serials and the Windows partition not collected, as on
  // a Linux VM; no lane policy requires them.
  collectFailureMask: 0b11_1100_0000,
  abnormal: false,
})

export const BENCH_IDENTITY: ClientIdentity = { appId: BENCH_APP_ID, authCode: BENCH_AUTH_CODE, terminalInfo: BENCH_TERMINAL_INFO }

/**
 * Working orders one bench account may have: the default size of the
 * account's order table (risk.capacity.openOrdersPerAccount), which the
 * bench keeps. The hft open loop holds its backlog under it (run.ts), so
 * that a stall shows as latency and saturation, not as fast
 * MAX_OPEN_ORDERS refusals.
 */
export const BENCH_ORDER_SLOTS_PER_ACCOUNT = DEFAULT_CONFIG.risk.capacity.openOrdersPerAccount

/**
 * The risk limits the benchmark gateway runs with, merged over the
 * defaults (config/defaults.ts) scope by scope, field by field.
 *
 * null means "no limit", and a lifted limit still runs its check: every
 * order still resolves all limits, takes the account lock, compares each
 * counter against its (infinite) level, reserves margin and counts its
 * action in the account's rate ring. For the count and level limits lifted
 * here the comparison itself still runs; for the ring-window ones
 * (accountActionsPerSecond, hfPerSecondWarn, hfPerSecondBlock) null skips
 * one read of the ring, and the session throttle still records the
 * message's time. A lifted limit is Infinity, which V8 boxes if it passes
 * through a call it does not inline (one quick run measured 16 B/order
 * under these limits; the latest full run 0 B). The `checks`
 * micro-benchmark measures the path under these limits
 * (risk-full-path-bench-limits) next to the one with every limit finite
 * (risk-full-path), so the difference is on record.
 *
 * Lifted, and why (the load, not the checks, would trip them):
 * - sessionMessagesPerSecond, accountActionsPerSecond on every lane (the
 *   lanes set them, so the lane scope is where they must be lifted): one
 *   hft session runs at up to 50k orders/s, each platform session at
 *   ~20k/s closed loop, each terminal flood session at ~15k/s, against
 *   throttles of 50-1000/s;
 * - hfPerSecondWarn/Block and hfDailyWarn/Block (global; the hft lane
 *   already lifts the blocks): one bench account passes 300 orders in its
 *   first few milliseconds and 20,000 in its first second. The warning
 *   levels are lifted with the blocks because past them the lane puts a
 *   MonitorWarning (with its text) in every report, which would change
 *   what every report costs and carries;
 * - maxOpenOrders on the hft lane: the open loop's working orders are
 *   rate x latency, over 200 in any 4 ms stall at 50k/s. The per-account
 *   order table (risk.capacity.openOrdersPerAccount, 256 by default) stays
 *   the hard cap: raising it would lengthen the self-match scan, which
 *   walks the whole table, for every bench account. The hft open loop
 *   therefore keeps at most that many orders outstanding
 *   (BENCH_ORDER_SLOTS_PER_ACCOUNT) and counts a longer backlog as
 *   saturation, charged from the orders' intended times.
 *
 * Kept at the defaults because the bench load does not reach them:
 * maxOpenOrders on the platform and terminal lanes (at most 32 working per
 * account), funds, position and daily-volume limits (1-lot orders, and no
 * order ever fills: see the flows in types.ts), the cancel and self-trade
 * monitors (FAK cancels are not counted; a terminal session cancels one
 * order per 5 s; the flows never cross themselves), the HF burst monitor
 * (bench accounts have their programmatic report confirmed) and the
 * terminal lane's 500 bps price band (every flow prices within it).
 */
export const BENCH_RISK_LIMITS = Object.freeze({
  global: {
    hfPerSecondWarn: null,
    hfPerSecondBlock: null,
    hfDailyWarn: null,
    hfDailyBlock: null,
  },
  lanes: {
    terminal: { sessionMessagesPerSecond: null, accountActionsPerSecond: null },
    platform: { sessionMessagesPerSecond: null, accountActionsPerSecond: null },
    hft: { sessionMessagesPerSecond: null, accountActionsPerSecond: null, maxOpenOrders: null },
  },
})

export function fsyncText (policy: FsyncPolicy): string {
  return typeof policy === 'object' ? `fsync every ${policy.intervalMs} ms` : policy === 'never' ? 'fsync never' : 'fdatasync in every commit, every-batch'
}

/** The journal fields a variant sets over the defaults. */
export interface JournalVariant {
  enabled: boolean
  fsync: FsyncPolicy
  /** For the rows and the report. */
  text: string
}

const DEFAULT_JOURNAL = DEFAULT_CONFIG.journal

/**
 * What each Gatehouse system journals with. `gatehouse` is the default
 * config (journal on, fsync every 10 ms); journal-off is the same-run
 * baseline of the journal's cost (enabled: false exists for benchmarks
 * only); the others are fsync policies either side of the default.
 */
export const GATEHOUSE_JOURNAL: Readonly<Record<GatehouseSystem, JournalVariant>> = Object.freeze({
  gatehouse: { enabled: true, fsync: DEFAULT_JOURNAL.fsync, text: `journal on, ${fsyncText(DEFAULT_JOURNAL.fsync)}, the default` },
  'gatehouse-journal-off': { enabled: false, fsync: DEFAULT_JOURNAL.fsync, text: 'journal off: enabled false, benchmarks only; nothing recorded' },
  'gatehouse-fsync-never': { enabled: true, fsync: 'never', text: `journal on, ${fsyncText('never')}` },
  // Between the two: what a longer interval buys back where the disk's
  // flushes disturb the whole VM (docs/benchmarks.md).
  'gatehouse-fsync-100ms': { enabled: true, fsync: { intervalMs: 100 }, text: `journal on, ${fsyncText({ intervalMs: 100 })}` },
  'gatehouse-fsync-every-batch': { enabled: true, fsync: 'every-batch', text: `journal on, ${fsyncText('every-batch')}` },
  // The default journal, published to a local nats-server by the
  // replicator thread (cluster mode, one instance): on vs off in one run.
  'gatehouse-replicated': { enabled: true, fsync: DEFAULT_JOURNAL.fsync, text: `journal on, ${fsyncText(DEFAULT_JOURNAL.fsync)}, replicated to NATS JetStream` },
})

/** A config file (merged over the defaults by `gatehouse start --config`) for one benchmark gateway. */
export function gatehouseBenchConfig (options: { simPort: number, simHost: string, runDir: string, credentials: Credentials[], journal: JournalVariant }): unknown {
  // Every bench account has the same password: hash it once per cost, not
  // per account (a production-cost hash takes ~50 ms of the runner's CPU).
  const passwordHashes = new Map<string, string>()
  const hashOf = (c: Credentials): string => {
    const params = c.scrypt ?? BENCH_SCRYPT
    const key = `${params.N}/${params.r}/${params.p}/${c.password}`
    let hash = passwordHashes.get(key)
    if (hash === undefined) {
      // The production cost goes through hashPassword's own default, so a
      // change of SCRYPT_PARAMS is what logon-rate measures.
      hash = scryptText(params) === scryptText(SCRYPT_PARAMS) ? hashPassword(c.password) : hashPassword(c.password, params)
      passwordHashes.set(key, hash)
    }
    return hash
  }
  const fingerprint = fingerprintId(v1.TerminalInfo.create(BENCH_TERMINAL_INFO) as TerminalInfo)
  // Every simulated client connects from 127.0.0.1, up to connectConcurrency
  // (and logon-rate's concurrency) of them logging on at once.
  const lane = { port: 0, policy: { maxConnectionsPerIpPerSecond: 1_000_000, maxUnauthenticatedConnections: 512, maxUnauthenticatedPerIp: 512 } }
  return {
    gatewayId: 'bench',
    runDir: options.runDir,
    lanes: { terminal: lane, platform: lane, hft: lane },
    ops: { port: 0 },
    exchange: { embeddedSimulator: false, host: options.simHost, port: options.simPort },
    software: [{
      appId: BENCH_APP_ID,
      vendor: 'Gatehouse',
      name: 'gatehouse benchmark load generator',
      version: '0.1.0',
      authCode: BENCH_AUTH_CODE,
      status: 'production',
      assessment: { documents: [{ name: 'bench self-assessment', expires: '2099-12-31' }], accessTestPassed: '2026-01-05' },
    }],
    accounts: options.credentials.map((c) => ({
      id: c.account,
      passwordHash: hashOf(c),
      lanes: ['terminal', 'platform', 'hft'],
      appIds: [BENCH_APP_ID],
      ipRanges: ['127.0.0.0/8'],
      // Programmatic accounts must have a report on file before they trade.
      programmaticReport: 'confirmed',
      maxSessions: BENCH_MAX_SESSIONS,
      knownFingerprints: [fingerprint],
    })),
    // Every bench session logs on from 127.0.0.1, connectConcurrency at a
    // time: the per-address and per-prefix allowances bound the logons in
    // flight from one address, and the password queue sheds past
    // maxPendingHashes (docs/abuse-resistance.md). The bench measures the
    // logon path itself, never failing, so both are opened wide here.
    security: { maxFailures: 1_000_000, prefixMaxFailures: 1_000_000, maxPendingHashes: 1_000_000 },
    risk: {
      // Room for every bench account (5005 in the default run); the
      // per-account room (order slots, instruments, rate ring) stays at the
      // defaults, so the self-match scan and the shared memory per account
      // are what a production gateway with this many accounts pays.
      capacity: {
        accounts: Math.max(DEFAULT_CONFIG.risk.capacity.accounts, options.credentials.length),
        openOrdersPerAccount: BENCH_ORDER_SLOTS_PER_ACCOUNT,
      },
      limits: BENCH_RISK_LIMITS,
    },
    // The journal under the run directory, named rather than left to the
    // default, so the runner knows where to count records and what to
    // delete; segment size, retention and recovery stay at the defaults.
    journal: {
      enabled: options.journal.enabled,
      fsync: options.journal.fsync,
      dir: benchJournalDir(options.runDir),
    },
  }
}

/** Where a bench gateway with this run directory journals. */
export function benchJournalDir (runDir: string): string {
  return join(runDir, 'journal')
}
