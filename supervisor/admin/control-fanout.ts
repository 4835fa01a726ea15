// The cluster's control fan-out: an admin change made on one instance is
// applied on every instance (docs/cluster.md, "Control fan-out").
//
// Core NATS request/reply on cluster.control.subject, no JetStream: every
// instance that applies a change journals and persists it like a local
// one, and an instance that is down or cut off when a change is made does
// not get it later; the reply's `missing` list tells ops which to fix.
//
// What travels is the EFFECT of a change as the admin protocol spells it
// (command and arguments), after dual control: a change held for a second
// operator travels as 'held' (each instance holds a copy under the same
// request ID), and its approval as 'applied' with the approval attached,
// sent by the instance where it was approved. A receiving instance checks
// the message with the admin protocol's own schemas and applies it through
// the same dispatch and SupervisorAdmin method a local change runs, in the
// same one-at-a-time queue. A received change is never sent on again.
import { isUtf8 } from 'node:buffer'
import { randomBytes } from 'node:crypto'
import { createInbox, type Msg, type Subscription } from '@nats-io/transport-node'
import { z } from 'zod'
import { InstanceIdSchema, type GatewayConfig } from '../../config/config.js'
import type { NatsLink } from '../../cluster/nats-connection.js'
import type { AdminApi, ChangeReply, PendingInfo } from './admin-api.js'
import { OperatorSchema, commandArgs, parseRequestObject, type AdminRequest } from './admin-protocol.js'
import { errorBody, execute, type ChangeFanOut } from './admin-server.js'
import type { ControlContext, SupervisorAdmin } from './supervisor-admin.js'
import type { ErrorCode } from '../../protocol/error-codes.js'
import { summarizeReplies, type FanOutSummary } from '../../cluster/control-summary.js'

/** The admin commands whose effect every instance applies. */
export const FANNED_OUT_COMMANDS = [
  'limits.set', 'trading-state.set', 'kill-switch.set', 'programmatic-report.set',
  'apps.register', 'apps.status', 'apps.bind', 'apps.unbind',
  // Only for a request held on every instance: its copies are rejected too.
  'pending.reject',
] as const
export type FannedOutCommand = typeof FANNED_OUT_COMMANDS[number]

/** A change message is a few hundred bytes; anything past this is not one, and is not read. */
export const MAX_CONTROL_MESSAGE_BYTES = 64 * 1024
/** Change IDs remembered against replays. Changes are made by people: this is days of them. */
const SEEN_CHANGE_IDS = 10_000
/** Held requests whose effect this instance remembers, for when one is approved here. */
const HELD_REQUESTS = 1000
/**
 * A change sent longer ago than this is refused as late: after a restart
 * the remembered IDs are gone, and a message older than any reply timeout
 * is a replay or an instance whose clock is off.
 */
const MAX_AGE_FLOOR_MS = 60_000

const requestId = commandArgs['pending.approve'].shape.requestId

/** What one instance sends the others. */
export const ControlMessageSchema = z.object({
  v: z.literal(1),
  /** `<origin>.<16 hex digits>`: unique, and names where the change was made. */
  changeId: z.string().regex(/^[A-Za-z0-9_-]{1,32}\.[0-9a-f]{16}$/, 'must be <gatewayId>.<16 hex digits>'),
  origin: InstanceIdSchema,
  /** The operator at the origin, as the admin command named them. */
  operator: OperatorSchema,
  /** Wall-clock ms since the epoch at the origin. */
  sentAtMs: z.number().int().nonnegative(),
  /** The admin request's command and args (checked with the admin protocol's schemas on receipt). */
  request: z.object({ command: z.enum(FANNED_OUT_COMMANDS), args: z.unknown() }).strict(),
  gating: z.discriminatedUnion('mode', [
    z.object({
      mode: z.literal('applied'),
      approval: z.object({ requestId, requestedBy: OperatorSchema, approvedBy: OperatorSchema }).strict().optional(),
    }).strict(),
    z.object({ mode: z.literal('held'), requestId, requestedBy: OperatorSchema }).strict(),
  ]),
}).strict()
export type ControlMessage = z.infer<typeof ControlMessageSchema>

/** One instance's answer to a change. */
export const ControlReplySchema = z.object({
  instance: InstanceIdSchema,
  ok: z.boolean(),
  changes: z.array(z.unknown()).max(10_000).optional(),
  error: z.object({ code: z.string().max(64), message: z.string().max(2000) }).strict().optional(),
  /** Wall-clock µs since the epoch when it was applied (or refused). */
  appliedAtUs: z.number().int().nonnegative(),
}).strict()
export type ControlReply = z.infer<typeof ControlReplySchema>

const CONTROL_CODES = {
  INVALID: 'GH_ERR_CLUSTER_CONTROL_INVALID',
  TOO_LARGE: 'GH_ERR_CLUSTER_CONTROL_TOO_LARGE',
  REPLAYED: 'GH_ERR_CLUSTER_CONTROL_REPLAYED',
} as const satisfies Record<string, ErrorCode>

/** Counts for /metrics (gatehouse_cluster_control_*). */
export interface ControlCounts {
  /** Changes received from another instance and applied here. */
  applied: number
  /** Changes received and well-formed that this instance refused (e.g. an account it does not have). */
  failed: number
  /** Messages on the subject that are not a change this instance applies (malformed, oversized, replayed, unknown origin). */
  receivedInvalid: number
  /** Instances that did not answer a change made here, summed over changes. */
  missing: number
}

export interface ControlFanoutOptions {
  config: GatewayConfig
  link: NatsLink
  admin: AdminApi & Pick<SupervisorAdmin, 'withControl'>
  nowMs?: () => number
}

type Exclusive = <T>(change: () => Promise<T>) => Promise<T>

function nowUs (): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000)
}

export class ControlFanout implements ChangeFanOut {
  readonly counts: ControlCounts = { applied: 0, failed: 0, receivedInvalid: 0, missing: 0 }
  private readonly self: string
  private readonly subject: string
  private readonly replyTimeoutMs: number
  private readonly maxAgeMs: number
  private readonly nowMs: () => number
  /** Until the admin server's queue is handed over: changes received before it run one at a time here. */
  private queue: Promise<unknown> = Promise.resolve()
  private exclusive: Exclusive = async (change) => {
    const run = this.queue.then(change)
    this.queue = run.catch(() => undefined)
    return await run
  }

  private readonly seen = new Set<string>()
  /** Change IDs this instance sent: its own messages come back to it on the subject. */
  private readonly sent = new Set<string>()
  private readonly held = new Map<string, { request: ControlMessage['request'], requestedBy: string }>()
  private subscription: Subscription | null = null
  private closed = false

  constructor (private readonly options: ControlFanoutOptions) {
    const { config } = options
    this.self = config.gatewayId
    this.subject = config.cluster.control.subject
    this.replyTimeoutMs = config.cluster.control.replyTimeoutMs
    this.maxAgeMs = Math.max(MAX_AGE_FLOOR_MS, 10 * this.replyTimeoutMs)
    this.nowMs = options.nowMs ?? Date.now
  }

  /** Changes received from now on run in the admin server's queue, one at a time with local ones. */
  useQueue (exclusive: Exclusive): void {
    this.exclusive = exclusive
  }

  /**
   * Subscribes once NATS is connected (the client subscribes again after
   * each reconnect). Resolves once the server has the subscription: from
   * then on a change made elsewhere reaches this instance.
   */
  async start (): Promise<void> {
    let nc
    try {
      nc = await this.options.link.ready
    } catch {
      return // closed before connecting: nothing to receive
    }
    if (this.closed) return
    this.subscription = nc.subscribe(this.subject, {
      callback: (err, msg) => {
        if (err === null) void this.receive(msg)
      },
    })
    await nc.flush().catch(() => {})
  }

  async close (): Promise<void> {
    this.closed = true
    this.subscription?.unsubscribe()
    this.subscription = null
  }

  // ---- a change made here ------------------------------------------------------

  async change (request: AdminRequest, apply: () => Promise<unknown>, exclusive: Exclusive): Promise<unknown> {
    if (!this.mayFanOut(request)) return await exclusive(apply)
    const changeId = `${this.self}.${randomBytes(8).toString('hex')}`
    let message: ControlMessage | null = null
    // Applied here first, in the queue; the other instances are waited for
    // outside it, so two instances changing things at once never wait on
    // each other's queue.
    const result = await exclusive(async () => {
      const reply = await this.options.admin.withControl({ changeId, origin: this.self }, apply) as ChangeReply
      message = this.messageFor(changeId, request, reply)
      return reply
    })
    if (message === null) return result
    const summary = await this.send(message)
    this.counts.missing += summary.missing.length
    return { ...(result as object), ...summary }
  }

  private mayFanOut (request: AdminRequest): boolean {
    if (request.command === 'pending.approve' || request.command === 'pending.reject') return this.held.has(request.args.requestId)
    return (FANNED_OUT_COMMANDS as readonly string[]).includes(request.command)
  }

  /** The message for a change applied here, or null if there is nothing to send (e.g. an approval of a request only this instance held). */
  private messageFor (changeId: string, request: AdminRequest, reply: ChangeReply): ControlMessage | null {
    const base = { v: 1 as const, changeId, origin: this.self, operator: request.operator ?? 'gateway', sentAtMs: this.nowMs() }
    if (request.command === 'pending.approve') {
      const held = this.held.get(request.args.requestId)
      if (held === undefined) return null
      this.held.delete(request.args.requestId)
      return { ...base, request: held.request, gating: { mode: 'applied', approval: { requestId: request.args.requestId, requestedBy: held.requestedBy, approvedBy: request.operator } } }
    }
    if (request.command === 'pending.reject') this.held.delete(request.args.requestId)
    const pending = reply.detail?.pending as PendingInfo | undefined
    const sent = { command: request.command as FannedOutCommand, args: request.args }
    if (pending !== undefined) {
      this.remember(pending.requestId, sent, request.operator ?? 'gateway')
      return { ...base, request: sent, gating: { mode: 'held', requestId: pending.requestId, requestedBy: request.operator ?? 'gateway' } }
    }
    return { ...base, request: sent, gating: { mode: 'applied' } }
  }

  private remember (id: string, request: ControlMessage['request'], requestedBy: string): void {
    this.held.set(id, { request, requestedBy })
    while (this.held.size > HELD_REQUESTS) this.held.delete(this.held.keys().next().value!)
  }

  /** Publishes with a reply inbox and collects answers until every other instance has answered or the timeout. */
  private async send (message: ControlMessage): Promise<FanOutSummary> {
    const instances = Object.keys(this.options.config.cluster.instances)
    const others = new Set(instances.filter((id) => id !== this.self))
    const replies: ControlReply[] = []
    const nc = this.options.link.connection()
    // Not connected: publishing would buffer the change and apply it
    // whenever NATS comes back, long after ops were told it was missing.
    if (others.size > 0 && nc !== null && this.options.link.isConnected()) {
      await new Promise<void>((resolve) => {
        const answered = new Set<string>()
        let sub: Subscription | null = null
        const done = (): void => {
          clearTimeout(timer)
          sub?.unsubscribe()
          this.sent.delete(message.changeId)
          resolve()
        }
        const timer = setTimeout(done, this.replyTimeoutMs)
        try {
          const inbox = createInbox()
          sub = nc.subscribe(inbox, {
            callback: (err, msg) => {
              if (err !== null) return
              const reply = parseReply(msg.data)
              if (reply === null) return
              replies.push(reply)
              if (others.has(reply.instance)) answered.add(reply.instance)
              if (answered.size === others.size) done()
            },
          })
          this.sent.add(message.changeId)
          nc.publish(this.subject, JSON.stringify(message), { reply: inbox })
        } catch {
          done()
        }
      })
    }
    return summarizeReplies(this.self, instances, replies)
  }

  // ---- a change made elsewhere ----------------------------------------------------

  /** Never throws: every message is answered (if it asked for a reply) or, for this instance's own, ignored. */
  private async receive (msg: Msg): Promise<void> {
    let reply: ControlReply | null
    try {
      reply = await this.handle(msg.data)
    } catch (err) {
      this.counts.receivedInvalid++
      reply = this.refusal(CONTROL_CODES.INVALID, `the change could not be handled: ${(err as Error).message}`)
    }
    if (reply === null || msg.reply === undefined || msg.reply === '') return
    try {
      msg.respond(JSON.stringify(reply))
    } catch { /* the connection went away: the origin lists this instance as missing */ }
  }

  private refusal (code: string, message: string): ControlReply {
    return { instance: this.self, ok: false, error: { code, message }, appliedAtUs: nowUs() }
  }

  private invalid (code: string, message: string): ControlReply {
    this.counts.receivedInvalid++
    return this.refusal(code, `${message}; nothing was changed`)
  }

  private async handle (data: Uint8Array): Promise<ControlReply | null> {
    if (data.length > MAX_CONTROL_MESSAGE_BYTES) return this.invalid(CONTROL_CODES.TOO_LARGE, `the message is ${data.length} bytes, more than a change can be (${MAX_CONTROL_MESSAGE_BYTES})`)
    if (!isUtf8(data)) return this.invalid(CONTROL_CODES.INVALID, 'the message is not UTF-8 JSON')
    let input: unknown
    try {
      input = JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.length).toString('utf8'))
    } catch {
      return this.invalid(CONTROL_CODES.INVALID, 'the message is not JSON')
    }
    const parsed = ControlMessageSchema.safeParse(input)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!
      return this.invalid(CONTROL_CODES.INVALID, `the message is not a change: ${issue.path.join('.') || '(message)'}: ${issue.message}`)
    }
    const message = parsed.data
    if (message.origin === this.self) {
      // Its own change, back from the subject: nothing to do.
      if (this.sent.has(message.changeId)) return null
      return this.invalid(CONTROL_CODES.INVALID, `the message claims to come from this instance (${this.self}), which did not send it`)
    }
    if (this.options.config.cluster.instances[message.origin] === undefined) return this.invalid(CONTROL_CODES.INVALID, `origin "${message.origin}" is not in cluster.instances`)
    if (!message.changeId.startsWith(`${message.origin}.`)) return this.invalid(CONTROL_CODES.INVALID, 'the change ID does not name its origin')
    if (this.seen.has(message.changeId)) return this.invalid(CONTROL_CODES.REPLAYED, `change ${message.changeId} was received before`)
    const ageMs = this.nowMs() - message.sentAtMs
    if (Math.abs(ageMs) > this.maxAgeMs) {
      const when = ageMs > 0 ? `was sent ${Math.round(ageMs / 1000)} s ago` : `is dated ${Math.round(-ageMs / 1000)} s ahead of this instance's clock`
      return this.invalid(CONTROL_CODES.REPLAYED, `change ${message.changeId} ${when}, more than the ${this.maxAgeMs / 1000} s a change may take`)
    }
    const request = parseRequestObject({ id: message.changeId, operator: message.operator, command: message.request.command, args: message.request.args })
    if (!request.ok) return this.invalid(CONTROL_CODES.INVALID, `the change's request is not valid: ${request.error.message}`)
    // Remembered before it is applied: a copy arriving meanwhile is a replay too.
    this.seen.add(message.changeId)
    while (this.seen.size > SEEN_CHANGE_IDS) this.seen.delete(this.seen.values().next().value!)
    return await this.apply(message, request.request)
  }

  private async apply (message: ControlMessage, request: AdminRequest): Promise<ControlReply> {
    const context: ControlContext = { changeId: message.changeId, origin: message.origin, received: message.gating }
    // Who made it, and where: the journal's record of it here says so.
    const here = { ...request, operator: `${message.operator}@${message.origin}` } as AdminRequest
    try {
      const result = await this.exclusive(async () => await this.options.admin.withControl(context, async () => await execute(this.options.admin, here))) as ChangeReply
      if (message.gating.mode === 'held' && result.detail?.pending !== undefined) this.remember(message.gating.requestId, message.request, message.gating.requestedBy)
      if (request.command === 'pending.reject') this.held.delete(request.args.requestId)
      this.counts.applied++
      return { instance: this.self, ok: true, changes: result.changes, appliedAtUs: nowUs() }
    } catch (err) {
      this.counts.failed++
      const body = errorBody(err)
      return this.refusal(body.code, body.message)
    }
  }
}

function parseReply (data: Uint8Array): ControlReply | null {
  if (data.length > MAX_CONTROL_MESSAGE_BYTES) return null
  try {
    const parsed = ControlReplySchema.safeParse(JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.length).toString('utf8')))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}
