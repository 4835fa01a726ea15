// The process's open-file limit (RLIMIT_NOFILE). Every connection holds a
// descriptor, so the soft limit must run at the hard one. Node raises it
// itself as it starts on Linux; where it did not, util-linux prlimit does
// it on this process (Node has no setrlimit). Either way start reports it. The
// lanes' caps on connections not yet logged on must then leave a reserve
// for everything else: logged-on sessions, ops, the admin socket, journal
// files, the exchange links.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { type GatewayConfig } from '../config/config.js'
import { LANE_NAMES } from '../protocol/lanes.js'

export interface NofileLimits {
  /** Infinity for "unlimited" (null once in JSON). */
  soft: number
  hard: number
}

/** What start did about the limit, for the banner and the ready event. */
export interface FdLimitReport {
  soft: number
  hard: number
  /** The soft limit before start raised it; equal to soft when unchanged. */
  softBefore: number
  /** Why the soft limit could not be raised, if it could not. */
  note: string
  /** Sum of the enabled lanes' maxUnauthenticatedConnections. */
  unauthenticatedCaps: number
  reserve: number
}

function parseLimit (word: string): number {
  return word === 'unlimited' ? Infinity : Number(word)
}

/** The limits as /proc/self/limits states them; null where there is no /proc. */
export function readNofileLimits (limitsText?: string): NofileLimits | null {
  let text = limitsText
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8')
    } catch {
      return null
    }
  }
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text)
  if (match === null) return null
  return { soft: parseLimit(match[1]!), hard: parseLimit(match[2]!) }
}

/** The sum of the enabled lanes' unauthenticated caps. */
export function unauthenticatedCapsSum (config: GatewayConfig): number {
  let sum = 0
  for (const name of LANE_NAMES) {
    const lane = config.lanes[name]
    if (lane.enabled) sum += lane.policy.maxUnauthenticatedConnections
  }
  return sum
}

/** The problem with the caps under a soft limit, or null when they leave the reserve. */
export function fdReserveProblem (config: GatewayConfig, softLimit: number): string | null {
  const caps = unauthenticatedCapsSum(config)
  const reserve = config.security.fdReserve
  if (caps + reserve <= softLimit) return null
  return `lanes.*.policy.maxUnauthenticatedConnections: the enabled lanes' caps (${caps}) plus security.fdReserve (${reserve}) exceed the open-file limit ${softLimit}; ` +
    'lower the caps or the reserve, or raise the limit (ulimit -n, systemd LimitNOFILE=)'
}

/** Raises this process's soft RLIMIT_NOFILE to the hard limit with prlimit, and reports. */
export function raiseNofileLimit (config: GatewayConfig): FdLimitReport {
  const before = readNofileLimits()
  const report: FdLimitReport = {
    soft: before?.soft ?? Infinity,
    hard: before?.hard ?? Infinity,
    softBefore: before?.soft ?? Infinity,
    note: before === null ? 'no /proc/self/limits: the limit was not read' : '',
    unauthenticatedCaps: unauthenticatedCapsSum(config),
    reserve: config.security.fdReserve,
  }
  if (before === null || before.soft >= before.hard || before.hard === Infinity) return report
  try {
    execFileSync('prlimit', ['--pid', String(process.pid), `--nofile=${before.hard}:${before.hard}`], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000 })
  } catch (err) {
    report.note = `prlimit failed, the soft limit stays ${before.soft}: ${(err as Error).message.split('\n')[0]}`
    return report
  }
  const after = readNofileLimits()
  if (after !== null) {
    report.soft = after.soft
    report.hard = after.hard
  }
  return report
}
