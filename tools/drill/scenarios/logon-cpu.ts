// Bursts of logons for made-up accounts, every one authenticated and
// waiting at the password step, then all passwords sent at once: each that
// is checked costs the gateway a full scrypt. The hashing queue must stay
// within maxPendingHashes (watched on /metrics), the excess must be shed
// (LOGON_SHED) before hashing, and the trader's account, logging on from
// its approved terminal during each burst, must get in promptly. Attack
// addresses stay under their own and their /24's failure allowances, so
// what refuses them is the queue, not a lock. They log on through the
// lane that lets new terminals in, so each reaches the password step.
import { RejectReason } from '../../../protocol/messages.js'
import { sumMetric } from '../gateway-probe.js'
import { hangUp, logOn, password, pool, reasonName, strangerLane, type LogonOutcome } from '../drill-connection.js'
import { check, type Scenario, type ScenarioResult } from '../scenario.js'

export const logonCpu: Scenario = {
  name: 'logon-cpu',
  summary: 'bursts of password checks for made-up accounts while the trader\'s own logon is timed',
  budgetMs: { short: 9000, full: 40_000 },
  async run (ctx): Promise<ScenarioResult> {
    const { identity, trader, thresholds, target } = ctx.settings
    const rounds = ctx.short ? 2 : 8
    const perAddress = Math.max(1, thresholds.maxFailures - 1)
    // One /24 per burst, kept under its allowance.
    const addressesPerBurst = Math.max(1, Math.floor((thresholds.prefixMaxFailures - 1) / perAddress))
    let pendingMax = 0
    let samples = 0
    let sampling = true
    const sampler = (async () => {
      while (sampling) {
        try {
          const response = await fetch(`${target.opsUrl}/metrics`, { signal: AbortSignal.timeout(1000) })
          const pending = sumMetric(await response.text(), 'gatehouse_logon_hashes_pending')
          if (pending !== null) { samples++; pendingMax = Math.max(pendingMax, pending) }
        } catch { /* a missed sample */ }
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
    })()
    let logons = 0
    let accepted = 0
    let checked = 0
    let shed = 0
    const otherReasons = new Map<string, number>()
    const traderMs: number[] = []
    const failures: string[] = []
    for (let round = 0; round < rounds && Date.now() < ctx.deadlineMs - 3000; round++) {
      const addresses: Array<string | undefined> = [ctx.nextPrefix()]
      for (let i = 1; i < addressesPerBurst; i++) addresses.push(ctx.nextAddress())
      const from = addresses.flatMap((a) => Array.from({ length: perAddress }, () => a))
      const names = from.map((_, i) => `drill-cpu-${round}-${i}-${Math.random().toString(36).slice(2, 8)}`)
      const ready = await pool(from, 16, ctx.deadlineMs, async (address, i) => ({ ...await logOn(ctx, strangerLane(ctx), names[i]!, null, address), account: names[i]! }))
      const atPassword = ready.filter((o): o is LogonOutcome & { account: string, conn: NonNullable<LogonOutcome['conn']> } => o.step === 'ready' && o.conn !== null)
      const own = logOn(ctx, trader.lane, identity.traderAccount, identity.traderPassword, ctx.nextPrefix())
      const replies = await Promise.all(atPassword.map(async (o, i) => password(o.conn, o.account, `wrong-${i}`)))
      const ownOutcome = await own
      traderMs.push(ownOutcome.ms)
      if (ownOutcome.step !== 'done') failures.push(`${ownOutcome.step}: ${reasonName(ownOutcome.reason)} ${ownOutcome.text}`)
      await hangUp(ownOutcome.conn)
      for (const reply of replies) {
        logons++
        if (reply?.ok === true) accepted++
        else if (reply?.reason === RejectReason.INVALID_CREDENTIALS) checked++
        else if (reply?.reason === RejectReason.LOGON_SHED) shed++
        else {
          const name = reply === null ? 'no answer' : reasonName(reply.reason)
          otherReasons.set(name, (otherReasons.get(name) ?? 0) + 1)
        }
      }
      for (const o of ready) if (o.step !== 'ready') otherReasons.set(`${o.step} ${reasonName(o.reason)}`, (otherReasons.get(`${o.step} ${reasonName(o.reason)}`) ?? 0) + 1)
      await Promise.all(ready.map(async (o) => hangUp(o.conn)))
    }
    sampling = false
    await sampler
    const worst = traderMs.length === 0 ? null : Math.round(Math.max(...traderMs))
    const limit = thresholds.traderLogonMs
    const others = [...otherReasons].map(([name, n]) => `${name} x${n}`).join(', ')
    return {
      messagesSent: logons * 5 + traderMs.length * 5,
      figures: { madeUpLogons: logons, madeUpAccepted: accepted, passwordsChecked: checked, shed, refusedOther: others, hashesPendingMax: samples === 0 ? null : pendingMax, pendingSamples: samples, traderLogons: traderMs.length, traderLogonMsWorst: worst, traderLogonMs: traderMs.map((ms) => Math.round(ms)).join(', ') },
      checks: [
        check('no made-up account logs on', accepted === 0, 'every made-up account was refused', `${accepted} made-up account(s) were ACCEPTED`),
        check(`the hashing queue stays within ${thresholds.maxPendingHashes}`, samples > 0 && pendingMax <= thresholds.maxPendingHashes,
          `at most ${pendingMax} pending in ${samples} samples`,
          samples === 0 ? '/metrics never showed gatehouse_logon_hashes_pending' : `${pendingMax} password checks pending at once, over maxPendingHashes ${thresholds.maxPendingHashes}`),
        check('the excess is shed before hashing', shed > 0 && otherReasons.size === 0,
          `${checked} checked, ${shed} LOGON_SHED of ${logons}`,
          `${checked} checked, ${shed} LOGON_SHED of ${logons}${others === '' ? '' : `, other refusals: ${others}`}: a burst past the queue should be shed, and nothing else refused`),
        check('the trader logs on during the bursts', traderMs.length > 0 && failures.length === 0, `${traderMs.length} logons passed`,
          traderMs.length === 0 ? 'no trader logon could be timed before the scenario\'s time ran out' : `trader logon refused: ${failures.join('; ')}`),
        check(`the trader's logon takes under ${limit} ms`, worst !== null && worst < limit, `worst ${worst} ms`,
          `the trader's logon took ${worst} ms behind bursts of ${logons / Math.max(1, traderMs.length)} made-up logons (threshold ${limit} ms): hashing for strangers crowds out real users`),
      ],
    }
  },
}
