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
import { once } from 'node:events'
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs'
import { dirname } from 'node:path'
import { AdminError, adminErrorCodes, type AdminApi } from './admin-api.js'
import {
  MAX_REQUEST_LINE_BYTES, encodeReply, limitSetFromRequest, parseRequestLine,
  type AdminErrorBody, type AdminReply, type AdminRequest, type RequestId,
} from './admin-protocol.js'

export interface AdminServerOptions {
  /** The socket's path: adminSocketPath(config). */
  path: string
  api: AdminApi
}

/** Lines read ahead of the one being handled before the connection stops reading (backpressure). */
const MAX_QUEUED_LINES = 64
/** How long a probe of an existing socket file waits for an answer. */
const PROBE_TIMEOUT_MS = 1000
const NEWLINE = 0x0a

/** Calls the AdminApi method a validated request names. */
async function execute (api: AdminApi, request: AdminRequest): Promise<unknown> {
  const { operator } = request
  switch (request.command) {
    case 'limits.show': return api.showLimits(request.args.scope)
    case 'limits.set': return api.setLimits(operator, request.args.scope, limitSetFromRequest(request.args.values))
    case 'trading-state.set': return api.setTradingState(operator, request.args.account, request.args.state)
    case 'kill-switch.set': return await api.setKillSwitch(operator, request.args.scope, request.args.on, request.args.massCancel ?? false)
    case 'programmatic-report.set': return api.setProgrammaticReport(operator, request.args.account, request.args.status)
    case 'counters.show': return api.counters(request.args.account)
    case 'sessions.list': {
      const { lane, account } = request.args
      return await api.listSessions({ ...(lane === undefined ? {} : { lane }), ...(account === undefined ? {} : { account }) })
    }
    case 'sessions.disconnect': return await api.disconnectSession(operator, request.args.sessionId, request.args.reason)
    case 'apps.list': return api.listApps()
    case 'apps.register': return api.registerApp(operator, request.args)
    case 'apps.evidence': {
      const { document, accessTestPassed } = request.args
      return api.addAppEvidence(operator, request.args.appId, { ...(document === undefined ? {} : { document }), ...(accessTestPassed === undefined ? {} : { accessTestPassed }) })
    }
    case 'apps.status': return api.setAppStatus(operator, request.args.appId, request.args.status)
    case 'apps.bind': return api.bindApp(operator, request.args.appId, request.args.account, true)
    case 'apps.unbind': return api.bindApp(operator, request.args.appId, request.args.account, false)
    case 'fingerprints.list': return api.listFingerprints(request.args.account)
    case 'fingerprints.approve': return api.decideFingerprint(operator, request.args.account, request.args.fingerprintId, true)
    case 'fingerprints.reject': return api.decideFingerprint(operator, request.args.account, request.args.fingerprintId, false)
    case 'config.reload': return api.reloadConfig(operator, request.args.path)
  }
}

/**
 * What the api threw, as a reply error. Its own errors keep their code;
 * the live-tuning API's codes (GH_ERR_UNKNOWN_ACCOUNT, …) name a missing
 * thing or a refusal; anything else is a refusal with its message.
 */
export function errorBody (err: unknown): AdminErrorBody {
  if (err instanceof AdminError) return { code: err.code, message: err.message }
  const code = (err as { code?: unknown } | null)?.code
  const message = err instanceof Error ? err.message : String(err)
  if (typeof code === 'string' && code.includes('UNKNOWN')) return { code: adminErrorCodes.NOT_FOUND, message }
  return { code: adminErrorCodes.REFUSED, message }
}

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

/** Resolves once the socket has flushed what it buffered, or has closed. */
async function writable (socket: Socket): Promise<void> {
  const done = new AbortController()
  try {
    await Promise.race([once(socket, 'drain', { signal: done.signal }), once(socket, 'close', { signal: done.signal })])
  } finally {
    // Removes the listener of the one that did not happen.
    done.abort()
  }
}

function errnoCode (err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException).code
}

export class AdminServer {
  readonly path: string
  private readonly api: AdminApi
  private server: Server | null = null
  /** The socket file's inode, so close removes only the file this server made. */
  private inode = -1
  private readonly connections = new Set<Socket>()

  constructor (options: AdminServerOptions) {
    this.path = options.path
    this.api = options.api
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
    const server = createServer((socket) => { this.serve(socket) })
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

  /** Stops accepting, ends open connections, removes the socket file. */
  async close (): Promise<void> {
    const server = this.server
    if (server === null) return
    this.server = null
    const closed = new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    for (const socket of this.connections) socket.destroy()
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
   * next starts.
   */
  private serve (socket: Socket): void {
    this.connections.add(socket)
    // null stands for a line that was too long: answered in its turn.
    const queue: Array<Buffer | null> = []
    let partial: Buffer[] = []
    let partialBytes = 0
    // Inside an oversized line: everything up to the next newline is dropped.
    let skipping = false
    let working = false

    const reply = (body: AdminReply): void => {
      if (!socket.destroyed) socket.write(encodeReply(body))
    }
    const drain = async (): Promise<void> => {
      if (working) return
      working = true
      while (queue.length > 0) {
        const line = queue.shift()!
        if (queue.length < MAX_QUEUED_LINES / 2 && socket.isPaused()) socket.resume()
        const answer = await this.handleLine(line)
        if (answer !== null) reply(answer)
        // A client that sends but does not read: stop answering (and, once
        // the queue fills, reading) until it has taken what was sent.
        if (!socket.destroyed && socket.writableNeedDrain) await writable(socket)
      }
      working = false
    }

    socket.on('data', (chunk: Buffer) => {
      let start = 0
      for (;;) {
        const nl = chunk.indexOf(NEWLINE, start)
        if (nl === -1) break
        if (skipping) {
          skipping = false
        } else {
          const piece = chunk.subarray(start, nl)
          if (partialBytes + piece.length > MAX_REQUEST_LINE_BYTES) queue.push(null)
          else queue.push(partial.length === 0 ? piece : Buffer.concat([...partial, piece]))
        }
        partial = []
        partialBytes = 0
        start = nl + 1
      }
      if (start < chunk.length && !skipping) {
        const rest = chunk.subarray(start)
        if (partialBytes + rest.length > MAX_REQUEST_LINE_BYTES) {
          queue.push(null)
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
    socket.on('error', () => { /* the peer went away; nothing to answer */ })
    socket.on('close', () => { this.connections.delete(socket) })
  }

  /** The reply to one line; null for a blank line (not a request, so not answered). */
  private async handleLine (line: Buffer | null): Promise<AdminReply | null> {
    if (line === null) {
      return { id: null, ok: false, error: { code: adminErrorCodes.BAD_REQUEST, message: `the request line is longer than ${MAX_REQUEST_LINE_BYTES} bytes; it was not read` } }
    }
    const text = line.toString('utf8')
    if (text.trim() === '') return null
    const parsed = parseRequestLine(text)
    if (!parsed.ok) return { id: parsed.id, ok: false, error: parsed.error }
    const id: RequestId = parsed.request.id
    try {
      return { id, ok: true, result: await execute(this.api, parsed.request) ?? null }
    } catch (err) {
      return { id, ok: false, error: errorBody(err) }
    }
  }
}
