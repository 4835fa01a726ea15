// A terminal new to the trader's account logs on through the terminal
// lane (allow-alert: let in, approved by the logon for that lane only),
// then shows up on hft and platform: each lane's policy holds for its own
// lane, so hft must still reject it and platform still hold it.
import { RejectReason } from '../../../protocol/messages.js'
import { hangUp, logOn, reasonName, strangerTerminal } from '../drill-connection.js'
import { check, type Scenario, type ScenarioResult } from '../scenario.js'

export const fingerprintCrossLane: Scenario = {
  name: 'fingerprint-cross-lane',
  summary: 'a terminal let in on the terminal lane is still rejected on hft and held on platform',
  budgetMs: { short: 5000, full: 8000 },
  async run (ctx): Promise<ScenarioResult> {
    const { identity } = ctx.settings
    const account = identity.traderAccount
    const needed = ['terminal', 'platform', 'hft'] as const
    if (!needed.every((lane) => ctx.lanes.includes(lane))) {
      return { messagesSent: 0, figures: { checked: false }, checks: [{ name: 'each lane\'s policy holds', ok: true, detail: 'not checked: needs the terminal, platform and hft lanes' }] }
    }
    const terminal = strangerTerminal('cross')
    const first = await logOn(ctx, 'terminal', account, identity.traderPassword, ctx.nextPrefix(), terminal)
    await hangUp(first.conn)
    const elsewhere = async (lane: 'platform' | 'hft'): Promise<string> => {
      const outcome = await logOn(ctx, lane, account, null, ctx.nextAddress(), terminal)
      await hangUp(outcome.conn)
      return outcome.step === 'ready' ? 'accepted' : `${outcome.step} ${reasonName(outcome.reason)}`
    }
    const hft = await elsewhere('hft')
    const platform = await elsewhere('platform')
    const rejected = `terminal-info ${reasonName(RejectReason.FINGERPRINT_REJECTED)}`
    const held = `terminal-info ${reasonName(RejectReason.FINGERPRINT_HELD)}`
    return {
      messagesSent: 12,
      figures: { terminalLane: first.step === 'done' ? 'logged on' : `${first.step} ${reasonName(first.reason)}`, hft, platform },
      checks: [
        check('let in on the terminal lane', first.step === 'done', 'logged on with a new terminal (allow-alert)',
          `the new terminal could not log on through the terminal lane (${first.step} ${reasonName(first.reason)} ${first.text}): nothing was approved, so nothing was tested`),
        check('still rejected on hft', hft === rejected, hft, `on hft the terminal got "${hft}", not "${rejected}": one lane's approval leaked to another`),
        check('still held on platform', platform === held, platform, `on platform the terminal got "${platform}", not "${held}": one lane's approval leaked to another`),
      ],
    }
  },
}
