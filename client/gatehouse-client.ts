/**
 * GatehouseClient: a small typed client for the Gatehouse client protocol
 * (protocol/gatehouse/v1/client.proto). Platform vendors can use it as is
 * or as a reference; the tests and `gatehouse demo` use it.
 *
 * Every inbound message is emitted as 'message' (the decoded envelope);
 * `next()` waits for the first message matching a predicate, so callers
 * await events instead of sleeping.
 */
import { EventEmitter, once } from 'node:events'
import WebSocket from 'ws'
import { decodeClientEnvelope, encodeClientEnvelope } from '../protocol/client-codec.js'
import {
  ExecType, Side, TimeInForce, v1, wireInt,
  type ClientEnvelope, type ClientEnvelopeInit, type ExecutionReport, type LogonReply, type Reject,
} from '../protocol/messages.js'
import { computeAuthProof } from '../protocol/auth-proof.js'
import type { gatehouse } from '../protocol/generated/gatehouse.js'
import { GatehouseError } from '../protocol/gatehouse-error.js'

export type TerminalInfoInit = gatehouse.v1.TerminalInfo.$Properties
export type AuthenticateReply = gatehouse.v1.AuthenticateReply
export type TerminalInfoReply = gatehouse.v1.TerminalInfoReply

/** The software's identity for the Authenticate step. */
export interface SoftwareIdentity {
  appId: string
  /** Issued by the broker for this AppID; never sent, only used as the HMAC key. */
  authCode: string
}

/**
 * Who is logging on, beyond the account: the software (AppID and its
 * AuthCode, issued by the broker) and the terminal it runs on. Required:
 * the client has no default, so a platform can never log on by accident
 * as some other software or from a terminal it did not collect.
 */
export interface ClientIdentity extends SoftwareIdentity {
  /** Terminal info as collected on this machine (collected_time_us is filled in if 0). */
  terminalInfo: TerminalInfoInit
}

export interface LogonOptions extends ClientIdentity {
  /** Ask the gateway to cancel this session's working orders when the connection ends. */
  cancelOnDisconnect?: boolean
}

/** What is missing from a logon's identity, or null when it is complete. JavaScript callers can pass anything. */
function identityProblem (options: unknown): string | null {
  if (typeof options !== 'object' || options === null) return 'logon options are required: { appId, authCode, terminalInfo }'
  const { appId, authCode, terminalInfo } = options as Partial<LogonOptions>
  const missing = [
    typeof appId === 'string' && appId !== '' ? null : 'appId',
    typeof authCode === 'string' && authCode !== '' ? null : 'authCode',
    typeof terminalInfo === 'object' && terminalInfo !== null ? null : 'terminalInfo',
  ].filter((name) => name !== null)
  return missing.length === 0 ? null : `logon options must give ${missing.join(', ')}: the client has no default software identity or terminal`
}

/** A LogonReply, or for a failure before Logon, one built from the step that failed. */
export type LogonResult = LogonReply & { failedStep?: 'authenticate' | 'terminal-info' | 'logon' }

export { ExecType, Side, TimeInForce }

export interface OrderRequest {
  clientOrderId: number
  instrument: string
  side: number
  /** Limit price in integer price units (see Instrument.price_decimals). */
  price: number
  quantityLots: number
  timeInForce?: number
  reduceOnly?: boolean
}

export interface ConnectOptions {
  /** PEM CA certificate(s) to trust for wss:// (e.g. a self-signed lane cert). */
  ca?: string | Buffer
  /** Local address to connect from, e.g. 127.0.0.7 (Linux routes all of 127/8 to lo). */
  localAddress?: string
  /** Milliseconds to wait for the WebSocket to open (default: no limit). */
  handshakeTimeoutMs?: number
}

export class GatehouseClient extends EventEmitter {
  /** Every message received, in order. */
  readonly received: ClientEnvelope[] = []
  private outSeq = 0
  private closed = false
  /** Index in `received` of the last AuthChallenge already used for a proof. */
  private usedChallengeIndex = -1
  private readonly waiters = new Set<{ match: (m: ClientEnvelope) => boolean, resolve: (m: ClientEnvelope) => void }>()

  private constructor (private readonly socket: WebSocket) {
    super()
    socket.binaryType = 'nodebuffer'
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (!isBinary) return
      const envelope = decodeClientEnvelope(data)
      this.received.push(envelope)
      for (const waiter of this.waiters) {
        if (waiter.match(envelope)) {
          this.waiters.delete(waiter)
          waiter.resolve(envelope)
        }
      }
      this.emit('message', envelope)
    })
    socket.on('close', (code: number, reason: Buffer) => {
      this.closed = true
      this.emit('close', code, reason.toString())
    })
    socket.on('error', (err) => { this.emit('transport-error', err) })
  }

  /** Opens a WebSocket to a lane, e.g. ws://127.0.0.1:7002. */
  static async connect (url: string, options: ConnectOptions = {}): Promise<GatehouseClient> {
    const socket = new WebSocket(url, { ca: options.ca, perMessageDeflate: false, localAddress: options.localAddress, handshakeTimeout: options.handshakeTimeoutMs })
    // Listen before the socket opens: the gateway's AuthChallenge can arrive
    // in the same read as the upgrade response, before `open` resolves.
    const client = new GatehouseClient(socket)
    await once(socket, 'open')
    return client
  }

  get isClosed (): boolean {
    return this.closed
  }

  /** Sends one envelope, numbering it with this client's next seq. Returns the seq. */
  send (envelope: ClientEnvelopeInit): number {
    envelope.seq = ++this.outSeq
    envelope.sentTimeUs = Date.now() * 1000
    this.socket.send(encodeClientEnvelope(envelope), { binary: true })
    return this.outSeq
  }

  /** Stops reading from the socket (a slow consumer); the gateway's sends back up. */
  pause (): void {
    this.socket.pause()
  }

  resume (): void {
    this.socket.resume()
  }

  /** Bytes queued to send but not yet handed to the kernel. */
  get bufferedAmount (): number {
    return this.socket.bufferedAmount
  }

  /** Sends raw bytes or text as one frame (for protocol tests). */
  sendRaw (data: Uint8Array | string): void {
    this.socket.send(data, { binary: typeof data !== 'string' })
  }

  /** Resolves with the first message (already received or future) that matches. */
  next (match: (message: ClientEnvelope) => boolean, timeoutMs = 5000): Promise<ClientEnvelope> {
    const seen = this.received.find(match)
    if (seen !== undefined) return Promise.resolve(seen)
    return this.nextNew(match, timeoutMs)
  }

  /** Like next(), but only messages that arrive from now on. */
  nextNew (match: (message: ClientEnvelope) => boolean, timeoutMs = 5000): Promise<ClientEnvelope> {
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve: (m: ClientEnvelope) => { clearTimeout(timer); resolve(m) } }
      const timer = setTimeout(() => {
        this.waiters.delete(waiter)
        reject(new Error(`no matching message within ${timeoutMs} ms (received ${this.received.length} so far)`))
      }, timeoutMs)
      this.waiters.add(waiter)
    })
  }

  /**
   * Step 1: waits for a fresh AuthChallenge and proves the AuthCode over it
   * (HMAC-SHA256, protocol/auth-proof.ts). Each challenge is used once.
   */
  async authenticate (software: SoftwareIdentity, account: string): Promise<AuthenticateReply> {
    const challenge = await this.next((m) => m.body === 'authChallenge' && this.received.indexOf(m) > this.usedChallengeIndex)
    this.usedChallengeIndex = this.received.indexOf(challenge)
    const { nonce, lane } = challenge.authChallenge!
    const proof = computeAuthProof(software.authCode, nonce!, software.appId, account, lane!)
    const reply = this.nextNew((m) => m.body === 'authenticateReply')
    this.send({ authenticate: { appId: software.appId, account, proof } })
    return (await reply).authenticateReply as AuthenticateReply
  }

  /** Step 2: submits the terminal fingerprint. */
  async submitTerminalInfo (info: TerminalInfoInit): Promise<TerminalInfoReply> {
    const reply = this.nextNew((m) => m.body === 'terminalInfoReply')
    this.send({ terminalInfo: { ...info, collectedTimeUs: wireInt(info.collectedTimeUs) || Date.now() * 1000 } })
    return (await reply).terminalInfoReply as TerminalInfoReply
  }

  /** Step 3: the account's password. With cancelOnDisconnect, the gateway cancels this session's working orders when it disconnects. */
  async login (account: string, password: string, cancelOnDisconnect = false): Promise<LogonReply> {
    const reply = this.nextNew((m) => m.body === 'logonReply')
    this.send({ logon: { account, password, cancelOnDisconnect } })
    return (await reply).logonReply as LogonReply
  }

  /**
   * The whole look-through logon: authenticate, terminal info, login. Stops
   * at the first refused step and reports it (failedStep, reason, text).
   * Rejects with GatehouseError GH_ERR_CLIENT_OPTIONS, sending nothing,
   * when the identity is incomplete.
   */
  async logon (account: string, password: string, options: LogonOptions): Promise<LogonResult> {
    const problem = identityProblem(options)
    if (problem !== null) throw new GatehouseError('GH_ERR_CLIENT_OPTIONS', problem)
    const authenticated = await this.authenticate(options, account)
    if (!authenticated.ok) {
      return Object.assign(v1.LogonReply.create({ ok: false, reason: authenticated.reason, text: authenticated.text, retryAfterMs: authenticated.retryAfterMs }) as LogonReply, { failedStep: 'authenticate' as const })
    }
    const terminal = await this.submitTerminalInfo(options.terminalInfo)
    if (!terminal.ok) {
      return Object.assign(v1.LogonReply.create({ ok: false, reason: terminal.reason, text: terminal.text }) as LogonReply, { failedStep: 'terminal-info' as const })
    }
    const reply: LogonResult = await this.login(account, password, options.cancelOnDisconnect ?? false)
    if (!reply.ok) reply.failedStep = 'logon'
    return reply
  }

  newOrder (order: OrderRequest): number {
    return this.send({ newOrder: { timeInForce: TimeInForce.GFD, ...order } })
  }

  cancel (clientOrderId: number): number {
    return this.send({ cancelOrder: { clientOrderId } })
  }

  /** Waits for an execution report of an order, optionally of one exec type. */
  async report (clientOrderId: number, execType?: number, timeoutMs?: number): Promise<ExecutionReport> {
    const envelope = await this.next((m) => m.body === 'executionReport' &&
      wireInt(m.executionReport!.clientOrderId) === clientOrderId &&
      (execType === undefined || m.executionReport!.execType === execType), timeoutMs)
    return envelope.executionReport as ExecutionReport
  }

  /** Waits for a Reject, optionally the one answering the message with `refSeq`. */
  async reject (refSeq?: number, timeoutMs?: number): Promise<Reject> {
    const envelope = await this.next((m) => m.body === 'reject' &&
      (refSeq === undefined || wireInt(m.reject!.refSeq) === refSeq), timeoutMs)
    return envelope.reject as Reject
  }

  /** Logs out and waits for the gateway to close the socket. */
  async logout (): Promise<void> {
    if (this.closed) return
    const closed = once(this, 'close')
    this.send({ logout: {} })
    await closed
  }

  /** Closes the socket without logging out. */
  async close (): Promise<void> {
    if (this.closed) return
    const closed = once(this, 'close')
    this.socket.close()
    await closed
  }
}
