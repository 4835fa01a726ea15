// One NATS connection per thread that needs one, opened the same way
// everywhere: the servers and token from `cluster.nats`, never giving up
// (a NATS outage must never stop trading or the instance's start; what
// waits for NATS catches up when it returns), and its state exposed for
// /metrics and alerts.
import { readFileSync } from 'node:fs'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import type { GatewayConfig } from '../config/config.js'

export type NatsSettings = GatewayConfig['cluster']['nats']

export interface NatsLink {
  /** Resolves at the first successful connect; rejects only if the link is closed before. */
  readonly ready: Promise<NatsConnection>
  /** The connection once `ready` resolved, else null. */
  connection: () => NatsConnection | null
  /** True between a (re)connect and the next disconnect. */
  isConnected: () => boolean
  /** Called on every change of `isConnected()`. */
  onChange: (listener: (connected: boolean) => void) => void
  close: () => Promise<void>
}

/**
 * Starts connecting to `settings.servers` and returns at once. Each server
 * is tried in turn, without limit, first connect included; `name` shows in
 * the server's connection list (`<gatewayId>-<role>`).
 */
export function startNats (settings: NatsSettings, name: string): NatsLink {
  const token = settings.tokenFile === null ? undefined : readFileSync(settings.tokenFile, 'utf8').trim()
  let connection: NatsConnection | null = null
  let connected = false
  let closed = false
  const listeners: Array<(connected: boolean) => void> = []
  const set = (value: boolean): void => {
    if (value === connected) return
    connected = value
    for (const listener of listeners) listener(value)
  }
  const ready = connect({
    servers: settings.servers,
    name,
    ...(token === undefined ? {} : { token }),
    timeout: settings.connectTimeoutMs,
    waitOnFirstConnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    reconnectJitter: 100,
    pingInterval: 5_000,
    maxPingOut: 2,
  }).then(async (nc) => {
    if (closed) {
      await nc.close()
      throw new Error('closed before connecting')
    }
    connection = nc
    set(true)
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === 'disconnect' || status.type === 'close') set(false)
        else if (status.type === 'reconnect') set(true)
      }
    })().catch(() => { set(false) })
    void nc.closed().then(() => { set(false) })
    return nc
  })
  // Nobody may be awaiting `ready`; its rejection at close is expected.
  ready.catch(() => {})
  return {
    ready,
    connection: () => connection,
    isConnected: () => connected && connection !== null && !connection.isClosed(),
    onChange: (listener) => { listeners.push(listener) },
    close: async () => {
      closed = true
      const nc = connection
      if (nc !== null && !nc.isClosed()) await nc.drain().catch(async () => nc.close())
      set(false)
    },
  }
}
