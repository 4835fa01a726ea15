// Free space on the journal's file system, watched on a timer (fs.statfs
// runs on the libuv pool, off the lane's event loop turn). Below the low
// watermark the lane refuses new logons and ops are told, while logged-on
// sessions keep trading into the remaining space; below the hard floor the
// lane fails closed as it would on a failed write, but before the write
// fails, so the segment on disk stays whole.
import { statfs } from 'node:fs'

export type DiskState = 'ok' | 'low' | 'floor'

export interface DiskWatermarks {
  checkIntervalMs: number
  lowWatermarkBytes: number
  lowWatermarkPercent: number
  floorBytes: number
}

export interface DiskReading {
  state: DiskState
  freeBytes: number
  totalBytes: number
  /** The low watermark in bytes on this file system: the larger of the byte and the percentage mark. */
  lowWatermarkBytes: number
}

/** The state for a reading: pure, so the rule lives here once. */
export function diskStateOf (freeBytes: number, totalBytes: number, marks: DiskWatermarks): DiskReading {
  const lowWatermarkBytes = Math.max(marks.lowWatermarkBytes, Math.floor(totalBytes * marks.lowWatermarkPercent / 100))
  const state: DiskState = freeBytes < marks.floorBytes ? 'floor' : freeBytes < lowWatermarkBytes ? 'low' : 'ok'
  return { state, freeBytes, totalBytes, lowWatermarkBytes }
}

export class DiskWatermark {
  private timer: NodeJS.Timeout | null = null
  private reading: DiskReading | null = null
  private checking = false

  /** onReading runs on every reading, with the state before it (null for the first). */
  constructor (
    private readonly dir: string,
    private readonly marks: DiskWatermarks,
    private readonly onReading: (reading: DiskReading, previous: DiskState | null) => void,
  ) {}

  /** The last state; 'ok' until the first reading. */
  get state (): DiskState {
    return this.reading?.state ?? 'ok'
  }

  get last (): DiskReading | null {
    return this.reading
  }

  start (): void {
    this.check()
    this.timer = setInterval(() => { this.check() }, this.marks.checkIntervalMs)
    this.timer.unref()
  }

  stop (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  private check (): void {
    if (this.checking) return
    this.checking = true
    statfs(this.dir, (err, stats) => {
      this.checking = false
      // An unreadable file system keeps the last state: the journal's own
      // writes fail closed if it is really gone.
      if (err !== null || this.timer === null) return
      const reading = diskStateOf(stats.bavail * stats.bsize, stats.blocks * stats.bsize, this.marks)
      const previous = this.reading?.state ?? null
      this.reading = reading
      this.onReading(reading, previous)
    })
  }
}
