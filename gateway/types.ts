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

export type SupervisorToLane =
  | { type: 'shutdown' }

export type LaneToSupervisor =
  | { type: 'listening', lane: LaneName, host: string, port: number, tls: boolean }
  | { type: 'listen-failed', lane: LaneName, host: string, port: number, error: string }
  | { type: 'link-state', lane: LaneName, state: LinkState, detail: string }
  | { type: 'stopped', lane: LaneName }
