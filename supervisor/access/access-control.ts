/**
 * Look-through access control, on the supervisor thread: the software
 * (AppID and AuthCode proof), the terminal (fingerprint), and the account
 * (password, binding, lane, IP range, session cap), each proven and each
 * recorded. Lanes forward every logon step here. The password check
 * (scrypt) runs in the piscina pool, so neither a lane nor this thread
 * blocks on it; the AuthCode proof is one HMAC and runs here, so it has
 * no moment in flight that concurrent attempts could race.
 *
 * Abuse resistance (docs/abuse-resistance.md states each as an invariant):
 * - Failures are counted, and attempts refused, before the expensive or
 *   revealing check runs (logon-guard.ts): each attempt reserves a failure
 *   place on its address, its /24 or /64 prefix and (at Logon) its account
 *   name, so concurrency cannot buy more guesses than the allowance.
 * - AuthCode proof failures lock the address and prefix, never the
 *   account: every user of the software holds the AuthCode. Password
 *   failures lock the account name, with attempts from a terminal already
 *   approved for the account counted apart, so strangers cannot lock the
 *   owner out of their own terminal.
 * - Unknown account names are locked, hashed and answered exactly as
 *   known ones; the binding, lane and IP-range checks answer as a wrong
 *   password does, whatever the password, so no reply says which secret
 *   was right (the audit keeps the precise reason).
 * - Password hashing has a bounded queue: beyond it logons are shed
 *   (LOGON_SHED) before hashing, with places reserved for approved terminals.
 * - Approved fingerprints are never evicted by unapproved ones; new ones
 *   are rate-limited per account name; each lane's policy holds for its
 *   own lane.
 */
import { firstExpired, type ExpiringDocument } from '../evidence/evidence-expiry.js'
import { fileURLToPath } from 'node:url'
import { LRUCache } from 'lru-cache'
import { Piscina } from 'piscina'
import { RejectReason, reasonName } from '../../protocol/messages.js'
import { verifyAuthProof, type CredentialTask } from './credential-worker.js'
import { IpRanges } from '../../config/ip-ranges.js'
import { LogonAudit, type LogonStepRecord } from './logon-audit.js'
import { LogonGuard, addressPrefix, type GuardKey, type Lock } from './logon-guard.js'
import { SCRYPT_PARAMS } from './password-hash.js'
import { fingerprintId, missingTerminalFields, type TerminalInfo } from '../../protocol/terminal-fingerprint.js'
import type { GatewayConfig } from '../../config/config.js'
import type { LaneName } from '../../protocol/lanes.js'

export interface AccessVerdict {
  reason: number
  text: string
  retryAfterMs?: number
  fingerprintId?: string
  newFingerprint?: boolean
  /** WRONG_INSTANCE: the URL of this lane on the instance that holds the account ('' if it has none). */
  redirectEndpoint?: string
  /** WRONG_INSTANCE: the instance that holds the account. */
  redirectInstance?: string
}

/**
 * Where an account is held when it is not here (a cluster's account
 * directory); null when it is held here. Set by the supervisor when
 * `cluster.enabled`; a single instance holds every account.
 */
export type AccountPlacement = (account: string, lane: LaneName) => { instance: string, endpoint: string } | null

/** The WRONG_INSTANCE verdict for an account held elsewhere. */
export function wrongInstanceVerdict (account: string, placement: { instance: string, endpoint: string }): AccessVerdict {
  return {
    reason: RejectReason.WRONG_INSTANCE,
    text: `account ${account} is held by instance ${placement.instance}${placement.endpoint === '' ? ' (which has no endpoint for this lane)' : `; log on at ${placement.endpoint}`}`,
    redirectEndpoint: placement.endpoint,
    redirectInstance: placement.instance,
  }
}

export interface StepContext {
  lane: LaneName
  sessionId: number
  ip: string
}

type Software = GatewayConfig['software'][number]
type Account = GatewayConfig['accounts'][number]

export type FingerprintStatus = 'approved' | 'held' | 'rejected'

export interface FingerprintRecord {
  firstSeenMs: number
  lastSeenMs: number
  status: FingerprintStatus
  /** Lanes it is approved for: 'all' when the registry (config or ops) decided, else the lanes it logged on through. */
  lanes: 'all' | LaneName[]
}

/** A fingerprint seen but never approved: kept in an LRU of its own, so it can never evict an approved one. */
interface SeenFingerprint {
  firstSeenMs: number
  lastSeenMs: number
  status: 'held' | 'rejected' | 'allowed'
}

interface AccountTerminals {
  /** Approved or rejected by the registry, or approved by a logon through a lane that allowed it. Never evicted by traffic. */
  decided: Map<string, FingerprintRecord>
  seen: LRUCache<string, SeenFingerprint>
}

export type AlertKind = 'new-fingerprint' | 'fingerprint-held' | 'abnormal-terminal' | 'fingerprint-churn' | 'lockout' | 'lock-store-full' | 'logon-shed'
export const ALERT_KINDS: readonly AlertKind[] = ['new-fingerprint', 'fingerprint-held', 'abnormal-terminal', 'fingerprint-churn', 'lockout', 'lock-store-full', 'logon-shed']

export interface AccessAlert {
  kind: AlertKind
  timeMs: number
  text: string
  lane?: LaneName
  account?: string
  fingerprintId?: string
  ip?: string
}

/** Fingerprints remembered per account, seen (LRU) and approved by logons (oldest-seen first out) each. */
const MAX_FINGERPRINTS_PER_ACCOUNT = 1000
/** Alerts kept for the admin listing, newest last. */
const RECENT_ALERTS = 1000
/** A shed or busy logon is told to retry after this. */
const BUSY_RETRY_MS = 500
/** At most one logon-shed alert per this interval: a flood must not flood ops. */
const SHED_ALERT_INTERVAL_MS = 10_000
/**
 * Compared against when the account is unknown, so timing does not reveal
 * which accounts exist: the production scrypt parameters, like a hash
 * `gatehouse hash-password` writes.
 */
const DUMMY_PASSWORD_HASH = `scrypt$${SCRYPT_PARAMS.N}$${SCRYPT_PARAMS.r}$${SCRYPT_PARAMS.p}$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=`
/** What a refused Logon says whenever a secret or an account-specific permission failed: never which. */
const DENIED_TEXT = 'unknown account or wrong password, or the account may not log on with this software, on this lane or from this address'

function ok (extra: Partial<AccessVerdict> = {}): AccessVerdict {
  return { reason: 0, text: '', ...extra }
}

function lockVerdict (lock: Lock, nowMs: number): AccessVerdict {
  const retryAfterMs = Math.max(1, lock.untilMs - nowMs)
  const kind = lock.key.slice(0, lock.key.indexOf(':'))
  const what = kind === 'ip' ? 'this address' : kind === 'net' ? 'this address\'s network' : 'this account'
  return { reason: RejectReason.LOGIN_BANNED, text: `${what} is locked after repeated failures; retry in ${Math.ceil(retryAfterMs / 1000)} s`, retryAfterMs }
}

export class AccessControl {
  readonly audit: LogonAudit
  private readonly pool: Piscina
  private readonly software = new Map<string, Software>()
  private readonly accounts = new Map<string, { account: Account, ipRanges: IpRanges }>()
  readonly guard: LogonGuard
  private readonly sessions = new Map<string, number>()
  private readonly terminals = new Map<string, AccountTerminals>()
  /** New fingerprints per account name (known or not) in the churn window. */
  private readonly churn: LRUCache<string, { windowStartMs: number, ids: Set<string>, alerted: boolean }>
  private pendingHashes = 0
  private lastShedAlertMs = 0
  private readonly stepCounts = new Map<string, { lane: LaneName, step: string, result: string, count: number }>()
  private readonly alertCounts = new Map<AlertKind, number>()
  /** The last alerts, newest last, for `gatehouse admin alerts`. */
  readonly recentAlerts: AccessAlert[] = []
  /** Called for every alert (new terminal, held terminal, abnormal terminal, churn, lockout, full lock store, shedding). */
  onAlert: (alert: AccessAlert) => void = () => {}

  constructor (private readonly config: GatewayConfig) {
    this.audit = new LogonAudit(config.runDir)
    this.pool = new Piscina({
      filename: fileURLToPath(new URL('./credential-worker.js', import.meta.url)),
      // Logons are rare and bursty; a small pool keeps the lanes' cores free.
      minThreads: 1,
      maxThreads: 2,
      idleTimeout: 30_000,
    })
    const security = config.security
    this.guard = new LogonGuard(security)
    this.guard.onEvent = (event) => {
      if (event.kind === 'locked') {
        // The key names what is locked ("ip:…", "net:…", "name:…", "name-known:…"): the listing shows it as the alert's ip or account too.
        const separator = event.key.indexOf(':')
        const kind = event.key.slice(0, separator)
        const value = event.key.slice(separator + 1)
        const subject = kind === 'ip' || kind === 'net' ? { ip: value } : kind.startsWith('name') ? { account: value } : {}
        this.alert({ kind: 'lockout', ...subject, text: `${event.key} locked until ${new Date(event.untilMs).toISOString()} after repeated failures` })
      }
      else this.alert({ kind: 'lock-store-full', text: `the lock store is full (${event.locks} locks, maxLocks): ${event.key} could not be locked; sources with recent failures are refused (LOCK_STORE_FULL) until locks expire` })
    }
    this.churn = new LRUCache({ max: security.maxTrackedEntries, ttl: security.fingerprintChurnWindowMs })
    // The registry is the admin socket's to change (bindings, statuses,
    // evidence): it holds copies, so the config it started from stays what
    // the file said, and a restart from it starts from the file again.
    for (const software of config.software) this.software.set(software.appId, structuredClone(software))
    for (const account of config.accounts) {
      this.accounts.set(account.id, { account: structuredClone(account), ipRanges: new IpRanges(account.ipRanges) })
      for (const id of account.knownFingerprints) this.setFingerprintStatus(account.id, id, 'approved')
    }
  }

  async close (): Promise<void> {
    await this.pool.destroy()
    await this.audit.close()
  }

  /** Records a logon step (here or a lane's event) in the audit, and counts it for /metrics. */
  recordStep (record: LogonStepRecord): void {
    const result = record.reason === 0 ? 'ok' : reasonName(record.reason)
    const key = `${record.lane}|${record.step}|${result}`
    const counted = this.stepCounts.get(key)
    if (counted === undefined) this.stepCounts.set(key, { lane: record.lane, step: record.step, result, count: 1 })
    else counted.count++
    this.audit.record(record)
  }

  logonStepCounts (): Array<{ lane: LaneName, step: string, result: string, count: number }> {
    return [...this.stepCounts.values()]
  }

  alertCount (kind: AlertKind): number {
    return this.alertCounts.get(kind) ?? 0
  }

  pendingHashCount (): number {
    return this.pendingHashes
  }

  private alert (alert: Omit<AccessAlert, 'timeMs'>): void {
    const full: AccessAlert = { timeMs: Date.now(), ...alert }
    this.alertCounts.set(alert.kind, this.alertCount(alert.kind) + 1)
    this.recentAlerts.push(full)
    if (this.recentAlerts.length > RECENT_ALERTS) this.recentAlerts.shift()
    try {
      this.onAlert(full)
    } catch {
      // A failing listener must not fail the logon step that raised the alert.
    }
  }

  private addressKeys (ip: string): GuardKey[] {
    return [{ kind: 'ip', value: ip }, { kind: 'net', value: addressPrefix(ip) }]
  }

  /** Refuses before any check: locked, or the lock store is full and the source has failures, or its allowance is in flight. */
  private admit (keys: GuardKey[]): { verdict: AccessVerdict } | { settle: (failed: boolean) => void } {
    const now = Date.now()
    const lock = this.guard.lockOn(keys, now)
    if (lock !== null) return { verdict: lockVerdict(lock, now) }
    if (this.guard.refusedWhileFull(keys, now)) {
      return { verdict: { reason: RejectReason.LOCK_STORE_FULL, text: 'too many sources are locked right now, and this one has recent failures: retry later', retryAfterMs: this.config.security.lockoutMs } }
    }
    const reservation = this.guard.reserve(keys, now)
    if (reservation === null) {
      return { verdict: { reason: RejectReason.LOGON_BUSY, text: 'other logon attempts for this account or address are being checked and use up its remaining failure allowance; retry when they are answered', retryAfterMs: BUSY_RETRY_MS } }
    }
    return { settle: (failed) => { this.guard.settle(reservation, failed) } }
  }

  // ---- step 1: the software -------------------------------------------

  async authenticate (ctx: StepContext, request: { appId: string, account: string, nonce: Uint8Array, proof: Uint8Array, exchangeEnvironment: string }): Promise<AccessVerdict> {
    const verdict = this.checkAuthenticate(ctx, request)
    this.recordStep({ ...ctx, step: 'authenticate', account: request.account, appId: request.appId, reason: verdict.reason, text: verdict.text })
    return verdict
  }

  private checkAuthenticate (ctx: StepContext, request: { appId: string, account: string, nonce: Uint8Array, proof: Uint8Array, exchangeEnvironment: string }): AccessVerdict {
    // Proof failures count against the address and its prefix only: the
    // AuthCode ships with the software, so counting them against the
    // account would let anyone lock any account.
    const admitted = this.admit(this.addressKeys(ctx.ip))
    if ('verdict' in admitted) return admitted.verdict
    const software = this.software.get(request.appId)
    if (software === undefined) {
      admitted.settle(true)
      return { reason: RejectReason.APPID_UNKNOWN, text: `AppID "${request.appId}" is not registered with this broker` }
    }
    const refused = this.softwareRefusal(ctx, software, request.exchangeEnvironment)
    if (refused !== null) {
      admitted.settle(false)
      return refused
    }
    const proven = verifyAuthProof({ kind: 'auth-proof', authCode: software.authCode, nonce: request.nonce, appId: request.appId, account: request.account, lane: ctx.lane, proof: request.proof })
    admitted.settle(!proven)
    if (!proven) return { reason: RejectReason.AUTH_FAILED, text: 'AuthCode proof does not verify (wrong AuthCode, or a proof made for another nonce, AppID, account or lane)' }
    // The first step that names the account, once the software is proven
    // and before any password hashing: a logon at the wrong instance costs
    // one HMAC and a map lookup. Every name maps to some instance, so the
    // answer says nothing about which accounts exist.
    const elsewhere = this.placement(request.account, ctx.lane)
    if (elsewhere !== null) return wrongInstanceVerdict(request.account, elsewhere)
    return ok()
  }

  private softwareRefusal (ctx: StepContext, software: Software, exchangeEnvironment: string): AccessVerdict | null {
    // First, so the client hears why even after the gateway's sweep has
    // suspended the AppID for it (journaled once); it also refuses the
    // AppID from the instant the document expires, between two sweeps.
    const expired = this.expiredDocument(software.appId, software.assessment.documents)
    if (expired !== undefined) {
      return { reason: RejectReason.APPID_ASSESSMENT_EXPIRED, text: `AppID "${software.appId}" assessment document "${expired.name ?? `${expired.kind ?? 'document'} ${expired.sha256?.slice(0, 12) ?? ''}`}" expired on ${expired.expires}; it is treated as suspended` }
    }
    if (software.status === 'suspended' || software.status === 'revoked') {
      return { reason: RejectReason.APPID_NOT_APPROVED, text: `AppID "${software.appId}" is ${software.status}` }
    }
    if (!this.config.lanes[ctx.lane].policy.allowedAppStatuses.includes(software.status)) {
      return { reason: RejectReason.APPID_NOT_APPROVED, text: `AppID "${software.appId}" is ${software.status}, which the ${ctx.lane} lane does not accept` }
    }
    if (software.status === 'testing' && exchangeEnvironment !== 'test') {
      return { reason: RejectReason.APPID_TESTING_ONLY, text: `AppID "${software.appId}" is in testing and may reach only a test exchange; this lane reaches "${exchangeEnvironment || 'unknown'}"` }
    }
    return null
  }

  /**
   * The stored documents of an AppID (the evidence store's metadata, kept
   * by the admin side); set by the supervisor. The config's named
   * documents come with the registration itself.
   */
  storedEvidence: (appId: string) => readonly ExpiringDocument[] = () => []

  /** Where an account is held when not here (the cluster's directory); set by the supervisor. */
  placement: AccountPlacement = () => null

  /** The first expired document of an AppID, its config documents and stored ones alike; undefined if none. */
  expiredDocument (appId: string, documents: readonly ExpiringDocument[], nowMs: number = Date.now()): ExpiringDocument | undefined {
    return firstExpired(documents, nowMs) ?? firstExpired(this.storedEvidence(appId), nowMs)
  }

  // ---- step 2: the terminal -------------------------------------------

  terminalInfo (ctx: StepContext, account: string, info: TerminalInfo, terminal: Record<string, unknown>): AccessVerdict {
    const verdict = this.checkTerminalInfo(ctx, account, info)
    this.recordStep({ ...ctx, step: 'terminal-info', account, reason: verdict.reason, text: verdict.text, terminal, fingerprintId: verdict.fingerprintId, newFingerprint: verdict.newFingerprint })
    return verdict
  }

  private checkTerminalInfo (ctx: StepContext, account: string, info: TerminalInfo): AccessVerdict {
    const policy = this.config.lanes[ctx.lane].policy
    const missing = missingTerminalFields(info, policy.requiredTerminalFields)
    if (missing.length > 0) {
      return { reason: RejectReason.TERMINAL_INFO_INCOMPLETE, text: `the ${ctx.lane} lane requires terminal info fields that are missing or not collected: ${missing.join(', ')}` }
    }
    const id = fingerprintId(info)
    const short = `${id.slice(0, 12)}…`
    const now = Date.now()
    // An unknown account gets the answer a known one with a new terminal
    // would (no account enumeration) but nothing is stored for it, so
    // spraying account names cannot grow memory.
    const terminals = this.accounts.has(account) ? this.terminalsOf(account) : null
    const decided = terminals?.decided.get(id)
    if (decided?.status === 'rejected') {
      return { reason: RejectReason.FINGERPRINT_REJECTED, text: `terminal ${short} is rejected for ${account}`, fingerprintId: id, newFingerprint: false }
    }
    const alertOf = { lane: ctx.lane, account, fingerprintId: id, ip: ctx.ip }
    if (decided !== undefined && (decided.lanes === 'all' || decided.lanes.includes(ctx.lane))) {
      decided.lastSeenMs = now
      if (decided.firstSeenMs === 0) decided.firstSeenMs = now
      if (info.abnormal) {
        // Under hold, only what the registry approved passes abnormal.
        const refuse = policy.abnormalTerminal === 'reject' || (policy.abnormalTerminal === 'hold' && decided.lanes !== 'all')
        this.alert({ kind: 'abnormal-terminal', ...alertOf, text: `terminal ${short} of ${account} reports itself abnormal on the ${ctx.lane} lane (${refuse ? 'refused' : 'allowed'}, policy ${policy.abnormalTerminal})` })
        if (refuse) return { reason: RejectReason.ABNORMAL_TERMINAL, text: `terminal ${short} reports itself abnormal, and the ${ctx.lane} lane ${policy.abnormalTerminal === 'hold' ? 'holds such terminals until ops approve them' : 'rejects them'}`, fingerprintId: id, newFingerprint: false }
      }
      return ok({ fingerprintId: id, newFingerprint: false })
    }
    // New for this account on this lane: churn is limited per account
    // name, known or not, counting distinct fingerprints in the window.
    const churn = this.churnOf(account, now)
    if (!churn.ids.has(id)) {
      if (churn.ids.size >= this.config.security.maxNewFingerprintsPerAccount) {
        if (!churn.alerted) {
          churn.alerted = true
          this.alert({ kind: 'fingerprint-churn', ...alertOf, text: `${churn.ids.size} new terminals for ${account} within ${this.config.security.fingerprintChurnWindowMs} ms; further new ones are refused until the window passes` })
        }
        const retryAfterMs = Math.max(1, churn.windowStartMs + this.config.security.fingerprintChurnWindowMs - now)
        return { reason: RejectReason.FINGERPRINT_CHURN, text: `too many new terminals for ${account} recently; terminals already approved still log on`, retryAfterMs, fingerprintId: id, newFingerprint: true }
      }
      churn.ids.add(id)
    }
    const seen = terminals?.seen.get(id)
    const record = (status: SeenFingerprint['status']): void => {
      terminals?.seen.set(id, { firstSeenMs: seen?.firstSeenMs ?? now, lastSeenMs: now, status })
    }
    if (info.abnormal) {
      this.alert({ kind: 'abnormal-terminal', ...alertOf, text: `new terminal ${short} for ${account} reports itself abnormal on the ${ctx.lane} lane (policy ${policy.abnormalTerminal})` })
      if (policy.abnormalTerminal !== 'allow-alert') {
        if (policy.abnormalTerminal === 'hold') record('held')
        return { reason: RejectReason.ABNORMAL_TERMINAL, text: `terminal ${short} reports itself abnormal, and the ${ctx.lane} lane ${policy.abnormalTerminal === 'hold' ? 'holds such terminals until ops approve them' : 'rejects them'}`, fingerprintId: id, newFingerprint: true }
      }
    }
    if (seen?.status === 'held' || policy.newFingerprint === 'hold') {
      if (seen?.status !== 'held') this.alert({ kind: 'fingerprint-held', ...alertOf, text: `new terminal ${short} for ${account} held on the ${ctx.lane} lane until ops approve it` })
      record('held')
      return { reason: RejectReason.FINGERPRINT_HELD, text: `terminal ${short} is new for ${account} and is held until ops approve it`, fingerprintId: id, newFingerprint: true }
    }
    if (policy.newFingerprint === 'reject') {
      record('rejected')
      return { reason: RejectReason.FINGERPRINT_REJECTED, text: `terminal ${short} is not registered for ${account}, and the ${ctx.lane} lane rejects new terminals`, fingerprintId: id, newFingerprint: true }
    }
    // allow-alert: let it through this once; it is approved for this lane
    // only when the Logon that follows proves the password.
    record('allowed')
    this.alert({ kind: 'new-fingerprint', ...alertOf, text: `new terminal ${short} for ${account} allowed on the ${ctx.lane} lane` })
    return ok({ fingerprintId: id, newFingerprint: true })
  }

  private churnOf (account: string, now: number): { windowStartMs: number, ids: Set<string>, alerted: boolean } {
    let churn = this.churn.get(account)
    if (churn === undefined || now - churn.windowStartMs >= this.config.security.fingerprintChurnWindowMs) {
      churn = { windowStartMs: now, ids: new Set(), alerted: false }
      this.churn.set(account, churn)
    }
    return churn
  }

  /** Approves (or rejects) a seen or decided fingerprint for every lane; the admin socket exposes this. */
  decideFingerprint (account: string, id: string, approve: boolean): boolean {
    const terminals = this.terminals.get(account)
    const known = terminals?.decided.get(id) ?? terminals?.seen.get(id)
    if (terminals === undefined || known === undefined) return false
    terminals.seen.delete(id)
    terminals.decided.set(id, { firstSeenMs: known.firstSeenMs, lastSeenMs: known.lastSeenMs, status: approve ? 'approved' : 'rejected', lanes: 'all' })
    return true
  }

  // ---- the registry, changed live by the admin socket -----------------
  // The maps hold the config's objects; a change replaces or edits them in
  // place, and the next logon step reads the new value (no restart).

  apps (): Software[] {
    return [...this.software.values()]
  }

  app (appId: string): Software | undefined {
    return this.software.get(appId)
  }

  /** Adds or replaces an AppID's registration. */
  putApp (software: Software): void {
    this.software.set(software.appId, software)
  }

  account (id: string): Account | undefined {
    return this.accounts.get(id)?.account
  }

  accountIds (): string[] {
    return [...this.accounts.keys()]
  }

  /** Replaces the whole registry (config reload): software and accounts, already validated together. */
  replaceRegistry (software: readonly Software[], accounts: readonly Account[]): void {
    this.software.clear()
    for (const s of software) this.software.set(s.appId, structuredClone(s))
    this.accounts.clear()
    for (const account of accounts) {
      this.accounts.set(account.id, { account: structuredClone(account), ipRanges: new IpRanges(account.ipRanges) })
      for (const id of account.knownFingerprints) {
        if (this.terminals.get(account.id)?.decided.get(id)?.status !== 'approved') this.setFingerprintStatus(account.id, id, 'approved')
      }
    }
  }

  /** Sets a fingerprint's status for every lane (admin approval, or a persisted decision at start); creates the record if unseen. */
  setFingerprintStatus (account: string, id: string, status: FingerprintStatus): void {
    const terminals = this.terminalsOf(account)
    const before = terminals.decided.get(id) ?? terminals.seen.get(id)
    const times = { firstSeenMs: before?.firstSeenMs ?? 0, lastSeenMs: before?.lastSeenMs ?? 0 }
    if (status === 'held') {
      terminals.decided.delete(id)
      terminals.seen.set(id, { ...times, status })
      return
    }
    terminals.seen.delete(id)
    terminals.decided.set(id, { ...times, status, lanes: 'all' })
  }

  /** Current lockouts (account names, addresses, prefixes), for /metrics and ops. */
  lockoutCount (): { accounts: number, ips: number, prefixes: number } {
    const counts = this.guard.lockCounts()
    return { accounts: counts.name + counts['name-known'], ips: counts.ip, prefixes: counts.net }
  }

  heldFingerprintCount (): number {
    let held = 0
    for (const terminals of this.terminals.values()) {
      for (const record of terminals.seen.values()) if (record.status === 'held') held++
    }
    return held
  }

  /** Every fingerprint remembered for an account: decided ones (with their lanes), then seen ones not approved. */
  fingerprintHistory (account: string): Array<{ fingerprintId: string } & FingerprintRecord> {
    const terminals = this.terminals.get(account)
    if (terminals === undefined) return []
    const decided = [...terminals.decided.entries()].map(([fingerprintId, record]) => ({ fingerprintId, ...record }))
    const seen = [...terminals.seen.entries()]
      .filter(([, record]) => record.status !== 'allowed')
      .map(([fingerprintId, record]) => ({ fingerprintId, firstSeenMs: record.firstSeenMs, lastSeenMs: record.lastSeenMs, status: record.status as FingerprintStatus, lanes: [] as LaneName[] }))
    return [...decided, ...seen]
  }

  // ---- step 3: the account --------------------------------------------

  async logon (ctx: StepContext, request: { account: string, password: string, appId: string, fingerprintId?: string }): Promise<AccessVerdict> {
    const { verdict, audited } = await this.checkLogon(ctx, request)
    this.recordStep({ ...ctx, step: 'logon', account: request.account, appId: request.appId, reason: audited.reason, text: audited.text, fingerprintId: request.fingerprintId })
    return verdict
  }

  private async checkLogon (ctx: StepContext, request: { account: string, password: string, appId: string, fingerprintId?: string }): Promise<{ verdict: AccessVerdict, audited: AccessVerdict }> {
    const same = (verdict: AccessVerdict): { verdict: AccessVerdict, audited: AccessVerdict } => ({ verdict, audited: verdict })
    // The account moved away between Authenticate and Logon: still no hashing.
    const elsewhere = this.placement(request.account, ctx.lane)
    if (elsewhere !== null) return same(wrongInstanceVerdict(request.account, elsewhere))
    const entry = this.accounts.get(request.account)
    const fingerprint = request.fingerprintId === undefined ? undefined : this.terminals.get(request.account)?.decided.get(request.fingerprintId)
    // Attempts from a terminal already approved for the account have an
    // allowance of their own: strangers' failures cannot lock the owner out.
    const knownTerminal = entry !== undefined && fingerprint?.status === 'approved'
    const keys: GuardKey[] = [...this.addressKeys(ctx.ip), { kind: knownTerminal ? 'name-known' : 'name', value: request.account }]
    const admitted = this.admit(keys)
    if ('verdict' in admitted) return same(admitted.verdict)
    const { maxPendingHashes, hashesReservedForKnownTerminals } = this.config.security
    if (this.pendingHashes >= maxPendingHashes - (knownTerminal ? 0 : hashesReservedForKnownTerminals)) {
      admitted.settle(false)
      const now = Date.now()
      if (now - this.lastShedAlertMs >= SHED_ALERT_INTERVAL_MS) {
        this.lastShedAlertMs = now
        this.alert({ kind: 'logon-shed', lane: ctx.lane, ip: ctx.ip, text: `password-hashing queue full (${this.pendingHashes} pending, maxPendingHashes ${maxPendingHashes}): logons are being shed` })
      }
      return same({ reason: RejectReason.LOGON_SHED, text: 'the gateway is checking too many logons right now; retry shortly', retryAfterMs: BUSY_RETRY_MS })
    }
    // Hashed for known and unknown names alike, and whatever the binding,
    // lane or address: how long the answer takes reveals nothing.
    this.pendingHashes++
    let passwordOk: boolean
    try {
      passwordOk = await this.pool.run({ kind: 'password', passwordHash: entry?.account.passwordHash ?? DUMMY_PASSWORD_HASH, password: request.password } satisfies CredentialTask) as boolean
    } catch (err) {
      admitted.settle(false)
      throw err
    } finally {
      this.pendingHashes--
    }
    const denial = this.denial(ctx, entry, passwordOk, request.appId)
    if (denial !== null) {
      // Counted as a failure whichever check failed: a right password from
      // a wrong address must not lock differently from a wrong one.
      admitted.settle(true)
      return { verdict: { reason: RejectReason.INVALID_CREDENTIALS, text: DENIED_TEXT }, audited: denial }
    }
    admitted.settle(false)
    const account = entry!.account
    const open = this.sessions.get(account.id) ?? 0
    if (open >= account.maxSessions) {
      return same({ reason: RejectReason.TOO_MANY_SESSIONS, text: `account ${account.id} already has ${open} sessions (limit ${account.maxSessions})` })
    }
    this.sessions.set(account.id, open + 1)
    this.guard.clear(keys[2]!)
    if (request.fingerprintId !== undefined) this.approveByLogon(account.id, request.fingerprintId, ctx.lane)
    return same(ok())
  }

  /** Why the account may not log on (the audit's reason), or null. */
  private denial (ctx: StepContext, entry: { account: Account, ipRanges: IpRanges } | undefined, passwordOk: boolean, appId: string): AccessVerdict | null {
    if (entry === undefined || !passwordOk) return { reason: RejectReason.INVALID_CREDENTIALS, text: 'unknown account or wrong password' }
    const { account, ipRanges } = entry
    if (!account.appIds.includes(appId)) return { reason: RejectReason.APPID_NOT_BOUND, text: `account ${account.id} is not bound to AppID "${appId}"` }
    if (!account.lanes.includes(ctx.lane)) return { reason: RejectReason.LANE_NOT_ALLOWED, text: `account ${account.id} may not use the ${ctx.lane} lane` }
    if (!ipRanges.includes(ctx.ip)) return { reason: RejectReason.IP_NOT_ALLOWED, text: `account ${account.id} may not connect from ${ctx.ip}` }
    return null
  }

  /**
   * A logon proved the password from a terminal this lane let through
   * (known here, or new under allow-alert): it is approved for this lane.
   * Logon-approved terminals are bounded per account; the one seen longest
   * ago goes first, never one the registry decided.
   */
  private approveByLogon (account: string, id: string, lane: LaneName): void {
    const terminals = this.terminalsOf(account)
    const now = Date.now()
    const decided = terminals.decided.get(id)
    if (decided !== undefined) {
      if (decided.lanes !== 'all' && !decided.lanes.includes(lane)) decided.lanes.push(lane)
      decided.lastSeenMs = now
      return
    }
    const seen = terminals.seen.get(id)
    terminals.seen.delete(id)
    const byLogon = [...terminals.decided.entries()].filter(([, record]) => record.lanes !== 'all')
    if (byLogon.length >= MAX_FINGERPRINTS_PER_ACCOUNT) {
      const [oldest] = byLogon.reduce((a, b) => (a[1].lastSeenMs <= b[1].lastSeenMs ? a : b))
      terminals.decided.delete(oldest)
    }
    terminals.decided.set(id, { firstSeenMs: seen?.firstSeenMs ?? now, lastSeenMs: now, status: 'approved', lanes: [lane] })
  }

  /** A logged-on session ended: frees its place under maxSessions. */
  sessionClosed (account: string): void {
    const open = this.sessions.get(account) ?? 0
    if (open <= 1) this.sessions.delete(account)
    else this.sessions.set(account, open - 1)
  }

  sessionCount (account: string): number {
    return this.sessions.get(account) ?? 0
  }

  private terminalsOf (account: string): AccountTerminals {
    let terminals = this.terminals.get(account)
    if (terminals === undefined) {
      // Bounded by maxSize (each record counts 1), not by max: with max,
      // lru-cache preallocates its arrays for every entry it may ever hold,
      // ~37 KiB per account, 185 MB of a 5000-account gateway's idle RSS;
      // without it they grow with the entries an account really has.
      terminals = { decided: new Map(), seen: new LRUCache({ maxSize: MAX_FINGERPRINTS_PER_ACCOUNT, sizeCalculation: () => 1 }) }
      this.terminals.set(account, terminals)
    }
    return terminals
  }
}
