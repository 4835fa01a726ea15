// Lock an account name (wrong passwords for a made-up name, which is
// locked exactly as a real one) and an address (wrong proofs), then fail
// from many addresses across many /24s, every one a new entry in the
// gateway's failure tables, to try to push the locks out. Locks live in
// their own store and leave it only by expiring: both must still answer
// LOGIN_BANNED. The failure tables hold security.maxTrackedEntries
// (100,000 by default): to test eviction itself, drill a gateway
// configured with a table smaller than the spray (the docs say how).
import { RejectReason } from '../../../protocol/messages.js'
import { connect, hangUp, logOn, pool, reasonName, rightProof, strangerLane, strangerTerminal, wrongProof } from '../drill-connection.js'
import { check, type Scenario, type ScenarioResult } from '../scenario.js'

export const lockPersistence: Scenario = {
  name: 'lock-persistence',
  summary: 'lock a name and an address, then spray failures from many addresses across many /24s; both locks must hold',
  budgetMs: { short: 6000, full: 60_000 },
  async run (ctx): Promise<ScenarioResult> {
    const { identity, thresholds } = ctx.settings
    const limit = thresholds.maxFailures
    const prefixes = ctx.short ? 12 : 120
    const perPrefix = ctx.short ? 5 : 20
    const lane = strangerLane(ctx)
    const terminal = strangerTerminal('persist')
    const name = `drill-persist-${Math.random().toString(36).slice(2, 10)}`
    const nobody = (): string => `drill-spray-${Math.random().toString(36).slice(2, 10)}`
    let sent = 0
    // The name: limit wrong passwords, each from its own address, then it is locked.
    const nameAttempts: string[] = []
    for (let i = 0; i < limit + 1 && Date.now() < ctx.deadlineMs; i++) {
      const outcome = await logOn(ctx, lane, name, `wrong-${i}`, ctx.nextAddress(), terminal)
      sent += 4
      nameAttempts.push(outcome.step === 'done' ? 'accepted' : reasonName(outcome.reason))
      await hangUp(outcome.conn)
    }
    // The address: limit + 1 wrong proofs.
    const lockedAddress = ctx.nextPrefix()
    const locker = await connect(ctx, lane, lockedAddress)
    if (locker.ok) {
      for (let i = 0; i < limit + 1; i++) { await wrongProof(locker.conn, identity.appId, nobody()); sent++ }
      await hangUp(locker.conn)
    }
    // The spray: a few addresses in each of many /24s, one or two wrong proofs each (under every allowance).
    const addresses: Array<string | undefined> = []
    for (let p = 0; p < prefixes; p++) {
      addresses.push(ctx.nextPrefix())
      for (let i = 1; i < perPrefix; i++) addresses.push(ctx.nextAddress())
    }
    const perAddress = Math.max(1, Math.min(2, limit - 1))
    let sprayed = 0
    await pool(addresses, 8, ctx.deadlineMs - 1500, async (address) => {
      const connected = await connect(ctx, lane, address)
      if (!connected.ok) return
      for (let i = 0; i < perAddress; i++) { await wrongProof(connected.conn, identity.appId, nobody()); sent++ }
      sprayed++
      await hangUp(connected.conn)
    })
    // Still locked? The right proof from the locked address; the name from a clean /24.
    const connected = await connect(ctx, lane, lockedAddress)
    const addressReply = connected.ok ? await rightProof(ctx, connected.conn, nobody()) : null
    if (connected.ok) await hangUp(connected.conn)
    const addressAfter = addressReply === null ? (connected.ok ? 'no answer' : `refused at connect (${connected.error})`) : addressReply.ok ? 'accepted' : reasonName(addressReply.reason)
    const nameOutcome = await logOn(ctx, lane, name, 'wrong-after', ctx.nextPrefix(), terminal)
    await hangUp(nameOutcome.conn)
    const nameAfter = nameOutcome.step === 'done' ? 'accepted' : reasonName(nameOutcome.reason)
    sent += 5
    const banned = reasonName(RejectReason.LOGIN_BANNED)
    return {
      messagesSent: sent * 2,
      figures: { addressesSprayed: sprayed, prefixesSprayed: prefixes, failuresPerAddress: perAddress, nameAttempts: nameAttempts.join(', '), addressAfter, nameAfter },
      checks: [
        check('the name was locked', nameAttempts.at(-1) === banned, `${nameAttempts.join(', ')}`, `${limit + 1} wrong passwords for ${name} got ${nameAttempts.join(', ')}; the last should be ${banned}`),
        check('the address lock holds', addressAfter === banned, `after ${sprayed} sprayed addresses in ${prefixes} /24s the locked address's right proof gets ${addressAfter}`,
          `after ${sprayed} sprayed addresses the locked address's right proof got ${addressAfter}, not ${banned}: its lock was evicted (or never set)`),
        check('the name lock holds', nameAfter === banned, `the locked name from a clean /24 gets ${nameAfter}`,
          `after ${sprayed} sprayed addresses the locked name from a clean /24 got ${nameAfter}, not ${banned}: its lock was evicted (or never set)`),
      ],
    }
  },
}
