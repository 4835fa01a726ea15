// The lane's working-order slot table (lane/working-orders.ts) against a
// model: a Map by link order ID in entry order. Random opens, removals
// (also while iterating, as linkUp does), cancel marks and field writes,
// with link order IDs near the live lane's (start time × 1000, above 2^31)
// and in runs that collide in the hash. The table must find every order
// by its ID, visit them in entry order, grow by doubling up to its bound,
// refuse at the bound, and reuse freed slots without leaking old fields.
import t from 'tap'
import fc from 'fast-check'
import { NO_SLOT, WorkingOrders } from '../lane/working-orders.js'
import type { InstrumentRisk, RiskContext } from '../checks/risk-engine.js'
import { ClientSession } from '../lane/client-session.js'

const INSTRUMENTS: InstrumentRisk[] = ['rb2605', 'cu2605', 'IF2606'].map((symbol, index) => ({
  symbol, index: index * 5, exchange: index, multiplier: 10, priceScale: 1, marginRateBps: 1000, referencePrice: 3200, maxOrderLots: 100, closeRule: 0 as never,
}))
const ACCOUNTS = ['A1', 'B2', 'C3']
const CONTEXTS: RiskContext[] = ACCOUNTS.map((_, account) => ({ lane: 1, app: account - 1, account: account * 3 }))
const SESSION = new ClientSession(7, '127.0.0.1', 0, 1)

interface Model {
  linkOrderId: number
  clientOrderId: number
  account: string
  instrument: string
  quantityLots: number
  leavesLots: number
  cancelLinkSeq: number
  cancelOwed: boolean
  owned: boolean
}

type Op =
  | { t: 'open', account: number, instrument: number, lots: number, owned: boolean }
  | { t: 'remove', which: number }
  | { t: 'fill', which: number }
  | { t: 'cancel', which: number, seq: number }
  | { t: 'sweep', modulo: number }

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 9, arbitrary: fc.record({ t: fc.constant('open' as const), account: fc.nat(2), instrument: fc.nat(2), lots: fc.integer({ min: 1, max: 50 }), owned: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('remove' as const), which: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('fill' as const), which: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('cancel' as const), which: fc.nat(), seq: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('sweep' as const), modulo: fc.integer({ min: 2, max: 4 }) }) },
)

function stateOf (table: WorkingOrders): Model[] {
  const out: Model[] = []
  for (let slot = table.first(); slot !== NO_SLOT; slot = table.nextOf(slot)) {
    out.push({
      linkOrderId: table.linkOrderId[slot]!,
      clientOrderId: table.clientOrderId[slot]!,
      account: table.accountName(slot),
      instrument: table.symbol(slot),
      quantityLots: table.quantityLots[slot]!,
      leavesLots: table.leavesLots[slot]!,
      cancelLinkSeq: table.cancelLinkSeq[slot]!,
      cancelOwed: table.cancelOwed(slot),
      owned: table.session[slot] === SESSION,
    })
  }
  return out
}

t.test('the slot table behaves as a Map by link order ID in entry order, up to its bound', async (t) => {
  let grewPast = 0
  let refusedAtBound = 0
  let maxSize = 0
  fc.assert(fc.property(
    fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 8 }), fc.constantFrom(1, 7, 1 << 20), fc.array(op, { maxLength: 200, size: 'max' }),
    (maxSlots, initialSlots, idStride, ops) => {
      const table = new WorkingOrders(maxSlots, initialSlots)
      const model = new Map<number, Model>()
      // As the live lane starts: start time in ms × 1000; a stride of 2^20 lines IDs up on few hash buckets.
      let nextId = 1_765_000_000_000 * 1000
      let nextClientId = 0
      const pick = (which: number): Model | undefined => [...model.values()][which % Math.max(1, model.size)]
      for (const o of ops) {
        switch (o.t) {
          case 'open': {
            const linkOrderId = (nextId += idStride)
            const clientOrderId = ++nextClientId
            const slot = table.open(linkOrderId, clientOrderId, o.owned ? SESSION : null, ACCOUNTS[o.account]!, CONTEXTS[o.account]!, clientOrderId,
              INSTRUMENTS[o.instrument]!, 1, 3200, o.lots, 1, 1, 1, o.account, null, 5)
            if (model.size >= maxSlots) {
              assert(slot === NO_SLOT, 'refused at the bound')
              refusedAtBound++
              break
            }
            assert(slot !== NO_SLOT, `room below the bound (size ${model.size}, bound ${maxSlots})`)
            model.set(linkOrderId, {
              linkOrderId, clientOrderId, account: ACCOUNTS[o.account]!, instrument: INSTRUMENTS[o.instrument]!.symbol,
              quantityLots: o.lots, leavesLots: o.lots, cancelLinkSeq: 0, cancelOwed: false, owned: o.owned,
            })
            const ctx = table.riskContext(slot)
            assert(ctx.account === CONTEXTS[o.account]!.account && ctx.app === CONTEXTS[o.account]!.app && ctx.lane === 1, 'risk context')
            if (initialSlots < model.size) grewPast++
            break
          }
          case 'remove': {
            const m = pick(o.which)
            if (m === undefined) break
            table.remove(table.slotOf(m.linkOrderId))
            model.delete(m.linkOrderId)
            break
          }
          case 'fill': {
            const m = pick(o.which)
            if (m === undefined || m.leavesLots < 2) break
            table.leavesLots[table.slotOf(m.linkOrderId)] = --m.leavesLots
            break
          }
          case 'cancel': {
            const m = pick(o.which)
            if (m === undefined) break
            const slot = table.slotOf(m.linkOrderId)
            if (o.seq === 0) table.setCancelOwed(slot, m.cancelOwed = true)
            else {
              table.cancelLinkSeq[slot] = m.cancelLinkSeq = o.seq
              table.setCancelOwed(slot, m.cancelOwed = false)
            }
            break
          }
          case 'sweep': {
            // As linkUp does: remove some orders while visiting them.
            let k = 0
            for (let slot = table.first(); slot !== NO_SLOT;) {
              const next = table.nextOf(slot)
              if (k++ % o.modulo === 0) {
                model.delete(table.linkOrderId[slot]!)
                table.remove(slot)
              }
              slot = next
            }
            break
          }
        }
        maxSize = Math.max(maxSize, model.size)
        assert(table.size === model.size, `size ${table.size} vs ${model.size}`)
        assert(table.full === (model.size >= maxSlots), 'full at the bound')
        assert(table.capacity <= maxSlots, 'never past the bound')
      }
      t.strictSame(stateOf(table), [...model.values()], 'the same orders, fields and entry order')
      for (const m of model.values()) {
        const slot = table.slotOf(m.linkOrderId)
        assert(slot !== NO_SLOT && table.has(m.linkOrderId), `order ${m.linkOrderId} found`)
        const view = table.view(slot)
        assert(view.linkOrderId === m.linkOrderId && view.account === m.account && view.instrument === m.instrument && view.risk.account === CONTEXTS[ACCOUNTS.indexOf(m.account)]!.account, 'view')
      }
      assert(table.slotOf(nextId + 1) === NO_SLOT, 'an ID never opened is not found')
      assert([...table.values()].length === model.size, 'values() copies every order')
    }), { numRuns: 300, interruptAfterTimeLimit: 20_000 })
  t.ok(grewPast > 0, `the table grew past its first allocation (${grewPast} opens)`)
  t.ok(refusedAtBound > 0, `opens refused at the bound: ${refusedAtBound}`)
  t.ok(maxSize > 16, `largest table: ${maxSize}`)
})

t.test('a freed slot keeps no session or warning alive, and a view is a copy', async (t) => {
  const table = new WorkingOrders(4, 2)
  const warning = { monitor: 1, observed: 2, warningLevel: 2, blockingLevel: 3, text: 'w' }
  const slot = table.open(1e15, 1, SESSION, 'A1', CONTEXTS[0]!, 11, INSTRUMENTS[0]!, 1, 3200, 3, 1, 1, 1, 0, warning, 9)
  const view = table.view(slot)
  t.match(view, { linkOrderId: 1e15, clientOrderId: 11, session: SESSION, warning, account: 'A1', instrument: 'rb2605', leavesLots: 3, receivedMs: 9 })
  table.leavesLots[slot] = 1
  t.equal(view.leavesLots, 3, 'the view does not follow the slot')
  table.remove(slot)
  t.equal(table.session[slot], null, 'session dropped')
  t.equal(table.warning[slot], null, 'warning dropped')
  t.equal(table.slotOf(1e15), NO_SLOT, 'not found once removed')
  const again = table.open(2e15, 2, null, 'B2', CONTEXTS[1]!, 12, INSTRUMENTS[1]!, 2, 3300, 5, 1, 1, 1, 0, null, 0)
  t.equal(again, slot, 'the freed slot is reused first')
  t.match(table.view(again), { cumulativeLots: 0, leavesLots: 5, cancelLinkSeq: 0, cancelOwed: false, exchangeOrderId: 0, account: 'B2', instrument: 'cu2605' }, 'nothing of the old order')
  t.throws(() => new WorkingOrders(0), RangeError, 'a bound below 1 is refused')
})

function assert (ok: boolean, what: string): asserts ok {
  if (!ok) throw new Error(what)
}
