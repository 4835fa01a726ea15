/**
 * The account directory: the one place that answers "which instance holds
 * account A". The account is the shard key: its risk state lives with
 * exactly one instance, as CTP brokers assign accounts to fronts.
 *
 * Rule (docs/cluster.md, "Partitioning"):
 * 1. An entry in the directory wins: `cluster.directory.accounts`, or the
 *    NATS KV bucket when `directory.source` is `nats-kv`. An entry naming
 *    an instance not in `cluster.instances` is ignored (rule 2 applies),
 *    so every account always maps to a known instance.
 * 2. Otherwise rendezvous (highest-random-weight) hashing over the IDs in
 *    `cluster.instances`: the owner is the instance whose
 *    SHA-256(instanceId 0x00 accountId), as a 256-bit big-endian number,
 *    is the greatest (UTF-8 strings). Removing an instance moves only its
 *    own accounts; adding an account moves none.
 *
 * In KV mode the bucket is watched into the in-memory map, so a logon never
 * waits on NATS; while NATS is down the last known map is used, and it is
 * kept in `<runDir>/account-directory.json` so a restart without NATS still
 * knows it.
 */
import { createHash } from 'node:crypto'
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { Kvm, KvWatchInclude, type KV } from '@nats-io/kv'
import type { NatsConnection } from '@nats-io/transport-node'
import { GATEWAY_ID_PATTERN, type GatewayConfig } from '../config/config.js'
import type { LaneName } from '../protocol/lanes.js'
import type { NatsLink } from './nats-connection.js'

/** Most entries the directory holds (KV entries beyond are not taken); bounds the memory and the persisted file. */
export const MAX_DIRECTORY_ENTRIES = 100_000
/** The persisted map is not read if larger than this. */
export const MAX_DIRECTORY_FILE_BYTES = 16 * 1024 * 1024
/** KV history kept per key: every move of an account stays auditable this far back. */
export const DIRECTORY_KV_HISTORY = 10
/** Changes are written to disk at most this often. */
const PERSIST_DELAY_MS = 200

/** The weight of `instance` for `account`: the hex SHA-256 of instance 0x00 account (hex order is numeric order). */
export function rendezvousWeight (instance: string, account: string): string {
  return createHash('sha256').update(instance, 'utf8').update('\0').update(account, 'utf8').digest('hex')
}

/** The instance rendezvous hashing picks for `account` among `instances`; null when there are none. */
export function rendezvousOwner (account: string, instances: Iterable<string>): string | null {
  let best: string | null = null
  let bestWeight = ''
  for (const instance of instances) {
    const weight = rendezvousWeight(instance, account)
    // Ties cannot happen in practice (SHA-256); broken by the smaller ID so the answer never depends on order.
    if (best === null || weight > bestWeight || (weight === bestWeight && instance < best)) {
      best = instance
      bestWeight = weight
    }
  }
  return best
}

/**
 * The KV key of an account: base64url (RFC 4648 §5, no padding) of its
 * UTF-8 ID. Account IDs may hold `.` (a KV token separator) and other
 * characters KV keys do not allow; base64url uses only [A-Za-z0-9_-].
 */
export function directoryKey (account: string): string {
  return Buffer.from(account, 'utf8').toString('base64url')
}

/** The account of a KV key; null when the key is not one directoryKey() makes. */
export function accountOfKey (key: string): string | null {
  if (!/^[A-Za-z0-9_-]+$/.test(key)) return null
  const account = Buffer.from(key, 'base64url').toString('utf8')
  return directoryKey(account) === key ? account : null
}

export type DirectoryChange = { account: string, before: string, after: string }

/**
 * Who holds each account. `instances` are the cluster's IDs; `entries`
 * the directory's explicit account → instance map.
 */
export class AccountDirectory {
  private readonly entries = new Map<string, string>()
  private readonly listeners: Array<(change: DirectoryChange) => void> = []

  constructor (readonly self: string, readonly instances: readonly string[], entries: Iterable<[string, string]> = []) {
    for (const [account, instance] of entries) this.entries.set(account, instance)
  }

  /** The instance holding `account`: its entry if it names a known instance, else rendezvous hashing. */
  ownerOf (account: string): string {
    const entry = this.entries.get(account)
    if (entry !== undefined && this.instances.includes(entry)) return entry
    // Non-null: a cluster config lists at least this instance (config validation).
    return rendezvousOwner(account, this.instances) ?? this.self
  }

  isLocal (account: string): boolean {
    return this.ownerOf(account) === this.self
  }

  /** The explicit entries (not the hashed placements). */
  snapshot (): Record<string, string> {
    return Object.fromEntries(this.entries)
  }

  get size (): number {
    return this.entries.size
  }

  /** Called with every change of an account's owner (not of entries that change nothing). */
  onChange (listener: (change: DirectoryChange) => void): void {
    this.listeners.push(listener)
  }

  /** Sets (instance) or removes (null) an entry; false when refused because the directory is full. */
  set (account: string, instance: string | null): boolean {
    const before = this.ownerOf(account)
    if (instance === null) this.entries.delete(account)
    else if (!this.entries.has(account) && this.entries.size >= MAX_DIRECTORY_ENTRIES) return false
    else this.entries.set(account, instance)
    const after = this.ownerOf(account)
    if (before !== after) {
      for (const listener of this.listeners) {
        try {
          listener({ account, before, after })
        } catch {
          // A failing listener must not stop the others or the update.
        }
      }
    }
    return true
  }
}

/** The directory of a cluster config, from its config map (and, in KV mode, the persisted last known map over it). */
export function directoryOfConfig (config: GatewayConfig): AccountDirectory {
  const { cluster } = config
  const entries = new Map(Object.entries(cluster.directory.accounts))
  if (cluster.directory.source === 'nats-kv') {
    for (const [account, instance] of Object.entries(readPersistedDirectory(persistedDirectoryPath(config)))) entries.set(account, instance)
  }
  return new AccountDirectory(config.gatewayId, Object.keys(cluster.instances), entries)
}

/** The endpoint a client on `lane` is sent to for `instance`; '' when the config gives none. */
export function redirectEndpoint (config: GatewayConfig, instance: string, lane: LaneName): string {
  return config.cluster.instances[instance]?.endpoints[lane] ?? ''
}

export function persistedDirectoryPath (config: GatewayConfig): string {
  return join(config.runDir, 'account-directory.json')
}

/** The last known KV map; {} when missing, too large or unreadable (the config map and hashing still apply). */
export function readPersistedDirectory (path: string): Record<string, string> {
  try {
    if (statSync(path).size > MAX_DIRECTORY_FILE_BYTES) return {}
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'))
    if (typeof parsed !== 'object' || parsed === null) return {}
    const accounts = (parsed as { accounts?: unknown }).accounts
    if (typeof accounts !== 'object' || accounts === null) return {}
    const out: Record<string, string> = {}
    let n = 0
    for (const [account, instance] of Object.entries(accounts)) {
      if (typeof instance !== 'string' || ++n > MAX_DIRECTORY_ENTRIES) continue
      out[account] = instance
    }
    return out
  } catch {
    return {}
  }
}

/**
 * Keeps a directory in step with the NATS KV bucket: opens it (creating
 * it with history DIRECTORY_KV_HISTORY if missing), seeds keys missing
 * from the config map, and watches it. Never blocks a caller: it runs in
 * the background, and waits for NATS as long as NATS is away.
 */
export class KvDirectorySync {
  private kv: KV | null = null
  private stopped = false
  private persistTimer: NodeJS.Timeout | null = null
  private watcher: { stop: () => void } | null = null
  /** Resolves once the bucket's current entries have all been applied (the first time). */
  readonly synced: Promise<void>
  private markSynced: () => void = () => {}
  /** Entries of the bucket not taken (a bad key, or the directory full). */
  skipped = 0

  constructor (private readonly config: GatewayConfig, private readonly directory: AccountDirectory, private readonly link: NatsLink) {
    this.synced = new Promise((resolve) => { this.markSynced = resolve })
    directory.onChange(() => { this.schedulePersist() })
    void this.run()
  }

  /** The bucket, once open; null before. */
  bucket (): KV | null {
    return this.kv
  }

  /** Writes `account → instance` to the bucket (the account-move procedure's re-home step); resolves with the revision. */
  async put (account: string, instance: string): Promise<number> {
    const kv = this.kv ?? await this.open(await this.link.ready)
    return kv.put(directoryKey(account), instance)
  }

  async stop (): Promise<void> {
    this.stopped = true
    this.watcher?.stop()
    if (this.persistTimer !== null) {
      clearTimeout(this.persistTimer)
      this.persistTimer = null
      this.persist()
    }
  }

  private async open (nc: NatsConnection): Promise<KV> {
    const kv = await new Kvm(nc).create(this.config.cluster.directory.bucket, { history: DIRECTORY_KV_HISTORY })
    this.kv = kv
    return kv
  }

  private async run (): Promise<void> {
    // NATS may be away for long: each failure retries, the last known map serves meanwhile.
    while (!this.stopped) {
      try {
        const nc = await this.link.ready
        if (this.stopped) return
        const kv = this.kv ?? await this.open(nc)
        for (const [account, instance] of Object.entries(this.config.cluster.directory.accounts)) {
          // create() fails when the key exists: the bucket's value wins over the config's.
          await kv.create(directoryKey(account), instance).catch(() => 0)
        }
        await this.watch(kv)
        // The watch ended without stop(): watch again (values already known are applied again, harmlessly).
        if (this.stopped) return
        await new Promise((resolve) => setTimeout(resolve, 500).unref())
      } catch {
        if (this.stopped) return
        await new Promise((resolve) => setTimeout(resolve, 500).unref())
      }
    }
  }

  private async watch (kv: KV): Promise<void> {
    const seen = new Set<string>()
    const iterator = await kv.watch({ include: KvWatchInclude.LastValue })
    this.watcher = iterator
    // The initial values end when the watcher reports no pending messages;
    // an empty bucket reports nothing at all, so count it as synced here too.
    const status = await kv.status()
    if (status.values === 0) this.initialDone(seen)
    for await (const entry of iterator) {
      if (this.stopped) break
      const account = accountOfKey(entry.key)
      if (account === null) {
        this.skipped++
      } else if (entry.operation === 'PUT') {
        // A value is an instance ID (1-32 characters); anything else is not taken.
        const instance = entry.value.length <= 32 ? new TextDecoder().decode(entry.value) : ''
        if (!GATEWAY_ID_PATTERN.test(instance) || !this.directory.set(account, instance)) this.skipped++
        seen.add(account)
      } else {
        this.directory.set(account, null)
        seen.add(account)
      }
      if (entry.delta === 0) this.initialDone(seen)
    }
  }

  /** The bucket's current values are all in: entries the bucket no longer has (e.g. from the persisted file) go. */
  private initialDone (seen: Set<string>): void {
    for (const account of Object.keys(this.directory.snapshot())) {
      if (!seen.has(account) && this.config.cluster.directory.accounts[account] === undefined) this.directory.set(account, null)
    }
    this.markSynced()
    this.schedulePersist()
  }

  private schedulePersist (): void {
    if (this.persistTimer !== null) return
    this.persistTimer = setTimeout(() => {
      this.persistTimer = null
      this.persist()
    }, PERSIST_DELAY_MS)
    this.persistTimer.unref()
  }

  private persist (): void {
    const path = persistedDirectoryPath(this.config)
    try {
      writeFileSync(`${path}.tmp`, JSON.stringify({ savedAt: new Date().toISOString(), accounts: this.directory.snapshot() }), { mode: 0o600 })
      renameSync(`${path}.tmp`, path)
    } catch {
      // A run directory that cannot be written loses only the restart-without-NATS fallback.
    }
  }
}
