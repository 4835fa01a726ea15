// The two clocks of "report first, trade after" (docs/compliance.md,
// Filing clocks), computed from an account's due-diligence record and a
// date. One function, called by the admin listing, /metrics and the
// regulator pack, so the three never disagree.
import type { TradingCalendar } from './trading-calendar.js'

/** Trading days the futures company has to file a client's report with the exchange. */
export const FILING_TRADING_DAYS = 5
/** Trading days a client has to report a material change. */
export const MATERIAL_CHANGE_TRADING_DAYS = 30

export type ClockName = 'filing' | 'material-change'
/**
 * running: not done and not yet due; due-soon: running, within the alert
 * window; met: done on or before the due date; late: done after it;
 * overdue: not done and past due.
 */
export type ClockState = 'running' | 'due-soon' | 'met' | 'late' | 'overdue'

export interface FilingClock {
  account: string
  clock: ClockName
  /** When the clock started: the client's report, or the material change. */
  startedOn: string
  dueOn: string
  /** When it was done (filed, or the change reported), or null. */
  doneOn: string | null
  /** Trading days from the as-of date to the due date (negative once past). */
  tradingDaysLeft: number
  state: ClockState
}

/** The dates of an account's report that the clocks read (DueDiligence in supervisor/admin/due-diligence.ts). */
export interface ClockDates {
  reportReceivedOn: string | null
  filedOn: string | null
  materialChangeOn: string | null
  materialChangeReportedOn: string | null
}

function clockOf (calendar: TradingCalendar, account: string, clock: ClockName, startedOn: string, days: number, doneOn: string | null, asOf: string, alertDaysAhead: number): FilingClock {
  const dueOn = calendar.addTradingDays(startedOn, days)
  const tradingDaysLeft = calendar.tradingDaysBetween(asOf, dueOn)
  let state: ClockState
  if (doneOn !== null) state = doneOn <= dueOn ? 'met' : 'late'
  else if (asOf > dueOn) state = 'overdue'
  else state = tradingDaysLeft <= alertDaysAhead ? 'due-soon' : 'running'
  return { account, clock, startedOn, dueOn, doneOn, tradingDaysLeft, state }
}

/** The clocks that have started for an account, as of a date. */
export function filingClocks (calendar: TradingCalendar, account: string, dates: ClockDates, asOf: string, alertDaysAhead: number): FilingClock[] {
  const clocks: FilingClock[] = []
  if (dates.reportReceivedOn !== null) {
    clocks.push(clockOf(calendar, account, 'filing', dates.reportReceivedOn, FILING_TRADING_DAYS, dates.filedOn, asOf, alertDaysAhead))
  }
  if (dates.materialChangeOn !== null) {
    clocks.push(clockOf(calendar, account, 'material-change', dates.materialChangeOn, MATERIAL_CHANGE_TRADING_DAYS, dates.materialChangeReportedOn, asOf, alertDaysAhead))
  }
  return clocks
}

/** True for the clocks that want someone's attention: due soon or past due. */
export function needsAlert (clock: FilingClock): boolean {
  return clock.state === 'due-soon' || clock.state === 'overdue'
}
