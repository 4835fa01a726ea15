// Futures position arithmetic: one account's position in one contract,
// long and short held separately, each split into today's and yesterday's
// lots, with the lots frozen by working close orders. The one place these
// rules are written: the gateway's risk engine keeps its books in the
// shared risk state (checks/risk-layout.ts, a block of BOOK_FIELDS inside
// each position slot) and the exchange simulator keeps one per member
// account and contract; both call these functions, so the gateway's view
// and the exchange's cannot drift apart.
//
//   book (BOOK_FIELDS float64s at `at`)
//   ┌──────────┬──────────┬──────────┬──────────┐
//   │ long     │ long     │ short    │ short    │  held lots
//   │ today    │ yest.    │ today    │ yest.    │
//   ├──────────┼──────────┼──────────┼──────────┤
//   │ frozen   │ frozen   │ frozen   │ frozen   │  of those, frozen by
//   │ long td  │ long yd  │ short td │ short yd │  working closes
//   └──────────┴──────────┴──────────┴──────────┘
//
// Invariant, kept by every function here: 0 <= frozen <= held in each of
// the four buckets. A close order remembers how much it froze in each
// bucket (two float64s at `oAt` in the caller's order record), so a fill,
// a cancel or a reject releases exactly what it froze.
//
// How an exchange applies a plain close (OFFSET_CLOSE) is its preset
// (CLOSE_RULES, sources in docs/domain.md): SHFE and INE close yesterday's
// lots only (closing today's needs OFFSET_CLOSE_TODAY); the others close
// today's first, then yesterday's. OFFSET_CLOSE_TODAY and
// OFFSET_CLOSE_YESTERDAY close only the bucket they name, everywhere.
//
// Nothing here allocates; every value is a whole number of lots.
import { OffsetFlag, Side } from '../protocol/messages.js'

export const BOOK_LONG_TODAY = 0
export const BOOK_LONG_YESTERDAY = 1
export const BOOK_SHORT_TODAY = 2
export const BOOK_SHORT_YESTERDAY = 3
/** Frozen lots sit FROZEN after their held bucket. */
export const BOOK_FROZEN = 4
export const BOOK_FIELDS = 8

/** A close order's frozen split, in its own record at `oAt`: today's, then yesterday's. */
export const FROZEN_TODAY = 0
export const FROZEN_YESTERDAY = 1

/** Which of an exchange's buckets a plain close takes. */
export const CloseRule = {
  /** SHFE, INE: yesterday's only; today's needs OFFSET_CLOSE_TODAY. */
  YESTERDAY_ONLY: 1,
  /** The other exchanges: today's first, then yesterday's. */
  TODAY_FIRST: 2,
} as const
export type CloseRule = typeof CloseRule[keyof typeof CloseRule]

/** The plain-close preset of every exchange (docs/domain.md cites each). */
export const CLOSE_RULES: Readonly<Record<string, CloseRule>> = Object.freeze({
  SHFE: CloseRule.YESTERDAY_ONLY,
  INE: CloseRule.YESTERDAY_ONLY,
  DCE: CloseRule.TODAY_FIRST,
  ZCE: CloseRule.TODAY_FIRST,
  CFFEX: CloseRule.TODAY_FIRST,
  GFEX: CloseRule.TODAY_FIRST,
})

/** The preset of an exchange by its code (e.g. "SHFE"); an exchange without one closes today's first. */
export function closeRuleOf (exchange: string): CloseRule {
  return CLOSE_RULES[exchange] ?? CloseRule.TODAY_FIRST
}

/** Which buckets a close takes, once the offset flag and the exchange's rule are applied. */
export const CloseKind = {
  TODAY: 1,
  YESTERDAY: 2,
  TODAY_THEN_YESTERDAY: 3,
} as const
export type CloseKind = typeof CloseKind[keyof typeof CloseKind]

/**
 * The offset flag an order is taken with: unset means open, except on a
 * reduce_only order, which is a plain close.
 */
export function effectiveOffset (offsetFlag: number, reduceOnly: boolean): number {
  if (offsetFlag !== OffsetFlag.OFFSET_FLAG_UNSPECIFIED) return offsetFlag
  return reduceOnly ? OffsetFlag.OFFSET_CLOSE : OffsetFlag.OFFSET_OPEN
}

export function isClose (offsetFlag: number): boolean {
  return offsetFlag === OffsetFlag.OFFSET_CLOSE || offsetFlag === OffsetFlag.OFFSET_CLOSE_TODAY || offsetFlag === OffsetFlag.OFFSET_CLOSE_YESTERDAY
}

/** The buckets a close with this (non-open) offset flag takes on an exchange with this rule. */
export function closeKind (offsetFlag: number, rule: CloseRule): CloseKind {
  if (offsetFlag === OffsetFlag.OFFSET_CLOSE_TODAY) return CloseKind.TODAY
  if (offsetFlag === OffsetFlag.OFFSET_CLOSE_YESTERDAY) return CloseKind.YESTERDAY
  return rule === CloseRule.YESTERDAY_ONLY ? CloseKind.YESTERDAY : CloseKind.TODAY_THEN_YESTERDAY
}

/** The held-today bucket of the position an order of `side` opens (BUY: long) or, with closes = true, closes (SELL closes long). */
export function bucketOf (side: number, closes: boolean): number {
  const long = closes ? side === Side.SELL : side === Side.BUY
  return long ? BOOK_LONG_TODAY : BOOK_SHORT_TODAY
}

/** Lots a close of `kind` may still take from the position whose today bucket is `today` (held minus frozen). */
export function availableToClose (book: Float64Array, at: number, today: number, kind: CloseKind): number {
  const t = at + today
  const availableToday = book[t]! - book[t + BOOK_FROZEN]!
  const availableYesterday = book[t + 1]! - book[t + 1 + BOOK_FROZEN]!
  if (kind === CloseKind.TODAY) return availableToday
  if (kind === CloseKind.YESTERDAY) return availableYesterday
  return availableToday + availableYesterday
}

/**
 * Freezes `lots` for a close order (the caller has checked
 * availableToClose) and writes the split into the order's record at
 * `oAt`. Today's first for TODAY_THEN_YESTERDAY, as the exchange will
 * close them.
 */
export function freezeClose (book: Float64Array, at: number, today: number, kind: CloseKind, lots: number, order: Float64Array, oAt: number): void {
  const t = at + today
  let fromToday = 0
  if (kind === CloseKind.TODAY) fromToday = lots
  else if (kind === CloseKind.TODAY_THEN_YESTERDAY) fromToday = Math.min(lots, book[t]! - book[t + BOOK_FROZEN]!)
  const fromYesterday = lots - fromToday
  book[t + BOOK_FROZEN] = book[t + BOOK_FROZEN]! + fromToday
  book[t + 1 + BOOK_FROZEN] = book[t + 1 + BOOK_FROZEN]! + fromYesterday
  order[oAt + FROZEN_TODAY] = fromToday
  order[oAt + FROZEN_YESTERDAY] = fromYesterday
}

/**
 * A fill of `lots` of a close order: its frozen lots are closed, today's
 * first. A fill beyond what it froze (an exchange that disagrees) closes
 * what is held, never driving a bucket below zero or frozen above held.
 */
export function fillClose (book: Float64Array, at: number, today: number, lots: number, order: Float64Array, oAt: number): void {
  const t = at + today
  const y = t + 1
  const fromToday = Math.min(lots, order[oAt + FROZEN_TODAY]!)
  const fromYesterday = Math.min(lots - fromToday, order[oAt + FROZEN_YESTERDAY]!)
  order[oAt + FROZEN_TODAY] = order[oAt + FROZEN_TODAY]! - fromToday
  order[oAt + FROZEN_YESTERDAY] = order[oAt + FROZEN_YESTERDAY]! - fromYesterday
  book[t] = book[t]! - fromToday
  book[t + BOOK_FROZEN] = book[t + BOOK_FROZEN]! - fromToday
  book[y] = book[y]! - fromYesterday
  book[y + BOOK_FROZEN] = book[y + BOOK_FROZEN]! - fromYesterday
  let beyond = lots - fromToday - fromYesterday
  if (beyond > 0) beyond = takeUnfrozen(book, t, beyond)
  if (beyond > 0) takeUnfrozen(book, y, beyond)
}

/** Closes up to `lots` unfrozen lots of one bucket; returns what it could not. */
function takeUnfrozen (book: Float64Array, bucket: number, lots: number): number {
  const taken = Math.min(lots, Math.max(0, book[bucket]! - book[bucket + BOOK_FROZEN]!))
  book[bucket] = book[bucket]! - taken
  return lots - taken
}

/** A close order is done (cancelled, rejected, or its fills are in): what it still froze is released. */
export function releaseClose (book: Float64Array, at: number, today: number, order: Float64Array, oAt: number): void {
  const t = at + today
  book[t + BOOK_FROZEN] = Math.max(0, book[t + BOOK_FROZEN]! - order[oAt + FROZEN_TODAY]!)
  book[t + 1 + BOOK_FROZEN] = Math.max(0, book[t + 1 + BOOK_FROZEN]! - order[oAt + FROZEN_YESTERDAY]!)
  order[oAt + FROZEN_TODAY] = 0
  order[oAt + FROZEN_YESTERDAY] = 0
}

/** A fill of `lots` of an opening order: today's lots of its side grow. */
export function fillOpen (book: Float64Array, at: number, today: number, lots: number): void {
  book[at + today] = book[at + today]! + lots
}

/**
 * The trading-day roll: today's lots become yesterday's, frozen ones
 * included. A close order still working across the roll must move its
 * own split the same way (rollFrozen).
 */
export function rollBook (book: Float64Array, at: number): void {
  for (const today of [BOOK_LONG_TODAY, BOOK_SHORT_TODAY] as const) {
    const t = at + today
    book[t + 1] = book[t + 1]! + book[t]!
    book[t] = 0
    book[t + 1 + BOOK_FROZEN] = book[t + 1 + BOOK_FROZEN]! + book[t + BOOK_FROZEN]!
    book[t + BOOK_FROZEN] = 0
  }
}

/** A working close order's split across the roll (see rollBook). */
export function rollFrozen (order: Float64Array, oAt: number): void {
  order[oAt + FROZEN_YESTERDAY] = order[oAt + FROZEN_YESTERDAY]! + order[oAt + FROZEN_TODAY]!
  order[oAt + FROZEN_TODAY] = 0
}

/** A book as named numbers: for inspection (admin, queries, the simulator), never on the order path. */
export interface BookView {
  longToday: number
  longYesterday: number
  shortToday: number
  shortYesterday: number
  /** Of the held lots above, those frozen by working close orders. */
  longTodayFrozen: number
  longYesterdayFrozen: number
  shortTodayFrozen: number
  shortYesterdayFrozen: number
}

/** The book at `at`, as named numbers. */
export function readBook (book: Float64Array, at: number): BookView {
  return {
    longToday: book[at + BOOK_LONG_TODAY]!,
    longYesterday: book[at + BOOK_LONG_YESTERDAY]!,
    shortToday: book[at + BOOK_SHORT_TODAY]!,
    shortYesterday: book[at + BOOK_SHORT_YESTERDAY]!,
    longTodayFrozen: book[at + BOOK_FROZEN + BOOK_LONG_TODAY]!,
    longYesterdayFrozen: book[at + BOOK_FROZEN + BOOK_LONG_YESTERDAY]!,
    shortTodayFrozen: book[at + BOOK_FROZEN + BOOK_SHORT_TODAY]!,
    shortYesterdayFrozen: book[at + BOOK_FROZEN + BOOK_SHORT_YESTERDAY]!,
  }
}

/** Lots held on the side whose today bucket is `today`, both days. */
export function heldLots (book: Float64Array, at: number, today: number): number {
  return book[at + today]! + book[at + today + 1]!
}
