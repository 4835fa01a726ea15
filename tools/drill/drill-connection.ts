// Attacker-side connections for the scenarios: GatehouseClient from a
// chosen loopback source address, with every wait bounded and every
// failure returned as a value (a scenario counts refusals; it never
// throws on one).
import { randomBytes } from 'node:crypto'
import { GatehouseClient, type AuthenticateReply, type TerminalInfoInit } from '../../client/gatehouse-client.js'
import { DEMO_TERMINAL_INFO } from '../../protocol/demo-identity.js'
import type { ClientEnvelope, LogonReply } from '../../protocol/messages.js'
import type { DrillLane } from './drill-settings.js'
import type { ScenarioContext } from './scenario.js'

/** How long any single answer is awaited. */
export const ANSWER_TIMEOUT_MS = 3000

export interface DrillConnection {
  client: GatehouseClient
  address: string | undefined
  /** Set when the gateway (or the network) closed the socket. */
  closed: { code: number, reason: string } | null
}

export type Connected = { ok: true, conn: DrillConnection } | { ok: false, error: string }

export async function connect (ctx: ScenarioContext, lane: DrillLane, address = ctx.nextAddress()): Promise<Connected> {
  try {
    const client = await GatehouseClient.connect(ctx.laneUrl(lane), { localAddress: address, handshakeTimeoutMs: ANSWER_TIMEOUT_MS })
    const conn: DrillConnection = { client, address, closed: null }
    client.on('close', (code: number, reason: string) => { conn.closed = { code, reason } })
    // A refused or reset socket is a figure, not a crash of the drill.
    client.on('transport-error', () => {})
    return { ok: true, conn }
  } catch (err) {
    const message = (err as Error).message
    // ws: "Unexpected server response: 429"
    const status = /server response: (\d+)/.exec(message)
    return { ok: false, error: status !== null ? `HTTP ${status[1]}` : message }
  }
}

/** The next message matching `match` from now on; null on timeout or close. */
export async function nextMessage (conn: DrillConnection, match: (m: ClientEnvelope) => boolean, timeoutMs = ANSWER_TIMEOUT_MS): Promise<ClientEnvelope | null> {
  if (conn.client.isClosed) return null
  let onClose: (() => void) | undefined
  const closed = new Promise<null>((resolve) => { onClose = () => { resolve(null) }; conn.client.once('close', onClose) })
  try {
    return await Promise.race([conn.client.nextNew(match, timeoutMs).catch(() => null), closed])
  } finally {
    conn.client.off('close', onClose!)
  }
}

/** Sends an envelope and waits for the answer whose body is `body` (or a Reject). */
export async function ask (conn: DrillConnection, envelope: Parameters<GatehouseClient['send']>[0], bodies: string[], timeoutMs = ANSWER_TIMEOUT_MS): Promise<ClientEnvelope | null> {
  const answer = nextMessage(conn, (m) => bodies.includes(m.body ?? '') || m.body === 'reject', timeoutMs)
  if (conn.client.isClosed) return null
  conn.client.send(envelope)
  return answer
}

/** Authenticate with a random (wrong) proof. */
export async function wrongProof (conn: DrillConnection, appId: string, account: string): Promise<AuthenticateReply | null> {
  const answer = await ask(conn, { authenticate: { appId, account, proof: randomBytes(32) } }, ['authenticateReply'])
  return answer?.body === 'authenticateReply' ? answer.authenticateReply as AuthenticateReply : null
}

/** Authenticate with the right proof over the connection's latest challenge. */
export async function rightProof (ctx: ScenarioContext, conn: DrillConnection, account: string): Promise<AuthenticateReply | null> {
  const { appId, authCode } = ctx.settings.identity
  try {
    return await conn.client.authenticate({ appId, authCode }, account)
  } catch {
    return null
  }
}

export async function terminalInfo (conn: DrillConnection, info: TerminalInfoInit = DEMO_TERMINAL_INFO): Promise<ClientEnvelope | null> {
  return ask(conn, { terminalInfo: { ...info, collectedTimeUs: Date.now() * 1000 } }, ['terminalInfoReply'])
}

export async function password (conn: DrillConnection, account: string, secret: string): Promise<LogonReply | null> {
  const answer = await ask(conn, { logon: { account, password: secret } }, ['logonReply'], 10_000)
  return answer?.body === 'logonReply' ? answer.logonReply as LogonReply : null
}

export interface LogonOutcome {
  conn: DrillConnection | null
  /** 'ok', the refused step's reason name, or what went wrong. */
  /** The step that was refused; 'ready' when stopped before the password (secret null); 'done' when logged on. */
  step: 'connect' | 'authenticate' | 'terminal-info' | 'logon' | 'ready' | 'done'
  reason: number
  text: string
  ms: number
}

/** The whole look-through logon with the drill's identity, from `address`; with secret null it stops before the password. */
export async function logOn (ctx: ScenarioContext, lane: DrillLane, account: string, secret: string | null, address = ctx.nextAddress(), info: TerminalInfoInit = DEMO_TERMINAL_INFO): Promise<LogonOutcome> {
  const started = performance.now()
  const elapsed = (): number => performance.now() - started
  const connected = await connect(ctx, lane, address)
  if (!connected.ok) return { conn: null, step: 'connect', reason: 0, text: connected.error, ms: elapsed() }
  const conn = connected.conn
  const auth = await rightProof(ctx, conn, account)
  if (auth === null || !auth.ok) return { conn, step: 'authenticate', reason: auth?.reason ?? 0, text: auth?.text ?? 'no answer', ms: elapsed() }
  const terminal = await terminalInfo(conn, info)
  const terminalReply = terminal?.terminalInfoReply
  if (terminalReply == null || !terminalReply.ok) return { conn, step: 'terminal-info', reason: terminalReply?.reason ?? terminal?.reject?.reason ?? 0, text: terminalReply?.text ?? 'no answer', ms: elapsed() }
  if (secret === null) return { conn, step: 'ready', reason: 0, text: '', ms: elapsed() }
  const reply = await password(conn, account, secret)
  if (reply === null || !reply.ok) return { conn, step: 'logon', reason: reply?.reason ?? 0, text: reply?.text ?? 'no answer', ms: elapsed() }
  return { conn, step: 'done', reason: 0, text: '', ms: elapsed() }
}

/**
 * The lane where a terminal new to an account gets through TerminalInfo
 * (the terminal lane lets new fingerprints in with an alert; platform
 * holds them, hft rejects them), so a made-up name reaches the password.
 */
export function strangerLane (ctx: ScenarioContext): DrillLane {
  return ctx.lanes.includes('terminal') ? 'terminal' : ctx.settings.trader.lane
}

/** A terminal no account has approved: the demo terminal on another host, named per run so it is new to every account. */
export function strangerTerminal (tag: string): TerminalInfoInit {
  return { ...DEMO_TERMINAL_INFO, deviceName: `drill-${tag}-${randomBytes(4).toString('hex')}`, mac: '02:42:ac:11:00:99' }
}

/** The median of some numbers (null for none). */
export function median (values: readonly number[]): number | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Closes without waiting longer than a moment; never throws. */
export async function hangUp (conn: DrillConnection | null): Promise<void> {
  if (conn === null || conn.client.isClosed) return
  await Promise.race([conn.client.close().catch(() => {}), new Promise((resolve) => setTimeout(resolve, 1000).unref())])
}

/** Runs `task` over `items` with at most `parallel` at a time, stopping new ones past `deadlineMs`. */
export async function pool<T, R> (items: readonly T[], parallel: number, deadlineMs: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = []
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length && Date.now() < deadlineMs) {
      const index = next++
      results[index] = await task(items[index]!, index)
    }
  }
  await Promise.all(Array.from({ length: Math.min(parallel, items.length) }, worker))
  return results.filter((r) => r !== undefined)
}

/** "AUTH_FAILED" for 63 etc. */
export { reasonName } from '../../protocol/messages.js'
