// Crash test of the write-ahead journal and of recovery, with real parts:
// the exchange simulator as a process recording every order it receives
// (--record), the gateway as a process (`gatehouse start`), real clients.
// The gateway is killed with SIGKILL at random moments under load, with
// orders in flight, and restarted each time. Then:
// - every order the simulator received is in the gateway's journal (no
//   message forwarded without its record);
// - `verify` passes on everything written, across every crash;
// - after the last restart the account counters the limits read are the
//   ones from before the kill, the account's next session takes over its
//   working orders, and the open-order limit still holds exactly.
import t from 'tap'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { journalDir } from '../config/config.js'
import { DEFAULT_CONFIG } from '../config/defaults.js'
import { readJournal } from '../journal/reader.js'
import { verifyJournal } from '../journal/verify.js'
import { RecordKind } from '../journal/record-format.js'
import { decodeLinkEnvelope } from '../protocol/link-codec.js'
import { ExecType, RejectReason, Side, wireInt, type LogonReply } from '../protocol/messages.js'
import { startExchangeSim } from './helpers/exchange-sim-process.js'
import { testConfig } from './helpers/gateway.js'
import { startGatewayProcess, type GatewayProcess } from './helpers/gateway-process.js'
import { PASSWORD, tradingAccount, TEST_IDENTITY } from './helpers/trading.js'

const TAKER = 'CRASH-T'
const MAKER = 'CRASH-M'
const MAX_OPEN_ORDERS = 100
const RANDOM_KILLS = 3
const INSTRUMENT = 'rb2605'
const RESTING_BUY_PRICE = 3100
const MAKER_SELL_PRICE = 3250

/** Seeded, so a failure can be replayed: the seed is in the test name. */
function mulberry32 (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let x = Math.imul(a ^ (a >>> 15), 1 | a)
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296
  }
}

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

let nextClientOrderId = 1

/**
 * A closed loop of trading: resting buys, cancels of them, and buys that
 * fill against the maker. Each step waits for its report, so the state
 * the gateway holds is known when the loop ends.
 */
async function trade (taker: GatehouseClient, steps: number, rng: () => number, resting: number[]): Promise<void> {
  for (let i = 0; i < steps; i++) {
    const r = rng()
    if (r < 0.5 || resting.length === 0) {
      const id = nextClientOrderId++
      taker.newOrder({ clientOrderId: id, instrument: INSTRUMENT, side: Side.BUY, price: RESTING_BUY_PRICE, quantityLots: 1 + Math.floor(rng() * 3) })
      const report = await taker.report(id)
      if (report.execType === ExecType.ACK) resting.push(id)
    } else if (r < 0.75) {
      const id = resting.splice(Math.floor(rng() * resting.length), 1)[0]!
      taker.cancel(id)
      await taker.report(id, ExecType.CANCELLED)
    } else {
      const id = nextClientOrderId++
      taker.newOrder({ clientOrderId: id, instrument: INSTRUMENT, side: Side.BUY, price: MAKER_SELL_PRICE, quantityLots: 1 })
      await taker.report(id, ExecType.FILL)
    }
  }
}

/** Order IDs the simulator received from this gateway, per its --record file. */
function ordersAtExchange (recordFile: string, gatewayId: string): Map<number, string> {
  const orders = new Map<number, string>()
  for (const line of readFileSync(recordFile, 'utf8').split('\n')) {
    if (line === '') continue
    const order = JSON.parse(line) as { session: string, order_id: number }
    if (order.session.startsWith(`${gatewayId}-`)) orders.set(order.order_id, order.session)
  }
  return orders
}

/** Link order IDs of every new order the journal shows going out. */
function ordersInJournal (dir: string): Set<number> {
  const ids = new Set<number>()
  for (const record of readJournal(dir)) {
    if (record.kind !== RecordKind.LINK_OUT) continue
    const envelope = decodeLinkEnvelope(record.payload)
    if (envelope.body === 'newOrder') ids.add(wireInt(envelope.newOrder!.orderId))
  }
  return ids
}

const seed = Number(process.env.GATEHOUSE_CRASH_SEED ?? Date.now() % 100_000)

t.test(`kill -9 under load, ${RANDOM_KILLS} times, then once when quiet (seed ${seed})`, async (t) => {
  const dir = t.testdir()
  const recordFile = join(dir, 'exchange-orders.jsonl')
  const sim = await startExchangeSim(['--record', recordFile])
  t.teardown(() => sim.stop())
  const config = testConfig(sim.port, {
    runDir: join(dir, 'run'),
    accounts: [...DEFAULT_CONFIG.accounts, tradingAccount(TAKER), tradingAccount(MAKER)],
    risk: { limits: { accounts: { [TAKER]: { maxOpenOrders: MAX_OPEN_ORDERS } } } },
    // What a kill -9 can lose does not depend on fsync (page cache survives it).
    journal: { fsync: 'never' },
  })
  const configFile = join(dir, 'gateway.json')
  writeFileSync(configFile, JSON.stringify(config))
  const journal = journalDir(config)
  const rng = mulberry32(seed)
  const resting: number[] = []

  let gw = await startGatewayProcess(configFile)
  let processes = [gw]
  t.teardown(async () => { for (const p of processes) await p.kill9() })
  const maker = await logOn(gw, MAKER)
  const makerOrder = nextClientOrderId++
  maker.client.newOrder({ clientOrderId: makerOrder, instrument: INSTRUMENT, side: Side.SELL, price: MAKER_SELL_PRICE, quantityLots: 400 })
  t.equal((await maker.client.report(makerOrder)).execType, ExecType.ACK, 'the maker rests a sell the taker can fill against')

  for (let round = 1; round <= RANDOM_KILLS; round++) {
    const taker = await logOn(gw, TAKER)
    await trade(taker.client, 10 + Math.floor(rng() * 30), rng, resting)
    // A burst the kill lands in the middle of: some of it reaches the
    // exchange, some is journaled but not sent, some is not read at all.
    const burst = 1 + Math.floor(rng() * 20)
    for (let i = 0; i < burst; i++) {
      taker.client.newOrder({ clientOrderId: nextClientOrderId++, instrument: INSTRUMENT, side: Side.BUY, price: RESTING_BUY_PRICE, quantityLots: 1 })
    }
    await gw.kill9()
    // Their fate is unknown to the test; recovery decides it from the journal and the exchange.
    resting.length = 0

    gw = await startGatewayProcess(configFile)
    processes.push(gw)
    const recovered = gw.events.find((e) => e.event === 'recovered' && e.lane === 'platform')
    t.match(recovered, { tradingDay: /^\d{8}$/, problems: [] }, `round ${round}: the platform lane recovered the trading day`)
    t.ok((recovered?.ordersReplayed as number) > 0, `round ${round}: orders replayed from the journal`)

    const atExchange = ordersAtExchange(recordFile, config.gatewayId)
    const journaled = ordersInJournal(journal)
    const unjournaled = [...atExchange.keys()].filter((id) => !journaled.has(id))
    t.same(unjournaled, [], `round ${round}: all ${atExchange.size} orders the exchange received are in the journal`)
    const verified = verifyJournal(journal)
    t.ok(verified.ok, `round ${round}: verify passes on everything written (${verified.problems.map((p) => p.message).join('; ')})`)
  }

  // The last kill is at a quiet moment, so "before" is a state the test
  // can read: every order has its report.
  const taker = await logOn(gw, TAKER)
  t.ok(wireInt(taker.logon.lastClientSeq) > 0, 'the taker learns the last seq its previous session sent')
  await trade(taker.client, 20, rng, resting)
  const before = await gw.ops(`/accounts/${TAKER}/counters`) as { openOrders: number }
  const makerBefore = await gw.ops(`/accounts/${MAKER}/counters`)
  const seqBefore = taker.client.received.at(-1)!.seq
  await gw.kill9()

  gw = await startGatewayProcess(configFile)
  processes.push(gw)
  t.same(await gw.ops(`/accounts/${TAKER}/counters`), before, 'the taker\'s counters after the restart are those before the kill')
  t.same(await gw.ops(`/accounts/${MAKER}/counters`), makerBefore, 'so are the maker\'s')
  t.ok(before.openOrders > 0, `the taker has ${before.openOrders} working orders`)

  const again = await logOn(gw, TAKER)
  t.equal(again.logon.resumedOrders, before.openOrders, 'the next session takes over every working order')
  t.ok(wireInt(again.client.received.at(-1)!.seq) > wireInt(seqBefore), 'the gateway\'s seq continues above the last one before the kill')
  if (resting.length > 0) {
    const id = resting.pop()!
    again.client.cancel(id)
    t.equal((await again.client.report(id, ExecType.CANCELLED)).execType, ExecType.CANCELLED, 'a working order from before the kill cancels by its client order ID')
  }

  // The open-order limit holds exactly: room for MAX - open, then a reject.
  const open = (await gw.ops(`/accounts/${TAKER}/counters`) as { openOrders: number }).openOrders
  let accepted = 0
  for (;;) {
    const id = nextClientOrderId++
    again.client.newOrder({ clientOrderId: id, instrument: INSTRUMENT, side: Side.BUY, price: RESTING_BUY_PRICE, quantityLots: 1 })
    const report = await again.client.report(id)
    if (report.execType !== ExecType.ACK) {
      t.match(report, { execType: ExecType.REJECTED, reason: RejectReason.MAX_OPEN_ORDERS, limit: MAX_OPEN_ORDERS, observed: MAX_OPEN_ORDERS + 1 }, 'then MAX_OPEN_ORDERS, with the limit and the count')
      break
    }
    accepted++
  }
  t.equal(accepted, MAX_OPEN_ORDERS - open, `exactly ${MAX_OPEN_ORDERS} - ${open} more orders were accepted`)
  await again.client.close()
  await gw.stop()
  processes = []
  t.ok(verifyJournal(journal, { requireSealed: true }).ok, 'after an orderly stop every segment is sealed and verifies')
})
