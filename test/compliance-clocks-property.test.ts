// The trading calendar and the filing clocks, and the dual-control state
// machine, as properties: fast-check drives them with random dates,
// holidays and operator actions (a few hundred runs, time-boxed), checked
// against a plain day-by-day count and a model of the rules.
import t from 'tap'
import fc from 'fast-check'
import { TradingCalendar, dateOfDayNumber, dayNumberOf } from '../compliance/trading-calendar.js'
import { FILING_TRADING_DAYS, MATERIAL_CHANGE_TRADING_DAYS, filingClocks } from '../compliance/filing-clocks.js'
import { PendingChanges, isRefusal } from '../compliance/dual-control.js'

const RUNS = { numRuns: 300, interruptAfterTimeLimit: 5000 }
// 2020-01-01 .. 2035-12-31 as day numbers.
const FIRST = dayNumberOf('2020-01-01')!
const LAST = dayNumberOf('2035-12-31')!
const dayArb = fc.integer({ min: FIRST, max: LAST - 400 })

/** The model: a weekday not in the holiday list. */
const isTrading = (n: number, holidays: Set<number>): boolean => { const w = (n + 4) % 7; return w !== 0 && w !== 6 && !holidays.has(n) }

t.test('addTradingDays lands on the Nth trading day after the start, counted one day at a time', async () => {
  fc.assert(fc.property(dayArb, fc.integer({ min: 0, max: 40 }), fc.array(fc.integer({ min: 0, max: 120 }), { maxLength: 20 }), (start, count, offsets) => {
    const holidays = new Set(offsets.map((o) => start + o))
    const calendar = new TradingCalendar([...holidays].map(dateOfDayNumber))
    let n = start
    for (let left = count; left > 0;) { n++; if (isTrading(n, holidays)) left-- }
    const due = calendar.addTradingDays(dateOfDayNumber(start), count)
    return due === dateOfDayNumber(n) && calendar.tradingDaysBetween(dateOfDayNumber(start), due) === count
  }), RUNS)
})

t.test('known dates: Friday + 5 trading days is the next Friday; a holiday pushes it one day', async (t) => {
  const plain = new TradingCalendar()
  t.equal(plain.addTradingDays('2026-11-27', FILING_TRADING_DAYS), '2026-12-04')
  t.equal(new TradingCalendar(['2026-12-01']).addTradingDays('2026-11-27', FILING_TRADING_DAYS), '2026-12-07', 'a Tuesday holiday: due the Monday after')
  t.equal(plain.isTradingDay('2026-12-05'), false, 'Saturday')
  t.equal(plain.tradingDaysBetween('2026-12-04', '2026-11-27'), -5, 'counted backwards')
  t.throws(() => plain.addTradingDays('2026-02-30', 1), RangeError, 'not a date')
})

t.test('clock states follow the dates', async (t) => {
  const calendar = new TradingCalendar()
  const base: { reportReceivedOn: string, filedOn: string | null, materialChangeOn: string | null, materialChangeReportedOn: string | null } = { reportReceivedOn: '2026-11-27', filedOn: null, materialChangeOn: null, materialChangeReportedOn: null }
  const at = (asOf: string, dates = base): string => filingClocks(calendar, 'A', dates, asOf, 2)[0]!.state
  t.equal(at('2026-11-30'), 'running', '4 trading days left')
  t.equal(at('2026-12-02'), 'due-soon', '2 left: alerted')
  t.equal(at('2026-12-04'), 'due-soon', 'the due day')
  t.equal(at('2026-12-07'), 'overdue')
  t.equal(at('2026-12-07', { ...base, filedOn: '2026-12-04' }), 'met')
  t.equal(at('2026-12-09', { ...base, filedOn: '2026-12-08' }), 'late')
  const change = filingClocks(calendar, 'A', { ...base, materialChangeOn: '2026-12-01' }, '2026-12-01', 2)[1]!
  t.match(change, { clock: 'material-change', tradingDaysLeft: MATERIAL_CHANGE_TRADING_DAYS, state: 'running' })
})

t.test('dual control: only another operator within the window applies a request; each request is decided at most once', async () => {
  const opArb = fc.oneof(
    fc.record({ kind: fc.constant('add' as const), who: fc.constantFrom('alice', 'bob', 'carol') }),
    fc.record({ kind: fc.constant('approve' as const), who: fc.constantFrom('alice', 'bob', 'carol'), pick: fc.nat(9) }),
    fc.record({ kind: fc.constant('reject' as const), pick: fc.nat(9) }),
    fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 400 }) }),
  )
  fc.assert(fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
    const windowMs = 500
    const pending = new PendingChanges('dc')
    const model = new Map<string, { by: string, expires: number, decided: boolean }>()
    const ids: string[] = []
    let now = 0
    for (const op of ops) {
      if (op.kind === 'wait') { now += op.ms; continue }
      if (op.kind === 'add') {
        const r = pending.add('limitRaise', 'set-limits', {}, 'x', op.who, now, windowMs)
        ids.push(r.requestId)
        model.set(r.requestId, { by: op.who, expires: now + windowMs, decided: false })
        continue
      }
      const id = ids[op.pick % Math.max(1, ids.length)] ?? 'dc-0'
      const m = model.get(id)
      if (op.kind === 'reject') {
        const r = pending.takeForRejection(id)
        const expected = m !== undefined && !m.decided && now <= m.expires
        // A request past its window may still be rejected until a sweep removes it; never once decided.
        if ('refused' in r) { if (expected) return false } else { if (m === undefined || m.decided) return false; m.decided = true }
        continue
      }
      const r = pending.takeForApproval(id, op.who, now)
      if (isRefusal(r)) {
        if (m !== undefined && !m.decided && now <= m.expires && m.by !== op.who) return false
        if (r.refused === 'self-approval' && (m === undefined || m.by !== op.who)) return false
      } else {
        if (m === undefined || m.decided || now > m.expires || m.by === op.who) return false
        m.decided = true
      }
    }
    return true
  }), RUNS)
})
