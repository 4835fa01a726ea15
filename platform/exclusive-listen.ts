// uWebSockets.js listens with SO_REUSEPORT unless told otherwise, so a
// second gateway started on the same ports would bind them too, and the
// kernel would split new clients between two processes with two risk
// states. Every uWS listener of the project listens through this instead.
import uWS from 'uWebSockets.js'

type ListenCallback = (listenSocket: uWS.us_listen_socket | false) => void
/** The native listen's (host, port, options, callback) form, which the bundled typings leave out. */
type ListenWithOptions = (host: string, port: number, options: number, callback: ListenCallback) => uWS.TemplatedApp

const EXCLUSIVE_PORT = (uWS as unknown as { LIBUS_LISTEN_EXCLUSIVE_PORT?: unknown }).LIBUS_LISTEN_EXCLUSIVE_PORT
if (typeof EXCLUSIVE_PORT !== 'number') {
  throw new Error('this uWebSockets.js build has no LIBUS_LISTEN_EXCLUSIVE_PORT; listeners could share their ports, so Gatehouse will not run on it')
}

/** app.listen(host, port, cb) that fails (false) when anything else holds the port, instead of sharing it. */
export function listenExclusive (app: uWS.TemplatedApp, host: string, port: number, callback: ListenCallback): void {
  (app.listen as unknown as ListenWithOptions).call(app, host, port, EXCLUSIVE_PORT as number, callback)
}
