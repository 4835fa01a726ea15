// Logons for made-up accounts, hundreds at once (each from an address
// that fails fewer times than the lock needs), so every one costs the
// gateway a password hash. Meanwhile the trader's account logs on again
// and again: its logon time must stay under traderLogonMs.
import { hangUp, logOn, pool } from '../drill-connection.js'
import { check, type Scenario, type ScenarioResult } from '../scenario.js'

export const logonCpu: Scenario = {
  name: 'logon-cpu',
  summary: 'hundreds of logons for made-up accounts while the trader\'s own logon is timed',
  budgetMs: { short: 8000, full: 30_000 },
  async run (ctx): Promise<ScenarioResult> {
    const { identity, trader, thresholds } = ctx.settings
    const count = ctx.short ? 120 : 600
    const perAddress = Math.max(1, thresholds.maxFailures - 1)
    let address = ctx.nextAddress()
    const attackers = Array.from({ length: count }, (_, i) => {
      if (i > 0 && i % perAddress === 0) address = ctx.nextAddress()
      return address
    })
    let done = 0
    let accepted = 0
    const floodDeadline = ctx.deadlineMs - 2500
    const flood = pool(attackers, 64, floodDeadline, async (from, i) => {
      const outcome = await logOn(ctx, trader.lane, `drill-cpu-${i}-${Math.random().toString(36).slice(2, 8)}`, `wrong-${i}`, from)
      done++
      if (outcome.step === 'done') accepted++
      await hangUp(outcome.conn)
    })
    // Let the flood fill the gateway's queue, then time the trader's logons behind it.
    await new Promise((resolve) => setTimeout(resolve, 300))
    const traderMs: number[] = []
    const failures: string[] = []
    for (let i = 0; i < 3 && Date.now() < floodDeadline; i++) {
      const own = await logOn(ctx, trader.lane, identity.traderAccount, identity.traderPassword, ctx.nextAddress())
      traderMs.push(own.ms)
      if (own.step !== 'done') failures.push(`${own.step}: ${own.text}`)
      await hangUp(own.conn)
    }
    await flood
    const worst = traderMs.length === 0 ? null : Math.round(Math.max(...traderMs))
    const limit = thresholds.traderLogonMs
    return {
      messagesSent: done * 5 + traderMs.length * 5,
      figures: { madeUpLogons: done, madeUpAccepted: accepted, traderLogons: traderMs.length, traderLogonMsWorst: worst, traderLogonMs: traderMs.map((ms) => Math.round(ms)).join(', ') },
      checks: [
        check('no made-up account logs on', accepted === 0, 'every made-up account was refused', `${accepted} made-up account(s) were ACCEPTED`),
        check('the trader logs on during the flood', traderMs.length > 0 && failures.length === 0, `${traderMs.length} logons passed`,
          traderMs.length === 0 ? 'no trader logon could be timed before the scenario\'s time ran out' : `trader logon refused: ${failures.join('; ')}`),
        check(`the trader's logon takes under ${limit} ms`, worst !== null && worst < limit, `worst ${worst} ms`,
          `the trader's logon took ${worst} ms behind ${done} made-up logons (threshold ${limit} ms): password hashing for unknown accounts crowds out real users`),
      ],
    }
  },
}
