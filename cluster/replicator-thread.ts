// The supervisor's handle on the journal replicator's thread
// (replicator-worker.ts): starts and stops it, keeps its latest status for
// /metrics, and turns that status into ops alerts: NATS lost and restored,
// replication lag past `cluster.replication.lagAlertMs` and caught up.
// Trading never waits on any of this: /readyz stays ready while NATS is down.
import { once } from 'node:events'
import { Worker } from 'node:worker_threads'
import type { GatewayConfig } from '../config/config.js'
import type { ReplicatorStatus } from './journal-replicator.js'

/** The thread's name in /proc (15 bytes at most), for top -H and the benchmark's per-thread CPU. */
export const REPLICATOR_THREAD_NAME = 'gh-replicator'
export const STATUS_INTERVAL_MS = 250
/** At stop, how long the replicator keeps publishing what the lanes committed as they stopped (their seals). */
export const STOP_DRAIN_MS = 3_000
/** How long the replicator may take to stop before its thread is terminated. */
const STOP_TIMEOUT_MS = STOP_DRAIN_MS + 2_000

export type ReplicatorToSupervisor = { type: 'status', status: ReplicatorStatus }
export type SupervisorToReplicator = { type: 'shutdown', drainMs: number }

/**
 * nats-lost: the replicator has no NATS connection (at start: none within
 * the connect timeout); nats-restored: it has one again. lag-high: some
 * stream's oldest unreplicated record is older than lagAlertMs; lag-cleared:
 * every stream is back under it.
 */
export type ReplicationAlertKind = 'nats-lost' | 'nats-restored' | 'lag-high' | 'lag-cleared'

export interface ReplicationAlert {
  kind: ReplicationAlertKind
  text: string
  /** The worst stream's lag when the alert is about lag. */
  stream?: string
  lagSeconds?: number
  lagBytes?: number
}

/** A replicator thread that ended by itself is started again after this long. */
const RESTART_DELAY_MS = 1_000

export class ReplicatorThread {
  private worker: Worker
  status: ReplicatorStatus | null = null
  private natsAlerted = false
  private lagAlerted = false
  private readonly startedMs = Date.now()
  private stopping = false
  private restartTimer: NodeJS.Timeout | null = null
  /** Times the thread ended by itself (an uncaught error) and was started again. */
  restarts = 0

  constructor (private readonly config: GatewayConfig, private readonly onAlert: (alert: ReplicationAlert) => void) {
    this.worker = this.startWorker()
  }

  private startWorker (): Worker {
    const worker = new Worker(new URL('./replicator-worker.js', import.meta.url), { workerData: { config: this.config }, name: 'replicator' })
    worker.on('message', (message: ReplicatorToSupervisor) => {
      if (message.type === 'status') this.observe(message.status)
    })
    // The replicator failing must not take trading down: its state resumes
    // from the stream, so a new thread simply starts where the stream ends.
    worker.on('error', () => {})
    worker.on('exit', () => {
      if (this.status !== null) this.status = { ...this.status, connected: false }
      if (this.stopping) return
      this.restarts++
      this.restartTimer = setTimeout(() => {
        this.restartTimer = null
        if (!this.stopping) this.worker = this.startWorker()
      }, RESTART_DELAY_MS)
      this.restartTimer.unref()
    })
    return worker
  }

  private observe (status: ReplicatorStatus): void {
    this.status = status
    const settings = this.config.cluster
    if (!status.connected && !this.natsAlerted && Date.now() - this.startedMs >= settings.nats.connectTimeoutMs) {
      this.natsAlerted = true
      this.onAlert({ kind: 'nats-lost', text: `journal replication has no NATS connection (${settings.nats.servers.join(', ')}); trading continues on the local journal and the backlog is published when NATS returns` })
    } else if (status.connected && this.natsAlerted) {
      this.natsAlerted = false
      this.onAlert({ kind: 'nats-restored', text: 'journal replication is connected to NATS again; the backlog is being published' })
    }
    let worst: ReplicatorStatus['streams'][number] | null = null
    for (const s of status.streams) if (worst === null || s.lagSeconds > worst.lagSeconds) worst = s
    const lagMs = (worst?.lagSeconds ?? 0) * 1000
    if (worst !== null && !this.lagAlerted && lagMs > settings.replication.lagAlertMs) {
      this.lagAlerted = true
      this.onAlert({ kind: 'lag-high', stream: worst.stream, lagSeconds: worst.lagSeconds, lagBytes: worst.lagBytes, text: `journal replication of stream ${worst.stream} is ${worst.lagSeconds.toFixed(1)} s (${worst.lagBytes} bytes) behind, more than ${settings.replication.lagAlertMs} ms` })
    } else if (this.lagAlerted && lagMs <= settings.replication.lagAlertMs) {
      this.lagAlerted = false
      this.onAlert({ kind: 'lag-cleared', text: 'journal replication has caught up' })
    }
  }

  async stop (): Promise<void> {
    this.stopping = true
    if (this.restartTimer !== null) clearTimeout(this.restartTimer)
    if (this.worker.threadId === -1) return
    const exited = once(this.worker, 'exit')
    this.worker.postMessage({ type: 'shutdown', drainMs: STOP_DRAIN_MS } satisfies SupervisorToReplicator)
    const timer = setTimeout(() => { void this.worker.terminate() }, STOP_TIMEOUT_MS)
    await exited
    clearTimeout(timer)
  }
}
