// A precise wake-up for the open-loop sender, so the generator need not
// spin a core between sends.
//
// Node's timers have 1 ms granularity, and blocking the event loop (e.g.
// Atomics.wait on the main thread) would stop it reading reports. So a
// helper thread sleeps instead: the main thread writes an absolute deadline
// (hrtime ns) into shared memory and returns to its event loop, which
// blocks in epoll; the helper sleeps in Atomics.wait until the deadline and
// posts a message, which wakes the main loop like any I/O. The main thread
// arms it a little early and spins only the last stretch.
//
//   shared Int32Array / BigInt64Array over one SharedArrayBuffer:
//   +-----------+-----------+-------------------------+
//   | i32 ARMED | i32 STOP  | i64 deadline (hrtime ns) |
//   +-----------+-----------+-------------------------+
//   0           4           8                         16
//
// Timer slack: Linux lets a sleeping thread wake up to timer_slack_ns late
// (50 µs by default), which at 10k orders/s (100 µs apart) would leave no
// room to sleep at all. The main thread sets its own slack to 1 µs before
// it starts the helper, which inherits it: futex sleeps then end ~20 µs
// late here instead of ~80 µs, so the sender can sleep most of each
// interval and spin only the last stretch.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import { writeFileSync } from 'node:fs'
import { nameThisThread } from '../platform/thread-name.js'

const ARMED = 0
const STOP = 1
const DEADLINE_INDEX = 1 // in BigInt64 units: byte offset 8

/** The timer slack the sender and its helper thread sleep with. */
export const PACER_TIMER_SLACK_NS = 1000

/**
 * Sets the calling process's main thread's timer slack (/proc/self/timerslack_ns,
 * Linux 4.6+); threads it starts afterwards inherit it. Best effort: false where refused.
 */
export function setTimerSlackNs (ns: number): boolean {
  try {
    writeFileSync('/proc/self/timerslack_ns', String(ns))
    return true
  } catch {
    return false
  }
}

/** The main thread's handle on the helper thread. */
export class Pacer {
  private readonly shared = new SharedArrayBuffer(16)
  private readonly flags = new Int32Array(this.shared, 0, 2)
  private readonly deadline = new BigInt64Array(this.shared, 0, 2)
  private readonly worker: Worker

  constructor (onWake: () => void) {
    setTimerSlackNs(PACER_TIMER_SLACK_NS)
    this.worker = new Worker(new URL(import.meta.url), { workerData: this.shared })
    this.worker.on('message', onWake)
    // The sender's own loop keeps the process alive while it runs.
    this.worker.unref()
  }

  /**
   * Wakes the main loop (through onWake) at `deadlineNs`
   * (process.hrtime.bigint() time). One wake at a time: arm again only
   * after onWake ran, which is how the sender uses it.
   */
  wakeAt (deadlineNs: bigint): void {
    this.deadline[DEADLINE_INDEX] = deadlineNs
    Atomics.store(this.flags, ARMED, 1)
    Atomics.notify(this.flags, ARMED)
  }

  async close (): Promise<void> {
    Atomics.store(this.flags, STOP, 1)
    Atomics.store(this.flags, ARMED, 1)
    Atomics.notify(this.flags, ARMED)
    Atomics.notify(this.flags, STOP)
    await this.worker.terminate()
  }
}

if (!isMainThread && parentPort !== null) {
  const shared = workerData as SharedArrayBuffer
  const flags = new Int32Array(shared, 0, 2)
  const deadline = new BigInt64Array(shared, 0, 2)
  const port = parentPort
  nameThisThread('pacer')
  for (;;) {
    Atomics.wait(flags, ARMED, 0)
    if (Atomics.load(flags, STOP) === 1) break
    for (;;) {
      const remainingNs = deadline[DEADLINE_INDEX]! - process.hrtime.bigint()
      if (remainingNs <= 0n) break
      // Nobody notifies STOP's slot except close(): this is a plain sleep
      // with futex precision (timer slack, ~50 µs), not 1 ms timer ticks.
      Atomics.wait(flags, STOP, 0, Number(remainingNs) / 1e6)
      if (Atomics.load(flags, STOP) === 1) break
    }
    if (Atomics.load(flags, STOP) === 1) break
    // Disarm before posting: the main thread re-arms only after the message.
    Atomics.store(flags, ARMED, 0)
    port.postMessage(0)
  }
}
