// Batched, backpressure-aware writes of link frames to one socket.
//
// Frames are encoded straight into one growing protobufjs Writer per
// connection, each behind a 4-byte length patched in after the body is
// written:
//
//   writer.buf
//   +--------+-----------------+--------+-----------------+---- ...
//   | len BE | LinkEnvelope    | len BE | LinkEnvelope    |
//   +--------+-----------------+--------+-----------------+---- ...
//   0                                                     writer.pos
//
// The first frame of an event-loop turn schedules one flush (setImmediate);
// a batch past FLUSH_THRESHOLD_BYTES flushes inline. A flush hands the
// socket one copy of the batch (socket.write keeps a reference, so the
// writer's buffer cannot be handed over and reused). When the socket says
// stop (write() returned false) the batch keeps growing until 'drain'; a
// consumer more than maxBehindBytes behind is reported through onOverflow,
// and the caller drops it.
import type { Socket } from 'node:net'
import protobuf from 'protobufjs/minimal.js'
import { LinkEnvelope, type LinkEnvelopeInit } from '../protocol/messages.js'
import { LINK_LENGTH_PREFIX_BYTES, MAX_LINK_FRAME_BYTES } from '../protocol/constants.js'
import { FLUSH_THRESHOLD_BYTES, MAX_BEHIND_BYTES } from './constants.js'

export class LinkFrameWriter {
  private readonly writer = protobuf.Writer.create()
  private flushScheduled = false
  private waitingDrain = false
  private closed = false
  /** Date.now() of the last flush that wrote bytes (drives heartbeats). */
  lastSentMs = Date.now()

  constructor (
    private readonly socket: Socket,
    /** Called once when the consumer falls more than maxBehindBytes behind. */
    private readonly onOverflow: (behindBytes: number) => void,
    /** Called with true when the socket pushes back, false when it drains. */
    private readonly onBackpressure: (blocked: boolean) => void = () => {},
    private readonly maxBehindBytes = MAX_BEHIND_BYTES,
  ) {
    socket.on('drain', this.onDrain)
  }

  /** Bytes encoded and not yet handed to the socket. */
  get pendingBytes (): number {
    return this.writer.pos
  }

  /** Queues one envelope; it reaches the socket at the end of this event-loop turn at the latest. */
  send (envelope: LinkEnvelopeInit): void {
    if (this.closed) return
    const w = this.writer
    const start = w.pos
    w.fixed32(0)
    LinkEnvelope.encode(envelope, w)
    const length = w.pos - start - LINK_LENGTH_PREFIX_BYTES
    if (length > MAX_LINK_FRAME_BYTES) {
      w.pos = start
      throw new RangeError(`link frame of ${length} bytes exceeds the ${MAX_LINK_FRAME_BYTES}-byte maximum`)
    }
    // fixed32 is little-endian; the link prefix is big-endian. The buffer
    // may have been reallocated while encoding, so index w.buf afresh.
    const buf = w.buf
    buf[start] = length >>> 24
    buf[start + 1] = (length >>> 16) & 0xff
    buf[start + 2] = (length >>> 8) & 0xff
    buf[start + 3] = length & 0xff
    if (this.waitingDrain) {
      const behind = w.pos + this.socket.writableLength
      if (behind > this.maxBehindBytes) {
        this.close()
        this.onOverflow(behind)
      }
      return
    }
    if (w.pos >= FLUSH_THRESHOLD_BYTES) this.flush()
    else if (!this.flushScheduled) {
      this.flushScheduled = true
      setImmediate(this.flushTask)
    }
  }

  /** Hands the pending batch to the socket unless it is pushing back. */
  flush (): void {
    if (this.closed || this.waitingDrain || this.writer.pos === 0) return
    const chunk = this.writer.finish()
    this.writer.reset()
    this.lastSentMs = Date.now()
    if (!this.socket.write(chunk)) {
      this.waitingDrain = true
      this.onBackpressure(true)
    }
  }

  /** Writes whatever is pending, ignoring backpressure, then half-closes the socket. */
  end (): void {
    if (this.closed) return
    this.waitingDrain = false
    this.flush()
    this.close()
    this.socket.end()
  }

  /** Stops writing and discards anything pending (the socket is going away). */
  close (): void {
    this.closed = true
    this.writer.reset()
    this.socket.off('drain', this.onDrain)
  }

  private readonly flushTask = (): void => {
    this.flushScheduled = false
    this.flush()
  }

  private readonly onDrain = (): void => {
    if (!this.waitingDrain) return
    this.waitingDrain = false
    this.onBackpressure(false)
    this.flush()
  }
}
