// The admin socket under a hostile or careless client: requests cut into
// tiny writes, lines that never end, bytes that are not UTF-8, a client
// that never reads its replies, half-closes or vanishes, many clients at
// once, two clients racing on the same setting, and a request that meets
// the supervisor stopping. A real gateway (supervisor, lane threads, the
// exchange simulator process) in this process; the clients are raw
// node:net connections.
//
// The last subtest stops the supervisor: it must stay last.
import t from 'tap'
import { once } from 'node:events'
import { existsSync, readFileSync } from 'node:fs'
import { createConnection, type Socket } from 'node:net'
import { dirname, join } from 'node:path'
import { MAX_REQUEST_LINE_BYTES } from '../supervisor/admin/admin-protocol.js'
import { AdminServer, MAX_ADMIN_CONNECTIONS } from '../supervisor/admin/admin-server.js'
import { adminStatePath } from '../supervisor/admin/admin-state.js'
import type { KillScope } from '../checks/risk-control.js'
import { startTestGateway } from './helpers/gateway.js'
import { tradingAccount } from './helpers/trading.js'

const MANY = 50
const manyAccounts = Array.from({ length: MANY }, (_, i) => `hx-many-${i}`)
const ACCOUNTS = ['hx-chunks', 'hx-utf', 'hx-half', 'hx-gone', 'hx-race', 'hx-stop', ...manyAccounts]

const gateway = await startTestGateway({ overrides: { accounts: ACCOUNTS.map(tradingAccount) } })
const { supervisor } = gateway
const socketPath = gateway.config.admin.socketPath!
let stopped = false
t.teardown(async () => {
  if (!stopped) await supervisor.stop()
  await gateway.sim.stop()
})

// ---- a raw client ---------------------------------------------------------------------

interface Reply {
  id: number | string | null
  ok: boolean
  result?: any
  error?: { code: string, message: string, issues?: string[] }
}

/** A raw connection: bytes out, reply lines collected in the order they came. */
class Conn {
  readonly replies: Reply[] = []
  private buffered = ''
  private readonly waiters: Array<{ index: number, resolve: () => void }> = []
  /** Resolves when the socket has closed (either side). */
  readonly closed: Promise<void>

  private constructor (readonly socket: Socket, reading: boolean) {
    this.closed = once(socket, 'close').then(() => undefined)
    socket.on('error', () => { /* seen as close */ })
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      this.buffered += chunk
      let nl: number
      while ((nl = this.buffered.indexOf('\n')) !== -1) {
        this.replies.push(JSON.parse(this.buffered.slice(0, nl)) as Reply)
        this.buffered = this.buffered.slice(nl + 1)
      }
      for (const waiter of this.waiters.filter((w) => w.index < this.replies.length)) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1)
        waiter.resolve()
      }
    })
    if (!reading) socket.pause()
  }

  /** Connects; with reading false the client does not read until read() is called. */
  static async open (options: { reading?: boolean, path?: string } = {}): Promise<Conn> {
    const socket = createConnection(options.path ?? socketPath)
    await once(socket, 'connect')
    return new Conn(socket, options.reading ?? true)
  }

  read (): void {
    this.socket.resume()
  }

  /** Writes bytes; resolves once they have gone to the kernel. */
  write (data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(data, (err) => { if (err == null) resolve(); else reject(err) })
    })
  }

  /** The reply at index (0-based, in arrival order), waiting for it. */
  async reply (index: number, timeoutMs = 10_000): Promise<Reply> {
    if (index < this.replies.length) return this.replies[index]!
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        new Promise<void>((resolve) => { this.waiters.push({ index, resolve }) }),
        this.closed.then(() => { throw new Error(`the connection closed with ${this.replies.length} replies, waiting for reply #${index}`) }),
        new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`no reply #${index} within ${timeoutMs} ms`)) }, timeoutMs) }),
      ])
    } finally {
      clearTimeout(timer)
    }
    return this.replies[index]!
  }

  /** Sends one request and waits for its reply (the next one on this connection). */
  async request (command: string, args: unknown, id: number | string = this.replies.length + 1): Promise<Reply> {
    const index = this.replies.length
    await this.write(line(id, command, args))
    const reply = await this.reply(index)
    if (reply.id !== id) throw new Error(`reply to ${String(id)} came back as ${String(reply.id)}`)
    return reply
  }

  close (): void {
    this.socket.destroy()
  }
}

function line (id: number | string, command: string, args: unknown): string {
  return JSON.stringify({ id, operator: 'mallory', command, args }) + '\n'
}

const accountScope = (account: string): { kind: 'account', account: string } => ({ kind: 'account', account })

/** The persisted admin store, as the next start would read it. */
function stored (): { limits: Record<string, Record<string, unknown>>, killSwitches: string[], software: Array<{ appId: string }> } {
  const path = adminStatePath(gateway.config)
  // Written on the first change.
  if (!existsSync(path)) return { limits: {}, killSwitches: [], software: [] }
  return JSON.parse(readFileSync(path, 'utf8'))
}

/** Yields the event loop until fn's value has not changed for a number of turns (socket I/O of this process has settled). */
async function settled (fn: () => number, turns = 50): Promise<number> {
  let last = fn()
  let still = 0
  while (still < turns) {
    await new Promise((resolve) => { setImmediate(resolve) })
    const now = fn()
    if (now === last) still++
    else {
      last = now
      still = 0
    }
  }
  return last
}

// ---- framing ----------------------------------------------------------------------------

t.test('requests cut into 1-7 byte writes, then several in one write: one reply each, in order', async (t) => {
  const conn = await Conn.open()
  t.teardown(() => { conn.close() })
  const scope = accountScope('hx-chunks')
  const text = line('c1', 'limits.set', { scope, values: { maxOpenOrders: 11 } }) +
    line('c2', 'limits.set', { scope, values: { maxOpenOrders: 12 } }) +
    line('c3', 'limits.show', { scope })
  const sizes = [1, 2, 3, 5, 7]
  for (let at = 0, i = 0; at < text.length; at += sizes[i++ % sizes.length]!) {
    await conn.write(text.slice(at, at + sizes[i % sizes.length]!))
    // One turn of the loop, so the server (in this process) reads each piece on its own.
    await new Promise((resolve) => { setImmediate(resolve) })
  }
  await conn.write(line('p1', 'limits.set', { scope, values: { maxOpenOrders: 13 } }) + line('p2', 'limits.show', { scope }) + line('p3', 'apps.list', {}))
  await conn.write(line('last', 'limits.show', { scope }))
  const last = await conn.reply(6)
  t.same(conn.replies.map((r) => r.id), ['c1', 'c2', 'c3', 'p1', 'p2', 'p3', 'last'], 'one reply per request, in order, nothing extra')
  t.same(conn.replies[1]!.result.changes, [{ field: 'maxOpenOrders', before: 11, after: 12 }], 'the second byte-by-byte request saw the first applied')
  t.same(conn.replies[3]!.result.changes, [{ field: 'maxOpenOrders', before: 12, after: 13 }])
  t.equal(last.result.maxOpenOrders, 13)
})

t.test('a line over 1 MiB with no newline: BAD_REQUEST without waiting for the newline, the rest skipped, everyone else served', async (t) => {
  const conn = await Conn.open()
  const other = await Conn.open()
  t.teardown(() => { conn.close(); other.close() })
  await conn.write(`{"id": 1, "operator": "mallory", "command": "apps.list", "args": {}, "pad": "${'x'.repeat(MAX_REQUEST_LINE_BYTES)}`)
  const refused = await conn.reply(0)
  t.equal(refused.error?.code, 'GH_ERR_ADMIN_BAD_REQUEST', 'answered while the line is still open')
  t.match(refused.error?.message, /longer than 1048576 bytes/)
  // Keep the line going: 4 MiB more that the server must drop, not keep.
  const mib = 'y'.repeat(1024 * 1024)
  for (let i = 0; i < 4; i++) await conn.write(mib)
  t.equal((await other.request('apps.list', {})).ok, true, 'another connection is served meanwhile')
  await conn.write('"}\n')
  const next = await conn.request('apps.list', {}, 'after')
  t.equal(next.ok, true, 'the line after the oversized one is read normally')
  t.equal(conn.replies.length, 2, 'the oversized line got exactly one reply')
})

t.test('bytes that are not UTF-8, JSON that is not an object, CRLF endings and blank lines', async (t) => {
  const conn = await Conn.open()
  t.teardown(() => { conn.close() })
  // 0xff can never appear in UTF-8; decoded leniently it would become
  // U+FFFD and be stored as a vendor name nobody sent.
  const [head, tail] = line('u1', 'apps.register', { appId: 'hx-utf-app', vendor: 'VENDOR', name: 'n', version: '1', authCode: 'hx-utf-authcode-0123456789', status: 'testing' }).split('VENDOR') as [string, string]
  await conn.write(Buffer.concat([Buffer.from(head), Buffer.from([0x41, 0xff, 0x42]), Buffer.from(tail)]))
  const notUtf8 = await conn.reply(0)
  t.equal(notUtf8.error?.code, 'GH_ERR_ADMIN_BAD_REQUEST', 'invalid UTF-8 is a bad request')
  t.match(notUtf8.error?.message, /UTF-8/)
  const apps = await conn.request('apps.list', {}, 'apps')
  t.notOk((apps.result as Array<{ appId: string }>).some((app) => app.appId === 'hx-utf-app'), 'nothing was registered')
  t.notOk(stored().software.some((app) => app.appId === 'hx-utf-app'), 'nor persisted')

  for (const json of ['[]', '42', 'null', '"apps.list"', 'true']) {
    const index = conn.replies.length
    await conn.write(json + '\n')
    const notObject = await conn.reply(index)
    t.match(notObject, { id: null, ok: false, error: { code: 'GH_ERR_ADMIN_BAD_REQUEST', message: /must be a JSON object/ } }, `${json}: not an object`)
  }

  const crlfAt = conn.replies.length
  await conn.write(line('crlf', 'apps.list', {}).replace('\n', '\r\n'))
  const crlf = await conn.reply(crlfAt)
  t.match(crlf, { id: 'crlf', ok: true }, 'a CRLF line ending is accepted')

  const index = conn.replies.length
  await conn.write('\n\r\n  \t \n' + line('after-blank', 'apps.list', {}))
  t.equal((await conn.reply(index)).id, 'after-blank', 'blank lines get no reply: the next reply is the next request\'s')
})

// ---- clients that misbehave ---------------------------------------------------------------

t.test('a client that writes its request and half-closes (like `socat`) still gets the reply', async (t) => {
  const scope = accountScope('hx-half')
  const conn = await Conn.open()
  t.teardown(() => { conn.close() })
  // sessions.list waits for every lane thread: its reply is written well after the FIN arrived.
  conn.socket.end(line('h1', 'limits.set', { scope, values: { maxOpenOrders: 21 } }) + line('h2', 'sessions.list', { account: 'hx-half' }))
  t.match(await conn.reply(0), { id: 'h1', ok: true, result: { changes: [{ field: 'maxOpenOrders', after: 21 }] } }, 'the change is answered')
  t.match(await conn.reply(1), { id: 'h2', ok: true, result: [] }, 'and so is a request answered after the lanes were asked')
  await conn.closed
  t.equal(conn.replies.length, 2, 'then the server ends the connection')

  // The last line has no newline: the client may have died mid-write, so it is not applied.
  const cut = await Conn.open()
  t.teardown(() => { cut.close() })
  cut.socket.end(line('h3', 'limits.set', { scope, values: { maxOpenOrders: 22 } }).trimEnd())
  const unterminated = await cut.reply(0)
  t.match(unterminated, { id: null, ok: false, error: { code: 'GH_ERR_ADMIN_BAD_REQUEST', message: /newline/ } }, 'a last line without a newline is refused')
  await cut.closed
  t.equal(supervisor.risk.limitsAt(scope).maxOpenOrders, 21, 'and not applied')
})

t.test('a client that sends and never reads: the server stops reading instead of buffering, and answers everything once it reads', async (t) => {
  let executed = 0
  const api = supervisor.admin
  const listApps = api.listApps
  api.listApps = function (this: typeof api) { executed++; return listApps.call(this) }
  t.teardown(() => { api.listApps = listApps })

  const conn = await Conn.open({ reading: false })
  t.teardown(() => { conn.close() })
  // ~1.2 MB of requests whose ~4 MB of replies cannot fit the socket buffers (~200 KiB each way).
  const COUNT = 5000
  const pad = 'p'.repeat(100)
  const requests = Array.from({ length: COUNT }, (_, i) => line(`${pad}${i}`, 'apps.list', {})).join('')
  conn.socket.write(requests)
  const stalled = await settled(() => executed)
  t.ok(stalled > 0 && stalled < COUNT / 2, `with nobody reading, the server stopped after ${stalled} of ${COUNT} requests`)
  t.ok(conn.socket.writableLength > 0, 'the rest waits on the client side: the server is not reading it')

  const other = await Conn.open()
  t.teardown(() => { other.close() })
  t.equal((await other.request('apps.list', {})).ok, true, 'other connections are served meanwhile')

  conn.read()
  await conn.reply(COUNT - 1, 30_000)
  t.equal(conn.replies.length, COUNT, 'once the client reads, every request is answered')
  t.ok(conn.replies.every((r, i) => r.id === `${pad}${i}` && r.ok), 'in order')
})

t.test('clients that vanish mid-line or before their replies: the gateway stays up; a complete request is applied, a cut one is not', async (t) => {
  const scope = accountScope('hx-gone')
  const setLimits = supervisor.admin.setLimits
  const calls: number[] = []
  let applied!: () => void
  const appliedOnce = new Promise<void>((resolve) => { applied = resolve })
  supervisor.admin.setLimits = function (this: typeof supervisor.admin, operator, target, values) {
    const reply = setLimits.call(this, operator, target, values)
    if ('account' in target && target.account === 'hx-gone') {
      calls.push(values.maxOpenOrders as number)
      applied()
    }
    return reply
  }
  t.teardown(() => { supervisor.admin.setLimits = setLimits })

  const cut = await Conn.open()
  const full = line('g1', 'limits.set', { scope, values: { maxOpenOrders: 31 } })
  await cut.write(full.slice(0, full.length - 10))
  cut.close()

  const gone = await Conn.open()
  await gone.write(line('g2', 'limits.set', { scope, values: { maxOpenOrders: 32 } }) + line('g3', 'apps.list', {}).repeat(200))
  gone.close()
  await appliedOnce

  const after = await Conn.open()
  t.teardown(() => { after.close() })
  t.equal((await after.request('limits.show', { scope })).result.maxOpenOrders, 32, 'the complete request of the vanished client was applied')
  t.same(calls, [32], 'the cut one was not')
  t.equal(stored().limits[JSON.stringify(scope)]?.maxOpenOrders, 32, 'and persisted')
})

// ---- many clients -------------------------------------------------------------------------

t.test(`past ${MAX_ADMIN_CONNECTIONS} open connections a new one is told so and closed; the others keep working`, async (t) => {
  // A server of its own, so that the connections counted are this test's.
  const path = join(dirname(socketPath), 'cap.sock')
  const server = new AdminServer({ path, api: supervisor.admin })
  await server.listen()
  const conns = await Promise.all(Array.from({ length: MAX_ADMIN_CONNECTIONS }, () => Conn.open({ path })))
  // Each connection answered once: the server has counted every one.
  await Promise.all(conns.map((conn) => conn.request('apps.list', {})))
  const extra = await Conn.open({ path })
  t.match(await extra.reply(0), { id: null, ok: false, error: { code: 'GH_ERR_ADMIN_REFUSED', message: /too many admin connections/ } })
  await extra.closed
  t.equal((await conns[0]!.request('apps.list', {})).ok, true, 'an open connection still answers')
  await server.close()
  await Promise.all(conns.map((conn) => conn.closed))
  t.pass('close() ends them all')
})

t.test(`${MANY} connections at once, each changing its own account: every reply right, the live and the stored state agree`, async (t) => {
  const conns = await Promise.all(manyAccounts.map(() => Conn.open()))
  t.teardown(() => { for (const conn of conns) conn.close() })
  const results = await Promise.all(conns.map(async (conn, i) => {
    const scope = accountScope(manyAccounts[i]!)
    const first = await conn.request('limits.set', { scope, values: { maxOpenOrders: i, funds: 1000 + i } })
    const second = await conn.request('limits.set', { scope, values: { maxOpenOrders: i + 100 } })
    return { first, second }
  }))
  const state = stored()
  let wrong = 0
  results.forEach(({ first, second }, i) => {
    const scope = accountScope(manyAccounts[i]!)
    const ok = JSON.stringify(first.result?.changes) === JSON.stringify([{ field: 'maxOpenOrders', before: 'inherit', after: i }, { field: 'funds', before: 'inherit', after: 1000 + i }]) &&
      JSON.stringify(second.result?.changes) === JSON.stringify([{ field: 'maxOpenOrders', before: i, after: i + 100 }]) &&
      supervisor.risk.limitsAt(scope).maxOpenOrders === i + 100 && supervisor.risk.limitsAt(scope).funds === 1000 + i &&
      state.limits[JSON.stringify(scope)]?.maxOpenOrders === i + 100 && state.limits[JSON.stringify(scope)]?.funds === 1000 + i
    if (!ok) {
      wrong++
      t.fail(`${manyAccounts[i]!}: ${JSON.stringify({ first, second, live: supervisor.risk.limitsAt(scope), stored: state.limits[JSON.stringify(scope)] })}`)
    }
  })
  t.equal(wrong, 0, 'every account: replies, the risk state and the store agree')
})

t.test('two connections changing the same limit and the same kill switch at once: the changes chain, and the store matches the live state', async (t) => {
  const scope = accountScope('hx-race')
  const a = await Conn.open()
  const b = await Conn.open()
  t.teardown(() => { a.close(); b.close() })
  const initial = (await a.request('limits.show', { scope }, 'start')).result.maxOpenOrders ?? 'inherit'
  const ROUNDS = 20
  const odd = Array.from({ length: ROUNDS }, (_, i) => 2 * i + 1)
  const even = Array.from({ length: ROUNDS }, (_, i) => 2 * i + 2)
  await Promise.all([
    a.write(odd.map((v) => line(`a${v}`, 'limits.set', { scope, values: { maxOpenOrders: v } })).join('')),
    b.write(even.map((v) => line(`b${v}`, 'limits.set', { scope, values: { maxOpenOrders: v } })).join('')),
  ])
  await Promise.all([a.reply(ROUNDS), b.reply(ROUNDS - 1)])
  const changes = [...a.replies.slice(1), ...b.replies].map((r) => r.result.changes[0] as { before: unknown, after: unknown })
  let current: unknown = initial
  for (let step = 0; step < 2 * ROUNDS; step++) {
    const next = changes.filter((c) => c.before === current)
    if (next.length !== 1) {
      t.fail(`after ${step} changes, ${next.length} replies say they changed ${String(current)}`)
      break
    }
    current = next[0]!.after
  }
  t.equal(supervisor.risk.limitsAt(scope).maxOpenOrders, current, 'the last change in the chain is the live value')
  t.equal(stored().limits[JSON.stringify(scope)]?.maxOpenOrders, current, 'and the stored one')

  // A kill switch turned on with a mass-cancel (which waits for every
  // lane) while another operator turns it off.
  const kill: KillScope = { kind: 'account', account: 'hx-race' }
  for (let round = 0; round < 5; round++) {
    const [on, off] = await Promise.all([
      a.request('kill-switch.set', { scope: kill, on: true, massCancel: true }, `on${round}`),
      b.request('kill-switch.set', { scope: kill, on: false }, `off${round}`),
    ])
    t.ok(on.ok && off.ok, 'both applied')
    const live = supervisor.risk.killSwitch(kill)
    t.equal(stored().killSwitches.includes(JSON.stringify(kill)), live, `round ${round}: the store says ${String(live)} as the live switch does`)
    if (live) await a.request('kill-switch.set', { scope: kill, on: false }, `reset${round}`)
  }
})

// ---- stopping (last: it stops the supervisor) ---------------------------------------------------

t.test('a change in flight when the supervisor stops is finished, persisted and answered; requests behind it are refused, not applied', async (t) => {
  const scope = accountScope('hx-stop')
  const kill: KillScope = { kind: 'account', account: 'hx-stop' }
  const conn = await Conn.open()
  t.teardown(() => { conn.close() })
  const setKillSwitch = supervisor.setKillSwitch
  let stopping: Promise<void> | undefined
  supervisor.setKillSwitch = function (this: typeof supervisor, ...args: Parameters<typeof setKillSwitch>) {
    const result = setKillSwitch.apply(this, args)
    // The stop begins while the mass-cancel is out at the lanes.
    stopping = supervisor.stop()
    stopped = true
    return result
  }
  await conn.write(line('k1', 'kill-switch.set', { scope: kill, on: true, massCancel: true }) +
    line('k2', 'limits.set', { scope, values: { maxOpenOrders: 41 } }) +
    line('k3', 'apps.list', {}))
  const inFlight = await conn.reply(0)
  t.match(inFlight, { id: 'k1', ok: true, result: { changes: [{ field: 'killSwitch', before: false, after: true }], detail: { cancelsSent: 0 } } }, 'the change in flight is answered')
  const behind = await Promise.all([conn.reply(1), conn.reply(2)])
  for (const reply of behind) t.match(reply, { ok: false, error: { code: 'GH_ERR_ADMIN_REFUSED', message: /stopping/ } }, `${String(reply.id)}: refused, the gateway is stopping`)
  t.same(behind.map((r) => r.id), ['k2', 'k3'])
  await conn.closed
  t.ok(stopping !== undefined, 'the stop had begun during the mass-cancel')
  await stopping
  t.ok(stored().killSwitches.includes(JSON.stringify(kill)), 'the kill switch is in the store the next start reads')
  t.equal(stored().limits[JSON.stringify(scope)], undefined, 'the refused change is not')
  const late = createConnection(socketPath)
  const [err] = await once(late, 'error') as [NodeJS.ErrnoException]
  t.match(err.code, /^(ENOENT|ECONNREFUSED)$/, 'after the stop, nobody is listening')
})
