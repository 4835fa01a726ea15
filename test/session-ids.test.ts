// Session IDs (lane/session-ids.ts): a keyed permutation of a counter
// kept in runDir, so IDs are unpredictable and never reused, across lanes
// and restarts.
import t from 'tap'
import fc from 'fast-check'
import { mkdtempSync, readFileSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SESSION_ID_LIMIT, SessionIds, loadSessionIdKey, permuteSessionCounter } from '../lane/session-ids.js'

t.test('the permutation is one-to-one and stays within 32 bits', async (t) => {
  const key = loadSessionIdKey(mkdtempSync(join(tmpdir(), 'gh-sid-')))
  fc.assert(fc.property(fc.integer({ min: 0, max: SESSION_ID_LIMIT - 1 }), fc.integer({ min: 0, max: SESSION_ID_LIMIT - 1 }), (a, b) => {
    const pa = permuteSessionCounter(key, a)
    const pb = permuteSessionCounter(key, b)
    return pa >= 0 && pa < SESSION_ID_LIMIT && Number.isInteger(pa) && (a === b) === (pa === pb)
  }), { numRuns: 2000 })
  t.pass('distinct counters, distinct IDs')
})

t.test('lanes and restarts never reuse an ID; the key is created once, owner-only', async (t) => {
  const runDir = mkdtempSync(join(tmpdir(), 'gh-sid-'))
  const seen = new Set<number>()
  const issue = (lane: string, index: number, n: number): void => {
    const ids = new SessionIds(runDir, lane, index, 3)
    for (let i = 0; i < n; i++) seen.add(ids.next())
  }
  // Two "runs" of three lanes; the first run's lanes stop mid-block.
  for (const run of [0, 1]) ['terminal', 'platform', 'hft'].forEach((lane, index) => { issue(lane, index, 5000 + run) })
  t.equal(seen.size, 2 * 3 * 5000 + 3, 'every ID distinct')
  const key = join(runDir, 'session-id-key')
  t.equal(statSync(key).mode & 0o777, 0o600)
  const before = readFileSync(key)
  loadSessionIdKey(runDir)
  t.same(readFileSync(key), before, 'the key is kept across starts')
  const sorted = [...seen].slice(0, 100)
  t.ok(sorted.slice(1).some((id, i) => Math.abs(id - sorted[i]!) > 1_000_000), 'consecutive IDs are far apart')
})
