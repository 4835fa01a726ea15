// Concurrent connections that have not logged on yet, per lane and per
// source IP. Each holds a file descriptor and memory while nobody is
// accountable for it, so they are capped where the lane accepts the
// WebSocket upgrade; a logged-on session no longer counts. The per-IP
// table holds only addresses with such a connection open, so it is
// bounded by the lane cap.

export interface UnauthenticatedRefusal {
  status: string
  text: string
}

export class UnauthenticatedCaps {
  private total = 0
  private readonly perIp = new Map<string, number>()

  constructor (private readonly maxTotal: number, private readonly maxPerIp: number) {}

  /** Connections not logged on now. */
  get count (): number {
    return this.total
  }

  /** Null when one more connection from ip fits; otherwise the HTTP refusal. Does not count it (add() does). */
  check (ip: string): UnauthenticatedRefusal | null {
    if (this.total >= this.maxTotal) {
      return { status: '503 Service Unavailable', text: `TOO_MANY_UNAUTHENTICATED: this lane already holds ${this.maxTotal} connections that have not logged on; retry shortly` }
    }
    if ((this.perIp.get(ip) ?? 0) >= this.maxPerIp) {
      return { status: '429 Too Many Requests', text: `TOO_MANY_UNAUTHENTICATED: this address already holds ${this.maxPerIp} connections that have not logged on; log them on or close them` }
    }
    return null
  }

  add (ip: string): void {
    this.total++
    this.perIp.set(ip, (this.perIp.get(ip) ?? 0) + 1)
  }

  /** The connection logged on or closed. */
  release (ip: string): void {
    const n = this.perIp.get(ip)
    if (n === undefined) return
    this.total--
    if (n <= 1) this.perIp.delete(ip)
    else this.perIp.set(ip, n - 1)
  }
}
