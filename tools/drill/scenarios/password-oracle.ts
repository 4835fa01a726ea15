// The right and a wrong password for an account that may not log on from
// here (its ipRanges, lanes or AppID bindings exclude the attack address
// or lane): the answers must be identical, so a refused binding reveals
// nothing about the password. The default gateway has no such account;
// give one in identity.restrictedAccount (docs/attack-drill.md).
import { DEMO_TERMINAL_INFO } from '../../../protocol/demo-identity.js'
import { hangUp, logOn, reasonName, strangerTerminal } from '../drill-connection.js'
import { check, type Scenario, type ScenarioResult } from '../scenario.js'

export const passwordOracle: Scenario = {
  name: 'password-oracle',
  summary: 'right and wrong passwords for an account not allowed from this address or lane get identical answers',
  budgetMs: { short: 5000, full: 8000 },
  async run (ctx): Promise<ScenarioResult> {
    const { restrictedAccount: account, restrictedPassword: secret } = ctx.settings.identity
    if (account === null || secret === null) {
      // The runner measures the trader over the scenario: give it a window.
      await new Promise((resolve) => setTimeout(resolve, 500))
      return {
        messagesSent: 0,
        figures: { checked: false },
        note: 'not checked: no identity.restrictedAccount configured (the default gateway has no account restricted from the drill\'s addresses or lanes)',
        checks: [{ name: 'identical answers for right and wrong passwords', ok: true, detail: 'not checked: set identity.restrictedAccount and restrictedPassword to an account restricted by ipRanges, lanes or appIds' }],
      }
    }
    const pairs: string[] = []
    const differing: string[] = []
    let accepted = 0
    for (const lane of ctx.lanes) {
      if (Date.now() > ctx.deadlineMs) break
      // The terminal lane lets a new terminal in, so a stranger's terminal uses that account bucket there; the approved one elsewhere.
      const terminal = lane === 'terminal' ? strangerTerminal('oracle') : DEMO_TERMINAL_INFO
      const address = ctx.nextPrefix()
      const answers: string[] = []
      for (const password of [secret, `${secret}-wrong`]) {
        const outcome = await logOn(ctx, lane, account, password, address, terminal)
        await hangUp(outcome.conn)
        if (outcome.step === 'done') accepted++
        answers.push(outcome.step === 'done' ? 'accepted' : `${outcome.step} ${reasonName(outcome.reason)}: ${outcome.text}`)
      }
      pairs.push(`${lane}: ${answers[0]}`)
      if (answers[0] !== answers[1]) differing.push(`${lane}: right "${answers[0]}", wrong "${answers[1]}"`)
    }
    return {
      messagesSent: pairs.length * 8,
      figures: { lanes: pairs.length, answers: pairs.join('; ') },
      checks: [
        check('the restricted account is refused from here', accepted === 0, `refused on ${pairs.length} lane(s)`, `${account} logged on from the drill's address ${accepted} time(s): it is not restricted from here, so nothing was tested`),
        check('identical answers for right and wrong passwords', differing.length === 0, pairs.join('; '), `the answers tell the right password: ${differing.join('; ')}`),
      ],
    }
  },
}
