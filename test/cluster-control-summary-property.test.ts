// The admin reply of a fanned-out change (cluster/control-summary.ts), for
// any set of instances and any replies, duplicates, strangers and
// impostors included: the origin comes first, every instance is either in
// `instances` or in `missing` and never both nor twice, and an instance's
// first answer is the one shown.
import t from 'tap'
import fc from 'fast-check'
import { describeSummary, summarizeReplies } from '../cluster/control-summary.js'

const id = fc.constantFrom('gw1', 'gw2', 'gw3', 'gw4', 'gw5', 'stranger')
const reply = fc.record({
  instance: id,
  ok: fc.boolean(),
  error: fc.option(fc.record({ code: fc.constant('GH_ERR_ADMIN_NOT_FOUND'), message: fc.string({ maxLength: 20 }) }), { nil: undefined }),
})

t.test('applied + missing = instances, origin first, no duplicates', async (t) => {
  fc.assert(fc.property(
    fc.uniqueArray(fc.constantFrom('gw1', 'gw2', 'gw3', 'gw4', 'gw5'), { minLength: 1, maxLength: 5 }),
    fc.array(reply, { maxLength: 12 }),
    (instances, replies) => {
      const self = instances[0]!
      const summary = summarizeReplies(self, instances, replies)
      const shown = summary.instances.map((i) => i.instance)
      t.equal(shown[0], self, 'origin first')
      t.equal(summary.instances[0]!.applied, true)
      t.same([...shown, ...summary.missing].sort(), [...instances].sort(), 'every instance once, in one list or the other')
      t.equal(new Set(shown).size, shown.length, 'no duplicates')
      for (const outcome of summary.instances.slice(1)) {
        const first = replies.find((r) => r.instance === outcome.instance)!
        t.equal(outcome.applied, first.ok, 'an instance\'s first answer counts')
      }
      for (const missing of summary.missing) t.notOk(replies.some((r) => r.instance === missing && missing !== self), 'missing ones did not answer')
      const text = describeSummary(summary)
      t.ok(text.startsWith(`applied on ${self}`))
      t.equal(text.includes('missing: '), summary.missing.length > 0)
    },
  ), { numRuns: 200 })
})
