// Journal replication through failures: nats-server killed (-9) while the
// gateway trades, then restarted on the same port and store; then the
// gateway itself killed (-9) mid-replication and restarted. Trading never
// waits on NATS (orders are accepted and filled during the outage), ops are
// alerted and /metrics says NATS is gone and the lag grows; afterwards the
// backlog catches up and the stream holds every journal record exactly
// once: per journal stream, the records in the stream run seq 1, 2, 3, ...
// with no repeat and no gap, as many as the local segments hold, and the
// segments rebuilt from the stream equal the local files byte for byte.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { connect } from '@nats-io/transport-node'
import { jetstreamManager, type MsgRequest } from '@nats-io/jetstream'
import { journalDir } from '../config/config.js'
import { DEFAULT_CONFIG } from '../config/defaults.js'
import { ExecType, Side, TimeInForce, wireInt } from '../protocol/messages.js'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { checkRecordAt, RecordCheck, recordLengthAt, recordSeqAt } from '../journal/record-format.js'
import { startExchangeSim } from './helpers/exchange-sim-process.js'
import { testConfig } from './helpers/gateway.js'
import { startGatewayProcess, type GatewayProcess } from './helpers/gateway-process.js'
import { restartNats, startTestNats } from './helpers/nats-server.js'
import { PASSWORD, TEST_IDENTITY, tradingAccount } from './helpers/trading.js'
import { replicaOf, replicationCluster, segmentFiles } from './helpers/replication.js'
import { parseExposition, type Family } from './helpers/prometheus-text.js'

const STREAM = DEFAULT_CONFIG.cluster.replication.stream

async function metricsOf (gw: GatewayProcess): Promise<Map<string, Family>> {
  const response = await fetch(`http://127.0.0.1:${gw.ready.ops.port}/metrics`)
  return parseExposition(await response.text())
}

/** Polls /metrics until `ok` holds (the replicator posts its status every 250 ms); rejects after timeoutMs. */
async function untilMetrics (gw: GatewayProcess, ok: (m: Map<string, Family>) => boolean, what: string, timeoutMs = 30_000): Promise<Map<string, Family>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const m = await metricsOf(gw)
    if (ok(m)) return m
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const lagBytes = (m: Map<string, Family>, stream: string): number => m.get('gatehouse_replication_lag_bytes')?.samples.find((s) => s.labels.stream === stream)?.value ?? -1
const allCaughtUp = (m: Map<string, Family>): boolean => {
  const lag = m.get('gatehouse_replication_lag_bytes')?.samples ?? []
  return m.get('gatehouse_replication_nats_connected')?.samples[0]?.value === 1 && lag.length >= 3 && lag.every((s) => s.value === 0)
}

/** A seller resting GFD offers and a buyer lifting them with FAK bids: each round is an ACK, a fill on both sides. */
class Traders {
  private id = 0
  private constructor (readonly seller: GatehouseClient, readonly buyer: GatehouseClient) {}
  static async open (gw: GatewayProcess): Promise<Traders> {
    const seller = await GatehouseClient.connect(gw.url('platform'))
    const buyer = await GatehouseClient.connect(gw.url('hft'))
    for (const [client, account] of [[seller, 'out-seller'], [buyer, 'out-buyer']] as const) {
      const logon = await client.logon(account, PASSWORD, TEST_IDENTITY)
      if (!logon.ok) throw new Error(`${account}: ${logon.text}`)
    }
    return new Traders(seller, buyer)
  }

  /**
   * One round; true when the taking order was filled. Maker and taker swap
   * sides each round, so neither account's position grows to its limit.
   */
  async round (): Promise<boolean> {
    const flip = this.id % 4 === 2
    const [maker, taker] = flip ? [this.buyer, this.seller] : [this.seller, this.buyer]
    const offer = ++this.id
    maker.newOrder({ clientOrderId: offer, instrument: 'rb2605', side: flip ? Side.BUY : Side.SELL, price: 3300, quantityLots: 1, timeInForce: TimeInForce.GFD })
    if ((await maker.report(offer)).execType !== ExecType.ACK) return false
    const bid = ++this.id
    taker.newOrder({ clientOrderId: bid, instrument: 'rb2605', side: flip ? Side.SELL : Side.BUY, price: 3300, quantityLots: 1, timeInForce: TimeInForce.FAK })
    const end = await taker.next((m) => m.body === 'executionReport' && wireInt(m.executionReport!.clientOrderId) === bid &&
      [ExecType.FILL, ExecType.CANCELLED, ExecType.REJECTED].includes(m.executionReport!.execType!))
    return end.executionReport!.execType === ExecType.FILL
  }

  async close (): Promise<void> {
    await this.seller.close()
    await this.buyer.close()
  }
}

t.test('NATS killed during load, then the gateway killed mid-replication: every record in the stream exactly once', async (t) => {
  let nats = await startTestNats(t)
  const sim = await startExchangeSim()
  t.teardown(() => sim.stop())
  const dir = t.testdir()
  const config = testConfig(sim.port, {
    runDir: join(dir, 'run'),
    accounts: ['out-seller', 'out-buyer'].map(tradingAccount),
    journal: { fsync: 'never' },
    cluster: replicationCluster(nats.url, 'gw1', { lagAlertMs: 300 }),
  })
  const configFile = join(dir, 'gateway.json')
  writeFileSync(configFile, JSON.stringify(config))
  let gw = await startGatewayProcess(configFile)
  const processes = [gw]
  t.teardown(async () => { for (const p of processes) await p.kill9() })

  let traders = await Traders.open(gw)
  for (let i = 0; i < 20; i++) t.ok(await traders.round(), `round ${i} before the outage`)
  await untilMetrics(gw, allCaughtUp, 'caught up before the outage')

  // ---- NATS down: trading goes on, ops are told, lag grows ----
  const lost = gw.event((e) => e.event === 'replication-alert' && e.kind === 'nats-lost')
  await nats.kill()
  await lost
  t.pass('the nats-lost alert fired')
  const lagHigh = gw.event((e) => e.event === 'replication-alert' && e.kind === 'lag-high')
  let filled = 0
  for (let i = 0; i < 40; i++) if (await traders.round()) filled++
  t.equal(filled, 40, 'orders were accepted and filled while NATS was down')
  await lagHigh
  t.pass('the lag-high alert fired')
  const down = await untilMetrics(gw, (m) => lagBytes(m, 'platform') > 0, 'lag during the outage')
  t.equal(down.get('gatehouse_replication_nats_connected')?.samples[0]?.value, 0, 'gatehouse_replication_nats_connected is 0')
  t.ok(lagBytes(down, 'hft') > 0, `hft lag ${lagBytes(down, 'hft')} bytes`)
  const ready = await fetch(`http://127.0.0.1:${gw.ready.ops.port}/readyz`)
  t.equal(ready.status, 200, '/readyz stays ready while NATS is down')

  // ---- NATS back: the backlog catches up ----
  const restored = gw.event((e) => e.event === 'replication-alert' && e.kind === 'nats-restored')
  const cleared = gw.event((e) => e.event === 'replication-alert' && e.kind === 'lag-cleared')
  nats = await restartNats(t, nats)
  await restored
  await cleared
  t.pass('nats-restored and lag-cleared alerts')
  await untilMetrics(gw, allCaughtUp, 'caught up after the outage')

  // ---- the gateway killed while it replicates a burst ----
  const burst = Array.from({ length: 30 }, async () => traders.round())
  await Promise.all(burst.slice(0, 10))
  await gw.kill9()
  await Promise.allSettled(burst)
  gw = await startGatewayProcess(configFile)
  processes.push(gw)
  traders = await Traders.open(gw)
  for (let i = 0; i < 10; i++) t.ok(await traders.round(), `round ${i} after the gateway's restart`)
  await untilMetrics(gw, allCaughtUp, 'caught up after the gateway restart')

  // ---- the gateway killed with publishes in flight: nats-server paused
  // (SIGSTOP) so its acks cannot come back, the gateway killed, then
  // nats-server resumed: it stores what the dead gateway sent, and the
  // restarted gateway must resume after those messages, not repeat them ----
  process.kill(nats.child.pid!, 'SIGSTOP')
  try {
    for (let i = 0; i < 10; i++) t.ok(await traders.round(), `round ${i} with nats-server paused`)
    await untilMetrics(gw, (m) => lagBytes(m, 'platform') > 0, 'unacknowledged bytes while nats-server is paused')
    await gw.kill9()
  } finally {
    process.kill(nats.child.pid!, 'SIGCONT')
  }
  gw = await startGatewayProcess(configFile)
  processes.push(gw)
  traders = await Traders.open(gw)
  for (let i = 0; i < 5; i++) t.ok(await traders.round(), `round ${i} after the second restart`)
  await traders.close()
  await untilMetrics(gw, allCaughtUp, 'caught up after the second restart')
  // An orderly stop seals the segments and publishes the seals.
  await gw.stop()

  // ---- exactly once ----
  const nc = await connect({ servers: [nats.url] })
  t.teardown(async () => nc.close())
  const jsm = await jetstreamManager(nc)
  const local = segmentFiles(journalDir(config))
  const localRecords = new Map<string, number>()
  for (const [name, bytes] of local) {
    const stream = name.split('/')[0]!
    localRecords.set(stream, (localRecords.get(stream) ?? 0) + countRecords(bytes))
  }
  for (const [stream, count] of localRecords) {
    const subject = `journal.gw1.${stream}`
    const seqs: number[] = []
    let next = 1
    for (;;) {
      const m = await jsm.streams.getMessage(STREAM, { seq: next, next_by_subj: subject } as unknown as MsgRequest)
      if (m === null) break
      next = m.seq + 1
      const data = Buffer.from(m.data)
      for (let at = 0; at < data.length; at += recordLengthAt(data, at)) {
        if (checkRecordAt(data, at, data.length) !== RecordCheck.OK) {
          t.fail(`${stream}: message ${m.seq} holds a record that fails its check at ${at}`)
          break
        }
        seqs.push(recordSeqAt(data, at))
      }
    }
    t.equal(seqs.length, count, `${stream}: the stream holds as many records as the local segments (${count})`)
    const wrong = seqs.findIndex((seq, i) => seq !== i + 1)
    t.equal(wrong, -1, `${stream}: seq 1..${seqs.length} in order, no repeat, no gap${wrong < 0 ? '' : ` (at ${wrong}: ${seqs[wrong]})`}`)
  }
  const replica = await replicaOf(nats.url)
  t.teardown(() => { replica.remove() })
  t.same(replica.problems, [], 'no overlapping or missing message')
  const copied = segmentFiles(join(replica.root, 'gw1'))
  t.same([...copied.keys()].sort(), [...local.keys()].sort(), 'the same segment files')
  t.same([...local].filter(([name, bytes]) => copied.get(name)?.equals(bytes) !== true).map(([name]) => name), [], `all ${local.size} segments equal byte for byte`)
})

function countRecords (bytes: Buffer): number {
  let n = 0
  for (let at = 0; at < bytes.length; at += recordLengthAt(bytes, at)) n++
  return n
}
