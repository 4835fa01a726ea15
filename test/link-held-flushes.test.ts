// The exchange link's two ways of flushing (lane/exchange-link.ts), over
// real loopback TCP. Batching lanes: frames queued in a turn are committed
// and written once, on setImmediate, never inside send(). The hft lane
// holds flushes while it handles one message and releases them at its end:
// nothing is scheduled for the end of the turn meanwhile, and the release
// commits (write-ahead) and writes at once, before it returns.
import t, { type Test } from 'tap'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { ExchangeLink, type LinkRecorder } from '../lane/exchange-link.js'
import { startLinkPeer, type LinkPeer } from './helpers/link-peer.js'

/** Counts commits, and which sends each one covered. */
class CountingRecorder implements LinkRecorder {
  commits = 0
  recordedOut = 0
  /** recordedOut at each commit: a commit covers every frame recorded before it. */
  readonly coveredAtCommit: number[] = []
  recordLinkOut (): void { this.recordedOut++ }
  recordLinkIn (): void {}
  commitJournal (): boolean {
    this.commits++
    this.coveredAtCommit.push(this.recordedOut)
    return true
  }
}

async function upLink (t: Test): Promise<{ link: ExchangeLink, peer: LinkPeer, recorder: CountingRecorder }> {
  const peer = await startLinkPeer()
  const recorder = new CountingRecorder()
  let linkUp!: () => void
  const up = new Promise<void>((resolve) => { linkUp = resolve })
  const link = new ExchangeLink({
    host: '127.0.0.1', port: peer.port, memberId: '0188', sessionName: 'gw1-held', heartbeatIntervalMs: 60_000, reconnectDelayMs: 10, maxReconnectDelayMs: 50,
  }, {
    onLinkUp: () => { linkUp() },
    onLinkDown: () => {},
    onReport: () => {},
    onInstrumentUpdate: () => {},
    onChunkStart: () => {},
    onChunkEnd: () => {},
  }, recorder)
  t.teardown(async () => {
    await link.close()
    peer.server.close()
  })
  link.connect()
  await peer.connection
  await up
  return { link, peer, recorder }
}

const order = (orderId: number): Parameters<ExchangeLink['send']>[0] =>
  ({ newOrder: { orderId, account: 'a1', instrument: 'rb2605', side: 1, price: 3200, quantityLots: 1, timeInForce: 1 } })

t.test('batching: a turn\'s sends are committed and written once, at the end of the turn', async (t) => {
  const { link, peer, recorder } = await upLink(t)
  const before = recorder.commits
  for (let id = 1; id <= 3; id++) t.ok(link.send(order(id), null) > 0)
  t.equal(recorder.commits, before, 'nothing committed inside send()')
  await nextTurn()
  t.equal(recorder.commits, before + 1, 'one commit for the turn')
  t.equal(recorder.coveredAtCommit.at(-1), recorder.recordedOut, 'it covers all three frames')
  await peer.receivedAtLeast(3)
  t.same(peer.received.map((e) => Number(e.newOrder?.orderId)), [1, 2, 3])
})

t.test('held: nothing waits for the end of the turn; the release commits, then writes, before it returns', async (t) => {
  const { link, peer, recorder } = await upLink(t)
  const before = recorder.commits
  link.holdFlushes()
  for (let id = 1; id <= 3; id++) link.send(order(id), null)
  await nextTurn()
  t.equal(recorder.commits, before, 'held across a turn: no setImmediate flush')
  link.releaseFlushes()
  t.equal(recorder.commits, before + 1, 'committed inside releaseFlushes()')
  t.equal(recorder.coveredAtCommit.at(-1), recorder.recordedOut, 'covering every held frame (write-ahead)')
  await peer.receivedAtLeast(3)
  t.same(peer.received.map((e) => Number(e.newOrder?.orderId)), [1, 2, 3], 'written in order')
  // Released: the link batches per turn again.
  link.send(order(4), null)
  t.equal(recorder.commits, before + 1)
  await nextTurn()
  t.equal(recorder.commits, before + 2, 'back to one flush at the end of the turn')
  link.holdFlushes()
  link.releaseFlushes()
  t.equal(recorder.commits, before + 2, 'a release with nothing held commits nothing')
})
