// Locking the owner out: wrong AuthCode proofs naming the trader's account
// from many addresses across many /24s, then strangers' wrong passwords
// for it (a terminal it never approved), until the name is locked for
// strangers. Proofs lock only addresses and prefixes, and an approved
// terminal has its own allowance, so the owner's approved terminal must
// still log on, and the trader keeps trading throughout.
import { RejectReason } from '../../../protocol/messages.js'
import { connect, hangUp, logOn, pool, reasonName, strangerLane, strangerTerminal, wrongProof } from '../drill-connection.js'
import { check, type Scenario, type ScenarioResult } from '../scenario.js'

export const lockoutDos: Scenario = {
  name: 'lockout-dos',
  summary: 'bad proofs and strangers\' wrong passwords naming the trader\'s account; its approved terminal still logs on',
  budgetMs: { short: 6000, full: 20_000 },
  async run (ctx): Promise<ScenarioResult> {
    const { identity, thresholds, trader } = ctx.settings
    const account = identity.traderAccount
    const limit = thresholds.maxFailures
    const prefixes = ctx.short ? 6 : 40
    let sent = 0
    // Bad proofs: limit + 1 from each of a few addresses per /24, so each address ends locked.
    const addresses: Array<string | undefined> = []
    for (let p = 0; p < prefixes; p++) { addresses.push(ctx.nextPrefix()); addresses.push(ctx.nextAddress()) }
    let proofsBanned = 0
    await pool(addresses, 6, ctx.deadlineMs - 3000, async (address) => {
      const connected = await connect(ctx, trader.lane, address)
      if (!connected.ok) return
      for (let i = 0; i < limit + 1; i++) {
        const reply = await wrongProof(connected.conn, identity.appId, account)
        sent++
        if (reply?.reason === RejectReason.LOGIN_BANNED) proofsBanned++
        if (reply === null) break
      }
      await hangUp(connected.conn)
    })
    // Strangers' wrong passwords, each from its own clean /24, until the name is locked for strangers.
    const lane = strangerLane(ctx)
    const terminal = strangerTerminal('dos')
    const strangers: string[] = []
    for (let i = 0; i < limit + 1 && Date.now() < ctx.deadlineMs - 2000; i++) {
      const outcome = await logOn(ctx, lane, account, `drill-wrong-${i}`, ctx.nextPrefix(), terminal)
      sent += 4
      strangers.push(outcome.step === 'done' ? 'accepted' : reasonName(outcome.reason))
      await hangUp(outcome.conn)
    }
    const own = await logOn(ctx, trader.lane, account, identity.traderPassword, ctx.nextPrefix())
    await hangUp(own.conn)
    sent += 4
    const banned = reasonName(RejectReason.LOGIN_BANNED)
    return {
      messagesSent: sent * 2,
      figures: { proofAddresses: addresses.length, proofsBanned, strangers: strangers.join(', '), ownerLogonMs: Math.round(own.ms) },
      checks: [
        check('the attacking addresses were locked', proofsBanned > 0, `${proofsBanned} proofs answered ${banned}`, `no proof was answered ${banned}: the addresses were never locked, so the attack was not made`),
        check('the name was locked for strangers', strangers.at(-1) === banned && !strangers.includes('accepted'), strangers.join(', '),
          `${limit + 1} strangers' wrong passwords got ${strangers.join(', ')}; the last should be ${banned}`),
        check('the owner\'s approved terminal still logs on', own.step === 'done', `logged on in ${Math.round(own.ms)} ms`,
          `the owner's approved terminal was refused at ${own.step}: ${reasonName(own.reason)} ${own.text}: strangers locked the owner out`),
      ],
    }
  },
}
