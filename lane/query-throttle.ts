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
