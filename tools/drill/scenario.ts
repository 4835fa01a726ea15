// The contract between the drill's runner and its scenarios: what a
// scenario gets (where the gateway is, who to be, how big to be) and what
// it gives back (its checks and figures). The runner measures the trader,
// the process and the journal around each one; a scenario says only what
// is specific to its attack.
import type { DrillLane, DrillSettings } from './drill-settings.js'
import type { Instrument } from '../../protocol/messages.js'

export interface ScenarioCheck {
  name: string
  ok: boolean
  /** Always filled: what was seen, and for a failure what broke. */
  detail: string
}

export interface ScenarioResult {
  /** Messages (frames, requests, connections) the scenario sent: the journal bound scales with it. */
  messagesSent: number
  checks: ScenarioCheck[]
  figures: Record<string, number | string | boolean | null>
  note?: string
}

export interface ScenarioContext {
  settings: DrillSettings
  short: boolean
  /** Lanes the target listens on (those with a URL). */
  lanes: DrillLane[]
  laneUrl: (lane: DrillLane) => string
  /** A source address no other connection of this run has used; undefined when the target is not on loopback. */
  nextAddress: () => string | undefined
  /** The first address of a /24 no other connection of this run has used (attackers spread over prefixes with it; the owner logs on from one). */
  nextPrefix: () => string | undefined
  /** The trader's lane's instruments, from its LogonReply. */
  instruments: Instrument[]
  /** Hands out client_order_ids unique across the run (scenario sessions of the trader's account share its day). */
  nextClientOrderId: () => number
  /** The gateway's process ID when its /proc is readable from here, else null. */
  pid: number | null
  /** The scenario must end by then (ms, Date.now()); loops check it. */
  deadlineMs: number
}

export interface Scenario {
  name: string
  /** One line: what the attack is. */
  summary: string
  /** Upper bound on the scenario's run time in short and full mode (the runner aborts past twice this). */
  budgetMs: { short: number, full: number }
  run: (ctx: ScenarioContext) => Promise<ScenarioResult>
}

/** A check from a condition, with the detail chosen by outcome. */
export function check (name: string, ok: boolean, passDetail: string, failDetail: string): ScenarioCheck {
  return { name, ok, detail: ok ? passDetail : failDetail }
}
