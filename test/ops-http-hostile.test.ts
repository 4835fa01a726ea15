// Hostile and broken requests on the ops HTTP port of a real gateway: each
// gets the status HTTP says (400, 401, 404, 405, 413), is counted by
// reason, and nothing reaches uWS as an exception (which would end the
// process, lanes included). A real client trades after every abuse.
// Then the OpsServer alone with sources that fail: 500s, counted, and the
// /metrics concurrency cap.
import t from 'tap'
import fc from 'fast-check'
import { connect } from 'node:net'
import { Gauge, Registry } from 'prom-client'
import { ExecType, Side, TimeInForce } from '../protocol/messages.js'
import { MAX_ACCOUNT_ID_CHARS, MAX_CONCURRENT_SCRAPES, OpsServer } from '../supervisor/ops/ops-server.js'
import { startTestGateway } from './helpers/gateway.js'
import { logOn, place } from './helpers/trading.js'
import { parseExposition, sampleValue } from './helpers/prometheus-text.js'
import { rawHttp, request } from './helpers/raw-http.js'

const gateway = await startTestGateway()
t.teardown(() => gateway.stop())
const port = gateway.supervisor.running().ops.port
const token = gateway.opsToken()

/** A real client logs on and gets an order acknowledged: the gateway is alive and trading. */
async function stillTrades (): Promise<boolean> {
  const trader = await logOn(gateway, 'platform', 'demo-maker')
  const placed = await place(trader, { instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 1, timeInForce: TimeInForce.FAK })
  await trader.client.logout()
  return placed.report.execType === ExecType.ACK
}

async function opsErrors (): Promise<Record<string, number>> {
  const res = await gateway.ops('/metrics')
  const families = parseExposition(await res.text())
  const counts: Record<string, number> = {}
  for (const sample of families.get('gatehouse_ops_http_errors_total')!.samples) counts[sample.labels.reason!] = sample.value
  t.equal(sampleValue(families, 'gatehouse_ops_http_errors_total', 'gatehouse_ops_http_errors_total', { reason: 'internal' }), counts.internal)
  return counts
}

t.test('a malformed percent-encoding in the account ID is 400, and the gateway keeps trading', async (t) => {
  const res = await rawHttp(port, request('GET', '/accounts/%E0%A4%A/counters', { token }))
  t.equal(res?.status, 400)
  t.match(res?.body, /not valid percent-encoding/)
  t.equal((await gateway.ops('/healthz')).status, 200, 'the ops port still answers')
  t.ok(await stillTrades(), 'a real client places an order after it')
})

t.test('every route answers as HTTP says, and each refusal is counted by its reason', async (t) => {
  const before = await opsErrors()
  const long = 'a'.repeat(MAX_ACCOUNT_ID_CHARS + 1)
  const cases: Array<[string, string, number, string | null, RegExp | null]> = [
    // [what, request, status, counted reason, body]
    ['GET /healthz', request('GET', '/healthz'), 200, null, /"status":"ok"/],
    ['GET /metrics', request('GET', '/metrics'), 200, null, /gatehouse_lane_sessions/],
    ['counters with the token', request('GET', '/accounts/demo-maker/counters', { token }), 200, null, /"openOrders"/],
    ['counters, percent-encoded ID', request('GET', '/accounts/demo%2Dmaker/counters', { token }), 200, null, /"openOrders"/],
    ['POST /metrics', request('POST', '/metrics', { body: 'x=1' }), 405, 'method_not_allowed', /read-only/],
    ['DELETE on counters', request('DELETE', '/accounts/demo-maker/counters', { token }), 405, 'method_not_allowed', /DELETE is not allowed/],
    ['lower-case method', request('get', '/healthz'), 405, 'method_not_allowed', null],
    ['unknown path', request('GET', '/admin'), 404, 'not_found', /try \/healthz/],
    ['trailing slash', request('GET', '/healthz/'), 404, 'not_found', null],
    ['counters of nobody', request('GET', '/accounts/nobody/counters', { token }), 404, 'not_found', /no account nobody/],
    ['empty account ID', request('GET', '/accounts//counters', { token }), 404, 'not_found', null],
    ['account ID past the cap', request('GET', `/accounts/${long}/counters`, { token }), 400, 'bad_request', new RegExp(`longer than ${MAX_ACCOUNT_ID_CHARS}`)],
    ['lone %', request('GET', '/accounts/%/counters', { token }), 400, 'bad_request', /percent-encoding/],
    ['no token', request('GET', '/accounts/demo-maker/counters'), 401, 'unauthorized', /needs the ops token/],
    ['wrong token', request('GET', '/accounts/demo-maker/counters', { token: `${token}x` }), 401, 'unauthorized', /wrong/],
    ['no token, unknown account (no enumeration)', request('GET', '/accounts/nobody/counters'), 401, 'unauthorized', null],
    ['Basic instead of Bearer', request('GET', '/accounts/demo-maker/counters', { headers: { authorization: `Basic ${token}` } }), 401, 'unauthorized', null],
    ['GET with a body', request('GET', '/healthz', { body: '{"a":1}' }), 413, 'body_refused', /no request body/],
    ['GET with a chunked body', `GET /metrics HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`, 413, 'body_refused', null],
  ]
  const expected: Record<string, number> = {}
  for (const [what, raw, status, reason, body] of cases) {
    const res = await rawHttp(port, raw)
    t.equal(res?.status, status, `${what}: ${status}`)
    if (body !== null) t.match(res?.body, body, `${what}: says why`)
    if (status === 405) t.equal(res?.headers.allow, 'GET, HEAD', `${what}: Allow names the methods`)
    if (status === 401) t.match(res?.headers['www-authenticate'], /^Bearer realm="gatehouse-ops"/, `${what}: WWW-Authenticate: Bearer`)
    if (status === 413) t.equal(res?.closed, true, `${what}: the connection is closed (the body is never read)`)
    if (reason !== null) expected[reason] = (expected[reason] ?? 0) + 1
  }
  const after = await opsErrors()
  for (const reason of Object.keys(after)) {
    t.equal(after[reason]! - (before[reason] ?? 0), expected[reason] ?? 0, `gatehouse_ops_http_errors_total{reason="${reason}"} counted each refusal`)
  }
})

t.test('HEAD answers like GET without a body, and keeps the connection usable', async (t) => {
  const get = await rawHttp(port, request('GET', '/healthz'))
  const head = await rawHttp(port, request('HEAD', '/healthz'), true)
  t.equal(head?.status, 200)
  t.equal(head?.headers['content-length'], String(Buffer.byteLength(get!.body)), 'the length GET would send')
  t.equal(head?.body, '')
  // Pipelined: HEAD, then GET on the same connection; the GET's answer must
  // come whole right after the HEAD's headers.
  const socket = connect(port, '127.0.0.1')
  socket.write(request('HEAD', '/accounts/demo-maker/counters', { token }) + request('GET', '/healthz'))
  let text = ''
  for await (const chunk of socket) {
    text += (chunk as Buffer).toString()
    if (text.endsWith('}')) break
  }
  socket.destroy()
  const answers = text.split(/(?=HTTP\/1\.1 )/)
  t.equal(answers.length, 2, 'two answers on one connection')
  t.match(answers[0], /^HTTP\/1\.1 200 OK\r\n[^]*content-length: \d+\r\n[^]*\r\n\r\n$/i, 'the HEAD answer: headers only')
  t.match(answers[1], /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n\{"status":"ok"[^]*\}$/, 'then the GET answer, whole')
  t.equal((await rawHttp(port, request('HEAD', '/accounts/demo-maker/counters'), true))?.status, 401, 'HEAD needs the token too')
})

/** Statuses the ops port (or uWS's own parser, 431/505) may answer with; never 500. */
const ANSWERS = new Set([200, 400, 401, 404, 405, 413, 431, 503, 505])

t.test('fuzz: random methods, paths, tokens and bodies over raw TCP always get a valid answer', async (t) => {
  const segment = fc.oneof(
    fc.constantFrom('accounts', 'counters', 'healthz', 'metrics', 'demo-maker', '%', '%E0%A4%A', '%ZZ', '%00', '%2F', '..', '', '%F0%9F%98%80'),
    fc.string({ unit: fc.constantFrom(...'abcXYZ019-._~%!$&\'()*+,;=:@'.split('')), maxLength: 80 }),
  )
  const requestArb = fc.record({
    method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'get', 'BREW'),
    path: fc.array(segment, { minLength: 1, maxLength: 5 }).map((parts) => '/' + parts.join('/')),
    query: fc.option(fc.string({ unit: fc.constantFrom(...'a=&%?x1'.split('')), maxLength: 10 }), { nil: undefined }),
    auth: fc.constantFrom('none', 'good', 'bad', 'garbage'),
    body: fc.option(fc.string({ maxLength: 64 }), { nil: undefined }),
  })
  let answered = 0
  await fc.assert(fc.asyncProperty(requestArb, async ({ method, path, query, auth, body }) => {
    const headers: Record<string, string> = {}
    if (auth === 'good') headers.authorization = `Bearer ${token}`
    if (auth === 'bad') headers.authorization = 'Bearer not-the-token-at-all'
    if (auth === 'garbage') headers.authorization = 'Bearer \t%%%, x'
    const res = await rawHttp(port, request(method, query === undefined ? path : `${path}?${query}`, { headers, ...(body === undefined ? {} : { body }) }), method === 'HEAD')
    if (res === null) return true
    answered++
    return ANSWERS.has(res.status)
  }), { numRuns: 150 })
  t.ok(answered > 100, `most fuzzed requests were answered (${answered})`)
  t.equal((await gateway.ops('/healthz')).status, 200, 'the process is alive and the ops port answers')
  t.ok(await stillTrades(), 'and a real client still trades')
})

t.test('an OpsServer whose sources throw answers 500, counts it, and keeps serving', async (t) => {
  let healthThrows = true
  const registry = new Registry()
  new Gauge({ name: 'broken_gauge', help: 'throws when collected', registers: [registry], collect () { throw new Error('collector broke') } })
  const ops = new OpsServer({
    host: '127.0.0.1',
    port: 0,
    token: 'a-token-for-this-test-only-0123',
    health: () => {
      if (healthThrows) throw new Error('health source broke')
      return { ok: true, body: { status: 'ok' } }
    },
    counters: () => { throw new TypeError('counters source broke') },
    metrics: registry,
  })
  const opsPort = await ops.listen()
  t.teardown(() => { ops.close() })
  const health = await rawHttp(opsPort, request('GET', '/healthz'))
  t.equal(health?.status, 500)
  t.match(health?.body, /ops request failed: health source broke/)
  const counters = await rawHttp(opsPort, request('GET', '/accounts/a/counters', { token: 'a-token-for-this-test-only-0123' }))
  t.equal(counters?.status, 500)
  t.match(counters?.body, /counters source broke/)
  const metrics = await rawHttp(opsPort, request('GET', '/metrics'))
  t.equal(metrics?.status, 500, 'a failing collector is a 500 too')
  t.match(metrics?.body, /collector broke/)
  t.equal(ops.errors.internal, 3, 'each counted as internal')
  healthThrows = false
  t.equal((await rawHttp(opsPort, request('GET', '/healthz')))?.status, 200, 'and the server goes on serving')
})

t.test(`at most ${MAX_CONCURRENT_SCRAPES} /metrics collections at once; more get 503 with Retry-After`, async (t) => {
  const registry = new Registry()
  let entered = 0
  let allEntered: () => void = () => {}
  const allIn = new Promise<void>((resolve) => { allEntered = resolve })
  let release: () => void = () => {}
  const released = new Promise<void>((resolve) => { release = resolve })
  new Gauge({
    name: 'slow_gauge',
    help: 'waits for the test',
    registers: [registry],
    async collect () {
      if (++entered === MAX_CONCURRENT_SCRAPES) allEntered()
      await released
      this.set(1)
    },
  })
  const ops = new OpsServer({ host: '127.0.0.1', port: 0, token: 'a-token-for-this-test-only-0123', health: () => ({ ok: true, body: {} }), counters: () => null, metrics: registry })
  const opsPort = await ops.listen()
  t.teardown(() => { ops.close() })
  const slow = Array.from({ length: MAX_CONCURRENT_SCRAPES }, () => rawHttp(opsPort, request('GET', '/metrics')))
  await allIn
  const refused = await rawHttp(opsPort, request('GET', '/metrics'))
  t.equal(refused?.status, 503)
  t.equal(refused?.headers['retry-after'], '1')
  t.equal(ops.errors.busy, 1, 'counted as busy')
  release()
  for (const res of await Promise.all(slow)) t.equal(res?.status, 200, 'the scrapes within the cap complete')
  t.equal((await rawHttp(opsPort, request('GET', '/metrics')))?.status, 200, 'and the next one runs')
})
