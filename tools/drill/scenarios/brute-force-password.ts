// Wrong passwords for a real account (the victim), with a valid AppID
// proof so every attempt reaches the password check: first a burst of
// concurrent attempts from many addresses (a lock checked before the slow
// hash and counted after it lets the whole burst through), then one
// address retrying, then many addresses one attempt each. The account's
// lock must stop the guessing at maxFailures, and the right password must
// not be accepted once the threshold has been passed.
import { RejectReason } from '../../../protocol/messages.js'
import { hangUp, logOn, password, pool, reasonName, type LogonOutcome } from '../drill-connection.js'
import { check, type Scenario, type ScenarioResult } from '../scenario.js'

export const bruteForcePassword: Scenario = {
  name: 'brute-force-password',
  summary: 'wrong passwords for a real account: concurrent, from one address, from many addresses; then the right one',
  budgetMs: { short: 8000, full: 30_000 },
  async run (ctx): Promise<ScenarioResult> {
    const { identity, thresholds } = ctx.settings
    const lane = ctx.settings.trader.lane
    const victim = identity.victimAccount
    const wrong = (i: number): string => `drill-wrong-${i}-${Math.random().toString(36).slice(2)}`
    const concurrent = thresholds.maxFailures * 2
    const oneAddress = thresholds.maxFailures + 2
    const manyAddresses = ctx.short ? 8 : 40
    let evaluated = 0
    let banned = 0
    let other = 0
    let accepted = 0
    let sent = 0
    const tally = (reason: number | null, ok: boolean): void => {
      sent++
      if (ok) accepted++
      else if (reason === RejectReason.INVALID_CREDENTIALS) evaluated++
      else if (reason === RejectReason.LOGIN_BANNED) banned++
      else other++
    }
    const tallyOutcome = async (outcome: LogonOutcome): Promise<void> => {
      tally(outcome.step === 'done' ? null : outcome.reason, outcome.step === 'done')
      await hangUp(outcome.conn)
    }
    // Locked before it started (an earlier run within security.lockoutMs)?
    const first = await logOn(ctx, lane, victim, wrong(0))
    const lockedAtStart = first.reason === RejectReason.LOGIN_BANNED
    await tallyOutcome(first)

    // 1. Concurrent: every attempt authenticated and waiting at the password step, then all sent at once.
    const ready = await pool(Array.from({ length: concurrent }, (_, i) => i), concurrent, ctx.deadlineMs, async () => logOn(ctx, lane, victim, null))
    const atPassword = ready.filter((o) => o.step === 'ready' && o.conn !== null && !o.conn.client.isClosed)
    // Refused before the password (the lock already held): attempts too.
    for (const o of ready) if (o.step !== 'ready') tally(o.reason, false)
    const burst = await Promise.all(atPassword.map(async (o, i) => password(o.conn!, victim, wrong(i))))
    for (const reply of burst) tally(reply?.reason ?? null, reply?.ok === true)
    const burstEvaluated = burst.filter((r) => r?.reason === RejectReason.INVALID_CREDENTIALS).length
    await Promise.all(ready.map(async (o) => hangUp(o.conn)))

    // 2. One address, retrying on one connection.
    const single = await logOn(ctx, lane, victim, wrong(1))
    tally(single.step === 'done' ? null : single.reason, single.step === 'done')
    for (let i = 0; i < oneAddress && single.conn !== null && single.step === 'logon' && single.reason === RejectReason.INVALID_CREDENTIALS && Date.now() < ctx.deadlineMs; i++) {
      const reply = await password(single.conn, victim, wrong(i + 2))
      tally(reply?.reason ?? null, reply?.ok === true)
    }
    await hangUp(single.conn)

    // 3. Many addresses, one attempt each.
    await pool(Array.from({ length: manyAddresses }, (_, i) => i), 4, ctx.deadlineMs, async (i) => tallyOutcome(await logOn(ctx, lane, victim, wrong(100 + i))))

    // The right password, from an address that never failed.
    const right = await logOn(ctx, lane, victim, identity.victimPassword)
    const rightAccepted = right.step === 'done'
    await hangUp(right.conn)
    const limit = thresholds.maxFailures
    return {
      messagesSent: sent * 3 + 3,
      figures: { attempts: sent, passwordsChecked: evaluated, refusedLocked: banned, refusedOther: other, wrongAccepted: accepted, concurrentBurst: atPassword.length, burstChecked: burstEvaluated, lockedAtStart },
      note: lockedAtStart ? `${victim} was already locked when the scenario began (by password-race and enumeration, or an earlier run within the lockout): it measured only that the lock holds` : undefined,
      checks: [
        check('no wrong password accepted', accepted === 0, 'every wrong password was refused', `${accepted} wrong password(s) were ACCEPTED`),
        check(`at most maxFailures (${limit}) passwords checked on ${victim}`, evaluated <= limit,
          `${evaluated} checked, then LOGIN_BANNED`,
          `${evaluated} wrong passwords were checked on one account (${burstEvaluated} of a concurrent burst of ${atPassword.length}); the lock should stop guessing after ${limit}`),
        check('the right password is refused past the threshold', !rightAccepted,
          `refused with ${reasonName(right.reason)}`,
          `the right password for ${victim} was accepted after ${evaluated} failures (threshold ${limit})`),
      ],
    }
  },
}
