// The ops HTTP listener on the supervisor thread: /healthz, /metrics and,
// read-only, an account's risk counters. Every handler but /metrics
// answers synchronously, so no response can be aborted mid-way; /metrics
// answers when prom-client's collection resolves, so it watches for the
// client going away first (uWS forbids touching an aborted response).
import uWS from 'uWebSockets.js'
import type { Registry } from 'prom-client'

export interface OpsServerOptions {
  host: string
  port: number
  /** Current health: HTTP 200 when `ok`, 503 otherwise. */
  health: () => { ok: boolean, body: unknown }
  /** An account's risk counters (RiskControl.counters), or null if the account is unknown. */
  counters: (account: string) => unknown
  /** The Prometheus registry /metrics exposes (metrics.ts); without one, /metrics is 404. */
  metrics?: Registry
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
    const registry = this.options.metrics
    if (registry !== undefined) {
      this.app.get('/metrics', (res) => {
        let aborted = false
        res.onAborted(() => { aborted = true })
        registry.metrics().then((body) => {
          if (aborted) return
          res.cork(() => {
            res.writeStatus('200 OK')
              .writeHeader('content-type', registry.contentType)
              .writeHeader('cache-control', 'no-store')
              .end(body)
          })
        }, (err: Error) => {
          if (aborted) return
          res.cork(() => {
            res.writeStatus('500 Internal Server Error').writeHeader('content-type', 'text/plain').end(`metrics collection failed: ${err.message}\n`)
          })
        })
      })
    }
    this.app.any('/*', (res) => {
      res.cork(() => { res.writeStatus('404 Not Found').end('not found; try /healthz, /metrics or /accounts/<id>/counters\n') })
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
