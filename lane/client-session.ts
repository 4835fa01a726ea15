// State of one client connection on a lane. Owned by the lane's thread;
// reached from the uWebSockets.js socket through its user data.
import type { WebSocket } from 'uWebSockets.js'
import { SessionThrottle } from '../checks/sliding-window.js'
import { IN_NOW_MS, type InstrumentRisk, type RiskContext, type RiskEngine } from '../checks/risk-engine.js'
import { Limit } from '../checks/limits.js'
import type { gatehouse } from '../protocol/generated/gatehouse.js'
import { bodyFieldNumber, type LaneJournal, type SessionJournalHeads } from './lane-journal.js'
import { encodeClientEnvelope, encodeClientFrame } from '../protocol/client-codec.js'
import type { WireScratch } from '../protocol/wire-scratch.js'
import { CLIENT_BODY_FIELDS } from '../journal/gateway-records.js'
import type { ClientEnvelopeInit } from '../protocol/messages.js'
import { newPreLogonBudget, type PreLogonBudget } from './pre-logon-budget.js'
import { QueryThrottle } from './query-throttle.js'

/** Throttle window of sessionMessagesPerSecond. */
export const THROTTLE_WINDOW_MS = 1000

/**
 * An order this gateway forwarded and that has not finished yet, as a
 * plain object: a copy of its row in the lane's slot table
 * (working-orders.ts), for what is off the hot path: recovery's hand-over
 * between threads, queries and tests. The live lane keeps no such object.
 */
export interface WorkingOrder {
  /** Gateway's ID for the order on the exchange link. */
  linkOrderId: number
  /** Link seq the order went out with: tells whether it reached the exchange. */
  linkSeq: number
  /**
   * Link seq of the cancel on its way to the exchange, 0 if none: tells,
   * at the next link logon, whether the exchange got it (order-lifecycle.ts).
   */
  cancelLinkSeq: number
  /** A cancel is owed: it could not go (link down) and goes out at the next link logon. */
  cancelOwed: boolean
  /** The session that owns it; null once that session closed (or, after a restart, until the account logs on again on this lane). */
  session: ClientSession | null
  account: string
  /** Who trades, as risk-table indexes: the owning session's at entry. */
  risk: RiskContext
  clientOrderId: number
  instrument: string
  side: number
  price: number
  quantityLots: number
  timeInForce: number
  /** The offset flag applied (OffsetFlag, never unspecified: position-book.ts effectiveOffset). */
  offsetFlag: number
  /** The hedge flag applied (HedgeFlag, never unspecified). */
  hedgeFlag: number
  exchangeOrderId: number
  cumulativeLots: number
  leavesLots: number
  /** The order's slot in the account's shared order table (risk-engine.ts). */
  riskSlot: number
  instrumentRisk: InstrumentRisk
  /** A monitor warning raised when the order was checked, carried on its first report. */
  warning: gatehouse.v1.MonitorWarning.$Properties | null
  /**
   * When the lane received the NewOrder (performance.now() on the lane
   * thread), for the round-trip metric; 0 once its first report has been
   * counted, and for orders rebuilt from the journal.
   */
  receivedMs: number
}

export interface SessionUserData {
  session: ClientSession
}

/** Where a connection is in the look-through logon sequence. */
export type LogonStage = 'challenged' | 'authenticated' | 'terminal-verified' | 'logged-on'

export class ClientSession {
  /** The socket, or null once it has closed (uWS forbids touching it then). */
  ws: WebSocket<SessionUserData> | null = null
  /** Set once all three logon steps have succeeded. */
  account: string | null = null
  stage: LogonStage = 'challenged'
  /** The current AuthChallenge nonce: single use, expires. */
  nonce: Buffer = Buffer.alloc(0)
  nonceIssuedMs = 0
  /** AppID and account proven by Authenticate; Logon must match them. */
  appId: string | null = null
  authenticatedAccount: string | null = null
  /** One logon step at a time: the next waits for this one's reply. */
  stepInFlight = false
  /** TerminalInfo messages received (lanes cap them per connection). */
  terminalInfoAttempts = 0
  /** The fingerprint the TerminalInfo step passed with, for the Logon step. */
  fingerprintId: string | null = null
  /** Messages produced by one exchange-link chunk, sent together under one cork. */
  readonly pendingOut: Uint8Array[] = []
  /** Last seq the gateway sent on this session; the next message gets +1. */
  outSeq = 0
  /** The last seq the client sent (its envelope seq), handed to the account's next session as LogonReply.last_client_seq. */
  lastClientSeq = 0
  messagesIn = 0
  messagesOut = 0
  logonTimeMs = 0
  /**
   * Orders still working, by client_order_id, as slots of the lane's
   * working-order table (working-orders.ts): this session's and those it
   * took over from the account's earlier session. Bounded by the
   * account's maxOpenOrders (and the shared order table's capacity).
   */
  readonly openOrders = new Map<number, number>()
  /**
   * The last client_order_id accepted in this session. IDs must strictly
   * increase, so duplicate detection is this one number (plus openOrders
   * for orders taken over), never a table that grows with every order.
   */
  lastClientOrderId = 0
  /** What the connection may still cost before it logs on (pre-logon-budget.ts). */
  readonly preLogon: PreLogonBudget = newPreLogonBudget()
  /** Counted against the lane's unauthenticated caps (unauthenticated-caps.ts) until it logs on or closes. */
  countedUnauthenticated = false
  /** Who trades, as indexes into the shared risk tables; set at logon. */
  readonly risk: RiskContext = { lane: 0, app: -1, account: -1 }
  /** Messages per second on this session (sessionMessagesPerSecond); sized up to the largest limit config accepts. */
  readonly throttle: SessionThrottle
  /** Queries and resend requests per second on this session (lanes.<lane>.queriesPerSecond: ClientEdge.admitQuery). */
  readonly queryThrottle = new QueryThrottle()
  /** Messages the throttle refused in the current window (ClientEdge.floodedPastThrottle). */
  refusedInWindow = 0
  refusedWindowStartMs = 0
  /** Closed for flooding past its throttle: nothing more is answered. */
  floodClosed = false
  /** The client asked, at Logon, for its orders to be cancelled when it disconnects. */
  cancelOnDisconnect = false
  /** This session's journal record heads; null when the journal is off. */
  journal: SessionJournalHeads | null = null

  constructor (
    readonly id: number,
    readonly remoteAddress: string,
    readonly connectedAtMs: number,
    maxThrottleLimit: number,
  ) {
    this.throttle = new SessionThrottle(64, maxThrottleLimit)
  }

  get loggedOn (): boolean {
    return this.account !== null
  }

  /**
   * Numbers the next message to this client, encodes it and journals it
   * (before it is queued: write-ahead). With a `scratch`, an execution
   * report is encoded into it by hand (protocol/hot-codec.ts): the bytes
   * are a view, valid until the client edge resets the scratch after its
   * flush. Throws GH_ERR_UNSAFE_INTEGER
   * rather than send a value it cannot carry exactly (long-off.ts); the
   * seq is taken only once encoded, so a refused message leaves no gap.
   */
  numberOutgoing (envelope: ClientEnvelopeInit, journal: LaneJournal | null, scratch: WireScratch | null = null): Uint8Array {
    envelope.seq = this.outSeq + 1
    envelope.sentTimeUs = Date.now() * 1000
    const bytes = scratch === null ? encodeClientEnvelope(envelope) : encodeClientFrame(scratch, envelope)
    this.outSeq++
    if (journal !== null) journal.clientOut(this.journal!, bytes, bodyFieldNumber(envelope, CLIENT_BODY_FIELDS))
    this.messagesOut++
    return bytes
  }

  /** The session logged on as `account`: from here its journal records name the account. */
  journalAs (account: string): void {
    const heads = this.journal
    if (heads !== null) heads.clientIn.account = heads.clientOut.account = heads.decision.account = heads.linkOut.account = heads.orderEntry.account = account
  }
}

/**
 * Charges one message to a logged-on session's throttle at the time in
 * `risk.input[IN_NOW_MS]`, where a double is never boxed: -1 when it is
 * admitted, else the sessionMessagesPerSecond limit that refused it. The
 * lane charges every message of a logged-on session but its logout; replay
 * charges the journaled ones the same way.
 */
export function chargeSessionThrottle (session: ClientSession, risk: RiskEngine): number {
  const limit = risk.limitsFor(session.risk, -1, -1)[Limit.sessionMessagesPerSecond]!
  return session.throttle.admit(risk.input[IN_NOW_MS]!, limit, THROTTLE_WINDOW_MS) ? -1 : limit
}
