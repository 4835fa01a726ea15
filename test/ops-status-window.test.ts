// The status page's window (supervisor/ops/status-window.ts): rates and
// percentiles cover the recent past, not the run. A lane's real metrics
// writer (LaneMetrics) counts into a real shared buffer; the window's
// clock is stepped by the test, so minutes pass at once.
import t from 'tap'
import fc from 'fast-check'
import { HIST_ROUND_TRIP, LaneMetrics, LaneMetricsReader, createLaneMetricsBuffer, histogramQuantile } from '../lane/lane-metrics.js'
import { PERCENTILE_WINDOW_MS, RATE_WINDOW_MS, STATUS_TICK_MS, StatusWindow, daysUntil, type StatusSources } from '../supervisor/ops/status-window.js'
import { buildInfo } from '../supervisor/ops/build-info.js'
import { RejectReason } from '../protocol/messages.js'

function windowOver (buffer: SharedArrayBuffer): { window: StatusWindow, advance: (ms: number) => void } {
  let nowMs = 1_000_000
  const sources: StatusSources = {
    gatewayId: 'gw-window',
    build: buildInfo(),
    lanes: [{ name: 'platform', buffer }],
    link: () => ({ state: 'up', detail: '' }),
    journal: null,
    lockouts: () => ({ accounts: 0, ips: 0, prefixes: 0 }),
    accounts: () => [],
    tradingState: () => 'active',
    killSwitches: () => [],
    heldFingerprints: () => [],
    documents: () => [],
    monitors: () => [],
  }
  const window = new StatusWindow(sources, () => nowMs)
  return { window, advance: (ms) => { nowMs += ms } }
}

t.test('a slow minute leaves the percentiles a minute later', async (t) => {
  const buffer = createLaneMetricsBuffer()
  const lane = new LaneMetrics(buffer)
  const { window, advance } = windowOver(buffer)
  window.tick()
  for (let i = 0; i < 100; i++) lane.roundTrip(500)
  advance(STATUS_TICK_MS)
  window.tick()
  const slow = window.snapshot().lanes[0]!.roundTripS['0.99']!
  t.ok(slow > 0.4 && slow <= 0.5, `while in the window, p99 reads the slow trips (${slow} s)`)

  // A minute and more of quiet, then fast trips.
  for (let s = 0; s < PERCENTILE_WINDOW_MS / STATUS_TICK_MS + 5; s++) {
    advance(STATUS_TICK_MS)
    window.tick()
  }
  t.equal(window.snapshot().lanes[0]!.roundTripS['0.99'], null, 'a window with no trip has no percentile')
  for (let i = 0; i < 100; i++) lane.roundTrip(1)
  advance(STATUS_TICK_MS)
  window.tick()
  const fast = window.snapshot().lanes[0]!.roundTripS['0.99']!
  t.ok(fast <= 0.00125, `a minute later p99 reads only the fast ones (${fast} s)`)
  const lifetime = histogramQuantile(new LaneMetricsReader(buffer).histogram(HIST_ROUND_TRIP), 0.99)!
  t.ok(lifetime > 0.4, `where a lifetime p99 would still say ${lifetime} s`)
})

t.test('rates are over the last 10 s and rejects by reason over the last minute', async (t) => {
  const buffer = createLaneMetricsBuffer()
  const lane = new LaneMetrics(buffer)
  const { window, advance } = windowOver(buffer)
  window.tick()
  for (let i = 0; i < 50; i++) lane.order()
  lane.reject(RejectReason.INSUFFICIENT_FUNDS)
  for (let s = 0; s < RATE_WINDOW_MS / STATUS_TICK_MS; s++) {
    advance(STATUS_TICK_MS)
    window.tick()
  }
  const view = window.snapshot().lanes[0]!
  t.equal(view.perSecond.orders, 5, '50 orders over 10 s read 5 a second')
  t.equal(view.totals.orders, 50)
  t.same(view.rejects, { INSUFFICIENT_FUNDS: 1 }, 'the reject under its reason, and no other')
  for (let s = 0; s < 20; s++) {
    advance(STATUS_TICK_MS)
    window.tick()
  }
  t.equal(window.snapshot().lanes[0]!.perSecond.orders, 0, 'ten quiet seconds later the rate is 0')
  t.same(window.snapshot().lanes[0]!.rejects, { INSUFFICIENT_FUNDS: 1 }, 'the reject stays for the minute')
  for (let s = 0; s < 60; s++) {
    advance(STATUS_TICK_MS)
    window.tick()
  }
  t.same(window.snapshot().lanes[0]!.rejects, {}, 'and then leaves')
})

t.test('property: a window percentile is the percentile of exactly the trips in the window', async (t) => {
  // Steps: observe a trip (ms), or let a second pass. Whatever the mix,
  // the window's p50/p99 equal those of a fresh histogram holding only
  // the trips observed after the tick the window starts from.
  const step = fc.oneof(fc.record({ trip: fc.double({ min: 0.0005, max: 5000, noNaN: true }) }), fc.constant({ second: true as const }))
  fc.assert(fc.property(fc.array(step, { maxLength: 300 }), (steps) => {
    const buffer = createLaneMetricsBuffer()
    const lane = new LaneMetrics(buffer)
    const { window, advance } = windowOver(buffer)
    window.tick()
    const tripsAfterTick: number[][] = [[]]
    for (const s of steps) {
      if ('trip' in s) {
        lane.roundTrip(s.trip)
        tripsAfterTick.at(-1)!.push(s.trip)
      } else {
        advance(STATUS_TICK_MS)
        window.tick()
        tripsAfterTick.push([])
      }
    }
    advance(STATUS_TICK_MS)
    window.tick()
    const ticks = tripsAfterTick.length
    const firstInWindow = Math.max(0, ticks - PERCENTILE_WINDOW_MS / STATUS_TICK_MS)
    const expectedBuffer = createLaneMetricsBuffer()
    const expected = new LaneMetrics(expectedBuffer)
    for (const trips of tripsAfterTick.slice(firstInWindow)) for (const trip of trips) expected.roundTrip(trip)
    const want = new LaneMetricsReader(expectedBuffer).histogram(HIST_ROUND_TRIP)
    const got = window.snapshot().lanes[0]!.roundTripS
    for (const q of [0.5, 0.99]) {
      const w = histogramQuantile(want, q)
      const g = got[String(q)]!
      if (w === null ? g !== null : g === null || Math.abs(g - w) > 1e-12 * Math.max(1, w)) return false
    }
    return true
  }), { numRuns: 150, interruptAfterTimeLimit: 20_000 })
  t.pass('150 runs')
})

t.test('days until a document expires count whole UTC days', async (t) => {
  const noon = Date.parse('2026-03-10T12:00:00Z')
  t.equal(daysUntil('2026-03-10', noon), 0, 'today')
  t.equal(daysUntil('2026-04-09', noon), 30, 'thirty days on')
  t.equal(daysUntil('2026-03-09', noon), -1, 'yesterday: expired')
})
