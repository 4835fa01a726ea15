// The execution reports of one lane's trading day, per account: how they
// are numbered (report_seq, exec_id) and the ones still held for a resend
// (ResendRequest) and for the orders and trades queries.
//
// Numbering: every ExecutionReport the lane produces for an account gets
// report_seq last + 1 (1, 2, 3, ... per account per lane per trading day,
// no gaps) and exec_id "<tradingDay>-<lane>-<account>-<report_seq>". The
// lifecycle (order-lifecycle.ts, deliverReport) is the one caller that
// numbers: it stamps the report, sends or holds it (both journaled), then
// keeps it here. A report that could not be journaled (an encode failure
// throws before keep) leaves no gap: the seq is taken by keep, not stamp.
//
// The day: startDay(day) at every exchange link logon. A new day clears
// the log and numbering starts again at 1. Before any day is known (''),
// reports are numbered in the day the link then announces.
//
// Bounded: the lane holds at most `capacity` reports
// (lanes.<lane>.resendWindowReports, default 100,000), over all its
// accounts; past it the lane's oldest report is dropped first. A held
// report is the message object the lane built to send it (no copy):
// about 0.5 KB each with its exec_id, so ~50 MB per lane at the default. The last
// report_seq of every account is kept regardless (one number per account
// that traded on the lane), so numbering never depends on the window.
// A resend that reaches before an account's oldest held report is refused
// (RESEND_UNAVAILABLE, client-edge.ts).
//
// Recovery (recovery.ts) rebuilds a log from the journal's reports through
// restore(), with the same window, and hands it to the lane thread as
// plain data (toPlain, adopt).
import type { gatehouse } from '../protocol/generated/gatehouse.js'
import { wireInt } from '../protocol/messages.js'

export type HeldReport = gatehouse.v1.ExecutionReport.$Properties

/** What the orders and trades queries read: the day's held reports of an account. */
export interface DayReports {
  /** The account's held reports of the trading day in report_seq order. */
  forEachReport (account: string, visit: (report: gatehouse.v1.ExecutionReport.$Properties) => void): void
  lastReportSeq (account: string): number
}

/** Default of lanes.<lane>.resendWindowReports: reports a lane holds for resends, over all its accounts. */
export const DEFAULT_RESEND_WINDOW_REPORTS = 100_000

/** A ReportLog as plain data, to cross from the supervisor (recovery) to the lane thread. */
export interface PlainDayReports {
  tradingDay: string
  /** Every account that has a report this day, with its last report_seq. */
  lastReportSeqs: Array<[account: string, lastReportSeq: number]>
  /** The held reports, the lane's oldest first. */
  reports: Array<{ account: string, report: HeldReport }>
}

/** Compact an account's array once this many dropped entries lead it (and they are over half of it). */
const COMPACT_AFTER = 256

class AccountReports {
  /** reports[head..] are held, in report_seq order; those before head were dropped from the window. */
  reports: HeldReport[] = []
  head = 0
  /** The account's last report_seq of the day, held or not. */
  lastSeq = 0

  constructor (readonly account: string) {}

  get held (): number {
    return this.reports.length - this.head
  }

  /** Index of the first held report with report_seq > after (reports.length if none). */
  firstAfter (after: number): number {
    let lo = this.head
    let hi = this.reports.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (wireInt(this.reports[mid]!.reportSeq) > after) hi = mid
      else lo = mid + 1
    }
    return lo
  }

  dropOldest (): void {
    this.reports[this.head++] = undefined as unknown as HeldReport
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.reports.length) {
      this.reports = this.reports.slice(this.head)
      this.head = 0
    }
  }
}

export class ReportLog implements DayReports {
  /** The trading day the reports belong to; '' until the first link logon (or recovery) names it. */
  tradingDay = ''
  private readonly accounts = new Map<string, AccountReports>()
  /**
   * The lane's held reports in the order they were kept, as the account
   * each belongs to: the oldest is dropped first. A ring of `capacity`
   * entries once full.
   */
  private ring: AccountReports[] = []
  private ringStart = 0

  constructor (
    /** The lane's name, part of every exec_id. */
    readonly lane: string,
    /** Reports held at most, over all accounts (lanes.<lane>.resendWindowReports). */
    readonly capacity: number = DEFAULT_RESEND_WINDOW_REPORTS,
  ) {
    if (!(Number.isInteger(capacity) && capacity >= 1)) throw new RangeError(`a report log holds at least 1 report; got ${capacity}`)
  }

  /** Reports held now, over all accounts. */
  get held (): number {
    return this.ring.length
  }

  /**
   * The exchange link announced `day` (at every link logon). A day other
   * than the log's starts the numbering again; the same day continues it,
   * and so does the first day named after none was known.
   */
  startDay (day: string): void {
    if (day === '' || day === this.tradingDay) return
    if (this.tradingDay !== '') {
      this.accounts.clear()
      this.ring = []
      this.ringStart = 0
    }
    this.tradingDay = day
  }

  lastReportSeq (account: string): number {
    return this.accounts.get(account)?.lastSeq ?? 0
  }

  /** The oldest report_seq held for the account; 0 when none is. */
  oldestReportSeq (account: string): number {
    const reports = this.accounts.get(account)
    return reports === undefined || reports.held === 0 ? 0 : wireInt(reports.reports[reports.head]!.reportSeq)
  }

  /** Sets the report's report_seq and exec_id to the account's next; keep() takes the number once it is journaled. */
  stamp (account: string, report: HeldReport): void {
    const seq = this.lastReportSeq(account) + 1
    report.reportSeq = seq
    report.execId = `${this.tradingDay}-${this.lane}-${account}-${seq}`
  }

  /** Holds a report stamp() numbered (and that was sent or held, journaled): its seq is taken. */
  keep (account: string, report: HeldReport): void {
    this.append(this.accountOf(account), report, wireInt(report.reportSeq))
  }

  /**
   * Holds a report read back from the journal (recovery). Null when it
   * continues the account's numbering; else what is wrong with it (a
   * repeat is skipped, a gap is held all the same), for the start log.
   */
  restore (account: string, report: HeldReport): string | null {
    const seq = wireInt(report.reportSeq)
    const reports = this.accountOf(account)
    if (!(seq > reports.lastSeq)) return `${account}: report_seq ${seq} repeats one at or below ${reports.lastSeq}; skipped`
    const problem = seq === reports.lastSeq + 1 ? null : `${account}: report_seq ${seq} follows ${reports.lastSeq}; the reports between are not in the journal`
    this.append(reports, report, seq)
    return problem
  }

  forEachReport (account: string, visit: (report: HeldReport) => void): void {
    const reports = this.accounts.get(account)
    if (reports === undefined) return
    for (let i = reports.head; i < reports.reports.length; i++) visit(reports.reports[i]!)
  }

  /** Visits the account's held reports with report_seq > after, in order, while `visit` returns true. */
  forEachReportAfter (account: string, after: number, visit: (report: HeldReport) => boolean): void {
    const reports = this.accounts.get(account)
    if (reports === undefined) return
    // The array can be compacted only by append, which a visit does not call.
    const list = reports.reports
    for (let i = reports.firstAfter(after); i < list.length; i++) {
      if (!visit(list[i]!)) return
    }
  }

  /** As plain data, for another thread: the day, every account's last seq, and the held reports, the lane's oldest first. */
  toPlain (): PlainDayReports {
    const lastReportSeqs: PlainDayReports['lastReportSeqs'] = []
    const cursors = new Map<AccountReports, number>()
    for (const reports of this.accounts.values()) {
      lastReportSeqs.push([reports.account, reports.lastSeq])
      cursors.set(reports, reports.head)
    }
    const held: PlainDayReports['reports'] = []
    const ring = this.ring
    for (let i = 0; i < ring.length; i++) {
      const reports = ring[(this.ringStart + i) % ring.length]!
      const at = cursors.get(reports)!
      cursors.set(reports, at + 1)
      held.push({ account: reports.account, report: reports.reports[at]! })
    }
    return { tradingDay: this.tradingDay, lastReportSeqs, reports: held }
  }

  /**
   * Takes over what recovery rebuilt (toPlain), before any report of this
   * run: the day, every account's last seq, and the held reports (past
   * this log's capacity, the oldest are dropped as usual).
   */
  adopt (plain: PlainDayReports): void {
    this.accounts.clear()
    this.ring = []
    this.ringStart = 0
    this.tradingDay = plain.tradingDay
    for (const { account, report } of plain.reports) this.append(this.accountOf(account), report, wireInt(report.reportSeq))
    for (const [account, lastReportSeq] of plain.lastReportSeqs) {
      const reports = this.accountOf(account)
      if (lastReportSeq > reports.lastSeq) reports.lastSeq = lastReportSeq
    }
  }

  private accountOf (account: string): AccountReports {
    let reports = this.accounts.get(account)
    if (reports === undefined) this.accounts.set(account, reports = new AccountReports(account))
    return reports
  }

  private append (reports: AccountReports, report: HeldReport, seq: number): void {
    reports.reports.push(report)
    if (seq > reports.lastSeq) reports.lastSeq = seq
    const ring = this.ring
    if (ring.length < this.capacity) {
      ring.push(reports)
      return
    }
    // Full: the lane's oldest held report goes, and its slot takes this one.
    ring[this.ringStart]!.dropOldest()
    ring[this.ringStart] = reports
    this.ringStart = (this.ringStart + 1) % this.capacity
  }
}
