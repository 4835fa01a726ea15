/**
 * The admin socket: a Unix domain socket, owner-only (0600), on which ops
 * tune the running gateway (admin-protocol.ts has the protocol,
 * `gatehouse admin` is the client). The supervisor starts it; each
 * validated request calls the AdminApi, which applies, journals and
 * persists the change.
 *
 * Who may ask is decided by the file system: only the gateway's own user
 * (or root) can open the socket file. There is no password to leak.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { isUtf8 } from 'node:buffer'
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs'
import { dirname } from 'node:path'
import { AdminError, adminErrorCodes, type AdminApi, type AdminErrorCode } from './admin-api.js'
import { errorCodes } from '../../checks/errors.js'
import type { ErrorCode } from '../../protocol/error-codes.js'
import { isGatehouseError } from '../../protocol/gatehouse-error.js'
import {
  MAX_REQUEST_LINE_BYTES, READ_ONLY_COMMANDS, encodeReply, limitSetFromRequest, parseRequestLine,
  type AdminErrorBody, type AdminReply, type AdminRequest, type RequestId,
} from './admin-protocol.js'

export interface AdminServerOptions {
  /** The socket's path: adminSocketPath(config). */
  path: string
  api: AdminApi
  /** With cluster.enabled: every change goes through it, to be applied on the other instances too (supervisor/admin/control-fanout.ts). */
  fanOut?: ChangeFanOut
}

/**
 * The seam of the cluster's control fan-out: a change request made here
 * is handed over with what applies it locally and the queue that runs
 * changes one at a time; it returns the reply's result.
 */
export interface ChangeFanOut {
  change (request: AdminRequest, apply: () => Promise<unknown>, exclusive: <T>(change: () => Promise<T>) => Promise<T>): Promise<unknown>
}

/** Lines read ahead of the one being handled before the connection stops reading (backpressure). */
const MAX_QUEUED_LINES = 64
/** How long a probe of an existing socket file waits for an answer. */
const PROBE_TIMEOUT_MS = 1000
/**
 * How long close() lets a request in flight finish and its reply flush
 * before it cuts the connection (a client that does not read, a lane that
 * does not answer a mass-cancel).
 */
const CLOSE_GRACE_MS = 5000
/**
 * Connections open at once. Each holds a file descriptor of the gateway
 * process, whose lane threads need them for trading sessions, and up to a
 * request line (1 MiB) of memory: a script that opens connections in a
 * loop and never closes them is told so and turned away.
 */
export const MAX_ADMIN_CONNECTIONS = 128
const NEWLINE = 0x0a

/** A line to answer: its bytes, or a line that was too long, or one the peer ended without a newline. */
type QueuedLine = Buffer | 'too-long' | 'unterminated'

const STOPPING = 'the gateway is stopping; this request was not applied'

/** Calls the AdminApi method a validated request names (the one dispatch: the control fan-out applies a change received from another instance through it too). */
export async function execute (api: AdminApi, request: AdminRequest): Promise<unknown> {
  switch (request.command) {
    case 'limits.show': return api.showLimits(request.args.scope)
    case 'limits.set': return api.setLimits(request.operator, request.args.scope, limitSetFromRequest(request.args.values))
    case 'trading-state.set': return api.setTradingState(request.operator, request.args.account, request.args.state)
    case 'kill-switch.set': return await api.setKillSwitch(request.operator, request.args.scope, request.args.on, request.args.massCancel ?? false)
    case 'programmatic-report.set': return api.setProgrammaticReport(request.operator, request.args.account, request.args.status)
    case 'counters.show': return api.counters(request.args.account)
    case 'sessions.list': {
      const { lane, account } = request.args
      return await api.listSessions({ ...(lane === undefined ? {} : { lane }), ...(account === undefined ? {} : { account }) })
    }
    case 'sessions.disconnect': return await api.disconnectSession(request.operator, request.args.sessionId, request.args.reason)
    case 'apps.list': return api.listApps()
    case 'apps.register': return api.registerApp(request.operator, request.args)
    case 'apps.evidence': {
      const { document, accessTestPassed } = request.args
      return api.addAppEvidence(request.operator, request.args.appId, { ...(document === undefined ? {} : { document }), ...(accessTestPassed === undefined ? {} : { accessTestPassed }) })
    }
    case 'apps.evidence.add': return api.addEvidenceFile(request.operator, request.args)
    case 'apps.evidence.list': return api.listEvidence(request.args)
    case 'apps.certify-record': return api.recordCertification(request.operator, request.args.appId, request.args.report, request.args.html)
    case 'apps.status': return api.setAppStatus(request.operator, request.args.appId, request.args.status)
    case 'apps.bind': return api.bindApp(request.operator, request.args.appId, request.args.account, true)
    case 'apps.unbind': return api.bindApp(request.operator, request.args.appId, request.args.account, false)
    case 'fingerprints.list': return api.listFingerprints(request.args.account)
    case 'alerts.list': return api.listAlerts(request.args.limit ?? 50)
    case 'fingerprints.approve': return api.decideFingerprint(request.operator, request.args.account, request.args.fingerprintId, true)
    case 'fingerprints.reject': return api.decideFingerprint(request.operator, request.args.account, request.args.fingerprintId, false)
    case 'config.reload': return api.reloadConfig(request.operator, request.args.path)
    case 'pending.list': return api.listPending()
    case 'pending.approve': return await api.approvePending(request.operator, request.args.requestId)
    case 'pending.reject': return api.rejectPending(request.operator, request.args.requestId)
    case 'diligence.show': return api.showDiligence(request.args.account)
    case 'diligence.set': {
      const { account, executionMethod, software } = request.args
      return api.setDiligence(request.operator, account, { ...(executionMethod === undefined ? {} : { executionMethod }), ...(software === undefined ? {} : { software }) })
    }
    case 'report.step': return api.reportStep(request.operator, request.args.account, request.args.step, request.args.date)
    case 'clocks.list': return api.listClocks(request.args.alertsOnly ?? false)
    case 'accounts.move': return await api.moveAccount(request.operator, request.args.account, request.args.to, request.args.drainTimeoutMs)
  }
}

/**
 * What the api threw, as a reply error. Its own errors keep their code;
 * the live-tuning API's codes (GH_ERR_UNKNOWN_ACCOUNT, …) name a missing
 * thing or a refusal; anything else is a refusal with its message.
 */
export function errorBody (err: unknown): AdminErrorBody {
  if (err instanceof AdminError) return { code: err.code, message: err.message }
  // An account move's codes say how far it got (cluster/account-handover.ts).
  if (isGatehouseError(err) && (Object.values(adminErrorCodes) as string[]).includes(err.code)) return { code: err.code as AdminErrorCode, message: err.message }
  const message = err instanceof Error ? err.message : String(err)
  if (isGatehouseError(err) && NAMES_A_MISSING_THING.has(err.code)) return { code: adminErrorCodes.NOT_FOUND, message }
  return { code: adminErrorCodes.REFUSED, message }
}

/** The live-tuning API's codes for a name it does not know: NOT_FOUND to the admin socket. */
const NAMES_A_MISSING_THING: ReadonlySet<ErrorCode> = new Set([errorCodes.UNKNOWN_ACCOUNT, errorCodes.UNKNOWN_APP, errorCodes.UNKNOWN_INSTRUMENT])

/**
 * What is behind an existing socket file: a live process, nothing (a file
 * left by a crash: ECONNREFUSED), or something this process may not
 * touch (the error).
 */
function probeSocket (path: string): Promise<'live' | 'stale' | Error> {
  return new Promise((resolve) => {
    const probe = createConnection(path)
    const done = (result: 'live' | 'stale' | Error): void => {
      probe.destroy()
      resolve(result)
    }
    probe.once('connect', () => { done('live') })
    probe.once('error', (err) => { done(errnoCode(err) === 'ECONNREFUSED' ? 'stale' : err) })
    // Accepted by the kernel but never answered: someone holds it.
    probe.setTimeout(PROBE_TIMEOUT_MS, () => { done('live') })
  })
}

/**
 * Resolves once the socket has flushed what it buffered, or has closed.
 * Never rejects: events.once() rejects when the socket emits 'error', and
 * a peer that went away while its replies were backed up (EPIPE) made
 * that an unhandled rejection, which took the whole gateway down.
 */
function writable (socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      socket.off('drain', done)
      socket.off('close', done)
      resolve()
    }
    socket.on('drain', done)
    socket.on('close', done)
  })
}

function errnoCode (err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code
}

export class AdminServer {
  readonly path: string
  private readonly api: AdminApi
  private readonly fanOut: ChangeFanOut | undefined
  private server: Server | null = null
  /** The socket file's inode, so close removes only the file this server made. */
  private inode = -1
  /** Open connections, each with what close() calls to finish it. */
  private readonly connections = new Map<Socket, () => Promise<void>>()
  /** Connections refused for being one too many, until they close. */
  private readonly turnedAway = new Set<Socket>()
  /** Set by close(): requests not yet started are refused, none is read. */
  private closing = false
  /** The tail of the changes in progress: one change at a time, across connections (see exclusive). */
  private changes: Promise<unknown> = Promise.resolve()

  constructor (options: AdminServerOptions) {
    this.path = options.path
    this.api = options.api
    this.fanOut = options.fanOut
  }

  /**
   * Creates the socket, owner-only. Rejects if another live process
   * answers on the path, or if the path is something other than a socket;
   * a stale socket file (left by a crash) is removed.
   */
  async listen (): Promise<void> {
    const { path } = this
    try {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
    } catch (err) {
      throw new Error(`admin socket: cannot create the directory of ${path}: ${(err as Error).message}`, { cause: err })
    }
    let existing: ReturnType<typeof lstatSync> | undefined
    try {
      existing = lstatSync(path)
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw new Error(`admin socket: cannot inspect ${path}: ${(err as Error).message}`, { cause: err })
    }
    if (existing !== undefined) {
      if (!existing.isSocket()) throw new Error(`admin socket: ${path} exists and is not a socket; move it away or set admin.socketPath`)
      const found = await probeSocket(path)
      if (found === 'live') throw new Error(`admin socket: another gateway is using ${path}; stop it, or give this one its own admin.socketPath or runDir`)
      if (found instanceof Error) throw new Error(`admin socket: ${path} exists and cannot be checked (${found.message}); remove it or set admin.socketPath`, { cause: found })
      // Nobody answers: a socket file left by a gateway that did not stop cleanly.
      unlinkSync(path)
    }
    // allowHalfOpen: a client that sends its request and then shuts down
    // its side (socat, `nc -N`, a script that ends stdin) still gets its
    // reply. Without it Node ends the connection as soon as the peer's FIN
    // arrives, and a reply not written by then is lost (the change was
    // applied all the same). serve() ends the connection itself once the
    // last request is answered.
    const server = createServer({ allowHalfOpen: true }, (socket) => { this.serve(socket) })
    await new Promise<void>((resolve, reject) => {
      const failed = (err: Error): void => { reject(new Error(`admin socket: cannot listen on ${path}: ${err.message}`, { cause: err })) }
      server.once('error', failed)
      // The socket file is created by bind(2) with the umask applied: a
      // 0177 umask makes it 0600 from its first instant, so no other user
      // can connect in the window before the chmod below. The bind happens
      // synchronously inside listen(), so the umask is restored at once
      // (it is process-wide: a file a lane thread creates meanwhile is at
      // worst owner-only too).
      const umask = process.umask(0o177)
      try {
        server.listen(path, () => {
          server.off('error', failed)
          resolve()
        })
      } finally {
        process.umask(umask)
      }
    })
    this.server = server
    try {
      chmodSync(path, 0o600)
      this.inode = lstatSync(path).ino
    } catch (err) {
      await this.close()
      throw new Error(`admin socket: cannot make ${path} owner-only: ${(err as Error).message}`, { cause: err })
    }
  }

  /**
   * Stops accepting and reading, lets each connection's request in flight
   * finish and answer (so a change being made is journaled and persisted
   * before the supervisor stops the lanes and closes the journal), refuses
   * the requests read but not started, ends the connections, removes the
   * socket file. Destroying the sockets at once, as this did, left a
   * mass-cancel in flight to finish after the lanes were gone (its kill
   * switch journaled but never persisted) and executed queued requests
   * nobody would hear about.
   */
  async close (): Promise<void> {
    const server = this.server
    if (server === null) return
    this.server = null
    this.closing = true
    const closed = new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    for (const socket of this.turnedAway) socket.destroy()
    await Promise.all([...this.connections.values()].map((finish) => finish()))
    await closed
    // libuv unlinks the file on close; this is for when it did not, and
    // leaves alone a socket another gateway has made at the path since.
    try {
      if (lstatSync(this.path).ino === this.inode) unlinkSync(this.path)
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT') throw err
    }
  }

  /**
   * One connection: requests are read as lines (a line is bounded: past
   * MAX_REQUEST_LINE_BYTES it is answered with BAD_REQUEST and the rest of
   * it skipped), handled one at a time in order, each answered before the
   * next starts. A line read in full is handled even if the client has
   * gone by then; a line the client did not finish is never handled.
   */
  private serve (socket: Socket): void {
    socket.on('error', () => { /* the peer went away; nothing to answer */ })
    if (this.closing) {
      socket.destroy()
      return
    }
    if (this.connections.size >= MAX_ADMIN_CONNECTIONS) {
      socket.end(encodeReply({ id: null, ok: false, error: { code: adminErrorCodes.REFUSED, message: `too many admin connections are open (${MAX_ADMIN_CONNECTIONS}); close some and try again` } }))
      // Nothing it sends is read; it is gone once the peer closes, or at close().
      socket.resume()
      socket.on('close', () => { this.turnedAway.delete(socket) })
      this.turnedAway.add(socket)
      return
    }
    const queue: QueuedLine[] = []
    let partial: Buffer[] = []
    let partialBytes = 0
    // Inside an oversized line: everything up to the next newline is dropped.
    let skipping = false
    let working = false
    // The peer has shut down its side: end ours once the queue is answered.
    let ended = false

    const reply = (body: AdminReply): void => {
      // Not writable once the peer is gone or the connection was ended;
      // a write then fails with EPIPE (seen by the 'error' listener).
      if (socket.writable) socket.write(encodeReply(body))
    }
    const drain = async (): Promise<void> => {
      if (working) return
      working = true
      try {
        while (queue.length > 0) {
          const line = queue.shift()!
          if (queue.length < MAX_QUEUED_LINES / 2 && socket.isPaused() && !this.closing) socket.resume()
          const answer = this.closing ? refusedWhileStopping(line) : await this.handleLine(line)
          if (answer !== null) reply(answer)
          // A client that sends but does not read: stop answering (and,
          // once the queue fills, reading) until it has taken what was sent.
          if (!socket.destroyed && socket.writableNeedDrain) await writable(socket)
        }
      } catch {
        // handleLine answers every failure itself; anything else is a bug
        // of this server, and costs this connection, not the gateway.
        socket.destroy()
      } finally {
        working = false
      }
      if (queue.length === 0 && (ended || this.closing) && !socket.writableEnded && !socket.destroyed) socket.end()
    }

    socket.on('data', (chunk: Buffer) => {
      if (this.closing) return
      let start = 0
      for (;;) {
        const nl = chunk.indexOf(NEWLINE, start)
        if (nl === -1) break
        if (skipping) {
          skipping = false
        } else {
          const piece = chunk.subarray(start, nl)
          if (partialBytes + piece.length > MAX_REQUEST_LINE_BYTES) queue.push('too-long')
          else queue.push(partial.length === 0 ? piece : Buffer.concat([...partial, piece]))
        }
        partial = []
        partialBytes = 0
        start = nl + 1
      }
      if (start < chunk.length && !skipping) {
        const rest = chunk.subarray(start)
        if (partialBytes + rest.length > MAX_REQUEST_LINE_BYTES) {
          queue.push('too-long')
          skipping = true
          partial = []
          partialBytes = 0
        } else {
          partial.push(rest)
          partialBytes += rest.length
        }
      }
      if (queue.length >= MAX_QUEUED_LINES) socket.pause()
      void drain()
    })
    socket.on('end', () => {
      ended = true
      // A last line without its newline: the client may have died in the
      // middle of writing it, so it is refused rather than guessed at.
      if (!skipping && !this.closing && partialBytes > 0 && Buffer.concat(partial).toString('latin1').trim() !== '') queue.push('unterminated')
      partial = []
      partialBytes = 0
      void drain()
    })

    const finish = async (): Promise<void> => {
      // Nothing more is read; what was read is refused (drain sees closing).
      socket.pause()
      const gone = new Promise<void>((resolve) => { socket.once('close', () => { resolve() }) })
      // Once the last reply is flushed, the connection is done.
      socket.once('finish', () => { socket.destroy() })
      if (socket.writableFinished) socket.destroy()
      void drain()
      const timer = setTimeout(() => { socket.destroy() }, CLOSE_GRACE_MS)
      await gone
      clearTimeout(timer)
    }
    this.connections.set(socket, finish)
    socket.on('close', () => { this.connections.delete(socket) })
  }

  /**
   * Runs one change after the changes already in progress. Each change is
   * made, journaled and persisted by the AdminApi in one go, except where
   * it waits (a kill switch's mass-cancel waits for every lane): another
   * connection's change to the same setting could then land in between,
   * and the first one, persisting after it, stored a state that was no
   * longer live (a kill switch off in the gateway but on in
   * admin-state.json, so on again after a restart). Changes are few and
   * quick; reads are not held up.
   */
  exclusive<T> (change: () => Promise<T>): Promise<T> {
    const run = this.changes.then(async () => {
      if (this.closing) throw new AdminError(adminErrorCodes.REFUSED, STOPPING)
      return await change()
    })
    this.changes = run.catch(() => undefined)
    return run
  }

  /** The reply to one line; null for a blank line (not a request, so not answered). */
  private async handleLine (line: QueuedLine): Promise<AdminReply | null> {
    if (line === 'too-long') {
      return { id: null, ok: false, error: { code: adminErrorCodes.BAD_REQUEST, message: `the request line is longer than ${MAX_REQUEST_LINE_BYTES} bytes; it was not read` } }
    }
    if (line === 'unterminated') {
      return { id: null, ok: false, error: { code: adminErrorCodes.BAD_REQUEST, message: 'the connection was shut down in the middle of a request line (no newline after it); it was not applied' } }
    }
    // Decoded leniently, bytes that are not UTF-8 become U+FFFD, and a
    // name, vendor or AuthCode nobody sent would be applied and stored.
    if (!isUtf8(line)) {
      return { id: null, ok: false, error: { code: adminErrorCodes.BAD_REQUEST, message: 'the request is not valid UTF-8; send JSON text in UTF-8. Nothing was changed' } }
    }
    const text = line.toString('utf8')
    if (text.trim() === '') return null
    const parsed = parseRequestLine(text)
    if (!parsed.ok) return { id: parsed.id, ok: false, error: parsed.error }
    const { request } = parsed
    const id: RequestId = request.id
    try {
      const run = async (): Promise<unknown> => await execute(this.api, request)
      const result = READ_ONLY_COMMANDS.includes(request.command)
        ? await run()
        : this.fanOut === undefined ? await this.exclusive(run) : await this.fanOut.change(request, run, async (change) => await this.exclusive(change))
      return { id, ok: true, result: result ?? null }
    } catch (err) {
      return { id, ok: false, error: errorBody(err) }
    }
  }
}

/** The answer to a line read before close() began but not started: refused, nothing applied (a blank line: none). */
function refusedWhileStopping (line: QueuedLine): AdminReply | null {
  if (Buffer.isBuffer(line) && line.toString('latin1').trim() === '') return null
  return { id: requestIdOf(line), ok: false, error: { code: adminErrorCodes.REFUSED, message: STOPPING } }
}

/** The id of a line, if it can be read, so a refusal can be paired with its request. */
function requestIdOf (line: QueuedLine): RequestId | null {
  if (!Buffer.isBuffer(line) || !isUtf8(line)) return null
  const parsed = parseRequestLine(line.toString('utf8'))
  return parsed.ok ? parsed.request.id : parsed.id
}
