// Publishes this instance's journal to a JetStream stream. It runs on its
// own thread (replicator-worker.ts) and never talks to a lane: it tails the
// committed segment files of every journal stream, as a tool would read
// them, so the lanes write exactly as they do without NATS. The local
// segment stays the write-ahead source; the stream is a copy that may lag.
//
// Each message carries segment bytes verbatim (journal/committed-chunks.ts):
// message 0 of a segment is its header record, later ones runs of whole
// records up to a batch end. A reader that appends the messages of one
// subject in order rebuilds each segment file byte for byte, and the
// journal's own verify checks it.
//
// Exactly once, whatever happens to NATS or to this process:
// - The resume point is read from the stream itself: the last message of
//   the subject (its segment, offset and length). Nothing local records
//   what was published, so a crash here or a lost ack cannot disagree with it.
// - Nats-Msg-Id is `<instance>/<segment file>/<first seq>`: a publish that
//   is retried, or that reaches the server after a reconnect, is dropped by
//   the stream's duplicate window.
// - The first message after each resume is sent alone with the subject's
//   last stream sequence as expected (Nats-Expected-Last-Subject-Sequence),
//   so a message that arrived behind the resume's back fails it instead of
//   being followed by an overlapping one. Pipelining starts after its ack.
// - Any failed publish, a duplicate ack or a lost connection stops the
//   subject; once its in-flight publishes have settled it resumes from the
//   stream again.
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs'
import { jetstream, jetstreamManager, DiscardPolicy, RetentionPolicy, StorageType, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream'
import { headers, type NatsConnection } from '@nats-io/transport-node'
import { committedChunks, type CommittedChunk } from '../journal/committed-chunks.js'
import { listSegments, listStreamDirs, parseSegmentFileName, type SegmentFile } from '../journal/segment-names.js'
import { recordTimeUsAt, RECORD_OVERHEAD_BYTES } from '../journal/record-format.js'
import type { GatewayConfig } from '../config/config.js'
import type { NatsLink } from './nats-connection.js'

export type ReplicationSettings = GatewayConfig['cluster']['replication']

/** Message headers: where the bytes sit in which local segment. */
export const HDR_SEGMENT = 'Gh-Segment'
export const HDR_OFFSET = 'Gh-Offset'
export const HDR_FIRST_SEQ = 'Gh-First-Seq'
export const HDR_LAST_SEQ = 'Gh-Last-Seq'
/** Present (value 1) on the message that ends with the segment seal. */
export const HDR_SEALED = 'Gh-Sealed'

/** JetStream's duplicate window: longer than any publish retry, so a retried message is dropped. */
export const DUPLICATE_WINDOW_MS = 120_000
/** How long one publish waits for its ack before the subject resumes from the stream. */
export const PUBLISH_TIMEOUT_MS = 5_000
/** How often new stream directories (a lane enabled later) are looked for. */
const RESCAN_STREAMS_MS = 1_000

/** The subject of one journal stream of one instance. */
export function replicationSubject (settings: Pick<ReplicationSettings, 'subjectPrefix'>, instance: string, stream: string): string {
  return `${settings.subjectPrefix}.${instance}.${stream}`
}

/** Nats-Msg-Id of a message: the record ID of its first record. */
export function replicationMsgId (instance: string, file: string, chunk: Pick<CommittedChunk, 'start' | 'firstSeq'>): string {
  return chunk.start === 0 ? `${instance}/${file}/header` : `${instance}/${file}/${chunk.firstSeq}`
}

export interface StreamReplicationStatus {
  stream: string
  subject: string
  /** Committed local bytes not yet acknowledged by JetStream. */
  lagBytes: number
  /** Age of the oldest of them (its record's journal time), 0 when none. */
  lagSeconds: number
  /** Records acknowledged since start (segment headers and seals included). */
  publishedRecords: number
  /** A record that fails its check locally stops the subject there; its offset, else null. */
  damagedAt: string | null
}

export interface ReplicatorStatus {
  connected: boolean
  /** Publishes that failed, timed out or came back duplicate, and resumes that failed, since start. */
  publishErrors: number
  streams: StreamReplicationStatus[]
}

interface Position {
  /** Segment number, or null before the first segment. */
  segment: number | null
  offset: number
  /** The segment at `segment` is complete (its seal was published). */
  sealed: boolean
}

interface Tail {
  stream: string
  dir: string
  subject: string
  /** Must read the stream's last message before publishing. */
  resume: boolean
  /** A publish failed (or the link dropped): publish nothing more until in-flight settles, then resume. */
  failed: boolean
  /** The first message after a resume goes alone, with the expected last subject sequence. */
  expectLastSeq: number | null
  awaitingFirstAck: boolean
  acked: Position
  sent: Position
  inFlight: number
  /** Bumped by each resume: acks of an earlier generation move nothing. */
  generation: number
  publishedRecords: number
  damagedAt: string | null
  /** The stream's segments as last listed: listed again only when the one wanted is not in it (a journal keeps years of them). */
  segments: SegmentFile[]
}

export interface ReplicatorOptions {
  journalDir: string
  instance: string
  settings: ReplicationSettings
  link: NatsLink
  /** Test hook: wall clock in µs for lag. */
  nowUs?: () => number
}

/**
 * Tails the journal under `journalDir` and publishes it. start() returns
 * at once; nothing here throws out: failures are counted and retried.
 */
export class JournalReplicator {
  private readonly tails = new Map<string, Tail>()
  private timer: NodeJS.Timeout | null = null
  private busy = false
  private stopped = false
  private lastRescanMs = 0
  private nc: NatsConnection | null = null
  private js: JetStreamClient | null = null
  private jsm: JetStreamManager | null = null
  private streamReady = false
  private inFlight = 0
  publishErrors = 0
  private readonly nowUs: () => number

  constructor (private readonly options: ReplicatorOptions) {
    this.nowUs = options.nowUs ?? (() => Date.now() * 1000)
    options.link.onChange((connected) => {
      // Whatever was in flight may or may not have been stored: resume
      // from what the stream holds once those publishes settle.
      for (const tail of this.tails.values()) tail.failed = true
      if (!connected) this.streamReady = false
    })
  }

  start (): this {
    const tick = (): void => {
      if (this.stopped) return
      void this.tick().finally(() => {
        if (!this.stopped) this.timer = setTimeout(tick, this.options.settings.pollIntervalMs)
      })
    }
    tick()
    return this
  }

  /**
   * Stops polling. With `drainMs`, first publishes what is committed (the
   * seals the lanes wrote as they stopped included) while NATS is
   * connected, for at most that long; whatever is left is published by
   * the next start, which resumes from the stream.
   */
  async stop (drainMs = 0): Promise<void> {
    this.stopped = true
    if (this.timer !== null) clearTimeout(this.timer)
    const until = Date.now() + drainMs
    this.lastRescanMs = 0
    while (Date.now() < until && this.options.link.isConnected()) {
      await this.tick()
      if (this.caughtUp()) return
      await new Promise((resolve) => setTimeout(resolve, Math.min(this.options.settings.pollIntervalMs, 20)))
    }
  }

  /** True when every committed byte of every stream has been acknowledged. */
  caughtUp (): boolean {
    return this.inFlight === 0 && this.status().streams.every((s) => s.lagBytes === 0)
  }

  /** One pass: find streams, make sure the JetStream stream exists, resume and publish what is committed. */
  async tick (): Promise<void> {
    if (this.busy) return
    this.busy = true
    try {
      this.rescan()
      const link = this.options.link
      const nc = link.connection()
      if (nc === null || !link.isConnected()) return
      if (nc !== this.nc) {
        this.nc = nc
        this.js = jetstream(nc)
        this.jsm = await jetstreamManager(nc)
        this.streamReady = false
      }
      if (!this.streamReady) {
        await this.ensureStream()
        this.streamReady = true
      }
      for (const tail of this.tails.values()) {
        if (tail.failed && tail.inFlight === 0) {
          tail.failed = false
          tail.resume = true
        }
        if (tail.resume && tail.inFlight === 0) await this.resume(tail)
      }
      for (const tail of this.tails.values()) this.pump(tail)
    } catch {
      // NATS went away mid-pass, or the stream could not be created: the
      // next pass tries again; the status shows the link and the lag.
      this.publishErrors++
      this.streamReady = false
    } finally {
      this.busy = false
    }
  }

  private rescan (): void {
    const nowMs = Date.now()
    if (nowMs - this.lastRescanMs < RESCAN_STREAMS_MS && this.tails.size > 0) return
    this.lastRescanMs = nowMs
    for (const { stream, dir } of listStreamDirs(this.options.journalDir)) {
      if (this.tails.has(stream)) continue
      const start: Position = { segment: null, offset: 0, sealed: false }
      this.tails.set(stream, {
        stream, dir, subject: replicationSubject(this.options.settings, this.options.instance, stream),
        resume: true, failed: false, expectLastSeq: null, awaitingFirstAck: false,
        acked: { ...start }, sent: { ...start }, inFlight: 0, generation: 0, publishedRecords: 0, damagedAt: null, segments: [],
      })
    }
  }

  /** Creates the stream if it is missing; keeps an existing one's retention (the broker's policy). */
  private async ensureStream (): Promise<void> {
    const jsm = this.jsm!
    const { stream, subjectPrefix, replicas } = this.options.settings
    try {
      await jsm.streams.info(stream)
    } catch (err) {
      if ((err as { name?: string }).name !== 'StreamNotFoundError' && !/stream not found/i.test((err as Error).message)) throw err
      await jsm.streams.add({
        name: stream,
        subjects: [`${subjectPrefix}.>`],
        storage: StorageType.File,
        num_replicas: replicas,
        retention: RetentionPolicy.Limits,
        // No limits that drop records: -1 is unlimited; a broker sets max_age to its retention.
        max_msgs: -1,
        max_bytes: -1,
        max_age: 0,
        discard: DiscardPolicy.Old,
        duplicate_window: DUPLICATE_WINDOW_MS * 1_000_000,
        allow_direct: true,
      })
    }
  }

  /** Reads where the subject ends in the stream and continues from there. */
  private async resume (tail: Tail): Promise<void> {
    const last = await this.jsm!.streams.getMessage(this.options.settings.stream, { last_by_subj: tail.subject })
    let position: Position = { segment: null, offset: 0, sealed: false }
    if (last !== null) {
      const file = parseSegmentFileName(last.header.get(HDR_SEGMENT))
      const offset = Number(last.header.get(HDR_OFFSET))
      if (file !== null && Number.isSafeInteger(offset)) {
        position = { segment: file.segment, offset: offset + last.data.length, sealed: last.header.get(HDR_SEALED) === '1' }
      }
    }
    tail.acked = { ...position }
    tail.sent = { ...position }
    tail.expectLastSeq = last === null ? 0 : last.seq
    tail.awaitingFirstAck = false
    tail.resume = false
    tail.generation++
  }

  /** The segment and offset after `at`, among the local segments; null when nothing is there yet. */
  private nextSource (tail: Tail, at: Position): { file: SegmentFile, offset: number } | null {
    return sourceIn(tail.segments, at) ?? sourceIn(tail.segments = listSegments(tail.dir, tail.stream), at)
  }

  private pump (tail: Tail): void {
    const max = this.options.settings.maxInFlightMessages
    while (!tail.resume && !tail.failed && !tail.awaitingFirstAck && this.inFlight < max) {
      const source = this.nextSource(tail, tail.sent)
      if (source === null) return
      const slots = tail.expectLastSeq !== null ? 1 : max - this.inFlight
      const read = readCommitted(source.file.path, source.offset, this.options.settings.maxMessageBytes, slots)
      if (read === null) return
      if (read.damagedAt !== null) tail.damagedAt = `${source.file.file} offset ${read.damagedAt}`
      if (read.chunks.length === 0) return
      for (const chunk of read.chunks) {
        this.publish(tail, source.file, chunk, read.bytes.subarray(chunk.start - source.offset, chunk.end - source.offset))
        if (tail.awaitingFirstAck) return
      }
    }
  }

  private publish (tail: Tail, file: SegmentFile, chunk: CommittedChunk, data: Buffer): void {
    const h = headers()
    h.set(HDR_SEGMENT, file.file)
    h.set(HDR_OFFSET, String(chunk.start))
    h.set(HDR_FIRST_SEQ, String(chunk.firstSeq))
    h.set(HDR_LAST_SEQ, String(chunk.lastSeq))
    if (chunk.sealed) h.set(HDR_SEALED, '1')
    const position: Position = { segment: file.segment, offset: chunk.end, sealed: chunk.sealed }
    const generation = tail.generation
    const expect = tail.expectLastSeq
    tail.expectLastSeq = null
    if (expect !== null) tail.awaitingFirstAck = true
    tail.sent = position
    tail.inFlight++
    this.inFlight++
    const settle = (): void => {
      tail.inFlight--
      this.inFlight--
      if (generation === tail.generation) tail.awaitingFirstAck = false
    }
    // A copy: the read buffer is reused by nothing, but the client may hold the payload until the socket takes it.
    this.js!.publish(tail.subject, data, {
      msgID: replicationMsgId(this.options.instance, file.file, chunk),
      headers: h,
      timeout: PUBLISH_TIMEOUT_MS,
      ...(expect === null ? {} : { expect: { lastSubjectSequence: expect } }),
    }).then((ack) => {
      settle()
      if (generation !== tail.generation) return
      if (ack.duplicate) {
        // The stream had this message already: what it holds after it is
        // not known here. Resume from the stream.
        this.publishErrors++
        tail.failed = true
        return
      }
      tail.acked = position
      tail.publishedRecords += chunk.records
    }, () => {
      settle()
      this.publishErrors++
      if (generation === tail.generation) tail.failed = true
    })
  }

  /** Lag per stream, for /metrics and alerts: the local bytes after the acked point and the age of the first. */
  status (): ReplicatorStatus {
    const streams: StreamReplicationStatus[] = []
    const nowUs = this.nowUs()
    for (const tail of this.tails.values()) {
      let lagBytes = 0
      let oldestUs: number | null = null
      // Listed afresh at most every status: a segment rotated in since counts too.
      tail.segments = listSegments(tail.dir, tail.stream)
      for (const file of tail.segments) {
        const a = tail.acked
        if (a.segment !== null && (file.segment < a.segment || (file.segment === a.segment && a.sealed))) continue
        const from = a.segment === file.segment ? a.offset : 0
        const size = sizeOf(file.path)
        if (size <= from) continue
        lagBytes += size - from
        oldestUs ??= recordTimeAt(file.path, from)
      }
      streams.push({
        stream: tail.stream,
        subject: tail.subject,
        lagBytes,
        lagSeconds: oldestUs === null ? 0 : Math.max(0, (nowUs - oldestUs) / 1e6),
        publishedRecords: tail.publishedRecords,
        damagedAt: tail.damagedAt,
      })
    }
    return { connected: this.options.link.isConnected(), publishErrors: this.publishErrors, streams }
  }
}

/** Where publishing continues after `at` among `segments`; null when that segment is not (yet) listed. */
function sourceIn (segments: readonly SegmentFile[], at: Position): { file: SegmentFile, offset: number } | null {
  if (at.segment === null) return segments.length === 0 ? null : { file: segments[0]!, offset: 0 }
  if (!at.sealed) {
    const same = segments.find((s) => s.segment === at.segment)
    if (same !== undefined) return { file: same, offset: at.offset }
  }
  // Sealed, or purged locally since: the next segment after it.
  const next = segments.find((s) => s.segment > at.segment!)
  return next === undefined ? null : { file: next, offset: 0 }
}

function sizeOf (path: string): number {
  try {
    return statSync(path).size
  } catch {
    return 0
  }
}

function recordTimeAt (path: string, offset: number): number | null {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return null
  }
  try {
    const head = Buffer.alloc(RECORD_OVERHEAD_BYTES)
    return readSync(fd, head, 0, head.length, offset) === head.length ? recordTimeUsAt(head, 0) : null
  } finally {
    closeSync(fd)
  }
}

/**
 * The committed runs of a segment file from `offset`: reads enough for
 * `maxChunks` full runs (more for a record longer than a run). Null when
 * the file cannot be read now (rotated away, purged): the next pass looks again.
 */
function readCommitted (path: string, offset: number, maxBytes: number, maxChunks: number): { bytes: Buffer, chunks: CommittedChunk[], damagedAt: number | null } | null {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return null
  }
  try {
    const size = fstatSync(fd).size
    if (size <= offset) return { bytes: Buffer.alloc(0), chunks: [], damagedAt: null }
    let want = Math.min(size - offset, maxBytes * Math.min(maxChunks, 16))
    for (;;) {
      const bytes = Buffer.allocUnsafe(want)
      const n = readSync(fd, bytes, 0, want, offset)
      const view = bytes.subarray(0, n)
      const found = committedChunks(view, offset, maxBytes, maxChunks)
      if (found.needBytes !== null && found.needBytes > want && found.needBytes <= size - offset) {
        want = found.needBytes
        continue
      }
      return { bytes: view, chunks: found.chunks, damagedAt: found.damagedAt }
    }
  } catch {
    return null
  } finally {
    closeSync(fd)
  }
}
