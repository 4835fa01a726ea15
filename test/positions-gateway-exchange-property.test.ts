// The gateway's positions agree with the exchange's (fast-check): random
// order flow of two accounts on a SHFE and a DCE contract, with opens,
// every kind of close, partial fills, cancels, FAK remainders and
// trading-day rolls, goes through the lane's real order path (OrderEntry,
// OrderLifecycle, RiskEngine over the shared risk state: LaneCore) and the
// exchange simulator's real matching engine, in process, wired as the link
// wires them. After every step, for every account and contract:
//   - no quantity is negative and frozen never exceeds held, on either side;
//   - the gateway's book (today/yesterday, held/frozen, long/short) equals
//     the simulator's, lot for lot.
// The gateway refuses a close beyond position before the exchange sees it,
// so the simulator's own refusal never fires here; both books are written
// by checks/position-book.ts, so a disagreement is a bug in how either
// side drives it (which order, which bucket, when released or rolled).
import t from 'tap'
import fc from 'fast-check'
import { HedgeFlag, OffsetFlag, Side, TimeInForce, wireInt, type LinkExecutionReportInit, type LinkNewOrder, type NewOrder } from '../protocol/messages.js'
import { MatchingEngine } from '../exchange-sim/matching-engine.js'
import { DEFAULT_INSTRUMENTS } from '../exchange-sim/instruments.js'
import { AccountSnapshots } from '../checks/account-snapshot.js'
import type { BookView } from '../checks/position-book.js'
import { LaneCore, riskControlFor } from './helpers/lane-core.js'
import type { ClientSession } from '../lane/client-session.js'

const ACCOUNTS = ['acct-a', 'acct-b'] as const
const CONTRACTS = [
  { symbol: 'rb2605', reference: 3200 }, // SHFE: a plain close takes yesterday's only
  { symbol: 'm2605', reference: 2950 }, // DCE: today's first, then yesterday's
] as const
const OFFSETS = [OffsetFlag.OFFSET_OPEN, OffsetFlag.OFFSET_CLOSE, OffsetFlag.OFFSET_CLOSE_TODAY, OffsetFlag.OFFSET_CLOSE_YESTERDAY] as const
const LINK_SESSION = 'gw-platform'
const FIRST_DAY = 20260105

type Step =
  | { kind: 'order', account: number, contract: number, side: Side, offset: OffsetFlag, tick: number, lots: number, fak: boolean }
  | { kind: 'pair', account: number, contract: number, side: Side, offset: OffsetFlag, otherOffset: OffsetFlag, lots: number, otherLots: number }
  | { kind: 'cancel', account: number, pick: number }
  | { kind: 'roll' }

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 12, arbitrary: fc.record({
    kind: fc.constant('order' as const),
    account: fc.integer({ min: 0, max: ACCOUNTS.length - 1 }),
    contract: fc.integer({ min: 0, max: CONTRACTS.length - 1 }),
    side: fc.constantFrom(Side.BUY, Side.SELL),
    // Opens half the time, so that there is something to close.
    offset: fc.oneof({ weight: 3, arbitrary: fc.constant(OffsetFlag.OFFSET_OPEN) }, { weight: 3, arbitrary: fc.constantFrom(...OFFSETS) }),
    // Mostly at the reference, so the accounts' orders cross; a tick either side rests.
    tick: fc.constantFrom(-1, 0, 0, 0, 1),
    lots: fc.integer({ min: 1, max: 3 }),
    // Mostly resting orders, so the other account's orders find them.
    fak: fc.integer({ min: 0, max: 4 }).map((n) => n === 0),
  }) },
  // One account's order and the other's opposite one at the same price: a trade, whole or partial, when both pass.
  { weight: 8, arbitrary: fc.record({
    kind: fc.constant('pair' as const),
    account: fc.integer({ min: 0, max: ACCOUNTS.length - 1 }),
    contract: fc.integer({ min: 0, max: CONTRACTS.length - 1 }),
    side: fc.constantFrom(Side.BUY, Side.SELL),
    offset: fc.constantFrom(...OFFSETS),
    otherOffset: fc.constantFrom(...OFFSETS),
    lots: fc.integer({ min: 1, max: 3 }),
    otherLots: fc.integer({ min: 1, max: 3 }),
  }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('cancel' as const), account: fc.integer({ min: 0, max: ACCOUNTS.length - 1 }), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'roll' as const }) },
)

const FLAT: BookView = {
  longToday: 0, longYesterday: 0, shortToday: 0, shortYesterday: 0,
  longTodayFrozen: 0, longYesterdayFrozen: 0, shortTodayFrozen: 0, shortYesterdayFrozen: 0,
}

/** One run: a lane and an exchange wired together, both starting flat on FIRST_DAY. */
class Market {
  readonly control = riskControlFor([...ACCOUNTS])
  readonly lane = new LaneCore('platform', this.control)
  readonly snapshots = new AccountSnapshots(this.lane.engine)
  readonly sessions: ClientSession[]
  private readonly reports: LinkExecutionReportInit[] = []
  readonly exchange: MatchingEngine
  private day = FIRST_DAY
  private forwarded = 0
  private nextClientOrderId = 1
  /** Client order IDs sent per account, for cancels to pick from. */
  readonly sent: number[][] = ACCOUNTS.map(() => [])

  constructor () {
    this.exchange = new MatchingEngine(DEFAULT_INSTRUMENTS, (_session, report) => { this.reports.push(report) }, () => Date.now() * 1000, { tradingDay: String(this.day) })
    this.lane.linkUp(String(this.day), 1)
    this.sessions = ACCOUNTS.map((account) => {
      const session = this.lane.connect()
      this.lane.logOn(session, account)
      return session
    })
  }

  order (step: Extract<Step, { kind: 'order' }>): void {
    const contract = CONTRACTS[step.contract]!
    const clientOrderId = this.nextClientOrderId++
    this.sent[step.account]!.push(clientOrderId)
    const order: NewOrder = {
      clientOrderId,
      instrument: contract.symbol,
      side: step.side,
      price: contract.reference + step.tick,
      quantityLots: step.lots,
      timeInForce: step.fak ? TimeInForce.FAK : TimeInForce.GFD,
      reduceOnly: false,
      offsetFlag: step.offset,
      hedgeFlag: HedgeFlag.HEDGE_SPECULATION,
    } as NewOrder
    this.lane.newOrder(this.sessions[step.account]!, order)
    this.pump()
  }

  cancel (step: Extract<Step, { kind: 'cancel' }>): void {
    const ids = this.sent[step.account]!
    if (ids.length === 0) return
    this.lane.cancel(this.sessions[step.account]!, ids[step.pick % ids.length]!)
    this.pump()
  }

  /** The exchange ends its day (GFD orders expire), the link logs on again with the next day. */
  roll (): void {
    this.day++
    this.exchange.rollTradingDay(String(this.day))
    this.pump()
    this.lane.linkDown()
    this.lane.linkUp(String(this.day), this.lane.link.lastSentSeq + 1)
    this.pump()
  }

  /** Carries link messages both ways until both ends are quiet, as the TCP link would. */
  private pump (): void {
    for (;;) {
      const out = this.lane.link.sent
      const reports = this.reports.splice(0, this.reports.length)
      if (this.forwarded === out.length && reports.length === 0) return
      while (this.forwarded < out.length) {
        const envelope = out[this.forwarded++]!
        if (envelope.newOrder != null) this.exchange.newOrder(LINK_SESSION, envelope.newOrder as LinkNewOrder)
        if (envelope.cancel != null) this.exchange.cancel(LINK_SESSION, wireInt(envelope.cancel.orderId))
      }
      for (const report of reports) this.lane.exchangeReport(report as never)
    }
  }

  /** Both books as named numbers (position-book.ts readBook), without what only one side keeps. */
  gatewayBook (account: number, symbol: string): BookView {
    const found = this.snapshots.positions(this.control.accountIndex(ACCOUNTS[account]!)!, symbol)[0]
    return found === undefined ? FLAT : onlyBook(found)
  }

  exchangeBook (account: number, symbol: string): BookView {
    const found = this.exchange.positionsOf(ACCOUNTS[account]!).find((p) => p.instrument === symbol)
    return found === undefined ? FLAT : onlyBook(found)
  }
}

function onlyBook (view: BookView): BookView {
  return {
    longToday: view.longToday, longYesterday: view.longYesterday, shortToday: view.shortToday, shortYesterday: view.shortYesterday,
    longTodayFrozen: view.longTodayFrozen, longYesterdayFrozen: view.longYesterdayFrozen,
    shortTodayFrozen: view.shortTodayFrozen, shortYesterdayFrozen: view.shortYesterdayFrozen,
  }
}

/** Why a book breaks the invariants, or null. */
function invariantProblem (book: BookView): string | null {
  for (const [name, value] of Object.entries(book)) if (value < 0) return `${name} is ${value}`
  if (book.longTodayFrozen > book.longToday) return 'frozen long today above held'
  if (book.longYesterdayFrozen > book.longYesterday) return 'frozen long yesterday above held'
  if (book.shortTodayFrozen > book.shortToday) return 'frozen short today above held'
  if (book.shortYesterdayFrozen > book.shortYesterday) return 'frozen short yesterday above held'
  return null
}

const RUNS = Number(process.env.POSITIONS_AGREEMENT_RUNS ?? 200)

t.test('the gateway\'s books equal the exchange\'s after every step, and neither breaks the invariants', async (t) => {
  let closesFilled = 0
  let yesterdayHeld = 0
  fc.assert(fc.property(fc.array(stepArb, { minLength: 10, maxLength: 80, size: 'max' }), (steps) => {
    const market = new Market()

    for (const [i, step] of steps.entries()) {
      if (step.kind === 'order') market.order(step)
      else if (step.kind === 'pair') {
        const other = 1 - step.account
        market.order({ kind: 'order', account: step.account, contract: step.contract, side: step.side, offset: step.offset, tick: 0, lots: step.lots, fak: false })
        market.order({ kind: 'order', account: other, contract: step.contract, side: step.side === Side.BUY ? Side.SELL : Side.BUY, offset: step.otherOffset, tick: 0, lots: step.otherLots, fak: false })
      }
      else if (step.kind === 'cancel') market.cancel(step)
      else market.roll()
      for (let a = 0; a < ACCOUNTS.length; a++) {
        for (const { symbol } of CONTRACTS) {
          const gateway = market.gatewayBook(a, symbol)
          const exchange = market.exchangeBook(a, symbol)
          const problem = invariantProblem(gateway) ?? invariantProblem(exchange)
          if (problem !== null) throw new Error(`step ${i} (${JSON.stringify(step)}): ${ACCOUNTS[a]} ${symbol}: ${problem}`)
          if (JSON.stringify(gateway) !== JSON.stringify(exchange)) {
            throw new Error(`step ${i} (${JSON.stringify(step)}): ${ACCOUNTS[a]} ${symbol}: gateway ${JSON.stringify(gateway)} exchange ${JSON.stringify(exchange)}`)
          }
          yesterdayHeld += gateway.longYesterday + gateway.shortYesterday
        }
      }
    }
    for (const fills of market.lane.clients.sent.values()) {
      for (const envelope of fills) {
        const report = envelope.executionReport
        if (report != null && (report.lastLots ?? 0) > 0 && report.offsetFlag !== OffsetFlag.OFFSET_OPEN) closesFilled++
      }
    }
  }), { numRuns: RUNS })
  // Not vacuous: closes filled, and positions were carried into later days.
  t.ok(closesFilled > RUNS / 4, `close orders filled (${closesFilled})`)
  t.ok(yesterdayHeld > 0, 'yesterday\'s lots were held at some step')
})
