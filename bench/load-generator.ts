// A load generator process, forked by run.ts for one run of one scenario
// against one system. It connects its sessions over its own WebSocket
// framing (ws-client.ts), logs them on, sends orders (open loop at fixed
// intended times, or closed loop with a window), and measures every order
// from its intended send time to its first report, so a stalled system is
// charged for every order it delayed (no coordinated omission).
//
// It runs until its spec's time bounds are spent, then reports one
// GeneratorResult over IPC and exits. It exits too when the runner goes
// away (IPC disconnect), so no generator outlives a run.
import { performance } from 'node:perf_hooks'
import { decodeClientEnvelope, encodeClientEnvelope } from '../protocol/client-codec.js'
import { ExecType, LinkEnvelope, Side, TimeInForce, reasonName, wireInt, type ClientEnvelope, type Instrument, type InstrumentInit } from '../protocol/messages.js'
import { computeAuthProof } from '../protocol/auth-proof.js'
import {
  ScannedMessage, clientCancelBytes, clientNewOrderBytes, linkCancelBytes, linkNewOrderBytes,
  scanClientEnvelope, scanLinkEnvelope, writeClientCancel, writeClientNewOrder, writeLinkCancel, writeLinkNewOrder,
  type OrderTemplate,
} from './order-wire.js'
import { OPCODE_BINARY, OPCODE_TEXT, WsClient, clientFrameHeaderBytes, writeClientFrameHeader } from './ws-client.js'
import { encodeHistogram, newHistogram, recordNs, type Histogram } from './histogram.js'
import { checkWireSelf } from './wire-self-check.js'
import { Pacer } from './pacer.js'
import type { GeneratorResult, GeneratorSpec, GeneratorToRunner, RunnerToGenerator, SecondSample } from './types.js'

// Order slot states.
const FREE = 0
const AWAITING_FIRST_REPORT = 1
const AWAITING_FINAL_REPORT = 2
/** rest-and-cancel: acknowledged and resting; the session's next turn cancels it. */
const RESTING = 3
const CANCEL_SENT = 4

/** How often the runner hears about progress. */
const PROGRESS_INTERVAL_MS = 250
/** Extra time on top of the spec's bounds before the generator gives up on itself. */
const SELF_DEADLINE_SLACK_MS = 15_000
/** Sending starts this long after the sessions are up, so the first intended send is not already late. */
const START_DELAY_MS = 20
/** Drain polls for missing answers this often. */
const DRAIN_POLL_MS = 20
/**
 * The open loop spins (setImmediate) when the next send is this close...
 * (at 10k/s orders are 100 µs apart: it sleeps about the first half of each
 * interval and spins the rest)
 */
export const DEFAULT_SPIN_WINDOW_US = 70
/**
 * ...and otherwise has the pacer wake it this long before the send is due
 * (the spin window less 10 µs): with the pacer's 1 µs timer slack
 * (pacer.ts) a futex sleep ends ~20 µs late at p50, ~35 µs at p90, and the
 * wake-up message takes ~10-20 µs more. `--pacer-spin-us` sets the window
 * (250 spins at 10k/s, as the generator did before: for comparing).
 */
const WAKE_BEFORE_SPIN_END_US = 10

function send (message: GeneratorToRunner): void {
  process.send?.(message)
}

function countReason (counts: Map<number, number>, reason: number): void {
  counts.set(reason, (counts.get(reason) ?? 0) + 1)
}

/** Reason name -> count, for the JSON results (e.g. { THROTTLED_SESSION: 12 }). */
function reasonCounts (counts: Map<number, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [reason, count] of counts) out[reasonName(reason)] = count
  return out
}

function nextPowerOfTwo (n: number): number {
  let p = 1
  while (p < n) p *= 2
  return p
}

/**
 * One client session: a connection plus the state of its orders, in rings
 * indexed by order ID (order IDs are 1, 2, 3, ... per session, so the slot
 * is id & mask and no map is needed on the hot path).
 */
class Session {
  ws: WsClient | null = null
  loggedOn = false
  /** Link seq of the next message (bare-relay mode numbers its own link messages). */
  nextLinkSeq = 1
  nextOrderId = 1
  /** Orders not finished yet. */
  outstanding = 0
  /** rest-and-cancel: the order this session has resting, 0 if none. */
  restingOrderId = 0
  cancelIntendedMs = 0
  /** Orders answered in the measurement window (per-lane throughput when sessions span lanes). */
  answered = 0
  dirty = false
  readonly intendedMs: Float64Array
  readonly ids: Float64Array
  readonly state: Uint8Array
  readonly mask: number
  logonResolve: ((ok: boolean) => void) | null = null

  constructor (readonly index: number, capacity: number) {
    this.intendedMs = new Float64Array(capacity)
    this.ids = new Float64Array(capacity)
    this.state = new Uint8Array(capacity)
    this.mask = capacity - 1
  }
}

class Generator {
  private readonly sessions: Session[] = []
  private readonly scanned = new ScannedMessage()
  private readonly template: OrderTemplate
  /** Limit price of BUY and of SELL orders (rest-and-cancel only buys). */
  private buyPrice = 0
  private sellPrice = 0
  private readonly latency: Histogram = newHistogram()
  private readonly cancelLatency: Histogram = newHistogram()
  private readonly connectLatency: Histogram = newHistogram()
  /** Open loop: how late the generator itself sent each order (actual - intended), to tell its lateness from the system's. */
  private readonly sendLag: Histogram = newHistogram()
  private readonly secondHistogram: Histogram = newHistogram()
  private readonly perSecond: SecondSample[] = []
  private currentSecond = -1
  private measureStartMs = Infinity
  private measureEndMs = Infinity
  private sending = false
  private readonly dirty: Session[] = []
  private readonly errors: string[] = []
  private totalOutstanding = 0
  private sent = 0
  private answered = 0
  private rejected = 0
  /** Of `rejected`, those intended inside the measurement window (the rest fell in the warm-up). */
  private rejectedInWindow = 0
  private protocolRejects = 0
  /** RejectReason code -> orders refused (first report REJECTED) / protocol rejects, to say what refused them. */
  private readonly rejectReasons = new Map<number, number>()
  private readonly protocolRejectReasons = new Map<number, number>()
  /** Reports that carried a MonitorWarning (Gatehouse only). */
  private monitorWarnings = 0
  private unanswered = 0
  private unsent = 0
  private saturated = false
  private closedSessions = 0
  private connectElapsedMs = 0
  private connectFailures = 0
  /** Logons finished (either way) so far, for progress. */
  private connectsDone = 0
  /** logonOnly: when each logon completed, ms since the connect phase began. */
  private readonly logonDoneMs: number[] = []
  private instruments: InstrumentInit[] = []
  private readonly textEncoder = new TextEncoder()

  constructor (private readonly spec: GeneratorSpec) {
    const perSessionCap = spec.pacing === 'closed-loop'
      ? spec.windowPerSession
      : Math.ceil(spec.maxOutstanding / spec.credentials.length)
    const capacity = nextPowerOfTwo(Math.max(16, perSessionCap * 2 + 2))
    for (let i = 0; i < spec.credentials.length; i++) this.sessions.push(new Session(i, capacity))
    this.template = { instrument: this.textEncoder.encode(spec.instrument), account: new Uint8Array(0), quantityLots: 1, timeInForce: TimeInForce.FAK }
  }

  // ---- connect and log on ---------------------------------------------

  async connectAll (): Promise<void> {
    const started = performance.now()
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < this.sessions.length) {
        const session = this.sessions[next++]!
        const t0 = performance.now()
        try {
          await this.connectOne(session)
          const t1 = performance.now()
          recordNs(this.connectLatency, (t1 - t0) * 1e6)
          if (this.spec.logonOnly === true) this.logonDoneMs.push(t1 - started)
        } catch (err) {
          this.connectFailures++
          if (this.errors.length < 10) this.errors.push(`session ${session.index}: ${(err as Error).message}`)
        }
        this.connectsDone++
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.spec.connectConcurrency, this.sessions.length) }, worker))
    this.connectElapsedMs = performance.now() - started
  }

  private async connectOne (session: Session): Promise<void> {
    const { spec } = this
    // Armed before connecting: the first reply may arrive in the very chunk
    // that completes the handshake, before `await` below returns.
    const logonDone = new Promise<boolean>((resolve) => { session.logonResolve = resolve })
    const ws = await WsClient.connect(spec.host, spec.sessionPorts?.[session.index] ?? spec.port,
      (opcode, buf, start, end) => { this.onFrame(session, opcode, buf, start, end) },
      () => { this.onClosed(session) },
      spec.connectTimeoutMs,
      (client) => { session.ws = client })
    // Runs after ws-client's own 'data' listener has parsed the chunk: one
    // write(2) per chunk for whatever the reports made us send.
    ws.socket.on('data', () => { this.flushDirty() })
    const credentials = spec.credentials[session.index]!
    if (spec.wire === 'json') {
      ws.appendFrame(OPCODE_TEXT, this.textEncoder.encode(JSON.stringify({ type: 'logon', account: credentials.account, password: credentials.password })))
      ws.flush()
    }
    // Client wire: the gateway opens with an AuthChallenge and the logon
    // steps follow from it (onLogonStep). Link wire: the relay logs its own
    // link on and forwards the exchange's logon reply; nothing to send.
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<boolean>((resolve) => { timer = setTimeout(() => { resolve(false) }, spec.connectTimeoutMs) })
    const ok = await Promise.race([logonDone, timeout])
    clearTimeout(timer)
    if (!ok) {
      ws.close()
      throw new Error('logon refused or not answered in time')
    }
  }

  private onLogonReply (session: Session, ok: boolean, text: string, instruments: InstrumentInit[], nextExpectedSeq: number): void {
    if (ok) {
      session.loggedOn = true
      if (nextExpectedSeq > 0) session.nextLinkSeq = nextExpectedSeq
      if (this.instruments.length === 0) this.instruments = instruments
    } else if (this.errors.length < 10) {
      this.errors.push(`session ${session.index}: logon refused: ${text}`)
    }
    session.logonResolve?.(ok)
    session.logonResolve = null
  }

  /**
   * The look-through logon, one step per gateway message: AuthChallenge ->
   * Authenticate (AuthCode proof over the nonce), AuthenticateReply ->
   * TerminalInfo, TerminalInfoReply -> Logon, LogonReply -> trading.
   * Cold path: full decode with the generated codec.
   */
  private onLogonStep (session: Session, envelope: ClientEnvelope): void {
    const ws = session.ws
    if (ws === null) return
    const credentials = this.spec.credentials[session.index]!
    const identity = this.spec.identity
    const refuse = (step: string, text: string | null | undefined): void => {
      this.onLogonReply(session, false, `${step} refused: ${text ?? 'no detail'}`, [], 0)
    }
    switch (envelope.body) {
      case 'authChallenge': {
        if (identity === undefined) { refuse('authenticate', 'no client identity in the spec'); return }
        const challenge = envelope.authChallenge!
        const proof = computeAuthProof(identity.authCode, challenge.nonce ?? new Uint8Array(0), identity.appId, credentials.account, challenge.lane ?? '')
        ws.appendFrame(OPCODE_BINARY, encodeClientEnvelope({ authenticate: { appId: identity.appId, account: credentials.account, proof } }))
        break
      }
      case 'authenticateReply':
        if (envelope.authenticateReply!.ok !== true) { refuse('authenticate', envelope.authenticateReply!.text); return }
        ws.appendFrame(OPCODE_BINARY, encodeClientEnvelope({ terminalInfo: { ...identity!.terminalInfo, collectedTimeUs: Date.now() * 1000 } }))
        break
      case 'terminalInfoReply':
        if (envelope.terminalInfoReply!.ok !== true) { refuse('terminal info', envelope.terminalInfoReply!.text); return }
        ws.appendFrame(OPCODE_BINARY, encodeClientEnvelope({ logon: { account: credentials.account, password: credentials.password } }))
        break
      case 'logonReply': {
        const reply = envelope.logonReply!
        this.onLogonReply(session, reply.ok === true, reply.text ?? '', (reply.instruments ?? []) as InstrumentInit[], 0)
        return
      }
      case 'reject':
        refuse('logon', envelope.reject!.text)
        return
      default:
        return
    }
    ws.flush()
  }

  private onClosed (session: Session): void {
    this.closedSessions++
    if (this.sending && this.errors.length < 10) this.errors.push(`session ${session.index} closed by the server during the run`)
    session.logonResolve?.(false)
  }

  /** Picks the order price from the reference data the logon reply carried. */
  private prepareOrders (): void {
    const instrument = this.instruments.find((i) => i.symbol === this.spec.instrument) as Instrument | undefined
    if (instrument === undefined) throw new Error(`instrument ${this.spec.instrument} is not in the logon reply (is the exchange link up?)`)
    const tick = wireInt(instrument.tickSize) || 1
    const reference = Math.round(wireInt(instrument.referencePrice) / tick) * tick
    if (this.spec.flow === 'fak-alternate') {
      // A tick either side of the reference: a BUY never crosses a SELL,
      // so an account's own orders never meet (Gatehouse's self-match
      // prevention would refuse them) and nothing ever fills.
      this.buyPrice = reference - tick
      this.sellPrice = reference + tick
      this.template.timeInForce = TimeInForce.FAK
    } else {
      // 4% under the reference, or limit-down if the band is narrower:
      // below every other order of the run, so it rests and never fills,
      // and inside the terminal lane's default fat-finger band (5%).
      const bid = Math.ceil(wireInt(instrument.referencePrice) * 0.96 / tick) * tick
      this.buyPrice = this.sellPrice = Math.max(bid, Math.ceil(wireInt(instrument.lowerLimitPrice) / tick) * tick)
      this.template.timeInForce = TimeInForce.GFD
    }
    this.template.account = this.textEncoder.encode(this.spec.credentials[0]!.account)
  }

  // ---- inbound ---------------------------------------------------------

  private onFrame (session: Session, opcode: number, buf: Buffer, start: number, end: number): void {
    const nowMs = performance.now()
    const wire = this.spec.wire
    if (wire === 'json') {
      if (opcode !== OPCODE_TEXT) return
      const message = JSON.parse(buf.toString('utf8', start, end)) as {
        type: string, clientOrderId?: number, execType?: number, reason?: number, ok?: boolean, text?: string, instruments?: InstrumentInit[]
      }
      if (message.type === 'executionReport') this.onReport(session, message.clientOrderId ?? 0, message.execType ?? 0, message.reason ?? 0, nowMs)
      else if (message.type === 'logonReply') this.onLogonReply(session, message.ok === true, message.text ?? '', message.instruments ?? [], 0)
      else if (message.type === 'reject') {
        this.protocolRejects++
        countReason(this.protocolRejectReasons, message.reason ?? 0)
      }
      return
    }
    if (opcode !== OPCODE_BINARY) return
    if (wire === 'client' && !session.loggedOn) {
      this.onLogonStep(session, decodeClientEnvelope(buf.subarray(start, end)))
      return
    }
    const scanned = this.scanned
    if (wire === 'client') scanClientEnvelope(buf, start, end, scanned)
    else scanLinkEnvelope(buf, start, end, scanned)
    switch (scanned.kind) {
      case 'report':
        if (scanned.warning) this.monitorWarnings++
        if (scanned.cancelRejected) this.protocolRejects++
        else this.onReport(session, scanned.orderId, scanned.execType, scanned.reason, nowMs)
        return
      case 'reject':
        this.protocolRejects++
        countReason(this.protocolRejectReasons, scanned.reason)
        return
      case 'logon-reply': {
        const reply = LinkEnvelope.decode(buf.subarray(start, end)).logonReply!
        this.onLogonReply(session, reply.ok === true, reply.text ?? '', (reply.instruments ?? []) as InstrumentInit[], wireInt(reply.nextExpectedSeq))
      }
    }
  }

  private onReport (session: Session, orderId: number, execType: number, reason: number, nowMs: number): void {
    const slot = orderId & session.mask
    if (session.ids[slot] !== orderId) return
    const state = session.state[slot]!
    const final = execType === ExecType.FILL || execType === ExecType.CANCELLED || execType === ExecType.REJECTED
    if (state === AWAITING_FIRST_REPORT) {
      const intendedMs = session.intendedMs[slot]!
      if (intendedMs >= this.measureStartMs && intendedMs < this.measureEndMs) {
        const ns = (nowMs - intendedMs) * 1e6
        recordNs(this.latency, ns)
        this.countAnswer(nowMs, ns)
        session.answered++
        if (execType === ExecType.REJECTED) this.rejectedInWindow++
      }
      if (execType === ExecType.REJECTED) {
        this.rejected++
        countReason(this.rejectReasons, reason)
      }
      if (final) {
        this.finish(session, slot)
      } else if (this.spec.flow === 'rest-and-cancel') {
        session.state[slot] = RESTING
        session.restingOrderId = orderId
      } else {
        session.state[slot] = AWAITING_FINAL_REPORT
      }
    } else if (state === AWAITING_FINAL_REPORT || state === RESTING) {
      if (final) this.finish(session, slot)
    } else if (state === CANCEL_SENT) {
      if (execType === ExecType.CANCELLED && session.cancelIntendedMs >= this.measureStartMs && session.cancelIntendedMs < this.measureEndMs) {
        recordNs(this.cancelLatency, (nowMs - session.cancelIntendedMs) * 1e6)
      }
      if (final) this.finish(session, slot)
    }
    if (this.sending && this.spec.pacing === 'closed-loop') this.refill(session, nowMs)
  }

  private finish (session: Session, slot: number): void {
    session.state[slot] = FREE
    if (session.restingOrderId === session.ids[slot]) session.restingOrderId = 0
    session.outstanding--
    this.totalOutstanding--
  }

  private countAnswer (nowMs: number, ns: number): void {
    const second = Math.floor((nowMs - this.measureStartMs) / 1000)
    if (second !== this.currentSecond) this.closeSecond(second)
    this.answered++
    const sample = this.perSecond[second]
    if (sample !== undefined) sample.answered++
    recordNs(this.secondHistogram, ns)
  }

  /** Ends the per-second window in progress and opens `second` (and any empty ones between). */
  private closeSecond (second: number): void {
    const previous = this.perSecond[this.currentSecond]
    if (previous !== undefined && this.secondHistogram.totalCount > 0) {
      previous.p50_us = Math.round(this.secondHistogram.getValueAtPercentile(50) / 10) / 100
      previous.p99_us = Math.round(this.secondHistogram.getValueAtPercentile(99) / 10) / 100
    }
    this.secondHistogram.reset()
    const lastSecond = Math.ceil(this.spec.measureS) - 1
    for (let s = this.perSecond.length; s <= Math.min(second, lastSecond); s++) this.perSecond.push({ t: s, sent: 0, answered: 0, p50_us: 0, p99_us: 0 })
    this.currentSecond = second
  }

  // ---- outbound --------------------------------------------------------

  /** Writes one new order for `session` with the given intended send time. */
  private sendOrder (session: Session, intendedMs: number, nowMs: number): void {
    const ws = session.ws!
    const orderId = session.nextOrderId++
    const slot = orderId & session.mask
    if (session.state[slot] !== FREE) {
      // Ring full: only possible if answers never come; count it as unsent.
      this.unsent++
      return
    }
    const side = this.spec.flow === 'rest-and-cancel' ? Side.BUY : (orderId & 1) === 1 ? Side.BUY : Side.SELL
    const price = side === Side.BUY ? this.buyPrice : this.sellPrice
    const t = this.template
    if (this.spec.wire === 'client') {
      const bytes = clientNewOrderBytes(t, orderId, price)
      const buf = ws.reserve(clientFrameHeaderBytes(bytes) + bytes)
      const pos = writeClientFrameHeader(buf, ws.outBytes, OPCODE_BINARY, bytes)
      ws.outBytes = writeClientNewOrder(buf, pos, t, orderId, side, price)
    } else if (this.spec.wire === 'link') {
      const seq = session.nextLinkSeq++
      const bytes = linkNewOrderBytes(t, seq, orderId, price)
      const buf = ws.reserve(clientFrameHeaderBytes(bytes) + bytes)
      const pos = writeClientFrameHeader(buf, ws.outBytes, OPCODE_BINARY, bytes)
      ws.outBytes = writeLinkNewOrder(buf, pos, t, seq, orderId, side, price)
    } else {
      ws.appendFrame(OPCODE_TEXT, this.textEncoder.encode(JSON.stringify({
        type: 'newOrder', clientOrderId: orderId, instrument: this.spec.instrument, side, price, quantityLots: 1, timeInForce: t.timeInForce,
      })))
    }
    session.ids[slot] = orderId
    session.intendedMs[slot] = intendedMs
    session.state[slot] = AWAITING_FIRST_REPORT
    session.outstanding++
    this.totalOutstanding++
    this.sent++
    if (intendedMs >= this.measureStartMs && intendedMs < this.measureEndMs) {
      const sample = this.perSecond[Math.floor((intendedMs - this.measureStartMs) / 1000)]
      if (sample !== undefined) sample.sent++
      recordNs(this.sendLag, (nowMs - intendedMs) * 1e6)
    }
    this.markDirty(session)
  }

  private sendCancel (session: Session, intendedMs: number): void {
    const ws = session.ws!
    const orderId = session.restingOrderId
    const slot = orderId & session.mask
    session.restingOrderId = 0
    session.state[slot] = CANCEL_SENT
    session.cancelIntendedMs = intendedMs
    if (this.spec.wire === 'client') {
      const bytes = clientCancelBytes(orderId)
      const buf = ws.reserve(clientFrameHeaderBytes(bytes) + bytes)
      const pos = writeClientFrameHeader(buf, ws.outBytes, OPCODE_BINARY, bytes)
      ws.outBytes = writeClientCancel(buf, pos, orderId)
    } else if (this.spec.wire === 'link') {
      const seq = session.nextLinkSeq++
      const bytes = linkCancelBytes(seq, orderId)
      const buf = ws.reserve(clientFrameHeaderBytes(bytes) + bytes)
      const pos = writeClientFrameHeader(buf, ws.outBytes, OPCODE_BINARY, bytes)
      ws.outBytes = writeLinkCancel(buf, pos, seq, orderId)
    } else {
      ws.appendFrame(OPCODE_TEXT, this.textEncoder.encode(JSON.stringify({ type: 'cancelOrder', clientOrderId: orderId })))
    }
    this.markDirty(session)
  }

  private markDirty (session: Session): void {
    if (session.dirty) return
    session.dirty = true
    this.dirty.push(session)
  }

  private flushDirty (): void {
    const dirty = this.dirty
    for (let i = 0; i < dirty.length; i++) {
      const session = dirty[i]!
      session.dirty = false
      session.ws?.flush()
    }
    dirty.length = 0
  }

  private refill (session: Session, nowMs: number): void {
    if (!session.loggedOn || session.ws?.open !== true) return
    while (session.outstanding < this.spec.windowPerSession) this.sendOrder(session, nowMs, nowMs)
  }

  // ---- the run ---------------------------------------------------------

  async run (): Promise<GeneratorResult> {
    const { spec } = this
    if (spec.logonOnly === true) return this.runLogons()
    await this.connectAll()
    send({ type: 'phase', phase: 'connected' })
    const live = this.sessions.filter((s) => s.loggedOn)
    if (live.length === 0) throw new Error(`no session logged on (${this.errors.join('; ') || 'no detail'})`)
    this.prepareOrders()

    const startMs = performance.now() + START_DELAY_MS
    this.measureStartMs = startMs + spec.warmupS * 1000
    this.measureEndMs = this.measureStartMs + spec.measureS * 1000
    this.closeSecond(0)
    this.currentSecond = -1
    const progressTimer = setInterval(() => {
      send({ type: 'progress', fraction: Math.min(1, (performance.now() - startMs) / (this.measureEndMs - startMs)) })
    }, PROGRESS_INTERVAL_MS)
    const measuringTimer = setTimeout(() => { send({ type: 'phase', phase: 'measuring' }) }, this.measureStartMs - performance.now())
    this.sending = true
    try {
      if (spec.pacing === 'closed-loop') await this.runClosedLoop(live, startMs)
      else await this.runOpenLoop(live, startMs)
      send({ type: 'phase', phase: 'draining' })
      this.sending = false
      await this.drain()
    } finally {
      clearInterval(progressTimer)
      clearTimeout(measuringTimer)
    }
    if (this.currentSecond >= 0) this.closeSecond(this.currentSecond + 1)
    for (const session of this.sessions) session.ws?.close()
    return {
      label: spec.label,
      sessions: live.length,
      latencyHistogram: encodeHistogram(this.latency),
      cancelHistogram: encodeHistogram(this.cancelLatency),
      connectHistogram: encodeHistogram(this.connectLatency),
      sendLagHistogram: encodeHistogram(this.sendLag),
      connectElapsedMs: this.connectElapsedMs,
      connected: live.length,
      connectFailures: this.connectFailures,
      measureS: spec.measureS,
      sent: this.sent,
      answered: this.answered,
      rejected: this.rejected,
      rejectedInWindow: this.rejectedInWindow,
      protocolRejects: this.protocolRejects,
      rejectReasons: reasonCounts(this.rejectReasons),
      protocolRejectReasons: reasonCounts(this.protocolRejectReasons),
      monitorWarnings: this.monitorWarnings,
      unanswered: this.unanswered,
      unsent: this.unsent,
      saturated: this.saturated,
      closedSessions: this.closedSessions,
      perSecond: this.perSecond.slice(0, Math.ceil(spec.measureS)),
      ...(spec.sessionPorts === undefined ? {} : { answeredBySession: this.sessions.map((s) => s.answered) }),
      errors: this.errors,
    }
  }

  /**
   * logonOnly: every session connects and logs on (connectConcurrency at a
   * time) and stays logged on until the last one is done, as at a market
   * open; the connect histogram is the result. perSecond counts logons.
   */
  private async runLogons (): Promise<GeneratorResult> {
    const { spec } = this
    const progressTimer = setInterval(() => {
      send({ type: 'progress', fraction: this.connectsDone / this.sessions.length })
    }, PROGRESS_INTERVAL_MS)
    send({ type: 'phase', phase: 'measuring' })
    try {
      await this.connectAll()
    } finally {
      clearInterval(progressTimer)
    }
    send({ type: 'phase', phase: 'draining' })
    for (const session of this.sessions) session.ws?.close()
    const perSecond: SecondSample[] = []
    for (const ms of this.logonDoneMs) {
      const second = Math.floor(ms / 1000)
      for (let t = perSecond.length; t <= second; t++) perSecond.push({ t, sent: 0, answered: 0, p50_us: 0, p99_us: 0 })
      perSecond[second]!.answered++
    }
    const connected = this.logonDoneMs.length
    const empty = encodeHistogram(newHistogram())
    return {
      label: spec.label,
      sessions: connected,
      latencyHistogram: empty,
      cancelHistogram: empty,
      connectHistogram: encodeHistogram(this.connectLatency),
      sendLagHistogram: empty,
      connectElapsedMs: this.connectElapsedMs,
      connected,
      connectFailures: this.connectFailures,
      measureS: this.connectElapsedMs / 1000,
      sent: this.sessions.length,
      answered: connected,
      rejected: 0,
      rejectedInWindow: 0,
      protocolRejects: 0,
      rejectReasons: {},
      protocolRejectReasons: {},
      monitorWarnings: 0,
      unanswered: this.connectFailures,
      unsent: 0,
      saturated: false,
      closedSessions: this.closedSessions,
      perSecond,
      errors: this.errors,
    }
  }

  /** Each session keeps `windowPerSession` orders outstanding; a finished order is replaced at once (onReport). */
  private runClosedLoop (live: Session[], startMs: number): Promise<void> {
    return new Promise((resolve) => {
      setTimeout(() => {
        const nowMs = performance.now()
        for (const session of live) this.refill(session, nowMs)
        this.flushDirty()
      }, Math.max(0, startMs - performance.now()))
      setTimeout(resolve, Math.max(0, this.measureEndMs - performance.now()))
    })
  }

  /**
   * Order k (over all sessions, round robin) is due at start + k × interval.
   * The loop sends every due order, then waits for the next one: it arms
   * the pacer thread (pacer.ts) to wake it shortly before, and spins with
   * setImmediate only for the last stretch, so reports keep being read and
   * the generator does not burn a core at low rates. A timer-driven loop
   * would send in 1 ms clumps and charge the system for the lateness.
   */
  private runOpenLoop (live: Session[], startMs: number): Promise<void> {
    const intervalMs = 1000 / this.spec.ratePerS
    const spinWindowMs = (this.spec.spinWindowUs ?? DEFAULT_SPIN_WINDOW_US) / 1000
    const wakeEarlyMs = Math.max(0, (this.spec.spinWindowUs ?? DEFAULT_SPIN_WINDOW_US) - WAKE_BEFORE_SPIN_END_US) / 1000
    const endMs = this.measureEndMs
    const cap = this.spec.maxOutstanding
    const rest = this.spec.flow === 'rest-and-cancel'
    let k = 0
    return new Promise((resolve) => {
      const finish = (): void => {
        void pacer.close()
        resolve()
      }
      const loop = (): void => {
        const nowMs = performance.now()
        let blocked = false
        for (;;) {
          const intendedMs = startMs + k * intervalMs
          if (intendedMs > nowMs || intendedMs >= endMs) break
          if (this.totalOutstanding >= cap) {
            // Backlog: the due orders wait and go out later with their
            // original intended times, so the wait counts as latency. Only
            // a backlog that reaches the window marks the run: the
            // warm-up's (a cold JIT) is not measured.
            if (intendedMs >= this.measureStartMs) this.saturated = true
            blocked = true
            break
          }
          const session = live[k % live.length]!
          if (session.ws?.open === true) {
            if (rest && session.restingOrderId !== 0) this.sendCancel(session, intendedMs)
            this.sendOrder(session, intendedMs, nowMs)
          }
          k++
        }
        this.flushDirty()
        const nextMs = startMs + k * intervalMs
        if (nextMs >= endMs) {
          finish()
          return
        }
        if (nowMs >= endMs) {
          // Due orders never sent: each one has waited at least until now.
          for (; startMs + k * intervalMs < endMs; k++) {
            const intendedMs = startMs + k * intervalMs
            if (intendedMs >= this.measureStartMs) {
              recordNs(this.latency, (nowMs - intendedMs) * 1e6)
              this.unsent++
            }
          }
          finish()
          return
        }
        const waitMs = nextMs - performance.now()
        if (blocked || waitMs <= spinWindowMs) setImmediate(loop)
        else pacer.wakeAt(process.hrtime.bigint() + BigInt(Math.round((waitMs - wakeEarlyMs) * 1e6)))
      }
      const pacer = new Pacer(loop)
      setImmediate(loop)
    })
  }

  /** Waits for outstanding first reports; the ones still missing at the deadline are charged until then. */
  private drain (): Promise<void> {
    const deadlineMs = performance.now() + this.spec.drainTimeoutS * 1000
    return new Promise((resolve) => {
      const check = (): void => {
        const nowMs = performance.now()
        let waiting = 0
        for (const session of this.sessions) {
          for (let slot = 0; slot <= session.mask; slot++) if (session.state[slot] === AWAITING_FIRST_REPORT) waiting++
        }
        if (waiting > 0 && nowMs < deadlineMs) {
          setTimeout(check, DRAIN_POLL_MS)
          return
        }
        for (const session of this.sessions) {
          for (let slot = 0; slot <= session.mask; slot++) {
            if (session.state[slot] !== AWAITING_FIRST_REPORT) continue
            const intendedMs = session.intendedMs[slot]!
            if (intendedMs >= this.measureStartMs && intendedMs < this.measureEndMs) {
              recordNs(this.latency, (nowMs - intendedMs) * 1e6)
              this.unanswered++
            }
          }
        }
        resolve()
      }
      check()
    })
  }
}

process.on('disconnect', () => { process.exit(0) })
process.on('message', (message: RunnerToGenerator) => {
  if (message.type === 'stop') process.exit(0)
  if (message.type !== 'run') return
  const spec = message.spec
  const deadlineMs = spec.connectTimeoutMs + (spec.warmupS + spec.measureS + spec.drainTimeoutS) * 1000 + SELF_DEADLINE_SLACK_MS +
    (spec.connectPhaseMaxMs ?? spec.credentials.length * 2)
  const deadline = setTimeout(() => {
    send({ type: 'failed', error: `generator ${spec.label} exceeded its own deadline of ${deadlineMs} ms` })
    process.exit(1)
  }, deadlineMs)
  deadline.unref()
  const run = async (): Promise<GeneratorResult> => {
    checkWireSelf()
    return new Generator(spec).run()
  }
  run().then((result) => {
    send({ type: 'result', result })
    process.disconnect?.()
  }, (err: unknown) => {
    send({ type: 'failed', error: err instanceof Error ? err.message : String(err) })
    process.disconnect?.()
  })
})
