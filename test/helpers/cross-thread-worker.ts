// The other thread of test/cross-thread.test.ts: serves the test's requests
// with the helper under test, and asks the main thread its own, so both
// directions share one channel as the lanes and the supervisor do.
import { parentPort } from 'node:worker_threads'
import { CrossThreadRequester, answerRequests, type ReplyMessage, type RequestMessage } from '../../platform/cross-thread.js'

/** What the test asks this worker. */
export type WorkerRequests = {
  /** Answers with its argument after `delayMs`, so replies come back out of order. */
  echo: { args: { value: number, delayMs: number }, reply: number }
  /** Never answers. */
  hang: { args: null, reply: never }
  /** Answers after `delayMs`, then posts a 'late-sent' event. */
  late: { args: { delayMs: number }, reply: string }
  throws: { args: null, reply: never }
  rejects: { args: null, reply: never }
  /** Answers with something postMessage cannot clone. */
  uncloneable: { args: null, reply: unknown }
  /** How many requests reached this worker so far. */
  received: { args: null, reply: number }
  /** Asks the main thread to double `value` and answers with what it said. */
  'ask-main': { args: { value: number }, reply: number }
  /** Ends the worker's thread with `hang` requests still pending. */
  exit: { args: null, reply: never }
}

/** What this worker asks the main thread. */
export type MainRequests = {
  double: { args: { value: number }, reply: number }
}

/** What the main thread sends this worker. */
export type ToWorker = RequestMessage<WorkerRequests> | ReplyMessage
/** What this worker sends the main thread. */
export type ToMain = RequestMessage<MainRequests> | ReplyMessage | { type: 'late-sent' }

const port = parentPort!
const post = (message: ToMain): void => { port.postMessage(message) }
let received = 0

const main = new CrossThreadRequester<MainRequests>(post, { peer: 'the main thread', timeoutMs: 5000, maxPending: 16 })

const answer = answerRequests<WorkerRequests>(post, {
  echo: ({ value, delayMs }) => new Promise((resolve) => { setTimeout(() => { resolve(value) }, delayMs) }),
  hang: () => new Promise<never>(() => {}),
  late: ({ delayMs }) => new Promise((resolve) => {
    setTimeout(() => {
      resolve('too late')
      // After the reply is posted: the test awaits this to know the late reply is in flight before it.
      setImmediate(() => { post({ type: 'late-sent' }) })
    }, delayMs)
  }),
  throws: () => { throw new Error('the handler threw') },
  rejects: async () => { throw new Error('the handler rejected') },
  uncloneable: () => () => 'a function cannot be cloned',
  received: () => received,
  'ask-main': async ({ value }) => main.request('double', { value }),
  exit: () => { process.exit(0) },
})

port.on('message', (message: ToWorker) => {
  if (message.type === 'request') {
    received++
    answer(message)
  } else if (message.type === 'reply') {
    main.handleReply(message)
  }
})
