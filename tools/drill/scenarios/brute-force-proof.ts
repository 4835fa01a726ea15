// Wrong AuthCode proofs: for the real victim account and for made-up
// accounts, from one address (retrying on one connection, each failure
// brings a fresh nonce) and from many addresses. An address must be locked
// after maxFailures failures whatever account it names, an account after
// maxFailures whatever address they come from, and the right proof for
// the locked account must then be refused.
import { RejectReason } from '../../../protocol/messages.js'
import { connect, hangUp, pool, reasonName, rightProof, wrongProof } from '../drill-connection.js'
import { check, type Scenario, type ScenarioResult } from '../scenario.js'

export const bruteForceProof: Scenario = {
  name: 'brute-force-proof',
  summary: 'wrong AuthCode proofs for a real account and made-up ones, from one address and from many',
  budgetMs: { short: 5000, full: 20_000 },
  async run (ctx): Promise<ScenarioResult> {
    const { identity, thresholds } = ctx.settings
    const lane = ctx.settings.trader.lane
    const limit = thresholds.maxFailures
    const attempts = limit * 2 + 2
    const manyAddresses = ctx.short ? 12 : 60
    let sent = 0
    let accepted = 0

    /** Wrong proofs on one connection from one fresh address: how many were checked (AUTH_FAILED) before the ban. */
    const oneAddress = async (accountFor: (i: number) => string): Promise<{ checked: number, banned: number, stopped: boolean }> => {
      const connected = await connect(ctx, lane)
      if (!connected.ok) return { checked: 0, banned: 0, stopped: true }
      let checked = 0
      let banned = 0
      // The gateway closed the connection (or stopped answering) rather than answer LOGIN_BANNED: also a stop.
      let stopped = false
      for (let i = 0; i < attempts && Date.now() < ctx.deadlineMs; i++) {
        const reply = await wrongProof(connected.conn, identity.appId, accountFor(i))
        sent++
        if (reply === null) { stopped = true; break }
        if (reply.ok) accepted++
        else if (reply.reason === RejectReason.AUTH_FAILED) checked++
        else if (reply.reason === RejectReason.LOGIN_BANNED) banned++
      }
      await hangUp(connected.conn)
      return { checked, banned, stopped }
    }
    const madeUp = await oneAddress((i) => `drill-nobody-${i}-${Math.random().toString(36).slice(2, 8)}`)
    const victimOne = await oneAddress(() => identity.victimAccount)
    // Many addresses against the victim: the account's own lock must hold across them.
    let victimChecked = victimOne.checked
    await pool(Array.from({ length: manyAddresses }, (_, i) => i), 4, ctx.deadlineMs, async () => {
      const connected = await connect(ctx, lane)
      if (!connected.ok) return
      const reply = await wrongProof(connected.conn, identity.appId, identity.victimAccount)
      sent++
      if (reply?.ok === true) accepted++
      if (reply?.reason === RejectReason.AUTH_FAILED) victimChecked++
      await hangUp(connected.conn)
    })
    // The right proof for the victim from an address that never failed.
    const fresh = await connect(ctx, lane)
    const right = fresh.ok ? await rightProof(ctx, fresh.conn, identity.victimAccount) : null
    if (fresh.ok) await hangUp(fresh.conn)
    sent += 1
    return {
      messagesSent: sent * 2,
      figures: { proofsSent: sent, madeUpChecked: madeUp.checked, victimChecked, wrongAccepted: accepted, addresses: manyAddresses + 3 },
      checks: [
        check('no wrong proof accepted', accepted === 0, 'every wrong proof was refused', `${accepted} wrong proof(s) were ACCEPTED`),
        check(`an address is locked after ${limit} failures (made-up accounts)`, madeUp.checked <= limit && (madeUp.banned > 0 || madeUp.stopped),
          `${madeUp.checked} checked, then ${madeUp.banned > 0 ? 'LOGIN_BANNED' : 'the connection was closed'}`,
          `one address had ${madeUp.checked} wrong proofs for made-up accounts checked and ${madeUp.banned} banned; the address should be locked after ${limit}`),
        check(`${identity.victimAccount} is locked after ${limit} failures across addresses`, victimChecked <= limit,
          `${victimChecked} checked across ${manyAddresses + 1} addresses, then LOGIN_BANNED`,
          `${victimChecked} wrong proofs for ${identity.victimAccount} were checked across ${manyAddresses + 1} addresses; the account should be locked after ${limit}`),
        check('the right proof is refused while the account is locked', right?.ok !== true,
          right === null ? 'refused (no connection or no answer)' : `refused with ${reasonName(right.reason)}`,
          `the right proof for ${identity.victimAccount} was accepted after ${victimChecked} failures`),
      ],
    }
  },
}
