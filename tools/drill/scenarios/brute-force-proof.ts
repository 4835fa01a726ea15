// Wrong AuthCode proofs, which every user of the software can make: from
// one address (for made-up names and for the victim), from one /24's many
// addresses, and from many /24s naming the victim. Each address must be
// locked after maxFailures, a /24 after prefixMaxFailures, and the account
// never: proofs lock the address and its prefix, so the victim's right
// proof from a clean network still passes.
import { RejectReason } from '../../../protocol/messages.js'
import { connect, hangUp, pool, reasonName, rightProof, wrongProof } from '../drill-connection.js'
import { check, type Scenario, type ScenarioResult } from '../scenario.js'

export const bruteForceProof: Scenario = {
  name: 'brute-force-proof',
  summary: 'wrong AuthCode proofs from one address, from one /24\'s many addresses and from many /24s; the account is never locked',
  budgetMs: { short: 6000, full: 20_000 },
  async run (ctx): Promise<ScenarioResult> {
    const { identity, thresholds } = ctx.settings
    const lane = ctx.settings.trader.lane
    const limit = thresholds.maxFailures
    const attempts = limit * 2 + 2
    const manyPrefixes = ctx.short ? 8 : 40
    let sent = 0
    let accepted = 0
    const nobody = (): string => `drill-nobody-${Math.random().toString(36).slice(2, 10)}`

    /** Wrong proofs on one connection: how many were checked (AUTH_FAILED) before the ban. */
    const oneAddress = async (address: string | undefined, tries: number, accountFor: () => string): Promise<{ checked: number, banned: number, stopped: boolean }> => {
      const connected = await connect(ctx, lane, address)
      if (!connected.ok) return { checked: 0, banned: 0, stopped: true }
      let checked = 0
      let banned = 0
      let stopped = false
      for (let i = 0; i < tries && Date.now() < ctx.deadlineMs; i++) {
        const reply = await wrongProof(connected.conn, identity.appId, accountFor())
        sent++
        if (reply === null) { stopped = true; break }
        if (reply.ok) accepted++
        else if (reply.reason === RejectReason.AUTH_FAILED) checked++
        else if (reply.reason === RejectReason.LOGIN_BANNED) banned++
      }
      await hangUp(connected.conn)
      return { checked, banned, stopped }
    }
    /** The right proof from `address`: 'accepted' or how it was refused. */
    const probe = async (address: string | undefined, account: string): Promise<string> => {
      const connected = await connect(ctx, lane, address)
      if (!connected.ok) return `refused at connect (${connected.error})`
      const reply = await rightProof(ctx, connected.conn, account)
      sent++
      await hangUp(connected.conn)
      return reply === null ? 'no answer' : reply.ok ? 'accepted' : reasonName(reply.reason)
    }

    // 1. One address, made-up names, then the victim's name from another.
    const madeUpAddress = ctx.nextPrefix()
    const madeUp = await oneAddress(madeUpAddress, attempts, nobody)
    const madeUpAfter = await probe(madeUpAddress, identity.victimAccount)
    const victimOne = await oneAddress(ctx.nextPrefix(), attempts, () => identity.victimAccount)

    // 2. One /24: its addresses each stay under their own allowance until the prefix's is used up.
    const perAddress = Math.max(1, limit - 1)
    const prefixAddresses = [ctx.nextPrefix()]
    for (let i = 1; i * perAddress < thresholds.prefixMaxFailures + perAddress; i++) prefixAddresses.push(ctx.nextAddress())
    let prefixChecked = 0
    let prefixBanned = 0
    await pool(prefixAddresses, 4, ctx.deadlineMs, async (address) => {
      const r = await oneAddress(address, perAddress, nobody)
      prefixChecked += r.checked
      prefixBanned += r.banned
    })
    const prefixAfter = await probe(ctx.nextAddress(), identity.victimAccount)

    // 3. Many /24s, one wrong proof each, naming the victim: never the account's lock.
    let victimChecked = victimOne.checked
    await pool(Array.from({ length: manyPrefixes }, () => ctx.nextPrefix()), 4, ctx.deadlineMs, async (address) => {
      victimChecked += (await oneAddress(address, 1, () => identity.victimAccount)).checked
    })
    const ownerAfter = await probe(ctx.nextPrefix(), identity.victimAccount)
    const refused = (outcome: string): boolean => outcome !== 'accepted'
    return {
      messagesSent: sent * 2,
      figures: { proofsSent: sent, madeUpChecked: madeUp.checked, victimOneAddressChecked: victimOne.checked, prefixAddresses: prefixAddresses.length, prefixChecked, prefixBanned, victimChecked, wrongAccepted: accepted, ownerProof: ownerAfter },
      checks: [
        check('no wrong proof accepted', accepted === 0, 'every wrong proof was refused', `${accepted} wrong proof(s) were ACCEPTED`),
        check(`an address is locked after ${limit} failures`, madeUp.checked <= limit && victimOne.checked <= limit && (madeUp.banned > 0 || madeUp.stopped) && refused(madeUpAfter),
          `${madeUp.checked} checked (made-up names), ${victimOne.checked} (${identity.victimAccount}), then LOGIN_BANNED; the locked address's right proof: ${madeUpAfter}`,
          `one address had ${madeUp.checked} wrong proofs for made-up names and ${victimOne.checked} for ${identity.victimAccount} checked (${madeUp.banned} banned), and its right proof afterwards: ${madeUpAfter}; the address should be locked after ${limit}`),
        check(`a /24 is locked after ${thresholds.prefixMaxFailures} failures`, prefixChecked <= thresholds.prefixMaxFailures && refused(prefixAfter),
          `${prefixChecked} checked from ${prefixAddresses.length} addresses, then LOGIN_BANNED; a fresh address in it: ${prefixAfter}`,
          `${prefixChecked} wrong proofs were checked from one /24 (${prefixAddresses.length} addresses), and a fresh address in it got: ${prefixAfter}; the prefix should be locked after ${thresholds.prefixMaxFailures}`),
        check(`${identity.victimAccount} is never locked by proofs`, ownerAfter === 'accepted',
          `after ${victimChecked} wrong proofs naming it, the right proof from a clean /24 is accepted`,
          `after ${victimChecked} wrong proofs naming ${identity.victimAccount}, its right proof from a clean /24 was refused (${ownerAfter}): anyone holding the software could lock any account out`),
      ],
    }
  },
}
