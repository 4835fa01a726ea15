// Request/reply between threads over a MessagePort-like channel (a Worker,
// or a worker's parentPort). The one way one thread asks another something
// and awaits the answer: the supervisor asks lanes for their sessions, a
// disconnect or a mass cancel; a lane asks the supervisor's access control
// to decide a logon step. Events that need no answer stay plain messages.
//
// Each side keeps its own message switch: requests and replies travel as
// two more message types ('request', 'reply'), so the helper never owns a
// port's 'message' listener and one channel carries both directions.
//
//   asker                                        answerer
//   request(kind, args) ──{type:'request', requestId, kind, args}──▶ answer(message)
//        ◀──{type:'reply', requestId, ok, reply | error}── handlers[kind](args)
//   handleReply(message)
import { GatehouseError } from '../protocol/gatehouse-error.js'

/** The requests one side serves: each kind's arguments and reply. */
export type RequestMap = Record<string, { args: unknown, reply: unknown }>

export interface RequestMessage<R extends RequestMap, K extends keyof R & string = keyof R & string> {
  type: 'request'
  requestId: number
  kind: K
  args: R[K]['args']
}

/** A reply; `error` is the answerer's message when its handler threw or rejected. */
export type ReplyMessage =
  | { type: 'reply', requestId: number, ok: true, reply: unknown }
  | { type: 'reply', requestId: number, ok: false, error: string }

export interface RequesterOptions {
  /** Named in errors: which channel timed out or was full, e.g. "lane platform". */
  peer: string
  /** A request unanswered for this long rejects with GH_ERR_CROSS_THREAD_TIMEOUT; its late reply is dropped. */
  timeoutMs: number
  /** Requests awaiting replies at most; one more rejects at once with GH_ERR_CROSS_THREAD_BUSY, nothing sent. */
  maxPending: number
}

interface Pending {
  resolve: (reply: unknown) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
}

/**
 * The asking side of one channel. `post` sends a message to the other
 * thread; the owner passes each 'reply' it receives to handleReply(), and
 * calls close() when the other thread is gone.
 */
export class CrossThreadRequester<R extends RequestMap> {
  private nextRequestId = 1
  private readonly pending = new Map<number, Pending>()
  private closedBecause: string | null = null

  constructor (private readonly post: (message: RequestMessage<R>) => void, private readonly options: RequesterOptions) {}

  /** Requests awaiting a reply. */
  get pendingCount (): number {
    return this.pending.size
  }

  /**
   * Sends a request and resolves with the reply. Rejects with a
   * GatehouseError: GH_ERR_CROSS_THREAD_TIMEOUT, _BUSY (too many pending),
   * _CLOSED (the channel closed first) or _FAILED (the handler threw).
   */
  request<K extends keyof R & string> (kind: K, args: R[K]['args']): Promise<R[K]['reply']> {
    const { peer, timeoutMs, maxPending } = this.options
    if (this.closedBecause !== null) {
      return Promise.reject(new GatehouseError('GH_ERR_CROSS_THREAD_CLOSED', `${kind} to ${peer}: the channel is closed (${this.closedBecause})`))
    }
    if (this.pending.size >= maxPending) {
      return Promise.reject(new GatehouseError('GH_ERR_CROSS_THREAD_BUSY', `${kind} to ${peer}: ${maxPending} requests already await a reply`))
    }
    const requestId = this.nextRequestId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId)
        reject(new GatehouseError('GH_ERR_CROSS_THREAD_TIMEOUT', `${kind} to ${peer}: no reply within ${timeoutMs} ms`))
      }, timeoutMs)
      // A pending request must not keep a process alive that is otherwise done.
      timer.unref()
      this.pending.set(requestId, { resolve: resolve as (reply: unknown) => void, reject, timer })
      try {
        this.post({ type: 'request', requestId, kind, args })
      } catch (err) {
        // postMessage throws on arguments it cannot clone: a caller's bug, reported to that caller.
        this.settle(requestId)?.reject(new GatehouseError('GH_ERR_CROSS_THREAD_FAILED', `${kind} to ${peer}: cannot send: ${(err as Error).message}`, { cause: err }))
      }
    })
  }

  /** Settles the request a reply answers. A reply to nothing pending (timed out, or never asked) is ignored. */
  handleReply (message: ReplyMessage): void {
    const pending = this.settle(message.requestId)
    if (pending === undefined) return
    if (message.ok) pending.resolve(message.reply)
    else pending.reject(new GatehouseError('GH_ERR_CROSS_THREAD_FAILED', `${this.options.peer}: ${message.error}`))
  }

  /** Rejects every pending request and refuses new ones: the other thread has exited or is stopping. */
  close (reason: string): void {
    if (this.closedBecause !== null) return
    this.closedBecause = reason
    for (const requestId of [...this.pending.keys()]) {
      this.settle(requestId)?.reject(new GatehouseError('GH_ERR_CROSS_THREAD_CLOSED', `${this.options.peer}: the channel closed with a request pending (${reason})`))
    }
  }

  private settle (requestId: number): Pending | undefined {
    const pending = this.pending.get(requestId)
    if (pending === undefined) return undefined
    this.pending.delete(requestId)
    clearTimeout(pending.timer)
    return pending
  }
}

/** How the answering side serves each kind of request. */
export type RequestHandlers<R extends RequestMap> = {
  [K in keyof R]: (args: R[K]['args']) => R[K]['reply'] | Promise<R[K]['reply']>
}

/**
 * The answering side: returns the function to call with each 'request'
 * message. Every request gets exactly one reply: a handler that throws or
 * rejects, or a kind with no handler, is answered with ok: false and the
 * error's message, never left to time out and never thrown out of the
 * message listener.
 */
export function answerRequests<R extends RequestMap> (post: (message: ReplyMessage) => void, handlers: RequestHandlers<R>): (message: RequestMessage<R>) => void {
  return (message) => {
    const { requestId, kind } = message
    const reply = (answer: ReplyMessage): void => {
      try {
        post(answer)
      } catch (err) {
        // A reply that cannot be cloned still answers, so the asker is not left to time out.
        post({ type: 'reply', requestId, ok: false, error: `the reply to ${kind} cannot be sent: ${(err as Error).message}` })
      }
    }
    const fail = (err: unknown): void => { reply({ type: 'reply', requestId, ok: false, error: err instanceof Error ? err.message : String(err) }) }
    const handler = Object.hasOwn(handlers, kind) ? handlers[kind] : undefined
    if (handler === undefined) {
      fail(new Error(`no handler for request ${JSON.stringify(kind)}`))
      return
    }
    try {
      Promise.resolve(handler(message.args)).then((answer) => { reply({ type: 'reply', requestId, ok: true, reply: answer }) }, fail)
    } catch (err) {
      fail(err)
    }
  }
}
