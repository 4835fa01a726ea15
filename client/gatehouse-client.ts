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
  ExecType, Side, TimeInForce, wireInt,
  type ClientEnvelope, type ClientEnvelopeInit, type ExecutionReport, type LogonReply, type Reject,
} from '../protocol/messages.js'

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
}

export class GatehouseClient extends EventEmitter {
  /** Every message received, in order. */
  readonly received: ClientEnvelope[] = []
  private outSeq = 0
  private closed = false
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
    const socket = new WebSocket(url, { ca: options.ca, perMessageDeflate: false })
    await once(socket, 'open')
    return new GatehouseClient(socket)
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

  async logon (account: string, password: string): Promise<LogonReply> {
    this.send({ logon: { account, password } })
    const reply = await this.nextNew((m) => m.body === 'logonReply')
    return reply.logonReply as LogonReply
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
