// Fingerprint floods, bounded per connection and per account: one
// connection sending TerminalInfo after TerminalInfo (a lane that holds or
// rejects new terminals lets the step be retried) must get
// TERMINAL_INFO_ATTEMPTS and be closed past maxTerminalInfoAttempts; new
// fingerprints for the trader's account must meet FINGERPRINT_CHURN past
// maxNewFingerprintsPerAccount; and the trader's own approved terminal
// must still log on afterwards.
import { RejectReason } from '../../../protocol/messages.js'
import { connect, hangUp, logOn, reasonName, rightProof, strangerTerminal, terminalInfo, type DrillConnection } from '../drill-connection.js'
import { check, type Scenario, type ScenarioResult } from '../scenario.js'
import type { DrillLane } from '../drill-settings.js'

export const fingerprintFlood: Scenario = {
  name: 'fingerprint-flood',
  summary: 'TerminalInfo after TerminalInfo on one connection, and new fingerprints for the trader\'s account; then the trader\'s own logon',
  budgetMs: { short: 6000, full: 20_000 },
  async run (ctx): Promise<ScenarioResult> {
    const { identity, trader, thresholds } = ctx.settings
    const account = identity.traderAccount
    // A lane that refuses new terminals without ending the step.
    const lane: DrillLane = ctx.lanes.includes('platform') ? 'platform' : ctx.lanes.includes('hft') ? 'hft' : trader.lane
    let sent = 0
    const openAuthenticated = async (name: string): Promise<DrillConnection | null> => {
      const connected = await connect(ctx, lane)
      if (!connected.ok) return null
      const auth = await rightProof(ctx, connected.conn, name)
      sent += 2
      if (auth?.ok !== true) { await hangUp(connected.conn); return null }
      return connected.conn
    }
    // 1. One connection, a made-up name: maxTerminalInfoAttempts refusals, then TERMINAL_INFO_ATTEMPTS and a close.
    const attemptsLimit = thresholds.maxTerminalInfoAttempts
    const one = await openAuthenticated(`drill-fp-${Math.random().toString(36).slice(2, 10)}`)
    const answers: string[] = []
    for (let i = 0; one !== null && i <= attemptsLimit; i++) {
      const answer = await terminalInfo(one, strangerTerminal(`attempt${i}`))
      sent++
      const reply = answer?.terminalInfoReply
      answers.push(reply == null ? (one.client.isClosed ? 'closed' : 'no answer') : reply.ok ? 'accepted' : reasonName(reply.reason ?? 0))
    }
    if (one !== null) await nextClose(one)
    const closedAfterAttempts = one?.client.isClosed === true
    await hangUp(one)

    // 2. New fingerprints for the trader's account until FINGERPRINT_CHURN (and, in full mode, many more after it).
    const churnLimit = thresholds.maxNewFingerprintsPerAccount
    const extra = ctx.short ? 3 : 200
    let beforeChurn = 0
    let churned = 0
    let other = 0
    let conn: DrillConnection | null = null
    let onConnection = 0
    for (let i = 0; churned <= extra && i < churnLimit + extra + 5 && Date.now() < ctx.deadlineMs - 2000; i++) {
      // A new connection before this one's TerminalInfo allowance is used up.
      if (conn === null || conn.client.isClosed || onConnection === attemptsLimit) {
        await hangUp(conn)
        conn = await openAuthenticated(account)
        onConnection = 0
        if (conn === null) break
      }
      const answer = await terminalInfo(conn, strangerTerminal(`churn${i}`))
      sent++
      onConnection++
      const reply = answer?.terminalInfoReply
      if (reply?.reason === RejectReason.FINGERPRINT_CHURN) churned++
      else if (reply != null && churned === 0) beforeChurn++
      else other++
      if (reply == null || reply.ok) { await hangUp(conn); conn = null }
    }
    await hangUp(conn)
    const own = await logOn(ctx, trader.lane, account, identity.traderPassword, ctx.nextPrefix())
    await hangUp(own.conn)
    const attemptsName = reasonName(RejectReason.TERMINAL_INFO_ATTEMPTS)
    return {
      messagesSent: sent + 4,
      figures: { lane, oneConnection: answers.join(', '), closedAfterAttempts, newBeforeChurn: beforeChurn, churnAnswers: churned, otherAnswers: other, traderLogonMs: Math.round(own.ms) },
      checks: [
        check(`${attemptsName} and a close after ${attemptsLimit} on one connection`, answers.length === attemptsLimit + 1 && answers.at(-1) === attemptsName && closedAfterAttempts && !answers.includes('accepted'),
          `${answers.join(', ')}, then closed`, `one connection's TerminalInfo answers: ${answers.join(', ')}${closedAfterAttempts ? ', closed' : ', still open'}; after ${attemptsLimit} the next should get ${attemptsName} and the connection close`),
        check(`FINGERPRINT_CHURN after ${churnLimit} new fingerprints`, churned > 0 && beforeChurn <= churnLimit && other === 0,
          `${beforeChurn} new fingerprints answered, then ${churned} FINGERPRINT_CHURN`,
          `${beforeChurn} new fingerprints for ${account} answered before churn, ${churned} FINGERPRINT_CHURN, ${other} other answer(s); churn should start after ${churnLimit}`),
        check('the trader\'s own terminal still logs on', own.step === 'done', `logged on in ${Math.round(own.ms)} ms`,
          `after the flood the trader's logon failed at ${own.step}: ${reasonName(own.reason)} ${own.text}`),
      ],
    }
  },
}

/** Waits (bounded) for the gateway to close the connection. */
async function nextClose (conn: DrillConnection): Promise<void> {
  if (conn.client.isClosed) return
  await Promise.race([
    new Promise((resolve) => { conn.client.once('close', resolve) }),
    new Promise((resolve) => setTimeout(resolve, 2000).unref()),
  ])
}
