// Messages between the supervisor (main thread) and the lane worker
// threads. These are control-plane only: nothing per order crosses a
// thread boundary (README, "Architecture").
import type { GatewayConfig } from '../config/config.js'
import type { LaneName } from '../protocol/lanes.js'
import type { LinkState } from './exchange-link.js'
import type { RiskBuffers } from '../checks/risk-layout.js'
import type { KillScope } from '../checks/risk-control.js'
import type { LaneRecovery } from './recovery.js'

/** workerData of a lane worker. */
export interface LaneWorkerData {
  lane: LaneName
  config: GatewayConfig
  /** The shared risk state: the same SharedArrayBuffers in every lane thread. */
  risk: RiskBuffers
  /** This lane's /metrics counters: written by the lane only, read by the supervisor (lane-metrics.ts). */
  metrics: SharedArrayBuffer
  /** What the supervisor rebuilt for this lane from its journal (lane/recovery.ts); null when recovery is off. */
  recovered: LaneRecovery | null
}

/** What a lane rebuilt from its journal at start. */
export interface LaneRecoveryReport {
  lane: LaneName
  tradingDay: string | null
  records: number
  segments: number
  ordersReplayed: number
  workingOrders: number
  lastReceivedSeq: number
  problems: string[]
}

/** A regulatory monitor reached its warning level (sent once per crossing). */
export interface RiskAlert {
  lane: LaneName
  account: string
  instrument: string
  /** RejectReason the monitor blocks with, e.g. CANCEL_LIMIT. */
  monitor: number
  observed: number
  warningLevel: number
  blockingLevel: number
}

/** One logon step a lane forwards to the supervisor's access control. */
export type AccessRequest =
  | { step: 'authenticate', appId: string, account: string, nonce: Uint8Array, proof: Uint8Array, exchangeEnvironment: string }
  | { step: 'terminal-info', account: string, info: Uint8Array }
  /** fingerprintId: the terminal this session's TerminalInfo step passed with. */
  | { step: 'logon', account: string, password: string, appId: string, fingerprintId?: string }

export interface AccessResult {
  reason: number
  text: string
  retryAfterMs?: number
  fingerprintId?: string
  newFingerprint?: boolean
  /** On a successful logon: the account's and AppID's indexes in the shared risk tables. */
  accountIndex?: number
  appIndex?: number
}

export type SupervisorToLane =
  | { type: 'shutdown' }
  | { type: 'access-result', requestId: number, result: AccessResult }
  /** Cancel every working order of this lane in the scope (kill switch with mass-cancel). */
  | { type: 'mass-cancel', requestId: number, scope: KillScope }
  /** List this lane's sessions (admin socket). */
  | { type: 'list-sessions', requestId: number }
  /** Close one session (admin socket); answered with whether it was here. */
  | { type: 'disconnect', requestId: number, sessionId: number, reason: string }

export type LaneToSupervisor =
  | { type: 'listening', lane: LaneName, host: string, port: number, tls: boolean }
  | ({ type: 'recovered' } & LaneRecoveryReport)
  | { type: 'listen-failed', lane: LaneName, host: string, port: number, error: string }
  | { type: 'link-state', lane: LaneName, state: LinkState, detail: string, environment?: string }
  | { type: 'stopped', lane: LaneName }
  | { type: 'access-request', lane: LaneName, requestId: number, sessionId: number, ip: string, request: AccessRequest }
  | { type: 'session-closed', lane: LaneName, sessionId: number, account: string }
  | { type: 'mass-cancel-done', lane: LaneName, requestId: number, cancelsSent: number }
  | { type: 'sessions', lane: LaneName, requestId: number, sessions: SessionInfo[] }
  | { type: 'disconnected', lane: LaneName, requestId: number, found: boolean }
  | ({ type: 'risk-alert' } & RiskAlert)
  | { type: 'logon-event', lane: LaneName, sessionId: number, ip: string, step: 'connect' | 'timeout' | 'authenticate' | 'terminal-info' | 'logon' | 'logout' | 'disconnect', account?: string, reason: number, text: string }
  /** The lane's journal failed: it has closed its sessions and its link and sends nothing more (fail closed). */
  | { type: 'journal-failed', lane: LaneName, error: string }
  /** The journal's disk crossed a watermark (disk-watermark.ts): 'low' refuses new logons, 'floor' has failed the lane closed, 'ok' is back above. */
  | { type: 'disk-space', lane: LaneName, state: 'ok' | 'low' | 'floor', freeBytes: number, lowWatermarkBytes: number, floorBytes: number }
  /** An exception was caught in a lane handler (where: e.g. 'message', 'link report'); sessionId 0 when no client session was involved. */
  | { type: 'lane-fault', lane: LaneName, where: string, sessionId: number, error: string }

/** One client session as the admin socket lists it. */
export interface SessionInfo {
  lane: LaneName
  sessionId: number
  account: string | null
  appId: string | null
  ip: string
  /** ISO time of logon, null while the logon is in progress. */
  logonTime: string | null
  connectedTime: string
  messagesIn: number
  messagesOut: number
  workingOrders: number
}
