// The trading-day roll of the exchange simulator, end to end: the real
// `gatehouse exchange-sim` process gets SIGUSR2, expires the day's orders,
// rolls positions, logs every link out, and gives the new day at the next
// logon; positions and trade IDs travel over the real link. The in-process
// part checks the roll event and positionsOf().
import t from 'tap'
import {
  ExecType, OffsetFlag, RejectReason, Side, TimeInForce, wireInt,
} from '../protocol/messages.js'
import { startExchangeSim, type SimProcess } from './helpers/exchange-sim-process.js'
import { LinkClient } from './helpers/link-client.js'
import { ExchangeSimulator, nextCalendarDay, type SimEvent } from '../exchange-sim/exchange-sim.js'
import { ExchangeLink } from '../lane/exchange-link.js'
import type { LinkUpInfo } from '../lane/order-lifecycle.js'

/** Resolves with the first JSON event line the simulator prints (after its listening line) that has this event name. */
async function eventLine (sim: SimProcess, name: string): Promise<Record<string, unknown>> {
  for (;;) {
    const found = sim.stdoutLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((e) => e.event === name)
    if (found !== undefined) return found
    // The helper's line reader was attached first, so by this 'data' event the new lines are in stdoutLines.
    await new Promise<void>((resolve, reject) => {
      sim.child.stdout!.once('data', () => resolve())
      sim.child.once('exit', () => reject(new Error(`the simulator exited before printing a ${name} event`)))
    })
  }
}

t.test('SIGUSR2: GFD orders expire, positions roll, links are logged out and learn the new day at logon', async (t) => {
  const sim = await startExchangeSim(['--trading-day', '20260131'])
  t.teardown(() => sim.stop())
  const a = await LinkClient.connect(sim.port)
  const b = await LinkClient.connect(sim.port)
  t.match((await a.logon('gw-a')).logonReply, { ok: true, tradingDay: '20260131' })
  t.match((await b.logon('gw-b')).logonReply, { ok: true, tradingDay: '20260131' })

  // acct-a opens 3 long (2 fill against acct-b's opening sell); both fills carry one trade ID.
  a.newOrder({ orderId: 1, account: 'acct-a', side: Side.BUY, price: 3200, quantityLots: 3, offsetFlag: OffsetFlag.OFFSET_OPEN })
  t.match(await a.nextReport(), { seq: 1, report: { execType: ExecType.ACK, tradeId: '' } })
  b.newOrder({ orderId: 1, account: 'acct-b', side: Side.SELL, price: 3200, quantityLots: 2, offsetFlag: OffsetFlag.OFFSET_OPEN })
  t.match(await b.nextReport(), { report: { execType: ExecType.ACK } })
  const fillB = await b.nextReport()
  const fillA = await a.nextReport()
  t.match(fillB, { report: { execType: ExecType.FILL, lastLots: 2, tradeId: 'T20260131-1' } })
  t.match(fillA, { seq: 2, report: { execType: ExecType.PARTIAL_FILL, lastLots: 2, tradeId: 'T20260131-1' } }, 'both sides carry the same trade ID')

  // On SHFE acct-b's short is today's: a plain close is refused, naming available vs asked.
  b.newOrder({ orderId: 2, account: 'acct-b', side: Side.BUY, price: 3200, quantityLots: 2, offsetFlag: OffsetFlag.OFFSET_CLOSE })
  const refused = await b.nextReport()
  t.match(refused.report, { execType: ExecType.REJECTED, reason: RejectReason.CLOSE_EXCEEDS_POSITION })
  t.match(refused.report.text, /close of 2 lots asked, 0 available to close: acct-b short rb2605, yesterday's lots only/)
  // acct-a rests a close of today's lots; with its open remainder, two GFD orders work into the roll.
  a.newOrder({ orderId: 2, account: 'acct-a', side: Side.SELL, price: 3300, quantityLots: 1, offsetFlag: OffsetFlag.OFFSET_CLOSE_TODAY })
  t.match(await a.nextReport(), { seq: 3, report: { execType: ExecType.ACK } })

  sim.child.kill('SIGUSR2')
  const expired = [await a.nextReport(), await a.nextReport()]
  t.same(expired.map((r) => [r.seq, wireInt(r.report.orderId), ExecType[r.report.execType], r.report.leavesLots, r.report.text]), [
    [4, 1, 'CANCELLED', 0, 'end of trading day 20260131: GFD order expired'],
    [5, 2, 'CANCELLED', 0, 'end of trading day 20260131: GFD order expired'],
  ], 'working GFD orders expire, as at an exchange\'s end of day')
  for (const c of [a, b]) {
    const bye = await c.nextMessage()
    t.equal(bye.body, 'logout')
    t.equal(bye.logout!.text, 'trading day 20260131 ended; the trading day is now 20260201: log on again')
    await c.closed
  }
  t.match(await eventLine(sim, 'trading-day-roll'), { from: '20260131', to: '20260201', expired_orders: 2, links_logged_out: 2, accounts: 2 },
    'the roll is reported as an event line; the month turns')

  // Both log on again: the new day, and sequence numbers carry on.
  const a2 = await LinkClient.connect(sim.port)
  a2.nextSeq = a.nextSeq
  t.match((await a2.logon('gw-a', 6)).logonReply, { ok: true, tradingDay: '20260201', nextExpectedSeq: a.nextSeq })
  const b2 = await LinkClient.connect(sim.port)
  b2.nextSeq = b.nextSeq
  t.match((await b2.logon('gw-b', 4)).logonReply, { ok: true, tradingDay: '20260201', nextExpectedSeq: b.nextSeq })

  // The lots are yesterday's now: on SHFE a plain close takes them, and CLOSE_TODAY no longer can.
  a2.newOrder({ orderId: 3, account: 'acct-a', side: Side.SELL, price: 3200, quantityLots: 1, offsetFlag: OffsetFlag.OFFSET_CLOSE_TODAY })
  t.match(await a2.nextReport(), { seq: 6, report: { execType: ExecType.REJECTED, reason: RejectReason.CLOSE_EXCEEDS_POSITION } })
  b2.newOrder({ orderId: 3, account: 'acct-b', side: Side.BUY, price: 3200, quantityLots: 2, offsetFlag: OffsetFlag.OFFSET_CLOSE })
  t.match(await b2.nextReport(), { seq: 4, report: { execType: ExecType.ACK } })
  a2.newOrder({ orderId: 4, account: 'acct-a', side: Side.SELL, price: 3200, quantityLots: 2, offsetFlag: OffsetFlag.OFFSET_CLOSE, timeInForce: TimeInForce.FAK })
  t.match(await a2.nextReport(), { seq: 7, report: { execType: ExecType.ACK } })
  t.match(await a2.nextReport(), { seq: 8, report: { execType: ExecType.FILL, lastLots: 2, tradeId: 'T20260201-1' } }, 'trade IDs restart with the day')
  t.match(await b2.nextReport(), { seq: 5, report: { execType: ExecType.FILL, lastLots: 2, tradeId: 'T20260201-1' } })
  a2.newOrder({ orderId: 5, account: 'acct-a', side: Side.SELL, price: 3200, quantityLots: 1, offsetFlag: OffsetFlag.OFFSET_CLOSE })
  t.match(await a2.nextReport(), { report: { reason: RejectReason.CLOSE_EXCEEDS_POSITION, text: /1 lots asked, 0 available/ } }, 'acct-a is flat')
})

t.test('in process: rollTradingDay() reports the roll, positionsOf() shows the book, a connection not logged on stays', async (t) => {
  const events: SimEvent[] = []
  const sim = new ExchangeSimulator({ tradingDay: '20261231', onEvent: (e) => { events.push(e) } })
  const { port } = await sim.start()
  t.teardown(() => sim.stop())
  const c = await LinkClient.connect(port)
  await c.logon('gw-c')
  const idle = await LinkClient.connect(port) // connected, not logged on yet
  c.newOrder({ orderId: 1, account: 'x', side: Side.SELL, price: 3200, quantityLots: 2, offsetFlag: OffsetFlag.OFFSET_OPEN })
  c.newOrder({ orderId: 2, account: 'y', side: Side.BUY, price: 3200, quantityLots: 2, offsetFlag: OffsetFlag.OFFSET_OPEN })
  for (let i = 0; i < 4; i++) await c.nextReport()
  t.same(sim.positionsOf('y'), [{
    instrument: 'rb2605', longToday: 2, longYesterday: 0, shortToday: 0, shortYesterday: 0,
    longTodayFrozen: 0, longYesterdayFrozen: 0, shortTodayFrozen: 0, shortYesterdayFrozen: 0,
  }])
  t.equal(sim.rollTradingDay(), '20270101', 'the year turns')
  t.equal(sim.tradingDay, '20270101')
  t.match(sim.positionsOf('y'), [{ instrument: 'rb2605', longToday: 0, longYesterday: 2 }])
  t.match(sim.positionsOf('x'), [{ instrument: 'rb2605', shortToday: 0, shortYesterday: 2 }])
  t.match(events.find((e) => e.event === 'trading-day-roll'), { from: '20261231', to: '20270101', expired_orders: 0, links_logged_out: 1, accounts: 2 })
  t.equal((await c.nextMessage()).body, 'logout')
  t.match((await idle.logon('gw-idle')).logonReply, { ok: true, tradingDay: '20270101' }, 'a connection that had not logged on is kept and gets the new day')
})

t.test('the gateway\'s own exchange link, logged out by the roll, reconnects and learns the new day', async (t) => {
  const sim = new ExchangeSimulator({ tradingDay: '20260105' })
  const { port } = await sim.start()
  t.teardown(() => sim.stop())
  const ups: LinkUpInfo[] = []
  const downs: string[] = []
  let onUp: (() => void) | null = null
  const link = new ExchangeLink({
    host: '127.0.0.1', port, memberId: '0188', sessionName: 'gw1-roll', heartbeatIntervalMs: 1000, reconnectDelayMs: 10, maxReconnectDelayMs: 50,
  }, {
    onLinkUp: (info) => { ups.push(info); onUp?.() },
    onLinkDown: (reason) => { downs.push(reason) },
    onReport: () => {},
    onInstrumentUpdate: () => {},
    onChunkStart: () => {},
    onChunkEnd: () => {},
  })
  t.teardown(() => link.close())
  const linkUp = (): Promise<void> => new Promise((resolve) => { onUp = resolve })
  let up = linkUp()
  link.connect()
  await up
  t.equal(ups[0]!.tradingDay, '20260105')
  up = linkUp()
  sim.rollTradingDay()
  await up
  t.equal(ups.length, 2, 'logged on again')
  t.equal(ups[1]!.tradingDay, '20260106', 'with the new trading day')
  t.equal(downs.length, 1, 'one link-down, for the roll\'s logout')
})

t.test('nextCalendarDay: the next date, weekends not skipped; anything but a real date is refused', async (t) => {
  t.equal(nextCalendarDay('20260102'), '20260103', 'Friday to Saturday')
  t.equal(nextCalendarDay('20280228'), '20280229', 'leap day')
  t.equal(nextCalendarDay('20270228'), '20270301')
  for (const bad of ['2026-01-05', '20260230', '', '202601051']) {
    t.throws(() => nextCalendarDay(bad), RangeError, JSON.stringify(bad))
  }
  t.throws(() => new ExchangeSimulator({ tradingDay: '20261301' }), /trading day must be a real date as YYYYMMDD, got "20261301"/,
    'the simulator refuses a day it could not roll')
})
