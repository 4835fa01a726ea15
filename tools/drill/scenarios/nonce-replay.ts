// A captured valid proof replayed: on new connections (another nonce), on
// another lane, and on the connection it was made on once used. Every
// replay must be refused. The account is made up, so the failures lock
// nothing real (a proof verifies for any account name; the account itself
// is checked at Logon).
import { computeAuthProof } from '../../../protocol/auth-proof.js'
import { ask, connect, hangUp, nextMessage } from '../drill-connection.js'
import { check, type Scenario, type ScenarioResult } from '../scenario.js'

export const nonceReplay: Scenario = {
  name: 'nonce-replay',
  summary: 'replay a captured valid AuthCode proof on new connections, another lane, and after use',
  budgetMs: { short: 3000, full: 10_000 },
  async run (ctx): Promise<ScenarioResult> {
    const { appId, authCode } = ctx.settings.identity
    const lane = ctx.settings.trader.lane
    const account = `drill-replay-${Math.random().toString(36).slice(2, 10)}`
    const replays = ctx.short ? 4 : 20
    let sent = 0
    let accepted = 0
    let refused = 0
    const first = await connect(ctx, lane)
    if (!first.ok) {
      return { messagesSent: 1, figures: {}, checks: [check('capture a valid proof', false, '', `could not connect: ${first.error}`)] }
    }
    const challenge = first.conn.client.received.find((m) => m.body === 'authChallenge') ??
      await nextMessage(first.conn, (m) => m.body === 'authChallenge')
    const nonce = challenge?.authChallenge?.nonce
    if (nonce == null) {
      await hangUp(first.conn)
      return { messagesSent: 1, figures: {}, checks: [check('capture a valid proof', false, '', 'no AuthChallenge on connect')] }
    }
    const proof = computeAuthProof(authCode, nonce, appId, account, challenge!.authChallenge!.lane!)
    const original = await ask(first.conn, { authenticate: { appId, account, proof } }, ['authenticateReply'])
    sent++
    const captured = original?.authenticateReply?.ok === true
    const replay = async (target: typeof first.conn): Promise<void> => {
      const answer = await ask(target, { authenticate: { appId, account, proof } }, ['authenticateReply'])
      sent++
      if (answer?.authenticateReply?.ok === true) accepted++
      else refused++
    }
    // After use, on the same connection.
    await replay(first.conn)
    await hangUp(first.conn)
    const lanes = [...new Set([lane, ...ctx.lanes])]
    for (let i = 0; i < replays && Date.now() < ctx.deadlineMs; i++) {
      const target = await connect(ctx, lanes[i % lanes.length]!)
      if (!target.ok) continue
      await replay(target.conn)
      await hangUp(target.conn)
    }
    return {
      messagesSent: sent * 2,
      figures: { replays: accepted + refused, replaysAccepted: accepted, originalAccepted: captured },
      checks: [
        check('the original proof was accepted once', captured, 'captured a proof the gateway accepted',
          `the drill's own valid proof was refused (${original?.authenticateReply?.text ?? 'no answer'}); check identity.appId and identity.authCode`),
        check('every replay refused', accepted === 0, `${refused} replays refused`, `${accepted} of ${accepted + refused} replays of a used proof were ACCEPTED`),
      ],
    }
  },
}
