// The regulatory monitors of an account as levels: each counter against
// its warning and blocking limits. One reading, used by the admin socket's
// `counters` (the live state) and the compliance monitoring report (a day
// replayed from the journal), so the two never disagree on what a monitor
// is or which limit it is held to.
import type { AccountCounters, RiskControl, RiskLane } from './risk-control.js'

/** Every monitor monitorLevels reads, so a consumer (/metrics) can show each one before any account has a row. */
export const MONITOR_NAMES = ['hf-daily-actions', 'hf-bursts', 'cancels', 'large-cancels', 'self-trades', 'open-volume'] as const
export type MonitorName = typeof MONITOR_NAMES[number]

export interface MonitorLevel {
  instrument: string
  monitor: MonitorName
  observed: number
  warning: number | null
  blocking: number | null
}

export function monitorLevels (risk: RiskControl, lane: RiskLane, account: string, counters: AccountCounters): MonitorLevel[] {
  const monitors: MonitorLevel[] = []
  const all = risk.effectiveLimits({ lane, account })
  monitors.push({ instrument: '*', monitor: 'hf-daily-actions', observed: counters.actionsToday, warning: all.hfDailyWarn, blocking: all.hfDailyBlock })
  monitors.push({ instrument: '*', monitor: 'hf-bursts', observed: counters.hfBurstsToday, warning: all.hfBurstsWarn, blocking: all.hfBurstsReporting })
  for (const row of counters.instruments) {
    const limits = risk.effectiveLimits({ lane, account, instrument: row.instrument })
    monitors.push({ instrument: row.instrument, monitor: 'cancels', observed: row.cancelsToday, warning: limits.cancelsWarn, blocking: limits.cancelsBlock })
    monitors.push({ instrument: row.instrument, monitor: 'large-cancels', observed: row.largeCancelsToday, warning: limits.largeCancelsWarn, blocking: limits.largeCancelsBlock })
    monitors.push({ instrument: row.instrument, monitor: 'self-trades', observed: row.selfTradesToday, warning: limits.selfTradesWarn, blocking: limits.selfTradesBlock })
    monitors.push({ instrument: row.instrument, monitor: 'open-volume', observed: row.openedLotsToday + row.workingOpenLongLots + row.workingOpenShortLots - row.workingOpenHedgeLots, warning: limits.openVolumeWarn, blocking: limits.openVolumeBlock })
  }
  return monitors
}

/**
 * Where a monitor stands against its levels: at or above blocking, at or
 * above warning, or below both (a null level is off). The compliance
 * monitoring report and /metrics both classify with this.
 */
export function monitorState (m: Pick<MonitorLevel, 'observed' | 'warning' | 'blocking'>): 'ok' | 'warning' | 'blocking' {
  if (m.blocking !== null && m.observed >= m.blocking) return 'blocking'
  if (m.warning !== null && m.observed >= m.warning) return 'warning'
  return 'ok'
}
