// Over-long strings and out-of-range integers (>= 2^53, negative where
// unsigned is meant, enums past their values) in every client message,
// before logon (each from a fresh address, so one refusal's lock does not
// hide the next) and after logon (the trader's account, on its lane).
// Each must get a refusal (or an orderly close), and no order among them
// may reach the exchange.
import { ExecType, type ClientEnvelopeInit, type Side, type TimeInForce } from '../../../protocol/messages.js'
import { ask, connect, hangUp, logOn, nextMessage, rightProof, terminalInfo, type DrillConnection } from '../drill-connection.js'
import { check, type Scenario, type ScenarioResult } from '../scenario.js'
import { wire64 } from '../wire64.js'

/** Fits the default hft lane's 1 KiB frame limit with the rest of the message. */
const LONG = 'x'.repeat(700)
// Sent as {low, high} pairs: the codec will not encode such numbers itself.
const HUGE = wire64(2n ** 60n)
const MINUS_HUGE = wire64(-(2n ** 60n))
const PAST_SAFE = wire64(2n ** 53n + 2n)

const PRE_LOGON: Array<{ name: string, envelope: ClientEnvelopeInit, stage: 'challenged' | 'authenticated' | 'terminal-verified' }> = [
  { name: 'Authenticate.app_id long', stage: 'challenged', envelope: { authenticate: { appId: LONG, account: 'a', proof: new Uint8Array(32) } } },
  { name: 'Authenticate.account long', stage: 'challenged', envelope: { authenticate: { appId: 'gatehouse-demo-client', account: LONG, proof: new Uint8Array(32) } } },
  { name: 'Authenticate.proof long', stage: 'challenged', envelope: { authenticate: { appId: 'gatehouse-demo-client', account: 'a', proof: new Uint8Array(700) } } },
  { name: 'envelope seq/sent_time past 2^53', stage: 'challenged', envelope: { seq: HUGE, sentTimeUs: HUGE, heartbeat: { testId: HUGE } } },
  { name: 'TerminalInfo strings long', stage: 'authenticated', envelope: { terminalInfo: { terminalType: LONG, ips: ['1.1.1.1'], mac: 'm', deviceName: 'd', osVersion: 'o', collectedTimeUs: HUGE } } },
  { name: 'TerminalInfo 300 ips', stage: 'authenticated', envelope: { terminalInfo: { terminalType: 't', ips: Array.from({ length: 60 }, () => '255.255.255.255'), mac: 'm', deviceName: 'd', osVersion: 'o', collectFailureMask: 0xffffffff } } },
  { name: 'Logon.password long', stage: 'terminal-verified', envelope: { logon: { account: '', password: LONG, heartbeatIntervalMs: 0xffffffff } } },
]

const POST_LOGON: Array<{ name: string, envelope: ClientEnvelopeInit }> = [
  { name: 'NewOrder.client_order_id past 2^53', envelope: { newOrder: { clientOrderId: PAST_SAFE, instrument: 'rb2605', side: 1, price: 3100, quantityLots: 1, timeInForce: 2 } } },
  { name: 'NewOrder.client_order_id 2^60', envelope: { newOrder: { clientOrderId: HUGE, instrument: 'rb2605', side: 1, price: 3100, quantityLots: 1, timeInForce: 2 } } },
  { name: 'NewOrder.price 2^60', envelope: { newOrder: { clientOrderId: 0, instrument: 'rb2605', side: 1, price: HUGE, quantityLots: 1, timeInForce: 2 } } },
  { name: 'NewOrder.price -2^60', envelope: { newOrder: { clientOrderId: 0, instrument: 'rb2605', side: 1, price: MINUS_HUGE, quantityLots: 1, timeInForce: 2 } } },
  { name: 'NewOrder.quantity 2^32-1', envelope: { newOrder: { clientOrderId: 0, instrument: 'rb2605', side: 1, price: 3100, quantityLots: 0xffffffff, timeInForce: 2 } } },
  { name: 'NewOrder.side 99', envelope: { newOrder: { clientOrderId: 0, instrument: 'rb2605', side: 99 as Side, price: 3100, quantityLots: 1, timeInForce: 2 } } },
  { name: 'NewOrder.time_in_force 77', envelope: { newOrder: { clientOrderId: 0, instrument: 'rb2605', side: 1, price: 3100, quantityLots: 1, timeInForce: 77 as TimeInForce } } },
  { name: 'NewOrder.instrument long', envelope: { newOrder: { clientOrderId: 0, instrument: LONG, side: 1, price: 3100, quantityLots: 1, timeInForce: 2 } } },
  { name: 'CancelOrder.client_order_id 2^60', envelope: { cancelOrder: { clientOrderId: HUGE } } },
  { name: 'Heartbeat.test_id 2^60', envelope: { seq: HUGE, heartbeat: { testId: HUGE } } },
]

export const longFields: Scenario = {
  name: 'long-fields',
  summary: 'over-long strings and out-of-range integers (>= 2^53, enums out of range) in every message',
  budgetMs: { short: 6000, full: 15_000 },
  async run (ctx): Promise<ScenarioResult> {
    const { identity, trader } = ctx.settings
    const unanswered: string[] = []
    const reachedExchange: string[] = []
    let sent = 0
    for (const lane of ctx.lanes) {
      for (const { name, envelope, stage } of PRE_LOGON) {
        if (Date.now() > ctx.deadlineMs) break
        const connected = await connect(ctx, lane)
        if (!connected.ok) continue
        const conn = connected.conn
        const account = `drill-long-${sent}`
        let ready = true
        if (stage !== 'challenged') ready = (await rightProof(ctx, conn, account))?.ok === true
        if (ready && stage === 'terminal-verified') ready = (await terminalInfo(conn))?.terminalInfoReply?.ok === true
        if (ready) {
          const body = envelope.logon != null ? { logon: { ...envelope.logon, account } } : envelope
          const answer = await ask(conn, { ...body }, ['authenticateReply', 'terminalInfoReply', 'logonReply', 'heartbeat'])
          sent++
          if (answer === null && !conn.client.isClosed) unanswered.push(`${lane}: ${name}`)
        }
        await hangUp(conn)
      }
    }
    const session = await logOn(ctx, trader.lane, identity.traderAccount, identity.traderPassword)
    let loggedOn = session.step === 'done' && session.conn !== null
    let conn: DrillConnection | null = session.conn
    for (const { name, envelope } of POST_LOGON) {
      if (!loggedOn || conn === null || Date.now() > ctx.deadlineMs) break
      const order = envelope.newOrder
      const body = order != null ? { newOrder: { ...order, clientOrderId: order.clientOrderId === 0 ? ctx.nextClientOrderId() : order.clientOrderId } } : envelope
      const answer = await ask(conn, { ...body }, ['executionReport', 'heartbeat'])
      sent++
      if (answer === null && !conn.client.isClosed) unanswered.push(`${trader.lane} logged on: ${name}`)
      if (answer?.executionReport?.execType === ExecType.ACK) {
        reachedExchange.push(name)
        // Take it back off the book.
        conn.client.cancel(Number(answer.executionReport.clientOrderId))
        await nextMessage(conn, (m) => m.body === 'executionReport' && m.executionReport!.execType === ExecType.CANCELLED)
      }
      if (conn.client.isClosed) loggedOn = false
      // Under the terminal lane's session throttle.
      await new Promise((resolve) => setTimeout(resolve, 30))
    }
    await hangUp(conn)
    conn = null
    return {
      messagesSent: sent + 3,
      figures: { messages: sent, unanswered: unanswered.length, ordersReachedExchange: reachedExchange.length },
      checks: [
        check('every message answered or the connection closed', unanswered.length === 0, `${sent} messages, each refused or answered`,
          `no answer and no close for: ${unanswered.slice(0, 5).join('; ')}${unanswered.length > 5 ? ` (+${unanswered.length - 5})` : ''}`),
        check('no out-of-range order reaches the exchange', reachedExchange.length === 0, 'every out-of-range order was refused by the gateway',
          `acknowledged by the exchange: ${reachedExchange.join('; ')}`),
        check('the logged-on phase ran', session.step === 'done', 'logged on as the trader\'s account', `could not log on: ${session.step} refused: ${session.text}`),
      ],
    }
  },
}
