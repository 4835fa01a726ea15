// What the admin socket can ask of the gateway: the supervisor implements
// this, the admin socket server (admin-server.ts) validates each request
// and calls it. Every method that changes something takes the operator,
// journals the change with before and after values (supervisor stream),
// persists it (admin-state.ts) and returns what changed. Failures throw
// AdminError with a stable code and a message that says what to do.
import type { AccountCounters, KillScope, LimitScope, LimitSet } from '../../checks/risk-control.js'
import type { LimitName, LimitValue } from '../../checks/limits.js'
import type { ProgrammaticReport, TradingState } from '../../checks/risk-layout.js'
import type { AppStatus } from '../../config/config.js'
import type { LaneName } from '../../protocol/lanes.js'
import type { SessionInfo } from '../../lane/worker-contract.js'
import type { ErrorCode } from '../../protocol/error-codes.js'
import { GatehouseError } from '../../protocol/gatehouse-error.js'
import type { CertificationRecord, EvidenceKind, EvidenceMetadata } from '../../journal/gateway-records.js'
import type { DiligenceView, Diligence } from './account-diligence.js'
import type { FilingClock } from '../../compliance/filing-clocks.js'

export const adminErrorCodes = {
  /** The request is not valid (shape, types, unknown command): nothing was changed. */
  BAD_REQUEST: 'GH_ERR_ADMIN_BAD_REQUEST',
  /** An account, AppID, session, fingerprint or instrument that does not exist. */
  NOT_FOUND: 'GH_ERR_ADMIN_NOT_FOUND',
  /** The change is well-formed but not allowed (e.g. a limit value out of range, an invalid config reload). */
  REFUSED: 'GH_ERR_ADMIN_REFUSED',
  /** The change was applied but could not be journaled or persisted. */
  NOT_RECORDED: 'GH_ERR_ADMIN_NOT_RECORDED',
  /** A document for the evidence store is larger than evidence.maxFileBytes. */
  EVIDENCE_TOO_LARGE: 'GH_ERR_EVIDENCE_TOO_LARGE',
  /** A document for the evidence store cannot be read or stored. */
  EVIDENCE_UNREADABLE: 'GH_ERR_EVIDENCE_UNREADABLE',
  /** A dual-control request approved by the operator who made it. */
  SELF_APPROVAL: 'GH_ERR_ADMIN_SELF_APPROVAL',
  /** A dual-control request approved after its window. */
  REQUEST_EXPIRED: 'GH_ERR_ADMIN_REQUEST_EXPIRED',
  /** accounts move: the directory is not a NATS KV bucket (or the cluster is off). */
  MOVE_NEEDS_KV: 'GH_ERR_MOVE_NEEDS_KV',
  /** accounts move: refused before any step (account not held here, unknown target, ...). */
  MOVE_REFUSED: 'GH_ERR_MOVE_REFUSED',
  /** accounts move: NATS is not connected. */
  MOVE_NATS_DOWN: 'GH_ERR_MOVE_NATS_DOWN',
  /** accounts move: working orders were left after the drain timeout; the account stays halted here. */
  MOVE_NOT_DRAINED: 'GH_ERR_MOVE_NOT_DRAINED',
  /** accounts move: the target did not install the handover or did not resume. */
  MOVE_HANDOVER: 'GH_ERR_MOVE_HANDOVER',
  /** accounts move: the directory entry could not be written. */
  MOVE_REHOME: 'GH_ERR_MOVE_REHOME',
} as const satisfies Record<string, ErrorCode>
export type AdminErrorCode = typeof adminErrorCodes[keyof typeof adminErrorCodes]

export class AdminError extends GatehouseError {
  declare readonly code: AdminErrorCode
  constructor (code: AdminErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}

/** One field's change, as replies and the journal show it. null is "no limit", 'inherit' is "not set at this scope". */
export interface FieldChange {
  field: string
  before: unknown
  after: unknown
}

export interface ChangeReply {
  /** What changed; empty when the request set what was already there. */
  changes: FieldChange[]
  /** Anything else the command did, e.g. cancels sent by a mass-cancel. */
  detail?: Record<string, unknown>
}

export interface AppInfo {
  appId: string
  vendor: string
  name: string
  version: string
  status: AppStatus
  assessment: { documents: Array<{ name: string, expires: string }>, accessTestPassed: string | null }
  /** Accounts bound to it. */
  accounts: string[]
  /** Documents in the evidence store, oldest first. */
  evidence: EvidenceMetadata[]
  /** The latest certification run recorded; null if none. */
  certification: CertificationRecord | null
  /**
   * Where its access testing comes from: a passing certification record,
   * a date typed into the config before certification existed (legacy,
   * flagged), or none.
   */
  accessTest: 'certified' | 'legacy-date' | 'none'
}

/** A document to store, as `apps evidence add` gives it. */
export interface EvidenceRequest {
  appId: string
  /** A path the gateway reads (absolute: the gateway's working directory is not the operator's). */
  path: string
  kind: EvidenceKind
  issuer: string
  issued: string
  expires: string | null
}

/** One row of `apps evidence list`. */
export interface EvidenceListing extends EvidenceMetadata {
  /** Whole days until it expires (negative once expired); null if it does not. */
  daysToExpiry: number | null
  state: 'current' | 'expiring' | 'expired' | 'no-expiry'
}

export interface AppRegistration {
  appId: string
  vendor: string
  name: string
  version: string
  authCode: string
  status: AppStatus
}

/** A dual-control request as `admin pending list` shows it. */
export interface PendingInfo {
  requestId: string
  change: string
  summary: string
  requestedBy: string
  requestedAt: string
  expiresAt: string
}

/** The steps of a programmatic-trading report (`accounts report ...`). */
export type ReportStep = 'receive' | 'file' | 'confirm' | 'change' | 'change-reported'

export interface AdminApi {
  // ---- limits, states, switches -------------------------------------------
  /** The limits set at a scope (unset ones omitted), and for an account the effective values on a lane. */
  showLimits (scope: LimitScope): Record<string, LimitValue | 'inherit'>
  setLimits (operator: string, scope: LimitScope, values: LimitSet): ChangeReply
  setTradingState (operator: string, account: string, state: TradingState): ChangeReply
  setKillSwitch (operator: string, scope: KillScope, on: boolean, massCancel: boolean): Promise<ChangeReply>
  setProgrammaticReport (operator: string, account: string, status: ProgrammaticReport): ChangeReply
  /** Counters and regulatory monitor levels (warning/blocking) per contract. */
  counters (account: string): AccountCounters & { monitors: Array<{ instrument: string, monitor: string, observed: number, warning: number | null, blocking: number | null }> }

  // ---- sessions ---------------------------------------------------------------
  listSessions (filter: { lane?: LaneName, account?: string }): Promise<SessionInfo[]>
  disconnectSession (operator: string, sessionId: number, reason: string): Promise<ChangeReply>
  /** Moves an account held here to another instance of the cluster (cluster/account-handover.ts); resolves with each step as it completed. */
  moveAccount (operator: string, account: string, to: string, drainTimeoutMs?: number): Promise<{ steps: Array<{ step: string, at: string, detail: Record<string, unknown> }> }>

  // ---- AppID registry and bindings ------------------------------------------
  listApps (): AppInfo[]
  registerApp (operator: string, app: AppRegistration): ChangeReply
  addAppEvidence (operator: string, appId: string, evidence: { document?: { name: string, expires: string }, accessTestPassed?: string }): ChangeReply
  /** Stores a document (by SHA-256) for an AppID and journals its metadata; adding the same bytes again changes nothing. */
  addEvidenceFile (operator: string, request: EvidenceRequest): ChangeReply
  /** Stored documents, all AppIDs or one; with expiring, only those expired or expiring within evidence.expiryWarningDays. */
  listEvidence (filter: { appId?: string, expiring?: boolean }): EvidenceListing[]
  /** Reads a `gatehouse certify` JSON report (and its HTML), stores both as evidence and journals the certification. */
  recordCertification (operator: string, appId: string, reportPath: string, htmlPath?: string): ChangeReply
  /** Production needs a passing certification record. */
  setAppStatus (operator: string, appId: string, status: AppStatus): ChangeReply
  bindApp (operator: string, appId: string, account: string, bound: boolean): ChangeReply

  // ---- fingerprints -------------------------------------------------------------
  listFingerprints (account: string): Array<{ fingerprintId: string, status: string, firstSeen: string | null, lastSeen: string | null }>
  decideFingerprint (operator: string, account: string, fingerprintId: string, approve: boolean): ChangeReply

  // ---- logon alerts ---------------------------------------------------------------
  /** The newest logon alerts (new, held or abnormal terminals, churn, lockouts, a full lock store, shedding), newest last. */
  listAlerts (limit: number): Array<{ time: string, kind: string, lane: string | null, account: string | null, ip: string | null, text: string }>

  // ---- dual control -----------------------------------------------------------------
  listPending (): PendingInfo[]
  /** Applies a pending request as its requester asked: another operator, within the window. */
  approvePending (operator: string, requestId: string): Promise<ChangeReply>
  rejectPending (operator: string, requestId: string): ChangeReply

  // ---- client due diligence ----------------------------------------------------------
  showDiligence (account: string | undefined): DiligenceView[]
  setDiligence (operator: string, account: string, fields: Pick<Diligence, 'executionMethod' | 'software'>): ChangeReply
  /** A step of the report on a date (today when none): receive starts the filing clock, confirm lets the account trade programmatically. */
  reportStep (operator: string, account: string, step: ReportStep, date: string | undefined): ChangeReply
  /** Every started filing clock, or only those due soon or past due. */
  listClocks (alertsOnly: boolean): FilingClock[]

  // ---- config --------------------------------------------------------------------
  /** Validates the file first; applies limits, states, software and accounts atomically or not at all. */
  reloadConfig (operator: string, path: string): ChangeReply
}

export type { LimitName }
