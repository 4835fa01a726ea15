// Messages between the supervisor (main thread) and the lane worker
// threads. These are control-plane only: nothing per order crosses a
// thread boundary (README, "Architecture").
import type { CarriedPositionEntry, HandedOverAccountDaily } from '../journal/gateway-records.js'
import type { GatewayConfig } from '../config/config.js'
import type { LaneName } from '../protocol/lanes.js'
import type { LinkState } from './exchange-link.js'
import type { RiskBuffers } from '../checks/risk-layout.js'
import type { KillScope } from '../checks/risk-control.js'
import type { LaneRecovery } from './recovery.js'
import type { MonitorAlert } from './order-lifecycle.js'
import type { ReplyMessage, RequestMessage } from '../platform/cross-thread.js'

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
export interface RiskAlert extends MonitorAlert {
  lane: LaneName
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
  /** WRONG_INSTANCE: where the account is held (the lane puts them in the reply). */
  redirectEndpoint?: string
  redirectInstance?: string
  /** On a successful logon: the account's and AppID's indexes in the shared risk tables. */
  accountIndex?: number
  appIndex?: number
}

/** What the supervisor asks a lane (platform/cross-thread.ts), and each answer. */
export type LaneRequests = {
  /** This lane's sessions (admin socket). */
  'list-sessions': { args: null, reply: SessionInfo[] }
  /** Close one session (admin socket); answered with whether it was here. */
  'disconnect': { args: { sessionId: number, reason: string }, reply: boolean }
  /** Cancel every working order of this lane in the scope (kill switch with mass-cancel); answered with the cancels sent. */
  'mass-cancel': { args: { scope: KillScope }, reply: number }
  /**
   * An account handed over by another instance (cluster/account-handover.ts):
   * journal it as POSITIONS_CARRIED in this lane's stream, then add it to the
   * shared risk state as recovery would. `accountIndexes`: the risk-table
   * index of each account named.
   */
  'install-handover': { args: { handover: HandoverInstall, accountIndexes: Record<string, number> }, reply: { ok: boolean, text: string, tradingDay: string } }
}

/** What a lane journals and installs for an account handed over (PositionsCarriedDocument's handover form). */
export interface HandoverInstall {
  handover: { from: string, to: string, operator: string }
  positions: CarriedPositionEntry[]
  accounts: HandedOverAccountDaily[]
}

/** What a lane asks the supervisor: a logon step for access control to decide. */
export type SupervisorRequests = {
  access: { args: { sessionId: number, ip: string, request: AccessRequest }, reply: AccessResult }
}

export type SupervisorToLane =
  | { type: 'shutdown' }
  | RequestMessage<LaneRequests>
  /** Answers a lane's request to the supervisor. */
  | ReplyMessage

export type LaneToSupervisor =
  | { type: 'listening', lane: LaneName, host: string, port: number, tls: boolean }
  | ({ type: 'recovered' } & LaneRecoveryReport)
  | { type: 'listen-failed', lane: LaneName, host: string, port: number, error: string }
  | { type: 'link-state', lane: LaneName, state: LinkState, detail: string, environment?: string }
  | { type: 'stopped', lane: LaneName }
  | RequestMessage<SupervisorRequests>
  /** Answers the supervisor's request to this lane. */
  | ReplyMessage
  | { type: 'session-closed', lane: LaneName, sessionId: number, account: string }
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
