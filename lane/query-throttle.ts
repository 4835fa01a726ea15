// The query throttle of a session: at most the lane's queriesPerSecond
// queries (Query, and ResendRequest) in any sliding second. CTP allows one
// query in flight and a few per second; a query is answered whole before
// the next message is read, and its answer may be many pages, so this is
// what keeps a client from making the lane rebuild and send its day's
// state in a loop. Separate from the session's message throttle
// (sessionMessagesPerSecond, which counts queries too, as every message)
// and from the order throttles (which queries never touch).
import { SessionThrottle } from '../checks/sliding-window.js'
import { MAX_QUERIES_PER_SECOND } from '../config/config.js'

export const QUERY_WINDOW_MS = 1000

export class QueryThrottle {
  /** Grows with the limit, up to the largest config accepts. */
  private readonly window = new SessionThrottle(8, MAX_QUERIES_PER_SECOND)
  /** Held reports earlier queries and resends read and not yet paid back at queryScanReportsPerSecond. */
  private scanDebt = 0
  private scanDebtAtMs = 0

  /** The scan debt at nowMs, paid back at `perSecond` reports a second since it was last charged. */
  scanDebtAt (nowMs: number, perSecond: number): number {
    const elapsedMs = Math.max(0, nowMs - this.scanDebtAtMs)
    return Math.max(0, this.scanDebt - elapsedMs * perSecond / 1000)
  }

  /**
   * Whether a query may read reports now: while the debt is above one
   * second's worth, no. A client may read a burst of one second's budget
   * at once, then on average `perSecond`.
   */
  scanAllowed (nowMs: number, perSecond: number): boolean {
    return this.scanDebtAt(nowMs, perSecond) <= perSecond
  }

  /** A query or resend read `reports` held reports. */
  chargeScan (nowMs: number, reports: number, perSecond: number): void {
    if (reports === 0) return
    this.scanDebt = this.scanDebtAt(nowMs, perSecond) + reports
    this.scanDebtAtMs = nowMs
  }

  /**
   * Charges one query at nowMs against `limit` per second: -1 when it is
   * admitted, else how many the window holds with this one (the Reject's
   * `observed`). Refused queries are not recorded, so a client that backs
   * off is admitted again as soon as its oldest query leaves the window.
   */
  admit (nowMs: number, limit: number): number {
    if (this.window.admit(nowMs, limit, QUERY_WINDOW_MS)) return -1
    return this.window.countInWindow(nowMs, QUERY_WINDOW_MS) + 1
  }
}
