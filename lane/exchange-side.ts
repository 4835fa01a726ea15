// The exchange side of a lane: what its exchange link reports (link up and
// down, execution reports, reference data) goes into the order lifecycle
// (order-lifecycle.ts), and what the link sends or receives is journaled
// through it (write-ahead: recorded before queued, committed before the
// socket write). The link is an ExchangeLinkPort (exchange-link-port.ts);
// exchange-link.ts implements it over TCP, and reports back through the
// ExchangeLinkHandler this class implements.
//
// A TCP chunk's reports are delivered between onChunkStart and onChunkEnd:
// the client messages they produce are flushed once, at the end, one
// write per client.
import { wireInt, type Instrument, type LinkEnvelope, type LinkEnvelopeInit, type LinkExecutionReport } from '../protocol/messages.js'
import type { LaneName } from '../protocol/lanes.js'
import type { ClientSession } from './client-session.js'
import type { ExchangeLinkHandler, LinkRecorder } from './exchange-link.js'
import type { LaneJournal, SessionJournalHeads } from './lane-journal.js'
import type { LinkUpInfo, OrderLifecycle } from './order-lifecycle.js'
import type { LaneToSupervisor } from './worker-contract.js'
import { NO_SLOT } from './working-orders.js'

/** What the exchange side needs of the client edge (client-edge.ts). */
export interface ReportBatching {
  /** Client sends are held until endReportBatch... */
  startReportBatch (): void
  /** ...which flushes them, one write per client. */
  endReportBatch (): void
  /** An exception in a handler: counted, journaled, alerted, answered (never throws). */
  contain (where: string, session: ClientSession | null, err: unknown, clientOrderId?: number): void
}

export interface ExchangeSideOptions {
  name: LaneName
  /** Null when the journal is off (benchmarks): then the link records nothing. */
  journal: LaneJournal | null
  edge: ReportBatching
  notify: (message: LaneToSupervisor) => void
  /** Test-only injected fault (config lanes.<lane>.testFaults): a report for this client_order_id throws; 0: none. */
  faultReportClientOrderId: number
}

export class ExchangeSide implements ExchangeLinkHandler, LinkRecorder {
  private readonly name: LaneName
  /** Set once by drive(), before the link connects (the lifecycle sends on the link this side listens to). */
  private lifecycle!: OrderLifecycle
  private readonly journal: LaneJournal | null
  private readonly edge: ReportBatching
  private readonly notify: (message: LaneToSupervisor) => void
  private readonly faultReportClientOrderId: number

  constructor (options: ExchangeSideOptions) {
    this.name = options.name
    this.journal = options.journal
    this.edge = options.edge
    this.notify = options.notify
    this.faultReportClientOrderId = options.faultReportClientOrderId
  }

  /** The lifecycle the link's events go into. */
  drive (lifecycle: OrderLifecycle): void {
    this.lifecycle = lifecycle
  }

  /** The recorder to give the link: null when the journal is off. */
  get recorder (): LinkRecorder | null {
    return this.journal === null ? null : this
  }

  // ---- ExchangeLinkHandler ------------------------------------------------

  onLinkUp (info: LinkUpInfo): void {
    try {
      // The lane whose logon rolled the shared day journals the positions
      // carried into it: recovery reads only the newest day.
      if (this.lifecycle.linkUp(info)) this.journal?.positionsCarried(info.tradingDay, this.lifecycle.carriedPositions())
      this.notify({ type: 'link-state', lane: this.name, state: 'up', detail: `trading day ${info.tradingDay}, ${info.environment}, ${info.instruments.length} instruments`, environment: info.environment })
    } catch (err) {
      this.edge.contain('link up', null, err)
    }
  }

  onLinkDown (reason: string): void {
    this.lifecycle.linkDown()
    this.notify({ type: 'link-state', lane: this.name, state: 'down', detail: reason })
  }

  onChunkStart (): void {
    this.edge.startReportBatch()
  }

  onChunkEnd (): void {
    try {
      this.edge.endReportBatch()
    } catch (err) {
      this.edge.contain('link chunk flush', null, err)
    }
  }

  onInstrumentUpdate (instrument: Instrument): void {
    try {
      this.lifecycle.instrumentUpdate(instrument)
    } catch (err) {
      this.edge.contain('link instrument update', null, err)
    }
  }

  onReport (report: LinkExecutionReport): void {
    try {
      if (this.faultReportClientOrderId !== 0 && this.clientOrderIdOf(report) === this.faultReportClientOrderId) {
        throw new Error(`test fault: report for client_order_id ${this.faultReportClientOrderId} (lanes.${this.name}.testFaults)`)
      }
      this.lifecycle.report(report)
    } catch (err) {
      const orders = this.lifecycle.orders
      const slot = orders.slotOf(wireInt(report.orderId))
      this.edge.contain('link report', slot === NO_SLOT ? null : orders.session[slot]!, err, this.clientOrderIdOf(report))
    }
  }

  /** The client_order_id of the working order a report names; 0 if none. */
  private clientOrderIdOf (report: LinkExecutionReport): number {
    const orders = this.lifecycle.orders
    const slot = orders.slotOf(wireInt(report.orderId))
    return slot === NO_SLOT ? 0 : orders.clientOrderId[slot]!
  }

  // ---- LinkRecorder: the link records through the lane's journal ------------

  recordLinkOut (body: Uint8Array, envelope: LinkEnvelopeInit, cause: SessionJournalHeads | null): void {
    this.journal!.linkOut(cause, body, envelope)
  }

  recordLinkIn (body: Uint8Array, envelope: LinkEnvelope | null): void {
    this.journal!.linkIn(body, envelope)
  }

  commitJournal (): boolean {
    return this.journal!.commit()
  }
}
