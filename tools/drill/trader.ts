// The well-behaved session: logged on for the whole drill, it sends
// heartbeats and small non-crossing FAK orders at a steady pace and times
// each round trip (heartbeat to its echo, order to its final report). A
// FAK that does not cross is cancelled by the exchange at once and, unlike
// a cancel request, is not counted by the regulatory cancel monitors, so
// the drill can be run again the same day. Anything other than the
// expected answer is an error: a reject, a REJECTED report, a disconnect,
// or no answer in time.
import { GatehouseClient } from '../../client/gatehouse-client.js'
import { ExecType, Side, TimeInForce, reasonName, wireInt, type ClientEnvelope, type Instrument } from '../../protocol/messages.js'
import { newHistogram, recordNs, type Histogram } from '../../bench/histogram.js'
import type { DrillSettings } from './drill-settings.js'
import { GatehouseError } from '../../protocol/gatehouse-error.js'
import { DEMO_TERMINAL_INFO } from '../../protocol/demo-identity.js'

/** Past this an unanswered message is an error. */
const ANSWER_TIMEOUT_MS = 2000
/** Errors kept verbatim per window; the rest are only counted. */
const ERROR_SAMPLES = 10
const TICK_MS = 5

export interface TraderWindow {
  p50Ms: number | null
  p99Ms: number | null
  maxMs: number | null
  roundTrips: number
  orders: number
  heartbeats: number
  errors: number
  errorSamples: string[]
}

export class TraderError extends GatehouseError {
  declare readonly code: 'GH_ERR_DRILL_TRADER'
  constructor (message: string, options?: { cause?: unknown }) {
    super('GH_ERR_DRILL_TRADER', message, options)
  }
}

export class Trader {
  private client: GatehouseClient | null = null
  private histogram: Histogram = newHistogram()
  private errors = 0
  private errorSamples: string[] = []
  private orders = 0
  private heartbeats = 0
  private nextTestId = 1
  private readonly pendingHeartbeats = new Map<number, number>()
  private readonly pendingOrders = new Map<number, number>()
  private timer: NodeJS.Timeout | null = null
  private startedMs = 0
  private instrument: Instrument | null = null
  private priceUnits = 0
  /** Why the trader's connection ended, for the windows it misses. */
  private lostBecause = ''
  /** Every message the trader sent, for the journal bound. */
  messagesSent = 0
  instruments: Instrument[] = []

  constructor (private readonly settings: DrillSettings, private readonly url: string, private readonly nextClientOrderId: () => number) {}

  get connected (): boolean {
    return this.client !== null && !this.client.isClosed
  }

  /** Connects from 127.0.0.1 (or the default route for a remote target) and logs on; throws TraderError saying why not. */
  async logOn (localAddress: string | undefined): Promise<void> {
    const { identity, trader } = this.settings
    let client: GatehouseClient
    try {
      client = await GatehouseClient.connect(this.url, { localAddress, handshakeTimeoutMs: 5000 })
    } catch (err) {
      throw new TraderError(`the trader could not connect to ${this.url}: ${(err as Error).message}`)
    }
    client.on('transport-error', () => {})
    let reply
    try {
      reply = await client.logon(identity.traderAccount, identity.traderPassword, { appId: identity.appId, authCode: identity.authCode, terminalInfo: DEMO_TERMINAL_INFO })
    } catch (err) {
      await client.close().catch(() => {})
      throw new TraderError(`the trader's logon got no answer: ${(err as Error).message}`)
    }
    if (!reply.ok) {
      await client.close().catch(() => {})
      throw new TraderError(`the trader (${identity.traderAccount} on ${trader.lane}) could not log on: ${reply.failedStep ?? 'logon'} refused with ${reasonName(reply.reason)} (${reply.text})`)
    }
    this.instruments = reply.instruments as Instrument[]
    const instrument = this.instruments.find((i) => i.symbol === trader.instrument)
    if (instrument === undefined) {
      await client.close().catch(() => {})
      throw new TraderError(`the trader's instrument ${trader.instrument} is not listed on ${trader.lane}; set trader.instrument to one of ${this.instruments.map((i) => i.symbol).join(', ')}`)
    }
    this.instrument = instrument
    // Well inside both the exchange's limits and a 5% fat-finger band, and
    // below any resting sell near the reference price.
    const tick = wireInt(instrument.tickSize)
    const target = Math.max(wireInt(instrument.lowerLimitPrice), wireInt(instrument.referencePrice) * 0.97)
    this.priceUnits = Math.ceil(target / tick) * tick
    this.client = client
    client.on('message', (m: ClientEnvelope) => { this.onMessage(m) })
    client.on('close', (code: number, reason: string) => {
      this.lostBecause = `disconnected by the gateway (close ${code}${reason === '' ? '' : ` ${reason}`})`
      if (this.timer !== null) this.error(this.lostBecause)
    })
  }

  /** Starts the steady pace and a fresh measurement window. */
  begin (): void {
    this.histogram = newHistogram()
    this.errors = 0
    this.errorSamples = []
    this.orders = 0
    this.heartbeats = 0
    this.startedMs = performance.now()
    if (!this.connected) this.error(`not connected${this.lostBecause === '' ? '' : ` (${this.lostBecause})`}: the trader could not log on again before the scenario`)
    let heartbeatsDue = 0
    let ordersDue = 0
    const { heartbeatsPerSecond, ordersPerSecond } = this.settings.trader
    this.timer = setInterval(() => {
      const elapsedS = (performance.now() - this.startedMs) / 1000
      if (!this.connected) return
      while (heartbeatsDue < elapsedS * heartbeatsPerSecond) { heartbeatsDue++; this.sendHeartbeat() }
      while (ordersDue < elapsedS * ordersPerSecond) { ordersDue++; this.sendOrder() }
      this.expireOverdue()
    }, TICK_MS)
  }

  /** Stops sending, waits (bounded) for the answers in flight, and reports the window. */
  async end (): Promise<TraderWindow> {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    const deadline = Date.now() + ANSWER_TIMEOUT_MS
    while ((this.pendingHeartbeats.size > 0 || this.pendingOrders.size > 0) && this.connected && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
    const outstanding = this.pendingHeartbeats.size + this.pendingOrders.size
    if (outstanding > 0) this.error(`${outstanding} message(s) unanswered at the end of the scenario`)
    this.pendingHeartbeats.clear()
    this.pendingOrders.clear()
    const h = this.histogram
    const empty = h.totalCount === 0
    const ms = (percentile: number): number | null => empty ? null : Math.round(h.getValueAtPercentile(percentile) / 1e3) / 1e3
    return {
      p50Ms: ms(50),
      p99Ms: ms(99),
      maxMs: empty ? null : Math.round(h.maxValue / 1e3) / 1e3,
      roundTrips: h.totalCount,
      orders: this.orders,
      heartbeats: this.heartbeats,
      errors: this.errors,
      errorSamples: this.errorSamples,
    }
  }

  async logout (): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
    const client = this.client
    this.client = null
    if (client === null || client.isClosed) return
    await Promise.race([client.logout().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 1000).unref())])
    if (!client.isClosed) await client.close().catch(() => {})
  }

  private sendHeartbeat (): void {
    const testId = this.nextTestId++
    this.pendingHeartbeats.set(testId, performance.now())
    this.client!.send({ heartbeat: { testId } })
    this.messagesSent++
    this.heartbeats++
  }

  private sendOrder (): void {
    const id = this.nextClientOrderId()
    this.pendingOrders.set(id, performance.now())
    this.client!.newOrder({ clientOrderId: id, instrument: this.instrument!.symbol, side: Side.BUY, price: this.priceUnits, quantityLots: 1, timeInForce: TimeInForce.FAK })
    this.messagesSent++
    this.orders++
  }

  private onMessage (m: ClientEnvelope): void {
    const now = performance.now()
    switch (m.body) {
      case 'heartbeat': {
        const sent = this.pendingHeartbeats.get(wireInt(m.heartbeat!.testId))
        if (sent === undefined) return
        this.pendingHeartbeats.delete(wireInt(m.heartbeat!.testId))
        recordNs(this.histogram, (now - sent) * 1e6)
        return
      }
      case 'executionReport': {
        const report = m.executionReport!
        const id = wireInt(report.clientOrderId)
        const sent = this.pendingOrders.get(id)
        if (sent === undefined) return
        if (report.execType === ExecType.REJECTED) {
          this.pendingOrders.delete(id)
          this.error(`order ${id} REJECTED with ${reasonName(report.reason ?? 0)} (${report.text})`)
        } else if (report.execType === ExecType.CANCELLED || report.execType === ExecType.FILL) {
          this.pendingOrders.delete(id)
          recordNs(this.histogram, (now - sent) * 1e6)
        }
        return
      }
      case 'reject': {
        const reject = m.reject!
        this.pendingOrders.delete(wireInt(reject.clientOrderId))
        this.error(`Reject ${reasonName(reject.reason ?? 0)} (${reject.text})`)
        return
      }
      case 'logout':
        this.error(`logged out by the gateway (${m.logout?.text ?? ''})`)
    }
  }

  private expireOverdue (): void {
    const cutoff = performance.now() - ANSWER_TIMEOUT_MS
    for (const [pending, what] of [[this.pendingHeartbeats, 'heartbeat'], [this.pendingOrders, 'order']] as const) {
      for (const [id, sent] of pending) {
        if (sent >= cutoff) break
        pending.delete(id)
        this.error(`${what} ${id} unanswered after ${ANSWER_TIMEOUT_MS} ms`)
      }
    }
  }

  private error (text: string): void {
    this.errors++
    if (this.errorSamples.length < ERROR_SAMPLES) this.errorSamples.push(text)
  }
}
