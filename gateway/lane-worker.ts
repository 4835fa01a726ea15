// Entry point of a lane worker thread. The supervisor starts one per
// enabled lane; each runs its own uWebSockets.js app and exchange link.
import { parentPort, workerData } from 'node:worker_threads'
import { Lane } from './lane.js'
import type { LaneToSupervisor, LaneWorkerData, SupervisorToLane } from './types.js'

const { lane: laneName, config } = workerData as LaneWorkerData
const port = parentPort!
const notify = (message: LaneToSupervisor): void => { port.postMessage(message) }

const lane = new Lane(laneName, config, notify)
const { host } = config.lanes[laneName]

lane.start().then((boundPort) => {
  notify({ type: 'listening', lane: laneName, host, port: boundPort, tls: config.lanes[laneName].tls !== undefined })
}, (err: Error) => {
  notify({ type: 'listen-failed', lane: laneName, host, port: config.lanes[laneName].port, error: err.message })
})

port.on('message', (message: SupervisorToLane) => {
  if (message.type === 'shutdown') {
    lane.stop().finally(() => {
      notify({ type: 'stopped', lane: laneName })
      // Nothing uWS is left open in this thread now, so it may end.
      port.close()
    })
  }
})
