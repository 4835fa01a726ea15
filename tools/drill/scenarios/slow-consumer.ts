// A logged-on session (the trader's account, on the trader's lane) that
// stops reading while it keeps asking for answers: heartbeats as fast as
// its socket takes them, each answered with an echo or a throttle reject.
// Heartbeats, not orders: they touch no risk counter, so the drill cannot
// trip the account's regulatory monitors. The gateway must not buffer
// without bound for it (the RSS threshold) and must drop it once its
// backlog passes the lane's maxBackpressureBytes rather than stall the
// lane for everyone else (the trader's p99).
import { encodeClientEnvelope } from '../../../protocol/client-codec.js'
import { hangUp, logOn } from '../drill-connection.js'
import { check, type Scenario, type ScenarioResult } from '../scenario.js'

const MAX_QUEUED_BYTES = 256 * 1024

export const slowConsumer: Scenario = {
  name: 'slow-consumer',
  summary: 'a logged-on session that never reads while its requests generate answers to it',
  budgetMs: { short: 4000, full: 20_000 },
  async run (ctx): Promise<ScenarioResult> {
    const { identity, trader } = ctx.settings
    const floodMs = ctx.short ? 2000 : 10_000
    const outcome = await logOn(ctx, trader.lane, identity.traderAccount, identity.traderPassword)
    if (outcome.step !== 'done' || outcome.conn === null) {
      await hangUp(outcome.conn)
      return { messagesSent: 3, figures: {}, checks: [check('the slow consumer logs on', false, '', `${outcome.step} refused: ${outcome.text}`)] }
    }
    const { conn } = outcome
    conn.client.pause()
    const heartbeat = encodeClientEnvelope({ heartbeat: { testId: 9 } })
    let sent = 0
    const until = Math.min(Date.now() + floodMs, ctx.deadlineMs - 1000)
    while (Date.now() < until && !conn.client.isClosed) {
      for (let i = 0; i < 200 && conn.client.bufferedAmount < MAX_QUEUED_BYTES; i++) { conn.client.sendRaw(heartbeat); sent++ }
      await new Promise((resolve) => setTimeout(resolve, 1))
    }
    const queuedAtEnd = conn.client.bufferedAmount
    let answersRead = 0
    conn.client.on('message', () => { answersRead++ })
    conn.client.resume()
    // Read what the gateway kept for it, then see whether it was dropped.
    const drainUntil = Date.now() + 1000
    while (Date.now() < drainUntil && !conn.client.isClosed) await new Promise((resolve) => setTimeout(resolve, 50))
    const closedByGateway = conn.closed
    await hangUp(conn)
    const seconds = (floodMs / 1000).toFixed(1)
    return {
      messagesSent: sent + 3,
      figures: { framesSent: sent, answersReadAfterResume: answersRead, ourUnsentBytesAtEnd: queuedAtEnd, closedByGateway: closedByGateway !== null, closeCode: closedByGateway?.code ?? null },
      note: `${sent} heartbeats in about ${seconds} s from a session that read nothing; each is answered (echo, or a throttle reject past the session limit)` +
        (closedByGateway === null ? '; the gateway did not drop it (its backlog may have stayed under maxBackpressureBytes)' : `; the gateway dropped it (close ${closedByGateway.code})`),
      checks: [],
    }
  },
}
