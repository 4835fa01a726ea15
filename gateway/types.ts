// Messages between the supervisor (main thread) and the lane worker
// threads. These are control-plane only: nothing per order crosses a
// thread boundary (DESIGN.md, "Nothing crosses a thread boundary on the
// hot path").
import type { GatewayConfig, LaneName } from './config.js'
import type { LinkState } from './exchange-link.js'

/** workerData of a lane worker. */
export interface LaneWorkerData {
  lane: LaneName
  config: GatewayConfig
}

/** One logon step a lane forwards to the supervisor's access control. */
export type AccessRequest =
  | { step: 'authenticate', appId: string, account: string, nonce: Uint8Array, proof: Uint8Array, exchangeEnvironment: string }
  | { step: 'terminal-info', account: string, info: Uint8Array }
  | { step: 'logon', account: string, password: string, appId: string }

export interface AccessResult {
  reason: number
  text: string
  retryAfterMs?: number
  fingerprintId?: string
  newFingerprint?: boolean
}

export type SupervisorToLane =
  | { type: 'shutdown' }
  | { type: 'access-result', requestId: number, result: AccessResult }

export type LaneToSupervisor =
  | { type: 'listening', lane: LaneName, host: string, port: number, tls: boolean }
  | { type: 'listen-failed', lane: LaneName, host: string, port: number, error: string }
  | { type: 'link-state', lane: LaneName, state: LinkState, detail: string }
  | { type: 'stopped', lane: LaneName }
  | { type: 'access-request', lane: LaneName, requestId: number, sessionId: number, ip: string, request: AccessRequest }
  | { type: 'session-closed', lane: LaneName, sessionId: number, account: string }
  | { type: 'logon-event', lane: LaneName, sessionId: number, ip: string, step: 'connect' | 'timeout' | 'authenticate' | 'logout', account?: string, reason: number, text: string }
