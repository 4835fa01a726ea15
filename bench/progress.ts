// Progress on stderr: a redrawn bar when stderr is a terminal, otherwise an
// occasional plain line (CI logs and pipes get no control characters).
const REDRAW_INTERVAL_MS = 100
const PLAIN_LINE_INTERVAL_MS = 10_000
const BAR_WIDTH = 30

export class Progress {
  private readonly tty = process.stderr.isTTY === true
  private doneWeight = 0
  private currentWeight = 0
  private currentFraction = 0
  private label = ''
  private lastDrawMs = 0
  private lastPlainMs = 0
  private readonly startedMs = Date.now()

  constructor (private readonly totalWeight: number) {}

  /** Starts a step worth `weight` (its expected seconds) of the whole run. */
  begin (label: string, weight: number): void {
    this.doneWeight += this.currentWeight
    this.currentWeight = weight
    this.currentFraction = 0
    this.label = label
    if (!this.tty) {
      this.lastPlainMs = Date.now()
      process.stderr.write(`bench: [${this.percent()}%] ${label}\n`)
    }
    this.draw(true)
  }

  /** Progress within the current step, 0..1. */
  update (fraction: number): void {
    this.currentFraction = Math.max(this.currentFraction, Math.min(1, fraction))
    this.draw(false)
  }

  /** A line that must not be overwritten by the bar. */
  note (text: string): void {
    if (this.tty) process.stderr.write('\r\x1b[K')
    process.stderr.write(`bench: ${text}\n`)
    this.draw(true)
  }

  finish (): void {
    if (this.tty) process.stderr.write('\r\x1b[K')
    process.stderr.write(`bench: done in ${Math.round((Date.now() - this.startedMs) / 1000)} s\n`)
  }

  private percent (): number {
    const total = this.totalWeight > 0 ? this.totalWeight : 1
    return Math.min(100, Math.round((this.doneWeight + this.currentWeight * this.currentFraction) / total * 100))
  }

  private draw (force: boolean): void {
    const now = Date.now()
    if (!this.tty) {
      if (now - this.lastPlainMs >= PLAIN_LINE_INTERVAL_MS) {
        this.lastPlainMs = now
        process.stderr.write(`bench: [${this.percent()}%] ${this.label} (${Math.round(this.currentFraction * 100)}% of this step)\n`)
      }
      return
    }
    if (!force && now - this.lastDrawMs < REDRAW_INTERVAL_MS) return
    this.lastDrawMs = now
    const percent = this.percent()
    const filled = Math.round(percent / 100 * BAR_WIDTH)
    const elapsedS = Math.round((now - this.startedMs) / 1000)
    process.stderr.write(`\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${String(percent).padStart(3)}% ${elapsedS}s ${this.label}`)
  }
}
