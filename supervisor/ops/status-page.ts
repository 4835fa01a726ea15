// The status page: one self-contained HTML document, its style and script
// inline, nothing fetched from anywhere but the ops port itself. It reads
// /status/snapshot once, then follows /status/events (server-sent events,
// one snapshot a second) and redraws in place: no reload.
//
// The Content-Security-Policy allows exactly this page's own style and
// script (by their SHA-256), connections to its own origin and nothing
// else: no other script, frame, form target, image or font. The script
// writes data into the page with textContent only, so an account name or
// a link's detail text can never become markup.
import { createHash } from 'node:crypto'

const STYLE = `
:root { color-scheme: light dark; --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --dim: #6e7781; }
body { font: 14px/1.4 system-ui, sans-serif; margin: 1rem 1.5rem; }
h1 { font-size: 1.25rem; margin: 0 0 .25rem; }
h2 { font-size: 1rem; margin: 1.25rem 0 .4rem; }
header p { margin: 0; color: var(--dim); }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: .2rem .6rem; border-bottom: 1px solid #8884; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
th { font-weight: 600; white-space: normal; vertical-align: bottom; }
td[id$="-link"], td[id$="-disk"], td[id$="-rejects"] { white-space: normal; max-width: 13rem; }
td[id$="-link"] { text-align: left; }
.ok { color: var(--ok); } .warn { color: var(--warn); } .bad { color: var(--bad); font-weight: 600; } .dim { color: var(--dim); }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr)); gap: 0 2rem; }
ul { margin: 0; padding-left: 1.2rem; }
#feed.live { color: var(--ok); } #feed.down { color: var(--bad); }
#login[hidden] { display: none; }
#login { margin: 1rem 0; padding: .75rem; border: 1px solid #8886; max-width: 32rem; }
`

const SCRIPT = `
'use strict'
const $ = (id) => document.getElementById(id)
const LANE_COLUMNS = ['link', 'sessions', 'inRate', 'outRate', 'orderRate', 'orders', 'rejects', 'check', 'roundTrip', 'loop', 'journal', 'disk']

function fmtRate (x) { return x.toFixed(1) }
function fmtSeconds (s) {
  if (s === null || s === undefined) return '–'
  if (s < 1e-3) return (s * 1e6).toFixed(s < 1e-5 ? 1 : 0) + ' µs'
  if (s < 1) return (s * 1e3).toFixed(s < 1e-2 ? 2 : 1) + ' ms'
  return s.toFixed(2) + ' s'
}
function fmtBytes (b) {
  if (b === 0) return '–'
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (b >= 1024 && i < units.length - 1) { b /= 1024; i++ }
  return b.toFixed(i === 0 ? 0 : 1) + ' ' + units[i]
}
function percentiles (p) { return fmtSeconds(p['0.5']) + ' / ' + fmtSeconds(p['0.99']) + ' / ' + fmtSeconds(p['0.999']) }
function set (id, text, cls) {
  const node = $(id)
  if (node === null) return
  if (node.textContent !== text) node.textContent = text
  node.className = cls || ''
}

function laneRow (lane) {
  const row = document.createElement('tr')
  row.id = 'lane-' + lane
  const name = document.createElement('td')
  name.textContent = lane
  row.appendChild(name)
  for (const column of LANE_COLUMNS) {
    const cell = document.createElement('td')
    cell.id = lane + '-' + column
    row.appendChild(cell)
  }
  $('lanes').appendChild(row)
}

function renderList (id, listed, text, cls) {
  const list = $(id)
  list.replaceChildren()
  for (const row of listed.rows) {
    const item = document.createElement('li')
    item.textContent = text(row)
    const c = cls ? cls(row) : ''
    if (c) item.className = c
    list.appendChild(item)
  }
  if (listed.more > 0) {
    const item = document.createElement('li')
    item.className = 'dim'
    item.textContent = 'and ' + listed.more + ' more'
    list.appendChild(item)
  }
  if (listed.rows.length === 0) {
    const item = document.createElement('li')
    item.className = 'dim'
    item.textContent = 'none'
    list.appendChild(item)
  }
}

function render (s) {
  set('gateway', s.gatewayId + ' · gatehouse ' + s.build.version + ' · Node ' + s.build.node)
  set('updated', new Date(s.atMs).toISOString().replace('T', ' ').slice(0, 19) + ' UTC; rates over ' +
    Math.round(s.windows.rateMs / 1000) + ' s, percentiles and rejects over ' + Math.round(s.windows.percentileMs / 1000) + ' s')
  for (const l of s.lanes) {
    if ($('lane-' + l.lane) === null) laneRow(l.lane)
    const p = l.lane + '-'
    set(p + 'link', l.link + (l.linkDetail ? ' (' + l.linkDetail + ')' : ''), l.link === 'up' ? 'ok' : 'bad')
    set(p + 'sessions', l.sessions.loggedOn + ' / ' + l.sessions.connected)
    set(p + 'inRate', fmtRate(l.perSecond.messagesIn))
    set(p + 'outRate', fmtRate(l.perSecond.messagesOut))
    set(p + 'orderRate', fmtRate(l.perSecond.orders))
    set(p + 'orders', String(l.totals.orders))
    const rejects = Object.entries(l.rejects).map(([reason, n]) => reason + ' ' + n).join(', ')
    set(p + 'rejects', rejects || '0', rejects ? 'warn' : '')
    set(p + 'check', percentiles(l.checkS))
    set(p + 'roundTrip', percentiles(l.roundTripS))
    set(p + 'loop', l.eventLoopDelayP99Ms.toFixed(1) + ' ms', l.eventLoopDelayP99Ms > 50 ? 'warn' : '')
    set(p + 'journal', l.journal.failed ? 'FAILED' : l.journal.uncommittedRecords + ' rec, ' + l.journal.lagMs.toFixed(0) + ' ms',
      l.journal.failed ? 'bad' : l.journal.lagMs > 1000 ? 'warn' : '')
    set(p + 'disk', fmtBytes(l.disk.freeBytes) + ' free, ' + fmtBytes(l.disk.lowWatermarkBytes) + ' low mark',
      l.disk.state === 'ok' ? '' : l.disk.state === 'low' ? 'warn' : 'bad')
  }
  set('supervisor-journal', s.supervisorJournal === null ? 'journal off' : s.supervisorJournal.failed ? 'supervisor journal FAILED' : 'supervisor journal ok',
    s.supervisorJournal !== null && s.supervisorJournal.failed ? 'bad' : '')
  renderList('trading-states', s.tradingStates, (r) => r.account + ': ' + r.state, (r) => r.state === 'active' ? 'dim' : 'warn')
  renderList('kill-switches', s.killSwitches, (r) => r, () => 'bad')
  set('lockouts', s.lockouts.accounts + ' accounts, ' + s.lockouts.ips + ' addresses, ' + s.lockouts.prefixes + ' prefixes',
    s.lockouts.accounts + s.lockouts.ips + s.lockouts.prefixes > 0 ? 'warn' : '')
  renderList('held', s.heldFingerprints, (r) => r.account + ': ' + r.fingerprintId, () => 'warn')
  renderList('documents', s.documentsNearingExpiry, (r) => r.appId + ' (' + r.app + '): ' + r.document + ' expires ' + r.expires +
    (r.daysLeft < 0 ? ' (EXPIRED)' : ' (' + r.daysLeft + ' days)'), (r) => r.daysLeft < 0 ? 'bad' : 'warn')
  renderList('monitors', s.monitorsNearWarning, (r) => r.account + ' ' + r.instrument + ' ' + r.monitor + ': ' + r.observed +
    ' of warning ' + r.warning + (r.blocking === null ? '' : ', blocking ' + r.blocking), (r) => r.observed >= r.warning ? 'bad' : 'warn')
}

function feedState (text, cls) { set('feed', text, cls) }

let source = null
function follow () {
  if (source !== null) source.close()
  source = new EventSource('/status/events')
  source.onmessage = (event) => { render(JSON.parse(event.data)); feedState('live', 'live') }
  source.onerror = () => {
    feedState('reconnecting…', 'down')
    // A feed refused for want of the token ends for good: ask for it.
    load().catch(() => {})
  }
}

async function load () {
  const res = await fetch('/status/snapshot', { credentials: 'same-origin', cache: 'no-store' })
  if (res.status === 401) {
    if (source !== null) source.close()
    source = null
    feedState('needs the ops token', 'down')
    $('login').hidden = false
    return false
  }
  if (res.ok) render(await res.json())
  return res.ok
}

$('login').addEventListener('submit', async (event) => {
  event.preventDefault()
  const token = $('token').value.trim()
  const res = await fetch('/status/login', { headers: { authorization: 'Bearer ' + token }, credentials: 'same-origin', cache: 'no-store' })
  $('token').value = ''
  if (res.ok) {
    $('login').hidden = true
    set('login-error', '')
    if (await load()) follow()
  } else {
    set('login-error', 'the ops token was refused', 'bad')
  }
})

load().then((ok) => { if (ok) follow() }, () => { feedState('cannot reach the gateway', 'down') })
`

const BODY = `<header>
<h1>Gatehouse status</h1>
<p id="gateway">…</p>
<p>Feed: <span id="feed">connecting…</span> · <span id="updated"></span></p>
</header>
<form id="login" hidden>
<p>This ops port is not on loopback: enter the ops token (the file named in the start banner). It is kept in a session cookie for this page only.</p>
<input id="token" type="password" autocomplete="off" size="40" aria-label="ops token"> <button type="submit">Open</button>
<p id="login-error"></p>
</form>
<h2>Lanes</h2>
<table>
<thead><tr><th>Lane</th><th>Exchange link</th><th>Sessions (logged on / open)</th><th>Msgs in/s</th><th>Msgs out/s</th><th>Orders/s</th><th>Orders</th><th>Rejects by reason</th><th>Check p50 / p99 / p99.9</th><th>Round trip p50 / p99 / p99.9</th><th>Loop delay p99</th><th>Journal lag</th><th>Journal disk</th></tr></thead>
<tbody id="lanes"></tbody>
</table>
<p id="supervisor-journal"></p>
<div class="grid">
<section><h2>Trading states</h2><ul id="trading-states"></ul></section>
<section><h2>Kill switches in force</h2><ul id="kill-switches"></ul></section>
<section><h2>Lockouts</h2><p id="lockouts"></p><h2>Fingerprints held for approval</h2><ul id="held"></ul></section>
<section><h2>Assessment documents nearing expiry</h2><ul id="documents"></ul></section>
<section><h2>Monitors near their warning level</h2><ul id="monitors"></ul></section>
</div>`

const sha256 = (text: string): string => createHash('sha256').update(text).digest('base64')

/** The page, as served by GET /status. */
export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Gatehouse status</title>
<style>${STYLE}</style>
</head>
<body>
${BODY}
<script>${SCRIPT}</script>
</body>
</html>
`

/** The Content-Security-Policy of the page: its own inline style and script by hash, its own origin for data, nothing else. */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `script-src 'sha256-${sha256(SCRIPT)}'`,
  `style-src 'sha256-${sha256(STYLE)}'`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ')
