// The logon gate: the look-through logon of one lane's connections, in
// three steps (Authenticate with an AuthCode proof over a single-use
// nonce, TerminalInfo, Logon), each decided by the supervisor's access
// control, one at a time and in order; the per-IP connection rate; the
// logon timeout. A session that passes is logged on as its account: from
// then on its journal records name the account, and it takes over the
// account's working orders on this lane (order-lifecycle.ts).
import { randomBytes } from 'node:crypto'
import { LRUCache } from 'lru-cache'
import { RejectReason, v1, type ClientEnvelopeInit, type Logon } from '../protocol/messages.js'
import type { gatehouse } from '../protocol/generated/gatehouse.js'
import { SessionThrottle, nextPowerOfTwo } from '../checks/sliding-window.js'
import type { LaneConfig } from '../config/config.js'
import type { LaneName } from '../protocol/lanes.js'
import type { ClientSession } from './client-session.js'
import type { DiskWatermark } from './disk-watermark.js'
import type { ExchangeLinkPort } from './exchange-link-port.js'
import type { LaneMetrics } from './lane-metrics.js'
import type { OrderLifecycle } from './order-lifecycle.js'
import type { AccessRequest, AccessResult, LaneToSupervisor } from './worker-contract.js'

/** Asks the supervisor's access control to decide one logon step. */
export type RequestAccess = (session: ClientSession, request: AccessRequest) => Promise<AccessResult>

const NONCE_BYTES = 32

/** What the gate needs of the client edge (client-edge.ts). */
export interface ClientOutlet {
  readonly sessions: ReadonlySet<ClientSession>
  send (session: ClientSession, envelope: ClientEnvelopeInit): boolean
  sendReject (session: ClientSession, reason: number, text: string, refSeq: number, clientOrderId: number): void
  endSession (session: ClientSession, code: number, reason: string): void
  releaseUnauthenticated (session: ClientSession): void
}

export interface LogonGateOptions {
  name: LaneName
  laneIndex: number
  laneConfig: LaneConfig
  maxTrackedEntries: number
  edge: ClientOutlet
  lifecycle: OrderLifecycle
  link: ExchangeLinkPort
  metrics: LaneMetrics
  /** Free space of the journal's file system; null when the journal is off. */
  disk: DiskWatermark | null
  notify: (message: LaneToSupervisor) => void
  requestAccess: RequestAccess
}

export class LogonGate {
  private readonly name: LaneName
  private readonly laneIndex: number
  private readonly laneConfig: LaneConfig
  private readonly edge: ClientOutlet
  private readonly lifecycle: OrderLifecycle
  private readonly link: ExchangeLinkPort
  private readonly metrics: LaneMetrics
  private readonly disk: DiskWatermark | null
  private readonly notify: (message: LaneToSupervisor) => void
  private readonly requestAccess: RequestAccess
  /** New connections per source IP in the last second (sliding); LRU-bounded against address spraying. */
  private readonly connectionsPerIp: LRUCache<string, SessionThrottle>

  constructor (options: LogonGateOptions) {
    this.name = options.name
    this.laneIndex = options.laneIndex
    this.laneConfig = options.laneConfig
    this.edge = options.edge
    this.lifecycle = options.lifecycle
    this.link = options.link
    this.metrics = options.metrics
    this.disk = options.disk
    this.notify = options.notify
    this.requestAccess = options.requestAccess
    this.connectionsPerIp = new LRUCache({ max: options.maxTrackedEntries })
  }

  /** At most maxConnectionsPerIpPerSecond new connections per address in any sliding second: no burst of twice the cap at a window's edge. */
  admitConnection (ip: string): boolean {
    const limit = this.laneConfig.policy.maxConnectionsPerIpPerSecond
    let window = this.connectionsPerIp.get(ip)
    if (window === undefined) {
      window = new SessionThrottle(nextPowerOfTwo(limit), nextPowerOfTwo(limit))
      this.connectionsPerIp.set(ip, window)
    }
    return window.admit(Date.now(), limit, 1000)
  }

  sendChallenge (session: ClientSession): void {
    session.nonce = randomBytes(NONCE_BYTES)
    session.nonceIssuedMs = Date.now()
    this.send(session, { authChallenge: { nonce: session.nonce, expiresInMs: this.laneConfig.policy.nonceTtlMs, lane: this.name } })
  }

  /** A logon step may start only from the stage before it, one at a time. */
  private expectStage (session: ClientSession, stage: ClientSession['stage'], step: string, refSeq: number): boolean {
    if (session.stepInFlight) {
      this.sendReject(session, RejectReason.LOGON_STEP_OUT_OF_ORDER, `${step} arrived while the previous logon step is still being checked; wait for its reply`, refSeq, 0)
      return false
    }
    if (session.stage === 'logged-on') {
      this.sendReject(session, RejectReason.ALREADY_LOGGED_ON, `session is already logged on as ${session.account}`, refSeq, 0)
      return false
    }
    if (session.stage !== stage) {
      const expected = session.stage === 'challenged' ? 'Authenticate' : session.stage === 'authenticated' ? 'TerminalInfo' : 'Logon'
      this.sendReject(session, RejectReason.LOGON_STEP_OUT_OF_ORDER, `${step} is out of order: the next logon step is ${expected}`, refSeq, 0)
      return false
    }
    return true
  }

  async onAuthenticate (session: ClientSession, authenticate: gatehouse.v1.Authenticate, refSeq: number): Promise<void> {
    if (!this.expectStage(session, 'challenged', 'Authenticate', refSeq)) return
    const refuse = (reason: number, text: string): void => {
      this.notify({ type: 'logon-event', lane: this.name, sessionId: session.id, ip: session.remoteAddress, step: 'authenticate', account: authenticate.account, reason, text })
      this.send(session, { authenticateReply: { ok: false, reason, text } })
      this.sendChallenge(session)
    }
    // Each nonce is good for one attempt; a failure issues a fresh one, so a
    // captured proof can never be replayed.
    if (Date.now() - session.nonceIssuedMs > this.laneConfig.policy.nonceTtlMs) {
      refuse(RejectReason.NONCE_EXPIRED, `the nonce expired (${this.laneConfig.policy.nonceTtlMs} ms); prove over the new AuthChallenge`)
      return
    }
    session.stepInFlight = true
    const result = await this.requestAccess(session, {
      step: 'authenticate',
      appId: authenticate.appId,
      account: authenticate.account,
      nonce: session.nonce,
      proof: authenticate.proof,
      exchangeEnvironment: this.lifecycle.exchangeEnvironment,
    })
    session.stepInFlight = false
    if (result.reason === 0) {
      session.stage = 'authenticated'
      session.appId = authenticate.appId
      session.authenticatedAccount = authenticate.account
      this.send(session, { authenticateReply: { ok: true } })
      return
    }
    this.send(session, { authenticateReply: { ok: false, reason: result.reason, text: result.text, retryAfterMs: result.retryAfterMs ?? 0, redirectEndpoint: result.redirectEndpoint ?? '', redirectInstance: result.redirectInstance ?? '' } })
    this.sendChallenge(session)
  }

  async onTerminalInfo (session: ClientSession, info: gatehouse.v1.TerminalInfo, refSeq: number): Promise<void> {
    if (!this.expectStage(session, 'authenticated', 'TerminalInfo', refSeq)) return
    // Each attempt may try another fingerprint: a connection gets a few,
    // then is closed, so one cannot walk through terminals.
    const maxAttempts = this.laneConfig.policy.maxTerminalInfoAttempts
    if (++session.terminalInfoAttempts > maxAttempts) {
      const text = `more than ${maxAttempts} TerminalInfo attempts on one connection; closing`
      this.notify({ type: 'logon-event', lane: this.name, sessionId: session.id, ip: session.remoteAddress, step: 'terminal-info', account: session.authenticatedAccount ?? undefined, reason: RejectReason.TERMINAL_INFO_ATTEMPTS, text })
      this.send(session, { terminalInfoReply: { ok: false, reason: RejectReason.TERMINAL_INFO_ATTEMPTS, text } })
      this.endSession(session, 1008, 'too many terminal info attempts')
      return
    }
    session.stepInFlight = true
    // Re-encoded for the supervisor, which decodes its own copy.
    const encoded = v1.TerminalInfo.encode(info).finish()
    const result = await this.requestAccess(session, { step: 'terminal-info', account: session.authenticatedAccount!, info: encoded })
    session.stepInFlight = false
    if (result.reason === 0) {
      session.stage = 'terminal-verified'
      session.fingerprintId = result.fingerprintId ?? null
    }
    this.send(session, {
      terminalInfoReply: {
        ok: result.reason === 0,
        reason: result.reason,
        text: result.text,
        newFingerprint: result.newFingerprint ?? false,
        fingerprintId: result.fingerprintId ?? '',
      },
    })
  }

  /** Closes connections that have not completed logon in time. */
  closeExpiredLogons (): void {
    const deadline = Date.now() - this.laneConfig.policy.logonTimeoutMs
    for (const session of this.edge.sessions) {
      if (session.stage !== 'logged-on' && session.connectedAtMs < deadline) {
        const text = `logon not completed within ${this.laneConfig.policy.logonTimeoutMs} ms; closing`
        this.notify({ type: 'logon-event', lane: this.name, sessionId: session.id, ip: session.remoteAddress, step: 'timeout', reason: RejectReason.LOGON_TIMEOUT, text })
        this.sendReject(session, RejectReason.LOGON_TIMEOUT, text, 0, 0)
        this.endSession(session, 1008, 'logon timeout')
      }
    }
  }

  async onLogon (session: ClientSession, logon: Logon, refSeq: number): Promise<void> {
    if (!this.expectStage(session, 'terminal-verified', 'Logon', refSeq)) return
    if (this.disk !== null && this.disk.state !== 'ok') {
      const reading = this.disk.last!
      const text = `the journal's disk is below its low watermark (${reading.freeBytes} bytes free, watermark ${reading.lowWatermarkBytes}): new logons are refused until ops free space; retry later`
      this.metrics.reject(RejectReason.DISK_SPACE_LOW)
      this.send(session, { logonReply: { ok: false, reason: RejectReason.DISK_SPACE_LOW, text, lane: this.name } })
      return
    }
    if (logon.account !== session.authenticatedAccount) {
      this.send(session, { logonReply: { ok: false, reason: RejectReason.NOT_AUTHENT, text: `Authenticate was for account ${session.authenticatedAccount}, not ${logon.account}`, lane: this.name } })
      return
    }
    session.stepInFlight = true
    const result = await this.requestAccess(session, { step: 'logon', account: logon.account, password: logon.password, appId: session.appId!, fingerprintId: session.fingerprintId ?? undefined })
    session.stepInFlight = false
    if (result.reason !== 0) {
      this.send(session, { logonReply: { ok: false, reason: result.reason, text: result.text, lane: this.name, retryAfterMs: result.retryAfterMs ?? 0, redirectEndpoint: result.redirectEndpoint ?? '', redirectInstance: result.redirectInstance ?? '' } })
      return
    }
    if (session.ws === null) {
      // Closed while the supervisor was checking: give the place back.
      this.notify({ type: 'session-closed', lane: this.name, sessionId: session.id, account: logon.account })
      return
    }
    session.stage = 'logged-on'
    session.account = logon.account
    this.edge.releaseUnauthenticated(session)
    this.metrics.sessionLoggedOn()
    session.journalAs(logon.account)
    session.logonTimeMs = Date.now()
    session.risk.lane = this.laneIndex
    session.risk.account = result.accountIndex!
    session.risk.app = result.appIndex ?? -1
    session.cancelOnDisconnect = logon.cancelOnDisconnect
    const { resumedOrders, lastClientSeq } = this.lifecycle.sessionLoggedOn(session)
    this.send(session, {
      logonReply: {
        ok: true,
        sessionId: session.id,
        lane: this.name,
        tradingDay: this.lifecycle.tradingDay,
        heartbeatIntervalMs: this.laneConfig.idleTimeoutS * 1000 / 2,
        instruments: [...this.lifecycle.instruments.values()].map((traded) => traded.instrument),
        lastClientSeq,
        resumedOrders,
        text: this.link.isUp ? '' : 'logged on, but the exchange link is down: orders are rejected until it is back',
      },
    })
  }

  /** Orders and cancels need a logged-on session; false (and refused with NOT_AUTHENT) otherwise. */
  requireLogon (session: ClientSession, refSeq: number, clientOrderId: number): boolean {
    if (session.loggedOn) return true
    this.sendReject(session, RejectReason.NOT_AUTHENT, 'log on first: Authenticate, TerminalInfo and Logon must all succeed before orders or cancels', refSeq, clientOrderId)
    return false
  }

  private send (session: ClientSession, envelope: ClientEnvelopeInit): boolean {
    return this.edge.send(session, envelope)
  }

  private sendReject (session: ClientSession, reason: number, text: string, refSeq: number, clientOrderId: number): void {
    this.edge.sendReject(session, reason, text, refSeq, clientOrderId)
  }

  private endSession (session: ClientSession, code: number, reason: string): void {
    this.edge.endSession(session, code, reason)
  }
}
