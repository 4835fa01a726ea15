// Execution report numbering and the report log (lane/report-log.ts),
// without sockets: the real OrderLifecycle, OrderEntry and RiskEngine with
// the lane's real journal stream (test/helpers/lane-core.ts) and a
// ReportLog, as the lane wires them. Then the ReportLog alone as a
// property: any sequence of appends, evictions, day rolls and resends
// returns exactly the held reports after N, in order.
import t, { type Test } from 'tap'
import fc from 'fast-check'
import { join } from 'node:path'
import { readStream } from '../journal/reader.js'
import { decodeJournalRecord, summarizeRecord } from '../journal/record-decoder.js'
import { verifyJournal } from '../journal/verify.js'
import { RecordKind } from '../journal/record-format.js'
import { decodeClientEnvelope } from '../protocol/client-codec.js'
import { LaneJournal } from '../lane/lane-journal.js'
import { ReportLog, type HeldReport } from '../lane/report-log.js'
import { recoverLanes } from '../lane/recovery.js'
import {
  ExecType, HedgeFlag, OffsetFlag, RejectReason, Side, TimeInForce, wireInt, type ClientEnvelopeInit,
} from '../protocol/messages.js'
import { LaneCore, riskControlFor } from './helpers/lane-core.js'

const TRADER = 'RN-T'
const OTHER = 'RN-O'
const RB = 'rb2605'
const DAY = '20261207'

function setUp (t: Test, capacity = 1000): { lane: LaneCore, journal: LaneJournal, dir: string } {
  const dir = t.testdir()
  const journal = new LaneJournal({ lane: 'platform', root: dir, fsync: 'never', maxSegmentBytes: 1 << 20 })
  const lane = new LaneCore('platform', riskControlFor([TRADER, OTHER]), journal, 1, new ReportLog('platform', capacity))
  lane.linkUp(DAY, 1)
  return { lane, journal, dir }
}

const order = (clientOrderId: number, extra: Record<string, unknown> = {}) =>
  ({ clientOrderId, instrument: RB, side: Side.BUY, price: 3200, quantityLots: 2, timeInForce: TimeInForce.GFD, reduceOnly: false, offsetFlag: 0, hedgeFlag: 0, ...extra }) as never

/** Execution reports of a list of sent envelopes. */
const reportsIn = (sent: ClientEnvelopeInit[]): HeldReport[] => sent.filter((e) => e.executionReport != null).map((e) => e.executionReport!)

function linkOrderIdOf (lane: LaneCore, clientOrderId: number, account = TRADER): number {
  for (const o of lane.lifecycle.orders.values()) if (o.clientOrderId === clientOrderId && o.account === account) return o.linkOrderId
  throw new Error(`no working order ${clientOrderId} of ${account}`)
}

/** Every execution report of the journal, sent or held, with its record kind. */
function journaledReports (dir: string, journal: LaneJournal): Array<{ kind: number, account: string, report: HeldReport }> {
  journal.commit()
  const out = []
  for (const record of readStream(join(dir, 'platform'), 'platform')) {
    if (record.kind !== RecordKind.CLIENT_OUT && record.kind !== RecordKind.REPORT_HELD) continue
    const envelope = decodeClientEnvelope(record.payload)
    if (envelope.executionReport != null) out.push({ kind: record.kind, account: record.account, report: envelope.executionReport })
  }
  return out
}

t.test('every report of an account is numbered 1, 2, 3, ... with its exec_id, flags and trade ID, sent or held', async (t) => {
  const { lane, journal, dir } = setUp(t)
  const session = lane.connect()
  lane.logOn(session, TRADER)
  const other = lane.connect()
  lane.logOn(other, OTHER)

  lane.newOrder(session, order(1, { offsetFlag: OffsetFlag.OFFSET_OPEN, hedgeFlag: HedgeFlag.HEDGE_HEDGE }))
  const first = linkOrderIdOf(lane, 1)
  lane.exchangeReport({ orderId: first, execType: ExecType.ACK, exchangeOrderId: 71, leavesLots: 2 })
  // Order entry's own reject is numbered in the same sequence.
  lane.newOrder(session, order(2, { instrument: 'xx9999', reduceOnly: true }))
  // Another account's reports have their own numbers.
  lane.newOrder(other, order(1))
  lane.exchangeReport({ orderId: linkOrderIdOf(lane, 1, OTHER), execType: ExecType.ACK, exchangeOrderId: 81, leavesLots: 2 })
  lane.exchangeReport({ orderId: first, execType: ExecType.PARTIAL_FILL, lastLots: 1, lastPrice: 3200, cumulativeLots: 1, leavesLots: 1, tradeId: 'T-1' })

  const mine = reportsIn(lane.sentTo(session))
  t.same(mine.map((r) => wireInt(r.reportSeq)), [1, 2, 3], 'the trader\'s reports: 1, 2, 3')
  t.same(mine.map((r) => r.execId), [1, 2, 3].map((n) => `${DAY}-platform-${TRADER}-${n}`), 'exec_id: day, lane, account, report_seq')
  t.match(mine[0], { execType: ExecType.ACK, offsetFlag: OffsetFlag.OFFSET_OPEN, hedgeFlag: HedgeFlag.HEDGE_HEDGE, tradeId: '' }, 'the order\'s flags as applied; no trade ID on an ACK')
  t.match(mine[1], { execType: ExecType.REJECTED, reason: RejectReason.UNKNOWN_INSTRUMENT, offsetFlag: OffsetFlag.OFFSET_CLOSE, hedgeFlag: HedgeFlag.HEDGE_SPECULATION },
    'order entry\'s reject: the resolved flags (reduce_only: a plain close; speculation by default)')
  t.match(mine[2], { execType: ExecType.PARTIAL_FILL, tradeId: 'T-1' }, 'a fill carries the exchange\'s trade ID')
  t.same(reportsIn(lane.sentTo(other)).map((r) => [wireInt(r.reportSeq), r.execId]), [[1, `${DAY}-platform-${OTHER}-1`]], 'the other account counts from 1 on its own')

  // The session goes; a fill arrives for its order: numbered, held, journaled.
  lane.close(session)
  lane.exchangeReport({ orderId: first, execType: ExecType.FILL, lastLots: 1, lastPrice: 3200, cumulativeLots: 2, leavesLots: 0, tradeId: 'T-2' })
  t.equal(lane.clients.held.length, 1, 'the fill with no session is held')
  t.match(lane.clients.held[0], { account: TRADER, envelope: { executionReport: { reportSeq: 4, execId: `${DAY}-platform-${TRADER}-4`, tradeId: 'T-2', execType: ExecType.FILL } } }, 'as report 4')
  t.equal(lane.lifecycle.reports!.lastReportSeq(TRADER), 4, 'the log\'s last report_seq')

  // The next session continues the numbering.
  const again = lane.connect()
  lane.logOn(again, TRADER)
  lane.newOrder(again, order(1, { instrument: 'xx9999' }))
  t.same(reportsIn(lane.sentTo(again)).map((r) => wireInt(r.reportSeq)), [5], 'the next session\'s first report is 5')

  const held: number[] = []
  lane.lifecycle.reports!.forEachReport(TRADER, (r) => { held.push(wireInt(r.reportSeq)) })
  t.same(held, [1, 2, 3, 4, 5], 'the log holds the day\'s reports in report_seq order')

  const journaled = journaledReports(dir, journal).filter((j) => j.account === TRADER)
  t.same(journaled.map((j) => [j.kind, wireInt(j.report.reportSeq)]), [
    [RecordKind.CLIENT_OUT, 1], [RecordKind.CLIENT_OUT, 2], [RecordKind.CLIENT_OUT, 3], [RecordKind.REPORT_HELD, 4], [RecordKind.CLIENT_OUT, 5],
  ], 'each is journaled once, as sent (CLIENT_OUT) or held (REPORT_HELD)')

  // The tools show a held report as they show a sent one.
  const heldRecord = [...readStream(join(dir, 'platform'), 'platform')].find((r) => r.kind === RecordKind.REPORT_HELD)!
  const decoded = decodeJournalRecord(heldRecord, { reveal: false })
  t.match(decoded, { kind: 'report-held', account: TRADER, clientOrderId: 1, messageType: 'executionReport', instrument: RB }, 'search and export decode it, with its account and order')
  t.match(summarizeRecord(decoded), /^executionReport FILL rb2605 .*coid=1 .*rs=4/, 'and summarize it with its report_seq')
  t.ok(verifyJournal(dir).ok, 'verify passes on a journal with held reports')
})

t.test('the lost-order reject at link logon is numbered and held; a new trading day starts again at 1', async (t) => {
  const { lane } = setUp(t)
  const session = lane.connect()
  lane.logOn(session, TRADER)
  lane.newOrder(session, order(1))
  lane.newOrder(session, order(2))
  lane.exchangeReport({ orderId: linkOrderIdOf(lane, 1), execType: ExecType.ACK, exchangeOrderId: 5, leavesLots: 2 })
  lane.close(session)
  lane.linkDown()
  // The exchange saw only the first order.
  lane.linkUp(DAY, 2)
  t.match(lane.clients.held.map((h) => h.envelope.executionReport), [{ clientOrderId: 2, execType: ExecType.REJECTED, reason: RejectReason.EXCHANGE_UNAVAILABLE, reportSeq: 2 }],
    'the lost order\'s REJECTED continues the numbering and is held')

  lane.linkDown()
  lane.linkUp('20261208', 3)
  t.equal(lane.lifecycle.reports!.lastReportSeq(TRADER), 0, 'a new trading day clears the log')
  const next = lane.connect()
  lane.logOn(next, TRADER)
  lane.newOrder(next, order(1, { instrument: 'xx9999' }))
  t.match(reportsIn(lane.sentTo(next)), [{ reportSeq: 1, execId: `20261208-platform-${TRADER}-1` }], 'and numbering starts again at 1')
})

t.test('a report that cannot be encoded takes no number', async (t) => {
  const { lane } = setUp(t)
  const session = lane.connect()
  lane.logOn(session, TRADER)
  lane.newOrder(session, order(1, { instrument: 'xx9999' }))
  const envelope: ClientEnvelopeInit = { executionReport: { clientOrderId: 1, execType: ExecType.REJECTED, price: 2 ** 60 } }
  t.throws(() => lane.lifecycle.deliverReport(TRADER, session, envelope), 'a value past 2^53 is refused before it is sent')
  lane.newOrder(session, order(2, { instrument: 'xx9999' }))
  t.same(reportsIn(lane.sentTo(session)).map((r) => wireInt(r.reportSeq)), [1, 2], 'no gap: the next report is 2')
})

t.test('recovery rebuilds the log from the journal: numbering continues, held and sent reports included, resends skipped', async (t) => {
  const { lane, journal, dir } = setUp(t)
  const session = lane.connect()
  lane.logOn(session, TRADER)
  lane.newOrder(session, order(1))
  lane.exchangeReport({ orderId: linkOrderIdOf(lane, 1), execType: ExecType.ACK, exchangeOrderId: 5, leavesLots: 2 })
  lane.close(session)
  lane.exchangeReport({ orderId: linkOrderIdOf(lane, 1), execType: ExecType.FILL, lastLots: 2, lastPrice: 3200, cumulativeLots: 2, leavesLots: 0, tradeId: 'X' })
  // A resend as the lane journals it: numbered again by the envelope, never by the log.
  const resender = lane.connect()
  lane.logOn(resender, TRADER)
  lane.clients.sendToClient(resender, { executionReport: { ...lane.clients.held[0]!.envelope.executionReport!, possibleDuplicate: true } })
  journal.commit()
  const control = riskControlFor([TRADER, OTHER])
  const recovered = recoverLanes(dir, ['platform'], control.buffers, new Map([[TRADER, control.accountIndex(TRADER)!]]), DAY).get('platform')!
  t.same(recovered.problems, [], 'no problems')
  const log = new ReportLog('platform', 1000)
  log.adopt(structuredClone(recovered.reports!))
  t.equal(log.tradingDay, DAY, 'the day')
  t.equal(log.lastReportSeq(TRADER), 2, 'the last report_seq: the held fill')
  const held: HeldReport[] = []
  log.forEachReport(TRADER, (r) => { held.push(r) })
  t.match(held, [{ reportSeq: 1, execType: ExecType.ACK }, { reportSeq: 2, execType: ExecType.FILL, tradeId: 'X' }], 'both reports, as journaled, the resend not again')
})

// ---- the ReportLog as a property -----------------------------------------------

type LogAction =
  | { t: 'append', account: number }
  | { t: 'resend', account: number, after: number }
  | { t: 'day' }

const logActionArb: fc.Arbitrary<LogAction> = fc.oneof(
  { weight: 10, arbitrary: fc.record({ t: fc.constant('append' as const), account: fc.nat({ max: 3 }) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('resend' as const), account: fc.nat({ max: 3 }), after: fc.nat({ max: 60 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('day' as const) }) },
)

const counts = { resends: 0, evicted: 0 }

/** Runs the actions on a ReportLog of `capacity` and on the model; throws at the first difference. */
function runLog (capacity: number, actions: LogAction[]): void {
  {
    let resends = 0
    let evicted = 0
    const log = new ReportLog('hft', capacity)
    let day = 20261207
    log.startDay(String(day))
    // The model: every report of the day in the order kept; the held ones are the last `capacity`.
    let kept: Array<{ account: string, seq: number }> = []
    const check = (account: string, after: number): void => {
      const held = kept.slice(Math.max(0, kept.length - capacity))
      const expected = held.filter((r) => r.account === account && r.seq > after).map((r) => r.seq)
      const got: number[] = []
      log.forEachReportAfter(account, after, (r) => { got.push(wireInt(r.reportSeq)); return true })
      if (JSON.stringify(got) !== JSON.stringify(expected)) throw new Error(`after ${after} for ${account}: got ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`)
      const mine = held.filter((r) => r.account === account)
      if (log.oldestReportSeq(account) !== (mine[0]?.seq ?? 0)) throw new Error(`oldest of ${account}: ${log.oldestReportSeq(account)}`)
      const all = kept.filter((r) => r.account === account)
      if (log.lastReportSeq(account) !== all.length) throw new Error(`last of ${account}: ${log.lastReportSeq(account)}, expected ${all.length}`)
    }
    for (const action of actions) {
      if (action.t === 'day') {
        log.startDay(String(++day))
        kept = []
      } else if (action.t === 'append') {
        const account = `A${action.account}`
        const report: HeldReport = { clientOrderId: kept.length + 1 }
        log.stamp(account, report)
        const seq = wireInt(report.reportSeq)
        if (seq !== kept.filter((r) => r.account === account).length + 1) throw new Error(`stamped ${seq}: a gap or a repeat`)
        if (report.execId !== `${day}-hft-${account}-${seq}`) throw new Error(`exec_id ${report.execId}`)
        log.keep(account, report)
        kept.push({ account, seq })
        if (kept.length > capacity) evicted++
      } else {
        resends++
        check(`A${action.account}`, action.after)
      }
      if (log.held !== Math.min(kept.length, capacity)) throw new Error(`held ${log.held}`)
    }
    for (let a = 0; a < 4; a++) check(`A${a}`, 0)
    // Across threads as plain data: the same log.
    const copy = new ReportLog('hft', capacity)
    copy.adopt(structuredClone(log.toPlain()))
    for (let a = 0; a < 4; a++) {
      const account = `A${a}`
      const seqs = (l: ReportLog): number[] => { const out: number[] = []; l.forEachReport(account, (r) => { out.push(wireInt(r.reportSeq)) }); return out }
      if (JSON.stringify(seqs(copy)) !== JSON.stringify(seqs(log)) || copy.lastReportSeq(account) !== log.lastReportSeq(account)) throw new Error(`adopted copy differs for ${account}`)
    }
    // The copy evicts in the same order: the lane's oldest first.
    const more: HeldReport = {}
    copy.stamp('A0', more)
    copy.keep('A0', more)
    const model = [...kept.slice(Math.max(0, kept.length - capacity)), { account: 'A0', seq: log.lastReportSeq('A0') + 1 }].slice(-capacity)
    for (let a = 0; a < 4; a++) {
      const account = `A${a}`
      const got: number[] = []
      copy.forEachReport(account, (r) => { got.push(wireInt(r.reportSeq)) })
      const expected = model.filter((r) => r.account === account).map((r) => r.seq)
      if (JSON.stringify(got) !== JSON.stringify(expected)) throw new Error(`after adopt, eviction order differs for ${account}: ${JSON.stringify(got)} vs ${JSON.stringify(expected)}`)
    }
    counts.resends += resends
    counts.evicted += evicted
  }
}

t.test('property: a resend after N returns exactly the held reports after N, in order; numbering never gaps', async (t) => {
  counts.resends = counts.evicted = 0
  fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), fc.array(logActionArb, { maxLength: 150 }), runLog), { numRuns: 300 })
  t.ok(counts.resends > 100, `resends checked: ${counts.resends}`)
  t.ok(counts.evicted > 100, `reports evicted: ${counts.evicted}`)
})

t.test('property, long days: the same past many evictions per account (the held arrays are compacted)', async (t) => {
  counts.resends = counts.evicted = 0
  const longDay = fc.array(fc.oneof(
    { weight: 30, arbitrary: fc.record({ t: fc.constant('append' as const), account: fc.nat({ max: 1 }) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('resend' as const), account: fc.nat({ max: 1 }), after: fc.nat({ max: 1500 }) }) },
  ), { minLength: 1000, maxLength: 2500 })
  fc.assert(fc.property(fc.integer({ min: 50, max: 400 }), longDay, runLog), { numRuns: 15 })
  t.ok(counts.evicted > 5000, `reports evicted: ${counts.evicted}`)
})

t.test('restore: a repeat is skipped and a gap is reported, never thrown', async (t) => {
  const log = new ReportLog('terminal', 10)
  log.startDay(DAY)
  t.equal(log.restore('A', { reportSeq: 1 }), null, 'report 1 continues')
  t.match(log.restore('A', { reportSeq: 1 }), /repeats/, 'a repeat is named and skipped')
  t.match(log.restore('A', { reportSeq: 4 }), /follows 1/, 'a gap is named')
  t.equal(log.lastReportSeq('A'), 4, 'numbering continues after the highest')
  const got: number[] = []
  log.forEachReportAfter('A', 1, (r) => { got.push(wireInt(r.reportSeq)); return true })
  t.same(got, [4], 'a resend after 1 serves what is held')
  t.throws(() => new ReportLog('terminal', 0), RangeError, 'a log holds at least one report')
})
