// Connections from one address, all authenticated and waiting at the
// password step for the victim account, then N-1 wrong passwords and the
// right one (last) sent together. Every attempt reserves a failure place
// before its check, so concurrency buys nothing: at most maxFailures are
// checked (INVALID_CREDENTIALS), the rest are LOGON_BUSY or LOGIN_BANNED,
// and the right one, arriving after the wrong ones, is refused.
import { RejectReason } from '../../../protocol/messages.js'
import { hangUp, logOn, password, pool, reasonName } from '../drill-connection.js'
import { check, type Scenario, type ScenarioResult } from '../scenario.js'

/** Under the lanes' maxUnauthenticatedPerIp (16 on terminal and platform by default). */
const CONNECTIONS = 15

export const passwordRace: Scenario = {
  name: 'password-race',
  summary: `${CONNECTIONS} connections from one address send ${CONNECTIONS - 1} wrong passwords and the right one at once`,
  budgetMs: { short: 5000, full: 8000 },
  async run (ctx): Promise<ScenarioResult> {
    const { identity, thresholds } = ctx.settings
    const victim = identity.victimAccount
    // The victim's approved terminal (its own account bucket; enumeration uses the strangers' one).
    const lane = ctx.settings.trader.lane
    const address = ctx.nextPrefix()
    const ready = await pool(Array.from({ length: CONNECTIONS }, (_, i) => i), CONNECTIONS, ctx.deadlineMs, async () => logOn(ctx, lane, victim, null, address))
    const atPassword = ready.filter((o) => o.step === 'ready' && o.conn !== null)
    const notReady = ready.filter((o) => o.step !== 'ready').map((o) => `${o.step} ${reasonName(o.reason)} ${o.text}`)
    // Sent in order in one tick: the wrong ones first, the right one last.
    const replies = await Promise.all(atPassword.map(async (o, i) => password(o.conn!, victim, i === atPassword.length - 1 ? identity.victimPassword : `drill-wrong-${i}`)))
    await Promise.all(ready.map(async (o) => hangUp(o.conn)))
    const count = (reason: number): number => replies.filter((r) => r?.ok !== true && r?.reason === reason).length
    const checked = count(RejectReason.INVALID_CREDENTIALS)
    const busy = count(RejectReason.LOGON_BUSY)
    const banned = count(RejectReason.LOGIN_BANNED)
    const accepted = replies.filter((r) => r?.ok === true).length
    const other = replies.length - checked - busy - banned - accepted
    const right = replies.at(-1)
    const rightText = right == null ? 'no answer' : right.ok ? 'accepted' : reasonName(right.reason)
    const limit = thresholds.maxFailures
    return {
      messagesSent: CONNECTIONS * 4,
      figures: { connections: atPassword.length, checked, logonBusy: busy, loginBanned: banned, other, right: rightText },
      note: notReady.length > 0 ? `${notReady.length} connection(s) did not reach the password step: ${notReady.slice(0, 3).join('; ')}` : undefined,
      checks: [
        check('every connection reached the password step', atPassword.length === CONNECTIONS, `${CONNECTIONS} connections from ${address ?? 'one address'}`,
          `only ${atPassword.length} of ${CONNECTIONS} reached the password step: ${notReady.slice(0, 3).join('; ')}`),
        check(`at most ${limit} passwords checked`, checked <= limit, `${checked} checked, ${busy} LOGON_BUSY, ${banned} LOGIN_BANNED`,
          `${checked} of ${replies.length} simultaneous passwords were checked (INVALID_CREDENTIALS); concurrency should buy no more than ${limit}`),
        check('the rest are LOGON_BUSY or LOGIN_BANNED', other === 0, 'no other answer', `${other} answer(s) were neither a check nor LOGON_BUSY/LOGIN_BANNED`),
        check('the right password, sent last, is refused', right != null && !right.ok && accepted === 0, `refused with ${rightText}`,
          `the right password sent after ${replies.length - 1} wrong ones got ${rightText}`),
      ],
    }
  },
}
