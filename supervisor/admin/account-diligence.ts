// Client due diligence per account (docs/compliance.md): the access model
// (lanes), the software (AppIDs), the known terminals, and the
// programmatic-trading report with its contents and dates. The config's
// accounts[].diligence is the starting point; admin changes are kept in
// admin-state.json (diligence) and every change is journaled by the
// caller (SupervisorAdmin) with operator, before and after.
import { z } from 'zod'
import { DiligenceSchema, type GatewayConfig } from '../../config/config.js'
import { TradingCalendar } from '../../compliance/trading-calendar.js'
import { filingClocks, type FilingClock } from '../../compliance/filing-clocks.js'

export type Diligence = z.infer<typeof DiligenceSchema>

/** What `accounts diligence show` answers for one account. */
export interface DiligenceView {
  account: string
  /** Access model: the lanes the account may use. */
  lanes: string[]
  appIds: string[]
  knownTerminals: Array<{ fingerprintId: string, status: string, firstSeen: string | null, lastSeen: string | null }>
  programmaticReport: string
  diligence: Diligence
  /** What the report still lacks of the contents the rules name (account identity is the account itself). */
  missingContents: string[]
  clocks: FilingClock[]
}

/** The report's contents the rules name, beyond the account's identity. */
export function missingReportContents (d: Diligence): string[] {
  const missing: string[] = []
  if (d.executionMethod === undefined) missing.push('executionMethod')
  if (d.software === undefined || d.software.length === 0) missing.push('software (name, functions, developer)')
  return missing
}

/** The clock dates of a record, unset ones as null. */
export function clockDatesOf (d: Diligence): { reportReceivedOn: string | null, filedOn: string | null, materialChangeOn: string | null, materialChangeReportedOn: string | null } {
  return {
    reportReceivedOn: d.reportReceivedOn ?? null,
    filedOn: d.filedOn ?? null,
    materialChangeOn: d.materialChangeOn ?? null,
    materialChangeReportedOn: d.materialChangeReportedOn ?? null,
  }
}

/** Today's date in UTC, as the clocks count (dates only). */
export function utcDate (nowMs: number): string {
  return new Date(nowMs).toISOString().slice(0, 10)
}

export class AccountDiligence {
  private calendar: TradingCalendar

  constructor (private config: GatewayConfig, private readonly stored: () => Record<string, Diligence>) {
    this.calendar = new TradingCalendar(config.compliance.tradingCalendar.holidays)
  }

  /** A reloaded config brings its own calendar and alert window. */
  reconfigure (config: GatewayConfig): void {
    this.config = config
    this.calendar = new TradingCalendar(config.compliance.tradingCalendar.holidays)
  }

  /** The record in force: the admin-state copy if any, else the config's. */
  of (account: string): Diligence {
    const kept = this.stored()[account]
    if (kept !== undefined) return structuredClone(kept)
    return structuredClone(this.config.accounts.find((a) => a.id === account)?.diligence ?? {})
  }

  clocks (account: string, asOf: string): FilingClock[] {
    return filingClocks(this.calendar, account, clockDatesOf(this.of(account)), asOf, this.config.compliance.clockAlertDaysAhead)
  }

  /** Every account's clocks that have started. */
  allClocks (accounts: readonly string[], asOf: string): FilingClock[] {
    return accounts.flatMap((account) => this.clocks(account, asOf))
  }

  get alertDaysAhead (): number {
    return this.config.compliance.clockAlertDaysAhead
  }
}
