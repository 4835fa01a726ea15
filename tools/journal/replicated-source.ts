// `--nats URL` in place of DIR for `gatehouse journal verify | search |
// export`: the journal as replicated to JetStream (cluster/journal-
// replicator.ts), read across instances. The stream's messages carry
// segment bytes verbatim, so each instance's segments are rebuilt byte for
// byte in a fresh private temporary directory laid out as a journal
// directory (<tmp>/<instance>/<stream>/<segment file>), and the same tool
// code that reads a local directory runs on it: a record's chain verifies
// the same in both. The directory is removed afterwards.
//
// Budgets: at most --max-bytes are fetched (refused past it, with
// GH_ERR_REPLICA_TOO_LARGE) and the fetch must end within --nats-timeout-ms
// (GH_ERR_REPLICA_FETCH). Message headers come from whoever can publish to
// the subject: a bad one is a problem of the replica, reported, never
// trusted as a path.
import { closeSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import { jetstreamManager, type JetStreamManager, type MsgRequest } from '@nats-io/jetstream'
import { GatehouseError } from '../../protocol/gatehouse-error.js'
import { DEFAULT_CONFIG } from '../../config/defaults.js'
import { GATEWAY_ID_PATTERN, NATS_NAME_PATTERN, NATS_SERVER_PATTERN } from '../../config/config.js'
import { HDR_OFFSET, HDR_SEGMENT } from '../../cluster/journal-replicator.js'
import { JOURNAL_DIR_MODE, JOURNAL_FILE_MODE, STREAM_NAME_PATTERN, parseSegmentFileName } from '../../journal/segment-names.js'
import { MAX_SEGMENT_FILE_BYTES } from '../../journal/read-bounded-file.js'
import { UsageError } from '../../platform/cli-kit.js'

import { DEFAULT_REPLICA_MAX_BYTES, DEFAULT_REPLICA_TIMEOUT_MS } from './replica-help.js'
export { DEFAULT_REPLICA_MAX_BYTES, DEFAULT_REPLICA_TIMEOUT_MS }
/** An instance ID as config/config.ts allows it; anything else in a subject is not a directory name here. */

/** The replica would pass --max-bytes. */
export class ReplicaTooLargeError extends GatehouseError {
  declare readonly code: 'GH_ERR_REPLICA_TOO_LARGE'
  constructor (message: string) {
    super('GH_ERR_REPLICA_TOO_LARGE', message)
  }
}

/** NATS could not be reached, the stream is missing, or the fetch ran past its time budget. */
export class ReplicaFetchError extends GatehouseError {
  declare readonly code: 'GH_ERR_REPLICA_FETCH'
  constructor (message: string, options?: { cause?: unknown }) {
    super('GH_ERR_REPLICA_FETCH', message, options)
  }
}

export interface ReplicaSourceOptions {
  servers: string[]
  stream: string
  subjectPrefix: string
  /** Only these instances (default: every instance found in the stream). */
  instances: string[]
  maxBytes: number
  timeoutMs: number
}

/** Something in the stream that the rebuilt files alone would not show: a message that overlaps, skips, or names no segment. */
export interface ReplicaProblem {
  instance: string
  subject: string
  /** The message's sequence in the JetStream stream. */
  streamSeq: number
  message: string
}

export interface Replica {
  /** The temporary root; <root>/<instance> is each instance's journal directory. */
  root: string
  instances: string[]
  problems: ReplicaProblem[]
  bytes: number
  messages: number
  remove: () => void
}

/** The options --nats brings, taken out of argv; what is left goes to the tool with a DIR. */
export const REPLICA_VALUE_OPTIONS = ['nats', 'nats-stream', 'nats-subject-prefix', 'instance', 'max-bytes', 'nats-timeout-ms'] as const


/** Splits argv into the replica's options and the tool's own; null when argv has no --nats. */
export function splitReplicaArgs (argv: readonly string[]): { options: ReplicaSourceOptions, rest: string[] } | null {
  if (!argv.some((a) => a === '--nats' || a.startsWith('--nats='))) return null
  const taken = new Map<string, string[]>()
  const rest: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const eq = arg.indexOf('=')
    const name = arg.startsWith('--') ? arg.slice(2, eq < 0 ? undefined : eq) : ''
    if (!(REPLICA_VALUE_OPTIONS as readonly string[]).includes(name)) {
      rest.push(arg)
      continue
    }
    let value: string
    if (eq >= 0) {
      value = arg.slice(eq + 1)
    } else {
      const next = argv[i + 1]
      if (next === undefined || next.startsWith('--')) throw new UsageError(`--${name} needs a value`)
      value = next
      i++
    }
    taken.set(name, [...(taken.get(name) ?? []), value])
  }
  const once = (name: string): string | undefined => {
    const values = taken.get(name)
    if (values !== undefined && values.length > 1) throw new UsageError(`--${name} given twice; give it once`)
    return values?.[0]
  }
  const servers = taken.get('nats') ?? []
  for (const s of servers) if (!NATS_SERVER_PATTERN.test(s)) throw new UsageError(`--nats: expected nats://host:port; got ${s}`)
  const instances = taken.get('instance') ?? []
  for (const id of instances) if (!GATEWAY_ID_PATTERN.test(id)) throw new UsageError(`--instance: expected a gatewayId (letters, digits, "_", "-"); got ${id}`)
  const positive = (name: string, fallback: number): number => {
    const text = once(name)
    if (text === undefined) return fallback
    const n = Number(text)
    if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--${name}: expected a whole number above 0; got ${text}`)
    return n
  }
  const stream = once('nats-stream') ?? DEFAULT_CONFIG.cluster.replication.stream
  if (!NATS_NAME_PATTERN.test(stream)) throw new UsageError(`--nats-stream: expected a stream name (letters, digits, "_", "-"); got ${stream}`)
  const subjectPrefix = once('nats-subject-prefix') ?? DEFAULT_CONFIG.cluster.replication.subjectPrefix
  if (!NATS_NAME_PATTERN.test(subjectPrefix)) throw new UsageError(`--nats-subject-prefix: expected one subject token; got ${subjectPrefix}`)
  return {
    options: {
      servers,
      stream,
      subjectPrefix,
      instances,
      maxBytes: positive('max-bytes', DEFAULT_REPLICA_MAX_BYTES),
      timeoutMs: positive('nats-timeout-ms', DEFAULT_REPLICA_TIMEOUT_MS),
    },
    rest,
  }
}

/** Fetches the stream into a fresh temporary directory. The caller must call remove(). */
export async function fetchReplica (options: ReplicaSourceOptions): Promise<Replica> {
  const deadline = Date.now() + options.timeoutMs
  let nc: NatsConnection
  try {
    nc = await connect({ servers: options.servers, name: 'gatehouse-journal-tool', timeout: Math.min(options.timeoutMs, 10_000), maxReconnectAttempts: 0 })
  } catch (err) {
    throw new ReplicaFetchError(`cannot connect to NATS at ${options.servers.join(', ')}: ${(err as Error).message}`, { cause: err })
  }
  const root = mkdtempSync(join(tmpdir(), 'gatehouse-replica-'))
  const replica: Replica = {
    root, instances: [], problems: [], bytes: 0, messages: 0,
    remove: () => { rmSync(root, { recursive: true, force: true }) },
  }
  try {
    const jsm = await withDeadline(jetstreamManager(nc), deadline, 'opening JetStream')
    let subjects: Record<string, number>
    try {
      const info = await withDeadline(jsm.streams.info(options.stream, { subjects_filter: `${options.subjectPrefix}.>` }), deadline, 'reading the stream')
      subjects = info.state.subjects ?? {}
    } catch (err) {
      if (err instanceof ReplicaFetchError) throw err
      throw new ReplicaFetchError(`cannot read stream ${options.stream}: ${(err as Error).message}`, { cause: err })
    }
    const wanted = options.instances.length > 0 ? new Set(options.instances) : null
    const found = new Set<string>()
    for (const subject of Object.keys(subjects).sort()) {
      const tokens = subject.split('.')
      const instance = tokens[1] ?? ''
      const stream = tokens[2] ?? ''
      if (tokens.length !== 3 || !GATEWAY_ID_PATTERN.test(instance) || !STREAM_NAME_PATTERN.test(stream)) {
        replica.problems.push({ instance, subject, streamSeq: 0, message: `subject ${subject} is not <prefix>.<instance>.<journal stream>; its messages were not read` })
        continue
      }
      if (wanted !== null && !wanted.has(instance)) continue
      found.add(instance)
      await fetchSubject(jsm, options, replica, subject, instance, stream, deadline)
    }
    for (const id of options.instances) {
      if (!found.has(id)) throw new ReplicaFetchError(`instance ${id} has no messages in stream ${options.stream}`)
    }
    replica.instances = [...found].sort()
    if (replica.instances.length === 0) throw new ReplicaFetchError(`stream ${options.stream} holds no journal messages under ${options.subjectPrefix}.>`)
    return replica
  } catch (err) {
    replica.remove()
    throw err
  } finally {
    await nc.close().catch(() => {})
  }
}

/** One subject's messages in stream order, each written at its offset in its segment file. */
async function fetchSubject (jsm: JetStreamManager, options: ReplicaSourceOptions, replica: Replica, subject: string, instance: string, stream: string,
  deadline: number): Promise<void> {
  const dir = join(replica.root, instance, stream)
  mkdirSync(dir, { recursive: true, mode: JOURNAL_DIR_MODE })
  const sizes = new Map<string, number>()
  let seq = 0
  for (;;) {
    // next_by_subj: the first message of the subject at or after seq (NATS 2.9's STREAM.MSG.GET).
    const request = { seq: seq + 1, next_by_subj: subject } as unknown as MsgRequest
    const m = await withDeadline(jsm.streams.getMessage(options.stream, request), deadline, `fetching ${subject}`)
    if (m === null) return
    seq = m.seq
    replica.messages++
    replica.bytes += m.data.length
    if (replica.bytes > options.maxBytes) {
      throw new ReplicaTooLargeError(`the replica of stream ${options.stream} passes --max-bytes ${options.maxBytes}; give a larger --max-bytes or fewer --instance`)
    }
    const problem = (message: string): void => { replica.problems.push({ instance, subject, streamSeq: m.seq, message }) }
    const file = parseSegmentFileName(m.header?.get(HDR_SEGMENT) ?? '')
    const offset = Number(m.header?.get(HDR_OFFSET) ?? '')
    if (file === null || file.stream !== stream) {
      problem(`message names segment "${m.header?.get(HDR_SEGMENT) ?? ''}", not a segment of stream ${stream}: not written`)
      continue
    }
    if (!Number.isSafeInteger(offset) || offset < 0 || offset + m.data.length > MAX_SEGMENT_FILE_BYTES) {
      problem(`message for ${file.file} has offset "${m.header?.get(HDR_OFFSET) ?? ''}": not written`)
      continue
    }
    const size = sizes.get(file.file) ?? 0
    if (offset < size) problem(`message for ${file.file} at offset ${offset} overlaps ${size - offset} bytes already there (a duplicate or a forged message); its bytes are written over them`)
    if (offset > size) {
      // Not written: a forged offset far past the end would otherwise make
      // a sparse file of any size for verify to read.
      problem(`message for ${file.file} at offset ${offset} leaves a gap after byte ${size} (messages are missing); not written`)
      continue
    }
    // pwrite at the offset the message names: a forged message lands
    // where it claims to belong, and verify names the record it changed.
    const fd = openSync(join(dir, file.file), constants.O_RDWR | constants.O_CREAT, JOURNAL_FILE_MODE)
    try {
      writeSync(fd, m.data, 0, m.data.length, offset)
    } finally {
      closeSync(fd)
    }
    sizes.set(file.file, Math.max(size, offset + m.data.length))
  }
}

async function withDeadline<T> (promise: Promise<T>, deadline: number, what: string): Promise<T> {
  const left = deadline - Date.now()
  if (left <= 0) throw new ReplicaFetchError(`the fetch ran past --nats-timeout-ms while ${what}`)
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new ReplicaFetchError(`the fetch ran past --nats-timeout-ms while ${what}`)) }, left) }),
    ])
  } catch (err) {
    if (err instanceof GatehouseError) throw err
    throw new ReplicaFetchError(`${what}: ${(err as Error).message}`, { cause: err })
  } finally {
    clearTimeout(timer)
  }
}
