// Gateway configuration: one JSON file, merged over the embedded defaults
// and validated with zod. Every error names the exact field path and says
// what to change; the gateway refuses to start on any of them.
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { parseCidr } from './ip-ranges.js'
import { MAX_SEGMENT_FILE_BYTES } from '../journal/read-bounded-file.js'
import { MAX_CHAIN_EVERY_MS, MAX_CHAIN_EVERY_RECORDS } from '../journal/segment-writer.js'
import { z } from 'zod'
import { LANE_NAMES, type LaneName } from '../protocol/lanes.js'
import { TERMINAL_FIELDS } from '../protocol/terminal-fingerprint.js'
import { LIMIT_NAMES, SELF_MATCH_MODES, limitValueProblem, type LimitName } from '../checks/limits.js'
import { EXCHANGES, TRADING_STATES } from '../checks/risk-layout.js'
import { tokenFileProblem } from './ops-token.js'
import { GatehouseError } from '../protocol/gatehouse-error.js'
import { isLoopbackHost } from '../platform/loopback.js'
import { formatZodIssue } from '../platform/zod-issue.js'

export const LaneNameSchema = z.enum(LANE_NAMES)

const host = z.string().min(1, 'must be a host name or IP address')
const port = z.number().int('must be a whole number').min(0, 'must be 0 (any free port) or 1-65535').max(65535, 'must be at most 65535')

const TlsSchema = z.object({
  certFile: z.string().min(1, 'must be the path of a PEM certificate file'),
  keyFile: z.string().min(1, 'must be the path of a PEM private key file'),
  passphrase: z.string().optional(),
}).strict()


export const APP_STATUSES = ['testing', 'production', 'suspended', 'revoked'] as const
export type AppStatus = typeof APP_STATUSES[number]

const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')

/** Who may connect to a lane and what proof it needs. */
const LanePolicySchema = z.object({
  /** Terminal-info fields that must be present (and not flagged in the failure mask). */
  requiredTerminalFields: z.array(z.enum(TERMINAL_FIELDS)),
  /** A fingerprint never seen for the account: allow and alert, hold for approval, or reject. */
  newFingerprint: z.enum(['allow-alert', 'hold', 'reject']),
  /** AppID statuses accepted on this lane (a testing AppID still reaches only a test exchange). */
  allowedAppStatuses: z.array(z.enum(APP_STATUSES)).min(1, 'must allow at least one AppID status'),
  /** The whole logon (authenticate, terminal info, login) must finish within this. */
  logonTimeoutMs: z.number().int().min(500, 'must be at least 500 ms').max(300_000, 'must be at most 300000 ms'),
  /** An AuthChallenge nonce is good for this long. */
  nonceTtlMs: z.number().int().min(500, 'must be at least 500 ms').max(300_000, 'must be at most 300000 ms'),
  /** New WebSocket connections accepted per source IP in any sliding second (HTTP 429 beyond). */
  maxConnectionsPerIpPerSecond: z.number().int().min(1),
  /** A terminal that reports itself abnormal (TerminalInfo.abnormal): allow and alert, hold for approval, or reject. */
  abnormalTerminal: z.enum(['allow-alert', 'hold', 'reject']),
  /** TerminalInfo messages one connection may send; past it the connection is closed (TERMINAL_INFO_ATTEMPTS). */
  maxTerminalInfoAttempts: z.number().int().min(1, 'must be at least 1').max(100, 'must be at most 100'),
  /**
   * Largest frame accepted before logon (the logon messages are small);
   * larger gets PRE_LOGON_BUDGET_EXCEEDED and the connection is closed.
   */
  preLogonMaxFrameBytes: z.number().int('must be a whole number').min(256, 'must be at least 256 bytes (a full TerminalInfo must fit)').max(1_048_576, 'must be at most 1 MiB'),
  /** Messages a connection may send before it has logged on; one more closes it (PRE_LOGON_BUDGET_EXCEEDED). */
  preLogonMaxMessages: z.number().int('must be a whole number').min(4, 'must be at least 4 (the three logon steps and a heartbeat)').max(10_000, 'must be at most 10000'),
  /**
   * Bytes of frames journaled whole per connection before logon; past it
   * only a digest of each frame (length, type, SHA-256) is journaled.
   */
  preLogonJournalBytes: z.number().int('must be a whole number').min(0, 'must be at least 0 (0: digests only)').max(1_048_576, 'must be at most 1 MiB'),
  /** Connections not yet logged on that the lane holds at once (HTTP 503 beyond). */
  maxUnauthenticatedConnections: z.number().int('must be a whole number').min(1, 'must be at least 1'),
  /** Connections not yet logged on that one source IP holds at once on the lane (HTTP 429 beyond). */
  maxUnauthenticatedPerIp: z.number().int('must be a whole number').min(1, 'must be at least 1'),
}).strict().refine((policy) => policy.nonceTtlMs < policy.logonTimeoutMs, {
  message: 'nonceTtlMs must be shorter than logonTimeoutMs, or an expired nonce could never be seen (NONCE_EXPIRED): lower nonceTtlMs',
  path: ['nonceTtlMs'],
})

/**
 * Test only: faults injected on real input to prove that an exception in
 * a lane handler is contained. Never set in production.
 */
const LaneTestFaultsSchema = z.object({
  /** A Heartbeat with this test_id throws inside the message handler. */
  throwOnHeartbeatTestId: z.number().int().min(1).optional(),
  /** An exchange report for an order with this client_order_id throws inside the link handler. */
  throwOnReportClientOrderId: z.number().int().min(1).optional(),
}).strict()

/** The largest lanes.<lane>.queriesPerSecond: a session's query window holds this many timestamps at most. */
export const MAX_QUERIES_PER_SECOND = 1000

const LaneSchema = z.object({
  enabled: z.boolean(),
  host,
  port,
  /** Largest ClientEnvelope accepted; larger frames get FRAME_TOO_LARGE. */
  maxFrameBytes: z.number().int().min(64, 'must be at least 64 bytes').max(1_048_576, 'must be at most 1 MiB'),
  /** Close a connection silent for this long. uWS resolution is 4 s. */
  idleTimeoutS: z.number().int().refine((s) => s === 0 || s >= 8, 'must be 0 (never) or at least 8 seconds'),
  /** A client that stops reading is disconnected past this many unsent bytes. */
  maxBackpressureBytes: z.number().int().min(65_536, 'must be at least 64 KiB'),
  /** Execution reports the lane holds for resends, over all its accounts; past it the oldest go first (lane/report-log.ts). */
  resendWindowReports: z.number().int('must be a whole number').min(1, 'must be at least 1').max(10_000_000, 'must be at most 10,000,000'),
  /** Reports one ResendRequest is answered with at most; ResendComplete.more says to ask again. */
  maxResendReports: z.number().int('must be a whole number').min(1, 'must be at least 1').max(1_000_000, 'must be at most 1,000,000'),
  /** Queries (Query, ResendRequest) per second per session, in a sliding 1 s window; THROTTLED_QUERY beyond. */
  queriesPerSecond: z.number().int('must be a whole number').min(1, 'must be at least 1').max(MAX_QUERIES_PER_SECOND, `must be at most ${MAX_QUERIES_PER_SECOND}`),
  /**
   * Held reports a session's queries and resends may read per second, on
   * average: an orders or trades query walks the account's held reports on
   * the lane thread, so without this a client could keep the lane busy
   * with a few big queries a second. THROTTLED_QUERY while the debt of
   * earlier queries exceeds one second's worth.
   */
  queryScanReportsPerSecond: z.number().int('must be a whole number').min(1_000, 'must be at least 1,000').max(10_000_000, 'must be at most 10,000,000'),
  tls: TlsSchema.optional(),
  /** Allow a plain-text listener on a non-loopback address. */
  allowInsecureNonLoopback: z.boolean(),
  policy: LanePolicySchema,
  /** Test only (see LaneTestFaultsSchema). */
  testFaults: LaneTestFaultsSchema.optional(),
}).strict()

/** A registered client software (AppID) and the evidence of its assessment. */
const SoftwareSchema = z.object({
  appId: z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'must be 1-64 letters, digits, ".", "_", ":" or "-"'),
  vendor: z.string().min(1),
  name: z.string().min(1),
  version: z.string().min(1),
  /** The AuthCode issued for this AppID: the HMAC key of the authenticate proof. */
  authCode: z.string().min(16, 'must be at least 16 characters'),
  status: z.enum(APP_STATUSES),
  assessment: z.object({
    /** Vendor documents and their expiry dates. Any expired document makes the AppID act as suspended. */
    documents: z.array(z.object({ name: z.string().min(1), expires: isoDate }).strict()),
    /**
     * Legacy: the date access testing passed, typed by hand; null if it has
     * not. Kept so older configs still load (a production AppID the file
     * lists needs it); `apps list` flags it. Promotion through the admin
     * socket needs a certification record instead (docs/certification.md).
     */
    accessTestPassed: isoDate.nullable(),
  }).strict(),
}).strict()

const cidr = z.string().refine((value) => parseCidr(value) !== null, 'must be a CIDR range such as 10.0.0.0/8 or ::1/128')

/**
 * An account's due diligence (docs/compliance.md): how it executes, the
 * software it runs, and the dates of its programmatic-trading report. All
 * optional, so a config written before these existed still loads; the
 * admin commands `accounts diligence set` and `accounts report ...` keep it
 * current at run time.
 */
export const DiligenceSchema = z.object({
  /** How orders are decided and sent, in the report's words, e.g. "automated via platform X". */
  executionMethod: z.string().min(1).max(500).optional(),
  /** The software named in the report: its name, functions and developer. */
  software: z.array(z.object({
    name: z.string().min(1).max(200),
    functions: z.string().min(1).max(1000),
    developer: z.string().min(1).max(200),
  }).strict()).max(32, 'must list at most 32 programs').optional(),
  /** The date the client's programmatic-trading report was received: the filing clock starts. */
  reportReceivedOn: isoDate.nullable().optional(),
  /** The date the futures company filed it with the exchange. */
  filedOn: isoDate.nullable().optional(),
  /** The date the exchange confirmed it. */
  confirmedOn: isoDate.nullable().optional(),
  /** The date of the last material change: the 30-trading-day clock starts. */
  materialChangeOn: isoDate.nullable().optional(),
  materialChangeReportedOn: isoDate.nullable().optional(),
}).strict()

const AccountSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, 'must be 1-32 letters, digits, ".", "_" or "-"'),
  /** scrypt hash from `gatehouse hash-password`; the password itself is never stored. */
  passwordHash: z.string().regex(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/, 'must be a hash from `gatehouse hash-password` (scrypt$N$r$p$salt$key)'),
  lanes: z.array(LaneNameSchema).min(1, 'must list at least one lane the account may use'),
  /** AppIDs this account may connect with. */
  appIds: z.array(z.string()).min(1, 'must list at least one AppID the account may use'),
  /** Source IP ranges the account may connect from. */
  ipRanges: z.array(cidr).min(1, 'must list at least one CIDR range'),
  /** Programmatic-trading report status ("report first, trade after"). */
  programmaticReport: z.enum(['none', 'filed', 'confirmed']),
  /** Sessions this account may hold at once, across lanes (CTP's max sessions per user). */
  maxSessions: z.number().int().min(1),
  /** Fingerprint IDs approved in advance (TerminalInfoReply.fingerprint_id). */
  knownFingerprints: z.array(z.string().regex(/^[0-9a-f]{64}$/, 'must be a 64-hex-digit fingerprint ID')),
  /** Due diligence and the programmatic-trading report's contents and dates. */
  diligence: DiligenceSchema.optional(),
}).strict()

/** Brute-force protection, shared by all lanes. */
const SecuritySchema = z.object({
  /** Failed attempts (bad proof or password) before an account or IP is locked. */
  maxFailures: z.number().int().min(1),
  /** Failures older than this are forgotten. */
  failureWindowMs: z.number().int().min(1000),
  /** How long a lock lasts. */
  lockoutMs: z.number().int().min(1000),
  /** Entries kept per failure-counting table (LRU): bounds memory under address spraying. Locks are kept apart (maxLocks). */
  maxTrackedEntries: z.number().int().min(100),
  /** Locks in force held at once (accounts, names, addresses, prefixes); never evicted. Full: failing sources are refused (LOCK_STORE_FULL). */
  maxLocks: z.number().int().min(100, 'must be at least 100'),
  /** Failures from one /24 (IPv4) or /64 (IPv6) prefix before the whole prefix is locked. */
  prefixMaxFailures: z.number().int().min(1),
  /** Password checks running or queued at once; past it logons are shed (LOGON_SHED) before any hashing. */
  maxPendingHashes: z.number().int().min(2, 'must be at least 2'),
  /** Of maxPendingHashes, places only logons from a terminal already approved for the account may take. */
  hashesReservedForKnownTerminals: z.number().int().min(0),
  /** New (never approved) fingerprints per account name in fingerprintChurnWindowMs; past it FINGERPRINT_CHURN. */
  maxNewFingerprintsPerAccount: z.number().int().min(1),
  fingerprintChurnWindowMs: z.number().int().min(1000),
  /**
   * File descriptors kept back from the lanes' unauthenticated connection
   * caps: for logged-on sessions, ops, the admin socket, journal files and
   * the exchange links. Start refuses a config whose caps leave less.
   */
  fdReserve: z.number().int('must be a whole number').min(64, 'must be at least 64'),
}).strict().refine((security) => security.hashesReservedForKnownTerminals < security.maxPendingHashes, {
  message: 'hashesReservedForKnownTerminals must be less than maxPendingHashes, or no new terminal could ever log on: lower it',
  path: ['hashesReservedForKnownTerminals'],
})

/**
 * Limit values at one scope. A number sets it, null lifts it (no limit),
 * absent inherits from the next wider scope. selfMatchMode and
 * cancelOnDisconnect are written as words and booleans here.
 */
const limitNumber = z.number().min(0, 'must be at least 0 (or null for no limit)').nullable().optional()
type NumericLimitName = Exclude<LimitName, 'selfMatchMode' | 'cancelOnDisconnect'>
const numericLimitShape = Object.fromEntries(LIMIT_NAMES
  .filter((name) => name !== 'selfMatchMode' && name !== 'cancelOnDisconnect')
  .map((name) => [name, limitNumber])) as Record<NumericLimitName, typeof limitNumber>
export const LimitSetSchema = z.object({
  ...numericLimitShape,
  selfMatchMode: z.enum(SELF_MATCH_MODES).optional(),
  cancelOnDisconnect: z.boolean().optional(),
}).strict()
export type LimitSetConfig = z.infer<typeof LimitSetSchema>

const capacityCount = (max: number) => z.number().int('must be a whole number').min(1, 'must be at least 1').max(max, `must be at most ${max}`)

const RiskSchema = z.object({
  /** Room in the shared risk tables, fixed at start (memory grows with these). */
  capacity: z.object({
    accounts: capacityCount(100_000),
    accountInstrumentLimitRows: capacityCount(1_000_000),
    appIds: capacityCount(10_000),
    instruments: capacityCount(100_000),
    instrumentsPerAccount: capacityCount(4096),
    openOrdersPerAccount: capacityCount(65_536),
    rateRingSize: capacityCount(65_536).refine((n) => (n & (n - 1)) === 0, 'must be a power of two (the ring is indexed with a mask)'),
  }).strict(),
  limits: z.object({
    global: LimitSetSchema,
    lanes: z.object({ terminal: LimitSetSchema, platform: LimitSetSchema, hft: LimitSetSchema }).partial().strict(),
    /** Per-exchange presets of the regulatory monitor thresholds (docs/domain.md). */
    exchanges: z.object(Object.fromEntries(EXCHANGES.map((code) => [code, LimitSetSchema])) as Record<typeof EXCHANGES[number], typeof LimitSetSchema>).partial().strict(),
    appIds: z.record(z.string(), LimitSetSchema),
    accounts: z.record(z.string(), LimitSetSchema),
    /** account -> instrument symbol -> limits. */
    accountInstruments: z.record(z.string(), z.record(z.string(), LimitSetSchema)),
  }).strict(),
  /** Trading state per account at start; absent means active. */
  tradingStates: z.record(z.string(), z.enum(TRADING_STATES)),
}).strict()

/** The retention journal (journal/, docs/operations.md). */
const JournalSchema = z.object({
  /**
   * Off only for benchmarks that measure what the journal costs: with it
   * off nothing is recorded, nothing is recovered, and start says so.
   */
  enabled: z.boolean(),
  /** Where the streams go; null is <runDir>/journal. */
  dir: z.string().min(1).nullable(),
  /**
   * When written records are forced to disk. Every commit reaches the OS
   * (survives a process crash) regardless; this covers power loss.
   */
  fsync: z.union([
    z.literal('never'),
    z.literal('every-batch'),
    z.object({ intervalMs: z.number().int().min(1, 'must be at least 1 ms').max(60_000, 'must be at most 60000 ms') }).strict(),
  ], { error: 'must be "never", "every-batch" or { "intervalMs": N }' }),
  /** A segment is sealed and a new one begun past this size (and at each new trading day). */
  maxSegmentBytes: z.number().int().min(65_536, 'must be at least 64 KiB')
    .max(MAX_SEGMENT_FILE_BYTES / 2, `must be at most ${MAX_SEGMENT_FILE_BYTES / 2 / 1024 / 1024} MiB: a segment ends after the batch that passes it, and the journal tools read segments of up to ${MAX_SEGMENT_FILE_BYTES / 1024 / 1024} MiB`),
  /**
   * When the SHA-256 chain advances: a chain point after every
   * `everyRecords` records or `everyMs` ms, whichever comes first
   * (journal/README.md, Integrity). Smaller is a narrower tamper window and
   * more hashing per record.
   */
  chain: z.object({
    everyRecords: z.number().int('must be a whole number').min(1, 'must be at least 1 record').max(MAX_CHAIN_EVERY_RECORDS, `must be at most ${MAX_CHAIN_EVERY_RECORDS} records`),
    everyMs: z.number().int('must be a whole number').min(1, 'must be at least 1 ms').max(MAX_CHAIN_EVERY_MS, `must be at most ${MAX_CHAIN_EVERY_MS} ms`),
  }).strict(),
  /** Segments older than this are purged (docs/domain.md, Retention: brokers commonly keep 20 years). */
  retentionYears: z.number().int('must be a whole number of years').min(1, 'must be at least 1 year').max(100, 'must be at most 100 years'),
  /** Rebuild today's risk state and sequence numbers from the journal at start. */
  recoverOnStart: z.boolean(),
  /** Free space on the journal's file system, checked on a timer off the hot path (disk-watermark.ts). */
  disk: z.object({
    /** How often fs.statfs is called. */
    checkIntervalMs: z.number().int('must be a whole number').min(100, 'must be at least 100 ms').max(60_000, 'must be at most 60000 ms'),
    /** Below this many free bytes new logons are refused (DISK_SPACE_LOW) and ops alerted. */
    lowWatermarkBytes: z.number().int('must be a whole number').min(0, 'must be at least 0'),
    /** Below this percentage of the file system free, the same (either watermark triggers). */
    lowWatermarkPercent: z.number().min(0, 'must be at least 0').max(100, 'must be at most 100'),
    /** Below this many free bytes the lanes fail closed, as on a failed write. */
    floorBytes: z.number().int('must be a whole number').min(0, 'must be at least 0'),
  }).strict(),
}).strict()

/** The admin socket (supervisor/admin/admin-server.ts, docs/operations.md). */
const AdminSchema = z.object({
  enabled: z.boolean(),
  /** Unix socket path; null is <runDir>/admin.sock. Created owner-only (0600). */
  socketPath: z.string().min(1).max(100, 'must be at most 100 characters (Unix socket paths are limited to ~107 bytes)').nullable(),
}).strict()

/** The evidence store (supervisor/evidence/, docs/compliance.md). */
const EvidenceSchema = z.object({
  /** Largest document `apps evidence add` stores; a larger file is refused (GH_ERR_EVIDENCE_TOO_LARGE). */
  maxFileBytes: z.number().int('must be a whole number').min(1, 'must be at least 1 byte').max(1024 * 1024 * 1024, 'must be at most 1 GiB'),
  /** A document expiring within this many days is counted by /metrics and listed by `apps evidence list --expiring`. */
  expiryWarningDays: z.number().int('must be a whole number').min(0, 'must be at least 0').max(3650, 'must be at most 3650'),
  /** How often the gateway looks for expired documents (and suspends their AppIDs). */
  expiryCheckIntervalMs: z.number().int('must be a whole number').min(100, 'must be at least 100 ms').max(86_400_000, 'must be at most one day'),
}).strict()

/** Compliance workflow (docs/compliance.md): dual control and the filing clocks. */
const ComplianceSchema = z.object({
  dualControl: z.object({
    /** How long a request waits for a second operator's approval. */
    windowMs: z.number().int('must be a whole number').min(10, 'must be at least 10 ms').max(7 * 86_400_000, 'must be at most 7 days'),
    /** A limit raised to more than this many times its current value needs dual control (when requireFor.limitRaise). */
    limitRaiseFactor: z.number().min(1, 'must be at least 1 (1: every raise needs a second operator)'),
    /** Which changes need a second operator. */
    requireFor: z.object({
      appProduction: z.boolean(),
      limitRaise: z.boolean(),
      globalKillLift: z.boolean(),
      fingerprintApproval: z.boolean(),
    }).strict(),
  }).strict(),
  tradingCalendar: z.object({
    /** Exchange holidays (weekdays with no trading), kept by the broker from the exchanges' notices. */
    holidays: z.array(isoDate).max(5000, 'must list at most 5000 dates'),
  }).strict(),
  /** Trading days before a filing clock runs out that it is alerted. */
  clockAlertDaysAhead: z.number().int('must be a whole number').min(0).max(30),
}).strict()

/** A gatewayId, which is also an instance's ID in a cluster: every place that takes one checks it with this. */
export const GATEWAY_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/
/** A JetStream stream, KV bucket or subject token Gatehouse names. */
export const NATS_NAME_PATTERN = /^[A-Za-z0-9_-]{1,64}$/
/** One NATS server as cluster.nats.servers and the tools' --nats take it. */
export const NATS_SERVER_PATTERN = /^nats:\/\/[^\s/]+:\d{1,5}$/
/** An instance's ID in the zod schemas (config, admin requests, control messages). */
export const InstanceIdSchema = z.string().regex(GATEWAY_ID_PATTERN, 'must be an instance\'s gatewayId: 1-32 letters, digits, "_" or "-"')
const natsName = z.string().regex(NATS_NAME_PATTERN, 'must be 1-64 letters, digits, "_" or "-"')
const laneEndpoint = z.string().regex(/^wss?:\/\/[^\s/]+(\/[^\s]*)?$/, 'must be the ws:// or wss:// URL clients use for this lane of the instance')

/**
 * Several gateway instances on NATS JetStream (docs/cluster.md). Off by
 * default: one instance needs nothing but itself. An instance's ID in the
 * cluster is its gatewayId.
 */
const ClusterSchema = z.object({
  enabled: z.boolean(),
  nats: z.object({
    servers: z.array(z.string().regex(NATS_SERVER_PATTERN, 'must be nats://host:port')).min(1, 'must list at least one NATS server').max(16, 'must list at most 16 servers'),
    /** File holding the NATS auth token; null: no auth (a loopback NATS only). */
    tokenFile: z.string().min(1, 'must be the path of a file holding the token, or null').nullable(),
    connectTimeoutMs: z.number().int('must be a whole number').min(100, 'must be at least 100 ms').max(60_000, 'must be at most 60000 ms'),
  }).strict(),
  /** Every instance of the cluster, by gatewayId, with the lane URLs a client on the wrong instance is redirected to. */
  instances: z.record(InstanceIdSchema, z.object({
    endpoints: z.object({ terminal: laneEndpoint.optional(), platform: laneEndpoint.optional(), hft: laneEndpoint.optional() }).strict(),
  }).strict()),
  /** Which instance holds each account's risk state: the shard key is the account. */
  directory: z.object({
    /** 'config': `accounts` below is the directory. 'nats-kv': the KV bucket is, seeded from `accounts` when a key is missing. */
    source: z.enum(['config', 'nats-kv']),
    bucket: natsName,
    /** account → instance. An account not listed belongs to the instance rendezvous hashing of its ID picks among `instances`. */
    accounts: z.record(z.string(), InstanceIdSchema),
  }).strict(),
  /** The journal published to a JetStream stream; the local segment stays the write-ahead source. */
  replication: z.object({
    enabled: z.boolean(),
    stream: natsName,
    /** Subjects are `<subjectPrefix>.<instance>.<journal stream>`. */
    subjectPrefix: natsName,
    /** JetStream replicas of the stream (file storage). */
    replicas: z.number().int('must be a whole number').min(1, 'must be at least 1').max(5, 'must be at most 5'),
    /** One message carries whole records up to this many bytes. */
    maxMessageBytes: z.number().int('must be a whole number').min(65_536, 'must be at least 64 KiB (a whole record must fit)').max(1_048_576, 'must be at most 1 MiB (the NATS default max_payload)'),
    /** Publishes awaiting JetStream's ack at once. */
    maxInFlightMessages: z.number().int('must be a whole number').min(1, 'must be at least 1').max(4096, 'must be at most 4096'),
    /** How often the replicator looks for newly committed journal bytes. */
    pollIntervalMs: z.number().int('must be a whole number').min(1, 'must be at least 1 ms').max(10_000, 'must be at most 10000 ms'),
    /** Ops are alerted when the oldest record not yet in the stream is older than this (and again when it catches up). */
    lagAlertMs: z.number().int('must be a whole number').min(100, 'must be at least 100 ms').max(86_400_000, 'must be at most 86400000 ms (a day)'),
  }).strict(),
  /** Admin changes made on any instance, applied on every instance. */
  control: z.object({
    subject: z.string().regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'must be a NATS subject of letters, digits, "_", "-" and dots'),
    /** How long a change waits for the other instances to say they applied it. */
    replyTimeoutMs: z.number().int('must be a whole number').min(50, 'must be at least 50 ms').max(60_000, 'must be at most 60000 ms'),
  }).strict(),
}).strict()

export const GatewayConfigSchema = z.object({
  gatewayId: z.string().regex(GATEWAY_ID_PATTERN, 'must be 1-32 letters, digits, "_" or "-"'),
  runDir: z.string().min(1),
  lanes: z.object({ terminal: LaneSchema, platform: LaneSchema, hft: LaneSchema }).strict(),
  ops: z.object({
    host,
    port,
    /** Serve HTTPS; required off loopback unless allowInsecureNonLoopback. */
    tls: TlsSchema.optional(),
    /** Allow plain HTTP on a non-loopback address (TLS terminated in front of the gateway). */
    allowInsecureNonLoopback: z.boolean(),
    /** File holding the bearer token of /accounts/...; null generates one into <runDir>/ops-token. */
    tokenFile: z.string().min(1, 'must be the path of a file holding the token, or null to generate one').nullable(),
  }).strict(),
  exchange: z.object({
    host,
    port,
    memberId: z.string().min(1).max(32),
    /** Start the bundled exchange simulator as a child process (`npm start`). */
    embeddedSimulator: z.boolean(),
    heartbeatIntervalMs: z.number().int().min(100, 'must be at least 100 ms').max(60_000, 'must be at most 60000 ms'),
    reconnectDelayMs: z.number().int().min(10).max(60_000),
    maxReconnectDelayMs: z.number().int().min(10).max(300_000),
  }).strict(),
  security: SecuritySchema,
  software: z.array(SoftwareSchema),
  accounts: z.array(AccountSchema),
  risk: RiskSchema,
  journal: JournalSchema,
  admin: AdminSchema,
  evidence: EvidenceSchema,
  compliance: ComplianceSchema,
  cluster: ClusterSchema,
}).strict()

export type GatewayConfig = z.infer<typeof GatewayConfigSchema>
export type LaneConfig = GatewayConfig['lanes'][LaneName]

/** The admin socket's path: admin.socketPath, or <runDir>/admin.sock. */
export function adminSocketPath (config: GatewayConfig): string {
  return config.admin.socketPath ?? join(config.runDir, 'admin.sock')
}

/** The journal's root directory: journal.dir, or <runDir>/journal. */
export function journalDir (config: GatewayConfig): string {
  return config.journal.dir ?? join(config.runDir, 'journal')
}

/** A config that failed validation; `problems` lists each as "path: what to change". */
export class ConfigError extends GatehouseError {
  declare readonly code: 'GH_ERR_CONFIG'
  readonly problems: string[]
  constructor (problems: string[], options?: { cause?: unknown }) {
    super('GH_ERR_CONFIG', `invalid config:\n  - ${problems.join('\n  - ')}`, options)
    this.problems = problems
  }
}


/** A listener off loopback needs TLS or the explicit override; TLS files must exist. */
function exposureProblems (path: string, what: string, listener: { host: string, tls?: { certFile: string, keyFile: string } | undefined, allowInsecureNonLoopback: boolean }): string[] {
  const problems: string[] = []
  if (listener.tls === undefined && !isLoopbackHost(listener.host) && !listener.allowInsecureNonLoopback) {
    problems.push(`${path}.host: "${listener.host}" is not a loopback address and ${what} has no TLS; ` +
      `set ${path}.tls { certFile, keyFile }, or set ${path}.allowInsecureNonLoopback: true if TLS is terminated in front of the gateway`)
  }
  if (listener.tls !== undefined) {
    for (const field of ['certFile', 'keyFile'] as const) {
      if (!existsSync(listener.tls[field])) problems.push(`${path}.tls.${field}: file "${listener.tls[field]}" does not exist`)
    }
  }
  return problems
}

/**
 * Rules that span fields, in one place (Artio's conclude()). Runs only on a
 * config whose fields are individually valid.
 */
function crossFieldProblems (config: GatewayConfig): string[] {
  const problems: string[] = []
  const portOwners = new Map<number, string>()
  const claimPort = (owner: string, port: number): void => {
    if (port === 0) return
    const other = portOwners.get(port)
    if (other !== undefined) problems.push(`${owner}.port: ${port} is already used by ${other}; give each listener its own port`)
    else portOwners.set(port, owner)
  }
  for (const name of LANE_NAMES) {
    const lane = config.lanes[name]
    if (!lane.enabled) continue
    const path = `lanes.${name}`
    claimPort(path, lane.port)
    problems.push(...exposureProblems(path, 'the lane', lane))
    if (lane.policy.preLogonMaxFrameBytes > lane.maxFrameBytes) {
      problems.push(`${path}.policy.preLogonMaxFrameBytes: ${lane.policy.preLogonMaxFrameBytes} is larger than ${path}.maxFrameBytes (${lane.maxFrameBytes}); lower it to at most that`)
    }
    if (lane.policy.maxUnauthenticatedPerIp > lane.policy.maxUnauthenticatedConnections) {
      problems.push(`${path}.policy.maxUnauthenticatedPerIp: ${lane.policy.maxUnauthenticatedPerIp} is larger than ${path}.policy.maxUnauthenticatedConnections (${lane.policy.maxUnauthenticatedConnections}); lower it to at most that`)
    }
  }
  if (!LANE_NAMES.some((name) => config.lanes[name].enabled)) {
    problems.push('lanes: every lane is disabled; enable at least one')
  }
  claimPort('ops', config.ops.port)
  problems.push(...exposureProblems('ops', 'the ops port', config.ops))
  if (config.ops.tokenFile !== null) {
    const problem = tokenFileProblem(config.ops.tokenFile)
    if (problem !== null) problems.push(`ops.tokenFile: ${problem}`)
  }
  if (config.exchange.embeddedSimulator) claimPort('exchange', config.exchange.port)
  const disk = config.journal.disk
  if (disk.floorBytes > disk.lowWatermarkBytes) {
    problems.push(`journal.disk.floorBytes: ${disk.floorBytes} is above journal.disk.lowWatermarkBytes (${disk.lowWatermarkBytes}); the floor must be the lower mark, so logons stop before the lanes fail closed`)
  }
  if (config.exchange.maxReconnectDelayMs < config.exchange.reconnectDelayMs) {
    problems.push('exchange.maxReconnectDelayMs: must be at least exchange.reconnectDelayMs')
  }
  const appIds = new Set<string>()
  config.software.forEach((software, index) => {
    if (appIds.has(software.appId)) problems.push(`software.${index}.appId: "${software.appId}" is listed twice; AppIDs must be unique`)
    appIds.add(software.appId)
    if (software.status === 'production' && software.assessment.accessTestPassed === null) {
      problems.push(`software.${index}.assessment.accessTestPassed: a production AppID needs the date access testing passed; set it or set status "testing"`)
    }
  })
  const seen = new Set<string>()
  config.accounts.forEach((account, index) => {
    if (seen.has(account.id)) problems.push(`accounts.${index}.id: "${account.id}" is listed twice; account IDs must be unique`)
    seen.add(account.id)
    account.appIds.forEach((appId, j) => {
      if (!appIds.has(appId)) problems.push(`accounts.${index}.appIds.${j}: AppID "${appId}" is not in software[]; register it first`)
    })
  })
  problems.push(...riskProblems(config, appIds, seen))
  problems.push(...clusterProblems(config))
  return problems
}

function clusterProblems (config: GatewayConfig): string[] {
  const { cluster } = config
  if (!cluster.enabled) return []
  const problems: string[] = []
  if (cluster.instances[config.gatewayId] === undefined) {
    problems.push(`cluster.instances: this instance's gatewayId "${config.gatewayId}" is not listed; every instance, this one included, must be`)
  }
  for (const [account, instance] of Object.entries(cluster.directory.accounts)) {
    if (cluster.instances[instance] === undefined) problems.push(`cluster.directory.accounts.${account}: instance "${instance}" is not in cluster.instances`)
  }
  // Whoever can publish on the NATS server can change limits and switches
  // on every instance (the control subject) and write into the replicated
  // journal: off loopback, NATS must ask for a token.
  if (cluster.nats.tokenFile === null) {
    cluster.nats.servers.forEach((server, index) => {
      const host = /^nats:\/\/(.+):\d{1,5}$/.exec(server)?.[1]?.replace(/^\[(.*)\]$/, '$1') ?? ''
      if (!isLoopbackHost(host)) problems.push(`cluster.nats.servers.${index}: "${server}" is not on loopback and cluster.nats.tokenFile is null; set tokenFile to a file holding the NATS server's auth token (every instance can otherwise be controlled by anyone who reaches NATS)`)
    })
  } else if (!existsSync(cluster.nats.tokenFile)) {
    problems.push(`cluster.nats.tokenFile: file "${cluster.nats.tokenFile}" does not exist`)
  }
  return problems
}

function riskProblems (config: GatewayConfig, appIds: Set<string>, accounts: Set<string>): string[] {
  const problems: string[] = []
  const { capacity, limits } = config.risk
  const checkSet = (path: string, set: LimitSetConfig, isGlobal: boolean): void => {
    for (const name of LIMIT_NAMES) {
      const value = (set as Record<string, unknown>)[name]
      if (value === undefined) {
        if (isGlobal) problems.push(`${path}.${name}: the global scope must set every limit; use null for no limit`)
        continue
      }
      if (typeof value !== 'number' && value !== null) continue
      const problem = limitValueProblem(name, value, capacity.rateRingSize, capacity.openOrdersPerAccount)
      if (problem !== null) problems.push(`${path}.${name}: ${problem}`)
    }
  }
  checkSet('risk.limits.global', limits.global, true)
  for (const [lane, set] of Object.entries(limits.lanes)) checkSet(`risk.limits.lanes.${lane}`, set, false)
  for (const [exchange, set] of Object.entries(limits.exchanges)) checkSet(`risk.limits.exchanges.${exchange}`, set, false)
  for (const [appId, set] of Object.entries(limits.appIds)) {
    if (!appIds.has(appId)) problems.push(`risk.limits.appIds.${appId}: AppID "${appId}" is not in software[]`)
    checkSet(`risk.limits.appIds.${appId}`, set, false)
  }
  for (const [account, set] of Object.entries(limits.accounts)) {
    if (!accounts.has(account)) problems.push(`risk.limits.accounts.${account}: account "${account}" is not in accounts[]`)
    checkSet(`risk.limits.accounts.${account}`, set, false)
  }
  for (const [account, bySymbol] of Object.entries(limits.accountInstruments)) {
    if (!accounts.has(account)) problems.push(`risk.limits.accountInstruments.${account}: account "${account}" is not in accounts[]`)
    for (const [symbol, set] of Object.entries(bySymbol)) checkSet(`risk.limits.accountInstruments.${account}.${symbol}`, set, false)
  }
  for (const account of Object.keys(config.risk.tradingStates)) {
    if (!accounts.has(account)) problems.push(`risk.tradingStates.${account}: account "${account}" is not in accounts[]`)
  }
  const ownRows = Object.values(limits.accountInstruments).reduce((n, bySymbol) => n + Object.keys(bySymbol).length, 0)
  if (ownRows > capacity.accountInstrumentLimitRows) problems.push(`risk.capacity.accountInstrumentLimitRows: ${capacity.accountInstrumentLimitRows} is fewer than the ${ownRows} account × instrument scopes configured`)
  if (config.accounts.length > capacity.accounts) problems.push(`risk.capacity.accounts: ${capacity.accounts} is fewer than the ${config.accounts.length} accounts configured`)
  if (config.software.length > capacity.appIds) problems.push(`risk.capacity.appIds: ${capacity.appIds} is fewer than the ${config.software.length} AppIDs configured`)
  return problems
}

export function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Objects merge field by field; arrays and scalars in `override` replace. */
export function mergeConfig (base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override
  const merged: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(override)) merged[key] = mergeConfig(base[key], value)
  return merged
}

/** Validates a whole config object. Throws ConfigError listing every problem. */
export function validateConfig (input: unknown): GatewayConfig {
  const parsed = GatewayConfigSchema.safeParse(input)
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map((issue) => formatZodIssue(issue, { topLevel: '(top level)' })))
  const problems = crossFieldProblems(parsed.data)
  if (problems.length > 0) throw new ConfigError(problems)
  return parsed.data
}
