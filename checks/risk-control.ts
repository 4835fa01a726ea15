// Live tuning of the shared risk state: the typed API ops tools (the admin
// socket) and tests call on the supervisor thread. Every write lands in
// the SharedArrayBuffers the lane threads read on each message, so a
// change takes effect on the very next message on every lane, with no
// message to the lanes and no restart. Every change returns its before and
// after values, for the reply and the journal.
import { lockSlot, unlockSlot } from './account-lock.js'
import {
  LIMIT_COUNT, LIMIT_NAMES, Limit, decodeLimit, encodeLimit, limitValueProblem,
  type LimitName, type LimitValue,
} from './limits.js'
import {
  ACCOUNT_CTL_KILL, ACCOUNT_CTL_LOCK, ACCOUNT_CTL_PROGRAMMATIC_REPORT, ACCOUNT_CTL_STRIDE,
  ACCOUNT_CTL_TRADING_STATE, ACCOUNT_DAILY_ACTIONS, ACCOUNT_DAILY_TRADED_LOTS, ACCOUNT_FIELDS, ACCOUNT_HF_BURSTS,
  ACCOUNT_OPEN_LOTS, ACCOUNT_OPEN_ORDERS, ACCOUNT_RESERVED_FEN, CTL_GLOBAL_LOCK, CTL_HEADER_SLOTS,
  CTL_ACCOUNT_INSTRUMENT_ROWS, CTL_INSTRUMENT_COUNT, CTL_KILL_GLOBAL, CTL_KILL_LANE, CTL_LIMITS_SEQ, EXCHANGES, INSTRUMENT_CTL_KILL,
  INSTRUMENT_CTL_STRIDE, ORDER_FIELDS, POSITION_DAILY_CANCELS, POSITION_DAILY_LARGE_CANCELS,
  POSITION_DAILY_SELF_TRADES, POSITION_DAILY_TRADED_LOTS, POSITION_FIELDS, POSITION_INSTRUMENT, POSITION_LIMIT_ROW, POSITION_BOOK, POSITION_DAILY_OPENED_LOTS,
  POSITION_WORKING_OPEN_LONG_LOTS, POSITION_WORKING_OPEN_SHORT_LOTS, POSITION_WORKING_OPEN_HEDGE_LOTS, ACCOUNT_NAME_BYTES,
  POSITION_WORKING_BUY_LOTS, POSITION_WORKING_BUY_ORDERS, POSITION_WORKING_SELL_LOTS, POSITION_WORKING_SELL_ORDERS,
  PROGRAMMATIC_REPORTS, ROW_FIRST_EXCHANGE, ROW_FIRST_LANE, ROW_GLOBAL, SYMBOL_BYTES, TRADING_STATES, RiskViews,
  accountInstrumentRow, accountRow, appRow, limitRowCount,
  type ExchangeCode, type ProgrammaticReport, type RiskBuffers, type RiskCapacity, type TradingState,
} from './risk-layout.js'
import { RiskEngine, symbolAt, writeAccountName } from './risk-engine.js'
import { BOOK_FROZEN, BOOK_LONG_TODAY, BOOK_LONG_YESTERDAY, BOOK_SHORT_TODAY, BOOK_SHORT_YESTERDAY } from './position-book.js'
import { errorCodes, RiskControlError } from './errors.js'

export const RISK_LANES = ['terminal', 'platform', 'hft'] as const
export type RiskLane = typeof RISK_LANES[number]

/** Where a limit is set. Narrower scopes override wider ones. */
export type LimitScope =
  | { kind: 'global' }
  | { kind: 'lane', lane: RiskLane }
  | { kind: 'exchange', exchange: ExchangeCode }
  | { kind: 'app', appId: string }
  | { kind: 'account', account: string }
  | { kind: 'account-instrument', account: string, instrument: string }

export type KillScope =
  | { kind: 'global' }
  | { kind: 'lane', lane: RiskLane }
  | { kind: 'account', account: string }
  | { kind: 'instrument', instrument: string }

export interface Change<T> {
  before: T
  after: T
}

/** A set of limit values for one scope, as config and the API write them. */
export type LimitSet = Partial<Record<LimitName, LimitValue>>

export interface InstrumentCounters {
  instrument: string
  /** The position book (checks/position-book.ts): lots held, long and short, today's and yesterday's. */
  longTodayLots: number
  longYesterdayLots: number
  shortTodayLots: number
  shortYesterdayLots: number
  /** Of those, lots frozen by working close orders. */
  longTodayFrozenLots: number
  longYesterdayFrozenLots: number
  shortTodayFrozenLots: number
  shortYesterdayFrozenLots: number
  /** Lots of working opening orders per side (the per-side limits count them). */
  workingOpenLongLots: number
  workingOpenShortLots: number
  /** Of the working opening lots, those of hedge orders (the opening-volume monitor leaves them out). */
  workingOpenHedgeLots: number
  /** Lots opened (filled) today, hedge orders excepted: the opening-volume monitor's count. */
  openedLotsToday: number
  workingBuyLots: number
  workingSellLots: number
  workingBuyOrders: number
  workingSellOrders: number
  tradedLotsToday: number
  cancelsToday: number
  largeCancelsToday: number
  selfTradesToday: number
}

export interface AccountCounters {
  account: string
  tradingState: TradingState
  programmaticReport: ProgrammaticReport
  killSwitch: boolean
  openOrders: number
  openLots: number
  reservedFen: number
  tradedLotsToday: number
  actionsToday: number
  hfBurstsToday: number
  instruments: InstrumentCounters[]
}

/** The name's index in a registry, given out in order on first sight up to the table's capacity. */
function register (indexes: Map<string, number>, name: string, capacity: number, what: string, capacityField: string): number {
  const known = indexes.get(name)
  if (known !== undefined) return known
  if (indexes.size >= capacity) throw new RiskControlError(errorCodes.CAPACITY, `no room for ${what} ${name}: risk.capacity.${capacityField} is ${capacity}`)
  indexes.set(name, indexes.size)
  return indexes.size - 1
}

/** Allocates zeroed shared risk state: every limit unset, every order slot free. */
export function createRiskBuffers (capacity: RiskCapacity): RiskBuffers {
  const f64 = (n: number): SharedArrayBuffer => new SharedArrayBuffer(n * Float64Array.BYTES_PER_ELEMENT)
  const buffers: RiskBuffers = {
    capacity: { ...capacity },
    control: new SharedArrayBuffer((CTL_HEADER_SLOTS + capacity.accounts * ACCOUNT_CTL_STRIDE + capacity.instruments * INSTRUMENT_CTL_STRIDE) * Int32Array.BYTES_PER_ELEMENT),
    limits: f64(limitRowCount(capacity) * LIMIT_COUNT),
    accountState: f64(capacity.accounts * ACCOUNT_FIELDS),
    rateRing: f64(capacity.accounts * capacity.rateRingSize),
    positions: f64(capacity.accounts * capacity.instrumentsPerAccount * POSITION_FIELDS),
    orders: f64(capacity.accounts * capacity.openOrdersPerAccount * ORDER_FIELDS),
    orderSlots: new SharedArrayBuffer(capacity.accounts * capacity.openOrdersPerAccount * Int32Array.BYTES_PER_ELEMENT),
    symbols: new SharedArrayBuffer(capacity.instruments * SYMBOL_BYTES),
    accountNames: new SharedArrayBuffer(capacity.accounts * ACCOUNT_NAME_BYTES),
  }
  const views = new RiskViews(buffers)
  views.limits.fill(NaN)
  for (let account = 0; account < capacity.accounts; account++) {
    for (let i = 0; i < capacity.openOrdersPerAccount; i++) views.orderSlots[account * capacity.openOrdersPerAccount + i] = i
  }
  return buffers
}

export class RiskControl {
  readonly views: RiskViews
  readonly buffers: RiskBuffers
  private readonly accountIndexes = new Map<string, number>()
  private readonly appIndexes = new Map<string, number>()
  /** For interning instrument symbols exactly as the lanes do. */
  private readonly interner: RiskEngine

  constructor (capacity: RiskCapacity) {
    this.buffers = createRiskBuffers(capacity)
    this.views = new RiskViews(this.buffers)
    this.interner = new RiskEngine(this.buffers, 0)
  }

  // ---- registries ------------------------------------------------------------

  /** The account's index in the shared tables, assigned on first registration. */
  registerAccount (account: string): number {
    const known = this.accountIndexes.size
    const index = register(this.accountIndexes, account, this.views.capacity.accounts, 'account', 'accounts')
    if (index === known) writeAccountName(this.views, index, account)
    return index
  }

  registerApp (appId: string): number {
    return register(this.appIndexes, appId, this.views.capacity.appIds, 'AppID', 'appIds')
  }

  /** Accounts and AppIDs registered so far (the tables' capacity is views.capacity). */
  accountCount (): number {
    return this.accountIndexes.size
  }

  appCount (): number {
    return this.appIndexes.size
  }

  accountIndex (account: string): number | undefined {
    return this.accountIndexes.get(account)
  }

  appIndex (appId: string): number | undefined {
    return this.appIndexes.get(appId)
  }

  accounts (): string[] {
    return [...this.accountIndexes.keys()]
  }

  // ---- limits ------------------------------------------------------------------

  /** Sets (number), lifts (null) or clears to inherit (undefined) one limit at one scope. */
  setLimit (scope: LimitScope, name: LimitName, value: LimitValue): Change<LimitValue> {
    return this.setLimits(scope, { [name]: value })[name]!
  }

  /**
   * Sets several limits at one scope atomically: a lane thread sees all of
   * them or none (one seqlock write). Every value is validated first;
   * nothing changes if any is wrong.
   */
  setLimits (scope: LimitScope, values: LimitSet): Partial<Record<LimitName, Change<LimitValue>>> {
    const problems: string[] = []
    for (const [name, value] of Object.entries(values) as Array<[string, LimitValue]>) {
      // Own keys only: `in` also finds toString, constructor and __proto__ (a
      // JSON request can carry those), which would pass as limits.
      if (!Object.hasOwn(Limit, name)) {
        problems.push(`${name}: no such limit; limits are ${LIMIT_NAMES.join(', ')}`)
        continue
      }
      if (scope.kind === 'global' && value === undefined) problems.push(`${name}: the global scope must set every limit (use null for no limit)`)
      const problem = limitValueProblem(name as LimitName, value, this.views.capacity.rateRingSize, this.views.capacity.openOrdersPerAccount)
      if (problem !== null) problems.push(`${name}: ${problem}`)
    }
    if (problems.length > 0) throw new RiskControlError(errorCodes.INVALID_LIMIT, `limits not changed:\n  - ${problems.join('\n  - ')}`)
    const row = this.rowOf(scope)
    const { control, limits } = this.views
    const changes: Partial<Record<LimitName, Change<LimitValue>>> = {}
    lockSlot(control, CTL_GLOBAL_LOCK)
    // Seqlock write: odd while writing, so readers retry rather than mix
    // old and new values.
    Atomics.add(control, CTL_LIMITS_SEQ, 1)
    for (const [name, value] of Object.entries(values) as Array<[LimitName, LimitValue]>) {
      const at = row * LIMIT_COUNT + Limit[name]
      changes[name] = { before: decodeLimit(limits[at]!), after: value }
      limits[at] = encodeLimit(value)
    }
    Atomics.add(control, CTL_LIMITS_SEQ, 1)
    unlockSlot(control, CTL_GLOBAL_LOCK)
    return changes
  }

  /** The value set at exactly this scope (undefined: inherits). */
  limitAt (scope: LimitScope, name: LimitName): LimitValue {
    return decodeLimit(this.views.limits[this.rowOf(scope) * LIMIT_COUNT + Limit[name]]!)
  }

  /** Every limit set at exactly this scope. */
  limitsAt (scope: LimitScope): LimitSet {
    const set: LimitSet = {}
    for (const name of LIMIT_NAMES) {
      const value = this.limitAt(scope, name)
      if (value !== undefined) set[name] = value
    }
    return set
  }

  /** The limits an order by this account on this lane and instrument would be checked against. */
  effectiveLimits (who: { lane: RiskLane, appId?: string, account: string, instrument?: string, exchange?: ExchangeCode }): Record<LimitName, number | null> {
    const engine = this.interner
    const account = this.requireAccount(who.account)
    const app = who.appId === undefined ? -1 : (this.appIndexes.get(who.appId) ?? -1)
    const slot = who.instrument === undefined ? -1 : this.findSlot(account, this.instrumentIndexOf(who.instrument))
    const exchange = who.exchange === undefined ? -1 : EXCHANGES.indexOf(who.exchange)
    const resolved = engine.resolveLimits({ lane: RISK_LANES.indexOf(who.lane), app, account }, slot, exchange)
    const out = {} as Record<LimitName, number | null>
    for (const name of LIMIT_NAMES) out[name] = decodeLimit(resolved[Limit[name]]!) ?? null
    return out
  }

  // ---- states and switches --------------------------------------------------------

  setTradingState (account: string, state: TradingState): Change<TradingState> {
    const at = this.views.accountCtl(this.requireAccount(account)) + ACCOUNT_CTL_TRADING_STATE
    const before = TRADING_STATES[Atomics.exchange(this.views.control, at, TRADING_STATES.indexOf(state))]!
    return { before, after: state }
  }

  tradingState (account: string): TradingState {
    return TRADING_STATES[Atomics.load(this.views.control, this.views.accountCtl(this.requireAccount(account)) + ACCOUNT_CTL_TRADING_STATE)]!
  }

  setProgrammaticReport (account: string, status: ProgrammaticReport): Change<ProgrammaticReport> {
    const at = this.views.accountCtl(this.requireAccount(account)) + ACCOUNT_CTL_PROGRAMMATIC_REPORT
    const before = PROGRAMMATIC_REPORTS[Atomics.exchange(this.views.control, at, PROGRAMMATIC_REPORTS.indexOf(status))]!
    return { before, after: status }
  }

  /** Turns a kill switch on or off. Mass-cancelling the scope's working orders is the supervisor's job (each lane cancels its own). */
  setKillSwitch (scope: KillScope, on: boolean): Change<boolean> {
    const before = Atomics.exchange(this.views.control, this.killSlot(scope), on ? 1 : 0) !== 0
    return { before, after: on }
  }

  killSwitch (scope: KillScope): boolean {
    return Atomics.load(this.views.control, this.killSlot(scope)) !== 0
  }

  // ---- counters ---------------------------------------------------------------------

  /** A consistent snapshot of one account's counters (taken under its lock). */
  counters (account: string): AccountCounters {
    const index = this.requireAccount(account)
    const { control, accountState, positions, capacity } = this.views
    const ctl = this.views.accountCtl(index)
    const instruments: InstrumentCounters[] = []
    lockSlot(control, ctl + ACCOUNT_CTL_LOCK)
    const a = index * ACCOUNT_FIELDS
    const snapshot: AccountCounters = {
      account,
      tradingState: TRADING_STATES[Atomics.load(control, ctl + ACCOUNT_CTL_TRADING_STATE)]!,
      programmaticReport: PROGRAMMATIC_REPORTS[Atomics.load(control, ctl + ACCOUNT_CTL_PROGRAMMATIC_REPORT)]!,
      killSwitch: Atomics.load(control, ctl + ACCOUNT_CTL_KILL) !== 0,
      openOrders: accountState[a + ACCOUNT_OPEN_ORDERS]!,
      openLots: accountState[a + ACCOUNT_OPEN_LOTS]!,
      reservedFen: accountState[a + ACCOUNT_RESERVED_FEN]!,
      tradedLotsToday: accountState[a + ACCOUNT_DAILY_TRADED_LOTS]!,
      actionsToday: accountState[a + ACCOUNT_DAILY_ACTIONS]!,
      hfBurstsToday: accountState[a + ACCOUNT_HF_BURSTS]!,
      instruments,
    }
    for (let slot = 0; slot < capacity.instrumentsPerAccount; slot++) {
      const p = (index * capacity.instrumentsPerAccount + slot) * POSITION_FIELDS
      const tag = positions[p + POSITION_INSTRUMENT]!
      if (tag === 0) break
      const b = p + POSITION_BOOK
      instruments.push({
        instrument: symbolAt(this.views, tag - 1),
        longTodayLots: positions[b + BOOK_LONG_TODAY]!,
        longYesterdayLots: positions[b + BOOK_LONG_YESTERDAY]!,
        shortTodayLots: positions[b + BOOK_SHORT_TODAY]!,
        shortYesterdayLots: positions[b + BOOK_SHORT_YESTERDAY]!,
        longTodayFrozenLots: positions[b + BOOK_FROZEN + BOOK_LONG_TODAY]!,
        longYesterdayFrozenLots: positions[b + BOOK_FROZEN + BOOK_LONG_YESTERDAY]!,
        shortTodayFrozenLots: positions[b + BOOK_FROZEN + BOOK_SHORT_TODAY]!,
        shortYesterdayFrozenLots: positions[b + BOOK_FROZEN + BOOK_SHORT_YESTERDAY]!,
        workingOpenLongLots: positions[p + POSITION_WORKING_OPEN_LONG_LOTS]!,
        workingOpenShortLots: positions[p + POSITION_WORKING_OPEN_SHORT_LOTS]!,
        workingOpenHedgeLots: positions[p + POSITION_WORKING_OPEN_HEDGE_LOTS]!,
        openedLotsToday: positions[p + POSITION_DAILY_OPENED_LOTS]!,
        workingBuyLots: positions[p + POSITION_WORKING_BUY_LOTS]!,
        workingSellLots: positions[p + POSITION_WORKING_SELL_LOTS]!,
        workingBuyOrders: positions[p + POSITION_WORKING_BUY_ORDERS]!,
        workingSellOrders: positions[p + POSITION_WORKING_SELL_ORDERS]!,
        tradedLotsToday: positions[p + POSITION_DAILY_TRADED_LOTS]!,
        cancelsToday: positions[p + POSITION_DAILY_CANCELS]!,
        largeCancelsToday: positions[p + POSITION_DAILY_LARGE_CANCELS]!,
        selfTradesToday: positions[p + POSITION_DAILY_SELF_TRADES]!,
      })
    }
    unlockSlot(control, ctl + ACCOUNT_CTL_LOCK)
    return snapshot
  }

  // ---- helpers ------------------------------------------------------------------------

  private requireAccount (account: string): number {
    const index = this.accountIndexes.get(account)
    if (index === undefined) throw new RiskControlError(errorCodes.UNKNOWN_ACCOUNT, `account ${account} is not registered`)
    return index
  }

  /**
   * Enters a symbol in the shared instrument table before the exchange has
   * listed it (config limits for an instrument not yet traded). Live calls
   * only accept symbols already known, so a typo is an error, not a new
   * instrument.
   */
  registerInstrument (symbol: string): number {
    const index = this.interner.instrumentIndex(symbol, '')
    if (index < 0) throw new RiskControlError(errorCodes.CAPACITY, `no room for instrument ${symbol}: risk.capacity.instruments is ${this.views.capacity.instruments}`)
    return index
  }

  private instrumentIndexOf (symbol: string): number {
    const count = Atomics.load(this.views.control, CTL_INSTRUMENT_COUNT)
    for (let i = 0; i < count; i++) if (symbolAt(this.views, i) === symbol) return i
    throw new RiskControlError(errorCodes.UNKNOWN_INSTRUMENT, `instrument ${symbol} is not in the exchange's reference data (known: ${this.instruments().join(', ') || 'none yet'})`)
  }

  /** The account's slot for an instrument without allocating one (-1: none yet). */
  private findSlot (account: number, instrument: number): number {
    const { positions, capacity } = this.views
    for (let slot = 0; slot < capacity.instrumentsPerAccount; slot++) {
      if (positions[(account * capacity.instrumentsPerAccount + slot) * POSITION_FIELDS + POSITION_INSTRUMENT] === instrument + 1) return slot
    }
    return -1
  }

  private rowOf (scope: LimitScope): number {
    const { capacity } = this.views
    switch (scope.kind) {
      case 'global': return ROW_GLOBAL
      case 'lane': return ROW_FIRST_LANE + RISK_LANES.indexOf(scope.lane)
      case 'exchange': return ROW_FIRST_EXCHANGE + EXCHANGES.indexOf(scope.exchange)
      case 'app': {
        const app = this.appIndexes.get(scope.appId)
        if (app === undefined) throw new RiskControlError(errorCodes.UNKNOWN_APP, `AppID ${scope.appId} is not registered`)
        return appRow(app)
      }
      case 'account': return accountRow(capacity, this.requireAccount(scope.account))
      case 'account-instrument': {
        const account = this.requireAccount(scope.account)
        const slot = this.interner.positionSlot(account, this.instrumentIndexOf(scope.instrument))
        if (slot < 0) throw new RiskControlError(errorCodes.CAPACITY, `account ${scope.account} already uses all ${capacity.instrumentsPerAccount} instrument slots`)
        return this.accountInstrumentRowOf(account, slot, scope)
      }
    }
  }

  /** The scope's limit row, given out on first use (under the account lock: lanes read the link). */
  private accountInstrumentRowOf (account: number, slot: number, scope: { account: string, instrument: string }): number {
    const { capacity, control, positions } = this.views
    const at = (account * capacity.instrumentsPerAccount + slot) * POSITION_FIELDS + POSITION_LIMIT_ROW
    const lock = this.views.accountCtl(account) + ACCOUNT_CTL_LOCK
    lockSlot(control, lock)
    try {
      if (positions[at] === 0) {
        const given = Atomics.load(control, CTL_ACCOUNT_INSTRUMENT_ROWS)
        if (given >= capacity.accountInstrumentLimitRows) {
          throw new RiskControlError(errorCodes.CAPACITY, `no room for limits of ${scope.account} × ${scope.instrument}: risk.capacity.accountInstrumentLimitRows is ${capacity.accountInstrumentLimitRows}`)
        }
        Atomics.store(control, CTL_ACCOUNT_INSTRUMENT_ROWS, given + 1)
        positions[at] = given + 1
      }
      return accountInstrumentRow(capacity, positions[at]! - 1)
    } finally {
      unlockSlot(control, lock)
    }
  }

  private killSlot (scope: KillScope): number {
    switch (scope.kind) {
      case 'global': return CTL_KILL_GLOBAL
      case 'lane': return CTL_KILL_LANE + RISK_LANES.indexOf(scope.lane)
      case 'account': return this.views.accountCtl(this.requireAccount(scope.account)) + ACCOUNT_CTL_KILL
      case 'instrument': return this.views.instrumentCtl(this.instrumentIndexOf(scope.instrument)) + INSTRUMENT_CTL_KILL
    }
  }

  /** Instruments known to the shared tables, in index order. */
  instruments (): string[] {
    const count = Atomics.load(this.views.control, CTL_INSTRUMENT_COUNT)
    return Array.from({ length: count }, (_, i) => symbolAt(this.views, i))
  }
}
