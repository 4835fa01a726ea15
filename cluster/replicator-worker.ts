// Entry point of the journal replicator's thread (journal-replicator.ts).
// Its own thread and its own NATS connection: publishing, waiting for acks
// and reading segment files never run on a lane thread or the supervisor.
// It posts a small status to the supervisor every STATUS_INTERVAL_MS, never
// per record.
import { parentPort, workerData } from 'node:worker_threads'
import { journalDir, type GatewayConfig } from '../config/config.js'
import { nameThisThread } from '../platform/thread-name.js'
import { startNats } from './nats-connection.js'
import { JournalReplicator } from './journal-replicator.js'
import { REPLICATOR_THREAD_NAME, STATUS_INTERVAL_MS, type ReplicatorToSupervisor, type SupervisorToReplicator } from './replicator-thread.js'

const { config } = workerData as { config: GatewayConfig }
nameThisThread(REPLICATOR_THREAD_NAME)
const link = startNats(config.cluster.nats, `${config.gatewayId}-replicator`)
const replicator = new JournalReplicator({
  journalDir: journalDir(config),
  instance: config.gatewayId,
  settings: config.cluster.replication,
  link,
}).start()

const post = (message: ReplicatorToSupervisor): void => { parentPort!.postMessage(message) }
const postStatus = (): void => {
  try {
    post({ type: 'status', status: replicator.status() })
  } catch {
    // A segment removed while it was listed (a retention purge): the next status has it right.
  }
}
const statusTimer = setInterval(postStatus, STATUS_INTERVAL_MS)
postStatus()

parentPort!.on('message', (message: SupervisorToReplicator) => {
  if (message.type !== 'shutdown') return
  clearInterval(statusTimer)
  void (async () => {
    await replicator.stop(message.drainMs)
    await link.close().catch(() => {})
    postStatus()
    parentPort!.close()
  })()
})
