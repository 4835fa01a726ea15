// Properties of the logon guard (supervisor/access/logon-guard.ts), the state machine
// behind every lockout: whatever the interleaving of attempts, answers and
// other sources' traffic, a key never has more attempts checked than its
// allowance, and a lock in force is never lost to others' traffic.
import t from 'tap'
import fc from 'fast-check'
import { LogonGuard, addressPrefix, type GuardKey, type Reservation } from '../supervisor/access/logon-guard.js'

const LIMITS = { maxFailures: 5, prefixMaxFailures: 50, failureWindowMs: 60_000, lockoutMs: 60_000, maxTrackedEntries: 100, maxLocks: 100 }
const RUNS = 200

t.test('addresses aggregate by /24 and /64', async (t) => {
  t.equal(addressPrefix('192.0.2.77'), '192.0.2.0/24')
  t.equal(addressPrefix('::ffff:192.0.2.77'), '192.0.2.0/24', 'IPv4-mapped IPv6 counts as IPv4')
  t.equal(addressPrefix('2001:db8:1:2:3:4:5:6'), '2001:db8:1:2::/64')
  t.equal(addressPrefix('2001:db8::1'), '2001:db8:0:0::/64')
})

t.test('attempts checked for one key never exceed its allowance, under any interleaving', async (t) => {
  // Ops: start an attempt, or answer one in flight (fail or succeed).
  const op = fc.oneof(fc.constant({ kind: 'start' as const }), fc.record({ kind: fc.constant('answer' as const), pick: fc.nat(), failed: fc.boolean() }))
  fc.assert(fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
    const guard = new LogonGuard(LIMITS)
    const key: GuardKey[] = [{ kind: 'name', value: 'victim' }]
    const inFlight: Reservation[] = []
    let failures = 0
    let checkedSinceLock = 0
    for (const o of ops) {
      if (o.kind === 'start') {
        if (guard.lockOn(key) !== null) continue
        const reservation = guard.reserve(key)
        if (reservation === null) continue
        inFlight.push(reservation)
        checkedSinceLock++
        // Failures already counted plus attempts in flight stay within the allowance.
        if (failures + inFlight.length > LIMITS.maxFailures) return false
      } else if (inFlight.length > 0) {
        const [reservation] = inFlight.splice(o.pick % inFlight.length, 1)
        guard.settle(reservation!, o.failed)
        if (o.failed) failures++
        if (failures >= LIMITS.maxFailures) {
          // Locked now: nothing more may start.
          if (guard.lockOn(key) === null) return false
          if (checkedSinceLock > LIMITS.maxFailures) return false
          return guard.reserve(key) === null || guard.lockOn(key) !== null
        }
      }
    }
    return true
  }), { numRuns: RUNS })
  t.pass('never more in flight than the allowance left')
})

t.test('a lock in force survives any amount of other sources\' failures', async (t) => {
  fc.assert(fc.property(fc.integer({ min: 100, max: 2000 }), (others) => {
    const guard = new LogonGuard({ ...LIMITS, maxLocks: 10_000 })
    const victim: GuardKey[] = [{ kind: 'name', value: 'victim' }]
    for (let i = 0; i < LIMITS.maxFailures; i++) guard.settle(guard.reserve(victim)!, true)
    if (guard.lockOn(victim) === null) return false
    for (let i = 0; i < others; i++) {
      const keys: GuardKey[] = [{ kind: 'ip', value: `198.${i >> 8}.${i & 255}.1` }, { kind: 'name', value: `made-up-${i}` }]
      const reservation = guard.reserve(keys)
      if (reservation !== null) guard.settle(reservation, true)
    }
    return guard.lockOn(victim) !== null
  }), { numRuns: 20 })
  t.pass('the victim stays locked')
})

t.test('a full lock store refuses sources with failures, and says so once', async (t) => {
  const guard = new LogonGuard({ ...LIMITS, maxFailures: 1, maxLocks: 100 })
  const events: string[] = []
  guard.onEvent = (event) => { events.push(event.kind) }
  for (let i = 0; i < 100; i++) guard.settle(guard.reserve([{ kind: 'ip', value: `10.0.${i}.1` }])!, true)
  t.equal(guard.lockCounts().ip, 100, 'the store holds 100 locks')
  const next: GuardKey[] = [{ kind: 'ip', value: '10.1.0.1' }]
  guard.settle(guard.reserve(next)!, true)
  t.equal(guard.lockOn(next), null, 'the 101st lock cannot be stored')
  t.equal(guard.reserve(next), null, 'but the source is still refused: its count stays at the limit')
  t.equal(guard.refusedWhileFull(next), true, 'and is refused while the store is full')
  t.equal(guard.refusedWhileFull([{ kind: 'ip', value: '10.2.0.1' }]), false, 'a source without failures is not')
  t.equal(guard.lockStoreFull, true)
  t.equal(events.filter((e) => e === 'lock-store-full').length, 1, 'one alert per episode')
  t.ok(Array.from({ length: 100 }, (_, i) => guard.lockOn([{ kind: 'ip', value: `10.0.${i}.1` }])).every((lock) => lock !== null), 'the stored locks stay in force')
})
