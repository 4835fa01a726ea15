// Positions carried across trading days and restarts. Recovery reads only
// the newest trading day's segments, so what was held before that day
// must come from the day itself: the lane whose link logon rolled the
// shared day journals the positions carried into it (POSITIONS_CARRIED),
// and recovery adds them back. Here: trade on day D, the exchange rolls
// to D+1 (its links log out; the gateway's reconnect and learn the new
// day), trade again, kill -9 during D+1 and start again: the books (held
// and frozen, long and short, today's and yesterday's), the working-open
// lots and everything else in the admin counters are exactly what they
// were before the kill. Then a gateway that was down across the roll
// rolls at its first link logon, and journals the same.
//
// Real parts: the gateway as a process killed with SIGKILL and started
// again on the same run directory, the exchange simulator as a process
// (SIGUSR2 rolls its day; its positions roll with it), real clients, and
// the journal tools reading the record.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { spawnSync } from 'node:child_process'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { DEFAULT_CONFIG } from '../config/defaults.js'
import { journalDir, type GatewayConfig } from '../config/config.js'
import { ExecType, OffsetFlag, RejectReason, Side, TimeInForce, type ExecutionReport } from '../protocol/messages.js'
import type { AccountCounters, InstrumentCounters } from '../checks/risk-control.js'
import { startExchangeSim, type SimProcess } from './helpers/exchange-sim-process.js'
import { testConfig } from './helpers/gateway.js'
import { GATEWAY_CLI, startGatewayProcess, type GatewayProcess } from './helpers/gateway-process.js'
import { PASSWORD, tradingAccount, TEST_IDENTITY } from './helpers/trading.js'

const DAY = '20261207'
const NEXT_DAY = '20261208'
const THIRD_DAY = '20261209'
const HOLDER = 'CARRY-H'
const OTHER = 'CARRY-O'
const RB = 'rb2605' // SHFE: a plain close takes yesterday's lots only
const M = 'm2605' // DCE: today's first, then yesterday's

interface Session { client: GatehouseClient }

async function logOn (gw: GatewayProcess, account: string): Promise<Session> {
  const client = await GatehouseClient.connect(gw.url('platform'))
  const logon = await client.logon(account, PASSWORD, TEST_IDENTITY)
  if (!logon.ok) throw new Error(`logon of ${account} failed: ${logon.text}`)
  return { client }
}

/** Client order IDs unique across the file: a new session must not reuse the ID of an order it takes over. */
let nextId = 1

interface Ask { instrument: string, side: number, price: number, lots: number, offsetFlag?: number, fak?: boolean }

/** Sends an order; resolves with its first report (ACK or REJECTED). */
async function order (s: Session, ask: Ask): Promise<{ id: number, report: ExecutionReport }> {
  const id = nextId++
  s.client.newOrder(Object.assign({
    clientOrderId: id, instrument: ask.instrument, side: ask.side, price: ask.price, quantityLots: ask.lots,
    timeInForce: ask.fak === true ? TimeInForce.FAK : TimeInForce.GFD,
  }, { offsetFlag: ask.offsetFlag ?? OffsetFlag.OFFSET_FLAG_UNSPECIFIED }))
  return { id, report: await s.client.report(id) }
}

const counters = async (gw: GatewayProcess, account: string): Promise<AccountCounters> => await gw.ops(`/accounts/${account}/counters`) as AccountCounters
const book = (c: AccountCounters, symbol: string): InstrumentCounters | undefined => c.instruments.find((i) => i.instrument === symbol)

t.test('positions carried into a new day survive a kill -9 during it, exactly', async (t) => {
  const dir = t.testdir()
  const runDir = join(dir, 'run')
  const configFile = join(dir, 'gateway.json')
  const processes: Array<GatewayProcess | SimProcess> = []
  t.teardown(async () => {
    for (const p of processes.reverse()) await ('kill9' in p ? p.kill9() : p.stop())
  })
  let config: GatewayConfig | null = null
  const start = async (sim: SimProcess): Promise<GatewayProcess> => {
    config = testConfig(sim.port, {
      runDir,
      accounts: [...DEFAULT_CONFIG.accounts, tradingAccount(HOLDER), tradingAccount(OTHER)],
      journal: { fsync: 'never' },
    })
    writeFileSync(configFile, JSON.stringify(config))
    const gw = await startGatewayProcess(configFile)
    processes.push(gw)
    return gw
  }
  const trade = async (seller: Session, buyer: Session, ask: Omit<Ask, 'side'>, sellerOffset?: number, buyerOffset?: number): Promise<void> => {
    const resting = await order(seller, { ...ask, side: Side.SELL, offsetFlag: sellerOffset })
    t.equal(resting.report.execType, ExecType.ACK, `${ask.lots} ${ask.instrument} offered`)
    const taken = await order(buyer, { ...ask, side: Side.BUY, offsetFlag: buyerOffset, fak: true })
    t.equal(taken.report.execType, ExecType.ACK, `${ask.lots} ${ask.instrument} taken`)
    t.equal((await buyer.client.report(taken.id, ExecType.FILL)).execType, ExecType.FILL)
    t.equal((await seller.client.report(resting.id, ExecType.FILL)).execType, ExecType.FILL)
  }

  // ---- day D: HOLDER goes long 5 rb2605 and short 3 m2605, OTHER the reverse ----
  const sim = await startExchangeSim(['--trading-day', DAY])
  processes.push(sim)
  let gw = await start(sim)
  let holder = await logOn(gw, HOLDER)
  let other = await logOn(gw, OTHER)
  await trade(other, holder, { instrument: RB, price: 3200, lots: 5 })
  await trade(holder, other, { instrument: M, price: 2950, lots: 3 })
  t.match(book(await counters(gw, HOLDER), RB), { longTodayLots: 5, longYesterdayLots: 0 })

  // ---- the exchange rolls to D+1: the links reconnect, the first one up rolls the gateway's day ----
  const rolledUp = gw.event((e) => e.event === 'link-state' && e.lane === 'platform' && e.state === 'up' && String(e.detail).includes(NEXT_DAY))
  sim.child.kill('SIGUSR2')
  await rolledUp
  const rolled = await counters(gw, HOLDER)
  t.match(book(rolled, RB), { longTodayLots: 0, longYesterdayLots: 5, openedLotsToday: 0 }, 'rb2605: the 5 lots are yesterday\'s')
  t.match(book(rolled, M), { shortTodayLots: 0, shortYesterdayLots: 3 }, 'm2605: the 3 short lots too')
  t.match(book(await counters(gw, OTHER), RB), { shortYesterdayLots: 5 })

  const search = spawnSync(process.execPath, [GATEWAY_CLI, 'journal', 'search', journalDir(config!), '--kind', 'positions-carried', '--json'], { encoding: 'utf8' })
  t.equal(search.status, 0, `journal search reads the record: ${search.stderr}`)
  const found = search.stdout.trim().split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { body: { tradingDay: string, positions: unknown[] } })
  t.equal(found.length, 1, 'one positions-carried record: only the lane that rolled writes it')
  t.match(found[0]?.body, {
    tradingDay: NEXT_DAY,
    positions: [
      { account: HOLDER, instrument: RB, exchange: 'SHFE', longYesterdayLots: 5, shortYesterdayLots: 0 },
      { account: HOLDER, instrument: M, exchange: 'DCE', longYesterdayLots: 0, shortYesterdayLots: 3 },
      { account: OTHER, instrument: RB, exchange: 'SHFE', longYesterdayLots: 0, shortYesterdayLots: 5 },
      { account: OTHER, instrument: M, exchange: 'DCE', longYesterdayLots: 3, shortYesterdayLots: 0 },
    ],
  }, 'it lists every position carried, by account name and symbol')

  // Trade during D+1: 2 more rb2605 today, a close of today's lots and an
  // opening buy left working, and the gateway's own view of what may close.
  // (The roll logged the sessions' links out, not the sessions.)
  await trade(other, holder, { instrument: RB, price: 3210, lots: 2 })
  const closeToday = await order(holder, { instrument: RB, side: Side.SELL, price: 3350, lots: 1, offsetFlag: OffsetFlag.OFFSET_CLOSE_TODAY })
  t.equal(closeToday.report.execType, ExecType.ACK, 'a close of one of today\'s lots rests')
  const bid = await order(holder, { instrument: RB, side: Side.BUY, price: 3050, lots: 2 })
  t.equal(bid.report.execType, ExecType.ACK, 'an opening buy rests')
  const otherBid = await order(other, { instrument: M, side: Side.BUY, price: 2900, lots: 1 })
  t.equal(otherBid.report.execType, ExecType.ACK, 'OTHER bids m2605')
  const refusedClose = async (what: string): Promise<void> => {
    const tooMany = await order(holder, { instrument: RB, side: Side.SELL, price: 3400, lots: 6, offsetFlag: OffsetFlag.OFFSET_CLOSE })
    t.match(tooMany.report, { execType: ExecType.REJECTED, reason: RejectReason.CLOSE_EXCEEDS_POSITION, limit: 5, observed: 6 }, `${what}: a plain close on SHFE may take the 5 of yesterday, not 6`)
  }
  await refusedClose('before the kill')
  const before = await counters(gw, HOLDER)
  const otherBefore = await counters(gw, OTHER)
  t.match(book(before, RB), { longTodayLots: 2, longYesterdayLots: 5, longTodayFrozenLots: 1, longYesterdayFrozenLots: 0, workingOpenLongLots: 2, openedLotsToday: 2 })
  t.match(book(before, M), { shortYesterdayLots: 3 })
  t.match(before, { openOrders: 2 })

  // ---- kill -9 during D+1 and start again: recovery reads D+1 only ----
  await gw.kill9()
  gw = await start(sim)
  const after = await counters(gw, HOLDER)
  t.same(after, before, 'HOLDER: every counter, books and frozen lots included, exactly as before the kill')
  t.same(await counters(gw, OTHER), otherBefore, 'OTHER too')
  holder = await logOn(gw, HOLDER)
  await refusedClose('after the restart')
  const all = await order(holder, { instrument: RB, side: Side.SELL, price: 3400, lots: 5, offsetFlag: OffsetFlag.OFFSET_CLOSE })
  t.equal(all.report.execType, ExecType.ACK, 'the 5 carried lots may still be closed (the exchange agrees)')
  t.match(book(await counters(gw, HOLDER), RB), { longYesterdayFrozenLots: 5, longTodayFrozenLots: 1 })
  // Nothing left working (the sessions after the restart took the orders over).
  other = await logOn(gw, OTHER)
  for (const [session, id] of [[holder, closeToday.id], [holder, bid.id], [holder, all.id], [other, otherBid.id]] as const) {
    session.client.cancel(id)
    t.equal((await session.client.report(id, ExecType.CANCELLED)).execType, ExecType.CANCELLED)
  }
  await Promise.all([holder.client.close(), other.client.close()])

  // ---- down across the next roll: the first link logon rolls, and journals the carried positions ----
  await gw.kill9()
  sim.child.kill('SIGUSR2')
  gw = await start(sim)
  const third = await counters(gw, HOLDER)
  t.match(book(third, RB), { longTodayLots: 0, longYesterdayLots: 7, longTodayFrozenLots: 0, longYesterdayFrozenLots: 0, workingOpenLongLots: 0 },
    'recovered D+1, then rolled at the link logon: 7 long, all yesterday\'s')
  const searchThird = spawnSync(process.execPath, [GATEWAY_CLI, 'journal', 'search', journalDir(config!), '--kind', 'positions-carried', '--trading-day', THIRD_DAY, '--json'], { encoding: 'utf8' })
  t.match(JSON.parse(searchThird.stdout.trim().split('\n')[0] ?? '{}'), { body: { tradingDay: THIRD_DAY, positions: [{ account: HOLDER, instrument: RB, longYesterdayLots: 7 }] } }, 'journaled for the third day')
  await gw.kill9()
  gw = await start(sim)
  t.same(await counters(gw, HOLDER), third, 'and a restart during it recovers them')
})
