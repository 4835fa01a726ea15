// /metrics end to end: a real gateway (supervisor, lane threads, the
// exchange simulator process), traded through and scraped over HTTP before
// and after. Every scrape must parse as the Prometheus text format
// (helpers/prometheus-text.ts checks each line and each histogram), and
// the figures must move by exactly what the traffic did.
//
// No waiting or polling: each scrape follows the client's receipt of the
// last message it covers, and a lane updates its counters before it sends.
import t, { type Test } from 'tap'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { DEMO_TERMINAL_INFO } from '../protocol/demo-identity.js'
import { LANE_NAMES, type LaneName } from '../protocol/lanes.js'
import { DASHBOARD_BOUNDS_S } from '../supervisor/ops/metrics.js'
import { ExecType, RejectReason, Side, wireInt, type Instrument } from '../protocol/messages.js'
import { startTestGateway } from './helpers/gateway.js'
import { PASSWORD, logOn, place, tradingAccount, TEST_IDENTITY } from './helpers/trading.js'
import { parseExposition, sampleValue, type Family } from './helpers/prometheus-text.js'

type Metrics = Map<string, Family>

const gateway = await startTestGateway({
  overrides: {
    accounts: ['mx-maker', 'mx-taker', 'mx-funds', 'mx-held', 'mx-locked'].map(tradingAccount),
    // Two failed passwords lock the account and the address (tested last).
    security: { maxFailures: 2 },
  },
})
t.teardown(() => gateway.stop())

async function scrape (t: Test): Promise<Metrics> {
  const res = await fetch(`http://127.0.0.1:${gateway.supervisor.running().ops.port}/metrics`)
  t.equal(res.status, 200, 'GET /metrics is 200')
  t.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8', 'Prometheus text format 0.0.4')
  const metrics = parseExposition(await res.text())
  t.ok(metrics.size > 0, 'the exposition parses as Prometheus text format')
  return metrics
}

/** A counter or gauge's value. */
const value = (m: Metrics, name: string, labels: Record<string, string>): number => sampleValue(m, name, name, labels)
/** A histogram's _count. */
const count = (m: Metrics, name: string, labels: Record<string, string>): number => sampleValue(m, name, `${name}_count`, labels)
const sum = (m: Metrics, name: string, labels: Record<string, string>): number => sampleValue(m, name, `${name}_sum`, labels)
/** Change of a counter or gauge between two scrapes. */
const delta = (before: Metrics, after: Metrics, name: string, labels: Record<string, string>): number =>
  value(after, name, labels) - value(before, name, labels)
const countDelta = (before: Metrics, after: Metrics, name: string, labels: Record<string, string>): number =>
  count(after, name, labels) - count(before, name, labels)
/** Sum of every series of a family. */
const total = (m: Metrics, name: string): number => m.get(name)!.samples.reduce((acc, s) => acc + s.value, 0)
const lane = (name: LaneName): { lane: LaneName } => ({ lane: name })

let fresh: Metrics

t.test('the format check refuses what Prometheus would', async (t) => {
  const good = '# HELP x_seconds A histogram.\n# TYPE x_seconds histogram\n' +
    'x_seconds_bucket{lane="a",le="0.1"} 1\nx_seconds_bucket{lane="a",le="+Inf"} 2\nx_seconds_sum{lane="a"} 0.3\nx_seconds_count{lane="a"} 2\n' +
    '# TYPE y_total counter\ny_total{reason="A\\"B"} 3\n'
  t.equal(parseExposition(good).get('y_total')!.samples[0]!.labels.reason, 'A"B', 'a good exposition parses, escapes undone')
  const bad: Array<[string, string, RegExp]> = [
    ['# TYPE a-b gauge\na-b 1\n', 'a metric name with a dash', /invalid metric name/],
    ['# TYPE a gauge\na Nan\n', 'prom-client\'s old spelling of NaN', /invalid value 'Nan'/],
    ['# TYPE a gauge\na{l="x} 1\n', 'an unterminated label value', /unterminated value/],
    ['# TYPE a gauge\na{l="\\q"} 1\n', 'an invalid escape', /invalid escape/],
    ['# TYPE a gauge\na 1', 'no final newline', /end with a newline/],
    ['# TYPE a gauge\na{l="1"} 1\na{l="1"} 2\n', 'a series twice', /series given twice/],
    ['# TYPE a gauge\na 1\n# TYPE b gauge\nb 1\na 2\n', 'a family resumed', /resume after another family/],
    ['# TYPE a counter\na -1\n', 'a negative counter', /non-negative/],
    ['# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 2\n', '+Inf bucket differs from _count', /differs from _count/],
    ['# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="2"} 1\nh_bucket{le="+Inf"} 2\nh_sum 1\nh_count 2\n', 'decreasing buckets', /counts decrease/],
  ]
  for (const [text, what, message] of bad) t.throws(() => parseExposition(text), { message }, what)
})

t.test('a fresh gateway: every lane, link up, nothing counted yet', async (t) => {
  fresh = await scrape(t)
  for (const name of LANE_NAMES) {
    t.equal(value(fresh, 'gatehouse_exchange_link_up', lane(name)), 1, `${name}: exchange link up`)
    t.equal(value(fresh, 'gatehouse_lane_sessions', { lane: name, state: 'connected' }), 0, `${name}: no session`)
    t.equal(value(fresh, 'gatehouse_messages_in_total', lane(name)), 0, `${name}: no message in`)
    t.equal(value(fresh, 'gatehouse_rejects_total', { lane: name, reason: 'INSUFFICIENT_FUNDS' }), 0, `${name}: each reason has a series from the start`)
    t.equal(count(fresh, 'gatehouse_round_trip_seconds', lane(name)), 0, `${name}: no round trip`)
    const buckets = fresh.get('gatehouse_order_check_seconds')!.samples.filter((s) => s.name.endsWith('_bucket') && s.labels.lane === name)
    t.same(buckets.map((s) => s.labels.le), [...DASHBOARD_BOUNDS_S.map(String), '+Inf'], `${name}: 1-2.5-5 buckets from 1 µs to 10 s, then +Inf`)
    t.ok(value(fresh, 'gatehouse_thread_heap_used_bytes', { thread: name }) > 0, `${name}: the lane thread's heap is sampled from the start`)
    t.ok(value(fresh, 'gatehouse_thread_event_loop_delay_p99_seconds', { thread: name }) >= 0, `${name}: its event-loop delay has a series`)
    t.equal(value(fresh, 'gatehouse_journal_write_failed', { stream: name }), 0, `${name}: journal stream healthy`)
  }
  t.notOk([...fresh.keys()].some((name) => name.endsWith('_quantile_seconds')), 'no lifetime percentile gauge (they never decay)')
  const series = [...fresh.values()].reduce((n, family) => n + family.samples.length, 0)
  const bucketSeries = [...fresh.values()].reduce((n, family) => n + family.samples.filter((s) => s.name.endsWith('_bucket') && s.name.startsWith('gatehouse_')).length, 0)
  // 3 histograms × 3 lanes × (22 bounds + Inf); before the cut it was 81 bounds each (738 series).
  t.equal(bucketSeries, 3 * LANE_NAMES.length * (DASHBOARD_BOUNDS_S.length + 1), `the latency histograms expose ${bucketSeries} bucket series`)
  t.ok(series < 650, `${series} series in all, under the budget of 650 (docs/metrics.md)`)
  const build = fresh.get('gatehouse_build_info')!.samples[0]!
  t.equal(build.value, 1, 'gatehouse_build_info is 1')
  t.equal(build.labels.node, process.versions.node, 'and names the Node version')
  t.match(build.labels.version, /^\d+\.\d+\.\d+/, 'and the package version')
  t.ok(value(fresh, 'process_resident_memory_bytes', {}) > 0, 'process metrics under their usual names')
  t.ok(value(fresh, 'gatehouse_thread_heap_used_bytes', { thread: 'supervisor' }) > 0, 'the supervisor thread is sampled too')
  t.ok(value(fresh, 'gatehouse_journal_records_total', { stream: 'supervisor' }) > 0, 'the supervisor journaled the start')
  t.equal(value(fresh, 'gatehouse_lockouts', { kind: 'account' }), 0)
  t.equal(value(fresh, 'gatehouse_lockouts', { kind: 'ip' }), 0)
  t.equal(value(fresh, 'gatehouse_fingerprints_held', {}), 0)
})

t.test('trading moves the counters by what the traffic did', async (t) => {
  const before = await scrape(t)
  const maker = await logOn(gateway, 'platform', 'mx-maker')
  const taker = await logOn(gateway, 'platform', 'mx-taker')
  const poor = await logOn(gateway, 'hft', 'mx-funds')
  const rb = (maker.logon.instruments as Instrument[]).find((i) => i.symbol === 'rb2605')!
  const price = wireInt(rb.referencePrice)

  // platform: two orders acknowledged, one fill between them, one cancel refused by the gateway.
  const sell = await place(maker, { instrument: 'rb2605', side: Side.SELL, price, quantityLots: 2 })
  t.equal(sell.report.execType, ExecType.ACK, 'maker acked')
  const buy = await place(taker, { instrument: 'rb2605', side: Side.BUY, price, quantityLots: 1 })
  t.equal(buy.report.execType, ExecType.ACK, 'taker acked')
  await taker.client.report(buy.id, ExecType.FILL)
  await maker.client.report(sell.id, ExecType.PARTIAL_FILL)
  const unknown = await maker.client.reject(maker.client.cancel(424_242))
  t.equal(unknown.reason, RejectReason.UNKNOWN_ORDER, 'cancel of an unknown order refused')

  // hft: one order refused by the risk check.
  gateway.supervisor.risk.setLimit({ kind: 'account', account: 'mx-funds' }, 'funds', 1)
  const refused = await place(poor, { instrument: 'rb2605', side: Side.BUY, price, quantityLots: 1 })
  t.equal(refused.report.reason, RejectReason.INSUFFICIENT_FUNDS, 'hft order refused for funds')

  const after = await scrape(t)
  const platform = lane('platform')
  const hft = lane('hft')

  t.equal(value(after, 'gatehouse_lane_sessions', { lane: 'platform', state: 'connected' }), 2, 'platform: two sessions connected')
  t.equal(value(after, 'gatehouse_lane_sessions', { lane: 'platform', state: 'logged_on' }), 2, 'platform: both logged on')
  t.equal(value(after, 'gatehouse_lane_sessions', { lane: 'hft', state: 'connected' }), 1, 'hft: one session')
  t.equal(value(after, 'gatehouse_lane_sessions', { lane: 'hft', state: 'logged_on' }), 1)
  t.equal(value(after, 'gatehouse_lane_sessions', { lane: 'terminal', state: 'connected' }), 0, 'terminal: none')

  // In: three logon steps per session, then orders and cancels.
  t.equal(delta(before, after, 'gatehouse_messages_in_total', platform), (3 + 1 + 1) + (3 + 1), 'platform: every frame in')
  t.equal(delta(before, after, 'gatehouse_messages_in_total', hft), 3 + 1, 'hft: every frame in')
  // Out: everything the clients received (the gateway's seq is gapless and nothing else is in flight).
  t.equal(delta(before, after, 'gatehouse_messages_out_total', platform), maker.client.received.length + taker.client.received.length, 'platform: every message out')
  t.equal(delta(before, after, 'gatehouse_messages_out_total', hft), poor.client.received.length, 'hft: every message out')

  t.equal(delta(before, after, 'gatehouse_orders_total', platform), 2, 'platform: two orders')
  t.equal(delta(before, after, 'gatehouse_orders_forwarded_total', platform), 2, 'platform: both forwarded')
  t.equal(delta(before, after, 'gatehouse_cancels_total', platform), 1, 'platform: one cancel')
  t.equal(delta(before, after, 'gatehouse_orders_total', hft), 1, 'hft: one order')
  t.equal(delta(before, after, 'gatehouse_orders_forwarded_total', hft), 0, 'hft: none forwarded')

  t.equal(delta(before, after, 'gatehouse_rejects_total', { lane: 'platform', reason: 'UNKNOWN_ORDER' }), 1, 'the Reject under its reason')
  t.equal(delta(before, after, 'gatehouse_rejects_total', { lane: 'hft', reason: 'INSUFFICIENT_FUNDS' }), 1, 'the REJECTED report under its reason')
  t.equal(total(after, 'gatehouse_rejects_total') - total(before, 'gatehouse_rejects_total'), 2, 'and no other reject anywhere')

  t.equal(countDelta(before, after, 'gatehouse_order_check_seconds', platform), 2, 'platform: both orders\' checks timed')
  t.equal(countDelta(before, after, 'gatehouse_order_check_seconds', hft), 1, 'hft: the refused order\'s checks timed too')
  t.ok(sum(after, 'gatehouse_order_check_seconds', hft) > 0, 'check time is positive')

  const acks = [...maker.client.received, ...taker.client.received]
    .filter((m) => m.body === 'executionReport' && m.executionReport!.execType === ExecType.ACK).length
  t.equal(acks, 2)
  t.equal(countDelta(before, after, 'gatehouse_round_trip_seconds', platform), acks, 'platform: one round trip per order acknowledged')
  t.equal(countDelta(before, after, 'gatehouse_round_trip_seconds', hft), 0, 'hft: a refused order makes no round trip')
  t.ok(sum(after, 'gatehouse_round_trip_seconds', platform) > 0, 'round-trip time is positive')
  const rtBuckets = after.get('gatehouse_round_trip_seconds')!.samples.filter((s) => s.name.endsWith('_bucket') && s.labels.lane === 'platform')
  t.equal(rtBuckets.at(-1)!.value, count(after, 'gatehouse_round_trip_seconds', platform), 'the +Inf bucket holds every round trip')
  t.ok(rtBuckets.some((s) => s.labels.le !== '+Inf' && s.value > 0), 'and the round trips fall in a finite dashboard bucket')

  for (const name of LANE_NAMES) t.equal(value(after, 'gatehouse_exchange_link_up', lane(name)), 1, `${name}: link still up`)

  for (const stream of ['platform', 'hft', 'supervisor']) {
    t.ok(delta(before, after, 'gatehouse_journal_records_total', { stream }) > 0, `${stream}: journal records written`)
    t.ok(delta(before, after, 'gatehouse_journal_bytes_total', { stream }) > 0, `${stream}: journal bytes written`)
    t.ok(delta(before, after, 'gatehouse_journal_commits_total', { stream }) > 0, `${stream}: journal commits`)
    t.equal(value(after, 'gatehouse_journal_write_failed', { stream }), 0, `${stream}: no write error`)
    // The link's heartbeats may be mid-turn at scrape time: the lag is
    // small, never negative, and gone within a turn.
    const age = value(after, 'gatehouse_journal_uncommitted_age_seconds', { stream })
    t.ok(age >= 0 && age < 5, `${stream}: uncommitted age ${age} s`)
    t.ok(value(after, 'gatehouse_journal_uncommitted_records', { stream }) >= 0, `${stream}: uncommitted records`)
  }
  t.ok(countDelta(before, after, 'gatehouse_journal_commit_seconds', { stream: 'platform' }) > 0, 'platform: commits timed')
  await Promise.all([maker.client.logout(), taker.client.logout(), poor.client.logout()])
})

t.test('held fingerprints and lockouts', async (t) => {
  const before = await scrape(t)
  // The platform lane holds a terminal it has not seen for the account.
  const heldClient = await GatehouseClient.connect(gateway.url('platform'))
  const held = await heldClient.logon('mx-held', PASSWORD, { ...TEST_IDENTITY, terminalInfo: { ...DEMO_TERMINAL_INFO, deviceName: 'metrics-held-box' } })
  t.equal(held.reason, RejectReason.FINGERPRINT_HELD, 'a new terminal is held')
  await heldClient.close()
  // Last in this file: two wrong passwords lock the account and 127.0.0.1.
  const client = await GatehouseClient.connect(gateway.url('terminal'))
  t.equal((await client.logon('mx-locked', 'wrong-1', TEST_IDENTITY)).reason, RejectReason.INVALID_CREDENTIALS)
  t.equal((await client.login('mx-locked', 'wrong-2')).reason, RejectReason.INVALID_CREDENTIALS)
  await client.close()

  const after = await scrape(t)
  t.equal(value(after, 'gatehouse_fingerprints_held', {}), 1, 'one fingerprint held')
  t.equal(value(after, 'gatehouse_lockouts', { kind: 'account' }), 1, 'the account is locked out')
  t.equal(value(after, 'gatehouse_lockouts', { kind: 'ip' }), 1, 'and the address')
  t.equal(total(after, 'gatehouse_rejects_total'), total(before, 'gatehouse_rejects_total'), 'refused logon steps are answered in their replies, not counted as rejects')
})
