// The same wrong passwords for a real account (the victim) and for a
// made-up name, from a terminal neither has approved, alternating so both
// meet the same load: every answer must be identical in reason, text and
// step, both names must end locked at the same attempt, and the password
// step's latency must be the same within noise (a made-up name is hashed
// against a dummy with the production parameters).
import { hangUp, logOn, median, password, reasonName, strangerLane, strangerTerminal, type LogonOutcome } from '../drill-connection.js'
import { check, type Scenario, type ScenarioResult } from '../scenario.js'

export const enumeration: Scenario = {
  name: 'enumeration',
  summary: 'wrong passwords for a real name and a made-up one: same answers, same lock, same latency',
  budgetMs: { short: 6000, full: 12_000 },
  async run (ctx): Promise<ScenarioResult> {
    const { identity, thresholds } = ctx.settings
    const lane = strangerLane(ctx)
    const terminal = strangerTerminal('enum')
    const names = { real: identity.victimAccount, madeUp: `drill-enum-${Math.random().toString(36).slice(2, 10)}` }
    const attempts = thresholds.maxFailures + 1
    const seen: Record<'real' | 'madeUp', Array<{ answer: string, ms: number }>> = { real: [], madeUp: [] }
    const address = ctx.nextPrefix()
    for (let i = 0; i < attempts && Date.now() < ctx.deadlineMs; i++) {
      for (const which of ['real', 'madeUp'] as const) {
        // Each attempt from its own address in one /24: the address's own allowance is not what is measured.
        const ready: LogonOutcome = await logOn(ctx, lane, names[which], null, i === 0 && which === 'real' ? address : ctx.nextAddress(), terminal)
        let answer = `${ready.step} ${reasonName(ready.reason)}: ${ready.text}`
        let ms = 0
        if (ready.step === 'ready' && ready.conn !== null) {
          const started = performance.now()
          const reply = await password(ready.conn, names[which], `drill-wrong-${i}`)
          ms = performance.now() - started
          answer = reply === null ? 'logon: no answer' : reply.ok ? 'logon: accepted' : `logon ${reasonName(reply.reason)}: ${reply.text}`
        }
        seen[which].push({ answer, ms })
        await hangUp(ready.conn)
      }
    }
    const differing = seen.real.map((r, i) => [i, r.answer, seen.madeUp[i]?.answer] as const).filter(([, a, b]) => a !== b)
    const checkedMs = (which: 'real' | 'madeUp'): number[] => seen[which].filter((s) => s.answer.startsWith('logon INVALID_CREDENTIALS')).map((s) => s.ms)
    const realMs = median(checkedMs('real'))
    const madeUpMs = median(checkedMs('madeUp'))
    const ratio = thresholds.enumerationLatencyRatio
    const close = realMs !== null && madeUpMs !== null && Math.abs(realMs - madeUpMs) <= ratio * Math.max(realMs, madeUpMs)
    const lastReal = seen.real.at(-1)?.answer ?? ''
    const lastMadeUp = seen.madeUp.at(-1)?.answer ?? ''
    const round = (ms: number | null): number | null => ms === null ? null : Math.round(ms * 10) / 10
    return {
      messagesSent: attempts * 2 * 4,
      figures: { attempts, realMedianMs: round(realMs), madeUpMedianMs: round(madeUpMs), realLast: lastReal, madeUpLast: lastMadeUp },
      checks: [
        check('identical answers', differing.length === 0, `${attempts} attempts each, every answer identical`,
          `answers differ: ${differing.slice(0, 2).map(([i, a, b]) => `attempt ${i + 1}: "${a}" vs "${b}"`).join('; ')}`),
        check('both names end locked', /LOGIN_BANNED/.test(lastReal) && /LOGIN_BANNED/.test(lastMadeUp), `both: ${lastReal}`,
          `after ${attempts} wrong passwords: ${names.real} got "${lastReal}", the made-up name "${lastMadeUp}"`),
        check(`latencies within ${Math.round(ratio * 100)}%`, close, `medians ${round(realMs)} ms (real) and ${round(madeUpMs)} ms (made up)`,
          realMs === null || madeUpMs === null ? 'no password was checked for one of the names' : `medians ${round(realMs)} ms (real) and ${round(madeUpMs)} ms (made up): timing tells which names exist`),
      ],
    }
  },
}
