// The live status page, end to end: a real gateway (supervisor, lane
// threads, the exchange simulator process) and the page loaded in Debian's
// headless Chromium through playwright-core. The browser asks for the ops
// token (the port is off loopback), follows the server-sent event feed,
// and the test trades through the gateway with the client library and
// waits for the page's numbers to change: no reload, no sleep, only DOM
// changes awaited. A screenshot is taken (into docs/images/status-page.png,
// the README's, only when UPDATE_SCREENSHOT=1: a test run leaves the
// checkout as it was).
//
// Then, over plain HTTP on a loopback port: the probes, the page's
// headers, the Host guard against DNS rebinding, and the feed's budget.
import t from 'tap'
import { mkdirSync, mkdtempSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { get, type IncomingMessage } from 'node:http'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { DEMO_APP_ID } from '../protocol/demo-identity.js'
import { ExecType, RejectReason, Side, wireInt, type Instrument } from '../protocol/messages.js'
import { MAX_STATUS_FEEDS } from '../supervisor/ops/ops-server.js'
import { startTestGateway } from './helpers/gateway.js'
import { rawHttp, request } from './helpers/raw-http.js'
import { cancel, logOn, place, tradingAccount } from './helpers/trading.js'

// The page's globals, as the functions evaluated in it see them.
declare const document: { getElementById: (id: string) => { textContent: string | null } | null }
declare const window: Record<string, unknown>

const CHROMIUM = '/usr/bin/chromium'
// Without the background-networking flags Chromium waits on a network this machine does not have.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync']
const SCREENSHOT = process.env.UPDATE_SCREENSHOT === '1'
  ? fileURLToPath(new URL('../../docs/images/status-page.png', import.meta.url))
  : join(mkdtempSync(join(tmpdir(), 'gh-status-shot-')), 'status-page.png')
/** How long one awaited page change may take before the test fails (the feed sends every second). */
const PAGE_WAIT_MS = 20_000

/** Resolves when the page shows `text` (a substring) in the element with this id. */
async function pageShows (page: Page, id: string, text: string): Promise<string> {
  const handle = await page.waitForFunction(([id, text]) => {
    const content = document.getElementById(id)?.textContent ?? ''
    return content.includes(text) ? content : false
  }, [id, text] as const, { timeout: PAGE_WAIT_MS })
  return await handle.jsonValue() as string
}

/** Resolves with the number the element starts with once it equals `target` (op 'eq') or exceeds it ('gt'). */
async function pageNumber (page: Page, id: string, op: 'eq' | 'gt', target: number): Promise<number> {
  // No eval in the page (its CSP forbids it): the comparison is spelled out.
  const handle = await page.waitForFunction(([id, op, target]) => {
    const value = Number.parseFloat(document.getElementById(id)?.textContent ?? 'NaN')
    // In an array: a bare 0 would read as "not yet" (the wait is for a truthy value).
    return (op === 'eq' ? value === target : value > target) ? [value] : false
  }, [id, op, target] as const, { timeout: PAGE_WAIT_MS })
  return (await handle.jsonValue() as [number])[0]
}

t.test('the page in Chromium: token prompt, then live numbers as the gateway trades', async (t) => {
  const gateway = await startTestGateway({
    overrides: {
      accounts: ['st-maker', 'st-taker', 'st-funds'].map(tradingAccount),
      // Off loopback (every address, reached here over 127.0.0.1): the status routes need the token.
      ops: { host: '0.0.0.0', allowInsecureNonLoopback: true },
    },
  })
  t.teardown(() => gateway.stop())
  const port = gateway.supervisor.running().ops.port
  const base = `http://127.0.0.1:${port}`

  const browser: Browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS })
  t.teardown(() => browser.close())
  const page = await browser.newPage({ viewport: { width: 1500, height: 900 } })
  const problems: string[] = []
  page.on('pageerror', (err) => { problems.push(`page error: ${err.message}`) })
  // Refused fetches (401 before the token, the favicon's 404) log "Failed to load resource"; anything else, a CSP violation included, is a problem.
  page.on('console', (message) => { if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console: ${message.text()}`) })
  const foreign: string[] = []
  page.on('request', (req) => { if (!req.url().startsWith(`${base}/`)) foreign.push(req.url()) })

  await page.goto(`${base}/status`)
  await page.waitForSelector('#login:not([hidden])', { timeout: PAGE_WAIT_MS })
  t.pass('off loopback the page asks for the ops token first')
  t.equal(await page.locator('#lanes tr').count(), 0, 'and shows no figure without it')
  await page.fill('#token', 'not-the-token-at-all-0123456789')
  await page.click('#login button')
  await pageShows(page, 'login-error', 'refused')
  t.pass('a wrong token is refused')
  await page.fill('#token', gateway.opsToken())
  await page.click('#login button')
  await pageShows(page, 'feed', 'live')
  t.pass('the right token opens the page and the feed goes live')
  const cookies = await page.context().cookies()
  const cookie = cookies.find((c) => c.name === 'gatehouse_status')
  t.ok(cookie !== undefined && cookie.httpOnly && cookie.sameSite === 'Strict' && cookie.path === '/status', 'kept as an HttpOnly, SameSite=Strict cookie scoped to /status')
  t.not(cookie?.value, gateway.opsToken(), 'holding a value derived from the token, not the token')

  for (const lane of ['terminal', 'platform', 'hft']) t.match(await pageShows(page, `${lane}-link`, 'up'), /^up/, `${lane}: link up`)
  t.equal(await pageNumber(page, 'platform-orders', 'eq', 0), 0, 'no order yet')
  // A marker only this load of the page has: still there at the end means no reload.
  await page.evaluate(() => { window.loadMarker = 42 })

  // A document about to expire, and a monitor close to its warning level.
  const soon = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10)
  gateway.supervisor.admin.addAppEvidence('status-test', DEMO_APP_ID, { document: { name: 'vendor self-assessment', expires: soon } })
  gateway.supervisor.risk.setLimit({ kind: 'account', account: 'st-maker' }, 'hfDailyWarn', 2)

  const maker = await logOn(gateway, 'platform', 'st-maker')
  const taker = await logOn(gateway, 'platform', 'st-taker')
  const poor = await logOn(gateway, 'hft', 'st-funds')
  t.equal(await pageNumber(page, 'platform-sessions', 'eq', 2), 2, 'the page counts two logged-on sessions on platform')

  const rb = (maker.logon.instruments as Instrument[]).find((i) => i.symbol === 'rb2605')!
  const price = wireInt(rb.referencePrice)
  const sell = await place(maker, { instrument: 'rb2605', side: Side.SELL, price, quantityLots: 2 })
  t.equal(sell.report.execType, ExecType.ACK)
  const buy = await place(taker, { instrument: 'rb2605', side: Side.BUY, price, quantityLots: 1 })
  t.equal(buy.report.execType, ExecType.ACK)
  await taker.client.report(buy.id, ExecType.FILL)
  await cancel(maker, sell.id)
  gateway.supervisor.risk.setLimit({ kind: 'account', account: 'st-funds' }, 'funds', 1)
  const refused = await place(poor, { instrument: 'rb2605', side: Side.BUY, price, quantityLots: 1 })
  t.equal(refused.report.reason, RejectReason.INSUFFICIENT_FUNDS)

  t.equal(await pageNumber(page, 'platform-orders', 'eq', 2), 2, 'the page shows both platform orders')
  t.ok(await pageNumber(page, 'platform-orderRate', 'gt', 0) > 0, 'and a rate of orders per second above 0')
  t.ok(await pageNumber(page, 'platform-inRate', 'gt', 0) > 0, 'and of messages in')
  t.match(await pageShows(page, 'platform-roundTrip', 's /'), /^\d/, 'round-trip percentiles appear once orders made the trip')
  t.match(await pageShows(page, 'hft-rejects', 'INSUFFICIENT_FUNDS 1'), /INSUFFICIENT_FUNDS 1/, 'the refused order appears under its reason')
  t.match(await pageShows(page, 'documents', 'vendor self-assessment'), /\(10 days\)/, 'the document nearing expiry, with its days left')
  t.match(await pageShows(page, 'monitors', 'st-maker * hf-daily-actions'), /of warning 2/, 'the monitor near its warning level')

  await gateway.supervisor.setKillSwitch({ kind: 'account', account: 'st-taker' }, true, { operator: 'status-test' })
  gateway.supervisor.risk.setTradingState('st-funds', 'halted')
  await pageShows(page, 'kill-switches', 'account st-taker')
  t.pass('a kill switch turned on appears')
  await pageShows(page, 'trading-states', 'st-funds: halted')
  t.pass('a halted account appears')

  t.equal(await page.evaluate(() => window.loadMarker), 42, 'all of it without a reload')
  t.same(foreign, [], 'the page fetched nothing from anywhere but the ops port')
  t.same(problems, [], 'no script error and no Content-Security-Policy violation')

  mkdirSync(dirname(SCREENSHOT), { recursive: true })
  await page.screenshot({ path: SCREENSHOT, fullPage: true })
  t.ok(statSync(SCREENSHOT).size > 0, 'a screenshot of the live page')
  for (const trader of [maker, taker, poor]) await trader.client.close()
})

/** Opens /status/events and resolves with the response once its headers arrive. */
function openFeed (port: number, host = `127.0.0.1:${port}`): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/status/events', headers: { host }, agent: false }, resolve).on('error', reject)
  })
}

/** The next `data:` event of a feed, parsed. */
function nextEvent (res: IncomingMessage): Promise<{ atMs: number }> {
  return new Promise((resolve) => {
    let text = ''
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8')
      const match = /data: (.*)\n\n/.exec(text)
      if (match === null) return
      res.off('data', onData)
      resolve(JSON.parse(match[1]!) as { atMs: number })
    }
    res.on('data', onData)
  })
}

t.test('on a loopback port: probes, headers, the Host guard and the feed budget', async (t) => {
  const gateway = await startTestGateway({ overrides: { lanes: { terminal: { enabled: false }, hft: { enabled: false } }, journal: { enabled: false } } })
  t.teardown(() => gateway.stop())
  const port = gateway.supervisor.running().ops.port

  const live = await rawHttp(port, request('GET', '/livez'))
  t.same([live?.status, JSON.parse(live!.body)], [200, { status: 'alive' }], '/livez: the process answers')
  const ready = await rawHttp(port, request('GET', '/readyz'))
  t.same([ready?.status, JSON.parse(ready!.body).notReady], [200, []], '/readyz: lanes listening, link up, nothing failed')

  const page = await rawHttp(port, request('GET', '/status'))
  t.equal(page?.status, 200, 'the page needs no token on loopback')
  t.match(page?.headers['content-type'], /^text\/html/, 'HTML')
  const csp = page?.headers['content-security-policy'] ?? ''
  t.match(csp, /default-src 'none'/, 'a CSP that allows nothing by default')
  t.match(csp, /script-src 'sha256-[A-Za-z0-9+/]+=*'/, 'the inline script by its hash only')
  t.notMatch(page?.body, /https?:\/\/(?!127\.0\.0\.1)/, 'and no address outside the ops port in the page')

  const snapshot = await rawHttp(port, request('GET', '/status/snapshot'))
  t.equal(snapshot?.status, 200)
  t.same(JSON.parse(snapshot!.body).lanes.map((l: { lane: string }) => l.lane), ['platform'], 'the snapshot has the enabled lane')

  const before = (await gateway.ops('/metrics').then((r) => r.text())).match(/gatehouse_ops_http_errors_total\{reason="forbidden"\} (\d+)/)![1]
  const rebound = await rawHttp(port, request('GET', '/status/snapshot', { headers: { host: `attacker.example:${port}` } }))
  t.equal(rebound?.status, 403, 'a Host name that is not loopback is refused (DNS rebinding)')
  const after = (await gateway.ops('/metrics').then((r) => r.text())).match(/gatehouse_ops_http_errors_total\{reason="forbidden"\} (\d+)/)![1]
  t.equal(Number(after) - Number(before), 1, 'and counted as forbidden')
  for (const host of ['localhost', `localhost:${port}`, `[::1]:${port}`]) {
    t.equal((await rawHttp(port, request('GET', '/status/snapshot', { headers: { host } })))?.status, 200, `Host ${host} is loopback`)
  }
  t.equal((await rawHttp(port, request('POST', '/status/events')))?.status, 405, 'read-only')

  const feeds: IncomingMessage[] = []
  t.teardown(() => { for (const feed of feeds) feed.destroy() })
  for (let i = 0; i < MAX_STATUS_FEEDS; i++) feeds.push(await openFeed(port))
  t.ok(feeds.every((f) => f.statusCode === 200 && f.headers['content-type']?.startsWith('text/event-stream') === true), `${MAX_STATUS_FEEDS} feeds open`)
  const first = await nextEvent(feeds[0]!)
  const second = await nextEvent(feeds[0]!)
  t.ok(second.atMs > first.atMs, 'a feed sends a fresh snapshot each tick')
  const extra = await openFeed(port)
  t.equal(extra.statusCode, 503, `feed ${MAX_STATUS_FEEDS + 1} is refused`)
  t.equal(extra.headers['retry-after'], '5', 'with Retry-After')
  extra.destroy()
  t.equal((await rawHttp(port, request('GET', '/healthz')))?.status, 200, 'and the port keeps serving')

  // The exchange goes away: not ready, but alive (a restart would not bring the exchange back).
  const linkDown = new Promise<void>((resolve) => {
    const previous = gateway.supervisor.onLaneEvent
    gateway.supervisor.onLaneEvent = (event) => {
      previous(event)
      if (event.type === 'link-state' && event.state !== 'up') resolve()
    }
  })
  await gateway.sim.stop()
  await linkDown
  const notReady = await rawHttp(port, request('GET', '/readyz'))
  t.equal(notReady?.status, 503, '/readyz: 503 once the link is down')
  t.match(JSON.parse(notReady!.body), { status: 'not-ready', notReady: [/^lane platform: exchange link /] }, 'naming the lane and its link')
  t.equal((await rawHttp(port, request('GET', '/livez')))?.status, 200, '/livez: still alive')
})
