// Entry point of a lane worker thread. The supervisor starts one per
// enabled lane; each runs its own uWebSockets.js app and exchange link.
// Logon steps go to the supervisor's access control and come back as
// 'access-result' messages (logon is not the hot path; orders never cross).
import { parentPort, workerData } from 'node:worker_threads'
import { Lane } from './lane.js'
import type { AccessResult, LaneToSupervisor, LaneWorkerData, SupervisorToLane } from './worker-contract.js'

const { lane: laneName, config, risk, metrics, recovered } = workerData as LaneWorkerData
const port = parentPort!
const notify = (message: LaneToSupervisor): void => { port.postMessage(message) }

let nextRequestId = 1
const pendingAccess = new Map<number, (result: AccessResult) => void>()

const lane = new Lane(laneName, config, notify, (session, request) => new Promise((resolve) => {
  const requestId = nextRequestId++
  pendingAccess.set(requestId, resolve)
  notify({ type: 'access-request', lane: laneName, requestId, sessionId: session.id, ip: session.remoteAddress, request })
}), risk, metrics)
const { host } = config.lanes[laneName]

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
    case 'access-result': {
      const resolve = pendingAccess.get(message.requestId)
      pendingAccess.delete(message.requestId)
      resolve?.(message.result)
      break
    }
    case 'list-sessions':
      notify({ type: 'sessions', lane: laneName, requestId: message.requestId, sessions: lane.sessionsInfo() })
      break
    case 'disconnect':
      notify({ type: 'disconnected', lane: laneName, requestId: message.requestId, found: lane.disconnect(message.sessionId, message.reason) })
      break
    case 'mass-cancel':
      notify({ type: 'mass-cancel-done', lane: laneName, requestId: message.requestId, cancelsSent: lane.massCancel(message.scope) })
      break
    case 'shutdown':
      lane.stop().finally(() => {
        notify({ type: 'stopped', lane: laneName })
        // Nothing uWS is left open in this thread now, so it may end.
        port.close()
      })
      break
  }
})
