// Duplicate client_order_id detection is bounded by design: within a
// session IDs must strictly increase (one number per session), and an ID
// naming a still-working order taken over from an earlier session is
// refused too (a lookup in the session's open orders, bounded by
// maxOpenOrders). There is no table of every ID ever used to grow until
// V8 throws at its 16,777,217th entry.
import t from 'tap'
import fc from 'fast-check'
import { ExecType, RejectReason, Side, TimeInForce, wireInt, type ExecutionReport } from '../protocol/messages.js'
import { startTestGateway } from './helpers/gateway.js'
import { DEFAULT_CONFIG } from '../config/defaults.js'
import { logOn, tradingAccount, type Trader } from './helpers/trading.js'

const gateway = await startTestGateway({ overrides: { accounts: [...DEFAULT_CONFIG.accounts, tradingAccount('IDS-1'), tradingAccount('IDS-2')] } })
t.teardown(() => gateway.stop())

/** Sends a new order with this ID and resolves with its first report. */
async function order (trader: Trader, clientOrderId: number, timeInForce = TimeInForce.FAK, price = 3000): Promise<ExecutionReport> {
  const first = trader.client.nextNew((m) => m.body === 'executionReport' && wireInt(m.executionReport!.clientOrderId) === clientOrderId)
  trader.client.newOrder({ clientOrderId, instrument: 'rb2605', side: Side.BUY, price, quantityLots: 1, timeInForce })
  return (await first).executionReport as ExecutionReport
}

t.test('a non-increasing client_order_id is refused with the rule and the last ID; a higher one is accepted', async (t) => {
  const trader = await logOn(gateway, 'platform', 'IDS-1')
  t.equal((await order(trader, 5)).execType, ExecType.ACK, 'ID 5 accepted')
  const lower = await order(trader, 3)
  t.equal(lower.execType, ExecType.REJECTED, 'ID 3 after 5 is refused, though never used')
  t.equal(lower.reason, RejectReason.DUPLICATE_CLIENT_ORDER_ID)
  t.match(lower.text, /must strictly increase within a session: 3 is not above the last one accepted, 5/, 'the text states the rule and the last ID')
  t.equal(wireInt(lower.limit), 5, 'limit carries the last ID accepted')
  const same = await order(trader, 5)
  t.equal(same.reason, RejectReason.DUPLICATE_CLIENT_ORDER_ID, 'reusing 5 is refused')
  t.equal((await order(trader, 6)).execType, ExecType.ACK, 'ID 6 accepted')
  t.equal((await order(trader, 1_000_000)).execType, ExecType.ACK, 'gaps are fine')
  const zero = await order(trader, 0)
  t.match(zero.text, /positive integer/, 'zero is refused')
  await trader.client.logout()
  // A new session starts its own sequence.
  const next = await logOn(gateway, 'platform', 'IDS-1')
  t.equal((await order(next, 1)).execType, ExecType.ACK, 'a new session may start again from 1')
  await next.client.logout()
})

t.test('an ID naming a working order taken over from the earlier session is refused; others are not', async (t) => {
  const first = await logOn(gateway, 'platform', 'IDS-1')
  // Rests (no seller): it stays working after the session closes.
  const resting = await order(first, 50, TimeInForce.GFD, 3000)
  t.equal(resting.execType, ExecType.ACK)
  await first.client.close()
  const second = await logOn(gateway, 'platform', 'IDS-1')
  t.ok(second.logon.resumedOrders >= 1, 'the next session took the working order over')
  t.equal((await order(second, 10)).execType, ExecType.ACK, 'ID 10 (below the taken-over 50) is accepted: a new session has its own sequence')
  const clash = await order(second, 50)
  t.equal(clash.reason, RejectReason.DUPLICATE_CLIENT_ORDER_ID, 'ID 50 names the taken-over working order')
  t.match(clash.text, /still working that this session took over/)
  second.client.cancel(50)
  t.equal((await second.client.report(50, ExecType.CANCELLED)).execType, ExecType.CANCELLED, 'the taken-over order is cancelled by its ID')
  await second.client.logout()
})

t.test('property: the gateway accepts exactly the IDs above every ID it accepted before in the session', async (t) => {
  await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 12 }), async (ids) => {
    const trader = await logOn(gateway, 'platform', 'IDS-2')
    try {
      let last = 0
      for (const id of ids) {
        const report = await order(trader, id)
        const expectAccepted = id > last
        if (expectAccepted) last = id
        if ((report.reason === RejectReason.DUPLICATE_CLIENT_ORDER_ID) === expectAccepted) return false
      }
      return true
    } finally {
      await trader.client.logout()
    }
  }), { numRuns: 8 })
  t.pass('held')
})
