// 1,001 TerminalInfo with distinct fingerprints for the trader's account,
// on one connection while the lane keeps refusing them (a lane that holds
// or rejects new terminals lets the step be retried), on new connections
// when a lane accepts one. The account's fingerprint history is bounded;
// filling it must not push out the terminals ops approved: the trader's
// own logon, from its approved terminal, must still pass afterwards.
import { DEMO_TERMINAL_INFO } from '../../../gateway/demo-identity.js'
import { connect, hangUp, logOn, rightProof, terminalInfo, type DrillConnection } from '../drill-connection.js'
import { check, type Scenario, type ScenarioResult } from '../scenario.js'

const FINGERPRINTS = 1001

export const fingerprintFlood: Scenario = {
  name: 'fingerprint-flood',
  summary: '1,001 distinct terminal fingerprints for the trader\'s account, then the trader\'s own logon',
  budgetMs: { short: 8000, full: 20_000 },
  async run (ctx): Promise<ScenarioResult> {
    const { identity, trader } = ctx.settings
    const account = identity.traderAccount
    let sent = 0
    let accepted = 0
    let refused = 0
    let conn: DrillConnection | null = null
    const openAuthenticated = async (): Promise<DrillConnection | null> => {
      const connected = await connect(ctx, trader.lane)
      if (!connected.ok) return null
      const auth = await rightProof(ctx, connected.conn, account)
      sent += 2
      if (auth?.ok !== true) { await hangUp(connected.conn); return null }
      return connected.conn
    }
    let connections = 0
    for (let i = 0; i < FINGERPRINTS && Date.now() < ctx.deadlineMs - 2000; i++) {
      if (conn === null || conn.client.isClosed) {
        await hangUp(conn)
        conn = await openAuthenticated()
        connections++
        if (conn === null) break
      }
      const answer = await terminalInfo(conn, { ...DEMO_TERMINAL_INFO, deviceName: `drill-host-${i}-${Math.random().toString(36).slice(2, 8)}` })
      sent++
      const reply = answer?.terminalInfoReply
      if (reply?.ok === true) {
        accepted++
        // Accepted: this connection's next step is Logon, so the next fingerprint needs a new one.
        await hangUp(conn)
        conn = null
      } else if (reply != null) {
        refused++
      } else {
        await hangUp(conn)
        conn = null
      }
    }
    await hangUp(conn)
    const submitted = accepted + refused
    const own = await logOn(ctx, trader.lane, account, identity.traderPassword)
    await hangUp(own.conn)
    return {
      messagesSent: sent + 3,
      figures: { fingerprintsSubmitted: submitted, acceptedAsNew: accepted, refusedOrHeld: refused, connections, traderLogonMs: Math.round(own.ms) },
      // Fewer is not a failure: the gateway may well stop a client that spams terminals; what must hold is the trader's logon.
      note: submitted < FINGERPRINTS ? `${submitted} of ${FINGERPRINTS} fingerprints submitted on ${connections} connection(s) before the gateway stopped taking them or the time ran out` : undefined,
      checks: [
        check('the trader\'s own logon still passes', own.step === 'done', `logged on in ${Math.round(own.ms)} ms`,
          `after ${submitted} fingerprints the trader's logon failed at ${own.step}: ${own.text}`),
      ],
    }
  },
}
