// Connections that start logging on and never finish: WebSockets that
// authenticate slowly and then stop, and raw TCP connections that dribble
// the HTTP upgrade request a byte at a time. When the scenario holds them
// past the lanes' logon timeout (full mode, or a short logonTimeoutMs
// threshold), every one must have been closed by the gateway by then.
import net from 'node:net'
import { connect, hangUp, rightProof, type DrillConnection } from '../drill-connection.js'
import { check, type Scenario, type ScenarioResult } from '../scenario.js'

/** Slack past the logon timeout for the gateway's sweep (it runs about once a second). */
const SWEEP_SLACK_MS = 2500
const DRIBBLE_INTERVAL_MS = 200

export const slowlorisLogon: Scenario = {
  name: 'slowloris-logon',
  summary: 'connections that dribble logon steps (and the HTTP upgrade) slowly and never finish',
  budgetMs: { short: 5000, full: 45_000 },
  async run (ctx): Promise<ScenarioResult> {
    const lane = ctx.settings.trader.lane
    const { logonTimeoutMs } = ctx.settings.thresholds
    const wsCount = ctx.short ? 40 : 200
    const rawCount = ctx.short ? 10 : 50
    // Short mode holds for at most 3 s: long enough to check closure only against a gateway (and thresholds.logonTimeoutMs) of at most 500 ms.
    const holdMs = Math.min(logonTimeoutMs + SWEEP_SLACK_MS, ctx.short ? 3000 : Infinity, ctx.deadlineMs - Date.now() - 1000)
    const expectClosed = holdMs >= logonTimeoutMs + SWEEP_SLACK_MS
    const started = Date.now()
    const conns: DrillConnection[] = []
    let refused = 0
    for (let i = 0; i < wsCount && Date.now() < ctx.deadlineMs; i++) {
      const connected = await connect(ctx, lane)
      if (connected.ok) conns.push(connected.conn)
      else refused++
    }
    // Step 1 done, slowly; then silence.
    await Promise.all(conns.map(async (conn, i) => {
      await new Promise((resolve) => setTimeout(resolve, (i % 10) * 50))
      await rightProof(ctx, conn, `drill-slow-${i}`)
    }))
    const url = new URL(ctx.laneUrl(lane))
    const request = Buffer.from(`GET / HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n`)
    const raws: Array<{ socket: net.Socket, closed: boolean }> = []
    for (let i = 0; i < rawCount; i++) {
      const socket = net.connect({ host: url.hostname, port: Number(url.port), localAddress: ctx.nextAddress() })
      const raw = { socket, closed: false }
      socket.on('error', () => {})
      socket.on('close', () => { raw.closed = true })
      raws.push(raw)
    }
    let offset = 0
    const dribble = setInterval(() => {
      for (const raw of raws) if (!raw.closed && offset < request.length) raw.socket.write(request.subarray(offset, offset + 1))
      offset++
    }, DRIBBLE_INTERVAL_MS)
    const until = started + holdMs
    while (Date.now() < until) await new Promise((resolve) => setTimeout(resolve, Math.min(250, Math.max(1, until - Date.now()))))
    clearInterval(dribble)
    const wsOpen = conns.filter((c) => !c.client.isClosed).length
    const rawOpen = raws.filter((r) => !r.closed).length
    await Promise.all(conns.map(hangUp))
    for (const raw of raws) raw.socket.destroy()
    const heldS = Math.round((Date.now() - started) / 100) / 10
    return {
      messagesSent: conns.length * 2 + raws.length,
      figures: { webSockets: conns.length, refusedAtConnect: refused, rawDribblers: raws.length, heldS, wsStillOpen: wsOpen, rawStillOpen: rawOpen },
      note: expectClosed ? undefined : `held ${heldS} s, less than the logon timeout (${logonTimeoutMs} ms): closure not checked (run without --short, or lower thresholds.logonTimeoutMs to the target's)`,
      checks: expectClosed
        ? [
            check('unfinished WebSocket logons are closed by the logon timeout', wsOpen === 0, `all ${conns.length} closed by the gateway`,
              `${wsOpen} of ${conns.length} connections that never finished logon were still open after ${heldS} s (logon timeout ${logonTimeoutMs} ms)`),
            check('dribbled HTTP upgrades are closed by the logon timeout', rawOpen === 0, `all ${raws.length} closed by the gateway`,
              `${rawOpen} of ${raws.length} connections dribbling the HTTP upgrade were still open after ${heldS} s`),
          ]
        : [],
    }
  },
}
