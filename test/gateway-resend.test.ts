// Resend end to end, with a real gateway and the exchange simulator as a
// process: a client that was away while its orders filled asks after the
// last report_seq it has and gets exactly what it missed, each marked
// possible_duplicate and otherwise as first sent, then ResendComplete.
// And the edges of a resend: a window that no longer reaches back
// (RESEND_UNAVAILABLE), paging by count and by bytes (more), the query
// throttle (THROTTLED_QUERY), a request beyond the last report.
import t from 'tap'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { DEFAULT_CONFIG } from '../config/defaults.js'
import { ExecType, HedgeFlag, OffsetFlag, RejectReason, Side, TimeInForce, wireInt, type ClientEnvelope, type ExecutionReport } from '../protocol/messages.js'
import type { gatehouse } from '../protocol/generated/gatehouse.js'
import { startTestGateway } from './helpers/gateway.js'
import { finished, logOn, place, send, tradingAccount, untilClock, type Trader } from './helpers/trading.js'

type ResendComplete = gatehouse.v1.ResendComplete

const TRADER = 'RS-TRADER'
const MAKER = 'RS-MAKER'
const SMALL = 'RS-SMALL'
const PAGED = 'RS-PAGED'
const RB = 'rb2605'
const BUY_PRICE = 3100
/** The terminal lane's small window and page, for the edges. */
const WINDOW = 3
const PAGE = 2
const QUERIES_PER_SECOND = 2

const gateway = await startTestGateway({
  overrides: {
    accounts: [...DEFAULT_CONFIG.accounts, ...[TRADER, MAKER, SMALL, PAGED].map(tradingAccount)],
    lanes: {
      terminal: { resendWindowReports: WINDOW, maxResendReports: PAGE, queriesPerSecond: QUERIES_PER_SECOND },
      // The smallest backpressure limit: a resend page is at most half of it in bytes.
      hft: { maxBackpressureBytes: 65_536 },
    },
  },
})
t.teardown(() => gateway.stop())

const reportsOf = (client: GatehouseClient): ExecutionReport[] =>
  client.received.filter((m) => m.body === 'executionReport').map((m) => m.executionReport as ExecutionReport)

const seqOf = (r: ExecutionReport): number => wireInt(r.reportSeq)

/** Sends a ResendRequest and collects what answers it: the resent reports, then the ResendComplete. */
async function resend (client: GatehouseClient, after: number): Promise<{ reports: ExecutionReport[], complete: ResendComplete, envelopes: ClientEnvelope[] }> {
  const from = client.received.length
  const done = client.nextNew((m) => m.body === 'resendComplete' || (m.body === 'reject' && m.reject!.reason === RejectReason.THROTTLED_QUERY))
  client.send({ resendRequest: { afterReportSeq: after } })
  const end = await done
  const envelopes = client.received.slice(from, client.received.indexOf(end) + 1)
  const reports = envelopes.filter((m) => m.body === 'executionReport').map((m) => m.executionReport as ExecutionReport)
  return { reports, complete: end.resendComplete as ResendComplete, envelopes }
}

/** A REJECTED report from order entry, at once: an instrument that does not exist. */
function rejectedOrder (trader: Trader): number {
  return send(trader, { instrument: 'xx9999', side: Side.BUY, price: 1, quantityLots: 1 })
}

t.test('a client away while its orders filled resends after its last report_seq and gets exactly what it missed', async (t) => {
  const trader = await logOn(gateway, 'platform', TRADER)
  const maker = await logOn(gateway, 'platform', MAKER)
  const resting: number[] = []
  for (let i = 0; i < 3; i++) {
    const placed = await place(trader, { instrument: RB, side: Side.BUY, price: BUY_PRICE, quantityLots: 1 })
    t.equal(placed.report.execType, ExecType.ACK, `resting buy ${i + 1} acknowledged`)
    resting.push(placed.id)
  }
  const rejected = rejectedOrder(trader)
  await finished(trader, rejected)
  const seen = reportsOf(trader.client)
  t.same(seen.map(seqOf), [1, 2, 3, 4], 'the reports it received are numbered 1 to 4')
  t.same(seen.map((r) => r.execId), [1, 2, 3, 4].map((n) => `${trader.logon.tradingDay}-platform-${TRADER}-${n}`), 'exec_id: trading day, lane, account, report_seq')
  t.match(seen[0], { offsetFlag: OffsetFlag.OFFSET_OPEN, hedgeFlag: HedgeFlag.HEDGE_SPECULATION }, 'an ACK carries the order\'s offset (open) and hedge (speculation) flags')
  await trader.client.close()

  // Away: the maker sells into the resting buys. Its next order's report
  // comes after the trader's fills on the same link, so once the maker has
  // it, the gateway has handled every fill.
  const sell = send(maker, { instrument: RB, side: Side.SELL, price: BUY_PRICE, quantityLots: 3, timeInForce: TimeInForce.FAK })
  t.equal((await finished(maker, sell)).execType, ExecType.FILL, 'the maker\'s sell fills against the three resting buys')
  const marker = send(maker, { instrument: RB, side: Side.BUY, price: 3000, quantityLots: 1, timeInForce: TimeInForce.FAK })
  await finished(maker, marker)

  const back = await logOn(gateway, 'platform', TRADER)
  t.equal(back.logon.resumedOrders, 0, 'every order of the trader finished while it was away')
  const last = seqOf(seen.at(-1)!)
  const { reports, complete, envelopes } = await resend(back.client, last)
  t.same(reports.map(seqOf), [5, 6, 7], 'exactly the three reports it missed, in report_seq order')
  t.same(reports.map((r) => [wireInt(r.clientOrderId), r.execType]), resting.map((id) => [id, ExecType.FILL]), 'the fills of its resting buys')
  t.ok(reports.every((r) => r.possibleDuplicate === true), 'each marked possible_duplicate')
  t.ok(reports.every((r) => typeof r.tradeId === 'string' && r.tradeId !== ''), `each fill carries the exchange's trade ID (${reports.map((r) => r.tradeId).join(', ')})`)
  t.match(complete, { afterReportSeq: last, resent: 3, lastReportSeq: 7, oldestReportSeq: 1, more: false, reason: RejectReason.REASON_UNSPECIFIED }, 'then ResendComplete')
  t.equal(envelopes.at(-1)!.body, 'resendComplete', 'the ResendComplete comes last')
  const seqs = envelopes.map((m) => wireInt(m.seq))
  t.same(seqs, seqs.map((_, i) => seqs[0]! + i), 'each resent report is a new envelope with the session\'s next seq')

  // From the start: the day's reports again, as first sent.
  const all = await resend(back.client, 0)
  t.same(all.reports.map(seqOf), [1, 2, 3, 4, 5, 6, 7], 'after 0: every report of the day')
  for (const [i, first] of seen.entries()) {
    const again = all.reports[i]!
    t.same({ ...again, possibleDuplicate: false }, { ...first, possibleDuplicate: false }, `report ${i + 1} is resent with the fields it was first sent with`)
  }

  // The client library's resend() against the real gateway: the same.
  const viaLibrary = await back.client.resend(last)
  t.same(viaLibrary.reports.map(seqOf), [5, 6, 7], 'GatehouseClient.resend() collects the same three')
  t.match(viaLibrary.complete, { resent: 3, lastReportSeq: 7, more: false }, 'and the ResendComplete')

  // Beyond the last: nothing, and no error.
  t.match((await resend(back.client, 99)).complete, { afterReportSeq: 99, resent: 0, lastReportSeq: 7, reason: RejectReason.REASON_UNSPECIFIED }, 'a request beyond the last report resends nothing')

  // Live numbering continues after the held ones.
  const next = rejectedOrder(back)
  t.match(await finished(back, next), { reportSeq: 8, possibleDuplicate: false }, 'the next live report is 8')
  await back.client.close()
  await maker.client.close()
})

t.test('a window that no longer reaches back, paging by count, the query throttle', async (t) => {
  const trader = await logOn(gateway, 'terminal', SMALL)
  for (let i = 0; i < 5; i++) await finished(trader, rejectedOrder(trader))
  t.same(reportsOf(trader.client).map(seqOf), [1, 2, 3, 4, 5], 'five reports')

  const unavailable = await resend(trader.client, 0)
  const answeredAtMs = Date.now()
  t.same(unavailable.reports, [], 'nothing is resent when the request reaches before the window')
  t.match(unavailable.complete, { afterReportSeq: 0, resent: 0, lastReportSeq: 5, oldestReportSeq: 5 - WINDOW + 1, reason: RejectReason.RESEND_UNAVAILABLE, more: false },
    `RESEND_UNAVAILABLE, naming the window (${WINDOW} reports)`)

  const firstPage = await resend(trader.client, 2)
  t.same(firstPage.reports.map(seqOf), [3, 4], `a page of ${PAGE} (maxResendReports)`)
  t.match(firstPage.complete, { resent: PAGE, more: true, lastReportSeq: 5 }, 'more: ask again')

  const throttled = await resend(trader.client, 4)
  const reject = throttled.envelopes.at(-1)!.reject!
  t.match(reject, { reason: RejectReason.THROTTLED_QUERY, limit: QUERIES_PER_SECOND, observed: QUERIES_PER_SECOND + 1 }, 'a third request within a second: THROTTLED_QUERY with the limit')
  t.same(throttled.reports, [], 'and nothing resent')

  await untilClock(answeredAtMs + 1000)
  const secondPage = await resend(trader.client, 4)
  t.same(secondPage.reports.map(seqOf), [5], 'once the window admits again, the rest')
  t.match(secondPage.complete, { resent: 1, more: false }, 'and no more')
  await trader.client.close()
})

t.test('a big resend is paged by bytes: half of maxBackpressureBytes per request', async (t) => {
  const trader = await logOn(gateway, 'hft', PAGED)
  const COUNT = 600
  const ids: number[] = []
  for (let i = 0; i < COUNT; i++) ids.push(rejectedOrder(trader))
  await finished(trader, ids.at(-1)!)
  t.equal(reportsOf(trader.client).length, COUNT, `${COUNT} reports`)

  let after = 0
  const got: number[] = []
  const pages: number[] = []
  for (;;) {
    const { reports, complete, envelopes } = await resend(trader.client, after)
    if (envelopes.at(-1)!.body === 'reject') {
      // Past the query throttle (5 per second by default): ask again once its window admits.
      await untilClock(Date.now() + 1000)
      continue
    }
    got.push(...reports.map(seqOf))
    pages.push(reports.length)
    t.equal(complete.resent, reports.length, `page ${pages.length}: ${reports.length} reports, as ResendComplete says`)
    if (!complete.more) break
    after = seqOf(reports.at(-1)!)
  }
  t.ok(pages.length > 1, `paged: ${pages.join(' + ')}`)
  t.ok(pages[0]! < COUNT, 'the first page stops at the byte budget, well before maxResendReports')
  t.same(got, Array.from({ length: COUNT }, (_, i) => i + 1), 'together the pages are every report, once, in order')
  await trader.client.close()
})
