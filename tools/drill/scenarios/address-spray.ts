// Lock an address and the victim account, then fail a few times from
// each of many other addresses (every one a new entry in the gateway's
// failure tables) to try to push the locks out. Both locks must hold.
// The tables are bounded by security.maxTrackedEntries (100,000 by
// default): to test eviction itself, drill a gateway configured with a
// table smaller than the spray (the docs say how).
import { connect, hangUp, pool, reasonName, rightProof, wrongProof } from '../drill-connection.js'
import { check, type Scenario, type ScenarioResult } from '../scenario.js'

export const addressSpray: Scenario = {
  name: 'address-spray',
  summary: 'many source addresses each failing a few times, trying to evict existing lockouts',
  budgetMs: { short: 6000, full: 60_000 },
  async run (ctx): Promise<ScenarioResult> {
    const { identity, thresholds } = ctx.settings
    const lane = ctx.settings.trader.lane
    const sprayAddresses = ctx.short ? 200 : 3000
    const perAddress = Math.max(1, Math.min(2, thresholds.maxFailures - 1))
    const nobody = (): string => `drill-spray-${Math.random().toString(36).slice(2, 10)}`
    let sent = 0
    // Lock one address (made-up accounts) and the victim account.
    const lockedAddress = ctx.nextAddress()
    const locker = await connect(ctx, lane, lockedAddress)
    if (locker.ok) {
      for (let i = 0; i < thresholds.maxFailures + 1; i++) { await wrongProof(locker.conn, identity.appId, nobody()); sent++ }
      for (let i = 0; i < thresholds.maxFailures + 1; i++) { await wrongProof(locker.conn, identity.appId, identity.victimAccount); sent++ }
      await hangUp(locker.conn)
    }
    const addresses = Array.from({ length: sprayAddresses }, () => ctx.nextAddress())
    let sprayed = 0
    await pool(addresses, 8, ctx.deadlineMs - 1000, async (address) => {
      const connected = await connect(ctx, lane, address)
      if (!connected.ok) return
      for (let i = 0; i < perAddress; i++) { await wrongProof(connected.conn, identity.appId, nobody()); sent++ }
      sprayed++
      await hangUp(connected.conn)
    })
    // Still locked? The right proof, from the locked address and (for the account) from a fresh one.
    /** 'accepted', or how the right proof was refused. */
    const probe = async (address: string | undefined, account: string): Promise<string> => {
      const connected = await connect(ctx, lane, address)
      if (!connected.ok) return `refused at connect (${connected.error})`
      const reply = await rightProof(ctx, connected.conn, account)
      sent++
      await hangUp(connected.conn)
      return reply === null ? 'no answer' : reply.ok ? 'accepted' : reasonName(reply.reason)
    }
    const addressAfter = await probe(lockedAddress, nobody())
    const accountAfter = await probe(ctx.nextAddress(), identity.victimAccount)
    // The right proof refused in any way means the lock held; LOGIN_BANNED is the usual way.
    const held = (outcome: string): boolean => outcome !== 'accepted'
    return {
      messagesSent: sent * 2,
      figures: { addressesSprayed: sprayed, failuresPerAddress: perAddress },
      checks: [
        check('the address lock holds', held(addressAfter), `after ${sprayed} sprayed addresses the locked address's right proof is still refused: ${addressAfter}`,
          `after ${sprayed} sprayed addresses the locked address's right proof was ACCEPTED: its lock was evicted (or never set)`),
        check(`the ${identity.victimAccount} lock holds`, held(accountAfter), `${identity.victimAccount}'s right proof is still refused: ${accountAfter}`,
          `after ${sprayed} sprayed addresses ${identity.victimAccount}'s right proof was ACCEPTED: its lock was evicted (or never set)`),
      ],
    }
  },
}
