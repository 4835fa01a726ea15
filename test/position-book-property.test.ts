// The position arithmetic (checks/position-book.ts) over random sequences
// of opening and closing orders (all four offset flags, unset included,
// under both close rules), partial fills, fills beyond what a close froze,
// cancels and trading-day rolls, against a reference model written here
// with plain numbers and none of position-book.ts: after every step no
// quantity is negative, no frozen bucket exceeds its held one, and the
// book and every working close's split are exactly the model's.
// FC_RUNS=2000 for a longer run on request.
import t from 'tap'
import fc from 'fast-check'
import {
  BOOK_FIELDS, CloseRule, FROZEN_TODAY, FROZEN_YESTERDAY, availableToClose, bucketOf, closeKind, closeRuleOf, effectiveOffset,
  fillClose, fillOpen, freezeClose, isClose, releaseClose, rollBook, rollFrozen,
} from '../checks/position-book.js'
import { OffsetFlag, Side } from '../protocol/messages.js'

const RUNS = Number(process.env.FC_RUNS ?? 300)
/** The book sits at an offset in a larger array, as it does in a position slot. */
const AT = 3
const MAX_ORDERS = 8

type Op =
  | { kind: 'order', side: number, offset: number, reduceOnly: boolean, lots: number }
  | { kind: 'fill', pick: number, lots: number }
  | { kind: 'overfill', pick: number, extra: number }
  | { kind: 'cancel', pick: number }
  | { kind: 'roll' }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('order' as const),
      side: fc.constantFrom(Side.BUY, Side.SELL),
      offset: fc.constantFrom(OffsetFlag.OFFSET_FLAG_UNSPECIFIED, OffsetFlag.OFFSET_OPEN, OffsetFlag.OFFSET_CLOSE, OffsetFlag.OFFSET_CLOSE_TODAY, OffsetFlag.OFFSET_CLOSE_YESTERDAY),
      reduceOnly: fc.boolean(),
      lots: fc.integer({ min: 1, max: 9 }),
    }),
  },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('fill' as const), pick: fc.nat(), lots: fc.integer({ min: 1, max: 9 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('overfill' as const), pick: fc.nat(), extra: fc.integer({ min: 1, max: 5 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'roll' as const }) },
)

/** One side's position in the model: held and frozen lots, today's and yesterday's. */
interface Side2 { heldToday: number, heldYesterday: number, frozenToday: number, frozenYesterday: number }

interface Working {
  /** Index of its two-slot split in the orders array. */
  index: number
  side: number
  close: boolean
  leaves: number
  /** The model's own split of a close. */
  frozenToday: number
  frozenYesterday: number
}

class Model {
  readonly long: Side2 = { heldToday: 0, heldYesterday: 0, frozenToday: 0, frozenYesterday: 0 }
  readonly short: Side2 = { heldToday: 0, heldYesterday: 0, frozenToday: 0, frozenYesterday: 0 }

  constructor (readonly yesterdayOnly: boolean) {}

  /** BUY opens long and closes short; SELL the reverse. */
  sideOf (orderSide: number, close: boolean): Side2 {
    const long = orderSide === Side.BUY ? !close : close
    return long ? this.long : this.short
  }

  /** Lots a close may take today and yesterday: what its flag and the exchange's rule allow, less what is frozen. */
  closable (orderSide: number, offset: number): { today: number, yesterday: number } {
    const p = this.sideOf(orderSide, true)
    const today = p.heldToday - p.frozenToday
    const yesterday = p.heldYesterday - p.frozenYesterday
    if (offset === OffsetFlag.OFFSET_CLOSE_TODAY) return { today, yesterday: 0 }
    if (offset === OffsetFlag.OFFSET_CLOSE_YESTERDAY) return { today: 0, yesterday }
    return this.yesterdayOnly ? { today: 0, yesterday } : { today, yesterday }
  }

  freeze (o: Working, offset: number): void {
    const { today } = this.closable(o.side, offset)
    o.frozenToday = Math.min(o.leaves, today)
    o.frozenYesterday = o.leaves - o.frozenToday
    const p = this.sideOf(o.side, true)
    p.frozenToday += o.frozenToday
    p.frozenYesterday += o.frozenYesterday
  }

  fill (o: Working, lots: number): void {
    const p = this.sideOf(o.side, o.close)
    if (!o.close) {
      p.heldToday += lots
      return
    }
    let rest = lots
    const today = Math.min(rest, o.frozenToday)
    rest -= today
    const yesterday = Math.min(rest, o.frozenYesterday)
    rest -= yesterday
    o.frozenToday -= today
    o.frozenYesterday -= yesterday
    p.heldToday -= today
    p.frozenToday -= today
    p.heldYesterday -= yesterday
    p.frozenYesterday -= yesterday
    // Beyond what it froze: what is held and not frozen, today's first; never below zero.
    const beyondToday = Math.min(rest, Math.max(0, p.heldToday - p.frozenToday))
    p.heldToday -= beyondToday
    rest -= beyondToday
    p.heldYesterday -= Math.min(rest, Math.max(0, p.heldYesterday - p.frozenYesterday))
  }

  release (o: Working): void {
    if (!o.close) return
    const p = this.sideOf(o.side, true)
    p.frozenToday -= o.frozenToday
    p.frozenYesterday -= o.frozenYesterday
    o.frozenToday = 0
    o.frozenYesterday = 0
  }

  roll (working: Working[]): void {
    for (const p of [this.long, this.short]) {
      p.heldYesterday += p.heldToday
      p.heldToday = 0
      p.frozenYesterday += p.frozenToday
      p.frozenToday = 0
    }
    for (const o of working) {
      o.frozenYesterday += o.frozenToday
      o.frozenToday = 0
    }
  }

  /** The book's eight numbers in BOOK_* order: held long td/yd, short td/yd, then frozen likewise. */
  asBook (): number[] {
    const { long: l, short: s } = this
    return [l.heldToday, l.heldYesterday, s.heldToday, s.heldYesterday, l.frozenToday, l.frozenYesterday, s.frozenToday, s.frozenYesterday]
  }
}

t.test('position-book functions agree with a plain model over random order flow and day rolls', async (t) => {
  const seen = new Map<string, number>()
  const count = (what: string): void => { seen.set(what, (seen.get(what) ?? 0) + 1) }
  fc.assert(fc.property(fc.constantFrom(CloseRule.YESTERDAY_ONLY, CloseRule.TODAY_FIRST), fc.array(opArb, { minLength: 1, maxLength: 120, size: 'max' }), (rule, ops) => {
    const book = new Float64Array(AT + BOOK_FIELDS + 2)
    const splits = new Float64Array(MAX_ORDERS * 2)
    const model = new Model(rule === CloseRule.YESTERDAY_ONLY)
    const working: Working[] = []
    const free = Array.from({ length: MAX_ORDERS }, (_, i) => i)
    const problems: string[] = []

    const check = (step: string): void => {
      const got = Array.from(book.subarray(AT, AT + BOOK_FIELDS))
      const want = model.asBook()
      if (got.join() !== want.join()) problems.push(`${step}: book ${got.join('/')}, model ${want.join('/')}`)
      if (got.some((n) => n < 0)) problems.push(`${step}: a negative quantity ${got.join('/')}`)
      for (let b = 0; b < 4; b++) if (got[b + 4]! > got[b]!) problems.push(`${step}: frozen above held in bucket ${b}: ${got.join('/')}`)
      if (book[0] !== 0 || book[1] !== 0 || book[2] !== 0 || book[AT + BOOK_FIELDS] !== 0) problems.push(`${step}: wrote outside the book`)
      for (const o of working) {
        const split = [splits[o.index * 2 + FROZEN_TODAY], splits[o.index * 2 + FROZEN_YESTERDAY]]
        if (split.join() !== [o.frozenToday, o.frozenYesterday].join()) problems.push(`${step}: order ${o.index} split ${split.join('/')}, model ${o.frozenToday}/${o.frozenYesterday}`)
      }
    }

    const done = (o: Working): void => {
      if (o.close) releaseClose(book, AT, bucketOf(o.side, true), splits, o.index * 2)
      model.release(o)
      working.splice(working.indexOf(o), 1)
      free.push(o.index)
    }

    ops.forEach((op, n) => {
      const step = `step ${n} ${JSON.stringify(op)}`
      if (op.kind === 'roll') {
        rollBook(book, AT)
        for (const o of working) if (o.close) rollFrozen(splits, o.index * 2)
        model.roll(working)
        count('roll')
      } else if (op.kind === 'order') {
        if (free.length === 0) return
        const offset = effectiveOffset(op.offset, op.reduceOnly)
        const close = isClose(offset)
        // The model's own reading of the flag: unset is open, or a plain close on a reduce_only order.
        const modelClose = op.offset === OffsetFlag.OFFSET_FLAG_UNSPECIFIED ? op.reduceOnly : op.offset !== OffsetFlag.OFFSET_OPEN
        if (close !== modelClose) problems.push(`${step}: isClose(effectiveOffset) ${close}, model ${modelClose}`)
        const o: Working = { index: free.pop()!, side: op.side, close, leaves: op.lots, frozenToday: 0, frozenYesterday: 0 }
        if (close) {
          const kind = closeKind(offset, rule)
          const available = availableToClose(book, AT, bucketOf(op.side, true), kind)
          const closable = model.closable(op.side, offset)
          if (available !== closable.today + closable.yesterday) problems.push(`${step}: available ${available}, model ${closable.today + closable.yesterday}`)
          if (available < op.lots) {
            // Refused, as the risk engine refuses it: nothing frozen.
            free.push(o.index)
            count('close refused')
            check(step)
            return
          }
          freezeClose(book, AT, bucketOf(op.side, true), kind, op.lots, splits, o.index * 2)
          model.freeze(o, offset)
          count('close')
        } else {
          splits[o.index * 2] = 0
          splits[o.index * 2 + 1] = 0
          count('open')
        }
        working.push(o)
      } else if (working.length > 0) {
        const o = working[op.pick % working.length]!
        if (op.kind === 'cancel') {
          done(o)
          count('cancel')
        } else {
          const lots = op.kind === 'fill' ? Math.min(op.lots, o.leaves) : o.leaves + op.extra
          if (o.close) fillClose(book, AT, bucketOf(o.side, true), lots, splits, o.index * 2)
          else fillOpen(book, AT, bucketOf(o.side, false), lots)
          model.fill(o, lots)
          count(op.kind === 'overfill' ? (o.close ? 'close overfilled' : 'open overfilled') : lots >= o.leaves ? 'filled' : 'partial fill')
          o.leaves = Math.max(0, o.leaves - lots)
          if (o.leaves === 0) done(o)
        }
      }
      check(step)
    })
    if (problems.length > 0) throw new Error(problems.slice(0, 5).join('\n'))
  }), { numRuns: RUNS })
  t.comment([...seen].map(([what, n]) => `${what} ${n}`).join(', '))
  for (const what of ['open', 'close', 'close refused', 'partial fill', 'filled', 'close overfilled', 'cancel', 'roll']) {
    t.ok((seen.get(what) ?? 0) > 0, `${what} exercised`)
  }
})

t.test('the exchanges\' plain-close rules and the offset flags', async (t) => {
  t.equal(closeRuleOf('SHFE'), CloseRule.YESTERDAY_ONLY)
  t.equal(closeRuleOf('INE'), CloseRule.YESTERDAY_ONLY)
  for (const exchange of ['DCE', 'ZCE', 'CFFEX', 'GFEX', '']) t.equal(closeRuleOf(exchange), CloseRule.TODAY_FIRST, exchange || 'unknown')
  t.equal(effectiveOffset(OffsetFlag.OFFSET_FLAG_UNSPECIFIED, false), OffsetFlag.OFFSET_OPEN)
  t.equal(effectiveOffset(OffsetFlag.OFFSET_FLAG_UNSPECIFIED, true), OffsetFlag.OFFSET_CLOSE)
  t.equal(effectiveOffset(OffsetFlag.OFFSET_OPEN, true), OffsetFlag.OFFSET_OPEN, 'a flag set is kept')
})
