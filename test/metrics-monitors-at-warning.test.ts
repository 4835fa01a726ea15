// gatehouse_monitors_at_warning and gatehouse_monitors_at_blocking end to
// end: a real gateway (supervisor, lane threads, the exchange simulator
// process), one account whose cancel monitor is tuned low (cancelsWarn 2,
// cancelsBlock 3) and driven through both levels by real cancels, scraped
// over HTTP after each. The status page's feed of monitors near warning
// names the same account at the same time, since both read one source.
//
// No waiting or polling: the lane counts a cancel before it sends its
// CANCELLED report, and /metrics reads the counters when scraped.
import t, { type Test } from 'tap'
import { Side } from '../protocol/messages.js'
import { MONITOR_NAMES } from '../checks/monitor-levels.js'
import type { StatusSnapshot } from '../supervisor/ops/status-window.js'
import { startTestGateway } from './helpers/gateway.js'
import { cancel, logOn, place, tradingAccount } from './helpers/trading.js'
import { parseExposition, sampleValue, type Family } from './helpers/prometheus-text.js'

type Metrics = Map<string, Family>

const ACCOUNT = 'mw-cancels'
const INSTRUMENT = 'IF2606'

const gateway = await startTestGateway({ overrides: { accounts: [ACCOUNT, 'mw-quiet'].map(tradingAccount) } })
t.teardown(() => gateway.stop())

/**
 * The two monitor families of a scrape, checked against the text format.
 * Only their lines: prom-client writes the event-loop lag mean as "Nan"
 * until its first sample, which the format check refuses, and that race
 * is not this test's subject.
 */
async function scrape (t: Test): Promise<Metrics> {
  const res = await fetch(`http://127.0.0.1:${gateway.supervisor.running().ops.port}/metrics`)
  t.equal(res.status, 200, 'GET /metrics is 200')
  const ours = (await res.text()).split('\n').filter((line) => /^(?:# (?:HELP|TYPE) )?gatehouse_monitors_at_(?:warning|blocking)[ {]/.test(line))
  return parseExposition(ours.join('\n') + '\n')
}

const atWarning = (m: Metrics, monitor: string): number => sampleValue(m, 'gatehouse_monitors_at_warning', 'gatehouse_monitors_at_warning', { monitor })
const atBlocking = (m: Metrics, monitor: string): number => sampleValue(m, 'gatehouse_monitors_at_blocking', 'gatehouse_monitors_at_blocking', { monitor })

/** The status page's rows for the account (GET /status/snapshot, what its feed sends). */
async function pageRows (t: Test): Promise<StatusSnapshot['monitorsNearWarning']['rows']> {
  const res = await gateway.ops('/status/snapshot')
  t.equal(res.status, 200, 'GET /status/snapshot is 200')
  const snapshot = await res.json() as StatusSnapshot
  return snapshot.monitorsNearWarning.rows.filter((row) => row.account === ACCOUNT)
}

t.test('the cancel monitor goes 0 → at warning → at blocking on /metrics, by monitor only', async (t) => {
  const fresh = await scrape(t)
  for (const monitor of MONITOR_NAMES) {
    t.equal(atWarning(fresh, monitor), 0, `${monitor}: at warning has a series at 0 from the start`)
    t.equal(atBlocking(fresh, monitor), 0, `${monitor}: at blocking has a series at 0 from the start`)
  }
  for (const family of ['gatehouse_monitors_at_warning', 'gatehouse_monitors_at_blocking']) {
    const samples = fresh.get(family)!.samples
    t.equal(fresh.get(family)!.type, 'gauge', `${family} is a gauge`)
    t.equal(samples.length, MONITOR_NAMES.length, `${family}: one series per monitor`)
    t.ok(samples.every((s) => Object.keys(s.labels).join() === 'monitor'), `${family}: labelled by monitor only, never by account`)
  }

  const trader = await logOn(gateway, 'platform', ACCOUNT)
  gateway.supervisor.risk.setLimits({ kind: 'account', account: ACCOUNT }, { cancelsWarn: 2, cancelsBlock: 3 })
  const bidAndCancel = async (): Promise<void> => {
    const bid = await place(trader, { instrument: INSTRUMENT, side: Side.BUY, price: 44000, quantityLots: 1 })
    await cancel(trader, bid.id)
  }

  await bidAndCancel()
  const below = await scrape(t)
  t.equal(atWarning(below, 'cancels'), 0, 'one cancel, warning level 2: not at warning')
  t.same(await pageRows(t), [], 'nor near it on the status page (1 < 0.8 × 2)')

  await bidAndCancel()
  const warned = await scrape(t)
  t.equal(atWarning(warned, 'cancels'), 1, 'the second cancel reaches the warning level: 1')
  t.equal(atBlocking(warned, 'cancels'), 0, 'not yet at blocking')
  for (const monitor of MONITOR_NAMES.filter((m) => m !== 'cancels')) t.equal(atWarning(warned, monitor), 0, `${monitor} stays 0`)
  t.same((await pageRows(t)).map((r) => [r.instrument, r.monitor, r.observed, r.warning, r.blocking]), [[INSTRUMENT, 'cancels', 2, 2, 3]],
    'the status page shows the same monitor at the same reading')

  await bidAndCancel()
  const blocked = await scrape(t)
  t.equal(atBlocking(blocked, 'cancels'), 1, 'the third cancel reaches the blocking level: 1')
  t.equal(atWarning(blocked, 'cancels'), 1, 'and at warning still counts it (at or above)')

  // A second account at its warning on the same monitor adds to the same series.
  const quiet = await logOn(gateway, 'platform', 'mw-quiet')
  gateway.supervisor.risk.setLimits({ kind: 'account', account: 'mw-quiet' }, { cancelsWarn: 1, cancelsBlock: 5 })
  const bid = await place(quiet, { instrument: INSTRUMENT, side: Side.BUY, price: 44000, quantityLots: 1 })
  await cancel(quiet, bid.id)
  const two = await scrape(t)
  t.equal(atWarning(two, 'cancels'), 2, 'two accounts at warning on cancels: 2')
  t.equal(atBlocking(two, 'cancels'), 1, 'one of them at blocking')
  t.equal(two.get('gatehouse_monitors_at_warning')!.samples.length, MONITOR_NAMES.length, 'still one series per monitor')

  await Promise.all([trader.client.logout(), quiet.client.logout()])
})
