// The client library's futures additions, written from the .proto before
// the gateway answers resends and queries: order flags on the wire, resend
// collection, query pages, refusals, the duplicate memory and its bound.
// The peer is a scripted WebSocket server speaking the client protocol
// through the real codec (the gateway's side of these exchanges is tested
// end to end in the gateway's own tests); the client is the real one.
import t, { type Test } from 'tap'
import fc from 'fast-check'
import { once } from 'node:events'
import { WebSocketServer, type WebSocket } from 'ws'
import {
  ClientRequestError, ReportMemory, GatehouseClient, HedgeFlag, OffsetFlag, QueryKind, SEEN_EXEC_IDS, Side,
  type ConnectOptions,
} from '../client/gatehouse-client.js'
import { decodeClientEnvelope, encodeClientEnvelope } from '../protocol/client-codec.js'
import {
  ExecType, PositionDirection, RejectReason, wireInt,
  type ClientEnvelope, type ClientEnvelopeInit, type ExecutionReportInit,
} from '../protocol/messages.js'
import { isGatehouseError } from '../protocol/gatehouse-error.js'

/** A peer that hands every envelope the client sends to `answer`, with a `send` back. */
interface ScriptedPeer {
  url: string
  /** Every envelope the client sent, decoded. */
  sent: ClientEnvelope[]
  close: () => Promise<void>
}

type Answer = (message: ClientEnvelope, send: (envelope: ClientEnvelopeInit) => void, socket: WebSocket) => void

async function scriptedPeer (t: Test, answer: Answer): Promise<ScriptedPeer> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false })
  await once(server, 'listening')
  const sent: ClientEnvelope[] = []
  let seq = 0
  server.on('connection', (socket) => {
    const send = (envelope: ClientEnvelopeInit): void => { socket.send(encodeClientEnvelope({ ...envelope, seq: ++seq }), { binary: true }) }
    socket.on('message', (data: Buffer) => {
      const message = decodeClientEnvelope(data)
      sent.push(message)
      answer(message, send, socket)
    })
  })
  const address = server.address() as { port: number }
  const close = async (): Promise<void> => {
    for (const socket of server.clients) socket.terminate()
    await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  }
  t.teardown(close)
  return { url: `ws://127.0.0.1:${address.port}`, sent, close }
}

async function connect (t: Test, peer: ScriptedPeer, options: ConnectOptions = {}): Promise<GatehouseClient> {
  const client = await GatehouseClient.connect(peer.url, options)
  t.teardown(() => client.close())
  return client
}

function report (reportSeq: number, fields: Partial<ExecutionReportInit> = {}): ExecutionReportInit {
  return {
    clientOrderId: reportSeq,
    execType: ExecType.ACK,
    instrument: 'rb2605',
    side: Side.BUY,
    offsetFlag: OffsetFlag.OFFSET_OPEN,
    hedgeFlag: HedgeFlag.HEDGE_SPECULATION,
    reportSeq,
    execId: `20260105-platform-acct-${reportSeq}`,
    ...fields,
  }
}

t.test('newOrder sends the offset and hedge flags given, and leaves unset ones unset for the gateway to default', async (t) => {
  const peer = await scriptedPeer(t, (message, send) => {
    if (message.body === 'heartbeat') send({ heartbeat: { testId: message.heartbeat!.testId } })
  })
  const client = await connect(t, peer)
  client.newOrder({ clientOrderId: 1, instrument: 'rb2605', side: Side.SELL, price: 3200, quantityLots: 2, offsetFlag: OffsetFlag.OFFSET_CLOSE_TODAY, hedgeFlag: HedgeFlag.HEDGE_HEDGE })
  client.newOrder({ clientOrderId: 2, instrument: 'rb2605', side: Side.BUY, price: 3200, quantityLots: 1 })
  client.newOrder({ clientOrderId: 3, instrument: 'rb2605', side: Side.SELL, price: 3200, quantityLots: 1, reduceOnly: true })
  client.send({ heartbeat: { testId: 1 } })
  await client.next((m) => m.body === 'heartbeat')
  const orders = peer.sent.filter((m) => m.body === 'newOrder').map((m) => m.newOrder!)
  t.same(orders.map((o) => [wireInt(o.clientOrderId), o.offsetFlag, o.hedgeFlag, o.reduceOnly]), [
    [1, OffsetFlag.OFFSET_CLOSE_TODAY, HedgeFlag.HEDGE_HEDGE, false],
    [2, OffsetFlag.OFFSET_FLAG_UNSPECIFIED, HedgeFlag.HEDGE_FLAG_UNSPECIFIED, false],
    [3, OffsetFlag.OFFSET_FLAG_UNSPECIFIED, HedgeFlag.HEDGE_FLAG_UNSPECIFIED, true],
  ])
})

t.test('resend collects the resent reports up to ResendComplete; lastReportSeq and isDuplicate follow every report', async (t) => {
  const peer = await scriptedPeer(t, (message, send) => {
    if (message.body !== 'resendRequest') return
    const after = wireInt(message.resendRequest!.afterReportSeq)
    // A live report queued before the resend began is not part of it.
    send({ executionReport: report(4) })
    for (let seq = after + 1; seq <= 4; seq++) send({ executionReport: { ...report(seq), possibleDuplicate: true } })
    send({ heartbeat: { testId: 7 } })
    send({ resendComplete: { afterReportSeq: after, resent: 4 - after, lastReportSeq: 4, oldestReportSeq: 1 } })
  })
  const client = await connect(t, peer)
  t.equal(client.lastReportSeq, 0, 'no report yet')
  const events: Array<[number, boolean]> = []
  client.on('executionReport', (r, duplicate: boolean) => { events.push([wireInt(r.reportSeq), duplicate]) })

  const { reports, complete } = await client.resend(1)
  t.same(peer.sent.filter((m) => m.body === 'resendRequest').map((m) => wireInt(m.resendRequest!.afterReportSeq)), [1], 'ResendRequest { after_report_seq: 1 }')
  t.same(reports.map((r) => wireInt(r.reportSeq)), [2, 3, 4], 'only the resent reports, in order')
  t.ok(reports.every((r) => r.possibleDuplicate))
  t.equal(wireInt(complete.lastReportSeq), 4)
  t.equal(complete.resent, 3)
  t.equal(complete.reason, RejectReason.REASON_UNSPECIFIED)
  t.equal(client.lastReportSeq, 4)
  t.same(events, [[4, false], [2, false], [3, false], [4, true]], 'the live report 4 was new, its resend a duplicate')
  t.same(reports.map((r) => client.isDuplicate(r)), [false, false, true])
})

t.test('a resend reaching before the window returns RESEND_UNAVAILABLE and the window, nothing resent', async (t) => {
  const peer = await scriptedPeer(t, (message, send) => {
    if (message.body !== 'resendRequest') return
    send({ resendComplete: { afterReportSeq: message.resendRequest!.afterReportSeq, resent: 0, lastReportSeq: 900, oldestReportSeq: 500, reason: RejectReason.RESEND_UNAVAILABLE, text: 'reports before 500 are no longer held' } })
  })
  const client = await connect(t, peer)
  const { reports, complete } = await client.resend(10)
  t.same(reports, [])
  t.equal(complete.reason, RejectReason.RESEND_UNAVAILABLE)
  t.equal(wireInt(complete.oldestReportSeq), 500)
})

t.test('resends run one at a time, so each collects its own answer', async (t) => {
  const peer = await scriptedPeer(t, (message, send) => {
    if (message.body !== 'resendRequest') return
    const after = wireInt(message.resendRequest!.afterReportSeq)
    send({ executionReport: { ...report(after + 1), possibleDuplicate: true } })
    send({ resendComplete: { afterReportSeq: after, resent: 1, lastReportSeq: after + 1 } })
  })
  const client = await connect(t, peer)
  const [first, second] = await Promise.all([client.resend(10), client.resend(20)])
  t.same(first.reports.map((r) => wireInt(r.reportSeq)), [11])
  t.same(second.reports.map((r) => wireInt(r.reportSeq)), [21])
  t.equal(wireInt(second.complete.afterReportSeq), 20)
})

t.test('query sends a fresh request_id and merges its pages until last, ignoring other answers', async (t) => {
  const positions = Array.from({ length: 450 }, (_, i) => ({ instrument: `c${i}`, direction: PositionDirection.DIRECTION_LONG, todayLots: i, yesterdayLots: 1 }))
  const peer = await scriptedPeer(t, (message, send) => {
    if (message.body !== 'query') return
    const { requestId, kind } = message.query!
    // Another request's page and a heartbeat in between must not mix in.
    send({ queryReply: { requestId: wireInt(requestId) + 100, kind, last: true, positions: [positions[0]!] } })
    for (let from = 0; from < positions.length; from += 200) {
      send({ queryReply: { requestId, kind, last: from + 200 >= positions.length, positions: positions.slice(from, from + 200) } })
      send({ heartbeat: { testId: from } })
    }
  })
  const client = await connect(t, peer)
  const answer = await client.query(QueryKind.QUERY_POSITIONS, { instrument: 'rb2605' })
  t.equal(answer.pages, 3)
  t.same(answer.positions.map((p) => p.instrument), positions.map((p) => p.instrument), 'every entry once, in page order')
  t.equal(answer.positions[449]!.todayLots, 449)
  t.equal(answer.funds, null)
  const again = await client.positions()
  t.equal(again.length, 450)
  const queries = peer.sent.filter((m) => m.body === 'query').map((m) => m.query!)
  t.same(queries.map((q) => [wireInt(q.requestId), q.kind, q.instrument]), [
    [1, QueryKind.QUERY_POSITIONS, 'rb2605'],
    [2, QueryKind.QUERY_POSITIONS, ''],
  ], 'a fresh request_id each time, the filter on the wire')
})

t.test('queries sent at once each get their own answer, whatever order the pages come in', async (t) => {
  const held: ClientEnvelope[] = []
  const peer = await scriptedPeer(t, (message, send) => {
    if (message.body !== 'query') return
    held.push(message)
    if (held.length < 20) return
    // Answer the last asked first, each in two pages, the pages of all answers interleaved.
    const asked = held.reverse()
    for (const last of [false, true]) {
      for (const q of asked) send({ queryReply: { requestId: q.query!.requestId, kind: q.query!.kind, last, orders: [{ clientOrderId: q.query!.clientOrderId }] } })
    }
  })
  const client = await connect(t, peer)
  const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => client.query(QueryKind.QUERY_ORDER_STATUS, { clientOrderId: i + 1 })))
  t.same(answers.map((a) => a.orders.map((o) => wireInt(o.clientOrderId))), Array.from({ length: 20 }, (_, i) => [i + 1, i + 1]))
  t.same(answers.map((a) => a.pages), Array.from({ length: 20 }, () => 2))
})

t.test('the convenience calls ask the right kind and return their part of the answer', async (t) => {
  const peer = await scriptedPeer(t, (message, send) => {
    if (message.body !== 'query') return
    const { requestId, kind, clientOrderId } = message.query!
    if (kind === QueryKind.QUERY_FUNDS) send({ queryReply: { requestId, kind, last: true, funds: { fundsFen: 2_000_000_000, reservedFen: 224_000, availableFen: 1_999_776_000 } } })
    if (kind === QueryKind.QUERY_ORDERS) send({ queryReply: { requestId, kind, last: true, orders: [{ clientOrderId: 1 }, { clientOrderId: 2 }] } })
    if (kind === QueryKind.QUERY_TRADES) send({ queryReply: { requestId, kind, last: true, trades: [{ tradeId: 'T1', execId: 'e1', lots: 1 }] } })
    if (kind === QueryKind.QUERY_ORDER_STATUS) {
      if (wireInt(clientOrderId) === 7) send({ queryReply: { requestId, kind, last: true, orders: [{ clientOrderId: 7, cumulativeLots: 1 }] } })
      else send({ queryReply: { requestId, kind, last: true, reason: RejectReason.UNKNOWN_ORDER, text: 'no such order today' } })
    }
  })
  const client = await connect(t, peer)
  t.equal(wireInt((await client.funds()).availableFen), 1_999_776_000)
  t.same((await client.orders('rb2605')).map((o) => wireInt(o.clientOrderId)), [1, 2])
  t.same((await client.trades()).map((tr) => tr.tradeId), ['T1'])
  t.equal((await client.orderStatus(7)).cumulativeLots, 1)
  const unknown = await client.orderStatus(8).then(() => null, (err: unknown) => err)
  t.ok(unknown instanceof ClientRequestError && isGatehouseError(unknown, 'GH_ERR_CLIENT_REFUSED'), 'an unknown order is a refusal')
  t.equal((unknown as ClientRequestError).reason, RejectReason.UNKNOWN_ORDER)
  t.match((unknown as Error).message, /QUERY_ORDER_STATUS .*refused: UNKNOWN_ORDER: no such order today/)
  t.same(peer.sent.filter((m) => m.body === 'query').map((m) => [m.query!.kind, m.query!.instrument, wireInt(m.query!.clientOrderId)]), [
    [QueryKind.QUERY_FUNDS, '', 0],
    [QueryKind.QUERY_ORDERS, 'rb2605', 0],
    [QueryKind.QUERY_TRADES, '', 0],
    [QueryKind.QUERY_ORDER_STATUS, '', 7],
    [QueryKind.QUERY_ORDER_STATUS, '', 8],
  ])
})

t.test('a THROTTLED_QUERY Reject of the request rejects the query and the resend with the reason, limit and observed', async (t) => {
  const peer = await scriptedPeer(t, (message, send) => {
    if (message.body !== 'query' && message.body !== 'resendRequest') return
    // A Reject of another message first: not this request's.
    send({ reject: { reason: RejectReason.THROTTLED_SESSION, refSeq: wireInt(message.seq) + 50 } })
    send({ reject: { reason: RejectReason.THROTTLED_QUERY, text: 'more than 5 queries in 1 s', refSeq: message.seq, limit: 5, observed: 6 } })
  })
  const client = await connect(t, peer)
  for (const ask of [() => client.positions(), () => client.resend(0)]) {
    const err = await ask().then(() => null, (e: unknown) => e)
    t.ok(err instanceof ClientRequestError, 'a ClientRequestError')
    const refused = err as ClientRequestError
    t.equal(refused.code, 'GH_ERR_CLIENT_REFUSED')
    t.equal(refused.reason, RejectReason.THROTTLED_QUERY)
    t.equal(refused.limit, 5)
    t.equal(refused.observed, 6)
    t.match(refused.message, /refused: THROTTLED_QUERY \(limit 5, observed 6\): more than 5 queries in 1 s/)
  }
})

t.test('no complete answer: a timeout and a closed connection reject with GH_ERR_CLIENT_NO_ANSWER', async (t) => {
  const peer = await scriptedPeer(t, (message, send, socket) => {
    if (message.body === 'query' && message.query!.kind === QueryKind.QUERY_ORDERS) {
      send({ queryReply: { requestId: message.query!.requestId, kind: message.query!.kind, last: false, orders: [{ clientOrderId: 1 }] } })
      socket.close()
    }
  })
  const client = await connect(t, peer)
  const silent = await client.query(QueryKind.QUERY_FUNDS, {}, 50).then(() => null, (e: unknown) => e)
  t.ok(isGatehouseError(silent, 'GH_ERR_CLIENT_NO_ANSWER'), 'timed out')
  t.match((silent as Error).message, /no complete answer within 50 ms/)
  const cut = await client.orders().then(() => null, (e: unknown) => e)
  t.ok(isGatehouseError(cut, 'GH_ERR_CLIENT_NO_ANSWER'), 'closed mid-answer')
  t.match((cut as Error).message, /connection closed/)
  const after = await client.resend(0).then(() => null, (e: unknown) => e)
  t.ok(isGatehouseError(after, 'GH_ERR_CLIENT_NO_ANSWER'), 'asked on a closed connection')
})

t.test('an answer beyond maxAnswerEntries rejects with GH_ERR_CLIENT_ANSWER_TOO_LARGE', async (t) => {
  const peer = await scriptedPeer(t, (message, send) => {
    if (message.body !== 'resendRequest') return
    for (let seq = 1; seq <= 5; seq++) send({ executionReport: { ...report(seq), possibleDuplicate: true } })
    send({ resendComplete: { resent: 5, lastReportSeq: 5 } })
  })
  const client = await connect(t, peer, { maxAnswerEntries: 4 })
  const err = await client.resend(0).then(() => null, (e: unknown) => e)
  t.ok(isGatehouseError(err, 'GH_ERR_CLIENT_ANSWER_TOO_LARGE'))
})

t.test('bad arguments are refused before anything is sent', async (t) => {
  const peer = await scriptedPeer(t, (message, send) => {
    if (message.body === 'heartbeat') send({ heartbeat: { testId: message.heartbeat!.testId } })
  })
  const client = await connect(t, peer)
  for (const bad of [-1, 1.5, 2 ** 53]) {
    t.ok(isGatehouseError(await client.resend(bad).then(() => null, (e: unknown) => e), 'GH_ERR_CLIENT_OPTIONS'), `resend(${bad})`)
    t.ok(isGatehouseError(await client.orderStatus(bad).then(() => null, (e: unknown) => e), 'GH_ERR_CLIENT_OPTIONS'), `orderStatus(${bad})`)
  }
  t.throws(() => new ReportMemory(0), { code: 'GH_ERR_CLIENT_OPTIONS' })
  // The peer answers frames in order: once the probe's echo is back, it has seen everything sent before.
  client.send({ heartbeat: { testId: 1 } })
  await client.next((m) => m.body === 'heartbeat')
  t.same(peer.sent.map((m) => m.body), ['heartbeat'], 'nothing but the probe went out')
})

t.test('the duplicate memory through the client: bounded to seenExecIds, the oldest forgotten first', async (t) => {
  const ids = ['a', 'b', 'c', 'd', 'a', 'b', 'd', '', '']
  const peer = await scriptedPeer(t, (message, send) => {
    if (message.body !== 'heartbeat') return
    ids.forEach((execId, i) => { send({ executionReport: report(i + 1, { execId }) }) })
    send({ heartbeat: { testId: message.heartbeat!.testId } })
  })
  const client = await connect(t, peer, { seenExecIds: 3 })
  const duplicates: boolean[] = []
  client.on('executionReport', (_r, duplicate: boolean) => { duplicates.push(duplicate) })
  client.send({ heartbeat: { testId: 1 } })
  await client.next((m) => m.body === 'heartbeat')
  // a, b, c remembered; d evicts a; a (forgotten) is new again and evicts b;
  // b is new again and evicts c; d is still held. An empty exec_id never repeats.
  t.same(duplicates, [false, false, false, false, false, false, true, false, false])
  t.equal(client.lastReportSeq, ids.length)
})

t.test('a reconnect that passes the old connection\'s reports knows what it already had', async (t) => {
  const peer = await scriptedPeer(t, (message, send) => {
    if (message.body === 'heartbeat') {
      for (let seq = 1; seq <= 3; seq++) send({ executionReport: report(seq) })
      send({ heartbeat: { testId: message.heartbeat!.testId } })
    }
    if (message.body === 'resendRequest') {
      // The lane resends from 2 on, as if the client had asked for more than it missed.
      for (let seq = 2; seq <= 5; seq++) send({ executionReport: { ...report(seq), possibleDuplicate: true } })
      send({ resendComplete: { afterReportSeq: message.resendRequest!.afterReportSeq, resent: 4, lastReportSeq: 5 } })
    }
  })
  const first = await connect(t, peer)
  first.send({ heartbeat: { testId: 1 } })
  await first.next((m) => m.body === 'heartbeat')
  t.equal(first.lastReportSeq, 3)
  await first.close()

  const second = await connect(t, peer, { reports: first.reports })
  t.equal(second.lastReportSeq, 3, 'continues from the old connection')
  const { reports } = await second.resend(second.lastReportSeq)
  t.same(peer.sent.filter((m) => m.body === 'resendRequest').map((m) => wireInt(m.resendRequest!.afterReportSeq)), [3])
  t.same(reports.map((r) => [wireInt(r.reportSeq), second.isDuplicate(r)]), [[2, true], [3, true], [4, false], [5, false]])
  t.equal(second.lastReportSeq, 5)

  const fresh = await connect(t, peer)
  t.equal(fresh.lastReportSeq, 0, 'without it, a new connection knows nothing')
})

t.test('ReportMemory agrees with a model: a duplicate iff among the last `capacity` exec_ids remembered', async (t) => {
  t.doesNotThrow(() => fc.assert(fc.property(
    fc.integer({ min: 1, max: 6 }),
    fc.array(fc.constantFrom('', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'), { maxLength: 80 }),
    (capacity, execIds) => {
      const memory = new ReportMemory(capacity)
      const remembered: string[] = []
      for (const execId of execIds) {
        const expected = execId !== '' && remembered.slice(-capacity).includes(execId)
        if (memory.remember(execId) !== expected) return false
        if (execId !== '' && !expected) remembered.push(execId)
        if (memory.size !== Math.min(capacity, remembered.length)) return false
      }
      return true
    }), { numRuns: 500 }))
})

t.test('the default duplicate memory holds SEEN_EXEC_IDS exec_ids', async (t) => {
  t.equal(SEEN_EXEC_IDS, 100_000)
  const memory = new ReportMemory()
  for (let i = 0; i < SEEN_EXEC_IDS + 10; i++) memory.remember(`id-${i}`)
  t.equal(memory.size, SEEN_EXEC_IDS)
  t.equal(memory.remember(`id-${SEEN_EXEC_IDS + 9}`), true, 'the newest is held')
  t.equal(memory.remember('id-9'), false, 'the oldest were forgotten')
})
