// Trading through a real gateway in end-to-end tests: config for extra
// accounts, logging on, placing orders and waiting for their outcome.
import { setTimeout as delay } from 'node:timers/promises'
import { GatehouseClient, type ClientIdentity, type LogonOptions, type OrderRequest } from '../../client/gatehouse-client.js'
import { DEFAULT_CONFIG } from '../../config/defaults.js'
import { DEMO_APP_ID, DEMO_AUTH_CODE, DEMO_TERMINAL_INFO } from '../../protocol/demo-identity.js'
import type { LaneName } from '../../protocol/lanes.js'
import { ExecType, Side, TimeInForce, wireInt, type ExecutionReport, type LogonReply } from '../../protocol/messages.js'
import type { TestGateway } from './gateway.js'

/**
 * The software and terminal every test logs on with unless it is testing
 * them: the client library has no default. The test gateways run the
 * embedded config, which registers this AppID and approves this terminal.
 */
export const TEST_IDENTITY: ClientIdentity = Object.freeze({ appId: DEMO_APP_ID, authCode: DEMO_AUTH_CODE, terminalInfo: DEMO_TERMINAL_INFO })

/** Every test account's password (the demo maker's hash). */
export const PASSWORD = 'maker-pass'

/** A config account that may use every lane with the demo software and terminal. */
export function tradingAccount (id: string): Record<string, unknown> {
  const demo = DEFAULT_CONFIG.accounts[0]!
  return {
    id,
    passwordHash: demo.passwordHash,
    lanes: ['terminal', 'platform', 'hft'],
    appIds: [DEMO_APP_ID],
    ipRanges: ['127.0.0.0/8', '::1/128'],
    programmaticReport: 'none',
    maxSessions: 4,
    // The hft lane rejects new fingerprints and the platform lane holds them.
    knownFingerprints: demo.knownFingerprints,
  }
}

export interface Trader {
  client: GatehouseClient
  account: string
  lane: LaneName
  logon: LogonReply
}

/** Connects to a lane and completes the look-through logon; throws if any step is refused. */
export async function logOn (gateway: TestGateway, lane: LaneName, account: string, options: Partial<LogonOptions> = {}): Promise<Trader> {
  const client = await GatehouseClient.connect(gateway.url(lane))
  const logon = await client.logon(account, PASSWORD, { ...TEST_IDENTITY, ...options })
  if (!logon.ok) {
    await client.close()
    throw new Error(`${account} could not log on to ${lane}: ${logon.failedStep ?? 'logon'} refused with ${logon.reason} (${logon.text})`)
  }
  return { client, account, lane, logon }
}

let lastClientOrderId = 0

/** Sends an order with a fresh client_order_id (unique across the test file). */
export function send (trader: Trader, order: Omit<OrderRequest, 'clientOrderId'>): number {
  const clientOrderId = ++lastClientOrderId
  trader.client.newOrder({ clientOrderId, ...order })
  return clientOrderId
}

export interface Placed {
  id: number
  /** The order's first report: ACK once the exchange has it, or REJECTED. */
  report: ExecutionReport
}

/** Sends an order and waits for its first report. */
export async function place (trader: Trader, order: Omit<OrderRequest, 'clientOrderId'>): Promise<Placed> {
  const id = send(trader, order)
  return { id, report: await trader.client.report(id) }
}

/** The report that ends an order: FILL, CANCELLED or REJECTED. */
export async function finished (trader: Trader, id: number): Promise<ExecutionReport> {
  const envelope = await trader.client.next((m) => m.body === 'executionReport' &&
    wireInt(m.executionReport!.clientOrderId) === id &&
    (m.executionReport!.execType === ExecType.FILL || m.executionReport!.execType === ExecType.CANCELLED ||
      m.executionReport!.execType === ExecType.REJECTED))
  return envelope.executionReport as ExecutionReport
}

/** Cancels a working order and waits for its CANCELLED report. */
export async function cancel (trader: Trader, id: number): Promise<ExecutionReport> {
  trader.client.cancel(id)
  return trader.client.report(id, ExecType.CANCELLED)
}

/**
 * Resolves once the wall clock has reached `timeMs`. For waiting out a
 * sliding window whose end is computed from when events happened: timers
 * may fire a little early against Date.now(), so it checks and waits again.
 */
export async function untilClock (timeMs: number): Promise<void> {
  while (Date.now() < timeMs) await delay(timeMs - Date.now())
}

/**
 * A well-behaved client that trades while a test abuses the lane: logged
 * on as demo-taker, and true from trades() when its next order (a FAK buy
 * at 3000) is acknowledged.
 */
export async function wellBehavedClient (url: string): Promise<{ client: GatehouseClient, trades: () => Promise<boolean> }> {
  const client = await GatehouseClient.connect(url)
  const logon = await client.logon('demo-taker', 'taker-pass', TEST_IDENTITY)
  if (!logon.ok) throw new Error(`the well-behaved client could not log on: ${logon.text}`)
  let orderId = 0
  return {
    client,
    async trades () {
      const id = ++orderId
      client.newOrder({ clientOrderId: id, instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 1, timeInForce: TimeInForce.FAK })
      const ack = await client.report(id, ExecType.ACK)
      return wireInt(ack.clientOrderId) === id
    },
  }
}
