// A lane thread's side of the retention journal: one JournalStream named
// after the lane, and a reused record head per kind of record, so that
// journaling a message allocates no buffer (segment-writer.ts says what
// it does allocate).
//
// Write-ahead is the callers' part: the lane and its exchange link append
// as things happen and call commit() before any byte leaves (the link in
// its flush, the lane before it flushes client sends). commit() is one
// write(2) for everything appended since the last one.
//
// A new order that passes and goes out is one ORDER_ENTRY record rather
// than three (client-in, check-decision, link-out; gateway-records.ts):
// its client-in frame is held (copied) until its decision and link order
// follow with nothing between them, and anything else that comes first,
// a commit included, writes what is held as the separate records first.
// Held records are never left behind a commit, so write-ahead is as
// before: nothing is sent whose records have not been written.
//
// Fail closed: when a write fails the stream stops (JournalStream), commit()
// returns false from then on, and onFailure runs once. Nothing may be sent
// after that, because nothing can be recorded.
import { JournalStream, type ChainCadence, type FsyncPolicy } from '../journal/segment-writer.js'
import { Direction, LANE_CODES, RecordKind, newRecordHead, type RecordHead } from '../journal/record-format.js'
import {
  CLIENT_BODY_FIELDS, DECISION_PAYLOAD_BYTES, LINK_BODY_FIELDS, ORDER_ENTRY_MAX_CLIENT_BYTES, ORDER_ENTRY_PREFIX_BYTES, newDecisionScratch, positionsCarriedDocuments, writeDecision, writeOrderEntry,
  type CarriedPositionEntry, type PositionsCarriedDocument,
} from '../journal/gateway-records.js'
import { bodyFieldNumber } from '../protocol/body-fields.js'
import type { LaneName } from '../protocol/lanes.js'
import type { LinkEnvelope } from '../protocol/messages.js'
import type { LaneMetrics } from './lane-metrics.js'

export interface LaneJournalOptions {
  lane: LaneName
  root: string
  fsync: FsyncPolicy
  maxSegmentBytes: number
  /** Chain point cadence (journal.chain); the stream's default when absent. */
  chain?: ChainCadence
  /** Where the stream's totals and lag are published for /metrics; none when nobody reads them. */
  metrics?: LaneMetrics
  /** µs since the epoch (default protocol/clock.ts nowMicros); tests drive it. */
  clockUs?: () => number
}

/** The record heads of one client session: its ID and account never change once set, so their UTF-8 is encoded once. */
export interface SessionJournalHeads {
  clientIn: RecordHead
  clientOut: RecordHead
  decision: RecordHead
  linkOut: RecordHead
  /** An order's client-in, decision and link-out in one record (ORDER_ENTRY). */
  orderEntry: RecordHead
}

const CLIENT_NEW_ORDER = CLIENT_BODY_FIELDS.newOrder!
const LINK_NEW_ORDER = LINK_BODY_FIELDS.newOrder!
const HELD_NONE = 0
/** A new order's client-in frame is held. */
const HELD_CLIENT_IN = 1
/** And its passing decision (in decisionScratch). */
const HELD_DECISION = 2

export { bodyFieldNumber }

export class LaneJournal {
  private readonly stream: JournalStream
  private readonly laneCode: number
  private readonly linkInHead: RecordHead
  /** Link messages the gateway sends on its own (logon, heartbeats, logout). */
  private readonly linkOutHead: RecordHead
  /** Execution reports held for an account with no session (REPORT_HELD); the account changes per record. */
  private readonly reportHeldHead: RecordHead
  private readonly positionsCarriedHead: RecordHead
  private readonly decisionScratch = newDecisionScratch()
  private held = HELD_NONE
  private heldHeads: SessionJournalHeads | null = null
  private heldClient: Buffer = Buffer.allocUnsafeSlow(4096)
  private heldClientLength = 0
  private heldTimeUs: number | undefined = undefined
  /** Where an ORDER_ENTRY payload is put together; grows to the largest seen. */
  private orderEntryPayload: Buffer = Buffer.allocUnsafeSlow(8192)
  private failure: Error | null = null
  private readonly metrics: LaneMetrics | null
  /** Called once, on the first failed write. */
  onFailure: (err: Error) => void = () => {}

  constructor (options: LaneJournalOptions) {
    this.laneCode = LANE_CODES[options.lane]
    this.metrics = options.metrics ?? null
    this.stream = JournalStream.open({ stream: options.lane, root: options.root, fsync: options.fsync, maxSegmentBytes: options.maxSegmentBytes, chain: options.chain, clockUs: options.clockUs })
    this.linkInHead = newRecordHead({ kind: RecordKind.LINK_IN, lane: this.laneCode, direction: Direction.IN })
    this.linkOutHead = newRecordHead({ kind: RecordKind.LINK_OUT, lane: this.laneCode, direction: Direction.OUT })
    this.reportHeldHead = newRecordHead({ kind: RecordKind.REPORT_HELD, lane: this.laneCode, direction: Direction.NONE, msgType: CLIENT_BODY_FIELDS.executionReport })
    this.positionsCarriedHead = newRecordHead({ kind: RecordKind.POSITIONS_CARRIED, lane: this.laneCode, direction: Direction.NONE })
  }

  get failed (): boolean {
    return this.failure !== null
  }

  sessionHeads (sessionId: number): SessionJournalHeads {
    const lane = this.laneCode
    return {
      clientIn: newRecordHead({ kind: RecordKind.CLIENT_IN, lane, direction: Direction.IN, sessionId }),
      clientOut: newRecordHead({ kind: RecordKind.CLIENT_OUT, lane, direction: Direction.OUT, sessionId }),
      decision: newRecordHead({ kind: RecordKind.CHECK_DECISION, lane, direction: Direction.NONE, sessionId }),
      linkOut: newRecordHead({ kind: RecordKind.LINK_OUT, lane, direction: Direction.OUT, sessionId }),
      orderEntry: newRecordHead({ kind: RecordKind.ORDER_ENTRY, lane, direction: Direction.IN, sessionId, msgType: CLIENT_NEW_ORDER }),
    }
  }

  /**
   * A frame from a client, as received at `timeUs` (protocol/clock.ts):
   * the time its checks run at, so that recovery replays them at it.
   */
  clientIn (heads: SessionJournalHeads, bytes: Uint8Array, msgType: number, flags: number, timeUs?: number): void {
    if (this.held !== HELD_NONE) this.releaseHeld()
    if (msgType === CLIENT_NEW_ORDER && flags === 0 && bytes.length <= ORDER_ENTRY_MAX_CLIENT_BYTES && this.failure === null) {
      // Held for an ORDER_ENTRY: the caller's buffer is the socket's, so a copy.
      if (bytes.length > this.heldClient.length) this.heldClient = Buffer.allocUnsafeSlow(bytes.length)
      this.heldClient.set(bytes, 0)
      this.heldClientLength = bytes.length
      this.heldTimeUs = timeUs
      this.heldHeads = heads
      this.held = HELD_CLIENT_IN
      return
    }
    const head = heads.clientIn
    head.msgType = msgType
    head.flags = flags
    this.append(head, bytes, timeUs)
  }

  /** An encoded envelope about to be sent to a client. */
  clientOut (heads: SessionJournalHeads, bytes: Uint8Array, msgType: number): void {
    if (this.held !== HELD_NONE) this.releaseHeld()
    heads.clientOut.msgType = msgType
    this.append(heads.clientOut, bytes)
  }

  /**
   * An execution report numbered for `account` while none of its sessions
   * was there to take it (an encoded ClientEnvelope, seq 0): held for a
   * resend, and rebuilt from here by recovery.
   */
  reportHeld (account: string, bytes: Uint8Array): void {
    if (this.held !== HELD_NONE) this.releaseHeld()
    this.reportHeldHead.account = account
    this.append(this.reportHeldHead, bytes)
  }

  /** The decision on one new order (gateway-records.ts, check decisions). */
  decision (heads: SessionJournalHeads, passed: boolean, stage: number, reason: number, riskSlot: number,
    clientOrderId: number, linkOrderId: number, limit: number, observed: number): void {
    const { bytes, f64 } = this.decisionScratch
    if (this.held === HELD_CLIENT_IN && heads === this.heldHeads && passed && reason === 0) {
      writeDecision(bytes, f64, passed, stage, reason, riskSlot, clientOrderId, linkOrderId, limit, observed)
      this.held = HELD_DECISION
      return
    }
    if (this.held !== HELD_NONE) this.releaseHeld()
    writeDecision(bytes, f64, passed, stage, reason, riskSlot, clientOrderId, linkOrderId, limit, observed)
    heads.decision.msgType = reason
    this.append(heads.decision, bytes)
  }

  /** A link message about to be queued; `heads` names the client session that caused it, null for the gateway's own. */
  linkOut (heads: SessionJournalHeads | null, body: Uint8Array, envelope: object): void {
    const msgType = bodyFieldNumber(envelope, LINK_BODY_FIELDS)
    if (this.held === HELD_DECISION && heads === this.heldHeads && msgType === LINK_NEW_ORDER) {
      const need = ORDER_ENTRY_PREFIX_BYTES + this.heldClientLength + DECISION_PAYLOAD_BYTES + body.length
      if (need > this.orderEntryPayload.length) this.orderEntryPayload = Buffer.allocUnsafeSlow(need)
      const length = writeOrderEntry(this.orderEntryPayload, this.heldClient, this.heldClientLength, this.decisionScratch.bytes, body)
      this.held = HELD_NONE
      this.heldHeads = null
      this.appendLength(heads!.orderEntry, this.orderEntryPayload, length, this.heldTimeUs)
      return
    }
    if (this.held !== HELD_NONE) this.releaseHeld()
    const head = heads === null ? this.linkOutHead : heads.linkOut
    head.msgType = msgType
    this.append(head, body)
  }

  /** Writes what is held as the separate records it is so far (the order did not go out, or something came between). */
  private releaseHeld (): void {
    const heads = this.heldHeads!
    const held = this.held
    this.held = HELD_NONE
    this.heldHeads = null
    const clientIn = heads.clientIn
    clientIn.msgType = CLIENT_NEW_ORDER
    clientIn.flags = 0
    this.appendLength(clientIn, this.heldClient, this.heldClientLength, this.heldTimeUs)
    if (held === HELD_DECISION) {
      heads.decision.msgType = 0
      this.append(heads.decision, this.decisionScratch.bytes)
    }
  }

  /** A link frame body as received, before it is acted on; `envelope` is null when it could not be decoded. */
  linkIn (body: Uint8Array, envelope: LinkEnvelope | null): void {
    if (this.held !== HELD_NONE) this.releaseHeld()
    // Segments are labelled with the trading day, and the logon reply
    // that announces a day opens that day's first segment: recovery reads
    // from there.
    if (envelope?.body === 'logonReply' && envelope.logonReply!.ok === true) this.setTradingDay(envelope.logonReply!.tradingDay ?? '')
    this.linkInHead.msgType = envelope === null ? 0 : LINK_BODY_FIELDS[envelope.body ?? ''] ?? 0
    this.append(this.linkInHead, body)
  }

  /**
   * This lane's link logon rolled the shared trading day: the positions
   * carried into it (gateway-records.ts, POSITIONS_CARRIED), in the new
   * day's segment, where recovery finds them.
   */
  positionsCarried (tradingDay: string, entries: readonly CarriedPositionEntry[], handover?: Parameters<typeof positionsCarriedDocuments>[2]): PositionsCarriedDocument[] | null {
    if (this.held !== HELD_NONE) this.releaseHeld()
    if (this.failure !== null) return null
    const docs = positionsCarriedDocuments(tradingDay, entries, handover)
    for (const doc of docs) {
      try {
        this.stream.appendJson(this.positionsCarriedHead, doc)
      } catch (err) {
        this.fail(err as Error)
        return null
      }
    }
    // With the logon reply that opened the day: recovery must find both or neither.
    this.commit()
    return this.failure === null ? docs : null
  }

  /** Labels the next segments with the exchange's trading day (a new day starts a new segment). */
  setTradingDay (day: string): void {
    if (!/^\d{8}$/.test(day)) return
    if (this.held !== HELD_NONE) this.releaseHeld()
    // What is appended so far belongs to the old label's segment.
    this.commit()
    this.stream.setTradingDay(day)
  }

  /**
   * Writes everything appended so far with one write(2). True when it has
   * reached the OS; false when the journal has failed, in which case the
   * caller must send nothing.
   */
  commit (): boolean {
    // Write-ahead: what is held goes into this write, as separate records.
    if (this.held !== HELD_NONE) this.releaseHeld()
    if (this.failure !== null) return false
    // Most turns' flushes find their records already committed (or none):
    // only a real write is timed.
    if (this.stream.pendingRecords === 0) return true
    const startMs = performance.now()
    try {
      this.stream.commit()
    } catch (err) {
      this.fail(err as Error)
      return false
    }
    if (this.metrics !== null) {
      this.metrics.journalCommitTime(performance.now() - startMs)
      this.publishTotals(this.metrics)
    }
    return true
  }

  /** Commits and seals the segment. */
  close (): void {
    if (this.held !== HELD_NONE) this.releaseHeld()
    if (this.failure !== null) return
    try {
      this.stream.close()
    } catch (err) {
      this.fail(err as Error)
    }
  }

  private append (head: RecordHead, payload: Uint8Array, timeUs?: number): void {
    this.appendLength(head, payload, payload.length, timeUs)
  }

  /** Appends payload[0, length). */
  private appendLength (head: RecordHead, payload: Uint8Array, length: number, timeUs: number | undefined): void {
    if (this.failure !== null) return
    try {
      this.stream.append(head, payload, timeUs, 0, length)
    } catch (err) {
      // append() commits by itself past maxBatchBytes, so it can fail too.
      this.fail(err as Error)
      return
    }
    const metrics = this.metrics
    if (metrics === null) return
    const uncommitted = this.stream.pendingRecords
    // 0: this append filled the batch and committed it inline.
    if (uncommitted === 0) this.publishTotals(metrics)
    else metrics.journalAppended(uncommitted)
  }

  private publishTotals (metrics: LaneMetrics): void {
    const stream = this.stream
    metrics.journalCommitted(stream.recordsWritten, stream.bytesWritten, stream.batchesWritten)
  }

  private fail (err: Error): void {
    if (this.failure !== null) return
    this.failure = err
    this.metrics?.journalFailed()
    this.onFailure(err)
  }
}

