// The journal's disk, watched: the run directory is a real 32 MiB tmpfs
// filled with a ballast file. Below the low watermark new logons are
// refused with DISK_SPACE_LOW and ops are told (event and gauges) while a
// logged-on session keeps trading; with space back, logons pass again;
// below the hard floor the lanes fail closed before a write can fail.
import t from 'tap'
import { execFileSync } from 'node:child_process'
import { once } from 'node:events'
import { mkdtempSync, rmSync, statfsSync, unlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { ExecType, RejectReason, Side, TimeInForce } from '../protocol/messages.js'
import type { LaneToSupervisor } from '../lane/worker-contract.js'
import { startTestGateway } from './helpers/gateway.js'
import { parseExposition, sampleValue } from './helpers/prometheus-text.js'
import { TEST_IDENTITY } from './helpers/trading.js'

const MiB = 1024 * 1024
const LOW = 12 * MiB
const FLOOR = 4 * MiB

// Not t.testdir(): tap removes that before teardowns run, and a mounted directory cannot be removed.
const runDir = mkdtempSync(join(tmpdir(), 'gatehouse-disk-'))
execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=32m', 'tmpfs', runDir])

const gateway = await startTestGateway({
  overrides: {
    runDir,
    journal: { maxSegmentBytes: MiB, disk: { checkIntervalMs: 100, lowWatermarkBytes: LOW, lowWatermarkPercent: 0, floorBytes: FLOOR } },
  },
})
t.teardown(async () => {
  await gateway.stop()
  execFileSync('umount', ['-l', runDir])
  rmSync(runDir, { recursive: true, force: true })
})
type DiskEvent = Extract<LaneToSupervisor, { type: 'disk-space' }>
const diskEvents: DiskEvent[] = []
const waiters: Array<() => void> = []
const previous = gateway.supervisor.onLaneEvent
gateway.supervisor.onLaneEvent = (event) => {
  if (event.type === 'disk-space') {
    diskEvents.push(event)
    waiters.splice(0).forEach((wake) => { wake() })
  }
  previous(event)
}
/** Resolves with the platform lane's first disk-space event of this state from index `from` on. */
async function diskEvent (state: DiskEvent['state'], from: number): Promise<DiskEvent> {
  for (;;) {
    const seen = diskEvents.slice(from).find((e) => e.lane === 'platform' && e.state === state)
    if (seen !== undefined) return seen
    await new Promise<void>((resolve) => { waiters.push(resolve) })
  }
}

const ballast = join(runDir, 'ballast')
/** Fills the file system until about `freeBytes` remain. */
function fillTo (freeBytes: number): void {
  const stats = statfsSync(runDir)
  const free = stats.bavail * stats.bsize
  writeFileSync(ballast, Buffer.alloc(Math.max(0, free - freeBytes)))
}

async function metric (name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${gateway.supervisor.running().ops.port}/metrics`)).text()
  return sampleValue(parseExposition(text), name, name, { lane: 'platform' })
}

const url = gateway.url('platform')
const trader = await GatehouseClient.connect(url)
t.equal((await trader.logon('demo-maker', 'maker-pass', TEST_IDENTITY)).ok, true, 'logged on while the disk has room')
let orderId = 0
async function trades (): Promise<boolean> {
  const id = ++orderId
  trader.newOrder({ clientOrderId: id, instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 1, timeInForce: TimeInForce.FAK })
  return (await trader.report(id)).execType === ExecType.ACK
}

t.test('below the low watermark: new logons refused, ops told, logged-on sessions trade; back above: logons pass', async (t) => {
  const from = diskEvents.length
  fillTo(8 * MiB)
  const low = await diskEvent('low', from)
  t.match(low, { lowWatermarkBytes: LOW, floorBytes: FLOOR }, 'a disk-space event says low, with the marks')
  t.ok(low.freeBytes < LOW && low.freeBytes > FLOOR, `and the free bytes (${low.freeBytes})`)
  t.equal(await metric('gatehouse_journal_disk_low'), 1, 'gatehouse_journal_disk_low is 1')
  t.ok(await metric('gatehouse_journal_disk_free_bytes') < LOW, 'gatehouse_journal_disk_free_bytes is below the watermark')
  t.equal(await metric('gatehouse_journal_disk_low_watermark_bytes'), LOW)

  const refused = await GatehouseClient.connect(url)
  const result = await refused.logon('demo-taker', 'taker-pass', TEST_IDENTITY)
  t.equal(result.ok, false, 'a new logon is refused')
  t.equal(result.reason, RejectReason.DISK_SPACE_LOW, 'with DISK_SPACE_LOW')
  t.match(result.text, /below its low watermark/, 'saying why')
  t.ok(await trades(), 'the logged-on session keeps trading')

  const back = diskEvents.length
  unlinkSync(ballast)
  await diskEvent('ok', back)
  t.equal(await metric('gatehouse_journal_disk_low'), 0, 'the gauge is back to 0')
  t.equal((await refused.login('demo-taker', 'taker-pass')).ok, true, 'with space back, the same connection logs on')
  await refused.logout()
})

t.test('below the floor: the lane fails closed before any write fails', async (t) => {
  const from = diskEvents.length
  const closed = once(trader, 'close')
  fillTo(2 * MiB)
  await diskEvent('floor', from)
  const [code] = await closed as [number]
  t.equal(code, 1011, 'sessions are closed (1011), as when the journal fails')
  t.equal(await metric('gatehouse_journal_disk_low'), 2, 'gatehouse_journal_disk_low is 2')
  await t.rejects(GatehouseClient.connect(url), /503/, 'new connections get 503')
  unlinkSync(ballast)
})
