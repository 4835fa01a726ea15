// Recovery at start (lane/recovery.ts) in the cases a random kill
// under load may never hit, each made to happen on purpose, with real
// parts: the gateway as a process killed with SIGKILL and started again on
// the same run directory, the exchange simulator as its own process (its
// book outlives the gateway), real clients, and another member's link
// session (ExchangeProbe) trading against the gateway's orders while the
// gateway is down.
//
// The simulator delays every report (--fault-delay-ms), so an order or a
// cancel can be known to have left the gateway (an answer to a later
// message of the same client came back) while its ACK or CANCELLED cannot
// yet have been journaled: the kill lands between the two.
//
// Also: cancel-on-disconnect of the sessions a crash disconnected is
// carried out at restart, the self-trade monitor survives, and two lane
// threads replaying at once keep each other's daily counts (the last with
// the risk engine in two real threads, as the lanes run it).
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { once } from 'node:events'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { DEFAULT_CONFIG } from '../config/defaults.js'
import { resolveConfig } from '../config/load.js'
import { createRiskControl } from '../config/risk-config.js'
import { ExecType, RejectReason, Side, wireInt, type LogonReply } from '../protocol/messages.js'
import { startExchangeSim } from './helpers/exchange-sim-process.js'
import { ExchangeProbe } from './helpers/exchange-probe.js'
import { testConfig } from './helpers/gateway.js'
import { startGatewayProcess, type GatewayProcess } from './helpers/gateway-process.js'
import { PASSWORD, tradingAccount, TEST_IDENTITY } from './helpers/trading.js'

const TRADER = 'RECOV-T'
const OTHER = 'RECOV-O'
const RB = 'rb2605'
const M = 'm2605'
/** Reports leave the simulator this long after the event: longer than a client round trip plus a kill. */
const REPORT_DELAY_MS = 250
/** TRADER's long limit on rb2605: exactly reached before the first kill. */
const MAX_LONG_LOTS = 13
/** rb2605: 10 per lot, 7% margin: price × 70 fen per lot. */
const rbMarginFen = (price: number): number => price * 70

interface InstrumentCounters {
  instrument: string
  longTodayLots: number
  workingBuyLots: number
  workingBuyOrders: number
  tradedLotsToday: number
  cancelsToday: number
  selfTradesToday: number
}
interface Counters {
  openOrders: number
  openLots: number
  reservedFen: number
  tradedLotsToday: number
  actionsToday: number
  instruments: InstrumentCounters[]
}

async function logOn (gw: GatewayProcess, account: string): Promise<{ client: GatehouseClient, logon: LogonReply }> {
  const client = await GatehouseClient.connect(gw.url('platform'))
  const logon = await client.logon(account, PASSWORD, TEST_IDENTITY)
  if (!logon.ok) throw new Error(`logon of ${account} failed: ${logon.text}`)
  return { client, logon }
}

const counters = async (gw: GatewayProcess, account: string): Promise<Counters> => await gw.ops(`/accounts/${account}/counters`) as Counters
const instrument = (c: Counters, symbol: string): InstrumentCounters | undefined => c.instruments.find((i) => i.instrument === symbol)

t.test('partial fills, fills and cancels the exchange reports while the gateway is down; an ACK and a CANCELLED not journaled before kill -9', async (t) => {
  const dir = t.testdir()
  const sim = await startExchangeSim(['--fault-delay-ms', String(REPORT_DELAY_MS)])
  t.teardown(() => sim.stop())
  const probe = await ExchangeProbe.connect('127.0.0.1', sim.port, 'recovery-probe')
  t.teardown(() => probe.close())
  const config = testConfig(sim.port, {
    runDir: join(dir, 'run'),
    accounts: [...DEFAULT_CONFIG.accounts, tradingAccount(TRADER), tradingAccount(OTHER)],
    risk: {
      limits: {
        accounts: { [TRADER]: { maxLongLots: MAX_LONG_LOTS } },
        // One GFD cancel on m2605 and the contract's cancel monitor blocks.
        accountInstruments: { [TRADER]: { [M]: { cancelsWarn: 1, cancelsBlock: 1 } } },
      },
    },
    journal: { fsync: 'never' },
  })
  const configFile = join(dir, 'gateway.json')
  writeFileSync(configFile, JSON.stringify(config))
  let gw = await startGatewayProcess(configFile)
  const processes = [gw]
  t.teardown(async () => { for (const p of processes) await p.kill9() })

  // ---- before the first kill ----
  const first = await logOn(gw, TRADER)
  const c = first.client
  const buy = async (id: number, symbol: string, price: number, lots: number): Promise<void> => {
    c.newOrder({ clientOrderId: id, instrument: symbol, side: Side.BUY, price, quantityLots: lots })
    t.equal((await c.report(id)).execType, ExecType.ACK, `order ${id}: ${lots} ${symbol} @${price} is working`)
  }
  // A partly filled now, the rest while the gateway is down; B partly
  // filled while it is down; C untouched; M cancelled before the kill,
  // its CANCELLED after it.
  const A = 1; const B = 2; const C = 3; const MO = 4; const E = 5; const OVER = 6
  await buy(A, RB, 3101, 5)
  await buy(B, RB, 3100, 4)
  await buy(C, RB, 3099, 3)
  await buy(MO, M, 2950, 2)
  const partial = await probe.fak({ account: 'PROBE', instrument: RB, side: Side.SELL, price: 3101, quantityLots: 2 })
  t.equal(partial.filledLots, 2, 'another member fills 2 of A')
  t.match(await c.report(A, ExecType.PARTIAL_FILL), { cumulativeLots: 2, leavesLots: 3 }, 'the gateway journaled and reported A\'s partial fill')

  // E takes the long side exactly to the limit: net 2 + working 3+4+3 + 1.
  c.cancel(MO)
  c.newOrder({ clientOrderId: E, instrument: RB, side: Side.BUY, price: 3098, quantityLots: 1 })
  c.newOrder({ clientOrderId: OVER, instrument: RB, side: Side.BUY, price: 3098, quantityLots: 1 })
  t.match(await c.report(OVER), { execType: ExecType.REJECTED, reason: RejectReason.POSITION_LIMIT_LONG, limit: MAX_LONG_LOTS, observed: MAX_LONG_LOTS + 1 },
    'at the long limit before the kill: the next buy is refused')
  // A heartbeat sent now is read in a later event-loop turn than the
  // cancel and E, so its answer means the link flush of their turn (which
  // may run just after the client flush that carried the refusal) has
  // written them to the exchange. Their CANCELLED and ACK are still held
  // by the simulator's delay.
  const lastSeqBeforeKill = c.send({ heartbeat: { testId: 77 } })
  await c.next((m) => m.body === 'heartbeat' && wireInt(m.heartbeat!.testId) === 77)
  await gw.kill9()
  const reportsOf = (id: number): unknown[] => c.received.filter((m) => m.body === 'executionReport' && wireInt(m.executionReport!.clientOrderId) === id).map((m) => m.executionReport!.execType)
  t.same([reportsOf(E), reportsOf(MO)], [[], [ExecType.ACK]], 'the kill came before E\'s ACK and M\'s CANCELLED')
  await c.close()

  // ---- while the gateway is down ----
  const whileDown = await probe.fak({ account: 'PROBE', instrument: RB, side: Side.SELL, price: 3100, quantityLots: 4 })
  t.same(whileDown.fills, [{ price: 3101, lots: 3 }, { price: 3100, lots: 1 }], 'while it is down, A fills completely and B partly (3 of 4 left)')

  // ---- first restart ----
  gw = await startGatewayProcess(configFile)
  processes.push(gw)
  const recovered = gw.events.find((e) => e.event === 'recovered' && e.lane === 'platform')
  t.match(recovered, { problems: [], workingOrders: 5 }, 'the journal shows A, B, C, M and E working at the kill')
  // A barrier on the same link: the simulator resends the missed reports
  // at logon, before anything it answers afterwards.
  const other = await logOn(gw, OTHER)
  other.client.newOrder({ clientOrderId: 1, instrument: RB, side: Side.BUY, price: 3000, quantityLots: 1 })
  t.equal((await other.client.report(1)).execType, ExecType.ACK, 'another account\'s order is acknowledged after the resend')

  const afterResend = await counters(gw, TRADER)
  t.match(afterResend, {
    // B (3 left), C (3), E (1): the exchange's working orders.
    openOrders: 3,
    openLots: 7,
    reservedFen: 3 * rbMarginFen(3100) + 3 * rbMarginFen(3099) + rbMarginFen(3098),
    tradedLotsToday: 2 + 4,
    // Five orders and one cancel sent; the refused order is no action.
    actionsToday: 6,
  }, 'after the resend: working orders, lots, reservation and daily counters match the exchange')
  t.match(instrument(afterResend, RB), { longTodayLots: 6, workingBuyLots: 7, workingBuyOrders: 3, tradedLotsToday: 6, cancelsToday: 0 }, 'rb2605: position and working lots match the exchange')
  t.match(instrument(afterResend, M), { workingBuyOrders: 0, workingBuyLots: 0, cancelsToday: 1 }, 'm2605: the CANCELLED received after the restart counts for the cancel monitor')

  const second = await logOn(gw, TRADER)
  t.equal(second.logon.resumedOrders, 3, 'the next session takes over B, C and E')
  t.equal(wireInt(second.logon.lastClientSeq), lastSeqBeforeKill, 'last_client_seq is the last message the killed gateway recorded')
  const s = second.client
  s.newOrder({ clientOrderId: 101, instrument: RB, side: Side.BUY, price: 3098, quantityLots: 1 })
  t.match(await s.report(101), { execType: ExecType.REJECTED, reason: RejectReason.POSITION_LIMIT_LONG, limit: MAX_LONG_LOTS, observed: MAX_LONG_LOTS + 1 },
    'the long limit still holds exactly after the restart (position 6 + working 7)')
  s.newOrder({ clientOrderId: 102, instrument: M, side: Side.BUY, price: 2950, quantityLots: 1 })
  t.match(await s.report(102), { execType: ExecType.REJECTED, reason: RejectReason.CANCEL_LIMIT, limit: 1, observed: 1 },
    'the m2605 cancel monitor blocks after the restart')
  for (const id of [B, C, E]) {
    s.cancel(id)
    t.match(await s.report(id, ExecType.CANCELLED), { cumulativeLots: id === B ? 1 : 0 }, `order ${id} from before the kill cancels by its client order ID`)
  }
  const quiet = await counters(gw, TRADER)
  t.match(quiet, { openOrders: 0, openLots: 0, reservedFen: 0, tradedLotsToday: 6, actionsToday: 9 }, 'nothing left reserved once they are cancelled')
  t.match(instrument(quiet, RB), { longTodayLots: 6, cancelsToday: 3 }, 'three rb2605 cancels counted')

  // ---- a quiet kill: everything survives a second replay, resends included ----
  await gw.kill9()
  await s.close()
  await other.client.close()
  gw = await startGatewayProcess(configFile)
  processes.push(gw)
  const third = await logOn(gw, TRADER)
  t.same(await counters(gw, TRADER), quiet, 'after a second kill the counters are those before it (the reports resent in the first restart replay once)')
  t.equal(third.logon.resumedOrders, 0, 'nothing to take over')
  third.client.newOrder({ clientOrderId: 201, instrument: M, side: Side.BUY, price: 2950, quantityLots: 1 })
  t.match(await third.client.report(201), { execType: ExecType.REJECTED, reason: RejectReason.CANCEL_LIMIT, limit: 1, observed: 1 }, 'the m2605 cancel monitor still blocks')
  // The exchange's truth: none of TRADER's orders rests (OTHER's bid at 3000 does).
  const sweep = await probe.fak({ account: 'PROBE', instrument: RB, side: Side.SELL, price: 3001, quantityLots: 20 })
  t.equal(sweep.filledLots, 0, 'the simulator\'s book holds none of the account\'s orders either')
  await third.client.close()
})

t.test('cancel-on-disconnect survives kill -9: the sessions the crash disconnected get their working orders cancelled at restart', async (t) => {
  const dir = t.testdir()
  const sim = await startExchangeSim()
  t.teardown(() => sim.stop())
  const probe = await ExchangeProbe.connect('127.0.0.1', sim.port, 'cod-probe')
  t.teardown(() => probe.close())
  const SESSION_COD = 'COD-S'
  const ACCOUNT_COD = 'COD-A'
  const KEEPS = 'COD-K'
  const SELF = 'SELF-T'
  const TAKEOVER = 'COD-T'
  const config = testConfig(sim.port, {
    runDir: join(dir, 'run'),
    accounts: [...DEFAULT_CONFIG.accounts, tradingAccount(SESSION_COD), tradingAccount(ACCOUNT_COD), tradingAccount(KEEPS), tradingAccount(SELF), tradingAccount(TAKEOVER)],
    risk: {
      limits: {
        accounts: { [ACCOUNT_COD]: { cancelOnDisconnect: true }, [SELF]: { selfTradesWarn: 2, selfTradesBlock: 2 } },
        accountInstruments: { [SELF]: { [M]: { selfMatchMode: 'cancel-resting' } } },
      },
    },
    journal: { fsync: 'never' },
  })
  const configFile = join(dir, 'gateway.json')
  writeFileSync(configFile, JSON.stringify(config))
  let gw = await startGatewayProcess(configFile)
  const processes = [gw]
  t.teardown(async () => { for (const p of processes) await p.kill9() })

  // Three accounts rest a bid each at a different price: one asked for
  // cancel-on-disconnect at Logon, one has it as a limit, one has neither.
  const traders = [
    { account: SESSION_COD, price: 3010, cancelOnDisconnect: true },
    { account: ACCOUNT_COD, price: 3011, cancelOnDisconnect: false },
    { account: KEEPS, price: 3012, cancelOnDisconnect: false },
  ]
  const clients: GatehouseClient[] = []
  for (const trader of traders) {
    const client = await GatehouseClient.connect(gw.url('platform'))
    t.ok((await client.logon(trader.account, PASSWORD, { ...TEST_IDENTITY, cancelOnDisconnect: trader.cancelOnDisconnect })).ok, `${trader.account} logs on`)
    client.newOrder({ clientOrderId: 1, instrument: RB, side: Side.BUY, price: trader.price, quantityLots: 2 })
    t.equal((await client.report(1)).execType, ExecType.ACK, `${trader.account} rests 2 lots @${trader.price}`)
    clients.push(client)
  }
  // A session without cancel-on-disconnect rests an order and leaves; the
  // next one asks for it and takes the order over: its disconnect (the
  // crash) must cancel that order too.
  const leaves = await logOn(gw, TAKEOVER)
  leaves.client.newOrder({ clientOrderId: 1, instrument: RB, side: Side.BUY, price: 3009, quantityLots: 2 })
  t.equal((await leaves.client.report(1)).execType, ExecType.ACK, `${TAKEOVER} rests 2 lots @3009`)
  await leaves.client.logout()
  const takes = await GatehouseClient.connect(gw.url('platform'))
  t.match(await takes.logon(TAKEOVER, PASSWORD, { ...TEST_IDENTITY, cancelOnDisconnect: true }), { ok: true, resumedOrders: 1 }, 'its next session, with cancel-on-disconnect, takes the order over')
  clients.push(takes)

  // The self-trade monitor: one prevented self-match on rb2605 (the
  // incoming order refused), one on m2605 (the resting order cancelled
  // first, then the incoming one sent).
  const self = await logOn(gw, SELF)
  const order = async (id: number, symbol: string, side: number, price: number): Promise<number | null | undefined> => {
    self.client.newOrder({ clientOrderId: id, instrument: symbol, side, price, quantityLots: 1 })
    const report = await self.client.report(id)
    return report.execType === ExecType.REJECTED ? report.reason : report.execType
  }
  t.equal(await order(1, RB, Side.SELL, 3300), ExecType.ACK, 'SELF rests a sell on rb2605')
  t.equal(await order(2, RB, Side.BUY, 3300), RejectReason.SELF_MATCH_PREVENTED, 'a crossing buy is refused (reject-incoming)')
  t.equal(await order(3, M, Side.SELL, 2960), ExecType.ACK, 'SELF rests a sell on m2605')
  t.equal(await order(4, M, Side.BUY, 2960), ExecType.ACK, 'a crossing buy goes out after the resting sell is cancelled (cancel-resting)')
  t.equal((await self.client.report(3, ExecType.CANCELLED)).execType, ExecType.CANCELLED, 'the resting sell is cancelled')
  const selfBefore = await counters(gw, SELF)
  t.match([instrument(selfBefore, RB), instrument(selfBefore, M)], [{ selfTradesToday: 1 }, { selfTradesToday: 1, cancelsToday: 1 }], 'one prevented self-trade per contract')

  await gw.kill9()
  for (const client of [...clients, self.client]) await client.close()

  gw = await startGatewayProcess(configFile)
  processes.push(gw)
  // Barrier on the same link: anything the gateway sent at link-up is
  // answered before this order's ACK.
  const keeps = await logOn(gw, KEEPS)
  t.equal(keeps.logon.resumedOrders, 1, 'the account without cancel-on-disconnect takes over its order')
  keeps.client.newOrder({ clientOrderId: 2, instrument: RB, side: Side.BUY, price: 3000, quantityLots: 1 })
  t.equal((await keeps.client.report(2)).execType, ExecType.ACK, 'a new order is acknowledged')

  t.match(await counters(gw, SESSION_COD), { openOrders: 0, openLots: 0, reservedFen: 0, actionsToday: 1 }, 'the session that asked for cancel-on-disconnect has nothing working (the restart\'s cancel is no client action)')
  t.match(await counters(gw, ACCOUNT_COD), { openOrders: 0, openLots: 0, reservedFen: 0, actionsToday: 1 }, 'nor has the account with the cancelOnDisconnect limit')
  t.match(await counters(gw, TAKEOVER), { openOrders: 0, openLots: 0, reservedFen: 0 }, 'nor the session that took over an order and asked for it')
  t.match(await counters(gw, KEEPS), { openOrders: 2 }, 'the other account\'s orders are untouched')
  // The exchange's truth: only KEEPS's bid at 3012 is left above 3001.
  const sweep = await probe.fak({ account: 'PROBE', instrument: RB, side: Side.SELL, price: 3001, quantityLots: 10 })
  t.same(sweep.fills, [{ price: 3012, lots: 2 }], 'the simulator\'s book holds only the order of the account without cancel-on-disconnect')
  t.same(await counters(gw, SELF), selfBefore, 'the self-trade monitor and every counter of SELF are those before the kill')
  const selfAgain = await logOn(gw, SELF)
  selfAgain.client.newOrder({ clientOrderId: 5, instrument: RB, side: Side.BUY, price: 3300, quantityLots: 1 })
  t.match(await selfAgain.client.report(5), { execType: ExecType.REJECTED, reason: RejectReason.SELF_MATCH_PREVENTED }, 'the second self-match on rb2605 is prevented')
  selfAgain.client.newOrder({ clientOrderId: 6, instrument: RB, side: Side.BUY, price: 3300, quantityLots: 1 })
  t.match(await selfAgain.client.report(6), { execType: ExecType.REJECTED, reason: RejectReason.SELF_TRADE_LIMIT, limit: 2, observed: 2 }, 'and the monitor blocks at 2, counting the one before the kill')
  await selfAgain.client.close()
  for (const account of [SESSION_COD, ACCOUNT_COD, TAKEOVER]) {
    const again = await logOn(gw, account)
    t.equal(again.logon.resumedOrders, 0, `${account}: nothing to take over`)
    await again.client.close()
  }
  // Once more: the cancels sent at the restart replay as sent, not as owed.
  const codBefore = await counters(gw, SESSION_COD)
  t.match(instrument(codBefore, RB), { cancelsToday: 1 }, 'the cancel counts for the monitor once')
  await gw.kill9()
  await keeps.client.close()
  gw = await startGatewayProcess(configFile)
  processes.push(gw)
  t.same(await counters(gw, SESSION_COD), codBefore, 'after another kill the counters are those before it')
})

// Every lane thread replays its journal at the same moment (lane-worker.ts
// runs recover() as the thread starts), and each replay begins with the
// day's link logon reply: rollTradingDay. The first thread to see the day
// clears every account's daily counters; the others must not book into an
// account before the clearing has passed it, or their counts are wiped.
// Two real threads on the shared buffers, released together, each rolling
// the day and booking one order (restoreOrder, as recovery does) for the
// account the clearing reaches last.
const ROLL_WORKER = `
const { workerData, parentPort } = require('node:worker_threads')
;(async () => {
  const { RiskEngine, newRiskVerdict, IN_NOW_MS, IN_PRICE, IN_LINK_ORDER_ID } = await import(workerData.engineUrl)
  const { buffers, sync, lane, account, instrument, day } = workerData
  const engine = new RiskEngine(buffers, lane)
  const risk = engine.instrumentRisk(instrument)
  const gate = new Int32Array(sync)
  Atomics.add(gate, 0, 1)
  while (Atomics.load(gate, 0) < 2) ;
  engine.rollTradingDay(day)
  engine.input[IN_PRICE] = 3200
  engine.input[IN_LINK_ORDER_ID] = lane
  engine.input[IN_NOW_MS] = Date.now()
  parentPort.postMessage(engine.restoreOrder({ lane, account, app: -1 }, risk, 1, 1, 1, 1, 1, newRiskVerdict(1)))
})()
`

t.test('two lanes replaying at once: the day roll of one never wipes what the other has booked', async (t) => {
  // Many accounts, so that clearing them all takes milliseconds.
  const capacity = { accounts: 100_000, appIds: 4, instruments: 8, instrumentsPerAccount: 2, openOrdersPerAccount: 8, rateRingSize: 16 }
  // Rates within what rings of 16 can measure (the rings are accounts × ring size).
  const rates = { sessionMessagesPerSecond: 16, accountActionsPerSecond: null }
  const limits = {
    global: { ...rates, maxOpenOrders: 8, hfPerSecondWarn: null, hfPerSecondBlock: null },
    lanes: { terminal: rates, platform: rates, hft: rates },
  }
  const control = createRiskControl(resolveConfig({ risk: { capacity, limits } }))
  let last = ''
  while (control.accountCount() < capacity.accounts) {
    last = `R${control.accountCount()}`
    control.registerAccount(last)
  }
  const instrumentInit = (await import('../exchange-sim/instruments.js')).DEFAULT_INSTRUMENTS.find((i) => i.symbol === RB)!
  const sync = new SharedArrayBuffer(4)
  const engineUrl = new URL('../checks/risk-engine.js', import.meta.url).href
  for (const [round, day] of [20261201, 20261202, 20261203].entries()) {
    const slots = await Promise.all([1, 2].map(async (lane) => {
      const worker = new Worker(ROLL_WORKER, {
        eval: true,
        workerData: { engineUrl, buffers: control.buffers, sync, lane, account: capacity.accounts - 1, instrument: instrumentInit, day },
      })
      const [slot] = await once(worker, 'message') as [number]
      await worker.terminate()
      return slot
    }))
    new Int32Array(sync)[0] = 0
    t.ok(slots.every((slot) => slot >= 0), `round ${round}: both orders booked`)
    t.match(control.counters(last), { actionsToday: 2, openOrders: 2 * (round + 1) }, `round ${round}: the day's counters hold both lanes' orders`)
  }
})
