// `--record FILE`: one JSON line per LinkNewOrder the simulator received,
// written before validation, so a test can compare what reached the
// exchange with what the gateway journaled.
//
// Lines are batched into one string and written once per event-loop turn
// (or at RECORD_FLUSH_THRESHOLD_BYTES) through a write stream: one write(2)
// per batch, never one per order, and no fsync (this is test evidence, not
// the retention journal).
import { createWriteStream, type WriteStream } from 'node:fs'
import { once } from 'node:events'
import { HedgeFlag, OffsetFlag, Side, TimeInForce, wireInt } from '../protocol/messages.js'
import { RECORD_FLUSH_THRESHOLD_BYTES } from './constants.js'
import type { NewOrderInput } from './matching-engine.js'

/** One line of the record file, as written. */
export interface RecordedOrder {
  time_us: number
  session: string
  seq: number
  order_id: number
  account: string
  instrument: string
  side: string
  price: number
  quantity_lots: number
  time_in_force: string
  /** As received: OFFSET_FLAG_UNSPECIFIED from a gateway that does not send it. */
  offset_flag: string
  hedge_flag: string
}

export class OrderRecorder {
  private pending = ''
  private flushScheduled = false
  private failure: Error | null = null

  private constructor (private readonly stream: WriteStream, readonly file: string) {
    stream.on('error', (err) => { this.failure = err })
  }

  /** Opens (appends to) the file; rejects if it cannot be opened. */
  static async open (file: string): Promise<OrderRecorder> {
    const stream = createWriteStream(file, { flags: 'a' })
    await once(stream, 'open')
    return new OrderRecorder(stream, file)
  }

  /** The write error, if the file failed after opening. */
  get error (): Error | null {
    return this.failure
  }

  record (timeUs: number, session: string, seq: number, order: NewOrderInput): void {
    const line: RecordedOrder = {
      time_us: timeUs,
      session,
      seq,
      order_id: wireInt(order.orderId),
      account: order.account,
      instrument: order.instrument,
      side: enumName(Side, order.side),
      price: wireInt(order.price),
      quantity_lots: order.quantityLots,
      time_in_force: enumName(TimeInForce, order.timeInForce),
      offset_flag: enumName(OffsetFlag, order.offsetFlag ?? OffsetFlag.OFFSET_FLAG_UNSPECIFIED),
      hedge_flag: enumName(HedgeFlag, order.hedgeFlag ?? HedgeFlag.HEDGE_FLAG_UNSPECIFIED),
    }
    this.pending += JSON.stringify(line) + '\n'
    if (this.pending.length >= RECORD_FLUSH_THRESHOLD_BYTES) this.flush()
    else if (!this.flushScheduled) {
      this.flushScheduled = true
      setImmediate(this.flushTask)
    }
  }

  flush (): void {
    if (this.pending === '' || this.failure !== null) return
    this.stream.write(this.pending)
    this.pending = ''
  }

  /** Writes what is pending and closes the file. */
  async close (): Promise<void> {
    this.flush()
    if (this.stream.closed) return
    const finished = once(this.stream, 'close')
    this.stream.end()
    await finished
  }

  private readonly flushTask = (): void => {
    this.flushScheduled = false
    this.flush()
  }
}

function enumName (values: object, value: number): string {
  return (values as Record<number, string>)[value] ?? String(value)
}
