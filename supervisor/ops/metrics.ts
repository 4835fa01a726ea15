// /metrics: the gateway's figures in the Prometheus text format, built with
// prom-client on the supervisor thread. Nothing here is updated as traffic
// flows: every collector reads its source when scraped. The lanes' figures
// come from their shared counters (lane-metrics.ts), which each lane thread
// writes with plain stores, so a scrape never asks a lane anything and
// never slows one down. The rest (link state, the supervisor's journal
// stream, lockouts) lives on this thread already.
//
// Latency histograms are exposed with DASHBOARD_BOUNDS_S (1-2.5-5 per
// decade, 1 µs to 10 s), a subset of the lanes' finer buckets: percentiles
// over a window come from histogram_quantile() over rate() of the _bucket
// series, and the status page computes its own from the fine buckets
// (status-window.ts). There are no lifetime percentile gauges: they never
// decay, so one slow minute at the open would show all day.
//
// docs/metrics.md lists every family; keep the two in step.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type MetricType } from 'prom-client'
import type { LaneName } from '../../protocol/lanes.js'
import type { LinkState } from '../../lane/exchange-link.js'
import { ALERT_KINDS, type AccessControl } from '../access/access-control.js'
import type { SupervisorJournal } from '../supervisor-journal.js'
import { OPS_ERROR_REASONS, type OpsErrorReason } from './ops-server.js'
import { SUPERVISOR_STREAM } from '../../journal/gateway-records.js'
import { RejectReason, reasonName } from '../../protocol/messages.js'
import { HISTOGRAM_BOUNDS_S, HIST_CHECK, HIST_JOURNAL_COMMIT, HIST_ROUND_TRIP, LaneMetricsReader, REJECT_SLOTS, SLOT_CANCELS, SLOT_JOURNAL_BYTES, SLOT_JOURNAL_COMMITS, SLOT_JOURNAL_FAILED, SLOT_JOURNAL_RECORDS, SLOT_JOURNAL_UNCOMMITTED, SLOT_JOURNAL_UNCOMMITTED_SINCE_MS, SLOT_MESSAGES_IN, SLOT_MESSAGES_OUT, SLOT_ORDERS, SLOT_ORDERS_FORWARDED, SLOT_SESSIONS_CONNECTED, SLOT_SESSIONS_LOGGED_ON, SLOT_THREAD_SAMPLE, SLOT_DISK_FREE_BYTES, SLOT_DISK_LOW_WATERMARK_BYTES, SLOT_DISK_STATE, SLOT_INTERNAL_ERRORS, type HistogramSnapshot } from '../../lane/lane-metrics.js'
import { nowMillis } from '../../protocol/clock.js'
import { SAMPLE_AT_MS, SAMPLE_DELAY_MAX_MS, SAMPLE_DELAY_P99_MS, SAMPLE_HEAP_USED_BYTES, THREAD_SAMPLE_SLOTS } from '../../platform/thread-sampler.js'
import { buildInfo } from './build-info.js'
import type { ControlCounts } from '../admin/control-fanout.js'
import type { ReplicatorStatus } from '../../cluster/journal-replicator.js'
import { MONITOR_NAMES, monitorState, type MonitorLevel } from '../../checks/monitor-levels.js'

/** What /metrics reads, all owned by the supervisor. */
export interface MetricsSources {
  /** The running lanes and their shared counters. */
  lanes: ReadonlyArray<{ name: LaneName, buffer: SharedArrayBuffer }>
  /** A lane's exchange link state as the supervisor last heard it. */
  linkState: (lane: LaneName) => LinkState | undefined
  /** The supervisor's journal stream; null when the journal is off (and so are the lanes' streams). */
  journal: SupervisorJournal | null
  access: Pick<AccessControl, 'lockoutCount' | 'heldFingerprintCount' | 'logonStepCounts' | 'alertCount' | 'pendingHashCount' | 'guard'>
  /** Ops HTTP requests refused or failed since start, by reason (OpsServer.errors); empty before the ops port listens. */
  opsErrors: () => Readonly<Partial<Record<OpsErrorReason, number>>>
  /** The supervisor thread's own ThreadSampler slots (platform/thread-sampler.ts), from index 0. */
  supervisorSample: Float64Array
  /** Per AppID, its documents expiring within evidence.expiryWarningDays and those expired (Supervisor.evidenceExpiry); absent: no series. */
  evidence?: () => ReadonlyArray<{ appId: string, expiring: number, expired: number }>
  /** The started filing clocks of every account as of today (SupervisorAdmin.listClocks); none when absent. */
  filingClocks?: () => ReadonlyArray<{ account: string, clock: string, tradingDaysLeft: number, state: string }>
  /** Every account's regulatory monitors with their levels, as the status page reads them (Supervisor.monitorRows); none when absent. */
  monitors?: () => ReadonlyArray<Pick<MonitorLevel, 'monitor' | 'observed' | 'warning' | 'blocking'>>
  /** The cluster's control fan-out counts (ControlFanout.counts); absent when cluster.enabled is false: no series. */
  clusterControl?: Readonly<ControlCounts>
  /** Journal replication's latest status (cluster/replicator-thread.ts); absent or null: replication is off or has not reported yet. */
  replication?: () => ReplicatorStatus | null
}

/**
 * The upper bounds /metrics exposes: 1, 2.5 and 5 per decade from 1 µs to
 * 10 s, then +Inf. Each is one of the lanes' HISTOGRAM_BOUNDS_S, so its
 * cumulative count is read straight from the fine buckets. Enough for
 * histogram_quantile() within a factor of 2.5 and for an SLO bound at any
 * round figure; 22 bounds instead of 81 (docs/metrics.md, "Series").
 */
export const DASHBOARD_BOUNDS_S: readonly number[] = Object.freeze([
  ...[-6, -5, -4, -3, -2, -1, 0].flatMap((e) => [1, 2.5, 5].map((m) => Number(`${m}e${e}`))),
  10,
])
/** Where each dashboard bound sits among the fine ones. */
const DASHBOARD_BOUND_INDEXES: readonly number[] = DASHBOARD_BOUNDS_S.map((bound) => {
  const index = HISTOGRAM_BOUNDS_S.indexOf(bound)
  if (index < 0) throw new Error(`metrics: dashboard bound ${bound} is not one of the lanes' histogram bounds`)
  return index
})

/** Every RejectReason code the protocol defines: each has a series from the start, so a lane's first reject of a kind is a change, not a new series. */
const REJECT_CODES: ReadonlySet<number> = new Set(Object.values(RejectReason as unknown as Record<string, number>)
  .filter((code) => typeof code === 'number' && code < REJECT_SLOTS - 1))

/** The label of a reject slot: the reason's name; OUT_OF_RANGE for the slot that collects codes past the table. */
function rejectLabel (slot: number): string {
  return slot === REJECT_SLOTS - 1 ? 'OUT_OF_RANGE' : reasonName(slot)
}

interface LaneSource {
  name: LaneName
  reader: LaneMetricsReader
}

type HistogramObject = Awaited<ReturnType<Histogram<string>['get']>>

/**
 * A histogram whose buckets are counted elsewhere (a lane's shared
 * buffer). prom-client's Histogram counts its own observations and has no
 * way to set buckets, so this one reports, at each scrape, the snapshots
 * `read` returns in Histogram's own value shape, and the registry formats
 * them like any other histogram's.
 */
class SharedBucketHistogram extends Histogram<string> {
  // Kept apart from what Histogram's constructor copies onto the instance
  // (name, help, ...), which prom-client's typings do not declare.
  private readonly metricName: string
  private readonly metricHelp: string

  constructor (name: string, help: string, private readonly label: string, registry: Registry,
    private readonly read: () => Array<{ labelValue: string, snapshot: HistogramSnapshot }>) {
    super({ name, help, labelNames: [label], buckets: [...DASHBOARD_BOUNDS_S], registers: [registry] })
    this.metricName = name
    this.metricHelp = help
  }

  override async get (): Promise<HistogramObject> {
    const values: HistogramObject['values'] = []
    const bucket = `${this.metricName}_bucket`
    for (const { labelValue, snapshot } of this.read()) {
      const labels = { [this.label]: labelValue }
      for (let i = 0; i < DASHBOARD_BOUNDS_S.length; i++) {
        values.push({ labels: { ...labels, le: DASHBOARD_BOUNDS_S[i]! }, value: snapshot.cumulative[DASHBOARD_BOUND_INDEXES[i]!]!, metricName: bucket })
      }
      values.push({ labels: { ...labels, le: '+Inf' }, value: snapshot.count, metricName: bucket })
      values.push({ labels, value: snapshot.sumS, metricName: `${this.metricName}_sum` })
      values.push({ labels, value: snapshot.count, metricName: `${this.metricName}_count` })
    }
    return {
      name: this.metricName,
      help: this.metricHelp,
      // prom-client's typings declare an enum here; at run time (and in
      // the text format) the type is this string.
      type: 'histogram' as unknown as MetricType,
      aggregator: 'sum',
      values,
      collect: () => {},
    }
  }

  /** The registry formats from this when a metric has it, as Histogram does; here it is get(). */
  getForPromString (): Promise<HistogramObject> {
    return this.get()
  }
}

/**
 * The /metrics registry over the supervisor's sources. Its own Registry,
 * not prom-client's global one, so two gateways in one process (tests)
 * never mix their figures.
 */
export function createGatewayMetrics (sources: MetricsSources): Registry {
  const registry = new Registry()
  const lanes: LaneSource[] = sources.lanes.map(({ name, buffer }) => ({ name, reader: new LaneMetricsReader(buffer) }))
  const registers = [registry]

  new Gauge({
    name: 'gatehouse_lane_sessions',
    help: 'Client sessions open on the lane: state="connected" counts every open WebSocket (logged on or not), state="logged_on" those that completed the three logon steps.',
    labelNames: ['lane', 'state'],
    registers,
    collect () {
      this.reset()
      for (const { name: lane, reader } of lanes) {
        this.set({ lane, state: 'connected' }, reader.read(SLOT_SESSIONS_CONNECTED))
        this.set({ lane, state: 'logged_on' }, reader.read(SLOT_SESSIONS_LOGGED_ON))
      }
    },
  })

  // A lane series' value is read from the lane's slot at scrape time, not
  // accumulated here: reset, then one inc by the current value (a counter's
  // total, a gauge's reading).
  const laneSeries = (Kind: typeof Counter | typeof Gauge) => (name: string, help: string, slot: number): void => {
    new Kind({
      name,
      help,
      labelNames: ['lane'],
      registers,
      collect () {
        this.reset()
        for (const { name: lane, reader } of lanes) this.inc({ lane }, reader.read(slot))
      },
    })
  }
  const laneCounter = laneSeries(Counter)
  const laneGauge = laneSeries(Gauge)
  laneCounter('gatehouse_messages_in_total', 'Frames received from clients on the lane, every one (before any check, logged on or not).', SLOT_MESSAGES_IN)
  laneCounter('gatehouse_messages_out_total', 'Messages sent to clients on the lane (logon replies, reports, rejects, heartbeats).', SLOT_MESSAGES_OUT)
  laneCounter('gatehouse_orders_total', 'NewOrder messages received on the lane, passed or refused.', SLOT_ORDERS)
  laneCounter('gatehouse_orders_forwarded_total', 'New orders that passed every check and went to the exchange.', SLOT_ORDERS_FORWARDED)
  laneCounter('gatehouse_cancels_total', 'CancelOrder messages from logged-on sessions on the lane.', SLOT_CANCELS)
  laneCounter('gatehouse_lane_internal_errors_total', 'Exceptions caught in a lane handler (client or exchange link) before they reached uWebSockets.js: each is journaled, answered with INTERNAL_ERROR where a client is known, and sent to ops as a lane-fault event.', SLOT_INTERNAL_ERRORS)
  laneGauge('gatehouse_journal_disk_free_bytes', 'Free bytes (available to the gateway) on the file system of the journal, as the lane last read it with statfs (journal.disk.checkIntervalMs); 0 before the first reading.', SLOT_DISK_FREE_BYTES)
  laneGauge('gatehouse_journal_disk_low_watermark_bytes', 'The low watermark in bytes on that file system: the larger of journal.disk.lowWatermarkBytes and lowWatermarkPercent of its size. Below it new logons are refused (DISK_SPACE_LOW).', SLOT_DISK_LOW_WATERMARK_BYTES)
  laneGauge('gatehouse_journal_disk_low', 'The journal disk state: 0 above the low watermark, 1 below it (new logons refused), 2 below journal.disk.floorBytes (the lane has failed closed).', SLOT_DISK_STATE)

  new Gauge({
    name: 'gatehouse_filing_clock_trading_days_left',
    help: 'Trading days until a programmatic-trading clock runs out (clock="filing": 5 trading days to file a received report; "material-change": 30 to report a change), per account; negative once past. Only clocks not yet done. Alert when it is at most compliance.clockAlertDaysAhead.',
    labelNames: ['account', 'clock'],
    registers,
    collect () {
      this.reset()
      for (const c of sources.filingClocks?.() ?? []) {
        if (c.state === 'running' || c.state === 'due-soon' || c.state === 'overdue') this.set({ account: c.account, clock: c.clock }, c.tradingDaysLeft)
      }
    },
  })
  new Gauge({
    name: 'gatehouse_filing_clocks_alerting',
    help: 'Programmatic-trading clocks due within compliance.clockAlertDaysAhead trading days (state="due-soon") or past due and not done (state="overdue"); `gatehouse admin accounts clocks --alerts` lists them.',
    labelNames: ['state'],
    registers,
    collect () {
      this.reset()
      const clocks = sources.filingClocks?.() ?? []
      for (const state of ['due-soon', 'overdue']) this.set({ state }, clocks.filter((c) => c.state === state).length)
    },
  })

  // By monitor only, never by account or instrument: six series whatever
  // the number of accounts. Each monitor has its series at 0 from the
  // start, so a rule sees the rise rather than a new series.
  const monitorGauge = (name: string, help: string, reached: ReadonlySet<string>): void => {
    new Gauge({
      name,
      help,
      labelNames: ['monitor'],
      registers,
      collect () {
        const counts = new Map<string, number>(MONITOR_NAMES.map((monitor) => [monitor, 0]))
        for (const m of sources.monitors?.() ?? []) {
          if (reached.has(monitorState(m))) counts.set(m.monitor, (counts.get(m.monitor) ?? 0) + 1)
        }
        for (const [monitor, count] of counts) this.set({ monitor }, count)
      },
    })
  }
  monitorGauge('gatehouse_monitors_at_warning',
    'Account × instrument regulatory monitors (cancels, large-cancels, self-trades, open-volume per contract; hf-daily-actions, hf-bursts per account) at or above their warning level now, blocking level included, by monitor; the status page and `gatehouse admin counters ACCOUNT` name them.',
    new Set(['warning', 'blocking']))
  monitorGauge('gatehouse_monitors_at_blocking',
    'Account × instrument regulatory monitors at or above their blocking level now, by monitor: the actions they count are refused for the rest of the trading day.',
    new Set(['blocking']))

  new Counter({
    name: 'gatehouse_rejects_total',
    help: 'Rejects sent to clients on the lane, by RejectReason name: Reject messages and REJECTED execution reports, whether the gateway or the exchange refused.',
    labelNames: ['lane', 'reason'],
    registers,
    collect () {
      this.reset()
      for (const { name: lane, reader } of lanes) {
        for (let slot = 0; slot < REJECT_SLOTS; slot++) {
          // Codes the protocol does not name (a newer exchange's) appear once seen.
          const count = reader.rejects(slot)
          if (REJECT_CODES.has(slot) || count !== 0) this.inc({ lane, reason: rejectLabel(slot) }, count)
        }
      }
    },
  })

  const laneHistogram = (name: string, help: string, histogram: number): void => {
    new SharedBucketHistogram(name, help, 'lane', registry,
      () => lanes.map(({ name: lane, reader }) => ({ labelValue: lane, snapshot: reader.histogram(histogram) })))
  }
  laneHistogram('gatehouse_order_check_seconds',
    'Pre-trade check path of each new order from a logged-on session, on the lane thread: from the frame decoded and journaled to the decision (throttle, order ID, validity, link, risk check-and-reserve).',
    HIST_CHECK)
  laneHistogram('gatehouse_round_trip_seconds',
    'New order received from the client to its first execution report from the exchange leaving for the client (journal committed): gateway plus exchange. Orders the gateway refuses are not counted.',
    HIST_ROUND_TRIP)

  new Gauge({
    name: 'gatehouse_exchange_link_up',
    help: 'The lane\'s own exchange link session: 1 when up (logged on at the exchange), 0 when connecting, down or closed.',
    labelNames: ['lane'],
    registers,
    collect () {
      this.reset()
      for (const { name: lane } of lanes) this.set({ lane }, sources.linkState(lane) === 'up' ? 1 : 0)
    },
  })

  if (sources.journal !== null) registerJournalMetrics(registry, lanes, sources.journal)
  registerProcessMetrics(registry, lanes, sources.supervisorSample)
  registerReplicationMetrics(registry, sources.replication ?? (() => null))

  new Gauge({
    name: 'gatehouse_lockouts',
    help: 'Locks in force now: account names (kind="account", known or not, after failed passwords), source addresses (kind="ip") and their /24 or /64 prefixes (kind="prefix", after failed proofs or passwords).',
    labelNames: ['kind'],
    registers,
    collect () {
      const { accounts, ips, prefixes } = sources.access.lockoutCount()
      this.set({ kind: 'account' }, accounts)
      this.set({ kind: 'ip' }, ips)
      this.set({ kind: 'prefix' }, prefixes)
    },
  })
  new Gauge({
    name: 'gatehouse_lock_store_full',
    help: '1 while the lock store holds security.maxLocks locks in force: sources with recent failures are then refused (LOCK_STORE_FULL); else 0.',
    registers,
    collect () {
      this.set(sources.access.guard.lockStoreFull ? 1 : 0)
    },
  })
  new Counter({
    name: 'gatehouse_logon_steps_total',
    help: 'Logon steps decided, by lane, step (connect, authenticate, terminal-info, logon, timeout, logout, disconnect) and result ("ok" or the RejectReason name the audit recorded).',
    labelNames: ['lane', 'step', 'result'],
    registers,
    collect () {
      this.reset()
      for (const { lane, step, result, count } of sources.access.logonStepCounts()) this.inc({ lane, step, result }, count)
    },
  })
  new Counter({
    name: 'gatehouse_logon_alerts_total',
    help: 'Logon alerts raised for ops, by kind (new-fingerprint, fingerprint-held, abnormal-terminal, fingerprint-churn, lockout, lock-store-full, logon-shed); `gatehouse admin alerts` lists the recent ones.',
    labelNames: ['kind'],
    registers,
    collect () {
      this.reset()
      for (const kind of ALERT_KINDS) this.inc({ kind }, sources.access.alertCount(kind))
    },
  })
  new Gauge({
    name: 'gatehouse_evidence_documents_expiring',
    help: 'Assessment documents of each AppID that expire within evidence.expiryWarningDays (not yet expired); `gatehouse admin apps evidence list --expiring` lists them.',
    labelNames: ['app_id'],
    registers,
    collect () {
      this.reset()
      for (const row of sources.evidence?.() ?? []) this.set({ app_id: row.appId }, row.expiring)
    },
  })
  new Gauge({
    name: 'gatehouse_evidence_documents_expired',
    help: 'Assessment documents of each AppID that have expired; any makes the AppID act as suspended, and the gateway suspends it.',
    labelNames: ['app_id'],
    registers,
    collect () {
      this.reset()
      for (const row of sources.evidence?.() ?? []) this.set({ app_id: row.appId }, row.expired)
    },
  })
  new Gauge({
    name: 'gatehouse_logon_hashes_pending',
    help: 'Password checks (scrypt) running or queued now; at security.maxPendingHashes logons are shed (LOGON_SHED).',
    registers,
    collect () {
      this.set(sources.access.pendingHashCount())
    },
  })
  new Gauge({
    name: 'gatehouse_fingerprints_held',
    help: 'Terminal fingerprints held for ops approval (status held), across all accounts.',
    registers,
    collect () {
      this.set(sources.access.heldFingerprintCount())
    },
  })
  new Counter({
    name: 'gatehouse_ops_http_errors_total',
    help: 'Requests the ops HTTP port refused or failed, by reason: bad_request (400), unauthorized (401, missing or wrong token), forbidden (403, the status page asked for under a name that is not loopback), not_found (404), method_not_allowed (405), body_refused (413), busy (503, too many scrapes or status feeds at once), internal (500, a handler failed).',
    labelNames: ['reason'],
    registers,
    collect () {
      this.reset()
      const errors = sources.opsErrors()
      for (const reason of OPS_ERROR_REASONS) this.inc({ reason }, errors[reason] ?? 0)
    },
  })
  const control = sources.clusterControl
  if (control !== undefined) {
    new Counter({
      name: 'gatehouse_cluster_control_changes_total',
      help: 'Admin changes received from other cluster instances: applied here, refused here (failed), or messages on the control subject that were not a change (received-invalid).',
      labelNames: ['result'],
      registers,
      collect () {
        this.reset()
        this.inc({ result: 'applied' }, control.applied)
        this.inc({ result: 'failed' }, control.failed)
        this.inc({ result: 'received-invalid' }, control.receivedInvalid)
      },
    })
    new Counter({
      name: 'gatehouse_cluster_control_missing_total',
      help: 'Instances that did not answer an admin change made on this instance within cluster.control.replyTimeoutMs, summed over changes.',
      registers,
      collect () {
        this.reset()
        this.inc(control.missing)
      },
    })
  }
  return registry
}

/** Per journal stream: each lane's from its shared slots, the supervisor's from its stream (same thread). */
function registerJournalMetrics (registry: Registry, lanes: readonly LaneSource[], journal: SupervisorJournal): void {
  const registers = [registry]
  const streamCounter = (name: string, help: string, slot: number, supervisorValue: () => number): void => {
    new Counter({
      name,
      help,
      labelNames: ['stream'],
      registers,
      collect () {
        this.reset()
        for (const { name: lane, reader } of lanes) this.inc({ stream: lane }, reader.read(slot))
        this.inc({ stream: SUPERVISOR_STREAM }, supervisorValue())
      },
    })
  }
  const streamGauge = (name: string, help: string, laneValue: (reader: LaneMetricsReader) => number, supervisorValue: () => number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['stream'],
      registers,
      collect () {
        this.reset()
        for (const { name: lane, reader } of lanes) this.set({ stream: lane }, laneValue(reader))
        this.set({ stream: SUPERVISOR_STREAM }, supervisorValue())
      },
    })
  }
  streamCounter('gatehouse_journal_records_total', 'Journal records the stream has written to the OS since start (segment headers and seals included).',
    SLOT_JOURNAL_RECORDS, () => journal.stats().records)
  streamCounter('gatehouse_journal_bytes_total', 'Journal bytes the stream has written to the OS since start.',
    SLOT_JOURNAL_BYTES, () => journal.stats().bytes)
  streamCounter('gatehouse_journal_commits_total', 'Journal batches the stream has written since start, one write(2) each (group commit).',
    SLOT_JOURNAL_COMMITS, () => journal.stats().batches)
  streamGauge('gatehouse_journal_write_failed',
    '1 once the stream has failed to write (a lane then fails closed: it sends nothing and takes no connections until restarted), else 0.',
    (r) => r.read(SLOT_JOURNAL_FAILED), () => journal.failed ? 1 : 0)
  streamGauge('gatehouse_journal_uncommitted_records',
    'Journal lag, part 1: records appended but not yet written to the OS at scrape time. A lane commits once per event-loop turn, so a value that stays above 0 means a busy or stuck lane thread; the supervisor commits each record before going on, so its stream reads 0.',
    (r) => r.read(SLOT_JOURNAL_UNCOMMITTED), () => journal.uncommittedRecords)
  streamGauge('gatehouse_journal_uncommitted_age_seconds',
    'Journal lag, part 2: age at scrape time of the oldest record appended but not yet written to the OS (nothing it covers has been sent yet); 0 when none is waiting. Clock: each thread\'s performance.timeOrigin + now().',
    (r) => {
      const sinceMs = r.read(SLOT_JOURNAL_UNCOMMITTED_SINCE_MS)
      return sinceMs === 0 ? 0 : Math.max(0, nowMillis() - sinceMs) / 1000
    }, () => 0)
  new SharedBucketHistogram('gatehouse_journal_commit_seconds',
    'One journal commit of a lane stream: one write(2), plus fdatasync under fsync every-batch. (The supervisor stream is not timed.)',
    'stream', registry, () => lanes.map(({ name: lane, reader }) => ({ labelValue: lane, snapshot: reader.histogram(HIST_JOURNAL_COMMIT) })))
}

/** Build info, the process (prom-client's defaults) and each thread's event loop and heap. */
function registerProcessMetrics (registry: Registry, lanes: readonly LaneSource[], supervisorSample: Float64Array): void {
  const registers = [registry]
  const info = buildInfo()
  new Gauge({
    name: 'gatehouse_build_info',
    help: 'Always 1; the labels say what runs: version (package.json), node (process.versions.node), uws (the uWebSockets.js package), commit (GATEHOUSE_COMMIT at start; absent when unset).',
    labelNames: info.commit === undefined ? ['version', 'node', 'uws'] : ['version', 'node', 'uws', 'commit'],
    registers,
    collect () {
      this.set({ ...info }, 1)
    },
  })
  // process_cpu_seconds_total, process_resident_memory_bytes,
  // process_open_fds, process_start_time_seconds, nodejs_heap_* and the
  // rest under their usual names, which stock dashboards query. They
  // describe the whole process (every lane thread's CPU included) or, for
  // nodejs_*, the supervisor thread; per thread, see below.
  collectDefaultMetrics({ register: registry, gcDurationBuckets: [0.001, 0.01, 0.1, 1] })

  // Each thread's own sample (platform/thread-sampler.ts): the lanes' from
  // their shared slots, the supervisor's from its own.
  const threads: Array<{ thread: string, read: (slot: number) => number }> = [
    ...lanes.map(({ name, reader }) => ({ thread: name, read: (slot: number) => reader.read(SLOT_THREAD_SAMPLE + slot) })),
    { thread: 'supervisor', read: (slot: number) => supervisorSample[slot]! },
  ]
  const threadGauge = (name: string, help: string, slot: number, scale: number): void => {
    new Gauge({
      name,
      help,
      labelNames: ['thread'],
      registers,
      collect () {
        this.reset()
        // Absent until the thread's first sample, so a 0 is never a guess.
        for (const { thread, read } of threads) if (read(SAMPLE_AT_MS) !== 0) this.set({ thread }, read(slot) * scale)
      },
    })
  }
  threadGauge('gatehouse_thread_event_loop_delay_p99_seconds',
    'How late the thread\'s event loop ran its timers, 99th percentile over the last sampling interval (5 s), by thread (each lane, and "supervisor"). A lane whose loop is late delays every message it owns.',
    SAMPLE_DELAY_P99_MS, 1 / 1000)
  threadGauge('gatehouse_thread_event_loop_delay_max_seconds',
    'The longest event-loop delay of the thread over the last sampling interval (5 s), by thread.',
    SAMPLE_DELAY_MAX_MS, 1 / 1000)
  threadGauge('gatehouse_thread_heap_used_bytes',
    'V8 heap in use by the thread\'s own isolate at its last sample, by thread.',
    SAMPLE_HEAP_USED_BYTES, 1)
}

/** Slots a ThreadSampler on the supervisor thread writes into (index 0 on). */
export function createSupervisorSampleSlots (): Float64Array {
  return new Float64Array(THREAD_SAMPLE_SLOTS)
}

/**
 * Journal replication to JetStream (docs/cluster.md). The replicator's
 * thread posts its status every 250 ms; a scrape reads the latest. The two
 * unlabelled gauges exist with replication off too (0), so one alert rule
 * serves every instance.
 */
function registerReplicationMetrics (registry: Registry, status: () => ReplicatorStatus | null): void {
  const registers = [registry]
  new Gauge({
    name: 'gatehouse_replication_enabled',
    help: '1 when this instance publishes its journal to JetStream (cluster.enabled and cluster.replication.enabled), else 0.',
    registers,
    collect () { this.set(status() === null ? 0 : 1) },
  })
  new Gauge({
    name: 'gatehouse_replication_nats_connected',
    help: 'Journal replication\'s own NATS connection: 1 when connected, 0 when not (or replication is off). Trading continues either way.',
    registers,
    collect () { this.set(status()?.connected === true ? 1 : 0) },
  })
  new Gauge({
    name: 'gatehouse_replication_lag_max_seconds',
    help: 'The largest gatehouse_replication_lag_seconds over this instance\'s streams; 0 when replication is off.',
    registers,
    collect () { this.set(Math.max(0, ...(status()?.streams ?? []).map((s) => s.lagSeconds))) },
  })
  new Gauge({
    name: 'gatehouse_replication_lag_bytes',
    help: 'Committed journal bytes of the stream not yet acknowledged by JetStream.',
    labelNames: ['stream'],
    registers,
    collect () {
      this.reset()
      for (const s of status()?.streams ?? []) this.set({ stream: s.stream }, s.lagBytes)
    },
  })
  new Gauge({
    name: 'gatehouse_replication_lag_seconds',
    help: 'Age of the oldest committed journal record of the stream not yet acknowledged by JetStream (its journal time); 0 when none.',
    labelNames: ['stream'],
    registers,
    collect () {
      this.reset()
      for (const s of status()?.streams ?? []) this.set({ stream: s.stream }, s.lagSeconds)
    },
  })
  new Counter({
    name: 'gatehouse_replication_published_records_total',
    help: 'Journal records of the stream acknowledged by JetStream since start (segment headers and seals included).',
    labelNames: ['stream'],
    registers,
    collect () {
      this.reset()
      for (const s of status()?.streams ?? []) this.inc({ stream: s.stream }, s.publishedRecords)
    },
  })
  new Counter({
    name: 'gatehouse_replication_publish_errors_total',
    help: 'Publishes that failed, timed out or came back as duplicates, and resumes that failed, since start: each makes the stream resume from what JetStream holds.',
    registers,
    collect () {
      this.reset()
      this.inc(status()?.publishErrors ?? 0)
    },
  })
}
