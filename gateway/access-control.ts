/**
 * Look-through access control, on the supervisor thread: the software
 * (AppID and AuthCode proof), the terminal (fingerprint), and the account
 * (password, binding, lane, IP range, session cap), each proven and each
 * recorded. Lanes forward every logon step here; the secret-handling checks
 * (HMAC, scrypt) run in the piscina pool so no lane thread ever blocks on
 * them.
 *
 * Brute force: failures are counted per account and per source IP in
 * LRU-bounded tables, so spraying addresses cannot grow memory without
 * limit; past maxFailures the account or IP is locked for lockoutMs, and
 * the client is told for how long (LOGIN_BANNED, retry_after_ms).
 */
import { fileURLToPath } from 'node:url'
import { LRUCache } from 'lru-cache'
import { Piscina } from 'piscina'
import { RejectReason } from '../protocol/messages.js'
import type { CredentialTask } from './credential-worker.js'
import { IpRanges } from './ip-ranges.js'
import { LogonAudit } from './logon-audit.js'
import { fingerprintId, missingTerminalFields, type TerminalInfo } from './terminal-fingerprint.js'
import type { GatewayConfig, LaneName } from './config.js'

export interface AccessVerdict {
  reason: number
  text: string
  retryAfterMs?: number
  fingerprintId?: string
  newFingerprint?: boolean
}

export interface StepContext {
  lane: LaneName
  sessionId: number
  ip: string
}

type Software = GatewayConfig['software'][number]
type Account = GatewayConfig['accounts'][number]

interface FailureRecord {
  failures: number
  lockedUntilMs: number
}

interface FingerprintRecord {
  firstSeenMs: number
  lastSeenMs: number
  status: 'approved' | 'held' | 'rejected'
}

/** Fingerprints remembered per account (LRU): a client cannot grow it without bound. */
const MAX_FINGERPRINTS_PER_ACCOUNT = 1000
/** Compared against when the account is unknown, so timing does not reveal which accounts exist. */
const DUMMY_PASSWORD_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA='

function ok (extra: Partial<AccessVerdict> = {}): AccessVerdict {
  return { reason: 0, text: '', ...extra }
}

function today (): string {
  return new Date().toISOString().slice(0, 10)
}

export class AccessControl {
  readonly audit: LogonAudit
  private readonly pool: Piscina
  private readonly software = new Map<string, Software>()
  private readonly accounts = new Map<string, { account: Account, ipRanges: IpRanges }>()
  private readonly failures: LRUCache<string, FailureRecord>
  private readonly sessions = new Map<string, number>()
  private readonly fingerprints = new Map<string, LRUCache<string, FingerprintRecord>>()
  /** Called for a new fingerprint under allow-alert, and for one held for approval. */
  onAlert: (alert: { kind: 'new-fingerprint' | 'fingerprint-held', account: string, fingerprintId: string, lane: LaneName, ip: string }) => void = () => {}

  constructor (private readonly config: GatewayConfig) {
    this.audit = new LogonAudit(config.runDir)
    this.pool = new Piscina({
      filename: fileURLToPath(new URL('./credential-worker.js', import.meta.url)),
      // Logons are rare and bursty; a small pool keeps the lanes' cores free.
      minThreads: 1,
      maxThreads: 2,
      idleTimeout: 30_000,
    })
    // The registry is the admin socket's to change (bindings, statuses,
    // evidence): it holds copies, so the config it started from stays what
    // the file said, and a restart from it starts from the file again.
    for (const software of config.software) this.software.set(software.appId, structuredClone(software))
    for (const account of config.accounts) {
      this.accounts.set(account.id, { account: structuredClone(account), ipRanges: new IpRanges(account.ipRanges) })
      // Histories are created on first use: an LRUCache costs ~37 KiB, too
      // much to hold for thousands of idle accounts.
      if (account.knownFingerprints.length === 0) continue
      const known = this.fingerprintsOf(account.id)
      for (const id of account.knownFingerprints) known.set(id, { firstSeenMs: 0, lastSeenMs: 0, status: 'approved' })
    }
    this.failures = new LRUCache({ max: config.security.maxTrackedEntries, ttl: Math.max(config.security.failureWindowMs, config.security.lockoutMs) })
  }

  async close (): Promise<void> {
    await this.pool.destroy()
    await this.audit.close()
  }

  // ---- step 1: the software -------------------------------------------

  async authenticate (ctx: StepContext, request: { appId: string, account: string, nonce: Uint8Array, proof: Uint8Array, exchangeEnvironment: string }): Promise<AccessVerdict> {
    const verdict = await this.checkAuthenticate(ctx, request)
    this.audit.record({ ...ctx, step: 'authenticate', account: request.account, appId: request.appId, reason: verdict.reason, text: verdict.text })
    return verdict
  }

  private async checkAuthenticate (ctx: StepContext, request: { appId: string, account: string, nonce: Uint8Array, proof: Uint8Array, exchangeEnvironment: string }): Promise<AccessVerdict> {
    const banned = this.lockoutVerdict(ctx.ip, request.account)
    if (banned !== null) return banned
    const software = this.software.get(request.appId)
    if (software === undefined) {
      this.recordFailure(ctx.ip, null)
      return { reason: RejectReason.APPID_UNKNOWN, text: `AppID "${request.appId}" is not registered with this broker` }
    }
    if (software.status === 'suspended' || software.status === 'revoked') {
      return { reason: RejectReason.APPID_NOT_APPROVED, text: `AppID "${software.appId}" is ${software.status}` }
    }
    const expired = software.assessment.documents.find((document) => document.expires < today())
    if (expired !== undefined) {
      return { reason: RejectReason.APPID_ASSESSMENT_EXPIRED, text: `AppID "${software.appId}" assessment document "${expired.name}" expired on ${expired.expires}; it is treated as suspended` }
    }
    if (!this.config.lanes[ctx.lane].policy.allowedAppStatuses.includes(software.status)) {
      return { reason: RejectReason.APPID_NOT_APPROVED, text: `AppID "${software.appId}" is ${software.status}, which the ${ctx.lane} lane does not accept` }
    }
    if (software.status === 'testing' && request.exchangeEnvironment !== 'test') {
      return { reason: RejectReason.APPID_TESTING_ONLY, text: `AppID "${software.appId}" is in testing and may reach only a test exchange; this lane reaches "${request.exchangeEnvironment || 'unknown'}"` }
    }
    const task: CredentialTask = { kind: 'auth-proof', authCode: software.authCode, nonce: request.nonce, appId: request.appId, account: request.account, lane: ctx.lane, proof: request.proof }
    if (!(await this.pool.run(task) as boolean)) {
      return this.failed(ctx.ip, request.account, { reason: RejectReason.AUTH_FAILED, text: 'AuthCode proof does not verify (wrong AuthCode, or a proof made for another nonce, AppID, account or lane)' })
    }
    return ok()
  }

  // ---- step 2: the terminal -------------------------------------------

  terminalInfo (ctx: StepContext, account: string, info: TerminalInfo, terminal: Record<string, unknown>): AccessVerdict {
    const verdict = this.checkTerminalInfo(ctx, account, info)
    this.audit.record({ ...ctx, step: 'terminal-info', account, reason: verdict.reason, text: verdict.text, terminal, fingerprintId: verdict.fingerprintId, newFingerprint: verdict.newFingerprint })
    return verdict
  }

  private checkTerminalInfo (ctx: StepContext, account: string, info: TerminalInfo): AccessVerdict {
    const policy = this.config.lanes[ctx.lane].policy
    const missing = missingTerminalFields(info, policy.requiredTerminalFields)
    if (missing.length > 0) {
      return { reason: RejectReason.TERMINAL_INFO_INCOMPLETE, text: `the ${ctx.lane} lane requires terminal info fields that are missing or not collected: ${missing.join(', ')}` }
    }
    const id = fingerprintId(info)
    // An unknown account gets the same answer a known one with a new
    // terminal would (no account enumeration) but nothing is stored, so
    // spraying account names cannot grow memory.
    const history = this.accounts.has(account) ? this.fingerprintsOf(account) : new LRUCache<string, FingerprintRecord>({ max: 1 })
    const now = Date.now()
    const seen = history.get(id)
    if (seen?.status === 'approved') {
      seen.lastSeenMs = now
      if (seen.firstSeenMs === 0) seen.firstSeenMs = now
      return ok({ fingerprintId: id, newFingerprint: false })
    }
    if (seen?.status === 'held' || (seen === undefined && policy.newFingerprint === 'hold')) {
      history.set(id, { firstSeenMs: seen?.firstSeenMs ?? now, lastSeenMs: now, status: 'held' })
      this.onAlert({ kind: 'fingerprint-held', account, fingerprintId: id, lane: ctx.lane, ip: ctx.ip })
      return { reason: RejectReason.FINGERPRINT_HELD, text: `terminal ${id.slice(0, 12)}… is new for ${account} and is held until ops approve it`, fingerprintId: id, newFingerprint: true }
    }
    if (seen?.status === 'rejected' || policy.newFingerprint === 'reject') {
      history.set(id, { firstSeenMs: seen?.firstSeenMs ?? now, lastSeenMs: now, status: 'rejected' })
      return { reason: RejectReason.FINGERPRINT_REJECTED, text: `terminal ${id.slice(0, 12)}… is not registered for ${account}, and the ${ctx.lane} lane rejects new terminals`, fingerprintId: id, newFingerprint: true }
    }
    history.set(id, { firstSeenMs: now, lastSeenMs: now, status: 'approved' })
    this.onAlert({ kind: 'new-fingerprint', account, fingerprintId: id, lane: ctx.lane, ip: ctx.ip })
    return ok({ fingerprintId: id, newFingerprint: true })
  }

  /** Approves (or rejects) a held fingerprint; the admin socket exposes this. */
  decideFingerprint (account: string, id: string, approve: boolean): boolean {
    const record = this.fingerprints.get(account)?.get(id)
    if (record === undefined) return false
    record.status = approve ? 'approved' : 'rejected'
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
        const known = this.fingerprintsOf(account.id)
        if (known.get(id)?.status !== 'approved') known.set(id, { firstSeenMs: known.get(id)?.firstSeenMs ?? 0, lastSeenMs: known.get(id)?.lastSeenMs ?? 0, status: 'approved' })
      }
    }
  }

  /** Sets a fingerprint's status (admin approval, or a persisted decision at start); creates the record if unseen. */
  setFingerprintStatus (account: string, id: string, status: FingerprintRecord['status']): void {
    const known = this.fingerprintsOf(account)
    const record = known.get(id)
    if (record === undefined) known.set(id, { firstSeenMs: 0, lastSeenMs: 0, status })
    else record.status = status
  }

  /** Current lockouts (accounts and IPs) and fingerprints held for approval, for /metrics and ops. */
  lockoutCount (): { accounts: number, ips: number } {
    const now = Date.now()
    let accounts = 0
    let ips = 0
    for (const [key, record] of this.failures.entries()) {
      if (record.lockedUntilMs <= now) continue
      if (key.startsWith('account:')) accounts++
      else ips++
    }
    return { accounts, ips }
  }

  heldFingerprintCount (): number {
    let held = 0
    for (const known of this.fingerprints.values()) {
      for (const record of known.values()) if (record.status === 'held') held++
    }
    return held
  }

  /** Every fingerprint seen for an account, with first and last seen times. */
  fingerprintHistory (account: string): Array<{ fingerprintId: string } & FingerprintRecord> {
    return [...(this.fingerprints.get(account)?.entries() ?? [])].map(([fingerprintId, record]) => ({ fingerprintId, ...record }))
  }

  // ---- step 3: the account --------------------------------------------

  async logon (ctx: StepContext, request: { account: string, password: string, appId: string }): Promise<AccessVerdict> {
    const verdict = await this.checkLogon(ctx, request)
    this.audit.record({ ...ctx, step: 'logon', account: request.account, appId: request.appId, reason: verdict.reason, text: verdict.text })
    return verdict
  }

  private async checkLogon (ctx: StepContext, request: { account: string, password: string, appId: string }): Promise<AccessVerdict> {
    const banned = this.lockoutVerdict(ctx.ip, request.account)
    if (banned !== null) return banned
    const entry = this.accounts.get(request.account)
    const passwordOk = await this.pool.run({ kind: 'password', passwordHash: entry?.account.passwordHash ?? DUMMY_PASSWORD_HASH, password: request.password } satisfies CredentialTask) as boolean
    if (entry === undefined || !passwordOk) {
      return this.failed(ctx.ip, entry === undefined ? null : request.account, { reason: RejectReason.INVALID_CREDENTIALS, text: 'unknown account or wrong password' })
    }
    const { account, ipRanges } = entry
    if (!account.appIds.includes(request.appId)) {
      return { reason: RejectReason.APPID_NOT_BOUND, text: `account ${account.id} is not bound to AppID "${request.appId}"` }
    }
    if (!account.lanes.includes(ctx.lane)) {
      return { reason: RejectReason.LANE_NOT_ALLOWED, text: `account ${account.id} may not use the ${ctx.lane} lane` }
    }
    if (!ipRanges.includes(ctx.ip)) {
      return { reason: RejectReason.IP_NOT_ALLOWED, text: `account ${account.id} may not connect from ${ctx.ip}` }
    }
    const open = this.sessions.get(account.id) ?? 0
    if (open >= account.maxSessions) {
      return { reason: RejectReason.TOO_MANY_SESSIONS, text: `account ${account.id} already has ${open} sessions (limit ${account.maxSessions})` }
    }
    this.sessions.set(account.id, open + 1)
    this.failures.delete(`account:${account.id}`)
    return ok()
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

  // ---- lockouts -------------------------------------------------------

  private lockoutVerdict (ip: string, account: string): AccessVerdict | null {
    const now = Date.now()
    for (const [key, what] of [[`ip:${ip}`, `address ${ip}`], [`account:${account}`, `account ${account}`]] as const) {
      const record = this.failures.get(key)
      if (record !== undefined && record.lockedUntilMs > now) {
        const retryAfterMs = record.lockedUntilMs - now
        return { reason: RejectReason.LOGIN_BANNED, text: `${what} is locked after repeated failures; retry in ${Math.ceil(retryAfterMs / 1000)} s`, retryAfterMs }
      }
    }
    return null
  }

  private failed (ip: string, account: string | null, verdict: AccessVerdict): AccessVerdict {
    this.recordFailure(ip, account)
    return verdict
  }

  private recordFailure (ip: string, account: string | null): void {
    const { maxFailures, lockoutMs } = this.config.security
    const keys = account === null ? [`ip:${ip}`] : [`ip:${ip}`, `account:${account}`]
    for (const key of keys) {
      const record = this.failures.get(key) ?? { failures: 0, lockedUntilMs: 0 }
      record.failures++
      if (record.failures >= maxFailures) {
        record.lockedUntilMs = Date.now() + lockoutMs
        record.failures = 0
      }
      this.failures.set(key, record)
    }
  }

  private fingerprintsOf (account: string): LRUCache<string, FingerprintRecord> {
    let history = this.fingerprints.get(account)
    if (history === undefined) {
      // Bounded by maxSize (each record counts 1), not by max: with max,
      // lru-cache preallocates its arrays for every entry it may ever hold,
      // ~37 KiB per account, 185 MB of a 5000-account gateway's idle RSS;
      // without it they grow with the entries an account really has.
      history = new LRUCache({ maxSize: MAX_FINGERPRINTS_PER_ACCOUNT, sizeCalculation: () => 1 })
      this.fingerprints.set(account, history)
    }
    return history
  }
}
