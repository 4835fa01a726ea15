// The scan budget of a session's queries (lanes.<lane>.queryScanReportsPerSecond):
// an orders or trades query reads the account's held reports on the lane
// thread, so a session that read more than a second's worth must wait
// until the debt is paid back. Exact arithmetic, checked against a model.
import t from 'tap'
import fc from 'fast-check'
import { QueryThrottle } from '../lane/query-throttle.js'

t.test('a burst of one second\'s budget passes, then the debt must be paid back first', async (t) => {
  const throttle = new QueryThrottle()
  const budget = 20_000
  t.ok(throttle.scanAllowed(1_000, budget), 'a fresh session may read')
  throttle.chargeScan(1_000, 100_000, budget)
  t.notOk(throttle.scanAllowed(1_000, budget), '100,000 reports read: refused at once')
  t.equal(throttle.scanDebtAt(1_000, budget), 100_000)
  t.notOk(throttle.scanAllowed(4_999, budget), 'still above one second\'s worth 3.999 s later')
  t.ok(throttle.scanAllowed(5_000, budget), 'admitted once the debt is down to one second\'s worth (4 s)')
  t.equal(throttle.scanDebtAt(5_000, budget), 20_000)
  t.equal(throttle.scanDebtAt(10_000, budget), 0, 'never below zero')
  throttle.chargeScan(10_000, 0, budget)
  t.equal(throttle.scanDebtAt(10_000, budget), 0, 'a query that read nothing costs nothing')
})

t.test('the debt follows a model of charges paid back at the budget (fast-check)', async (t) => {
  fc.assert(fc.property(
    fc.integer({ min: 1_000, max: 1_000_000 }),
    fc.array(fc.record({ gapMs: fc.integer({ min: 0, max: 10_000 }), reports: fc.integer({ min: 0, max: 500_000 }) }), { maxLength: 40 }),
    (budget, charges) => {
      const throttle = new QueryThrottle()
      let now = 0
      let debt = 0
      for (const { gapMs, reports } of charges) {
        now += gapMs
        debt = Math.max(0, debt - gapMs * budget / 1000)
        if (Math.abs(throttle.scanDebtAt(now, budget) - debt) > 1e-6) return false
        if (throttle.scanAllowed(now, budget) !== (debt <= budget)) return false
        throttle.chargeScan(now, reports, budget)
        if (reports > 0) debt += reports
      }
      return Math.abs(throttle.scanDebtAt(now, budget) - debt) < 1e-6
    },
  ), { numRuns: 300 })
  t.pass('the session\'s debt equals the model\'s after every charge')
})
