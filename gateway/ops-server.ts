// The ops HTTP listener on the supervisor thread: /healthz and, read-only,
// an account's risk counters; /metrics comes with the ops issue. Every
// handler answers synchronously, so no response can be aborted mid-way.
import uWS from 'uWebSockets.js'

export interface OpsServerOptions {
  host: string
  port: number
  /** Current health: HTTP 200 when `ok`, 503 otherwise. */
  health: () => { ok: boolean, body: unknown }
  /** An account's risk counters (RiskControl.counters), or null if the account is unknown. */
  counters: (account: string) => unknown
}

export class OpsServer {
  private readonly app = uWS.App()
  private listenSocket: uWS.us_listen_socket | null = null

  constructor (private readonly options: OpsServerOptions) {
    this.app.get('/healthz', (res) => {
      const { ok, body } = this.options.health()
      res.cork(() => {
        res.writeStatus(ok ? '200 OK' : '503 Service Unavailable')
          .writeHeader('content-type', 'application/json')
          .writeHeader('cache-control', 'no-store')
          .end(JSON.stringify(body))
      })
    })
    // GET /accounts/<id>/counters: what the limits see for one account.
    this.app.get('/accounts/:account/counters', (res, req) => {
      const account = decodeURIComponent(req.getParameter(0) ?? '')
      const counters = this.options.counters(account)
      res.cork(() => {
        if (counters === null) {
          res.writeStatus('404 Not Found').writeHeader('content-type', 'application/json').end(JSON.stringify({ error: `no account ${account}` }))
          return
        }
        res.writeStatus('200 OK')
          .writeHeader('content-type', 'application/json')
          .writeHeader('cache-control', 'no-store')
          .end(JSON.stringify(counters))
      })
    })
    this.app.any('/*', (res) => {
      res.cork(() => { res.writeStatus('404 Not Found').end('not found; try /healthz or /accounts/<id>/counters\n') })
    })
  }

  listen (): Promise<number> {
    const { host, port } = this.options
    return new Promise((resolve, reject) => {
      this.app.listen(host, port, (listenSocket) => {
        if (listenSocket === false) {
          reject(new Error(`ops HTTP could not listen on ${host}:${port} (address in use or not available)`))
          return
        }
        this.listenSocket = listenSocket
        resolve(uWS.us_socket_local_port(listenSocket))
      })
    })
  }

  close (): void {
    if (this.listenSocket !== null) uWS.us_listen_socket_close(this.listenSocket)
    this.listenSocket = null
    this.app.close()
  }
}
