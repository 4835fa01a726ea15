// The simulator's futures positions, in process (the matching engine and
// its position books): open and close per account, the close rules of
// each exchange (SHFE plain close = yesterday's only, DCE today's first),
// CLOSE_EXCEEDS_POSITION, frozen lots released when a close ends, trade
// IDs on both sides of a match, the trading-day roll, the account cap, and
// a property test of the book's invariants over random order flow.
import t from 'tap'
import fc from 'fast-check'
import {
  ExecType, HedgeFlag, OffsetFlag, RejectReason, Side, TimeInForce, wireInt, type LinkExecutionReportInit,
} from '../protocol/messages.js'
import { MatchingEngine, type NewOrderInput, type PositionView } from '../exchange-sim/matching-engine.js'
import { DEFAULT_INSTRUMENTS } from '../exchange-sim/instruments.js'

const CLOCK_US = 1_767_571_200_000_000
const DAY = '20260105'

interface Sent { session: string, report: LinkExecutionReportInit }

function setup (maxAccounts?: number): { engine: MatchingEngine, take: () => Sent[] } {
  const sent: Sent[] = []
  const engine = new MatchingEngine(DEFAULT_INSTRUMENTS, (session, report) => { sent.push({ session, report }) }, () => CLOCK_US,
    { tradingDay: DAY, ...(maxAccounts === undefined ? {} : { maxAccounts }) })
  return { engine, take: () => sent.splice(0, sent.length) }
}

let nextId = 1
/** An order with a fresh order_id; `account` also names the session it arrives on. */
function order (account: string, instrument: string, side: Side, offsetFlag: OffsetFlag, price: number, quantityLots: number,
  extra: Partial<NewOrderInput> = {}): NewOrderInput {
  return { orderId: nextId++, account, instrument, side, price, quantityLots, timeInForce: TimeInForce.GFD, offsetFlag, hedgeFlag: HedgeFlag.HEDGE_SPECULATION, ...extra }
}

function send (engine: MatchingEngine, o: NewOrderInput): NewOrderInput {
  engine.newOrder(o.account, o)
  return o
}

/** A trade of `lots` at `price`: `seller` rests, `buyer` takes it. Returns the reports. */
function trade (engine: MatchingEngine, take: () => Sent[], instrument: string, price: number, lots: number,
  buyer: [string, OffsetFlag], seller: [string, OffsetFlag]): Sent[] {
  send(engine, order(seller[0], instrument, Side.SELL, seller[1], price, lots))
  send(engine, order(buyer[0], instrument, Side.BUY, buyer[1], price, lots))
  return take()
}

/** The position of `account` in one instrument, zeros when flat. */
function position (engine: MatchingEngine, account: string, instrument: string): Omit<PositionView, 'instrument'> {
  const found = engine.positionsOf(account).find((p) => p.instrument === instrument)
  const { instrument: _, ...rest } = found ?? {
    instrument, longToday: 0, longYesterday: 0, shortToday: 0, shortYesterday: 0,
    longTodayFrozen: 0, longYesterdayFrozen: 0, shortTodayFrozen: 0, shortYesterdayFrozen: 0,
  }
  return rest
}

function flat (overrides: Partial<Omit<PositionView, 'instrument'>>): Omit<PositionView, 'instrument'> {
  return {
    longToday: 0, longYesterday: 0, shortToday: 0, shortYesterday: 0,
    longTodayFrozen: 0, longYesterdayFrozen: 0, shortTodayFrozen: 0, shortYesterdayFrozen: 0,
    ...overrides,
  }
}

function execs (sent: Sent[]): Array<[string, string, string]> {
  return sent.map(({ session, report }) => [session, ExecType[report.execType!]!, RejectReason[report.reason ?? 0]!])
}

t.test('opening fills build long and short today; unset offset from an older gateway opens', async (t) => {
  const { engine, take } = setup()
  const sent = trade(engine, take, 'rb2605', 3200, 3, ['long', OffsetFlag.OFFSET_OPEN], ['short', OffsetFlag.OFFSET_FLAG_UNSPECIFIED])
  t.same(execs(sent).map((e) => e[1]), ['ACK', 'ACK', 'FILL', 'FILL'])
  t.same(position(engine, 'long', 'rb2605'), flat({ longToday: 3 }))
  t.same(position(engine, 'short', 'rb2605'), flat({ shortToday: 3 }), 'offset_flag 0 is taken as OPEN')
  const noFlags = order('old', 'm2605', Side.BUY, OffsetFlag.OFFSET_OPEN, 2950, 1)
  delete noFlags.offsetFlag
  delete noFlags.hedgeFlag
  send(engine, noFlags)
  t.same(execs(take()), [['old', 'ACK', 'REASON_UNSPECIFIED']], 'an order without offset or hedge flag is accepted as an opening order')
  t.same(engine.positionsOf('nobody'), [], 'an unknown account holds nothing')
})

t.test('undefined offset or hedge flag values are INVALID_FIELD', async (t) => {
  const { engine, take } = setup()
  send(engine, order('a', 'rb2605', Side.BUY, 5 as OffsetFlag, 3200, 1))
  send(engine, order('a', 'rb2605', Side.BUY, OffsetFlag.OFFSET_OPEN, 3200, 1, { hedgeFlag: 4 as HedgeFlag }))
  send(engine, order('a', 'rb2605', Side.BUY, -1 as OffsetFlag, 3200, 1))
  const sent = take()
  t.same(execs(sent), [['a', 'REJECTED', 'INVALID_FIELD'], ['a', 'REJECTED', 'INVALID_FIELD'], ['a', 'REJECTED', 'INVALID_FIELD']])
  t.equal(sent[0]!.report.text, 'offset_flag 5 is not OPEN, CLOSE, CLOSE_TODAY or CLOSE_YESTERDAY')
  t.equal(sent[1]!.report.text, 'hedge_flag 4 is not SPECULATION, ARBITRAGE or HEDGE')
  t.same(engine.positionsOf('a'), [])
  for (const hedge of [HedgeFlag.HEDGE_FLAG_UNSPECIFIED, HedgeFlag.HEDGE_ARBITRAGE, HedgeFlag.HEDGE_HEDGE]) {
    send(engine, order('a', 'rb2605', Side.BUY, OffsetFlag.OFFSET_OPEN, 3100, 1, { hedgeFlag: hedge }))
  }
  t.same(execs(take()).map((e) => e[1]), ['ACK', 'ACK', 'ACK'], 'every defined hedge flag is accepted')
})

t.test('SHFE: a plain close takes yesterday\'s lots only; CLOSE_TODAY closes today\'s', async (t) => {
  const { engine, take } = setup()
  trade(engine, take, 'rb2605', 3200, 2, ['acct', OffsetFlag.OFFSET_OPEN], ['mm', OffsetFlag.OFFSET_OPEN])
  t.same(position(engine, 'acct', 'rb2605'), flat({ longToday: 2 }))

  send(engine, order('acct', 'rb2605', Side.SELL, OffsetFlag.OFFSET_CLOSE, 3200, 1))
  const refused = take()
  t.same(execs(refused), [['acct', 'REJECTED', 'CLOSE_EXCEEDS_POSITION']], 'only today\'s lots are held: a plain close is refused')
  t.equal(refused[0]!.report.text, 'close of 1 lots asked, 0 available to close: acct long rb2605, yesterday\'s lots only ' +
    '(a plain close on SHFE takes yesterday\'s lots only; today\'s need OFFSET_CLOSE_TODAY)')
  send(engine, order('acct', 'rb2605', Side.SELL, OffsetFlag.OFFSET_CLOSE_YESTERDAY, 3200, 1))
  t.same(execs(take()), [['acct', 'REJECTED', 'CLOSE_EXCEEDS_POSITION']], 'CLOSE_YESTERDAY too')

  // CLOSE_TODAY: accepted, freezes today's lots while it rests, closes them when filled.
  send(engine, order('acct', 'rb2605', Side.SELL, OffsetFlag.OFFSET_CLOSE_TODAY, 3210, 1))
  t.same(execs(take()), [['acct', 'ACK', 'REASON_UNSPECIFIED']])
  t.same(position(engine, 'acct', 'rb2605'), flat({ longToday: 2, longTodayFrozen: 1 }))
  send(engine, order('acct', 'rb2605', Side.SELL, OffsetFlag.OFFSET_CLOSE_TODAY, 3210, 2))
  t.match(take()[0]!.report, { reason: RejectReason.CLOSE_EXCEEDS_POSITION, text: /close of 2 lots asked, 1 available to close: acct long rb2605, today's lots only/ },
    'frozen lots are not available to a second close')
  send(engine, order('mm', 'rb2605', Side.BUY, OffsetFlag.OFFSET_CLOSE, 3210, 1))
  t.same(execs(take()), [['mm', 'REJECTED', 'CLOSE_EXCEEDS_POSITION']], 'mm\'s short is today\'s too')
  send(engine, order('mm', 'rb2605', Side.BUY, OffsetFlag.OFFSET_CLOSE_TODAY, 3210, 1))
  t.same(execs(take()).map((e) => e[1]), ['ACK', 'FILL', 'FILL'])
  t.same(position(engine, 'acct', 'rb2605'), flat({ longToday: 1 }))
  t.same(position(engine, 'mm', 'rb2605'), flat({ shortToday: 1 }))

  // After the roll the lot is yesterday's: now a plain close takes it, CLOSE_TODAY cannot.
  engine.rollTradingDay('20260106')
  t.same(position(engine, 'acct', 'rb2605'), flat({ longYesterday: 1 }))
  send(engine, order('acct', 'rb2605', Side.SELL, OffsetFlag.OFFSET_CLOSE_TODAY, 3200, 1))
  t.same(execs(take()), [['acct', 'REJECTED', 'CLOSE_EXCEEDS_POSITION']])
  send(engine, order('acct', 'rb2605', Side.SELL, OffsetFlag.OFFSET_CLOSE, 3200, 1))
  send(engine, order('mm', 'rb2605', Side.BUY, OffsetFlag.OFFSET_CLOSE, 3200, 1))
  t.same(execs(take()).map((e) => e[1]), ['ACK', 'ACK', 'FILL', 'FILL'])
  t.same(engine.positionsOf('acct'), [], 'flat')
  t.same(engine.positionsOf('mm'), [], 'flat')
})

t.test('DCE: a plain close takes today\'s lots first, then yesterday\'s', async (t) => {
  const { engine, take } = setup()
  trade(engine, take, 'm2605', 2950, 2, ['acct', OffsetFlag.OFFSET_OPEN], ['mm', OffsetFlag.OFFSET_OPEN])
  engine.rollTradingDay('20260106')
  trade(engine, take, 'm2605', 2950, 1, ['acct', OffsetFlag.OFFSET_OPEN], ['mm', OffsetFlag.OFFSET_OPEN])
  t.same(position(engine, 'acct', 'm2605'), flat({ longToday: 1, longYesterday: 2 }))

  send(engine, order('acct', 'm2605', Side.SELL, OffsetFlag.OFFSET_CLOSE, 2960, 2))
  take()
  t.same(position(engine, 'acct', 'm2605'), flat({ longToday: 1, longYesterday: 2, longTodayFrozen: 1, longYesterdayFrozen: 1 }),
    'the working close froze 1 of today\'s and 1 of yesterday\'s')
  send(engine, order('acct', 'm2605', Side.SELL, OffsetFlag.OFFSET_CLOSE, 2960, 2))
  const refused = take()
  t.equal(refused[0]!.report.text, 'close of 2 lots asked, 1 available to close: acct long m2605, today\'s, then yesterday\'s lots')
  // The short side closes the same way: mm holds 2 yesterday + 1 today short.
  send(engine, order('mm', 'm2605', Side.BUY, OffsetFlag.OFFSET_CLOSE, 2960, 2))
  const fills = take()
  t.same(execs(fills).map((e) => e[1]), ['ACK', 'FILL', 'FILL'])
  t.same(position(engine, 'acct', 'm2605'), flat({ longYesterday: 1 }), 'today\'s lot closed first, then one of yesterday\'s')
  t.same(position(engine, 'mm', 'm2605'), flat({ shortYesterday: 1 }))
  send(engine, order('acct', 'm2605', Side.SELL, OffsetFlag.OFFSET_CLOSE_TODAY, 2960, 1))
  t.same(execs(take()), [['acct', 'REJECTED', 'CLOSE_EXCEEDS_POSITION']], 'CLOSE_TODAY names today\'s bucket even on DCE')
  send(engine, order('acct', 'm2605', Side.SELL, OffsetFlag.OFFSET_CLOSE_YESTERDAY, 2960, 1))
  t.same(execs(take()), [['acct', 'ACK', 'REASON_UNSPECIFIED']])
  t.same(position(engine, 'acct', 'm2605'), flat({ longYesterday: 1, longYesterdayFrozen: 1 }))
})

t.test('a close never exceeds the position: CLOSE_EXCEEDS_POSITION says available vs asked', async (t) => {
  const { engine, take } = setup()
  trade(engine, take, 'IF2606', 45000, 2, ['mm', OffsetFlag.OFFSET_OPEN], ['acct', OffsetFlag.OFFSET_OPEN])
  send(engine, order('acct', 'IF2606', Side.BUY, OffsetFlag.OFFSET_CLOSE, 45000, 3))
  const sent = take()
  t.same(execs(sent), [['acct', 'REJECTED', 'CLOSE_EXCEEDS_POSITION']])
  t.equal(sent[0]!.report.text, 'close of 3 lots asked, 2 available to close: acct short IF2606, today\'s, then yesterday\'s lots')
  send(engine, order('acct', 'IF2606', Side.SELL, OffsetFlag.OFFSET_CLOSE, 45000, 1))
  t.match(take()[0]!.report, { reason: RejectReason.CLOSE_EXCEEDS_POSITION, text: /1 lots asked, 0 available to close: acct long IF2606/ },
    'a SELL closes long lots: the account is short only')
  send(engine, order('stranger', 'IF2606', Side.SELL, OffsetFlag.OFFSET_CLOSE, 45000, 1))
  t.match(take()[0]!.report, { reason: RejectReason.CLOSE_EXCEEDS_POSITION, text: /0 available/ })
  t.equal(engine.accountCount, 2, 'a refused close takes no account slot')
  t.same(position(engine, 'acct', 'IF2606'), flat({ shortToday: 2 }), 'nothing changed')
})

t.test('frozen lots are released when a close ends without filling: cancel, mass cancel, FAK and FOK remainders', async (t) => {
  const { engine, take } = setup()
  trade(engine, take, 'm2605', 2950, 10, ['acct', OffsetFlag.OFFSET_OPEN], ['mm', OffsetFlag.OFFSET_OPEN])
  const resting = send(engine, order('acct', 'm2605', Side.SELL, OffsetFlag.OFFSET_CLOSE, 3000, 4))
  send(engine, order('acct', 'm2605', Side.SELL, OffsetFlag.OFFSET_CLOSE, 3010, 3))
  take()
  t.same(position(engine, 'acct', 'm2605'), flat({ longToday: 10, longTodayFrozen: 7 }))
  engine.cancel('acct', resting.orderId)
  t.same(execs(take()).map((e) => e[1]), ['CANCELLED'])
  t.same(position(engine, 'acct', 'm2605'), flat({ longToday: 10, longTodayFrozen: 3 }), 'cancel released 4')
  engine.massCancel('acct', 'acct', '')
  take()
  t.same(position(engine, 'acct', 'm2605'), flat({ longToday: 10 }), 'mass cancel released the rest')

  // mm rests a 2-lot bid; acct's 5-lot FAK close fills 2 and the remainder's 3 are released.
  send(engine, order('mm', 'm2605', Side.BUY, OffsetFlag.OFFSET_CLOSE, 2990, 2))
  send(engine, order('acct', 'm2605', Side.SELL, OffsetFlag.OFFSET_CLOSE, 2990, 5, { timeInForce: TimeInForce.FAK }))
  t.same(execs(take()).map((e) => e[1]), ['ACK', 'ACK', 'PARTIAL_FILL', 'FILL', 'CANCELLED'])
  t.same(position(engine, 'acct', 'm2605'), flat({ longToday: 8 }))
  t.same(position(engine, 'mm', 'm2605'), flat({ shortToday: 8 }))
  // A FOK close that cannot fill whole is cancelled at once and releases all it froze.
  send(engine, order('mm', 'm2605', Side.BUY, OffsetFlag.OFFSET_CLOSE, 2990, 1))
  send(engine, order('acct', 'm2605', Side.SELL, OffsetFlag.OFFSET_CLOSE, 2990, 3, { timeInForce: TimeInForce.FOK }))
  t.same(execs(take()).map((e) => e[1]), ['ACK', 'ACK', 'CANCELLED'])
  t.same(position(engine, 'acct', 'm2605'), flat({ longToday: 8 }))
  t.same(position(engine, 'mm', 'm2605'), flat({ shortToday: 8, shortTodayFrozen: 1 }), 'mm\'s close is still working')
})

t.test('every fill carries a trade ID, the same on both sides of one match, unique within the day', async (t) => {
  const { engine, take } = setup()
  send(engine, order('a', 'rb2605', Side.SELL, OffsetFlag.OFFSET_OPEN, 3200, 2))
  send(engine, order('b', 'rb2605', Side.SELL, OffsetFlag.OFFSET_OPEN, 3201, 2))
  take()
  send(engine, order('c', 'rb2605', Side.BUY, OffsetFlag.OFFSET_OPEN, 3201, 3))
  const sent = take()
  t.same(sent.map(({ session, report }) => [session, ExecType[report.execType!], report.tradeId]), [
    ['c', 'ACK', ''],
    ['c', 'PARTIAL_FILL', `T${DAY}-1`],
    ['a', 'FILL', `T${DAY}-1`],
    ['c', 'FILL', `T${DAY}-2`],
    ['b', 'PARTIAL_FILL', `T${DAY}-2`],
  ])
  engine.cancel('b', wireInt(sent[4]!.report.orderId))
  t.equal(take()[0]!.report.tradeId, '', 'a cancel carries none')
  engine.rollTradingDay('20260106')
  trade(engine, take, 'rb2605', 3200, 1, ['c', OffsetFlag.OFFSET_OPEN], ['a', OffsetFlag.OFFSET_OPEN])
  send(engine, order('a', 'rb2605', Side.SELL, OffsetFlag.OFFSET_CLOSE, 3200, 1))
  t.same(take().map((s) => s.report.tradeId), [''], 'a refused close carries none')
  const next = trade(engine, take, 'rb2605', 3200, 1, ['c', OffsetFlag.OFFSET_OPEN], ['a', OffsetFlag.OFFSET_OPEN])
  t.same(next.map((s) => s.report.tradeId), ['', '', 'T20260106-2', 'T20260106-2'], 'the counter restarts with the day, which is in the ID')
})

t.test('the roll: GFD orders expire and release what they froze, today\'s lots become yesterday\'s, order IDs restart', async (t) => {
  const { engine, take } = setup()
  trade(engine, take, 'au2606', 88000, 5, ['acct', OffsetFlag.OFFSET_OPEN], ['mm', OffsetFlag.OFFSET_OPEN])
  const close = send(engine, order('acct', 'au2606', Side.SELL, OffsetFlag.OFFSET_CLOSE_TODAY, 88100, 2))
  const open = send(engine, order('mm', 'au2606', Side.SELL, OffsetFlag.OFFSET_OPEN, 88200, 1))
  take()
  t.same(position(engine, 'acct', 'au2606'), flat({ longToday: 5, longTodayFrozen: 2 }))
  t.equal(engine.rollTradingDay('20260106'), 2, 'two orders expired')
  t.equal(engine.tradingDay, '20260106')
  const expired = take()
  t.same(expired.map(({ session, report }) => [session, wireInt(report.orderId), ExecType[report.execType!], report.leavesLots, report.text]), [
    ['mm', open.orderId, 'CANCELLED', 0, 'end of trading day 20260105: GFD order expired'],
    ['acct', close.orderId, 'CANCELLED', 0, 'end of trading day 20260105: GFD order expired'],
  ])
  t.same(position(engine, 'acct', 'au2606'), flat({ longYesterday: 5 }), 'rolled, and nothing stays frozen')
  t.same(position(engine, 'mm', 'au2606'), flat({ shortYesterday: 5 }))
  t.equal(engine.book('au2606')!.depth(Side.SELL).length, 0, 'the book is empty')
  t.equal(engine.workingCount('acct'), 0)
  send(engine, order('acct', 'au2606', Side.SELL, OffsetFlag.OFFSET_CLOSE, 88000, 5, { orderId: close.orderId }))
  t.same(execs(take()), [['acct', 'ACK', 'REASON_UNSPECIFIED']], 'an order_id of the day before may be used again')
})

t.test('the account cap: one more account is refused; accounts left flat give up their slot at the roll', async (t) => {
  const { engine, take } = setup(2)
  trade(engine, take, 'rb2605', 3200, 1, ['a', OffsetFlag.OFFSET_OPEN], ['b', OffsetFlag.OFFSET_OPEN])
  t.equal(engine.accountCount, 2)
  send(engine, order('c', 'rb2605', Side.BUY, OffsetFlag.OFFSET_OPEN, 3100, 1))
  const refused = take()
  t.same(execs(refused), [['c', 'REJECTED', 'EXCHANGE_REJECTED']])
  t.equal(refused[0]!.report.text, 'the exchange keeps positions for at most 2 accounts and "c" would be one more (accounts left flat leave at the trading-day roll)')
  send(engine, order('a', 'rb2605', Side.BUY, OffsetFlag.OFFSET_OPEN, 3100, 1))
  t.same(execs(take()).map((e) => e[1]), ['ACK'], 'known accounts still trade')
  engine.rollTradingDay('20260106')
  take()
  // a and b trade their lot back: both flat, so both leave at the next roll.
  trade(engine, take, 'rb2605', 3200, 1, ['b', OffsetFlag.OFFSET_CLOSE], ['a', OffsetFlag.OFFSET_CLOSE])
  t.same([engine.positionsOf('a'), engine.positionsOf('b')], [[], []])
  t.equal(engine.accountCount, 2, 'flat but still counted until the roll')
  engine.rollTradingDay('20260107')
  t.equal(engine.accountCount, 0)
  send(engine, order('c', 'rb2605', Side.BUY, OffsetFlag.OFFSET_OPEN, 3100, 1))
  t.same(execs(take()).map((e) => e[1]), ['ACK'], 'room again')
})

// Random flow over 3 accounts on an SHFE and a DCE contract: opens,
// closes of every kind, cancels and rolls. After every step:
//   - no bucket is negative and 0 <= frozen <= held;
//   - each account's net position (long - short) is the sum of its signed
//     fills (a BUY adds one, opening long or closing short);
//   - the lots frozen on a side are the leaves of that side's working
//     closes (none after a roll);
//   - longs and shorts match over all accounts (every trade has two sides).
const ACCOUNTS = ['a', 'b', 'c'] as const
const SYMBOLS = ['rb2605', 'm2605'] as const
const REFERENCE: Record<string, number> = { rb2605: 3200, m2605: 2950 }
type Step =
  // tick: how aggressive the price is, in ticks from the reference (a BUY above it, a SELL below it)
  | { kind: 'order', account: number, symbol: number, side: Side, offset: OffsetFlag, tick: number, lots: number, tif: TimeInForce }
  | { kind: 'cancel', account: number, pick: number }
  | { kind: 'roll' }

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 20, arbitrary: fc.record({
    kind: fc.constant('order' as const),
    account: fc.nat(ACCOUNTS.length - 1),
    symbol: fc.nat(SYMBOLS.length - 1),
    side: fc.constantFrom(Side.BUY, Side.SELL),
    offset: fc.constantFrom(OffsetFlag.OFFSET_OPEN, OffsetFlag.OFFSET_OPEN, OffsetFlag.OFFSET_OPEN, OffsetFlag.OFFSET_CLOSE, OffsetFlag.OFFSET_CLOSE_TODAY, OffsetFlag.OFFSET_CLOSE_YESTERDAY),
    tick: fc.integer({ min: -1, max: 1 }),
    lots: fc.integer({ min: 1, max: 3 }),
    tif: fc.constantFrom(TimeInForce.GFD, TimeInForce.GFD, TimeInForce.GFD, TimeInForce.FAK, TimeInForce.FOK),
  }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cancel' as const), account: fc.nat(ACCOUNTS.length - 1), pick: fc.nat(50) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'roll' as const }) },
)

interface Working { account: string, symbol: string, side: Side, closes: boolean, leaves: number }

t.test('property: position books stay consistent with the reports under random flow', async (t) => {
  // Over all runs, so a generator that never reaches a close fill fails here rather than passing vacuously.
  let closeFills = 0
  fc.assert(fc.property(fc.array(stepArb, { minLength: 30, maxLength: 120 }), (steps) => {
    const { engine, take } = setup()
    let day = 20260105
    const net = new Map<string, number>() // account|symbol -> signed filled lots
    const working = new Map<string, Working>() // account|orderId
    const sentBy = new Map<string, NewOrderInput>()
    let fillWithoutTradeId = false
    const observe = (): void => {
      for (const { session, report } of take()) {
        const key = `${session}|${wireInt(report.orderId)}`
        const o = sentBy.get(key)!
        const exec = report.execType!
        if (exec === ExecType.ACK) {
          working.set(key, { account: o.account, symbol: o.instrument, side: o.side, closes: o.offsetFlag !== OffsetFlag.OFFSET_OPEN, leaves: o.quantityLots })
        }
        if (exec === ExecType.PARTIAL_FILL || exec === ExecType.FILL) {
          const k = `${o.account}|${o.instrument}`
          net.set(k, (net.get(k) ?? 0) + (o.side === Side.BUY ? 1 : -1) * report.lastLots!)
          if (report.tradeId === '') fillWithoutTradeId = true
          if (o.offsetFlag !== OffsetFlag.OFFSET_OPEN) closeFills++
        }
        if (report.cancelRejected !== true) {
          const w = working.get(key)
          if (w !== undefined) w.leaves = report.leavesLots ?? 0
          if (w !== undefined && w.leaves === 0) working.delete(key)
        }
      }
    }
    for (const step of steps) {
      if (step.kind === 'order') {
        const symbol = SYMBOLS[step.symbol]!
        const o = order(ACCOUNTS[step.account]!, symbol, step.side, step.offset, REFERENCE[symbol]! + (step.side === Side.BUY ? step.tick : -step.tick), step.lots, { timeInForce: step.tif })
        sentBy.set(`${o.account}|${wireInt(o.orderId)}`, o)
        send(engine, o)
      } else if (step.kind === 'cancel') {
        const mine = [...working.entries()].filter(([, w]) => w.account === ACCOUNTS[step.account])
        if (mine.length > 0) engine.cancel(ACCOUNTS[step.account]!, Number(mine[step.pick % mine.length]![0].split('|')[1]))
      } else {
        day++
        engine.rollTradingDay(String(day))
      }
      observe()
      if (step.kind === 'roll' && working.size !== 0) return false
      let longs = 0
      let shorts = 0
      for (const account of ACCOUNTS) {
        for (const symbol of SYMBOLS) {
          const p = position(engine, account, symbol)
          const buckets: Array<[number, number]> = [
            [p.longToday, p.longTodayFrozen], [p.longYesterday, p.longYesterdayFrozen],
            [p.shortToday, p.shortTodayFrozen], [p.shortYesterday, p.shortYesterdayFrozen],
          ]
          for (const [held, frozen] of buckets) if (!(held >= 0 && frozen >= 0 && frozen <= held)) return false
          const long = p.longToday + p.longYesterday
          const short = p.shortToday + p.shortYesterday
          if (long - short !== (net.get(`${account}|${symbol}`) ?? 0)) return false
          let frozenLong = 0
          let frozenShort = 0
          for (const w of working.values()) {
            if (w.account !== account || w.symbol !== symbol || !w.closes) continue
            if (w.side === Side.SELL) frozenLong += w.leaves
            else frozenShort += w.leaves
          }
          if (frozenLong !== p.longTodayFrozen + p.longYesterdayFrozen) return false
          if (frozenShort !== p.shortTodayFrozen + p.shortYesterdayFrozen) return false
          longs += long
          shorts += short
        }
      }
      if (longs !== shorts || fillWithoutTradeId) return false
    }
    return true
  }), { numRuns: 200 })
  t.ok(closeFills > 100, `the flow filled closes (${closeFills} close fills)`)
})
