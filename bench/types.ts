// Shapes shared by the runner, the load generators (over IPC) and the
// reports. Everything here crosses a process boundary as JSON.
import type { ClientIdentity } from '../client/gatehouse-client.js'

/**
 * Gatehouse and its journal variants: the same gateway with one field of
 * its journal section changed (gatehouse-config.ts GATEHOUSE_JOURNAL).
 * Plain `gatehouse` is the default config.
 */
export type GatehouseSystem = 'gatehouse' | 'gatehouse-journal-off' | 'gatehouse-fsync-never' | 'gatehouse-fsync-100ms' | 'gatehouse-fsync-every-batch' | 'gatehouse-replicated'

/** The systems a scenario can be run against. */
export type SystemName = GatehouseSystem | 'bare-relay' | 'naive'
/** In the order they run: the same-run baselines before what is compared with them. */
export const SYSTEM_NAMES: readonly SystemName[] = ['bare-relay', 'gatehouse-journal-off', 'gatehouse-fsync-never', 'gatehouse-fsync-100ms', 'gatehouse', 'gatehouse-replicated', 'gatehouse-fsync-every-batch', 'naive']

export function isGatehouse (system: SystemName): system is GatehouseSystem {
  return system === 'gatehouse' || system.startsWith('gatehouse-')
}

/**
 * How the generator talks to the system:
 * - client: gatehouse.v1 ClientEnvelope protobuf in binary frames (Gatehouse);
 * - link: LinkEnvelope bytes in binary frames, relayed verbatim to the
 *   simulator (bare-relay), so the generator numbers link seqs itself;
 * - json: JSON in text frames (the naive gateway).
 */
export type WireMode = 'client' | 'link' | 'json'

/**
 * Order flow:
 * - fak-alternate: FAK orders alternating BUY and SELL, a BUY one tick
 *   under the reference price and a SELL one tick over it. A FAK never
 *   rests and a BUY never crosses a SELL, so the book stays empty however
 *   long the run, nothing fills, and an account's own orders never meet
 *   (self-match prevention has nothing to refuse): each order gets ACK
 *   then CANCELLED.
 * - rest-and-cancel: a GFD BUY 4% under the reference price (inside the
 *   terminal lane's default fat-finger band; limit-down if that is
 *   higher). It rests and never crosses, since no order of the run sells
 *   that low, and is cancelled at the session's next turn, the way a
 *   person works a terminal.
 */
export type OrderFlow = 'fak-alternate' | 'rest-and-cancel'

export interface Credentials {
  account: string
  password: string
  /**
   * Gatehouse only: scrypt cost of this account's password hash. Unset: the
   * bench's reduced cost (gatehouse-config.ts BENCH_SCRYPT); logon-rate sets
   * the production default so that its logons/s mean what a broker gets.
   */
  scrypt?: Readonly<{ N: number, r: number, p: number }>
}

/** What the runner asks a load generator to do (one run of one scenario against one system). */
export interface GeneratorSpec {
  label: string
  wire: WireMode
  host: string
  port: number
  /**
   * Per session (same index as credentials), a port other than `port`: one
   * generator can then load several Gatehouse lanes at once (the
   * hft-isolation flood), and reports what each session got answered.
   */
  sessionPorts?: number[]
  /** One entry per session; sessions.length is the session count. */
  credentials: Credentials[]
  instrument: string
  /** Client wire only: the software identity and terminal info of the look-through logon. */
  identity?: ClientIdentity
  flow: OrderFlow
  /** open-loop: send at fixed intended times (aggregate rate over all sessions); closed-loop: keep `window` orders outstanding per session. */
  pacing: 'open-loop' | 'closed-loop'
  ratePerS: number
  windowPerSession: number
  /** Sessions connecting and logging on at once. */
  connectConcurrency: number
  connectTimeoutMs: number
  /**
   * Only connect and log every session on, timing each (logon-rate); no
   * orders. The 'measuring' and 'draining' phases then bracket the logons.
   */
  logonOnly?: boolean
  /**
   * Longest the whole connect phase may take, on top of the other bounds.
   * Unset: 2 ms per session, enough at the bench's scrypt cost; logons at
   * the production cost need far more.
   */
  connectPhaseMaxMs?: number
  warmupS: number
  measureS: number
  /** After the last send, how long to wait for answers before counting the rest as unanswered. */
  drainTimeoutS: number
  /** Open loop: stop sending (and count the backlog as late) past this many outstanding orders. */
  maxOutstanding: number
  /** Open loop: spin (rather than sleep) when the next send is this close, µs (load-generator.ts DEFAULT_SPIN_WINDOW_US when unset). */
  spinWindowUs?: number
}

/** One second of the measurement window, as the generator saw it. */
export interface SecondSample {
  /** Seconds since the start of the measurement window. */
  t: number
  sent: number
  /** Orders whose first report arrived in this second. */
  answered: number
  p50_us: number
  p99_us: number
}

export interface GeneratorResult {
  label: string
  sessions: number
  /** HDR histogram (compressed base64, nanoseconds) of intended send to first report, measurement window only. */
  latencyHistogram: string
  /** Same for cancel to CANCELLED (rest-and-cancel only). */
  cancelHistogram: string
  /** Open loop: actual minus intended send time of each order, nanoseconds (the generator's own lateness). */
  sendLagHistogram: string
  /** Connect + Upgrade + logon per session, nanoseconds. */
  connectHistogram: string
  connectElapsedMs: number
  connected: number
  connectFailures: number
  measureS: number
  sent: number
  answered: number
  /** Orders whose first report was REJECTED (should be 0: the flows only send valid orders). */
  rejected: number
  /** Of `rejected`, the orders intended inside the measurement window (their fast answers are in the latency histogram). */
  rejectedInWindow: number
  /** Reject messages at protocol level (e.g. a cancel that arrived after the order was done). */
  protocolRejects: number
  /** `rejected` by RejectReason name: says whether a check or a limit refused them. */
  rejectReasons: Record<string, number>
  /** `protocolRejects` by RejectReason name (a refused cancel, e.g. THROTTLED_ACCOUNT, comes as a Reject). */
  protocolRejectReasons: Record<string, number>
  /** Execution reports that carried a MonitorWarning (Gatehouse's regulatory monitors near a level). */
  monitorWarnings: number
  /** Orders sent in the window with no answer by the end of the drain. */
  unanswered: number
  /** Orders due in the window that the open loop never sent because too many were outstanding. */
  unsent: number
  saturated: boolean
  closedSessions: number
  perSecond: SecondSample[]
  /** With sessionPorts only: orders answered in the measurement window, per session. */
  answeredBySession?: number[]
  errors: string[]
}

export type GeneratorToRunner =
  | { type: 'phase', phase: 'connected' | 'measuring' | 'draining' }
  | { type: 'progress', fraction: number }
  | { type: 'result', result: GeneratorResult }
  | { type: 'failed', error: string }

export type RunnerToGenerator =
  | { type: 'run', spec: GeneratorSpec }
  | { type: 'stop' }

/** CPU one process used during a measurement window. */
export interface ProcessShare {
  role: string
  pid: number
  /** Percent of one core, averaged over the window (200 = both cores). */
  cpu_pct: number
  /** Threads and their share, for multi-threaded processes (the gateway's lanes). */
  threads?: Array<{ name: string, cpu_pct: number }>
}

/** One row of the results: a scenario run against one system at one rate. */
export interface ScenarioRow {
  name: string
  system: string
  /** Intended aggregate rate for open-loop runs; 0 for closed-loop and in-thread runs. */
  rate_per_s: number
  p50_us: number
  p99_us: number
  p999_us: number
  max_us: number
  throughput_per_s: number
  [extra: string]: unknown
}

/** What a load generator needs to pass the look-through logon: the client library's own type. */
export type { ClientIdentity }
