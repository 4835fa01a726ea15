// What `gatehouse drill` runs against and what it calls a pass: the target,
// the identities it logs on with, the trader's pace and every threshold.
// A --config file is merged over DRILL_DEFAULTS (objects field by field,
// as the gateway's own config is) and validated with zod; command-line
// flags override both.
import { z } from 'zod'
import { DEMO_APP_ID, DEMO_AUTH_CODE } from '../../protocol/demo-identity.js'
import { DEFAULT_CONFIG } from '../../config/defaults.js'
import { mergeConfig } from '../../config/config.js'
import { GatehouseError } from '../../protocol/gatehouse-error.js'
import { formatZodIssue } from '../../platform/zod-issue.js'

const { lanes, ops } = DEFAULT_CONFIG

export const DRILL_LANES = ['terminal', 'platform', 'hft'] as const
export type DrillLane = typeof DRILL_LANES[number]

const url = (scheme: RegExp, example: string) => z.string().regex(scheme, `must be a URL such as ${example}`)
const wsUrl = url(/^wss?:\/\/[^/]+/, 'ws://127.0.0.1:7002')

const ThresholdsSchema = z.object({
  /** The trader's p99 round trip (order to its final report, heartbeat to its echo) must stay under this. */
  traderP99Ms: z.number().positive('must be a positive number of milliseconds'),
  /** Resident memory may grow at most this much over a scenario (measured after its connections closed). */
  rssGrowthBytes: z.number().int().min(0, 'must be at least 0 bytes'),
  /** Open file descriptors may grow at most this much over a scenario (after its connections closed). */
  fdGrowth: z.number().int().min(0, 'must be at least 0'),
  /** Journal bytes a scenario may cause: journalBaseBytes + journalBytesPerMessage x messages sent (attacker and trader). */
  journalBaseBytes: z.number().int().min(0, 'must be at least 0 bytes'),
  journalBytesPerMessage: z.number().int().min(1, 'must be at least 1 byte'),
  /** The gateway's security.maxFailures: more wrong proofs or passwords than this on one account or address must meet LOGIN_BANNED. */
  maxFailures: z.number().int().min(1, 'must be at least 1 (the target gateway\'s security.maxFailures)'),
  /** The gateway's security.prefixMaxFailures: failures from one /24 (or /64) before the whole prefix is locked. */
  prefixMaxFailures: z.number().int().min(1, 'must be at least 1 (the target gateway\'s security.prefixMaxFailures)'),
  /** The gateway's security.maxPendingHashes: password checks running or queued at once, gateway-wide. */
  maxPendingHashes: z.number().int().min(1, 'must be at least 1 (the target gateway\'s security.maxPendingHashes)'),
  /** The lanes' policy.maxTerminalInfoAttempts: TerminalInfo messages one connection may send. */
  maxTerminalInfoAttempts: z.number().int().min(1, 'must be at least 1 (the target lanes\' policy.maxTerminalInfoAttempts)'),
  /** The gateway's security.maxNewFingerprintsPerAccount: new fingerprints per account name per window. */
  maxNewFingerprintsPerAccount: z.number().int().min(1, 'must be at least 1 (the target gateway\'s security.maxNewFingerprintsPerAccount)'),
  /** enumeration: the made-up name's median failure latency may differ from the real one's by at most this fraction of the larger. */
  enumerationLatencyRatio: z.number().min(0, 'must be at least 0').max(1, 'must be at most 1 (a fraction of the larger median)'),
  /** A connection that never logs on may get at most this many answers before the gateway stops answering or closes it. */
  preLogonMaxAnswered: z.number().int().min(1, 'must be at least 1'),
  /** The target lanes' policy.logonTimeoutMs: an unfinished logon must be closed by then (checked when the scenario waits that long). */
  logonTimeoutMs: z.number().int().min(500, 'must be at least 500 ms'),
  /** The trader's own logon, made while logon-cpu floods made-up accounts, must take less than this. */
  traderLogonMs: z.number().positive('must be a positive number of milliseconds'),
}).strict()

export const DrillSettingsSchema = z.object({
  target: z.object({
    laneUrls: z.object({ terminal: wsUrl.optional(), platform: wsUrl.optional(), hft: wsUrl.optional() }).strict(),
    opsUrl: url(/^https?:\/\/[^/]+/, 'http://127.0.0.1:7080'),
    /** The gateway's process ID, for RSS and open fds from /proc; null reads it from /healthz. */
    pid: z.number().int().positive('must be a process ID').nullable(),
    /** The gateway's admin socket, for `admin alerts list`; null tries the default path and reports "not checked" when it is not there. */
    adminSocket: z.string().min(1, 'must be the path of the gateway\'s admin socket').nullable(),
  }).strict(),
  identity: z.object({
    appId: z.string().min(1, 'must be the AppID the drill logs on with'),
    authCode: z.string().min(1, 'must be the AuthCode of appId'),
    traderAccount: z.string().min(1, 'must name the account the well-behaved trader uses'),
    traderPassword: z.string().min(1, 'must be the trader account\'s password'),
    /** A real account the brute-force scenarios attack (it ends up locked for security.lockoutMs). */
    victimAccount: z.string().min(1, 'must name a real account the brute-force scenarios may lock'),
    victimPassword: z.string().min(1, 'must be the victim account\'s right password (never accepted past the lock is the check)'),
    /**
     * password-oracle: an account that may NOT log on from the drill's
     * attack addresses (127.10.0.0 and up) or on some of the drilled lanes,
     * with its right password; null (the default gateway has none) leaves
     * that scenario's check "not checked".
     */
    restrictedAccount: z.string().min(1, 'must name an account restricted by ipRanges, lanes or appIds, or be null').nullable(),
    restrictedPassword: z.string().min(1, 'must be the restricted account\'s right password, or null').nullable(),
  }).strict(),
  trader: z.object({
    lane: z.enum(DRILL_LANES, { error: 'must be "terminal", "platform" or "hft"' }),
    /** Listed instrument the trader sends its non-crossing FAK orders on. */
    instrument: z.string().min(1),
    /**
     * Orders per second. The demo accounts have no confirmed
     * programmatic-trading report, so 10 or more orders plus cancels in a
     * second count as a burst and ten bursts block the account for the
     * day: keep this under 10 unless the account's report is confirmed.
     */
    ordersPerSecond: z.number().min(0).max(1000, 'must be at most 1000'),
    /** Heartbeats per second: the lane echoes each, a round trip that touches no risk counter. */
    heartbeatsPerSecond: z.number().min(0).max(1000, 'must be at most 1000'),
  }).strict(),
  thresholds: ThresholdsSchema,
}).strict()

export type DrillSettings = z.infer<typeof DrillSettingsSchema>
export type DrillThresholds = DrillSettings['thresholds']

/** `npm start`'s embedded defaults and the demo identity: a fresh `npm start` is drilled as is. */
export const DRILL_DEFAULTS: Readonly<DrillSettings> = Object.freeze({
  target: {
    laneUrls: Object.fromEntries(DRILL_LANES.map((name) => [name, `ws://${lanes[name].host}:${lanes[name].port}`])),
    opsUrl: `http://${ops.host}:${ops.port}`,
    pid: null,
    adminSocket: null,
  },
  identity: {
    appId: DEMO_APP_ID,
    authCode: DEMO_AUTH_CODE,
    // The demo accounts' passwords (config/defaults.ts): never use them outside a demo.
    // The trader is never the victim: scenarios lock the victim's name
    // (for strangers and for its own terminals) for security.lockoutMs.
    traderAccount: 'demo-taker',
    traderPassword: 'taker-pass',
    victimAccount: 'demo-maker',
    victimPassword: 'maker-pass',
    restrictedAccount: null,
    restrictedPassword: null,
  },
  trader: { lane: 'platform', instrument: 'rb2605', ordersPerSecond: 5, heartbeatsPerSecond: 100 },
  thresholds: {
    traderP99Ms: 50,
    // RSS seldom shrinks (the allocator keeps freed heap), so this bounds
    // buffering without limit, not ordinary heap growth.
    rssGrowthBytes: 128 * 1024 * 1024,
    fdGrowth: 16,
    journalBaseBytes: 256 * 1024,
    journalBytesPerMessage: 1024,
    maxFailures: DEFAULT_CONFIG.security.maxFailures,
    prefixMaxFailures: DEFAULT_CONFIG.security.prefixMaxFailures,
    maxPendingHashes: DEFAULT_CONFIG.security.maxPendingHashes,
    maxTerminalInfoAttempts: Math.max(...DRILL_LANES.map((name) => lanes[name].policy.maxTerminalInfoAttempts)),
    maxNewFingerprintsPerAccount: DEFAULT_CONFIG.security.maxNewFingerprintsPerAccount,
    enumerationLatencyRatio: 0.5,
    preLogonMaxAnswered: 1000,
    logonTimeoutMs: Math.max(...DRILL_LANES.map((name) => lanes[name].policy.logonTimeoutMs)),
    traderLogonMs: 1000,
  },
} satisfies DrillSettings)

/** A settings file or flag that failed validation; `problems` lists each as "path: what to change". */
export class DrillSettingsError extends GatehouseError {
  declare readonly code: 'GH_ERR_DRILL_SETTINGS'
  constructor (readonly problems: string[]) {
    super('GH_ERR_DRILL_SETTINGS', `invalid drill settings:\n  - ${problems.join('\n  - ')}`)
  }
}

/** Merges `overrides` over DRILL_DEFAULTS and validates the result. */
export function resolveDrillSettings (overrides: unknown = {}): DrillSettings {
  const parsed = DrillSettingsSchema.safeParse(mergeConfig(structuredClone(DRILL_DEFAULTS), overrides))
  if (parsed.success) return parsed.data
  throw new DrillSettingsError(parsed.error.issues.map((issue) => formatZodIssue(issue, { topLevel: '(top level)' })))
}
