// Another member's session straight to the exchange simulator, through
// the gateway's own link client: it sees the simulator's order book as the
// exchange does, whatever the gateway thinks is working. A crossing FAK
// from here tells whether orders are really resting (fills) or really gone
// (no fill).
import { ExchangeLink, type ExchangeLinkHandler } from '../../lane/exchange-link.js'
import { ExecType, TimeInForce, wireInt, type LinkExecutionReport } from '../../protocol/messages.js'

export interface ProbeFill {
  price: number
  lots: number
}

/** What a FAK from the probe did: every fill, and the final report. */
export interface ProbeResult {
  fills: ProbeFill[]
  filledLots: number
  final: LinkExecutionReport
}

interface PendingOrder {
  fills: ProbeFill[]
  done: (result: ProbeResult) => void
}

export class ExchangeProbe implements ExchangeLinkHandler {
  private readonly link: ExchangeLink
  private readonly pending = new Map<number, PendingOrder>()
  private nextOrderId = 1
  private linkUp: (() => void) | null = null

  private constructor (host: string, port: number, sessionName: string) {
    this.link = new ExchangeLink({
      host,
      port,
      memberId: 'PROBE',
      sessionName,
      heartbeatIntervalMs: 200,
      reconnectDelayMs: 50,
      maxReconnectDelayMs: 200,
    }, this)
  }

  /** Logs on to the simulator as link session `sessionName`. */
  static async connect (host: string, port: number, sessionName: string): Promise<ExchangeProbe> {
    const probe = new ExchangeProbe(host, port, sessionName)
    const up = new Promise<void>((resolve) => { probe.linkUp = resolve })
    probe.link.connect()
    await up
    return probe
  }

  /** Sends a FAK and resolves once the exchange has finished it (FILL, CANCELLED or REJECTED). */
  fak (order: { account: string, instrument: string, side: number, price: number, quantityLots: number }): Promise<ProbeResult> {
    const orderId = this.nextOrderId++
    return new Promise((resolve, reject) => {
      this.pending.set(orderId, { fills: [], done: resolve })
      const seq = this.link.send({ newOrder: { orderId, timeInForce: TimeInForce.FAK, ...order } })
      if (seq === 0) {
        this.pending.delete(orderId)
        reject(new Error('probe link is not up'))
      }
    })
  }

  close (): Promise<void> {
    return this.link.close()
  }

  onLinkUp (): void {
    this.linkUp?.()
    this.linkUp = null
  }

  onLinkDown (): void {}

  onReport (report: LinkExecutionReport): void {
    const orderId = wireInt(report.orderId)
    const order = this.pending.get(orderId)
    if (order === undefined) return
    if (report.lastLots > 0) order.fills.push({ price: wireInt(report.lastPrice), lots: report.lastLots })
    const execType = report.execType
    if (execType === ExecType.FILL || execType === ExecType.CANCELLED || execType === ExecType.REJECTED) {
      this.pending.delete(orderId)
      order.done({ fills: order.fills, filledLots: order.fills.reduce((sum, fill) => sum + fill.lots, 0), final: report })
    }
  }

  onInstrumentUpdate (): void {}
  onChunkStart (): void {}
  onChunkEnd (): void {}
}
