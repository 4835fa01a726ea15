// The exchange simulator end to end: the real `gatehouse exchange-sim`
// process (and, for fault injection, the in-process ExchangeSimulator) on
// loopback port 0, driven over TCP with the real link codec.
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import {
  ExecType, RejectReason, Side, TimeInForce, wireInt, type LinkExecutionReport,
} from '../protocol/messages.js'
import { encodeLinkFrame } from '../protocol/link-codec.js'
import { LinkClient } from './helpers/link-client.js'
import { CLI_PATH, startExchangeSim } from './helpers/exchange-sim-process.js'
import { wire64 } from './helpers/wire64.js'
import { ExchangeSimulator, type SimEvent } from '../exchange-sim/exchange-sim.js'
import { DEFAULT_INSTRUMENTS } from '../exchange-sim/instruments.js'
import type { RecordedOrder } from '../exchange-sim/order-recorder.js'

/** Compact view of a report for assertions. */
function brief (r: { seq: number, dup: boolean, report: LinkExecutionReport }): Record<string, unknown> {
  return {
    seq: r.seq,
    dup: r.dup,
    orderId: wireInt(r.report.orderId),
    exec: ExecType[r.report.execType],
    lastPrice: wireInt(r.report.lastPrice),
    lastLots: r.report.lastLots,
    cum: r.report.cumulativeLots,
    leaves: r.report.leavesLots,
  }
}

async function runCli (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, [CLI_PATH, 'exchange-sim', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const [code] = await once(child, 'close') as [number | null]
  return { code, stdout, stderr }
}

t.test('the simulator process: logon, trading between two sessions, cancels, resend, record', async (t) => {
  const dir = t.testdir()
  const recordFile = join(dir, 'orders.jsonl')
  const sim = await startExchangeSim(['--record', recordFile, '--trading-day', '20260105', '--environment', 'test'])
  t.teardown(() => sim.stop())

  const a = await LinkClient.connect(sim.port)
  const b = await LinkClient.connect(sim.port)
  const replyA = await a.logon('gw-a')
  const replyB = await b.logon('gw-b')
  for (const reply of [replyA, replyB]) {
    t.equal(reply.body, 'logonReply')
    t.equal(wireInt(reply.seq), 0, 'session messages carry seq 0')
    t.match(reply.logonReply, { ok: true, nextExpectedSeq: 1, tradingDay: '20260105', environment: 'test' })
  }
  const listed = replyA.logonReply!.instruments!
  t.equal(listed.length, DEFAULT_INSTRUMENTS.length, 'all reference data in the reply')
  t.match(listed.find((i) => i.symbol === 'rb2605'), {
    exchange: 'SHFE', priceDecimals: 0, tickSize: 1, multiplier: 10, lowerLimitPrice: 2976, upperLimitPrice: 3424, maxOrderLots: 500, status: 1,
  })
  t.match(listed.find((i) => i.symbol === 'ag2606'), { status: 2 })

  // A's buy rests; B's crossing sell fills both sides, each on its own session.
  a.newOrder({ orderId: 1, price: 3200, quantityLots: 5 })
  t.same(brief(await a.nextReport()), { seq: 1, dup: false, orderId: 1, exec: 'ACK', lastPrice: 0, lastLots: 0, cum: 0, leaves: 5 })
  b.newOrder({ orderId: 1, side: Side.SELL, price: 3199, quantityLots: 3, account: 'acct-9' })
  t.same(brief(await b.nextReport()), { seq: 1, dup: false, orderId: 1, exec: 'ACK', lastPrice: 0, lastLots: 0, cum: 0, leaves: 3 })
  t.same(brief(await b.nextReport()), { seq: 2, dup: false, orderId: 1, exec: 'FILL', lastPrice: 3200, lastLots: 3, cum: 3, leaves: 0 },
    'the aggressor trades at the resting price')
  const fillA = await a.nextReport()
  t.same(brief(fillA), { seq: 2, dup: false, orderId: 1, exec: 'PARTIAL_FILL', lastPrice: 3200, lastLots: 3, cum: 3, leaves: 2 })
  t.ok(wireInt(fillA.report.exchangeOrderId) > 0)
  t.ok(wireInt(fillA.report.transactTimeUs) > 1_700_000_000_000_000, 'transact time in µs since the epoch')

  // Cancel the rest; cancelling again is refused without changing anything.
  a.sendApp({ cancel: { orderId: 1 } })
  t.same(brief(await a.nextReport()), { seq: 3, dup: false, orderId: 1, exec: 'CANCELLED', lastPrice: 0, lastLots: 0, cum: 3, leaves: 0 })
  a.sendApp({ cancel: { orderId: 1 } })
  const refused = await a.nextReport()
  t.match(refused, { seq: 4, report: { orderId: 1, execType: ExecType.REJECTED, cancelRejected: true, reason: RejectReason.UNKNOWN_ORDER } })

  // A validation reject travels as a REJECTED report with its reason.
  a.newOrder({ orderId: 2, price: 3425 })
  t.match(await a.nextReport(), { seq: 5, report: { orderId: 2, execType: ExecType.REJECTED, reason: RejectReason.PRICE_OUTSIDE_BAND } })

  // Mass cancel: every working order of the session, one report each.
  a.newOrder({ orderId: 3, price: 3100 })
  a.newOrder({ orderId: 4, instrument: 'm2605', side: Side.SELL, price: 3000 })
  t.same([brief(await a.nextReport()).exec, brief(await a.nextReport()).exec], ['ACK', 'ACK'])
  a.sendApp({ massCancel: {} })
  const massCancelled = [brief(await a.nextReport()), brief(await a.nextReport())]
  t.same(massCancelled.map((r) => [r.seq, r.orderId, r.exec]), [[8, 3, 'CANCELLED'], [9, 4, 'CANCELLED']])

  // A rests an order and logs out; B fills it while A is away.
  a.newOrder({ orderId: 5, price: 3190, quantityLots: 2 })
  t.match(brief(await a.nextReport()), { seq: 10, orderId: 5, exec: 'ACK' })
  a.send({ seq: 0, logout: { text: 'end of test step' } })
  const logoutReply = await a.nextMessage()
  t.equal(logoutReply.body, 'logout', 'the simulator answers a logout')
  await a.closed
  b.newOrder({ orderId: 2, side: Side.SELL, price: 3190, quantityLots: 2 })
  t.same([brief(await b.nextReport()).exec, brief(await b.nextReport()).exec], ['ACK', 'FILL'])

  // A reconnects, saying it last processed seq 9: seq 10 (ACK) and the fill
  // it missed (seq 11) are resent as possible duplicates.
  const a2 = await LinkClient.connect(sim.port)
  a2.nextSeq = 9
  const replyA2 = await a2.logon('gw-a', 10)
  t.match(replyA2.logonReply, { ok: true, nextExpectedSeq: 9 }, 'the exchange expects A\'s next seq, across connections')
  t.same(brief(await a2.nextReport()), { seq: 10, dup: true, orderId: 5, exec: 'ACK', lastPrice: 0, lastLots: 0, cum: 0, leaves: 2 })
  t.same(brief(await a2.nextReport()), { seq: 11, dup: true, orderId: 5, exec: 'FILL', lastPrice: 3190, lastLots: 2, cum: 2, leaves: 0 })
  a2.newOrder({ orderId: 6, price: 3180 })
  t.match(brief(await a2.nextReport()), { seq: 12, dup: false, orderId: 6, exec: 'ACK' }, 'numbering continues after the resend')

  // A second connection for a session already logged on is refused.
  const intruder = await LinkClient.connect(sim.port)
  const refusedLogon = await intruder.logon('gw-a')
  t.equal(refusedLogon.logonReply!.ok, false)
  t.match(refusedLogon.logonReply!.text, /already logged on/)
  await intruder.closed
  a2.newOrder({ orderId: 7, price: 3180 })
  t.match(brief(await a2.nextReport()), { seq: 13, orderId: 7, exec: 'ACK' }, 'the first connection is unaffected')

  // Anything but a logon first is refused with a logout and a close.
  const rude = await LinkClient.connect(sim.port)
  rude.send({ seq: 1, newOrder: { orderId: 1 } })
  const rudeReply = await rude.nextMessage()
  t.equal(rudeReply.body, 'logout')
  t.match(rudeReply.logout!.text, /first message must be LinkLogon/)
  await rude.closed

  // A 64-bit value at or above 2^53 cannot be held exactly as a number: the
  // frame is refused like a malformed one, naming the field, never acted on
  // as some nearby value.
  const huge = await LinkClient.connect(sim.port)
  t.equal((await huge.logon('gw-huge')).logonReply!.ok, true)
  huge.sendApp({ newOrder: { orderId: wire64(2n ** 53n + 1n), account: 'acct-1', instrument: 'rb2605', side: Side.BUY, price: 3200, quantityLots: 1 } })
  const hugeReply = await huge.nextMessage()
  t.equal(hugeReply.body, 'logout', 'an order_id of 2^53 + 1 is not acknowledged as 2^53')
  t.match(hugeReply.logout!.text, /GH_ERR_MALFORMED_FRAME: LinkEnvelope field out of range: new_order\.order_id is 2\^53 or more/)
  await huge.closed
  a2.newOrder({ orderId: 8, price: 3180 })
  t.match(brief(await a2.nextReport()), { seq: 14, orderId: 8, exec: 'ACK' }, 'other sessions are unaffected')

  // Shutdown: connected sessions get a logout, the process exits 0.
  const stopped = sim.stop()
  const goodbye = await a2.nextMessage()
  t.equal(goodbye.body, 'logout')
  t.match(goodbye.logout!.text, /shutting down/)
  await stopped
  t.equal(sim.child.exitCode, 0, 'exit code 0 after SIGTERM')
  await Promise.all([a2.closed, b.closed])

  // The record file has one line per new order received, in arrival order,
  // rejected ones included.
  const lines = readFileSync(recordFile, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as RecordedOrder)
  t.same(lines.map((l) => [l.session, l.order_id]), [
    ['gw-a', 1], ['gw-b', 1], ['gw-a', 2], ['gw-a', 3], ['gw-a', 4], ['gw-a', 5], ['gw-b', 2], ['gw-a', 6], ['gw-a', 7], ['gw-a', 8],
  ])
  t.match(lines[0], {
    session: 'gw-a', seq: 1, order_id: 1, account: 'acct-1', instrument: 'rb2605', side: 'BUY', price: 3200, quantity_lots: 5, time_in_force: 'GFD',
    offset_flag: 'OFFSET_FLAG_UNSPECIFIED', hedge_flag: 'HEDGE_FLAG_UNSPECIFIED',
  })
  t.match(lines[1], { session: 'gw-b', seq: 1, side: 'SELL', price: 3199, account: 'acct-9' })
  t.ok(lines.every((l) => typeof l.time_us === 'number' && l.time_us > 1_700_000_000_000_000))
  t.ok(sim.stdoutLines.some((line) => JSON.parse(line).event === 'link-logon'), 'logons are reported on stdout as JSON lines')
})

t.test('heartbeats: the simulator sends them when idle and closes a silent peer', async (t) => {
  const sim = await startExchangeSim([])
  t.teardown(() => sim.stop())
  const c = await LinkClient.connect(sim.port)
  const reply = await c.logon('gw-hb', 1, 40)
  t.equal(reply.logonReply!.ok, true)
  const hb = await c.next()
  t.equal(hb.body, 'heartbeat', 'idle link gets a heartbeat')
  t.equal(wireInt(hb.seq), 0)
  // Say nothing: after 3 intervals the simulator gives up on us.
  const bye = await c.nextMessage()
  t.equal(bye.body, 'logout')
  t.match(bye.logout!.text, /heartbeat/)
  await c.closed
})

t.test('--instruments FILE replaces the reference data', async (t) => {
  const dir = t.testdir({
    'one.json': JSON.stringify([{
      symbol: 'sc2606', exchange: 'INE', price_decimals: 1, tick_size: 1, multiplier: 1000, reference_price: 5000,
      lower_limit_price: 4500, upper_limit_price: 5500, max_order_lots: 500, status: 'TRADING', margin_rate_bps: 1000,
    }]),
  })
  const sim = await startExchangeSim(['--instruments', join(dir, 'one.json')])
  t.teardown(() => sim.stop())
  const c = await LinkClient.connect(sim.port)
  const reply = await c.logon('gw-x')
  t.same(reply.logonReply!.instruments!.map((i) => i.symbol), ['sc2606'])
  c.newOrder({ orderId: 1, instrument: 'sc2606', price: 5000 })
  t.match(await c.nextReport(), { report: { execType: ExecType.ACK } })
  c.newOrder({ orderId: 2 })
  t.match(await c.nextReport(), { report: { reason: RejectReason.UNKNOWN_INSTRUMENT } }, 'defaults are gone')
})

t.test('--max-accounts caps the member accounts holding positions', async (t) => {
  const sim = await startExchangeSim(['--max-accounts', '1'])
  t.teardown(() => sim.stop())
  const c = await LinkClient.connect(sim.port)
  await c.logon('gw-cap')
  c.newOrder({ orderId: 1, account: 'first', price: 3100 })
  t.match(await c.nextReport(), { report: { execType: ExecType.ACK } })
  c.newOrder({ orderId: 2, account: 'second', price: 3100 })
  t.match(await c.nextReport(), {
    report: { execType: ExecType.REJECTED, reason: RejectReason.EXCHANGE_REJECTED, text: /at most 1 accounts and "second" would be one more/ },
  })
})

t.test('bad flags and files exit 2 with a message naming the problem', async (t) => {
  const dir = t.testdir({
    'bad-tick.json': JSON.stringify([{ ...DEFAULT_INSTRUMENTS[0], tickSize: undefined, tick_size: -1 }]),
    'not-json.json': '[{',
  })
  // Every message is checked in process (exchange-sim-config.test.ts); here
  // one of each kind goes through the real command and its exit code.
  const cases: Array<[string[], RegExp]> = [
    [['--bogus'], /unknown option "--bogus"/],
    [['--fault-drop-every', '-1'], /--fault-drop-every must be a whole number/],
    [['--instruments', join(dir, 'bad-tick.json')], /\[0\]\.tick_size must be at least 1, got -1/],
    [['--instruments', join(dir, 'not-json.json')], /is not valid JSON/],
  ]
  await Promise.all(cases.map(async ([args, message]) => {
    const { code, stderr } = await runCli(args)
    t.equal(code, 2, `${args.join(' ')}: exit code 2`)
    t.match(stderr, message, `${args.join(' ')}: says why`)
  }))
  const help = await runCli(['--help'])
  t.equal(help.code, 0)
  for (const flag of ['--host', '--port', '--instruments', '--record', '--environment', '--trading-day',
    '--fault-reject-every', '--fault-delay-ms', '--fault-drop-every', '--max-accounts', '--help']) {
    t.match(help.stdout, flag, `--help lists ${flag}`)
  }
  for (const topic of [/CLOSE_EXCEEDS_POSITION/, /SHFE and INE/, /trade_id/, /SIGUSR2/, /weekends and holidays are not skipped/]) {
    t.match(help.stdout, topic, `--help explains ${String(topic)}`)
  }
})

t.test('in process: fault injection, sequence checks, events', async (t) => {
  const events: SimEvent[] = []
  const sim = new ExchangeSimulator({ port: 0, faults: { rejectEvery: 2, dropEvery: 3 }, onEvent: (e) => { events.push(e) } })
  const { port } = await sim.start()
  t.teardown(() => sim.stop())
  const c = await LinkClient.connect(port)
  t.equal((await c.logon('gw-f')).logonReply!.ok, true)
  t.match(events[0], { event: 'link-logon', session: 'gw-f', member_id: '0188', resent: 0 })

  // Orders 1..5: 2 and 4 rejected, 3 dropped without a word.
  for (let id = 1; id <= 5; id++) c.newOrder({ orderId: id, price: 3000 + id })
  const reports = [await c.nextReport(), await c.nextReport(), await c.nextReport(), await c.nextReport()]
  t.same(reports.map((r) => [r.seq, wireInt(r.report.orderId), ExecType[r.report.execType], RejectReason[r.report.reason]]), [
    [1, 1, 'ACK', 'REASON_UNSPECIFIED'],
    [2, 2, 'REJECTED', 'EXCHANGE_REJECTED'],
    [3, 4, 'REJECTED', 'EXCHANGE_REJECTED'],
    [4, 5, 'ACK', 'REASON_UNSPECIFIED'],
  ])

  // A duplicate of an already-processed seq is ignored; a gap is accepted.
  // (A cancel, not an order, so the fault counters are not involved.)
  c.send({ seq: 5, possibleDuplicate: true, newOrder: { orderId: 50, account: 'a', instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 1, timeInForce: TimeInForce.GFD } })
  c.send({ seq: 9, cancel: { orderId: 5 } })
  const afterGap = await c.nextReport()
  t.same([afterGap.seq, wireInt(afterGap.report.orderId), ExecType[afterGap.report.execType]], [5, 5, 'CANCELLED'], 'the duplicate produced nothing')
  t.match(events[1], { event: 'link-duplicate-ignored', session: 'gw-f', seq: 5, expected: 6 })
  t.match(events[2], { event: 'link-seq-gap', session: 'gw-f', seq: 9, expected: 6 })
  // Seq 0 on an application message is a protocol error.
  c.send({ seq: 0, cancel: { orderId: 7 } })
  const bye = await c.nextMessage()
  t.equal(bye.body, 'logout')
  t.match(bye.logout!.text, /seq 0; expected seq 10/)
  await c.closed
  const again = await LinkClient.connect(port)
  t.match((await again.logon('gw-f', 6)).logonReply, { ok: true, nextExpectedSeq: 10 }, 'released at once: the session may log on again')
  again.nextSeq = 10
  again.sendApp({ cancel: { orderId: 1 } })
  t.match(await again.nextReport(), { seq: 6, dup: false, report: { orderId: 1, execType: ExecType.CANCELLED } },
    'nothing was resent from seq 6: the next report is new')
})

t.test('in process: --fault-delay-ms delays reports; stop() logs everyone out', async (t) => {
  const sim = new ExchangeSimulator({ faults: { delayMs: 60 } })
  const { port } = await sim.start()
  const c = await LinkClient.connect(port)
  await c.logon('gw-d')
  const sentAt = process.hrtime.bigint()
  c.newOrder({ orderId: 1 })
  const ack = await c.nextReport()
  const elapsedMs = Number(process.hrtime.bigint() - sentAt) / 1e6
  t.equal(ack.report.execType, ExecType.ACK)
  t.ok(elapsedMs >= 55, `report arrived after ${elapsedMs.toFixed(1)} ms`)
  t.equal(sim.connectionCount, 1)
  const stopped = sim.stop()
  t.equal((await c.nextMessage()).body, 'logout')
  await stopped
  await c.closed
  t.equal(sim.connectionCount, 0)
  await t.resolves(sim.stop(), 'stop() is idempotent')
})

t.test('in process: a record file that cannot be opened fails start()', async (t) => {
  const dir = t.testdir()
  const sim = new ExchangeSimulator({ recordFile: join(dir, 'no', 'such', 'dir', 'orders.jsonl') })
  await t.rejects(sim.start(), { code: 'ENOENT' })
  await sim.stop()
})

t.test('in process: a consumer too far behind is dropped, and its reports are resent on reconnect', async (t) => {
  let dropped!: () => void
  const droppedEvent = new Promise<void>((resolve) => { dropped = resolve })
  const sim = new ExchangeSimulator({
    maxBehindBytes: 256 * 1024,
    onEvent: (e) => { if (e.event === 'link-slow-consumer') dropped() },
  })
  const { port } = await sim.start()
  t.teardown(() => sim.stop())
  const a = await LinkClient.connect(port)
  const b = await LinkClient.connect(port)
  await a.logon('gw-slow')
  await b.logon('gw-fast')
  // A rests plenty of liquidity, reads its ACKs, then stops reading.
  const RESTING = 400
  for (let id = 1; id <= RESTING; id++) a.newOrder({ orderId: id, quantityLots: 500 })
  for (let i = 0; i < RESTING; i++) await a.nextReport()
  a.socket.pause()
  // B hits it one lot at a time: every hit is a report A does not read.
  let isDropped = false
  void droppedEvent.then(() => { isDropped = true })
  let orderId = 0
  const BATCH = 5_000
  while (!isDropped && orderId < RESTING * 500) {
    const frames: Buffer[] = []
    for (let i = 0; i < BATCH; i++) {
      frames.push(encodeLinkFrame({
        seq: b.nextSeq++,
        newOrder: { orderId: ++orderId, account: 'b', instrument: 'rb2605', side: Side.SELL, price: 3200, quantityLots: 1, timeInForce: TimeInForce.FAK },
      }))
    }
    b.socket.write(Buffer.concat(frames))
    // Let the simulator process the batch before sending more, so B's own reports keep flowing.
    await b.skip(2 * BATCH)
  }
  if (!isDropped) {
    t.fail(`A was never dropped, though B sent ${orderId} orders at it`)
    return
  }
  t.pass(`A dropped after B sent ${orderId} orders`)
  // A's reports were kept: a new connection asking from seq RESTING + 1 gets the first fill again.
  a.socket.destroy()
  const a2 = await LinkClient.connect(port)
  a2.nextSeq = RESTING + 1
  t.match((await a2.logon('gw-slow', RESTING + 1)).logonReply, { ok: true, nextExpectedSeq: RESTING + 1 })
  t.match(brief(await a2.nextReport()), { seq: RESTING + 1, dup: true, orderId: 1, exec: 'PARTIAL_FILL', lastLots: 1, cum: 1, leaves: 499 })
  a2.socket.destroy()
})

t.test('in process: resend is bounded by the history, and a seq from the future is refused', async (t) => {
  const sim = new ExchangeSimulator({ historyCapacity: 4 })
  const { port } = await sim.start()
  t.teardown(() => sim.stop())
  const c = await LinkClient.connect(port)
  await c.logon('gw-h')
  for (let id = 1; id <= 6; id++) c.newOrder({ orderId: id, price: 3000 + id })
  for (let i = 0; i < 6; i++) await c.nextReport()
  c.send({ seq: 0, logout: {} })
  await c.closed

  const future = await LinkClient.connect(port)
  const refused = (await future.logon('gw-h', 8)).logonReply!
  t.equal(refused.ok, false)
  t.equal(refused.text, 'next_expected_seq 8 is beyond the last seq sent on "gw-h" (6)')
  await future.closed

  const back = await LinkClient.connect(port)
  const reply = (await back.logon('gw-h', 1)).logonReply!
  t.match(reply, { ok: true, nextExpectedSeq: 7 })
  t.equal(reply.text, 'reports 1..2 are no longer held (history keeps the last 4); resending from 3')
  const resent = [await back.nextReport(), await back.nextReport(), await back.nextReport(), await back.nextReport()]
  t.same(resent.map((r) => [r.seq, r.dup, wireInt(r.report.orderId)]), [[3, true, 3], [4, true, 4], [5, true, 5], [6, true, 6]])

  // A session name this simulator never sent on adopts the gateway's numbering.
  const resumed = await LinkClient.connect(port)
  t.match((await resumed.logon('gw-new', 500)).logonReply, { ok: true, nextExpectedSeq: 1 })
  resumed.newOrder({ orderId: 1 })
  t.match(await resumed.nextReport(), { seq: 500, dup: false })
})
