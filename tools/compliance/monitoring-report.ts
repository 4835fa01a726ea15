// The daily transaction monitoring report: per account, each regulatory
// monitor's level at the end of a trading day against its warning and
// blocking limits, and the accounts that crossed a high-frequency
// reporting threshold without a confirmed programmatic-trading report.
//
// The day's counters come from the journal through the replay
// (tools/journal/replay-command.ts), which drives the day's records
// through the live check engine; the monitors are read by the same
// function the admin socket's `counters` uses (checks/monitor-levels.ts).
// The daily monitors only count up within a day, so their level at the
// end of the day is the day's peak.
import { replayJournal } from '../journal/replay-command.js'
import { createRiskControl } from '../../config/risk-config.js'
import { monitorLevels, monitorState, type MonitorLevel } from '../../checks/monitor-levels.js'
import type { GatewayConfig } from '../../config/config.js'
import type { RiskLane } from '../../checks/risk-control.js'

export interface MonitorRow extends MonitorLevel {
  /** ok, warning (at or past the warning level) or blocking (at or past the blocking level). */
  state: 'ok' | 'warning' | 'blocking'
}

export interface AccountMonitoring {
  account: string
  lane: string
  programmaticReport: string
  monitors: MonitorRow[]
}

export interface MonitoringReport {
  day: string
  accounts: AccountMonitoring[]
  /** Accounts at or past a high-frequency reporting threshold whose report is not confirmed. */
  unreportedHighFrequency: Array<{ account: string, monitor: string, observed: number, threshold: number, programmaticReport: string }>
  notes: string[]
}

const HF_MONITORS: ReadonlySet<string> = new Set(['hf-bursts', 'hf-daily-actions'])

export function monitoringReport (journalDir: string, config: GatewayConfig, day?: string): MonitoringReport {
  const replay = replayJournal(journalDir, config, day === undefined ? {} : { day })
  // The limits each monitor is held to, as the config sets them.
  const risk = createRiskControl(config)
  const accounts: AccountMonitoring[] = []
  const unreported: MonitoringReport['unreportedHighFrequency'] = []
  for (const counters of replay.accountsAtEnd) {
    const account = counters.account
    if (risk.accountIndex(account) === undefined) risk.registerAccount(account)
    for (const row of counters.instruments) risk.registerInstrument(row.instrument)
    const lane = (config.accounts.find((a) => a.id === account)?.lanes[0] ?? 'platform') as RiskLane
    const monitors = monitorLevels(risk, lane, account, counters).map((m) => ({ ...m, state: monitorState(m) }))
    accounts.push({ account, lane, programmaticReport: counters.programmaticReport, monitors })
    for (const m of monitors) {
      if (HF_MONITORS.has(m.monitor) && m.blocking !== null && m.observed >= m.blocking && counters.programmaticReport !== 'confirmed') {
        unreported.push({ account, monitor: m.monitor, observed: m.observed, threshold: m.blocking, programmaticReport: counters.programmaticReport })
      }
    }
  }
  return { day: replay.day, accounts, unreportedHighFrequency: unreported, notes: replay.notes }
}
