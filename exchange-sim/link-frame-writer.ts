// Batched, backpressure-aware writes of link frames to one socket.
//
// Frames are encoded straight into one growing batch buffer per
// connection, each behind its 4-byte length:
//
//   batch.buf
//   +--------+-----------------+--------+-----------------+---- ...
//   | len BE | LinkEnvelope    | len BE | LinkEnvelope    |
//   +--------+-----------------+--------+-----------------+---- ...
//   0                                                     batch.pos
//
// Execution reports, the frames sent per order event, are written by the
// gateway's own hand encoder (protocol/hot-codec.ts encodeLinkReportFrame,
// proven byte-equal to protobufjs); every other frame is encoded by
// protobufjs (link-codec.ts encodeLinkFrame) and copied in.
//
// The first frame of an event-loop turn schedules one flush (setImmediate);
// a batch past FLUSH_THRESHOLD_BYTES flushes inline. A flush hands the
// socket one copy of the batch (socket.write keeps a reference, so the
// writer's buffer cannot be handed over and reused). When the socket says
// stop (write() returned false) the batch keeps growing until 'drain'; a
// consumer more than maxBehindBytes behind is reported through onOverflow,
// and the caller drops it.
import type { Socket } from 'node:net'
import type { LinkEnvelopeInit } from '../protocol/messages.js'
import { LINK_LENGTH_PREFIX_BYTES, MAX_LINK_FRAME_BYTES } from '../protocol/constants.js'
import { writeLinkReportFrame, type EncodeTarget } from '../protocol/hot-codec.js'
import { encodeLinkFrame } from '../protocol/link-codec.js'
import { FLUSH_THRESHOLD_BYTES, MAX_BEHIND_BYTES } from './constants.js'

/** The pending batch: one buffer that doubles when a frame may not fit, its content kept. */
class FrameBatch implements EncodeTarget {
  buf = Buffer.allocUnsafe(2 * FLUSH_THRESHOLD_BYTES)
  pos = 0

  reserve (maxBytes: number): void {
    if (this.pos + maxBytes <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.pos + maxBytes) size *= 2
    const grown = Buffer.allocUnsafe(size)
    this.buf.copy(grown, 0, 0, this.pos)
    this.buf = grown
  }

  take (length: number): Buffer {
    const start = this.pos
    this.pos = start + length
    return this.buf.subarray(start, this.pos)
  }
}

export class LinkFrameWriter {
  private readonly batch = new FrameBatch()
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
    return this.batch.pos
  }

  /** Queues one envelope; it reaches the socket at the end of this event-loop turn at the latest. */
  send (envelope: LinkEnvelopeInit): void {
    if (this.closed) return
    const w = this.batch
    const start = w.pos
    const reportBytes = writeLinkReportFrame(w, envelope)
    if (reportBytes >= 0) {
      w.pos += reportBytes
    } else {
      const frame = encodeLinkFrame(envelope)
      w.reserve(frame.length)
      w.buf.set(frame, w.pos)
      w.pos += frame.length
    }
    const length = w.pos - start - LINK_LENGTH_PREFIX_BYTES
    if (length > MAX_LINK_FRAME_BYTES) {
      w.pos = start
      throw new RangeError(`link frame of ${length} bytes exceeds the ${MAX_LINK_FRAME_BYTES}-byte maximum`)
    }
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
    const w = this.batch
    if (this.closed || this.waitingDrain || w.pos === 0) return
    // socket.write keeps the chunk: it gets a copy, the batch is reused.
    const chunk = Buffer.from(w.buf.subarray(0, w.pos))
    w.pos = 0
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
    this.batch.pos = 0
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
