// The regulatory monitors of an account as levels: each counter against
// its warning and blocking limits. One reading, used by the admin socket's
// `counters` (the live state) and the compliance monitoring report (a day
// replayed from the journal), so the two never disagree on what a monitor
// is or which limit it is held to.
import type { AccountCounters, RiskControl, RiskLane } from './risk-control.js'

export interface MonitorLevel {
  instrument: string
  monitor: string
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
