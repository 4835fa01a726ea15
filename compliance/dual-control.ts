// Dual control (four eyes): a chosen admin change waits as a pending
// request until a second, different operator approves it within a window;
// then it takes effect. This holds the pending requests and the rules of
// approval only; the admin side (supervisor/admin/supervisor-admin.ts)
// decides which changes need it, journals each step and applies the change
// through the same code a single-operator change runs.
//
//   request ──approve (other operator, in window)──▶ approved → applied
//      │──reject (any operator, the requester included)──▶ rejected
//      └──window passes──▶ expired (found by the next sweep)

/** The four changes that can be put under dual control (config compliance.dualControl.requireFor). */
export const DUAL_CONTROL_CHANGES = ['appProduction', 'limitRaise', 'globalKillLift', 'fingerprintApproval'] as const
export type DualControlChange = typeof DUAL_CONTROL_CHANGES[number]

export interface PendingRequest {
  /** "dc-" and a number, unique within a gateway run (the journal keeps them across runs with the gateway's start time). */
  requestId: string
  change: DualControlChange
  /** The admin command as it will be applied: its protocol name and validated arguments. */
  command: string
  args: Record<string, unknown>
  /** One line for people: what will change. */
  summary: string
  requestedBy: string
  requestedAtMs: number
  expiresAtMs: number
}

export type DecisionRefusal =
  | { refused: 'not-found' }
  | { refused: 'self-approval', request: PendingRequest }
  | { refused: 'expired', request: PendingRequest }

export class PendingChanges {
  private readonly pending = new Map<string, PendingRequest>()
  /** Requests that expired but whose expiry has not been handed out yet (for journaling). */
  private readonly expired = new Map<string, PendingRequest>()
  private next = 1

  constructor (private readonly idPrefix = 'dc') {}

  /** A new request, open for `windowMs` from `nowMs` (the window in force when it is made). */
  add (change: DualControlChange, command: string, args: Record<string, unknown>, summary: string, operator: string, nowMs: number, windowMs: number, requestId?: string): PendingRequest {
    const request: PendingRequest = {
      // Given: a copy of a request another cluster instance holds, under its ID there.
      requestId: requestId ?? `${this.idPrefix}-${this.next++}`,
      change,
      command,
      args: structuredClone(args),
      summary,
      requestedBy: operator,
      requestedAtMs: nowMs,
      expiresAtMs: nowMs + windowMs,
    }
    this.pending.set(request.requestId, request)
    return request
  }

  /** Moves requests past their window to the expired list and returns the newly expired, for the journal. */
  sweep (nowMs: number): PendingRequest[] {
    const gone: PendingRequest[] = []
    for (const request of this.pending.values()) {
      if (nowMs > request.expiresAtMs) {
        this.pending.delete(request.requestId)
        this.expired.set(request.requestId, request)
        gone.push(request)
      }
    }
    // Only the newest few expired IDs are kept, to answer "expired" rather than "not found".
    while (this.expired.size > 1000) this.expired.delete(this.expired.keys().next().value!)
    return gone
  }

  list (): PendingRequest[] {
    return [...this.pending.values()]
  }

  /**
   * Takes a request out for approval by `operator`: refused if unknown,
   * expired, or asked for by the same operator (the request stays pending
   * then: someone else may still approve it).
   */
  takeForApproval (requestId: string, operator: string, nowMs: number): PendingRequest | DecisionRefusal {
    const request = this.pending.get(requestId)
    if (request === undefined) {
      const old = this.expired.get(requestId)
      return old === undefined ? { refused: 'not-found' } : { refused: 'expired', request: old }
    }
    if (nowMs > request.expiresAtMs) {
      this.pending.delete(requestId)
      this.expired.set(requestId, request)
      return { refused: 'expired', request }
    }
    if (request.requestedBy === operator) return { refused: 'self-approval', request }
    this.pending.delete(requestId)
    return request
  }

  /** Takes a request out to reject it (any operator; the requester withdraws it this way). */
  takeForRejection (requestId: string): PendingRequest | { refused: 'not-found' } {
    const request = this.pending.get(requestId)
    if (request === undefined) return { refused: 'not-found' }
    this.pending.delete(requestId)
    return request
  }

  /** Puts back a request whose approval failed to apply, so the failure does not lose it. */
  restore (request: PendingRequest): void {
    this.pending.set(request.requestId, request)
  }
}

export function isRefusal (value: PendingRequest | DecisionRefusal | { refused: 'not-found' }): value is DecisionRefusal {
  return 'refused' in value
}
