// Positions carried into the shared risk state from a POSITIONS_CARRIED
// record: at start-up recovery (lane/recovery.ts), and live when another
// instance of a cluster hands an account over (Lane.installHandover). One
// function, so a handed-over account is rebuilt after a crash exactly as
// it was installed.
import type { RiskEngine } from '../checks/risk-engine.js'
import type { PositionsCarriedDocument } from '../journal/gateway-records.js'

/**
 * Adds each entry (and, for a handover, each account's daily counters) to
 * the shared state; returns what could not be applied, for the caller to
 * report. `accountIndex` gives an account's index, or null if it is not
 * configured here.
 */
export function applyPositionsCarried (engine: RiskEngine, doc: PositionsCarriedDocument, accountIndex: (account: string) => number | null): string[] {
  const problems: string[] = []
  for (const entry of doc.positions) {
    const account = accountIndex(entry.account)
    if (account === null) {
      problems.push(`${entry.account}'s position in ${entry.instrument} is for an account not configured here: not restored`)
      continue
    }
    const instrument = engine.instrumentIndex(entry.instrument, entry.exchange)
    if (instrument < 0 || !engine.restoreCarriedPosition(account, instrument, entry.longYesterdayLots, entry.shortYesterdayLots, entry.today)) {
      problems.push(`${entry.account}'s position in ${entry.instrument} carried into ${doc.tradingDay} could not be restored: the instrument tables are full`)
    }
  }
  for (const daily of doc.accounts ?? []) {
    const account = accountIndex(daily.account)
    if (account === null) {
      problems.push(`${daily.account}'s daily counters are for an account not configured here: not restored`)
      continue
    }
    engine.restoreAccountDaily(account, daily.tradedLotsToday, daily.actionsToday, daily.hfBurstsToday)
  }
  return problems
}
