// Brute-force resistance: repeated failures lock the account and the
// source address for lockoutMs, the client is told for how long, and the
// lock lifts by itself. New connections per IP per second are capped.
import t from 'tap'
import { setTimeout as delay } from 'node:timers/promises'
import WebSocket from 'ws'
import { once } from 'node:events'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { RejectReason } from '../protocol/messages.js'
import { startTestGateway } from './helpers/gateway.js'
import { TEST_IDENTITY } from './helpers/trading.js'

const LOCKOUT_MS = 1500
const gateway = await startTestGateway({
  overrides: {
    security: { maxFailures: 3, failureWindowMs: 60_000, lockoutMs: LOCKOUT_MS, maxTrackedEntries: 1000 },
    lanes: { platform: { policy: { maxConnectionsPerIpPerSecond: 5 } } },
  },
})
t.teardown(() => gateway.stop())

t.test('after N failures the account is locked with a retry-after, then recovers', async (t) => {
  const client = await GatehouseClient.connect(gateway.url('terminal'))
  t.equal((await client.logon('demo-maker', 'wrong-1', TEST_IDENTITY)).reason, RejectReason.INVALID_CREDENTIALS)
  t.equal((await client.login('demo-maker', 'wrong-2')).reason, RejectReason.INVALID_CREDENTIALS)
  t.equal((await client.login('demo-maker', 'wrong-3')).reason, RejectReason.INVALID_CREDENTIALS)
  const banned = await client.login('demo-maker', 'maker-pass')
  t.equal(banned.reason, RejectReason.LOGIN_BANNED, 'even the right password is refused while locked')
  t.ok(banned.retryAfterMs > 0 && banned.retryAfterMs <= LOCKOUT_MS, `told when to retry (${banned.retryAfterMs} ms)`)
  t.match(banned.text, /locked after repeated failures; retry in \d+ s/)

  // The source address is locked too, so another account from it is refused.
  const other = await GatehouseClient.connect(gateway.url('terminal'))
  const otherResult = await other.logon('demo-taker', 'taker-pass', TEST_IDENTITY)
  t.equal(otherResult.reason, RejectReason.LOGIN_BANNED, 'the address is locked as well')
  t.equal(otherResult.failedStep, 'authenticate', 'refused at the first step')
  await other.close()

  // The lock lifting is the behaviour under test: wait as long as we were told.
  await delay(banned.retryAfterMs + 50)
  t.equal((await client.login('demo-maker', 'maker-pass')).ok, true, 'the lock lifts after lockoutMs')
  await client.logout()
})

t.test('new connections per IP per second are capped with HTTP 429', async (t) => {
  const url = gateway.url('platform')
  const attempts = await Promise.all(Array.from({ length: 10 }, async () => {
    const socket = new WebSocket(url)
    const outcome = await Promise.race([
      once(socket, 'open').then(() => 'open'),
      once(socket, 'unexpected-response').then(([, response]) => String((response as { statusCode: number }).statusCode)),
    ])
    socket.terminate()
    return outcome
  }))
  t.ok(attempts.filter((a) => a === 'open').length <= 5, `at most 5 admitted: ${attempts.join(',')}`)
  t.ok(attempts.includes('429'), 'the rest are refused with 429')
})
