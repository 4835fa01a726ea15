// A bare link session to the exchange simulator over a real socket,
// speaking the real link codec: the tests see every envelope (logon reply,
// reports, heartbeats, logouts) exactly as a gateway would.
import { once } from 'node:events'
import { connect, type Socket } from 'node:net'
import {
  Side, TimeInForce, wireInt,
  type LinkEnvelope, type LinkEnvelopeInit, type LinkExecutionReport, type LinkNewOrder,
} from '../../protocol/messages.js'
import { LinkFrameDecoder, decodeLinkEnvelope, encodeLinkFrame } from '../../protocol/link-codec.js'

/** A bare link session over a real socket, speaking the real codec. */
export class LinkClient {
  private readonly decoder = new LinkFrameDecoder()
  private readonly inbox: LinkEnvelope[] = []
  private wake: (() => void) | null = null
  private ended = false
  readonly closed: Promise<void>
  /** Seq of the next application message this client sends. */
  nextSeq = 1

  private constructor (readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.decoder.push(chunk, (body) => { this.inbox.push(decodeLinkEnvelope(body)) })
      this.wakeUp()
    })
    this.closed = once(socket, 'close').then(() => {})
    socket.on('close', () => {
      this.ended = true
      this.wakeUp()
    })
  }

  static async connect (port: number): Promise<LinkClient> {
    const socket = connect(port, '127.0.0.1')
    await once(socket, 'connect')
    return new LinkClient(socket)
  }

  send (envelope: LinkEnvelopeInit): void {
    this.socket.write(encodeLinkFrame(envelope))
  }

  /** Sends an application message with the next seq; returns that seq. */
  sendApp (body: LinkEnvelopeInit): number {
    const seq = this.nextSeq++
    this.send({ ...body, seq, sentTimeUs: Date.now() * 1000 })
    return seq
  }

  newOrder (order: Partial<LinkNewOrder> & { orderId: number }): number {
    return this.sendApp({
      newOrder: { account: 'acct-1', instrument: 'rb2605', side: Side.BUY, price: 3200, quantityLots: 1, timeInForce: TimeInForce.GFD, ...order },
    })
  }

  /** Next envelope received (heartbeats included); rejects if the socket closes first. */
  async next (): Promise<LinkEnvelope> {
    while (this.inbox.length === 0) {
      if (this.ended) throw new Error('connection closed while waiting for a message')
      await new Promise<void>((resolve) => { this.wake = resolve })
    }
    return this.inbox.shift()!
  }

  /** Waits for `count` more envelopes and discards them (bulk traffic the test does not inspect). */
  async skip (count: number): Promise<void> {
    while (this.inbox.length < count) {
      if (this.ended) throw new Error('connection closed while waiting for messages')
      await new Promise<void>((resolve) => { this.wake = resolve })
    }
    this.inbox.splice(0, count)
  }

  /** Next non-heartbeat envelope. */
  async nextMessage (): Promise<LinkEnvelope> {
    for (;;) {
      const env = await this.next()
      if (env.body !== 'heartbeat') return env
    }
  }

  /** Next execution report, with its envelope seq and duplicate flag. */
  async nextReport (): Promise<{ seq: number, dup: boolean, report: LinkExecutionReport }> {
    const env = await this.nextMessage()
    if (env.body !== 'report') throw new Error(`expected a report, got ${env.body ?? 'nothing'}`)
    return { seq: wireInt(env.seq), dup: env.possibleDuplicate, report: env.report as LinkExecutionReport }
  }

  async logon (sessionName: string, nextExpectedSeq = 1, heartbeatIntervalMs = 0): Promise<LinkEnvelope> {
    this.send({ seq: 0, sentTimeUs: Date.now() * 1000, logon: { memberId: '0188', sessionName, nextExpectedSeq, heartbeatIntervalMs } })
    return this.nextMessage()
  }

  private wakeUp (): void {
    const wake = this.wake
    this.wake = null
    wake?.()
  }
}

