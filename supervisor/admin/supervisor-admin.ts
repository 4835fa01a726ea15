// The supervisor's side of the admin socket (AdminApi, admin-api.ts).
// Every change goes: validate → apply through the live API (RiskControl,
// AccessControl, the lanes) → journal with operator, before and after
// (supervisor stream) → persist (admin-state.ts) → reply with what
// changed. A change that cannot be journaled or persisted after it was
// applied says so (NOT_RECORDED) rather than pretend.
import { LIMIT_NAMES, type LimitName, type LimitValue } from '../../checks/limits.js'
import { RiskControlError } from '../../checks/errors.js'
import type { AccountCounters, KillScope, LimitScope, LimitSet, RiskControl } from '../../checks/risk-control.js'
import type { ProgrammaticReport, TradingState } from '../../checks/risk-layout.js'
import { ConfigError, type AppStatus, type GatewayConfig } from '../../config/config.js'
import { loadConfigFile } from '../../config/load.js'
import { LANE_NAMES, type LaneName } from '../../protocol/lanes.js'
import { limitSetFromConfig } from '../../config/risk-config.js'
import type { AccessControl } from '../access/access-control.js'
import { EVIDENCE_COMMANDS, type AdminChangeDocument, type CertificationRecord, type EvidenceMetadata, type ExpirySuspensionDetail } from '../../journal/gateway-records.js'
import { AdminError, adminErrorCodes, type AdminApi, type AppInfo, type AppRegistration, type ChangeReply, type EvidenceListing, type EvidenceRequest, type FieldChange } from './admin-api.js'
import { EvidenceError, type EvidenceStore } from '../evidence/evidence-store.js'
import { daysToExpiry, isExpired, isExpiringWithin } from '../evidence/evidence-expiry.js'
import { CertificationReportSchema, MAX_CERTIFICATION_REPORT_BYTES, type CertificationReport } from '../../protocol/certification-report.js'
import { readBoundedFile } from '../../journal/read-bounded-file.js'
import { basename } from 'node:path'
import type { LaneRequests, SessionInfo } from '../../lane/worker-contract.js'
import type { AdminState, AdminStateDocument } from './admin-state.js'
import { PendingChanges, isRefusal, type DualControlChange, type PendingRequest } from '../../compliance/dual-control.js'
import { AccountDiligence, missingReportContents, utcDate, type Diligence, type DiligenceView } from './account-diligence.js'
import { needsAlert, type FilingClock } from '../../compliance/filing-clocks.js'
import { monitorLevels, type MonitorLevel } from '../../checks/monitor-levels.js'
import type { PendingInfo, ReportStep } from './admin-api.js'

/** Limits whose number is a mode or a flag, not an amount: changing them is never a "raise". */
const NOT_AMOUNTS: ReadonlySet<LimitName> = new Set(['selfMatchMode', 'cancelOnDisconnect'] as LimitName[])

type Software = GatewayConfig['software'][number]

/** What the admin side needs of the supervisor. */
export interface AdminHost {
  /** The config the gateway started with. */
  readonly config: GatewayConfig
  readonly risk: RiskControl
  readonly access: AccessControl
  readonly state: AdminState
  /** The evidence store's files (<runDir>/evidence). */
  readonly evidence: EvidenceStore
  /** Wall-clock now, ms since the epoch: what expiry is judged against. */
  nowMs (): number
  /** Journals a change (throws if it cannot). */
  recordChange (doc: AdminChangeDocument, account?: string): void
  setKillSwitch (scope: KillScope, on: boolean, options: { massCancel?: boolean, operator?: string, detail?: Record<string, unknown> }): Promise<{ before: boolean, after: boolean, cancelsSent: number }>
  /** Asks every lane thread (or those named); resolves with each lane's answer. */
  /** accounts move (cluster/account-handover.ts). */
  moveAccount (operator: string, account: string, to: string, options: { drainTimeoutMs?: number }): Promise<Array<{ step: string, at: string, detail: Record<string, unknown> }>>
  askLanes<K extends keyof LaneRequests & string> (kind: K, args: LaneRequests[K]['args'], lanes?: readonly LaneName[]): Promise<Array<LaneRequests[K]['reply']>>
}

/** A limit value as replies, the journal and the state file show it. */
function shown (value: LimitValue): number | null | 'inherit' {
  return value === undefined ? 'inherit' : value
}

function scopeKey (scope: LimitScope | KillScope): string {
  return JSON.stringify(scope)
}

function notFound (message: string): AdminError {
  return new AdminError(adminErrorCodes.NOT_FOUND, message)
}

function refused (message: string): AdminError {
  return new AdminError(adminErrorCodes.REFUSED, message)
}

/** RiskControl's errors to the admin codes: an unknown name is NOT_FOUND, the rest REFUSED. */
function translate (err: unknown): never {
  if (err instanceof AdminError) throw err
  if (err instanceof RiskControlError) throw new AdminError(err.code.includes('UNKNOWN') ? adminErrorCodes.NOT_FOUND : adminErrorCodes.REFUSED, err.message, { cause: err })
  throw refused((err as Error).message)
}

function evidenceRefusal (err: unknown): AdminError {
  if (err instanceof EvidenceError) {
    return new AdminError(err.code === 'GH_ERR_EVIDENCE_TOO_LARGE' ? adminErrorCodes.EVIDENCE_TOO_LARGE : adminErrorCodes.EVIDENCE_UNREADABLE, `${err.message}; nothing was recorded`, { cause: err })
  }
  return new AdminError(adminErrorCodes.EVIDENCE_UNREADABLE, `${(err as Error).message}; nothing was recorded`, { cause: err })
}

/** Arguments as JSON keeps them (an unset limit, undefined, shows as "inherit"). */
function jsonSafe (args: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(args, (_key, value: unknown) => value === undefined ? 'inherit' : value)) as Record<string, unknown>
}

/** The registration as the journal may show it: the AuthCode is a secret. */
function publicApp (software: Software): Record<string, unknown> {
  return { ...software, authCode: '***' }
}

/**
 * A change that is part of a cluster's control fan-out
 * (supervisor/admin/control-fanout.ts): its ID and origin go into every record it
 * makes, on the instance that made it and on every one that applied it.
 */
export interface ControlContext {
  changeId: string
  /** The gatewayId of the instance where the operator made the change. */
  origin: string
  /**
   * How a change that came from another instance is gated: 'applied' is
   * not gated again (it was at the origin, or approved there); 'held'
   * becomes a pending request here too, under the origin's request ID and
   * its requester's bare name (so the requester cannot approve it on
   * another instance either). Absent: a change made on this instance.
   */
  received?: { mode: 'applied', approval?: { requestId: string, requestedBy: string, approvedBy: string } } | { mode: 'held', requestId: string, requestedBy: string }
}

export class SupervisorAdmin implements AdminApi {
  /** The config in force: the start config, then the last reloaded file. */
  private current: GatewayConfig
  private readonly pending: PendingChanges
  /** Set while an approved request is applied: the change goes through, and its record names the request. */
  private approving: { requestId: string, requestedBy: string, approvedBy: string } | null = null
  /** Set while a change of the cluster's control fan-out is made (withControl). */
  private control: ControlContext | null = null
  readonly diligence: AccountDiligence

  constructor (private readonly host: AdminHost, private readonly nowMs: () => number = Date.now) {
    this.current = host.config
    // Request IDs carry the start second, so IDs of different runs never meet in the journal.
    this.pending = new PendingChanges(`dc${Math.floor(nowMs() / 1000).toString(36)}`)
    this.diligence = new AccountDiligence(host.config, () => this.host.state.doc.diligence ?? {})
  }

  // ---- cluster control fan-out ----------------------------------------------

  /**
   * Runs `change` (one of this class's change methods) as part of a
   * fanned-out change: its records carry the change ID and origin, and a
   * change received from another instance is gated as `received` says.
   * Changes run one at a time (the admin server's queue), so one context
   * is enough. (A record made meanwhile by something that is not a change,
   * e.g. the expiry sweep while a mass-cancel awaits the lanes, carries it
   * too: it only labels that record.)
   */
  async withControl<T> (context: ControlContext, change: () => Promise<T>): Promise<T> {
    this.control = context
    const received = context.received
    if (received?.mode === 'applied' && received.approval !== undefined) {
      // Approved on another instance: this instance's copy of the request is done with.
      this.pending.takeForRejection(received.approval.requestId)
      this.approving = { ...received.approval }
    }
    try {
      return await change()
    } finally {
      this.control = null
      if (received?.mode === 'applied' && received.approval !== undefined) this.approving = null
    }
  }

  /** The record detail naming the fanned-out change, or nothing. */
  private controlDetail (): Record<string, unknown> | undefined {
    return this.control === null ? undefined : { control: { changeId: this.control.changeId, origin: this.control.origin } }
  }

  // ---- recording ------------------------------------------------------------

  /** Journals, then persists; both must succeed for the change to be reported as recorded. */
  private record (doc: AdminChangeDocument, account = ''): void {
    if (this.approving !== null) doc = { ...doc, detail: { ...doc.detail, dualControl: { ...this.approving } } }
    if (this.control !== null) doc = { ...doc, detail: { ...doc.detail, ...this.controlDetail() } }
    try {
      this.host.recordChange(doc, account)
      this.host.state.save()
    } catch (err) {
      throw new AdminError(adminErrorCodes.NOT_RECORDED, `${doc.command} was applied but not recorded: ${(err as Error).message}`, { cause: err })
    }
  }

  // ---- dual control -------------------------------------------------------------

  /**
   * For a change that may need a second operator: null when it goes ahead
   * now (not configured, or being applied after approval), else the reply
   * to give, a pending request (journaled as dual-control-request).
   */
  private gate (operator: string, change: DualControlChange, command: string, args: Record<string, unknown>, summary: string): ChangeReply | null {
    const received = this.control?.received
    if (received?.mode === 'applied') return null
    const held = received?.mode === 'held' ? received : undefined
    if (held === undefined && (this.approving !== null || !this.current.compliance.dualControl.requireFor[change])) return null
    this.sweepExpired()
    const request = this.pending.add(change, command, args, summary, held?.requestedBy ?? operator, this.nowMs(), this.current.compliance.dualControl.windowMs, held?.requestId)
    const account = typeof args.account === 'string' ? args.account : ''
    this.recordStep({ operator, command: 'dual-control-request', scope: { kind: 'dual-control', requestId: request.requestId }, before: null, after: this.pendingInfo(request), detail: { change, effect: command, args: jsonSafe(args) } }, account)
    return { changes: [], detail: { pending: this.pendingInfo(request) } }
  }

  /** Journals a step that changes no state file (dual control). */
  private recordStep (doc: AdminChangeDocument, account = ''): void {
    if (this.control !== null) doc = { ...doc, detail: { ...doc.detail, ...this.controlDetail() } }
    try {
      this.host.recordChange(doc, account)
    } catch (err) {
      throw new AdminError(adminErrorCodes.NOT_RECORDED, `${doc.command} could not be journaled: ${(err as Error).message}`, { cause: err })
    }
  }

  private pendingInfo (request: PendingRequest): PendingInfo {
    return {
      requestId: request.requestId,
      change: request.change,
      summary: request.summary,
      requestedBy: request.requestedBy,
      requestedAt: new Date(request.requestedAtMs).toISOString(),
      expiresAt: new Date(request.expiresAtMs).toISOString(),
    }
  }

  /** Journals each request whose window has passed (dual-control-expired), once. */
  sweepExpired (): void {
    for (const request of this.pending.sweep(this.nowMs())) {
      this.recordStep({ operator: 'gateway', command: 'dual-control-expired', scope: { kind: 'dual-control', requestId: request.requestId }, before: 'pending', after: 'expired', detail: { change: request.change, requestedBy: request.requestedBy } })
    }
  }

  listPending (): PendingInfo[] {
    this.sweepExpired()
    return this.pending.list().map((r) => this.pendingInfo(r))
  }

  async approvePending (operator: string, requestId: string): Promise<ChangeReply> {
    this.sweepExpired()
    const taken = this.pending.takeForApproval(requestId, operator, this.nowMs())
    if (isRefusal(taken)) {
      if (taken.refused === 'not-found') throw notFound(`no pending request ${requestId}; admin pending list shows those waiting`)
      if (taken.refused === 'self-approval') {
        this.recordStep({ operator, command: 'dual-control-refused', scope: { kind: 'dual-control', requestId }, before: 'pending', after: 'pending', detail: { code: adminErrorCodes.SELF_APPROVAL } })
        throw new AdminError(adminErrorCodes.SELF_APPROVAL, `${operator} made request ${requestId} and cannot approve it; a second operator must`)
      }
      this.recordStep({ operator, command: 'dual-control-refused', scope: { kind: 'dual-control', requestId }, before: 'expired', after: 'expired', detail: { code: adminErrorCodes.REQUEST_EXPIRED } })
      throw new AdminError(adminErrorCodes.REQUEST_EXPIRED, `request ${requestId} expired at ${new Date(taken.request.expiresAtMs).toISOString()}; nothing was changed. Make the change again`)
    }
    const request = taken
    const account = typeof request.args.account === 'string' ? request.args.account : ''
    this.recordStep({ operator, command: 'dual-control-approve', scope: { kind: 'dual-control', requestId }, before: 'pending', after: 'approved', detail: { change: request.change, requestedBy: request.requestedBy, effect: request.command } }, account)
    this.approving = { requestId, requestedBy: request.requestedBy, approvedBy: operator }
    try {
      const reply = await this.applyRequest(request)
      return { ...reply, detail: { ...reply.detail, approved: requestId } }
    } finally {
      this.approving = null
    }
  }

  /** The change a request holds, through the same method a single operator's change runs. */
  private async applyRequest (request: PendingRequest): Promise<ChangeReply> {
    const a = request.args as Record<string, never>
    switch (request.change) {
      case 'appProduction': return this.setAppStatus(request.requestedBy, a.appId, 'production')
      case 'limitRaise': return this.setLimits(request.requestedBy, a.scope, a.values)
      case 'globalKillLift': return await this.setKillSwitch(request.requestedBy, { kind: 'global' }, false, false)
      case 'fingerprintApproval': return this.decideFingerprint(request.requestedBy, a.account, a.fingerprintId, true)
    }
  }

  rejectPending (operator: string, requestId: string): ChangeReply {
    this.sweepExpired()
    const taken = this.pending.takeForRejection(requestId)
    if ('refused' in taken) throw notFound(`no pending request ${requestId}; admin pending list shows those waiting`)
    const account = typeof taken.args.account === 'string' ? taken.args.account : ''
    this.recordStep({ operator, command: 'dual-control-reject', scope: { kind: 'dual-control', requestId }, before: 'pending', after: 'rejected', detail: { change: taken.change, requestedBy: taken.requestedBy } }, account)
    return { changes: [{ field: 'request', before: 'pending', after: 'rejected' }] }
  }

  // ---- client due diligence ---------------------------------------------------

  showDiligence (account: string | undefined): DiligenceView[] {
    const ids = account === undefined ? this.host.access.accountIds() : [account]
    if (account !== undefined && this.host.access.account(account) === undefined) throw notFound(`no account ${account}`)
    const today = utcDate(this.nowMs())
    return ids.map((id) => {
      const acc = this.host.access.account(id)!
      const diligence = this.diligence.of(id)
      return {
        account: id,
        lanes: [...acc.lanes],
        appIds: [...acc.appIds],
        knownTerminals: this.listFingerprints(id),
        programmaticReport: this.host.risk.counters(id).programmaticReport,
        diligence,
        missingContents: missingReportContents(diligence),
        clocks: this.diligence.clocks(id, today),
      }
    })
  }

  private storeDiligence (operator: string, account: string, command: string, before: Diligence, after: Diligence): ChangeReply {
    const all = this.host.state.doc.diligence ??= {}
    all[account] = after
    this.record({ operator, command, scope: { kind: 'account', account }, before, after }, account)
    const changes: FieldChange[] = []
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)]) as Set<keyof Diligence>) {
      if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) changes.push({ field: key, before: before[key] ?? null, after: after[key] ?? null })
    }
    return { changes }
  }

  setDiligence (operator: string, account: string, fields: Pick<Diligence, 'executionMethod' | 'software'>): ChangeReply {
    if (this.host.access.account(account) === undefined) throw notFound(`no account ${account}`)
    const before = this.diligence.of(account)
    const after: Diligence = { ...before }
    if (fields.executionMethod !== undefined) after.executionMethod = fields.executionMethod
    if (fields.software !== undefined) after.software = structuredClone(fields.software)
    return this.storeDiligence(operator, account, 'diligence', before, after)
  }

  reportStep (operator: string, account: string, step: ReportStep, date: string | undefined): ChangeReply {
    if (this.host.access.account(account) === undefined) throw notFound(`no account ${account}`)
    const on = date ?? utcDate(this.nowMs())
    const before = this.diligence.of(account)
    const after: Diligence = { ...before }
    switch (step) {
      case 'receive': {
        const missing = missingReportContents(before)
        if (missing.length > 0) throw refused(`the report of ${account} lacks ${missing.join(' and ')}; record them first (accounts diligence set)`)
        after.reportReceivedOn = on
        after.filedOn = null
        after.confirmedOn = null
        break
      }
      case 'file':
        if (before.reportReceivedOn == null) throw refused(`no report of ${account} has been received (accounts report receive)`)
        if (on < before.reportReceivedOn) throw refused(`the filing date ${on} is before the report was received (${before.reportReceivedOn})`)
        after.filedOn = on
        break
      case 'confirm':
        if (before.filedOn == null) throw refused(`the report of ${account} has not been filed with the exchange (accounts report file)`)
        if (on < before.filedOn) throw refused(`the confirmation date ${on} is before the filing (${before.filedOn})`)
        after.confirmedOn = on
        break
      case 'change':
        after.materialChangeOn = on
        after.materialChangeReportedOn = null
        break
      case 'change-reported':
        if (before.materialChangeOn == null) throw refused(`no material change of ${account} is recorded (accounts report change)`)
        after.materialChangeReportedOn = on
        break
    }
    const reply = this.storeDiligence(operator, account, `report-${step}`, before, after)
    // The status the pre-trade checks read follows the report: filed once
    // filed, confirmed once the exchange confirmed. One path: the same
    // method the programmatic-report command runs.
    const status = step === 'confirm' ? 'confirmed' : step === 'file' ? 'filed' : undefined
    if (status !== undefined) {
      const pr = this.setProgrammaticReport(operator, account, status)
      reply.changes.push(...pr.changes)
    }
    return reply
  }

  listClocks (alertsOnly: boolean): FilingClock[] {
    const clocks = this.diligence.allClocks(this.host.access.accountIds(), utcDate(this.nowMs()))
    return alertsOnly ? clocks.filter(needsAlert) : clocks
  }

  // ---- limits, states, switches ---------------------------------------------

  showLimits (scope: LimitScope): Record<string, LimitValue | 'inherit'> {
    try {
      return this.host.risk.limitsAt(scope)
    } catch (err) {
      translate(err)
    }
  }

  setLimits (operator: string, scope: LimitScope, values: LimitSet): ChangeReply {
    const raised = this.raisedLimits(scope, values)
    if (raised.length > 0) {
      const pending = this.gate(operator, 'limitRaise', 'set-limits', { scope, values, ...('account' in scope ? { account: scope.account } : {}) },
        `raise ${raised.join(', ')} at ${scopeKey(scope)} above ${this.current.compliance.dualControl.limitRaiseFactor}× the current value`)
      if (pending !== null) return pending
    }
    let applied: Partial<Record<LimitName, { before: LimitValue, after: LimitValue }>>
    try {
      applied = this.host.risk.setLimits(scope, values)
    } catch (err) {
      translate(err)
    }
    const changes: FieldChange[] = []
    const stored = this.host.state.doc.limits[scopeKey(scope)] ??= {}
    for (const [name, change] of Object.entries(applied)) {
      stored[name] = shown(change.after)
      if (change.before !== change.after && !(Number.isNaN(change.before) && Number.isNaN(change.after))) {
        changes.push({ field: name, before: shown(change.before), after: shown(change.after) })
      }
    }
    this.record({ operator, command: 'set-limits', scope: { ...scope }, before: Object.fromEntries(changes.map((c) => [c.field, c.before])), after: Object.fromEntries(changes.map((c) => [c.field, c.after])) },
      'account' in scope ? scope.account : '')
    return { changes }
  }

  /** The limits in `values` raised past limitRaiseFactor × their value at this scope (or to no limit). */
  private raisedLimits (scope: LimitScope, values: LimitSet): string[] {
    let current: LimitSet
    try {
      current = this.host.risk.limitsAt(scope)
    } catch {
      return [] // an unknown scope: setLimits refuses it with its own message
    }
    const factor = this.current.compliance.dualControl.limitRaiseFactor
    const raised: string[] = []
    for (const [name, next] of Object.entries(values) as Array<[LimitName, LimitValue]>) {
      const now = current[name]
      if (NOT_AMOUNTS.has(name) || typeof now !== 'number' || next === undefined) continue
      if (next === null || next > now * factor) raised.push(name)
    }
    return raised
  }

  async moveAccount (operator: string, account: string, to: string, drainTimeoutMs?: number): Promise<{ steps: Array<{ step: string, at: string, detail: Record<string, unknown> }> }> {
    return { steps: await this.host.moveAccount(operator, account, to, drainTimeoutMs === undefined ? {} : { drainTimeoutMs }) }
  }

  setTradingState (operator: string, account: string, state: TradingState): ChangeReply {
    let change: { before: TradingState, after: TradingState }
    try {
      change = this.host.risk.setTradingState(account, state)
    } catch (err) {
      translate(err)
    }
    this.host.state.doc.tradingStates[account] = state
    this.record({ operator, command: 'trading-state', scope: { kind: 'account', account }, before: change.before, after: change.after }, account)
    return { changes: change.before === change.after ? [] : [{ field: 'tradingState', before: change.before, after: change.after }] }
  }

  setProgrammaticReport (operator: string, account: string, status: ProgrammaticReport): ChangeReply {
    let change: { before: ProgrammaticReport, after: ProgrammaticReport }
    try {
      change = this.host.risk.setProgrammaticReport(account, status)
    } catch (err) {
      translate(err)
    }
    this.host.state.doc.programmaticReports[account] = status
    this.record({ operator, command: 'programmatic-report', scope: { kind: 'account', account }, before: change.before, after: change.after }, account)
    return { changes: change.before === change.after ? [] : [{ field: 'programmaticReport', before: change.before, after: change.after }] }
  }

  async setKillSwitch (operator: string, scope: KillScope, on: boolean, massCancel: boolean): Promise<ChangeReply> {
    if (scope.kind === 'account' && this.host.risk.accountIndex(scope.account) === undefined) throw notFound(`no account ${scope.account}`)
    if (scope.kind === 'global' && !on && this.host.risk.killSwitch(scope)) {
      const pending = this.gate(operator, 'globalKillLift', 'kill-switch', { scope }, 'lift the global kill switch')
      if (pending !== null) return pending
    }
    let change: { before: boolean, after: boolean, cancelsSent: number }
    try {
      // Journaled by the supervisor itself, before the mass-cancel.
      const detail = this.controlDetail()
      change = await this.host.setKillSwitch(scope, on, { massCancel, operator, ...(detail === undefined ? {} : { detail }) })
    } catch (err) {
      translate(err)
    }
    const key = scopeKey(scope)
    const switches = this.host.state.doc.killSwitches.filter((k) => k !== key)
    // What is in force now, not `on`: the mass-cancel awaited the lanes,
    // and the store must match the shared state whatever ran meanwhile.
    if (this.host.risk.killSwitch(scope)) switches.push(key)
    this.host.state.doc.killSwitches = switches
    try {
      this.host.state.save()
    } catch (err) {
      throw new AdminError(adminErrorCodes.NOT_RECORDED, `the kill switch was set but not persisted: ${(err as Error).message}`, { cause: err })
    }
    return {
      changes: change.before === change.after ? [] : [{ field: 'killSwitch', before: change.before, after: change.after }],
      detail: massCancel ? { cancelsSent: change.cancelsSent } : {},
    }
  }

  counters (account: string): AccountCounters & { monitors: MonitorLevel[] } {
    let counters: AccountCounters
    try {
      counters = this.host.risk.counters(account)
    } catch (err) {
      translate(err)
    }
    const lane = this.host.access.account(account)?.lanes[0] ?? 'platform'
    const monitors = monitorLevels(this.host.risk, lane, account, counters)
    return { ...counters, monitors }
  }

  // ---- sessions --------------------------------------------------------------

  async listSessions (filter: { lane?: LaneName, account?: string }): Promise<SessionInfo[]> {
    const perLane = await this.host.askLanes('list-sessions', null, filter.lane === undefined ? undefined : [filter.lane])
    return perLane.flat().filter((s) => filter.account === undefined || s.account === filter.account)
  }

  async disconnectSession (operator: string, sessionId: number, reason: string): Promise<ChangeReply> {
    // Session IDs say nothing about their lane (session-ids.ts): the lanes' listings do.
    const lane = (await this.listSessions({})).find((session) => session.sessionId === sessionId)?.lane
    if (lane === undefined) throw notFound(`no session ${sessionId}`)
    const [found] = await this.host.askLanes('disconnect', { sessionId, reason }, [lane])
    if (found !== true) throw notFound(`no session ${sessionId} on the ${lane} lane (it may have closed already)`)
    try {
      this.host.recordChange({ operator, command: 'disconnect', scope: { kind: 'session', lane, sessionId }, before: 'connected', after: 'disconnected', detail: { reason } })
    } catch (err) {
      throw new AdminError(adminErrorCodes.NOT_RECORDED, `the session was disconnected but not journaled: ${(err as Error).message}`, { cause: err })
    }
    return { changes: [{ field: 'session', before: 'connected', after: 'disconnected' }] }
  }

  // ---- AppID registry ----------------------------------------------------------

  listApps (): AppInfo[] {
    const accounts = this.host.access.accountIds()
    return this.host.access.apps().map((app) => ({
      appId: app.appId,
      vendor: app.vendor,
      name: app.name,
      version: app.version,
      status: app.status,
      assessment: app.assessment,
      accounts: accounts.filter((id) => this.host.access.account(id)!.appIds.includes(app.appId)),
      evidence: this.host.state.doc.evidence[app.appId] ?? [],
      certification: this.host.state.doc.certifications[app.appId] ?? null,
      accessTest: this.accessTestOf(app),
    }))
  }

  /** A passing certification record is what counts; a typed config date is legacy. */
  private accessTestOf (app: Software): AppInfo['accessTest'] {
    if (this.host.state.doc.certifications[app.appId]?.passed === true) return 'certified'
    return app.assessment.accessTestPassed === null ? 'none' : 'legacy-date'
  }

  private requireApp (appId: string): Software {
    const app = this.host.access.app(appId)
    if (app === undefined) throw notFound(`no AppID ${appId}; register it first (apps register)`)
    return app
  }

  /** Keeps the persisted copy of a registration current. */
  private storeApp (app: Software): void {
    const software = this.host.state.doc.software.filter((s) => s.appId !== app.appId)
    software.push(structuredClone(app))
    this.host.state.doc.software = software
  }

  registerApp (operator: string, registration: AppRegistration): ChangeReply {
    if (this.host.access.app(registration.appId) !== undefined) throw refused(`AppID ${registration.appId} is already registered; change it with apps status or apps evidence`)
    if (registration.status === 'production') throw refused('a new AppID cannot start in production: it needs a passing certification first (gatehouse certify, then apps certify-record), then apps status production')
    try {
      this.host.risk.registerApp(registration.appId)
    } catch (err) {
      translate(err)
    }
    const app: Software = { ...registration, assessment: { documents: [], accessTestPassed: null } }
    this.host.access.putApp(app)
    this.storeApp(app)
    this.record({ operator, command: 'app-register', scope: { kind: 'app', appId: app.appId }, before: null, after: publicApp(app) })
    return { changes: [{ field: 'registration', before: null, after: publicApp(app) }] }
  }

  addAppEvidence (operator: string, appId: string, evidence: { document?: { name: string, expires: string }, accessTestPassed?: string }): ChangeReply {
    const current = this.requireApp(appId)
    if (evidence.accessTestPassed !== undefined) {
      throw refused(`a typed access-testing date is no longer accepted: run gatehouse certify against the test environment as ${appId}, then record its report (apps certify-record --app-id ${appId} --report FILE); nothing was changed`)
    }
    const before = structuredClone(current.assessment)
    const assessment = structuredClone(current.assessment)
    if (evidence.document !== undefined) assessment.documents = [...assessment.documents.filter((d) => d.name !== evidence.document!.name), evidence.document]
    if (evidence.accessTestPassed !== undefined) assessment.accessTestPassed = evidence.accessTestPassed
    const app = { ...current, assessment }
    this.host.access.putApp(app)
    this.storeApp(app)
    this.record({ operator, command: 'app-evidence', scope: { kind: 'app', appId }, before, after: assessment })
    return { changes: [{ field: 'assessment', before, after: assessment }] }
  }

  setAppStatus (operator: string, appId: string, status: AppStatus): ChangeReply {
    const current = this.requireApp(appId)
    if (status === 'production' && current.status !== 'production' && this.host.state.doc.certifications[appId]?.passed !== true) {
      const last = this.host.state.doc.certifications[appId]
      throw refused(last === undefined
        ? `AppID ${appId} has no certification record; run gatehouse certify against the test environment and record its report (apps certify-record) first`
        : `AppID ${appId}'s last certification (${last.finishedAt}) failed step${last.steps.filter((x) => !x.passed).length > 1 ? 's' : ''} ${last.steps.filter((x) => !x.passed).map((x) => x.id).join(', ')}; certify again and record a passing report first`)
    }
    if (status === 'production' && current.status !== 'production') {
      const pending = this.gate(operator, 'appProduction', 'app-status', { appId }, `promote AppID ${appId} to production`)
      if (pending !== null) return pending
    }
    const app = { ...current, status }
    this.host.access.putApp(app)
    this.storeApp(app)
    this.record({ operator, command: 'app-status', scope: { kind: 'app', appId }, before: current.status, after: status })
    return { changes: current.status === status ? [] : [{ field: 'status', before: current.status, after: status }] }
  }

  // ---- evidence store -----------------------------------------------------------

  addEvidenceFile (operator: string, request: EvidenceRequest): ChangeReply {
    this.requireApp(request.appId)
    let stored: { sha256: string, sizeBytes: number }
    try {
      stored = this.host.evidence.addFile(request.path)
    } catch (err) {
      throw evidenceRefusal(err)
    }
    const metadata: EvidenceMetadata = {
      appId: request.appId,
      sha256: stored.sha256,
      sizeBytes: stored.sizeBytes,
      kind: request.kind,
      issuer: request.issuer,
      issued: request.issued,
      expires: request.expires,
      addedBy: operator,
      addedAt: new Date(this.host.nowMs()).toISOString(),
      sourceName: basename(request.path),
    }
    return this.keepEvidence(metadata)
  }

  /** Adds a document's metadata (journaled first); the same bytes already kept for the AppID change nothing. */
  private keepEvidence (metadata: EvidenceMetadata): ChangeReply {
    const list = this.host.state.doc.evidence[metadata.appId] ?? []
    const known = list.find((d) => d.sha256 === metadata.sha256)
    if (known !== undefined) return { changes: [], detail: { sha256: known.sha256, alreadyStored: true } }
    this.host.state.doc.evidence[metadata.appId] = [...list, metadata]
    this.record({ operator: metadata.addedBy, command: EVIDENCE_COMMANDS.ADD, scope: { kind: 'app', appId: metadata.appId }, before: null, after: metadata })
    return { changes: [{ field: 'evidence', before: null, after: metadata }], detail: { sha256: metadata.sha256, alreadyStored: false } }
  }

  listEvidence (filter: { appId?: string, expiring?: boolean }): EvidenceListing[] {
    if (filter.appId !== undefined) this.requireApp(filter.appId)
    const nowMs = this.host.nowMs()
    const days = this.host.config.evidence.expiryWarningDays
    const rows: EvidenceListing[] = []
    for (const [appId, documents] of Object.entries(this.host.state.doc.evidence)) {
      if (filter.appId !== undefined && appId !== filter.appId) continue
      for (const d of documents) {
        const state = d.expires === null ? 'no-expiry' : isExpired(d.expires, nowMs) ? 'expired' : isExpiringWithin(d.expires, nowMs, days) ? 'expiring' : 'current'
        if (filter.expiring === true && state !== 'expired' && state !== 'expiring') continue
        rows.push({ ...d, daysToExpiry: daysToExpiry(d.expires, nowMs), state })
      }
    }
    return rows
  }

  recordCertification (operator: string, appId: string, reportPath: string, htmlPath?: string): ChangeReply {
    this.requireApp(appId)
    let bytes: Buffer
    try {
      bytes = readBoundedFile(reportPath, MAX_CERTIFICATION_REPORT_BYTES, 'certification report')
    } catch (err) {
      throw new AdminError(adminErrorCodes.EVIDENCE_UNREADABLE, (err as Error).message, { cause: err })
    }
    let report: CertificationReport
    try {
      const parsed = CertificationReportSchema.safeParse(JSON.parse(bytes.toString('utf8')))
      if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.') || '(report)'}: ${i.message}`).slice(0, 5).join('; '))
      report = parsed.data
    } catch (err) {
      throw refused(`${reportPath} is not a gatehouse certify JSON report: ${(err as Error).message}; nothing was recorded`)
    }
    if (report.appId !== appId) throw refused(`${reportPath} certifies AppID ${report.appId}, not ${appId}; nothing was recorded`)
    // Checked before anything is stored: a bad HTML path records nothing.
    let html: { sha256: string, sizeBytes: number } | null = null
    let stored: { sha256: string, sizeBytes: number }
    try {
      stored = this.host.evidence.addBytes(bytes)
      if (htmlPath !== undefined) html = this.host.evidence.addFile(htmlPath)
    } catch (err) {
      throw evidenceRefusal(err)
    }
    const at = new Date(this.host.nowMs()).toISOString()
    const issued = report.finishedAt.slice(0, 10)
    const changes: FieldChange[] = []
    const evidence = (sha256: string, sizeBytes: number, sourceName: string): EvidenceMetadata =>
      ({ appId, sha256, sizeBytes, kind: 'certification', issuer: `gatehouse certify (suite ${report.suiteVersion})`, issued, expires: null, addedBy: operator, addedAt: at, sourceName })
    changes.push(...this.keepEvidence(evidence(stored.sha256, stored.sizeBytes, basename(reportPath))).changes)
    if (html !== null && htmlPath !== undefined) changes.push(...this.keepEvidence(evidence(html.sha256, html.sizeBytes, basename(htmlPath))).changes)
    const before = this.host.state.doc.certifications[appId] ?? null
    const record: CertificationRecord = {
      appId,
      passed: report.passed,
      suiteVersion: report.suiteVersion,
      reportSha256: stored.sha256,
      url: report.url,
      account: report.account,
      startedAt: report.startedAt,
      finishedAt: report.finishedAt,
      steps: report.steps.map((x) => ({ id: x.id, passed: x.passed })),
      recordedBy: operator,
      recordedAt: at,
    }
    this.host.state.doc.certifications[appId] = record
    this.record({ operator, command: EVIDENCE_COMMANDS.CERTIFICATION, scope: { kind: 'app', appId }, before, after: record })
    changes.push({ field: 'certification', before, after: record })
    return { changes, detail: { passed: report.passed, failedSteps: report.steps.filter((x) => !x.passed).map((x) => x.id) } }
  }

  /**
   * Suspends an AppID whose document has expired: called by the gateway's
   * sweep, and only for an AppID not already suspended or revoked, so the
   * suspension is journaled once.
   */
  suspendForExpiry (appId: string, document: ExpirySuspensionDetail['document']): ChangeReply {
    const current = this.requireApp(appId)
    if (current.status === 'suspended' || current.status === 'revoked') return { changes: [] }
    const app = { ...current, status: 'suspended' as const }
    this.host.access.putApp(app)
    this.storeApp(app)
    const detail: ExpirySuspensionDetail = { cause: 'evidence-expired', document }
    this.record({ operator: 'gateway', command: EVIDENCE_COMMANDS.STATUS, scope: { kind: 'app', appId }, before: current.status, after: 'suspended', detail: { ...detail } })
    return { changes: [{ field: 'status', before: current.status, after: 'suspended' }], detail: { ...detail } }
  }

  bindApp (operator: string, appId: string, accountId: string, bound: boolean): ChangeReply {
    this.requireApp(appId)
    const account = this.host.access.account(accountId)
    if (account === undefined) throw notFound(`no account ${accountId}`)
    const before = [...account.appIds]
    const after = bound ? [...new Set([...before, appId])] : before.filter((id) => id !== appId)
    if (after.length === 0) throw refused(`account ${accountId} must stay bound to at least one AppID`)
    account.appIds = after
    this.host.state.doc.bindings[accountId] = after
    this.record({ operator, command: bound ? 'app-bind' : 'app-unbind', scope: { kind: 'account', account: accountId }, before, after }, accountId)
    return { changes: before.length === after.length ? [] : [{ field: 'appIds', before, after }] }
  }

  // ---- fingerprints ------------------------------------------------------------

  listFingerprints (account: string): Array<{ fingerprintId: string, status: string, firstSeen: string | null, lastSeen: string | null }> {
    if (this.host.access.account(account) === undefined) throw notFound(`no account ${account}`)
    const iso = (ms: number): string | null => ms === 0 ? null : new Date(ms).toISOString()
    return this.host.access.fingerprintHistory(account).map((f) => ({ fingerprintId: f.fingerprintId, status: f.status, firstSeen: iso(f.firstSeenMs), lastSeen: iso(f.lastSeenMs) }))
  }

  listAlerts (limit: number): Array<{ time: string, kind: string, lane: string | null, account: string | null, ip: string | null, text: string }> {
    return this.host.access.recentAlerts.slice(-limit).map((a) => ({ time: new Date(a.timeMs).toISOString(), kind: a.kind, lane: a.lane ?? null, account: a.account ?? null, ip: a.ip ?? null, text: a.text }))
  }

  decideFingerprint (operator: string, account: string, fingerprintId: string, approve: boolean): ChangeReply {
    if (this.host.access.account(account) === undefined) throw notFound(`no account ${account}`)
    const known = this.host.access.fingerprintHistory(account).find((f) => f.fingerprintId === fingerprintId)
    if (known === undefined) throw notFound(`account ${account} has no fingerprint ${fingerprintId}`)
    if (approve && known.status === 'held') {
      const pending = this.gate(operator, 'fingerprintApproval', 'fingerprint', { account, fingerprintId }, `approve held fingerprint ${fingerprintId.slice(0, 12)}… of ${account}`)
      if (pending !== null) return pending
    }
    const after = approve ? 'approved' : 'rejected'
    this.host.access.decideFingerprint(account, fingerprintId, approve)
    const stored = this.host.state.doc.fingerprints[account] ??= {}
    stored[fingerprintId] = after
    this.record({ operator, command: 'fingerprint', scope: { kind: 'fingerprint', account, fingerprintId }, before: known.status, after }, account)
    return { changes: known.status === after ? [] : [{ field: 'status', before: known.status, after }] }
  }

  // ---- config reload ---------------------------------------------------------------

  /**
   * Validates the whole file first (the same zod schema and cross-field
   * rules as at start), then applies what can change live: limits at every
   * scope, trading states, programmatic-report statuses, the AppID
   * registry and the accounts. Listeners, the exchange, the journal and
   * capacity need a restart; the reply says which of those differ.
   */
  reloadConfig (operator: string, path: string): ChangeReply {
    const current = this.current
    let next: GatewayConfig
    try {
      next = loadConfigFile(path)
    } catch (err) {
      if (err instanceof ConfigError) throw new AdminError(adminErrorCodes.REFUSED, `${path} was not applied: ${err.message}`, { cause: err })
      throw err
    }
    const risk = this.host.risk
    // Everything that can fail is checked before anything is applied.
    const newAccounts = next.accounts.filter((a) => risk.accountIndex(a.id) === undefined).length
    const newApps = next.software.filter((s) => risk.appIndex(s.appId) === undefined).length
    if (risk.accountCount() + newAccounts > risk.views.capacity.accounts || risk.appCount() + newApps > risk.views.capacity.appIds) {
      throw refused(`${path} was not applied: it adds ${newAccounts} accounts and ${newApps} AppIDs, past risk.capacity (a restart is needed to grow it)`)
    }
    const scopes = new Map<string, { scope: LimitScope, set: LimitSet }>()
    const addScope = (scope: LimitScope, set: LimitSet): void => { scopes.set(scopeKey(scope), { scope, set }) }
    const { limits } = next.risk
    addScope({ kind: 'global' }, limitSetFromConfig(limits.global))
    for (const lane of LANE_NAMES) addScope({ kind: 'lane', lane }, limitSetFromConfig(limits.lanes[lane] ?? {}))
    for (const [exchange, set] of Object.entries(limits.exchanges)) addScope({ kind: 'exchange', exchange: exchange as never }, limitSetFromConfig(set))
    for (const [appId, set] of Object.entries(limits.appIds)) addScope({ kind: 'app', appId }, limitSetFromConfig(set))
    for (const [account, set] of Object.entries(limits.accounts)) addScope({ kind: 'account', account }, limitSetFromConfig(set))
    for (const [account, bySymbol] of Object.entries(limits.accountInstruments)) {
      for (const [instrument, set] of Object.entries(bySymbol)) addScope({ kind: 'account-instrument', account, instrument }, limitSetFromConfig(set))
    }
    // Scopes the old state set that the new file does not: cleared.
    for (const { scope } of this.liveScopes(current)) if (!scopes.has(scopeKey(scope))) addScope(scope, {})

    for (const s of next.software) risk.registerApp(s.appId)
    for (const a of next.accounts) risk.registerAccount(a.id)
    // As at start: config may name an instrument before the exchange lists it.
    for (const { scope } of scopes.values()) if (scope.kind === 'account-instrument') risk.registerInstrument(scope.instrument)
    const changes: FieldChange[] = []
    const doc: AdminStateDocument = { ...this.host.state.doc, limits: {}, tradingStates: {}, programmaticReports: {}, software: [], bindings: {} }
    for (const { scope, set } of scopes.values()) {
      const full: LimitSet = {}
      for (const name of LIMIT_NAMES) full[name] = set[name]
      const applied = risk.setLimits(scope, full)
      const stored: Record<string, number | null | 'inherit'> = {}
      for (const [name, change] of Object.entries(applied)) {
        stored[name] = shown(change.after)
        const same = change.before === change.after || (Number.isNaN(change.before) && Number.isNaN(change.after))
        if (!same) changes.push({ field: `${scopeKey(scope)}.${name}`, before: shown(change.before), after: shown(change.after) })
      }
      doc.limits[scopeKey(scope)] = stored
    }
    for (const account of next.accounts) {
      const state = next.risk.tradingStates[account.id] ?? 'active'
      const ts = risk.setTradingState(account.id, state)
      if (ts.before !== ts.after) changes.push({ field: `${account.id}.tradingState`, before: ts.before, after: ts.after })
      doc.tradingStates[account.id] = state
      const pr = risk.setProgrammaticReport(account.id, account.programmaticReport)
      if (pr.before !== pr.after) changes.push({ field: `${account.id}.programmaticReport`, before: pr.before, after: pr.after })
      doc.programmaticReports[account.id] = account.programmaticReport
      doc.bindings[account.id] = [...account.appIds]
    }
    this.host.access.replaceRegistry(next.software, next.accounts)
    doc.software = structuredClone(next.software)
    this.host.state.doc = doc
    const restartOnly: string[] = (['lanes', 'ops', 'exchange', 'journal', 'admin', 'security', 'gatewayId', 'runDir'] as const)
      .filter((key) => JSON.stringify(current[key]) !== JSON.stringify(next[key]))
    if (JSON.stringify(current.risk.capacity) !== JSON.stringify(next.risk.capacity)) restartOnly.push('risk.capacity')
    this.current = next
    this.diligence.reconfigure(next)
    this.record({ operator, command: 'config-reload', scope: { kind: 'gateway', path }, before: null, after: { changes: changes.length }, detail: { changes, notAppliedUntilRestart: restartOnly } })
    return { changes, detail: { notAppliedUntilRestart: restartOnly } }
  }

  /** Scopes with limits set now (from the running config's scopes and the admin state), for reload to clear. */
  private liveScopes (current: GatewayConfig): Array<{ scope: LimitScope }> {
    const out: Array<{ scope: LimitScope }> = []
    for (const key of Object.keys(this.host.state.doc.limits)) out.push({ scope: JSON.parse(key) as LimitScope })
    const l = current.risk.limits
    for (const appId of Object.keys(l.appIds)) out.push({ scope: { kind: 'app', appId } })
    for (const account of Object.keys(l.accounts)) out.push({ scope: { kind: 'account', account } })
    for (const exchange of Object.keys(l.exchanges)) out.push({ scope: { kind: 'exchange', exchange: exchange as never } })
    for (const [account, bySymbol] of Object.entries(l.accountInstruments)) {
      for (const instrument of Object.keys(bySymbol)) out.push({ scope: { kind: 'account-instrument', account, instrument } })
    }
    return out
  }

  /**
   * At start: applies the persisted admin changes over the config, through
   * the same APIs. Returns what could not be applied (e.g. an account the
   * config no longer has), for the journal and the start log.
   */
  applyState (doc: AdminStateDocument): string[] {
    const skipped: string[] = []
    const risk = this.host.risk
    const attempt = (what: string, apply: () => void): void => {
      try {
        apply()
      } catch (err) {
        skipped.push(`${what}: ${(err as Error).message}`)
      }
    }
    for (const software of doc.software) {
      attempt(`AppID ${software.appId}`, () => {
        risk.registerApp(software.appId)
        this.host.access.putApp(structuredClone(software))
      })
    }
    // As at start and at reload: the exchange lists its instruments only
    // once the link is up, after this runs, so a switch or a limit kept for
    // an instrument names it before the reference data does.
    for (const key of [...Object.keys(doc.limits), ...doc.killSwitches]) {
      const scope = JSON.parse(key) as LimitScope | KillScope
      if (scope.kind === 'account-instrument' || scope.kind === 'instrument') attempt(`instrument ${scope.instrument}`, () => { risk.registerInstrument(scope.instrument) })
    }
    for (const [key, stored] of Object.entries(doc.limits)) {
      const set: LimitSet = {}
      for (const [name, value] of Object.entries(stored)) set[name as LimitName] = value === 'inherit' ? undefined : value
      attempt(`limits at ${key}`, () => { risk.setLimits(JSON.parse(key) as LimitScope, set) })
    }
    for (const [account, state] of Object.entries(doc.tradingStates)) attempt(`trading state of ${account}`, () => { risk.setTradingState(account, state) })
    for (const [account, status] of Object.entries(doc.programmaticReports)) attempt(`programmatic report of ${account}`, () => { risk.setProgrammaticReport(account, status) })
    for (const key of doc.killSwitches) attempt(`kill switch ${key}`, () => { risk.setKillSwitch(JSON.parse(key) as KillScope, true) })
    for (const [accountId, appIds] of Object.entries(doc.bindings)) {
      const account = this.host.access.account(accountId)
      if (account === undefined) skipped.push(`bindings of ${accountId}: no such account`)
      else account.appIds = [...appIds]
    }
    for (const [account, decisions] of Object.entries(doc.fingerprints)) {
      if (this.host.access.account(account) === undefined) {
        skipped.push(`fingerprints of ${account}: no such account`)
        continue
      }
      for (const [id, status] of Object.entries(decisions)) this.host.access.setFingerprintStatus(account, id, status)
    }
    return skipped
  }
}
