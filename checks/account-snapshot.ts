// Read-only views of one account's shared risk state, for the queries a
// client makes (lane/account-queries.ts): its positions per instrument and
// its funds. Account-wide: every lane's orders are in the same state.
//
// Each read takes the account's lock once and copies what it needs, so a
// query sees one consistent instant, never half of another thread's
// fill. The copy is one memcpy of the account's position slots (at most
// instrumentsPerAccount × POSITION_FIELDS float64s, into a buffer kept
// for the purpose); the messages are built after the lock is released.
import { lockSlot, unlockSlot } from './account-lock.js'
import { Limit } from './limits.js'
import {
  BOOK_LONG_TODAY, BOOK_LONG_YESTERDAY, BOOK_SHORT_TODAY, BOOK_SHORT_YESTERDAY, readBook, type BookView,
} from './position-book.js'
import {
  ACCOUNT_CTL_LOCK, ACCOUNT_FIELDS, ACCOUNT_RESERVED_FEN, POSITION_BOOK, POSITION_DAILY_OPENED_LOTS, POSITION_FIELDS,
  POSITION_INSTRUMENT, POSITION_WORKING_OPEN_LONG_LOTS, POSITION_WORKING_OPEN_SHORT_LOTS,
} from './risk-layout.js'
import { symbolAt, unitsToFen, type RiskContext, type RiskEngine } from './risk-engine.js'

/** One account's position in one instrument, in lots, as the shared risk state holds it. */
export interface PositionSnapshot extends BookView {
  instrument: string
  /** Lots of working opening orders that would make or grow each side. */
  workingOpenLong: number
  workingOpenShort: number
  /** Lots opened on the contract today, both directions (the opening-volume monitor's count). */
  openedToday: number
}

/** One account's funds, in fen. */
export interface FundsSnapshot {
  /** The funds limit that applies to the account (risk limit `funds`); Infinity when there is none. */
  fundsFen: number
  /** Margin reserved by working opening orders, on every lane. */
  reservedFen: number
}

export class AccountSnapshots {
  /** The account's position slots, copied under its lock. */
  private readonly slots: Float64Array

  constructor (private readonly engine: RiskEngine) {
    this.slots = new Float64Array(engine.views.capacity.instrumentsPerAccount * POSITION_FIELDS)
  }

  /**
   * Every instrument in which the account holds, has frozen or has working
   * opening lots, or opened lots today (at most instrumentsPerAccount
   * entries), in the order the account first traded them; `instrument`
   * non-empty keeps only that one.
   */
  positions (account: number, instrument = ''): PositionSnapshot[] {
    const { control, positions, capacity } = this.engine.views
    const slots = this.slots
    const start = account * capacity.instrumentsPerAccount * POSITION_FIELDS
    const lock = this.engine.views.accountCtl(account) + ACCOUNT_CTL_LOCK
    lockSlot(control, lock)
    slots.set(positions.subarray(start, start + slots.length))
    unlockSlot(control, lock)
    const out: PositionSnapshot[] = []
    for (let slot = 0; slot < capacity.instrumentsPerAccount; slot++) {
      const p = slot * POSITION_FIELDS
      const tag = slots[p + POSITION_INSTRUMENT]!
      // Slots are given out in order and never freed within a run.
      if (tag === 0) break
      const b = p + POSITION_BOOK
      // Frozen lots are part of the held ones, so the held buckets cover them.
      const held = slots[b + BOOK_LONG_TODAY]! + slots[b + BOOK_LONG_YESTERDAY]! + slots[b + BOOK_SHORT_TODAY]! + slots[b + BOOK_SHORT_YESTERDAY]!
      if (held + slots[p + POSITION_WORKING_OPEN_LONG_LOTS]! + slots[p + POSITION_WORKING_OPEN_SHORT_LOTS]! + slots[p + POSITION_DAILY_OPENED_LOTS]! === 0) continue
      const symbol = symbolAt(this.engine.views, tag - 1)
      if (instrument !== '' && symbol !== instrument) continue
      out.push({
        instrument: symbol,
        ...readBook(slots, b),
        workingOpenLong: slots[p + POSITION_WORKING_OPEN_LONG_LOTS]!,
        workingOpenShort: slots[p + POSITION_WORKING_OPEN_SHORT_LOTS]!,
        openedToday: slots[p + POSITION_DAILY_OPENED_LOTS]!,
      })
    }
    return out
  }

  /**
   * The account's funds limit as the checks apply it to an order on this
   * session (every scope but account × instrument: resolveLimits with no
   * slot), and what working orders reserve now.
   */
  funds (ctx: RiskContext): FundsSnapshot {
    const { control, accountState } = this.engine.views
    const fundsFen = unitsToFen(this.engine.limitsFor(ctx, -1, -1)[Limit.funds]!)
    const lock = this.engine.views.accountCtl(ctx.account) + ACCOUNT_CTL_LOCK
    lockSlot(control, lock)
    const reservedFen = accountState[ctx.account * ACCOUNT_FIELDS + ACCOUNT_RESERVED_FEN]!
    unlockSlot(control, lock)
    return { fundsFen, reservedFen }
  }
}
