/**
 * Moving an account to another instance of the cluster: the admin
 * procedure `gatehouse admin accounts move ACCOUNT --to INSTANCE`, run on
 * the instance that holds the account (docs/cluster.md, "Moving an account
 * to another instance"):
 *
 *   1 halt      the account's trading state becomes halted (the admin path)
 *   2 drain     its working orders are cancelled (the lanes' mass-cancel)
 *               and the move waits, bounded, until none is left
 *   3 handover  its risk state (positions today and yesterday, daily
 *               counters) goes to the target by NATS request/reply; the
 *               target journals it as POSITIONS_CARRIED in a lane stream
 *               and installs it as recovery would, then the source
 *               journals the same amounts handed away (negated)
 *   4 re-home   the directory's KV entry names the target; every
 *               instance's watch sees it
 *   5 resume    the source closes the account's sessions (they reconnect
 *               and are redirected); the target sets the trading state
 *               back to what it was
 *
 * Every step is journaled on the source as an admin change ('account-move',
 * with the step), with operator and time. A move that fails before step 4
 * leaves the account halted on the source and still homed there.
 */
import type { Msg, Subscription } from '@nats-io/transport-node'
import { z } from 'zod'
import type { GatewayConfig } from '../config/config.js'
import type { AccountCounters, RiskControl } from '../checks/risk-control.js'
import type { TradingState } from '../checks/risk-layout.js'
import { GatehouseError } from '../protocol/gatehouse-error.js'
import type { ErrorCode } from '../protocol/error-codes.js'
import type { LaneName } from '../protocol/lanes.js'
import type { AdminChangeDocument, CarriedPositionEntry, HandedOverAccountDaily } from '../journal/gateway-records.js'
import type { HandoverInstall, LaneRequests } from '../lane/worker-contract.js'
import type { AccountDirectory, KvDirectorySync } from './account-directory.js'
import type { NatsLink } from './nats-connection.js'

/** Handover requests to an instance go to `<prefix>.<instance>`. */
export const HANDOVER_SUBJECT_PREFIX = 'gatehouse.handover'
/** The drain waits at most this long by default for the account's working orders to end. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000
/** How long the source waits for the target's answer to a handover step. */
export const HANDOVER_REPLY_TIMEOUT_MS = 5_000
/** A handover request larger than this is refused unread (an account has at most instrumentsPerAccount positions). */
const MAX_HANDOVER_BYTES = 512 * 1024
const DRAIN_POLL_MS = 20

export function handoverSubject (instance: string): string {
  return `${HANDOVER_SUBJECT_PREFIX}.${instance}`
}

/** A move refused or stopped, with the step it stopped at; the account is left halted on the source and homed there unless `step` says later. */
export type AccountMoveCode = Extract<ErrorCode, 'GH_ERR_MOVE_NEEDS_KV' | 'GH_ERR_MOVE_REFUSED' | 'GH_ERR_MOVE_NATS_DOWN' | 'GH_ERR_MOVE_NOT_DRAINED' | 'GH_ERR_MOVE_HANDOVER' | 'GH_ERR_MOVE_REHOME'>

export class AccountMoveError extends GatehouseError {
  declare readonly code: AccountMoveCode
  constructor (code: AccountMoveCode, message: string, readonly step: MoveStep | 'check', options?: { cause?: unknown }) {
    super(code, message, options)
  }
}

export type MoveStep = 'halt' | 'drain' | 'handover' | 're-home' | 'disconnect' | 'resume'

export interface MoveStepReport {
  step: MoveStep
  /** ISO time the step completed. */
  at: string
  detail: Record<string, unknown>
}

/** What the move needs of the supervisor it runs in. */
export interface HandoverHost {
  readonly config: GatewayConfig
  readonly risk: RiskControl
  readonly directory: AccountDirectory | null
  readonly directorySync: KvDirectorySync | null
  readonly nats: NatsLink | null
  recordChange (doc: AdminChangeDocument, account?: string): void
  askLanes<K extends keyof LaneRequests & string> (kind: K, args: LaneRequests[K]['args'], lanes?: readonly LaneName[]): Promise<Array<LaneRequests[K]['reply']>>
  /** The lanes whose exchange link is up, in start order. */
  linkedLanes (): LaneName[]
  disconnectAccount (account: string, reason: string): Promise<number>
  /** The admin path: sets, persists and journals the trading state. */
  setTradingState (operator: string, account: string, state: TradingState): void
}

const entryToday = z.object({
  longTodayLots: z.number().int(), shortTodayLots: z.number().int(), tradedLotsToday: z.number().int(), cancelsToday: z.number().int(),
  largeCancelsToday: z.number().int(), selfTradesToday: z.number().int(), openedLotsToday: z.number().int(),
}).strict()
const HandoverRequestSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('install'),
    account: z.string().min(1).max(64),
    from: z.string().min(1).max(32),
    operator: z.string().min(1).max(64),
    positions: z.array(z.object({
      account: z.string().min(1).max(64), instrument: z.string().min(1).max(32), exchange: z.string().max(16),
      longYesterdayLots: z.number().int(), shortYesterdayLots: z.number().int(), today: entryToday.optional(),
    }).strict()).max(4096),
    daily: z.object({ account: z.string(), tradedLotsToday: z.number().int(), actionsToday: z.number().int(), hfBurstsToday: z.number().int() }).strict(),
  }).strict(),
  z.object({
    kind: z.literal('resume'),
    account: z.string().min(1).max(64),
    from: z.string().min(1).max(32),
    operator: z.string().min(1).max(64),
    tradingState: z.enum(['active', 'reducing', 'halted']),
  }).strict(),
])
type HandoverRequest = z.infer<typeof HandoverRequestSchema>
type HandoverReply = { ok: true, detail: Record<string, unknown> } | { ok: false, code: string, message: string }

/** The account's risk state that must follow it: positions (today and yesterday) and the daily counters the limits and monitors use. */
export function handoverSnapshot (counters: AccountCounters): { positions: CarriedPositionEntry[], daily: HandedOverAccountDaily } {
  return {
    // Exchange '' : the target knows each instrument from its own reference data.
    positions: counters.instruments.map((i) => ({
      account: counters.account,
      instrument: i.instrument,
      exchange: '',
      longYesterdayLots: i.longYesterdayLots,
      shortYesterdayLots: i.shortYesterdayLots,
      today: {
        longTodayLots: i.longTodayLots,
        shortTodayLots: i.shortTodayLots,
        tradedLotsToday: i.tradedLotsToday,
        cancelsToday: i.cancelsToday,
        largeCancelsToday: i.largeCancelsToday,
        selfTradesToday: i.selfTradesToday,
        openedLotsToday: i.openedLotsToday,
      },
    })),
    daily: { account: counters.account, tradedLotsToday: counters.tradedLotsToday, actionsToday: counters.actionsToday, hfBurstsToday: counters.hfBurstsToday },
  }
}

/** True when the account has no position and no daily count here: a handover may be installed on top. */
function hasNoState (counters: AccountCounters): boolean {
  const zero = (n: number): boolean => n === 0
  return zero(counters.openOrders) && zero(counters.tradedLotsToday) && zero(counters.actionsToday) && zero(counters.hfBurstsToday) &&
    counters.instruments.every((i) => [i.longTodayLots, i.longYesterdayLots, i.shortTodayLots, i.shortYesterdayLots, i.tradedLotsToday, i.cancelsToday,
      i.largeCancelsToday, i.selfTradesToday, i.openedLotsToday, i.workingBuyOrders, i.workingSellOrders].every(zero))
}

/**
 * True when the account's state here is exactly what the request hands
 * over: an install whose answer was lost, asked again by a retried move.
 * Answered ok without installing twice.
 */
function alreadyInstalled (counters: AccountCounters, positions: CarriedPositionEntry[], daily: HandedOverAccountDaily): boolean {
  if (counters.openOrders !== 0 || counters.tradedLotsToday !== daily.tradedLotsToday || counters.actionsToday !== daily.actionsToday || counters.hfBurstsToday !== daily.hfBurstsToday) return false
  const handed = new Map(positions.map((p) => [p.instrument, p]))
  for (const i of counters.instruments) {
    const p = handed.get(i.instrument)
    const t = p?.today
    const expected = [p?.longYesterdayLots ?? 0, p?.shortYesterdayLots ?? 0, t?.longTodayLots ?? 0, t?.shortTodayLots ?? 0, t?.tradedLotsToday ?? 0, t?.cancelsToday ?? 0, t?.largeCancelsToday ?? 0, t?.selfTradesToday ?? 0, t?.openedLotsToday ?? 0]
    const actual = [i.longYesterdayLots, i.shortYesterdayLots, i.longTodayLots, i.shortTodayLots, i.tradedLotsToday, i.cancelsToday, i.largeCancelsToday, i.selfTradesToday, i.openedLotsToday]
    if (expected.some((n, k) => n !== actual[k])) return false
    handed.delete(i.instrument)
  }
  // An instrument handed over with anything in it must be here too.
  return [...handed.values()].every((p) => p.longYesterdayLots === 0 && p.shortYesterdayLots === 0 && Object.values(p.today ?? {}).every((n) => n === 0))
}

function negated (install: HandoverInstall): HandoverInstall {
  const neg = (n: number): number => (n === 0 ? 0 : -n)
  return {
    handover: install.handover,
    positions: install.positions.map((p) => ({
      ...p,
      longYesterdayLots: neg(p.longYesterdayLots),
      shortYesterdayLots: neg(p.shortYesterdayLots),
      ...(p.today === undefined ? {} : { today: Object.fromEntries(Object.entries(p.today).map(([k, v]) => [k, neg(v)])) as unknown as NonNullable<CarriedPositionEntry['today']> }),
    })),
    accounts: install.accounts.map((a) => ({ account: a.account, tradedLotsToday: neg(a.tradedLotsToday), actionsToday: neg(a.actionsToday), hfBurstsToday: neg(a.hfBurstsToday) })),
  }
}

/** Journals and installs a handover in this instance's first lane whose link is up; throws AccountMoveError if none can. */
async function installHere (host: HandoverHost, install: HandoverInstall, account: string): Promise<{ lane: LaneName, tradingDay: string }> {
  const index = host.risk.accountIndex(account)
  if (index === undefined) throw new AccountMoveError('GH_ERR_MOVE_HANDOVER', `account ${account} is not configured on instance ${host.config.gatewayId}`, 'handover')
  const lane = host.linkedLanes()[0]
  if (lane === undefined) throw new AccountMoveError('GH_ERR_MOVE_HANDOVER', `instance ${host.config.gatewayId} has no lane with its exchange link up to journal the handover in`, 'handover')
  const [result] = await host.askLanes('install-handover', { handover: install, accountIndexes: { [account]: index } }, [lane])
  if (result === undefined || !result.ok) throw new AccountMoveError('GH_ERR_MOVE_HANDOVER', `instance ${host.config.gatewayId} could not install the handover: ${result?.text ?? 'no answer'}`, 'handover')
  return { lane, tradingDay: result.tradingDay }
}

/**
 * Answers handover requests addressed to this instance (install, resume),
 * for as long as the NATS link lives. Each request is validated and
 * bounded; every failure is a reply with a code, never a throw.
 */
export function serveHandovers (host: HandoverHost): { stop: () => void } {
  let subscription: Subscription | null = null
  let stopped = false
  void host.nats?.ready.then((nc) => {
    if (stopped) return
    subscription = nc.subscribe(handoverSubject(host.config.gatewayId), {
      callback: (err, msg) => {
        if (err !== null) return
        void answer(host, msg).then((reply) => { msg.respond(JSON.stringify(reply)) }, (e: unknown) => {
          msg.respond(JSON.stringify({ ok: false, code: 'GH_ERR_MOVE_HANDOVER', message: (e as Error).message } satisfies HandoverReply))
        })
      },
    })
  }).catch(() => {})
  return {
    stop: () => {
      stopped = true
      subscription?.unsubscribe()
    },
  }
}

async function answer (host: HandoverHost, msg: Msg): Promise<HandoverReply> {
  if (msg.data.length > MAX_HANDOVER_BYTES) return { ok: false, code: 'GH_ERR_MOVE_HANDOVER', message: `the handover request is larger than ${MAX_HANDOVER_BYTES} bytes` }
  let request: HandoverRequest
  try {
    request = HandoverRequestSchema.parse(JSON.parse(new TextDecoder().decode(msg.data)))
  } catch (err) {
    return { ok: false, code: 'GH_ERR_MOVE_HANDOVER', message: `the handover request is not valid: ${(err as Error).message.slice(0, 300)}` }
  }
  const self = host.config.gatewayId
  const { account } = request
  if (host.risk.accountIndex(account) === undefined) return { ok: false, code: 'GH_ERR_MOVE_HANDOVER', message: `account ${account} is not configured on instance ${self}: add it to this instance's accounts first` }
  try {
    if (request.kind === 'install') {
      if (request.positions.some((p) => p.account !== account) || request.daily.account !== account) return { ok: false, code: 'GH_ERR_MOVE_HANDOVER', message: 'the handover names another account in its entries' }
      const here = host.risk.counters(account)
      if (!hasNoState(here) && alreadyInstalled(here, request.positions, request.daily)) {
        host.recordChange({ operator: request.operator, command: 'account-move', scope: { kind: 'account', account }, before: request.from, after: self, detail: { step: 'handover-repeated' } }, account)
        return { ok: true, detail: { repeat: true } }
      }
      if (!hasNoState(here)) {
        return { ok: false, code: 'GH_ERR_MOVE_HANDOVER', message: `account ${account} already has positions, orders or counts on instance ${self} today: a handover is installed only on an empty state` }
      }
      // Halted here until the move's last step resumes it: the directory may
      // already send its sessions here before the source has finished.
      host.setTradingState(request.operator, account, 'halted')
      const install: HandoverInstall = { handover: { from: request.from, to: self, operator: request.operator }, positions: request.positions, accounts: [request.daily] }
      const { lane, tradingDay } = await installHere(host, install, account)
      host.recordChange({ operator: request.operator, command: 'account-move', scope: { kind: 'account', account }, before: request.from, after: self, detail: { step: 'handover-installed', lane, tradingDay, positions: request.positions, daily: request.daily } }, account)
      return { ok: true, detail: { lane, tradingDay } }
    }
    host.setTradingState(request.operator, account, request.tradingState)
    host.recordChange({ operator: request.operator, command: 'account-move', scope: { kind: 'account', account }, before: request.from, after: self, detail: { step: 'resumed', tradingState: request.tradingState } }, account)
    return { ok: true, detail: { tradingState: request.tradingState } }
  } catch (err) {
    return { ok: false, code: err instanceof GatehouseError ? err.code : 'GH_ERR_MOVE_HANDOVER', message: (err as Error).message }
  }
}

async function ask (host: HandoverHost, to: string, request: HandoverRequest, timeoutMs: number): Promise<Record<string, unknown>> {
  const nc = host.nats?.connection() ?? null
  if (nc === null || !host.nats!.isConnected()) throw new AccountMoveError('GH_ERR_MOVE_NATS_DOWN', 'NATS is not connected: the handover cannot reach the target', request.kind === 'install' ? 'handover' : 'resume')
  let reply: HandoverReply
  try {
    const msg = await nc.request(handoverSubject(to), JSON.stringify(request), { timeout: timeoutMs })
    reply = JSON.parse(new TextDecoder().decode(msg.data)) as HandoverReply
  } catch (err) {
    throw new AccountMoveError('GH_ERR_MOVE_HANDOVER', `instance ${to} did not answer the ${request.kind} step within ${timeoutMs} ms (${(err as Error).message}); is it running and connected to NATS?`, request.kind === 'install' ? 'handover' : 'resume', { cause: err })
  }
  if (!reply.ok) throw new AccountMoveError('GH_ERR_MOVE_HANDOVER', `instance ${to} refused the ${request.kind} step: ${reply.message}`, request.kind === 'install' ? 'handover' : 'resume')
  return reply.detail
}

export interface MoveOptions {
  drainTimeoutMs?: number
  replyTimeoutMs?: number
  /** Called as each step completes (the admin command prints them). */
  onStep?: (step: MoveStepReport) => void
}

/** Runs the move on the instance that holds `account`; resolves with each step as it completed, or rejects with AccountMoveError. */
export async function moveAccount (host: HandoverHost, operator: string, account: string, to: string, options: MoveOptions = {}): Promise<MoveStepReport[]> {
  const self = host.config.gatewayId
  const { cluster } = host.config
  if (!cluster.enabled || host.directory === null) throw new AccountMoveError('GH_ERR_MOVE_NEEDS_KV', 'this instance is not part of a cluster (cluster.enabled is false): there is nothing to move an account to', 'check')
  if (cluster.directory.source !== 'nats-kv' || host.directorySync === null) {
    throw new AccountMoveError('GH_ERR_MOVE_NEEDS_KV', 'cluster.directory.source is "config": move the account by changing cluster.directory.accounts in the config of every instance and restarting them; "accounts move" needs source "nats-kv"', 'check')
  }
  if (host.risk.accountIndex(account) === undefined) throw new AccountMoveError('GH_ERR_MOVE_REFUSED', `account ${account} is not configured on this instance`, 'check')
  if (cluster.instances[to] === undefined) throw new AccountMoveError('GH_ERR_MOVE_REFUSED', `instance "${to}" is not in cluster.instances (${Object.keys(cluster.instances).join(', ')})`, 'check')
  if (to === self) throw new AccountMoveError('GH_ERR_MOVE_REFUSED', `account ${account} is already held by this instance (${self})`, 'check')
  const owner = host.directory.ownerOf(account)
  if (owner !== self) throw new AccountMoveError('GH_ERR_MOVE_REFUSED', `account ${account} is held by instance ${owner}, not this one (${self}): run the move there`, 'check')
  if (host.nats === null || !host.nats.isConnected()) throw new AccountMoveError('GH_ERR_MOVE_NATS_DOWN', 'NATS is not connected: a move needs the target to answer and the directory to change; nothing was done', 'check')

  const steps: MoveStepReport[] = []
  const done = (step: MoveStep, detail: Record<string, unknown>): void => {
    const report = { step, at: new Date().toISOString(), detail }
    host.recordChange({ operator, command: 'account-move', scope: { kind: 'account', account }, before: self, after: to, detail: { step, ...detail } }, account)
    steps.push(report)
    options.onStep?.(report)
  }
  const replyTimeoutMs = options.replyTimeoutMs ?? HANDOVER_REPLY_TIMEOUT_MS

  // 1 halt
  const tradingState = host.risk.tradingState(account)
  host.setTradingState(operator, account, 'halted')
  done('halt', { tradingStateBefore: tradingState })

  // 2 drain: the lanes' own mass-cancel, then wait for the exchange's answers.
  const cancelsSent = (await host.askLanes('mass-cancel', { scope: { kind: 'account', account } })).reduce((sum, n) => sum + n, 0)
  const drainTimeoutMs = options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS
  const deadline = Date.now() + drainTimeoutMs
  let counters = host.risk.counters(account)
  while (counters.openOrders > 0 || counters.reservedFen > 0) {
    if (Date.now() >= deadline) {
      throw new AccountMoveError('GH_ERR_MOVE_NOT_DRAINED', `account ${account} still has ${counters.openOrders} working orders after ${drainTimeoutMs} ms (${cancelsSent} cancels sent): it stays halted here and homed here; check the exchange link and run the move again`, 'drain')
    }
    await new Promise((resolve) => setTimeout(resolve, DRAIN_POLL_MS))
    counters = host.risk.counters(account)
  }
  done('drain', { cancelsSent })

  // 3 handover
  const snapshot = handoverSnapshot(counters)
  await ask(host, to, { kind: 'install', account, from: self, operator, positions: snapshot.positions, daily: snapshot.daily }, replyTimeoutMs)
  // The source hands the same amounts away, so its own state (and its
  // recovery, and tomorrow's roll) no longer holds them.
  const away = negated({ handover: { from: self, to, operator }, positions: snapshot.positions, accounts: [snapshot.daily] })
  await installHere(host, away, account)
  done('handover', { positions: snapshot.positions, daily: snapshot.daily })

  // 4 re-home
  let revision: number
  try {
    revision = await host.directorySync.put(account, to)
  } catch (err) {
    throw new AccountMoveError('GH_ERR_MOVE_REHOME', `the directory entry could not be written (${(err as Error).message}): account ${account} is halted, its state is on ${to}, and it is still homed here; run the move again once NATS is back`, 're-home', { cause: err })
  }
  // At once here, without waiting for the watch: no new logon here from now on.
  host.directory.set(account, to)
  done('re-home', { revision })

  // 5 disconnect and resume
  const closed = await host.disconnectAccount(account, `account ${account} is now held by instance ${to}; log on again to be redirected`)
  done('disconnect', { sessionsClosed: closed })
  await ask(host, to, { kind: 'resume', account, from: self, operator, tradingState }, replyTimeoutMs)
  done('resume', { tradingState })
  return steps
}
