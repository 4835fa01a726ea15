// What the status page shows (GET /status.json and the /status/events feed),
// built on the supervisor thread from the same sources as /metrics.
//
// Rates and percentiles cover a recent window, not the run: once a second
// the window copies each lane's counters and fine histogram buckets
// (lane-metrics.ts) into a ring; a rate is the difference between the
// newest copy and one RATE_WINDOW_MS older, a percentile is taken in the
// difference of the buckets over PERCENTILE_WINDOW_MS (histogramQuantile,
// the same interpolation /metrics users get from histogram_quantile()).
// So a slow minute leaves the page a minute later.
//
// Everything else is read when a snapshot is built: link states, the
// journal, trading states and kill switches, lockouts, held fingerprints,
// assessment documents, monitors. Lists are cut at MAX_ROWS, with the
// number left out, so a large registry cannot make a snapshot unbounded.
import type { LaneName } from '../../protocol/lanes.js'
import type { LinkState } from '../../lane/exchange-link.js'
import type { SupervisorJournal } from '../supervisor-journal.js'
import { reasonName } from '../../protocol/messages.js'
import {
  HIST_CHECK, HIST_ROUND_TRIP, LaneMetricsReader, REJECT_SLOTS, SLOT_DISK_FREE_BYTES, SLOT_DISK_LOW_WATERMARK_BYTES, SLOT_DISK_STATE,
  SLOT_JOURNAL_FAILED, SLOT_JOURNAL_UNCOMMITTED, SLOT_JOURNAL_UNCOMMITTED_SINCE_MS, SLOT_MESSAGES_IN, SLOT_MESSAGES_OUT, SLOT_ORDERS,
  SLOT_ORDERS_FORWARDED, SLOT_SESSIONS_CONNECTED, SLOT_SESSIONS_LOGGED_ON, SLOT_THREAD_SAMPLE, histogramQuantile, type HistogramSnapshot,
} from '../../lane/lane-metrics.js'
import { SAMPLE_DELAY_P99_MS } from '../../platform/thread-sampler.js'
import { nowMillis } from '../../protocol/clock.js'
import type { BuildInfo } from './build-info.js'
import type { MonitorName } from '../../checks/monitor-levels.js'

/** How often the window takes a copy of every lane's counters, and how often the feed sends. */
export const STATUS_TICK_MS = 1000
/** Rates (messages, orders per second) are over this much of the recent past. */
export const RATE_WINDOW_MS = 10_000
/** Percentiles and rejects by reason are over this much. */
export const PERCENTILE_WINDOW_MS = 60_000
/** Longest list (accounts, switches, fingerprints, documents, monitors) a snapshot carries; the rest is counted. */
export const MAX_ROWS = 50
/** A monitor at this fraction of its warning level or above is "near" it. */
export const MONITOR_NEAR_FRACTION = 0.8

/** The percentiles the page shows. */
const QUANTILES = [0.5, 0.99, 0.999] as const

export interface MonitorRow { account: string, instrument: string, monitor: MonitorName, observed: number, warning: number | null, blocking: number | null }
/** A document expired or nearing expiry, as the evidence store reads it (supervisor/evidence/evidence-expiry.ts); daysLeft < 0 once expired. */
export interface DocumentRow { appId: string, app: string, document: string, expires: string, daysLeft: number }

/** What a snapshot reads, all on the supervisor thread. */
export interface StatusSources {
  gatewayId: string
  build: BuildInfo
  lanes: ReadonlyArray<{ name: LaneName, buffer: SharedArrayBuffer }>
  link: (lane: LaneName) => { state: LinkState, detail: string } | undefined
  journal: SupervisorJournal | null
  lockouts: () => { accounts: number, ips: number, prefixes: number }
  /** Accounts known to the gateway. */
  accounts: () => string[]
  tradingState: (account: string) => string
  /** Kill switches in force, each as a label ("global", "lane platform", "account a1", "instrument rb2605"). */
  killSwitches: () => string[]
  heldFingerprints: (account: string) => string[]
  /** Assessment documents expired or within evidence.expiryWarningDays of it, of every registered AppID (Supervisor.documentsNearingExpiry). */
  documents: () => DocumentRow[]
  /** An account's regulatory monitors with their levels (SupervisorAdmin.counters' monitors). */
  monitors: (account: string) => MonitorRow[]
}

interface LaneCopy {
  messagesIn: number
  messagesOut: number
  orders: number
  forwarded: number
  rejects: Float64Array
  check: HistogramSnapshot
  roundTrip: HistogramSnapshot
}

interface Tick { atMs: number, lanes: Map<LaneName, LaneCopy> }

export interface LaneStatusView {
  lane: LaneName
  link: string
  linkDetail: string
  sessions: { connected: number, loggedOn: number }
  totals: { messagesIn: number, messagesOut: number, orders: number, forwarded: number }
  perSecond: { messagesIn: number, messagesOut: number, orders: number }
  /** Rejects over the percentile window, by reason name; only reasons seen. */
  rejects: Record<string, number>
  /** Seconds, over the percentile window; null with no observation in it. */
  checkS: Record<string, number | null>
  roundTripS: Record<string, number | null>
  eventLoopDelayP99Ms: number
  journal: { failed: boolean, uncommittedRecords: number, lagMs: number }
  disk: { freeBytes: number, lowWatermarkBytes: number, state: 'ok' | 'low' | 'floor' }
}

export interface Listed<T> { rows: T[], more: number }

export interface StatusSnapshot {
  gatewayId: string
  build: BuildInfo
  atMs: number
  windows: { rateMs: number, percentileMs: number }
  lanes: LaneStatusView[]
  supervisorJournal: { failed: boolean } | null
  tradingStates: Listed<{ account: string, state: string }>
  killSwitches: Listed<string>
  lockouts: { accounts: number, ips: number, prefixes: number }
  heldFingerprints: Listed<{ account: string, fingerprintId: string }>
  documentsNearingExpiry: Listed<DocumentRow>
  monitorsNearWarning: Listed<MonitorRow>
}

function listed<T> (all: T[]): Listed<T> {
  return { rows: all.slice(0, MAX_ROWS), more: Math.max(0, all.length - MAX_ROWS) }
}

/** The histogram of what was observed between two snapshots. */
function difference (newer: HistogramSnapshot, older: HistogramSnapshot): HistogramSnapshot {
  return {
    cumulative: newer.cumulative.map((c, i) => c - older.cumulative[i]!),
    count: newer.count - older.count,
    sumS: newer.sumS - older.sumS,
  }
}

export class StatusWindow {
  private readonly readers: Array<{ name: LaneName, reader: LaneMetricsReader }>
  /** Oldest first; one tick per STATUS_TICK_MS, PERCENTILE_WINDOW_MS of them at most (plus the one the window starts from). */
  private readonly ticks: Tick[] = []
  private timer: NodeJS.Timeout | null = null
  /** Called after each tick (the feed sends then). */
  onTick: () => void = () => {}

  /** `clockMs` is the window's time (monotonic ms); tests pass their own to step through minutes at once. */
  constructor (private readonly sources: StatusSources, private readonly clockMs: () => number = nowMillis) {
    this.readers = sources.lanes.map(({ name, buffer }) => ({ name, reader: new LaneMetricsReader(buffer) }))
  }

  start (): void {
    this.tick()
    this.timer = setInterval(() => { this.tick() }, STATUS_TICK_MS)
    this.timer.unref()
  }

  stop (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  /** Takes a copy of every lane's counters now; called by the timer, and by tests. */
  tick (): void {
    const lanes = new Map<LaneName, LaneCopy>()
    for (const { name, reader } of this.readers) {
      const rejects = new Float64Array(REJECT_SLOTS)
      for (let slot = 0; slot < REJECT_SLOTS; slot++) rejects[slot] = reader.rejects(slot)
      lanes.set(name, {
        messagesIn: reader.read(SLOT_MESSAGES_IN),
        messagesOut: reader.read(SLOT_MESSAGES_OUT),
        orders: reader.read(SLOT_ORDERS),
        forwarded: reader.read(SLOT_ORDERS_FORWARDED),
        rejects,
        check: reader.histogram(HIST_CHECK),
        roundTrip: reader.histogram(HIST_ROUND_TRIP),
      })
    }
    const atMs = this.clockMs()
    this.ticks.push({ atMs, lanes })
    while (this.ticks.length > 1 && this.ticks[1]!.atMs <= atMs - PERCENTILE_WINDOW_MS) this.ticks.shift()
    try {
      this.onTick()
    } catch {
      // The feed contains its own failures; a tick must never throw out of a timer.
    }
  }

  /** The oldest tick at most `windowMs` before the newest (the newest itself when there is only one). */
  private startOf (windowMs: number): Tick {
    const newest = this.ticks.at(-1)!
    return this.ticks.find((tick) => tick.atMs >= newest.atMs - windowMs - STATUS_TICK_MS / 2) ?? newest
  }

  snapshot (): StatusSnapshot {
    if (this.ticks.length === 0) this.tick()
    const s = this.sources
    const now = this.ticks.at(-1)!
    const rateFrom = this.startOf(RATE_WINDOW_MS)
    const pctFrom = this.startOf(PERCENTILE_WINDOW_MS)
    const rateS = Math.max(1, now.atMs - rateFrom.atMs) / 1000
    const lanes: LaneStatusView[] = this.readers.map(({ name, reader }) => {
      const cur = now.lanes.get(name)!
      const r = rateFrom.lanes.get(name) ?? cur
      const p = pctFrom.lanes.get(name) ?? cur
      const rejects: Record<string, number> = {}
      for (let slot = 0; slot < REJECT_SLOTS; slot++) {
        const n = cur.rejects[slot]! - p.rejects[slot]!
        if (n > 0) rejects[slot === REJECT_SLOTS - 1 ? 'OUT_OF_RANGE' : reasonName(slot)] = n
      }
      const percentiles = (h: HistogramSnapshot): Record<string, number | null> =>
        Object.fromEntries(QUANTILES.map((q) => [String(q), histogramQuantile(h, q)]))
      const link = s.link(name)
      const sinceMs = reader.read(SLOT_JOURNAL_UNCOMMITTED_SINCE_MS)
      const diskState = reader.read(SLOT_DISK_STATE)
      return {
        lane: name,
        link: link?.state ?? 'connecting',
        linkDetail: link?.detail ?? '',
        sessions: { connected: reader.read(SLOT_SESSIONS_CONNECTED), loggedOn: reader.read(SLOT_SESSIONS_LOGGED_ON) },
        totals: { messagesIn: cur.messagesIn, messagesOut: cur.messagesOut, orders: cur.orders, forwarded: cur.forwarded },
        perSecond: {
          messagesIn: (cur.messagesIn - r.messagesIn) / rateS,
          messagesOut: (cur.messagesOut - r.messagesOut) / rateS,
          orders: (cur.orders - r.orders) / rateS,
        },
        rejects,
        checkS: percentiles(difference(cur.check, p.check)),
        roundTripS: percentiles(difference(cur.roundTrip, p.roundTrip)),
        eventLoopDelayP99Ms: reader.read(SLOT_THREAD_SAMPLE + SAMPLE_DELAY_P99_MS),
        journal: {
          failed: reader.read(SLOT_JOURNAL_FAILED) !== 0,
          uncommittedRecords: reader.read(SLOT_JOURNAL_UNCOMMITTED),
          lagMs: sinceMs === 0 ? 0 : Math.max(0, nowMillis() - sinceMs),
        },
        disk: {
          freeBytes: reader.read(SLOT_DISK_FREE_BYTES),
          lowWatermarkBytes: reader.read(SLOT_DISK_LOW_WATERMARK_BYTES),
          state: diskState >= 2 ? 'floor' : diskState >= 1 ? 'low' : 'ok',
        },
      }
    })

    const accounts = s.accounts()
    const tradingStates = accounts.map((account) => ({ account, state: s.tradingState(account) }))
    const held = accounts.flatMap((account) => s.heldFingerprints(account).map((fingerprintId) => ({ account, fingerprintId })))
    const wallMs = Date.now()
    const documents = s.documents().sort((a, b) => a.daysLeft - b.daysLeft)
    const monitors = accounts.flatMap((account) => s.monitors(account))
      .filter((m) => m.warning !== null && m.warning > 0 && m.observed >= MONITOR_NEAR_FRACTION * m.warning)
      .sort((a, b) => b.observed / b.warning! - a.observed / a.warning!)
    return {
      gatewayId: s.gatewayId,
      build: s.build,
      atMs: wallMs,
      windows: { rateMs: now.atMs - rateFrom.atMs, percentileMs: now.atMs - pctFrom.atMs },
      lanes,
      supervisorJournal: s.journal === null ? null : { failed: s.journal.failed },
      // Every account's state: "active" ones are the normal case, and the page dims them.
      tradingStates: listed(tradingStates.sort((a, b) => Number(a.state === 'active') - Number(b.state === 'active'))),
      killSwitches: listed(s.killSwitches()),
      lockouts: s.lockouts(),
      heldFingerprints: listed(held),
      documentsNearingExpiry: listed(documents),
      monitorsNearWarning: listed(monitors),
    }
  }
}
