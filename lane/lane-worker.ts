// Entry point of a lane worker thread. The supervisor starts one per
// enabled lane; each runs its own uWebSockets.js app and exchange link.
// Logon steps go to the supervisor's access control as requests, and the
// supervisor's admin requests come here (platform/cross-thread.ts); logon
// is not the hot path, and orders never cross.
import { parentPort, workerData } from 'node:worker_threads'
import { Lane } from './lane.js'
import { CrossThreadRequester, answerRequests } from '../platform/cross-thread.js'
import { RejectReason } from '../protocol/messages.js'
import { ThreadSampler } from '../platform/thread-sampler.js'
import { SLOT_THREAD_SAMPLE } from './lane-metrics.js'
import { nameThisThread } from '../platform/thread-name.js'
import type { AccessResult, LaneRequests, LaneToSupervisor, LaneWorkerData, SupervisorRequests, SupervisorToLane } from './worker-contract.js'

const { lane: laneName, config, risk, metrics, recovered } = workerData as LaneWorkerData
const port = parentPort!
// lane-terminal, lane-platform, lane-hft in /proc: ops and the bench see each lane's CPU.
nameThisThread(`lane-${laneName}`)
const notify = (message: LaneToSupervisor): void => { port.postMessage(message) }
const { policy } = config.lanes[laneName]

const supervisor = new CrossThreadRequester<SupervisorRequests>(notify, {
  peer: 'the supervisor',
  // Past the logon timeout the session is closed anyway: its answer would be for no one.
  timeoutMs: policy.logonTimeoutMs,
  // Each unauthenticated connection has at most one step in flight; the
  // factor of two covers steps still pending for connections that closed
  // and were replaced. Past it a step is refused, not queued.
  maxPending: 2 * policy.maxUnauthenticatedConnections,
})

/** Access control's verdict on a logon step. Fails closed: no answer is a refusal, with the reason. */
async function decideAccess (args: SupervisorRequests['access']['args']): Promise<AccessResult> {
  try {
    return await supervisor.request('access', args)
  } catch (err) {
    return { reason: RejectReason.AUTH_FAILED, text: `access check failed: ${(err as Error).message}` }
  }
}

const lane = new Lane(laneName, config, notify, (session, request) => decideAccess({ sessionId: session.id, ip: session.remoteAddress, request }),
  risk, metrics)
const { host } = config.lanes[laneName]
// Event-loop delay and heap of this thread, for /metrics (unref'd: it never keeps the thread alive).
new ThreadSampler(new Float64Array(metrics), SLOT_THREAD_SAMPLE).start()

const answerSupervisor = answerRequests<LaneRequests>(notify, {
  'list-sessions': () => lane.sessionsInfo(),
  disconnect: ({ sessionId, reason }) => lane.disconnect(sessionId, reason),
  'mass-cancel': ({ scope }) => lane.massCancel(scope),
  'install-handover': ({ handover, accountIndexes }) => lane.installHandover(handover, accountIndexes),
})

// What the supervisor recovered from the journal first: the lane listens
// and dials only with it in place.
const report = lane.recover(recovered)
if (report !== null) notify({ type: 'recovered', ...report })

lane.start().then((boundPort) => {
  notify({ type: 'listening', lane: laneName, host, port: boundPort, tls: config.lanes[laneName].tls !== undefined })
}, (err: Error) => {
  notify({ type: 'listen-failed', lane: laneName, host, port: config.lanes[laneName].port, error: err.message })
})

port.on('message', (message: SupervisorToLane) => {
  switch (message.type) {
    case 'request':
      answerSupervisor(message)
      break
    case 'reply':
      supervisor.handleReply(message)
      break
    case 'shutdown':
      supervisor.close('the lane is stopping')
      lane.stop().finally(() => {
        notify({ type: 'stopped', lane: laneName })
        // Nothing uWS is left open in this thread now, so it may end.
        port.close()
      })
      break
  }
})
