// One lane's session to the exchange front: a TCP connection speaking the
// link protocol (protocol/link-codec.ts), owned by the lane's thread.
//
// It logs on, keeps sequence numbers across reconnects (so the exchange can
// resend what we missed), sends heartbeats, detects a silent peer, and
// reconnects with backoff. Outbound frames are batched: the first send in an
// event-loop turn schedules one flush, so a burst of orders costs one
// write(2), not one each. A latency lane instead holds its frames while it
// handles one message (holdFlushes) and writes them when it is done
// (releaseFlushes): no order waits for the next turn behind other I/O.
//
// The socket reads through `onread` into one buffer reused for every read:
// frames are handed on as views of it, valid only during the call, and only
// a frame that straddles two reads is copied (protocol/link-codec.ts).
import net from 'node:net'
import { LinkFrameDecoder, decodeLinkFrame, encodeLinkFrame, encodeLinkFrameInto } from '../protocol/link-codec.js'
import { HotLinkDecoder } from '../protocol/hot-codec.js'
import { WireScratch } from '../protocol/wire-scratch.js'
import { LINK_LENGTH_PREFIX_BYTES } from '../protocol/constants.js'
import { wireInt, type Instrument, type LinkEnvelope, type LinkEnvelopeInit, type LinkExecutionReport, type LinkLogonReply } from '../protocol/messages.js'
import { advanceReportSeq, type ExchangeLinkPort } from './exchange-link-port.js'
import type { SessionJournalHeads } from './lane-journal.js'
import type { LinkUpInfo } from './order-lifecycle.js'

export type LinkState = 'connecting' | 'logging-on' | 'up' | 'down' | 'closed'

export interface ExchangeLinkOptions {
  host: string
  port: number
  memberId: string
  sessionName: string
  heartbeatIntervalMs: number
  reconnectDelayMs: number
  maxReconnectDelayMs: number
}

/** What the link tells its lane. Called on the lane's thread. */
export interface ExchangeLinkHandler {
  /** The link is logged on. `nextExpectedSeq` is the first of our seqs the exchange has not seen. */
  onLinkUp (info: LinkUpInfo): void
  /** The link went down; `reason` is for humans. */
  onLinkDown (reason: string): void
  /** An execution report, in exchange sequence order, duplicates removed. */
  onReport (report: LinkExecutionReport): void
  /** Reference data changed for one instrument. */
  onInstrumentUpdate (instrument: Instrument): void
  /** A TCP chunk's frames are about to be delivered... */
  onChunkStart (): void
  /** ...and all have been: the lane flushes what they produced in one write per client. */
  onChunkEnd (): void
}

/**
 * Where the link records what it sends and receives: the lane's journal.
 * Every frame is recorded before it is queued (out) or acted on (in), and
 * commit() runs before each socket write: write-ahead.
 */
export interface LinkRecorder {
  /** `cause` names the client session the message is sent for; null for the gateway's own. */
  recordLinkOut (body: Uint8Array, envelope: LinkEnvelopeInit, cause: SessionJournalHeads | null): void
  /** `envelope` is null when the body could not be decoded. */
  recordLinkIn (body: Uint8Array, envelope: LinkEnvelope | null): void
  /** False when the journal has failed: the link then sends nothing. */
  commitJournal (): boolean
}

/** Flush inline once this many bytes are waiting (nats.js FLUSH_THRESHOLD). */
const FLUSH_THRESHOLD_BYTES = 64 * 1024
/** The peer is considered dead after this many heartbeat intervals of silence. */
const SILENT_INTERVALS_BEFORE_RECONNECT = 3
/** The reused read buffer: a read takes at most this much; a larger burst is simply several reads. */
export const LINK_READ_BUFFER_BYTES = 64 * 1024

export class ExchangeLink implements ExchangeLinkPort {
  state: LinkState = 'down'
  private socket: net.Socket | null = null
  private readonly decoder = new LinkFrameDecoder()
  /** Last application seq we sent; survives reconnects. */
  private lastSentSeq = 0
  /** Last application seq we processed from the exchange; survives reconnects. */
  private lastReceivedSeq = 0
  /** Reports are decoded into one reused envelope (hot-codec.ts), valid while onFrame runs. */
  private readonly frameDecoder = new HotLinkDecoder()
  /**
   * New orders and cancels are encoded into this and queued as views;
   * flush copies them into the one buffer it writes, then resets it.
   */
  private readonly outScratch = new WireScratch()
  private pending: Buffer[] = []
  private pendingBytes = 0
  private flushScheduled = false
  /** Set while the lane handles one message: frames wait for releaseFlushes(), not for the next turn. */
  private flushesHeld = false
  /** Every read lands here (net.connect onread); the decoder copies only a frame that straddles two reads. */
  private readonly readBuffer = Buffer.allocUnsafe(LINK_READ_BUFFER_BYTES)
  /**
   * Heartbeat ticks since the last read, and whether anything was written
   * since the last tick: the per-message path reads no clock for liveness,
   * it only sets these; the heartbeat timer does the counting.
   */
  private silentTicks = 0
  private sentSinceTick = false
  private heartbeatTimer: NodeJS.Timeout | null = null
  private reconnectTimer: NodeJS.Timeout | null = null
  private reconnectDelayMs: number
  private readonly flushBound = (): void => { this.flush() }
  private readonly onFrameBody = (body: Buffer): void => {
    let envelope: LinkEnvelope
    try {
      envelope = decodeLinkFrame(this.frameDecoder, body)
    } catch (err) {
      // Recorded as received (type 0) before the link drops for it.
      this.recorder?.recordLinkIn(body, null)
      throw err
    }
    this.recorder?.recordLinkIn(body, envelope)
    this.onFrame(envelope)
  }

  constructor (private readonly options: ExchangeLinkOptions, private readonly handler: ExchangeLinkHandler, private readonly recorder: LinkRecorder | null = null) {
    this.reconnectDelayMs = options.reconnectDelayMs
  }

  get isUp (): boolean {
    return this.state === 'up'
  }

  /** The seq the next application message will carry. */
  get nextSeq (): number {
    return this.lastSentSeq + 1
  }

  /**
   * After a restart: the last report seq processed before it (from the
   * journal). The logon then asks the exchange to resend only what came
   * after, and duplicates of anything before are dropped.
   */
  resumeAfter (lastReceivedSeq: number): void {
    if (lastReceivedSeq > this.lastReceivedSeq) this.lastReceivedSeq = lastReceivedSeq
  }

  connect (): void {
    if (this.state === 'closed') return
    this.state = 'connecting'
    const socket: net.Socket = net.connect({
      host: this.options.host,
      port: this.options.port,
      onread: { buffer: this.readBuffer, callback: (bytesRead: number, buffer: Uint8Array): boolean => { this.onRead(socket, bytesRead, buffer); return true } },
    })
    socket.setNoDelay(true)
    this.socket = socket
    socket.on('connect', () => {
      this.state = 'logging-on'
      this.silentTicks = 0
      this.writeNow({
        seq: 0,
        sentTimeUs: Date.now() * 1000,
        logon: {
          memberId: this.options.memberId,
          sessionName: this.options.sessionName,
          nextExpectedSeq: this.lastReceivedSeq + 1,
          heartbeatIntervalMs: this.options.heartbeatIntervalMs,
        },
      })
      this.startHeartbeats()
    })
    socket.on('error', () => { /* 'close' follows and carries the consequence */ })
    socket.on('close', () => { this.onSocketClosed(socket) })
  }

  /**
   * Queues an application message with the next seq, recorded for `cause`
   * (the client session it is sent for, null: the gateway's own). Returns
   * the seq, or 0 when the link is not up (the caller rejects with
   * EXCHANGE_UNAVAILABLE; the message is not queued, so nothing is sent
   * behind the client's back).
   */
  send (envelope: LinkEnvelopeInit, cause: SessionJournalHeads | null = null): number {
    if (this.state !== 'up') return 0
    const seq = ++this.lastSentSeq
    envelope.seq = seq
    envelope.sentTimeUs = Date.now() * 1000
    const frame = encodeLinkFrameInto(this.outScratch, envelope)
    this.recorder?.recordLinkOut(frame.subarray(LINK_LENGTH_PREFIX_BYTES), envelope, cause)
    this.enqueue(frame)
    return seq
  }

  /**
   * Until releaseFlushes(), queued frames are not scheduled for the end of
   * the turn: the caller writes them at the end of the message it handles.
   */
  holdFlushes (): void {
    this.flushesHeld = true
  }

  /** Writes what was queued while held (commit first: write-ahead). */
  releaseFlushes (): void {
    this.flushesHeld = false
    if (this.pending.length > 0) this.flush()
  }

  /** Stops for good: logs out, closes the socket, cancels timers. */
  close (): Promise<void> {
    const socket = this.socket
    this.state = 'closed'
    this.stopTimers()
    if (socket === null || socket.destroyed) return Promise.resolve()
    this.flush()
    const logout = this.recordedFrame({ seq: 0, logout: { text: 'gateway shutting down' } })
    return new Promise((resolve) => {
      socket.once('close', () => { resolve() })
      // Unrecorded (the journal failed), it is not sent: the FIN alone ends the session.
      if (logout === null) socket.end()
      else socket.end(logout)
      // A peer that never acknowledges the FIN must not hold up shutdown.
      setTimeout(() => { socket.destroy() }, 1000).unref()
    })
  }

  /** One read from the socket: `buffer` is readBuffer, reused by the next read. */
  private onRead (socket: net.Socket, bytesRead: number, buffer: Uint8Array): void {
    if (socket !== this.socket) return
    this.silentTicks = 0
    const chunk = buffer === this.readBuffer ? this.readBuffer.subarray(0, bytesRead) : Buffer.from(buffer.buffer, buffer.byteOffset, bytesRead)
    this.handler.onChunkStart()
    try {
      this.decoder.push(chunk, this.onFrameBody)
    } catch (err) {
      socket.destroy(err as Error)
    } finally {
      this.handler.onChunkEnd()
    }
  }

  private onFrame (envelope: LinkEnvelope): void {
    switch (envelope.body) {
      case 'logonReply': {
        const reply = envelope.logonReply as LinkLogonReply
        if (!reply.ok) {
          this.socket?.destroy(new Error(`exchange refused link logon: ${reply.text}`))
          return
        }
        this.state = 'up'
        this.reconnectDelayMs = this.options.reconnectDelayMs
        const nextExpectedSeq = wireInt(reply.nextExpectedSeq)
        // Number on from what the exchange has seen: anything we sent past it
        // was lost with the old connection (the lane tells those clients),
        // and a freshly started gateway adopts the exchange's count.
        if (nextExpectedSeq > 0) this.lastSentSeq = nextExpectedSeq - 1
        this.handler.onLinkUp({
          tradingDay: reply.tradingDay,
          environment: reply.environment,
          instruments: reply.instruments as Instrument[],
          nextExpectedSeq,
        })
        return
      }
      case 'report': {
        const seq = wireInt(envelope.seq)
        const lastReceivedSeq = advanceReportSeq(this.lastReceivedSeq, seq)
        if (lastReceivedSeq < 0) return
        this.lastReceivedSeq = lastReceivedSeq
        this.handler.onReport(envelope.report as LinkExecutionReport)
        return
      }
      case 'instrumentUpdate':
        this.handler.onInstrumentUpdate(envelope.instrumentUpdate!.instrument as Instrument)
        return
      case 'logout':
        this.socket?.end()
        return
      default:
        // Heartbeats only reset silentTicks, done on arrival.
    }
  }

  private enqueue (frame: Buffer): void {
    this.pending.push(frame)
    this.pendingBytes += frame.length
    if (this.pendingBytes >= FLUSH_THRESHOLD_BYTES) {
      this.flush()
    } else if (!this.flushScheduled && !this.flushesHeld) {
      this.flushScheduled = true
      setImmediate(this.flushBound)
    }
  }

  private flush (): void {
    this.flushScheduled = false
    if (this.pending.length === 0 || this.socket === null) return
    // Always a copy, even of one frame: the socket keeps what it is given
    // until the kernel takes it, and the views point into outScratch,
    // which is reused from here on (the journal copied them when they
    // were recorded).
    const frames = Buffer.concat(this.pending, this.pendingBytes)
    this.pending = []
    this.pendingBytes = 0
    this.outScratch.reset()
    // Write-ahead: every frame in this write was recorded when it was
    // queued; one commit makes all of them durable in the OS first.
    if (this.recorder !== null && !this.recorder.commitJournal()) return
    this.sentSinceTick = true
    this.socket.write(frames)
  }

  /** Session-level messages (logon, heartbeat) go out at once, behind their own record. */
  private writeNow (envelope: LinkEnvelopeInit): void {
    const frame = this.recordedFrame(envelope)
    if (frame === null) return
    this.sentSinceTick = true
    this.socket?.write(frame)
  }

  /** Encodes, records and commits one frame; null when the journal has failed (send nothing). */
  private recordedFrame (envelope: LinkEnvelopeInit): Buffer | null {
    const frame = encodeLinkFrame(envelope)
    if (this.recorder === null) return frame
    this.recorder.recordLinkOut(frame.subarray(LINK_LENGTH_PREFIX_BYTES), envelope, null)
    return this.recorder.commitJournal() ? frame : null
  }

  private startHeartbeats (): void {
    this.stopTimers()
    const intervalMs = this.options.heartbeatIntervalMs
    this.heartbeatTimer = setInterval(() => {
      // More than SILENT_INTERVALS_BEFORE_RECONNECT whole intervals without a read.
      if (++this.silentTicks > SILENT_INTERVALS_BEFORE_RECONNECT) {
        this.socket?.destroy(new Error(`exchange silent for more than ${intervalMs * SILENT_INTERVALS_BEFORE_RECONNECT} ms`))
        return
      }
      // Nothing written for a whole interval: a heartbeat keeps the exchange from thinking us dead.
      if (this.state === 'up' && !this.sentSinceTick) this.writeNow({ seq: 0, heartbeat: {} })
      this.sentSinceTick = false
    }, intervalMs)
    this.heartbeatTimer.unref()
  }

  private stopTimers (): void {
    if (this.heartbeatTimer !== null) clearInterval(this.heartbeatTimer)
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer)
    this.heartbeatTimer = null
    this.reconnectTimer = null
  }

  private onSocketClosed (socket: net.Socket): void {
    if (socket !== this.socket) return
    this.socket = null
    this.pending = []
    this.pendingBytes = 0
    this.outScratch.reset()
    this.decoder.reset()
    const wasUp = this.state === 'up'
    if (this.state === 'closed') return
    this.stopTimers()
    this.state = 'down'
    this.handler.onLinkDown(wasUp ? 'exchange link lost' : 'exchange link could not log on')
    this.reconnectTimer = setTimeout(() => { this.connect() }, this.reconnectDelayMs)
    this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, this.options.maxReconnectDelayMs)
  }
}
