// Resend across a crash, with real parts: the gateway as a process killed
// with SIGKILL mid-flow and started again on the same run directory, the
// exchange simulator as its own process behind a TCP proxy that can lose
// the gateway's new orders (journaled, sent, never received), real
// clients. The client records every report it received; after the
// restart it logs on again and asks after the last report_seq it has:
// every report it had not received arrives exactly once more
// (possible_duplicate), none is missing, the report_seqs are 1..last with
// no gap across the crash (the journal shows the same), and the orders
// the exchange never got are among them as REJECTED (EXCHANGE_UNAVAILABLE)
// from the restarted gateway's link logon. And a report held before the
// crash (a fill while its account had no session) is served after it.
import t from 'tap'
import { once } from 'node:events'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { journalDir } from '../config/config.js'
import { DEFAULT_CONFIG } from '../config/defaults.js'
import { readJournal } from '../journal/reader.js'
import { RecordKind } from '../journal/record-format.js'
import { decodeClientEnvelope } from '../protocol/client-codec.js'
import { ExecType, RejectReason, Side, TimeInForce, wireInt, type ClientEnvelope, type ExecutionReport, type LogonReply } from '../protocol/messages.js'
import type { gatehouse } from '../protocol/generated/gatehouse.js'
import { startExchangeSim } from './helpers/exchange-sim-process.js'
import { testConfig } from './helpers/gateway.js'
import { startGatewayProcess, type GatewayProcess } from './helpers/gateway-process.js'
import { LinkProxy } from './helpers/link-proxy.js'
import { PASSWORD, TEST_IDENTITY, tradingAccount } from './helpers/trading.js'

const TRADER = 'RC-TRADER'
const MAKER = 'RC-MAKER'
/** Away before the crash: its bid fills while no session of it is logged on. */
const AWAY = 'RC-AWAY'
const AWAY_BID = 3105
const RB = 'rb2605'
const BID = 3100
const LOST_ORDERS = 3
const BURST = 12

interface Session {
  client: GatehouseClient
  logon: LogonReply
}

async function logOn (gw: GatewayProcess, account: string): Promise<Session> {
  const client = await GatehouseClient.connect(gw.url('platform'))
  const logon = await client.logon(account, PASSWORD, TEST_IDENTITY)
  if (!logon.ok) throw new Error(`logon of ${account} failed: ${logon.text}`)
  return { client, logon }
}

const reportsIn = (envelopes: ClientEnvelope[]): ExecutionReport[] =>
  envelopes.filter((m) => m.body === 'executionReport').map((m) => m.executionReport as ExecutionReport)

const seqOf = (r: ExecutionReport): number => wireInt(r.reportSeq)

async function resend (client: GatehouseClient, after: number): Promise<{ reports: ExecutionReport[], complete: gatehouse.v1.ResendComplete }> {
  const from = client.received.length
  const done = client.nextNew((m) => m.body === 'resendComplete' || m.body === 'reject', 10_000)
  client.send({ resendRequest: { afterReportSeq: after } })
  const end = await done
  if (end.body !== 'resendComplete') throw new Error(`resend refused: ${end.reject!.text}`)
  return { reports: reportsIn(client.received.slice(from, client.received.indexOf(end))), complete: end.resendComplete as gatehouse.v1.ResendComplete }
}

t.test('after kill -9, a resend after the last report received serves exactly the missed ones, numbered without a gap', async (t) => {
  const dir = t.testdir()
  const sim = await startExchangeSim()
  t.teardown(() => sim.stop())
  const proxy = await LinkProxy.start(sim.port)
  t.teardown(() => proxy.close())
  const config = testConfig(proxy.port, {
    runDir: join(dir, 'run'),
    accounts: [...DEFAULT_CONFIG.accounts, tradingAccount(TRADER), tradingAccount(MAKER), tradingAccount(AWAY)],
    journal: { fsync: 'never' },
  })
  const configFile = join(dir, 'gateway.json')
  writeFileSync(configFile, JSON.stringify(config))
  const processes: GatewayProcess[] = []
  t.teardown(async () => { for (const p of processes) await p.kill9() })
  let gw = await startGatewayProcess(configFile)
  processes.push(gw)

  const trader = await logOn(gw, TRADER)
  const maker = await logOn(gw, MAKER)
  let nextId = 1
  /** Every NewOrder the trader sent: client_order_id and envelope seq. */
  const sent: Array<{ id: number, seq: number }> = []
  const buy = (price = BID): number => {
    const id = nextId++
    sent.push({ id, seq: trader.client.newOrder({ clientOrderId: id, instrument: RB, side: Side.BUY, price, quantityLots: 1 }) })
    return id
  }
  let makerId = 1
  const makerSell = (lots: number): number => {
    const id = makerId++
    maker.client.newOrder({ clientOrderId: id, instrument: RB, side: Side.SELL, price: BID, quantityLots: lots, timeInForce: TimeInForce.FAK })
    return id
  }

  // Trading the test waits through: bids acknowledged, some filled by the maker, one refused.
  for (let i = 0; i < 4; i++) t.equal((await trader.client.report(buy())).execType, ExecType.ACK, `bid ${i + 1} acknowledged`)
  const fill = makerSell(2)
  await maker.client.report(fill, ExecType.FILL)
  sent.push({ id: nextId, seq: trader.client.newOrder({ clientOrderId: nextId, instrument: 'xx9999', side: Side.BUY, price: 1, quantityLots: 1 }) })
  t.equal((await trader.client.report(nextId++)).execType, ExecType.REJECTED, 'an order refused by the gateway')

  // Another account rests a bid above the others and goes away; the
  // maker's sell fills it while no session of it is logged on: its FILL
  // is numbered and held, in the run the crash ends.
  const away = await logOn(gw, AWAY)
  away.client.newOrder({ clientOrderId: 1, instrument: RB, side: Side.BUY, price: AWAY_BID, quantityLots: 1 })
  t.match(await away.client.report(1), { execType: ExecType.ACK, reportSeq: 1 }, 'the away account\'s bid is report 1')
  await away.client.close()
  maker.client.newOrder({ clientOrderId: makerId, instrument: RB, side: Side.SELL, price: AWAY_BID, quantityLots: 1, timeInForce: TimeInForce.FAK })
  await maker.client.report(makerId++, ExecType.FILL)
  // The resting side's report follows the aggressor's on the link: once the
  // maker's next order is answered, the away account's FILL was handled.
  maker.client.newOrder({ clientOrderId: makerId, instrument: RB, side: Side.BUY, price: 3000, quantityLots: 1, timeInForce: TimeInForce.FAK })
  await maker.client.report(makerId++)

  // In flight at the kill: bids and a sell that fills some of them.
  for (let i = 0; i < BURST; i++) buy()
  makerSell(4)
  // Lost: from here on the link loses every new order after the gateway
  // journaled and sent it (some of the burst may be among them).
  proxy.dropNewOrders = true
  // Each at its own price below the burst's, so that the proxy's dropped
  // frames name them: the burst's tail may be dropped before them.
  const lostPrices = Array.from({ length: LOST_ORDERS }, (_, i) => BID - 1 - i)
  const lost = lostPrices.map((price) => buy(price))
  for (let frames = LOST_ORDERS; ; frames++) {
    const dropped = await proxy.framesDropped(frames)
    if (lostPrices.every((price) => dropped.some((e) => Number(e.newOrder?.price) === price))) break
  }
  const traderClosed = trader.client.isClosed ? Promise.resolve() : once(trader.client, 'close')
  await gw.kill9()
  await traderClosed
  await maker.client.close()
  proxy.dropNewOrders = false
  const before = reportsIn(trader.client.received)
  const lastSeen = before.length === 0 ? 0 : seqOf(before.at(-1)!)
  t.same(before.map(seqOf), Array.from({ length: before.length }, (_, i) => i + 1), `the trader received reports 1 to ${lastSeen} before the kill, in order`)

  gw = await startGatewayProcess(configFile)
  processes.push(gw)
  const recovered = gw.events.find((e) => e.event === 'recovered' && e.lane === 'platform')
  t.match(recovered, { tradingDay: /^\d{8}$/, problems: [] }, 'the platform lane recovered the trading day without problems')
  await gw.event((e) => e.event === 'link-state' && e.lane === 'platform' && e.state === 'up')
  // Barrier on the same link: the exchange's resent reports, and the lost
  // orders' rejects at link logon, come before this order's report.
  const barrier = await logOn(gw, MAKER)
  barrier.client.newOrder({ clientOrderId: 1000, instrument: RB, side: Side.BUY, price: 3000, quantityLots: 1, timeInForce: TimeInForce.FAK })
  await barrier.client.report(1000)

  const again = await logOn(gw, TRADER)
  const { reports: missed, complete } = await resend(again.client, lastSeen)
  const last = wireInt(complete.lastReportSeq)
  t.ok(last > lastSeen, `reports were produced after the last one received: ${lastSeen} received, ${last} in all`)
  t.same(missed.map(seqOf), Array.from({ length: last - lastSeen }, (_, i) => lastSeen + i + 1), `exactly ${lastSeen + 1} to ${last}, each once, in order`)
  t.ok(missed.every((r) => r.possibleDuplicate === true), 'each marked possible_duplicate')
  t.match(complete, { afterReportSeq: lastSeen, resent: last - lastSeen, more: false, reason: RejectReason.REASON_UNSPECIFIED }, 'ResendComplete')

  const all = [...before, ...missed]
  for (const id of lost) {
    t.match(all.filter((r) => wireInt(r.clientOrderId) === id), [{ execType: ExecType.REJECTED, reason: RejectReason.EXCHANGE_UNAVAILABLE }],
      `order ${id}, which the exchange never got, is REJECTED (EXCHANGE_UNAVAILABLE) once`)
  }
  const received = sent.filter((o) => o.seq <= wireInt(again.logon.lastClientSeq))
  t.ok(received.length >= sent.length - BURST - LOST_ORDERS, `the gateway had read ${received.length} of the ${sent.length} orders`)
  const unreported = received.filter((o) => !all.some((r) => wireInt(r.clientOrderId) === o.id))
  t.same(unreported, [], 'every order the gateway read has its reports, received or resent')
  t.same(new Set(all.map((r) => r.execId)).size, all.length, 'no exec_id twice')

  // From the start of the day: the same reports, as first sent.
  const everything = await resend(again.client, 0)
  t.same(everything.reports.map(seqOf), Array.from({ length: last }, (_, i) => i + 1), `after 0: 1 to ${last}`)
  const asFirstSent = (r: ExecutionReport): ExecutionReport => ({ ...r, possibleDuplicate: false }) as ExecutionReport
  t.same(everything.reports.slice(0, before.length).map(asFirstSent), before.map(asFirstSent), 'the reports received before the kill are resent unchanged')

  // The journal agrees: numbered once each, 1 to last, across both runs.
  const journaled: number[] = []
  for (const record of readJournal(journalDir(config))) {
    if ((record.kind !== RecordKind.CLIENT_OUT && record.kind !== RecordKind.REPORT_HELD) || record.account !== TRADER) continue
    const report = decodeClientEnvelope(record.payload).executionReport
    if (report != null && report.possibleDuplicate !== true) journaled.push(seqOf(report as ExecutionReport))
  }
  t.same(journaled, Array.from({ length: last }, (_, i) => i + 1), 'the journal holds reports 1 to last, each once, in order')

  // The report held in the run the crash ended is served after the restart.
  const awayAgain = await logOn(gw, AWAY)
  const held = await resend(awayAgain.client, 1)
  t.match(held.reports, [{ clientOrderId: 1, execType: ExecType.FILL, reportSeq: 2, possibleDuplicate: true }], 'the away account\'s FILL, held before the kill, is resent as report 2')
  t.equal(held.reports[0]?.execId, `${awayAgain.logon.tradingDay}-platform-${AWAY}-2`, 'with the exec_id it was numbered with')
  t.match(held.complete, { resent: 1, lastReportSeq: 2, oldestReportSeq: 1, more: false }, 'and nothing else')
  await awayAgain.client.close()

  // Live numbering continues.
  again.client.newOrder({ clientOrderId: 10_000, instrument: 'xx9999', side: Side.BUY, price: 1, quantityLots: 1 })
  t.equal(seqOf(await again.client.report(10_000)), last + 1, 'the next report is last + 1')
  await again.client.close()
  await barrier.client.close()
  await gw.stop()
})
