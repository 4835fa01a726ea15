// Every live-tunable limit, by name and slot. A limit can be set at any
// scope; the narrowest scope that sets it wins:
//
//   account × instrument  >  account  >  AppID  >  lane  >  exchange preset  >  global
//
// A value is a number, Infinity for "no limit", or unset (NaN in the
// shared table, undefined in config and the API) to inherit from the next
// wider scope. The global row always has a value for every limit.

/** Slot of each limit in a row of the shared limits table. */
export const Limit = {
  /** Messages per second per session (any message after logon). Throttle. */
  sessionMessagesPerSecond: 0,
  /** Orders plus cancels per second per account, across sessions and lanes. Throttle. */
  accountActionsPerSecond: 1,
  /** Largest order in lots (the instrument's max_order_lots applies as well). */
  maxOrderLots: 2,
  /** Largest price × quantity × multiplier of one order, in currency units. */
  maxNotionalPerOrder: 3,
  /** Price band around the reference price, in basis points (fat-finger check). */
  priceBandBps: 4,
  /** Working orders per account. */
  maxOpenOrders: 5,
  /** Long position plus working buys, per instrument, in lots. */
  maxLongLots: 6,
  /** Short position plus working sells, per instrument, in lots. */
  maxShortLots: 7,
  /** Funds available for margin on working orders, in currency units. */
  funds: 8,
  /** Lots traded today plus lots working, per account. */
  maxDailyVolumeLots: 9,
  /** Cancels per contract per day (FAK/FOK not counted): warning level. */
  cancelsWarn: 10,
  /** Cancels per contract per day: new orders on the contract are refused from here. */
  cancelsBlock: 11,
  /** Cancels of large orders per contract per day: warning level. */
  largeCancelsWarn: 12,
  /** Cancels of large orders per contract per day: blocking level. */
  largeCancelsBlock: 13,
  /** An order of at least this many lots is large. */
  largeOrderMinLots: 14,
  /** An order of at least this percentage of the instrument's max_order_lots is large. */
  largeOrderPctOfMax: 15,
  /** Prevented self-trades per contract per day: warning level. */
  selfTradesWarn: 16,
  /** Prevented self-trades per contract per day: blocking level. */
  selfTradesBlock: 17,
  /** Orders plus cancels within one second that make a burst (programmatic-trading rule). */
  hfBurstOrders: 18,
  /** Bursts per day: warning level. */
  hfBurstsWarn: 19,
  /** Bursts per day at which a programmatic report must be confirmed (reporting threshold). */
  hfBurstsReporting: 20,
  /** Orders plus cancels per second: high-frequency warning level. */
  hfPerSecondWarn: 21,
  /** Orders plus cancels per second: high-frequency blocking level. */
  hfPerSecondBlock: 22,
  /** Orders plus cancels per day: high-frequency warning level. */
  hfDailyWarn: 23,
  /** Orders plus cancels per day: high-frequency blocking level. */
  hfDailyBlock: 24,
  /** Self-match prevention mode: 0 reject the incoming order, 1 cancel the resting one. */
  selfMatchMode: 25,
  /** 1: cancel a session's working orders when it disconnects. */
  cancelOnDisconnect: 26,
  /** Lots opened per contract per day (filled today plus working opens plus the order; hedge orders excepted): warning level. */
  openVolumeWarn: 27,
  /** Lots opened per contract per day: an opening order that would reach this level is refused. */
  openVolumeBlock: 28,
} as const

export type LimitName = keyof typeof Limit
export const LIMIT_NAMES = Object.keys(Limit) as LimitName[]
export const LIMIT_COUNT = LIMIT_NAMES.length

export const SELF_MATCH_MODES = ['reject-incoming', 'cancel-resting'] as const
export type SelfMatchMode = typeof SELF_MATCH_MODES[number]
export const SELF_MATCH_REJECT_INCOMING = 0
export const SELF_MATCH_CANCEL_RESTING = 1

/** Limits that must fit in the account's rate ring (they look that far back). */
export const RING_BOUND_LIMITS: readonly LimitName[] = ['sessionMessagesPerSecond', 'accountActionsPerSecond', 'hfBurstOrders', 'hfPerSecondWarn', 'hfPerSecondBlock']

/** Limits whose values are 0 or 1 switches or enumerations, not quantities. */
export const SWITCH_LIMITS: readonly LimitName[] = ['selfMatchMode', 'cancelOnDisconnect']

/** A limit value as config and the API spell it: number, null = no limit, undefined = inherit. */
export type LimitValue = number | null | undefined

/** Shared-table encoding of a LimitValue. */
export function encodeLimit (value: LimitValue): number {
  if (value === undefined) return NaN
  if (value === null) return Infinity
  return value
}

export function decodeLimit (stored: number): LimitValue {
  if (Number.isNaN(stored)) return undefined
  if (stored === Infinity) return null
  return stored
}

/** What a limit value must be; null if fine, else a message saying what to change. */
export function limitValueProblem (name: LimitName, value: LimitValue, ringSize: number, openOrdersCapacity: number): string | null {
  if (value === undefined || value === null) {
    if (value === null && SWITCH_LIMITS.includes(name)) return 'is a switch; give 0 or 1 (or leave it unset to inherit)'
    return null
  }
  if (!Number.isFinite(value) || value < 0) return 'must be a number of at least 0, null for no limit, or absent to inherit'
  // Limits go out in reject reports' 64-bit `limit` field, which carries
  // nothing beyond 2^53 - 1 exactly (protocol/long-off.ts).
  if (value > Number.MAX_SAFE_INTEGER) return `must be at most ${Number.MAX_SAFE_INTEGER} (2^53 - 1), or null for no limit`
  if (SWITCH_LIMITS.includes(name) && value !== 0 && value !== 1) return 'must be 0 or 1'
  if (RING_BOUND_LIMITS.includes(name) && value > ringSize) {
    return `must be at most ${ringSize} (risk.capacity.rateRingSize), or null for no limit`
  }
  if (name === 'maxOpenOrders' && value > openOrdersCapacity) {
    return `must be at most ${openOrdersCapacity} (risk.capacity.openOrdersPerAccount)`
  }
  if (!SWITCH_LIMITS.includes(name) && name !== 'maxNotionalPerOrder' && name !== 'funds' && !Number.isInteger(value)) {
    return 'must be a whole number'
  }
  return null
}
