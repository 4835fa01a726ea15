// The cross-thread request/reply helper (platform/cross-thread.ts) between
// the main thread and a real worker thread (helpers/cross-thread-worker.ts):
// replies matched to requests by id in any order, both directions on one
// channel, handler failures answered, the timeout, the bound on pending
// requests, and a thread that exits with requests pending.
import t, { type Test } from 'tap'
import { once } from 'node:events'
import { Worker } from 'node:worker_threads'
import fc from 'fast-check'
import { CrossThreadRequester, answerRequests, type RequesterOptions } from '../platform/cross-thread.js'
import type { MainRequests, ToMain, WorkerRequests } from './helpers/cross-thread-worker.js'

const WORKER_URL = new URL('./helpers/cross-thread-worker.js', import.meta.url)

interface Channel {
  worker: Worker
  requester: CrossThreadRequester<WorkerRequests>
}

/** A worker and the main thread's requester to it; the main thread doubles numbers for it. */
async function openChannel (t: Test, options: Partial<RequesterOptions> = {}): Promise<Channel> {
  const worker = new Worker(WORKER_URL)
  const requester = new CrossThreadRequester<WorkerRequests>((message) => { worker.postMessage(message) }, { peer: 'the test worker', timeoutMs: 5000, maxPending: 1000, ...options })
  const answer = answerRequests<MainRequests>((message) => { worker.postMessage(message) }, { double: ({ value }) => value * 2 })
  worker.on('message', (message: ToMain) => {
    if (message.type === 'request') answer(message)
    else if (message.type === 'reply') requester.handleReply(message)
  })
  worker.on('exit', (code) => { requester.close(`the worker exited with code ${code}`) })
  t.teardown(async () => { await worker.terminate() })
  await once(worker, 'online')
  return { worker, requester }
}

t.test('replies reach the request they answer, whatever order they come back in', async (t) => {
  const { requester } = await openChannel(t)
  await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.integer(), fc.integer({ min: 0, max: 5 })), { minLength: 1, maxLength: 40 }), async (calls) => {
    const answers = await Promise.all(calls.map(([value, delayMs]) => requester.request('echo', { value, delayMs })))
    t.same(answers, calls.map(([value]) => value))
  }), { numRuns: 25 })
  t.equal(requester.pendingCount, 0, 'nothing left pending')
})

t.test('both directions on one channel: the worker asks the main thread while answering it', async (t) => {
  const { requester } = await openChannel(t)
  t.same(await Promise.all([1, 2, 3].map((value) => requester.request('ask-main', { value }))), [2, 4, 6])
})

t.test('a handler that throws or rejects, an unknown kind and an uncloneable reply are answered with an error', async (t) => {
  const { requester } = await openChannel(t)
  await t.rejects(requester.request('throws', null), { name: 'GatehouseError', code: 'GH_ERR_CROSS_THREAD_FAILED', message: 'the test worker: the handler threw' })
  await t.rejects(requester.request('rejects', null), { code: 'GH_ERR_CROSS_THREAD_FAILED', message: 'the test worker: the handler rejected' })
  const untyped = requester as unknown as CrossThreadRequester<{ nonsense: { args: null, reply: unknown } }>
  await t.rejects(untyped.request('nonsense', null), { code: 'GH_ERR_CROSS_THREAD_FAILED', message: /no handler for request "nonsense"/ })
  await t.rejects(requester.request('uncloneable', null), { code: 'GH_ERR_CROSS_THREAD_FAILED', message: /the reply to uncloneable cannot be sent/ })
  const sneaky = requester as unknown as CrossThreadRequester<{ echo: { args: unknown, reply: unknown } }>
  await t.rejects(sneaky.request('echo', { value: () => 1, delayMs: 0 }), { code: 'GH_ERR_CROSS_THREAD_FAILED', message: /echo to the test worker: cannot send/ }, 'arguments that cannot be cloned')
  t.equal(await requester.request('echo', { value: 7, delayMs: 0 }), 7, 'the channel still works')
  t.equal(requester.pendingCount, 0)
})

t.test('an unanswered request times out; its late reply is dropped', async (t) => {
  const { worker, requester } = await openChannel(t, { timeoutMs: 100 })
  const started = Date.now()
  await t.rejects(requester.request('hang', null), { code: 'GH_ERR_CROSS_THREAD_TIMEOUT', message: 'hang to the test worker: no reply within 100 ms' })
  t.ok(Date.now() - started >= 90, 'not before the timeout')
  t.equal(requester.pendingCount, 0, 'a timed-out request is no longer pending')

  const lateSent = new Promise<void>((resolve) => {
    worker.on('message', (message: ToMain) => { if (message.type === 'late-sent') resolve() })
  })
  await t.rejects(requester.request('late', { delayMs: 300 }), { code: 'GH_ERR_CROSS_THREAD_TIMEOUT' })
  await lateSent
  t.equal(await requester.request('echo', { value: 1, delayMs: 0 }), 1, 'the late reply answered nothing; the next request gets its own')
})

t.test('pending requests are bounded: one more is refused unsent', async (t) => {
  const { requester } = await openChannel(t, { maxPending: 3 })
  const slow = [1, 2, 3].map((value) => requester.request('echo', { value, delayMs: 200 }))
  t.equal(requester.pendingCount, 3)
  await t.rejects(requester.request('echo', { value: 4, delayMs: 0 }), { code: 'GH_ERR_CROSS_THREAD_BUSY', message: 'echo to the test worker: 3 requests already await a reply' })
  t.same(await Promise.all(slow), [1, 2, 3], 'the pending ones are answered')
  t.equal(await requester.request('received', null), 4, 'the refused request never reached the worker (three echoes, then this one)')
})

t.test('a thread that exits fails its pending requests and every later one', async (t) => {
  const { worker, requester } = await openChannel(t)
  const pending = requester.request('hang', null)
  const exited = once(worker, 'exit')
  void requester.request('exit', null).catch(() => {})
  await exited
  await t.rejects(pending, { code: 'GH_ERR_CROSS_THREAD_CLOSED', message: 'the test worker: the channel closed with a request pending (the worker exited with code 0)' })
  await t.rejects(requester.request('echo', { value: 1, delayMs: 0 }), { code: 'GH_ERR_CROSS_THREAD_CLOSED', message: /the channel is closed \(the worker exited with code 0\)/ })
  t.equal(requester.pendingCount, 0)
})
