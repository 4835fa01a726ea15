// One connection that never logs on and sends heartbeats (and now and then
// an oversized frame) as fast as its socket takes them, for a bounded
// time. A connection that has proven nothing may cost the gateway only a
// bounded amount of work: past preLogonMaxAnswered answers the gateway
// must stop answering it or close it.
import { connect, hangUp } from '../drill-connection.js'
import { encodeClientEnvelope } from '../../../protocol/client-codec.js'
import { check, type Scenario, type ScenarioResult } from '../scenario.js'

/** Keep at most this much queued in our own socket: the flood is as fast as the gateway reads, no faster. */
const MAX_QUEUED_BYTES = 256 * 1024
const BIG_FRAME_EVERY = 100
const BIG_FRAME_BYTES = 8 * 1024

export const preLogonFlood: Scenario = {
  name: 'pre-logon-flood',
  summary: 'one connection that never logs on floods heartbeats and big frames for a bounded time',
  budgetMs: { short: 3000, full: 15_000 },
  async run (ctx): Promise<ScenarioResult> {
    const floodMs = ctx.short ? 1500 : 10_000
    const limit = ctx.settings.thresholds.preLogonMaxAnswered
    const connected = await connect(ctx, ctx.settings.trader.lane)
    if (!connected.ok) return { messagesSent: 1, figures: { refusedAtConnect: connected.error }, checks: [] }
    const { conn } = connected
    let answered = 0
    conn.client.on('message', () => { answered++ })
    const heartbeat = encodeClientEnvelope({ heartbeat: { testId: 1 } })
    const big = new Uint8Array(BIG_FRAME_BYTES).fill(0x0a)
    let sent = 0
    let sentBytes = 0
    const until = Math.min(Date.now() + floodMs, ctx.deadlineMs - 500)
    while (Date.now() < until && !conn.client.isClosed) {
      for (let i = 0; i < 200 && conn.client.bufferedAmount < MAX_QUEUED_BYTES; i++) {
        const frame = sent % BIG_FRAME_EVERY === BIG_FRAME_EVERY - 1 ? big : heartbeat
        conn.client.sendRaw(frame)
        sent++
        sentBytes += frame.length
      }
      // Let the socket drain and the answers in.
      await new Promise((resolve) => setImmediate(resolve))
    }
    // Answers still on the way.
    await new Promise((resolve) => setTimeout(resolve, 200))
    const closedBy = conn.closed
    const closedByGateway = closedBy !== null
    const answeredAtEnd = answered
    await hangUp(conn)
    const bounded = closedByGateway || answeredAtEnd <= limit
    return {
      messagesSent: sent,
      figures: { framesSent: sent, bytesSent: sentBytes, answered: answeredAtEnd, closedByGateway, closeCode: closedBy?.code ?? null },
      checks: [
        check(`a connection that never logs on gets at most ${limit} answers`, bounded,
          closedByGateway ? `closed by the gateway (code ${closedBy!.code}) after ${answeredAtEnd} answers` : `${answeredAtEnd} answers to ${sent} frames`,
          `the gateway answered ${answeredAtEnd} of ${sent} frames from a connection that never logged on and kept it open (limit ${limit})`),
      ],
    }
  },
}
