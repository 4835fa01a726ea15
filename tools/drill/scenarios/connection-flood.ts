// Many concurrent idle WebSockets (spread over source addresses, so the
// per-address connection rate is not what stops them), held for a moment
// and closed. The gateway may refuse some; it must stay up, keep the
// trader trading, and give its descriptors and memory back afterwards.
import { connect, hangUp, pool, type DrillConnection } from '../drill-connection.js'
import { processFigures } from '../gateway-probe.js'
import type { Scenario, ScenarioResult } from '../scenario.js'

/** Connections per source address: under the default 10-20 new connections per address per second. */
const PER_ADDRESS = 8

export const connectionFlood: Scenario = {
  name: 'connection-flood',
  summary: 'many concurrent idle connections (500 in short mode) that never log on',
  budgetMs: { short: 6000, full: 30_000 },
  async run (ctx): Promise<ScenarioResult> {
    const lane = ctx.settings.trader.lane
    const count = ctx.short ? 500 : 5000
    let address = ctx.nextAddress()
    const addresses = Array.from({ length: count }, (_, i) => {
      if (i > 0 && i % PER_ADDRESS === 0) address = ctx.nextAddress()
      return address
    })
    const open: DrillConnection[] = []
    const refusals = new Map<string, number>()
    await pool(addresses, 16, ctx.deadlineMs - 2000, async (from) => {
      const connected = await connect(ctx, lane, from)
      if (connected.ok) open.push(connected.conn)
      else refusals.set(connected.error, (refusals.get(connected.error) ?? 0) + 1)
    })
    const pid = ctx.pid
    const peak = processFigures(pid)
    await new Promise((resolve) => setTimeout(resolve, 500))
    const stillOpen = open.filter((c) => !c.client.isClosed).length
    await pool(open, 64, Date.now() + 5000, hangUp)
    const refused = [...refusals.values()].reduce((a, b) => a + b, 0)
    return {
      messagesSent: count,
      figures: {
        attempted: addresses.length,
        accepted: open.length,
        refused,
        refusedHow: [...refusals.entries()].map(([why, n]) => `${n}x ${why}`).join(', ') || null,
        openAfterHold: stillOpen,
        peakFds: peak.fds,
        peakRssBytes: peak.rssBytes,
      },
      checks: [],
    }
  },
}
