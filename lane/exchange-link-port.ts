// The exchange side as the order path sees it: a session to the exchange
// front that sends application messages in seq order. lane/exchange-link.ts
// (the link protocol over TCP) implements it; a FIX or CTP adapter could
// too. Its reports, link-ups and link-downs come back through
// ExchangeLinkHandler (exchange-link.ts) into lane/exchange-side.ts.
import type { LinkEnvelopeInit } from '../protocol/messages.js'
import type { SessionJournalHeads } from './lane-journal.js'

export interface ExchangeLinkPort {
  /** Logged on: application messages may be sent. */
  readonly isUp: boolean
  /**
   * Records and queues one application message with the next link seq;
   * `cause` names the client session it is sent for in the journal (null:
   * the gateway's own). Returns the seq, or 0 when the link is not up:
   * nothing is queued then, so nothing goes out behind the caller's back.
   */
  send (envelope: LinkEnvelopeInit, cause: SessionJournalHeads | null): number
}

/** A link that sends nothing: what recovery and replay drive the lifecycle with (what the live link sent is in the journal). */
export const SILENT_LINK: ExchangeLinkPort = Object.freeze({ isUp: false, send: () => 0 })

/**
 * The one rule for exchange report seqs, which the live link, recovery and
 * replay all apply: after a reconnect the exchange resends from the seq it
 * was asked for, so a report at or below the last one processed is a
 * repeat and is dropped. Seq 0 is unsequenced and never a repeat. Returns
 * the last seq after this report, or -1 for a repeat.
 */
export function advanceReportSeq (lastReceivedSeq: number, seq: number): number {
  if (seq === 0) return lastReceivedSeq
  return seq <= lastReceivedSeq ? -1 : seq
}
