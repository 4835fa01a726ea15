/**
 * Failure allowances and locks for the look-through logon: who may still
 * try, who is locked, and for how long.
 *
 * - Failures are counted per key (an address, its /24 or /64 prefix, an
 *   account name, or an account name from one of its approved terminals)
 *   in LRU-bounded tables: spraying can make the gateway forget a
 *   counter, never grow memory.
 * - An attempt reserves a failure place on each of its keys before any
 *   check that costs or reveals something runs, and gives it back only on
 *   success: with `limit` allowed failures, at most `limit - failures`
 *   attempts of one key are in flight at once, so concurrency cannot buy
 *   extra guesses.
 * - Locks live in their own store, apart from the counters, and are never
 *   evicted: only expiry removes one. The store is bounded (maxLocks);
 *   when it is full, a lock that cannot be stored leaves its counter at the
 *   limit (the key keeps being refused while the counter lives), every key
 *   with a failure in its window is refused (LOCK_STORE_FULL), and ops are
 *   alerted once per episode.
 */
import { LRUCache } from 'lru-cache'
import { isIP } from 'node:net'

export type GuardKeyKind = 'ip' | 'net' | 'name' | 'name-known'

export interface GuardKey {
  kind: GuardKeyKind
  value: string
}

export interface GuardLimits {
  /** Failures of one address, one account name, or one name from its approved terminals, before a lock. */
  maxFailures: number
  /** Failures of one /24 or /64 before the prefix is locked. */
  prefixMaxFailures: number
  failureWindowMs: number
  lockoutMs: number
  maxTrackedEntries: number
  maxLocks: number
}

interface Counter {
  failures: number
  windowStartMs: number
}

export interface Lock {
  key: string
  untilMs: number
}

/** What an attempt holds while it is checked: settle it exactly once. */
export interface Reservation {
  keys: readonly string[]
  settled: boolean
}

export type GuardEvent =
  | { kind: 'locked', key: string, untilMs: number }
  | { kind: 'lock-store-full', key: string, locks: number }

/** The /24 of an IPv4 address or the /64 of an IPv6 one (IPv4-mapped IPv6 counts as IPv4). */
export function addressPrefix (address: string): string {
  const mapped = /^(?:0{0,4}:){5}ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address) ?? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  const v4 = mapped?.[1] ?? (isIP(address) === 4 ? address : null)
  if (v4 !== null) return `${v4.split('.').slice(0, 3).join('.')}.0/24`
  if (isIP(address) !== 6) return address
  // Expand "::" so the first four groups are the /64.
  const [head = '', tail] = address.split('::')
  const headGroups = head === '' ? [] : head.split(':')
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = [...headGroups, ...Array<string>(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups]
  return `${groups.slice(0, 4).map((g) => Number.parseInt(g, 16).toString(16)).join(':')}::/64`
}

export function keyName (key: GuardKey): string {
  return `${key.kind}:${key.value}`
}

export class LogonGuard {
  /** Address and prefix counters apart from name counters, so address spraying cannot evict an account's count. */
  private readonly addressFailures: LRUCache<string, Counter>
  private readonly nameFailures: LRUCache<string, Counter>
  private readonly inFlight = new Map<string, number>()
  private readonly locks = new Map<string, number>()
  private full = false
  private lastPruneMs = 0
  onEvent: (event: GuardEvent) => void = () => {}

  constructor (private readonly limits: GuardLimits) {
    const options = { max: limits.maxTrackedEntries, ttl: limits.failureWindowMs }
    this.addressFailures = new LRUCache(options)
    this.nameFailures = new LRUCache(options)
  }

  /** The lock in force on any of the keys, the longest first; null if none. */
  lockOn (keys: readonly GuardKey[], nowMs = Date.now()): Lock | null {
    let found: Lock | null = null
    for (const key of keys) {
      const name = keyName(key)
      const untilMs = this.locks.get(name)
      if (untilMs === undefined) continue
      if (untilMs <= nowMs) {
        this.locks.delete(name)
        continue
      }
      if (found === null || untilMs > found.untilMs) found = { key: name, untilMs }
    }
    return found
  }

  /**
   * True when the lock store is full and one of the keys has a failure in
   * its window: such a source could not be locked, so it is refused.
   */
  refusedWhileFull (keys: readonly GuardKey[], nowMs = Date.now()): boolean {
    if (!this.storeFull(nowMs)) return false
    return keys.some((key) => (this.counter(keyName(key), nowMs)?.failures ?? 0) > 0)
  }

  /**
   * Reserves one failure place on every key, or none: null when some key's
   * failures plus attempts in flight already use its whole allowance.
   */
  reserve (keys: readonly GuardKey[], nowMs = Date.now()): Reservation | null {
    const names = keys.map(keyName)
    for (let i = 0; i < keys.length; i++) {
      const name = names[i]!
      const used = (this.counter(name, nowMs)?.failures ?? 0) + (this.inFlight.get(name) ?? 0)
      if (used + 1 > this.limitOf(keys[i]!.kind)) return null
    }
    for (const name of names) this.inFlight.set(name, (this.inFlight.get(name) ?? 0) + 1)
    return { keys: names, settled: false }
  }

  /** Ends an attempt: a failure turns its reserved places into failures (locking keys at their limit); a success frees them. */
  settle (reservation: Reservation, failed: boolean, nowMs = Date.now()): void {
    if (reservation.settled) return
    reservation.settled = true
    for (const name of reservation.keys) {
      const left = (this.inFlight.get(name) ?? 1) - 1
      if (left === 0) this.inFlight.delete(name)
      else this.inFlight.set(name, left)
      if (failed) this.countFailure(name, nowMs)
    }
  }

  /** Forgets a key's failures (a successful logon clears its account's count). */
  clear (key: GuardKey): void {
    const name = keyName(key)
    this.tableOf(name).delete(name)
  }

  /** Locks in force now, by key kind. */
  lockCounts (nowMs = Date.now()): Record<GuardKeyKind, number> {
    const counts: Record<GuardKeyKind, number> = { ip: 0, net: 0, name: 0, 'name-known': 0 }
    for (const [name, untilMs] of this.locks) {
      if (untilMs <= nowMs) continue
      counts[name.slice(0, name.indexOf(':')) as GuardKeyKind]++
    }
    return counts
  }

  get lockStoreFull (): boolean {
    return this.storeFull(Date.now())
  }

  private limitOf (kind: GuardKeyKind): number {
    return kind === 'net' ? this.limits.prefixMaxFailures : this.limits.maxFailures
  }

  private tableOf (name: string): LRUCache<string, Counter> {
    return name.startsWith('name') ? this.nameFailures : this.addressFailures
  }

  private counter (name: string, nowMs: number): Counter | undefined {
    const counter = this.tableOf(name).get(name)
    if (counter !== undefined && nowMs - counter.windowStartMs >= this.limits.failureWindowMs) {
      this.tableOf(name).delete(name)
      return undefined
    }
    return counter
  }

  private countFailure (name: string, nowMs: number): void {
    const table = this.tableOf(name)
    const counter = this.counter(name, nowMs) ?? { failures: 0, windowStartMs: nowMs }
    counter.failures++
    table.set(name, counter)
    const kind = name.slice(0, name.indexOf(':')) as GuardKeyKind
    if (counter.failures < this.limitOf(kind)) return
    const untilMs = nowMs + this.limits.lockoutMs
    if (!this.locks.has(name) && this.storeFull(nowMs)) {
      // Not stored: the counter stays at the limit, so reserve() keeps
      // refusing this key for as long as the counter lives.
      if (!this.full) this.onEvent({ kind: 'lock-store-full', key: name, locks: this.locks.size })
      this.full = true
      return
    }
    this.locks.set(name, untilMs)
    counter.failures = 0
    this.onEvent({ kind: 'locked', key: name, untilMs })
  }

  private storeFull (nowMs: number): boolean {
    if (this.locks.size < this.limits.maxLocks) {
      this.full = false
      return false
    }
    // A full store is scanned for expired locks at most once a second, so a
    // flood against a full store costs no scan per attempt.
    if (nowMs - this.lastPruneMs >= 1000) {
      this.lastPruneMs = nowMs
      for (const [name, untilMs] of this.locks) if (untilMs <= nowMs) this.locks.delete(name)
    }
    if (this.locks.size < this.limits.maxLocks) {
      this.full = false
      return false
    }
    return true
  }
}
