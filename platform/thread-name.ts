// Names the calling thread in /proc (Linux: /proc/thread-self/comm, 15
// bytes at most), so that `top -H`, `ps -L` and the benchmark's per-thread
// CPU tell a lane's thread from the others: Node 20 leaves worker threads
// unnamed ("node", like every V8 and libuv helper thread).
import { writeFileSync } from 'node:fs'

/** Longest name the kernel keeps (TASK_COMM_LEN - 1); longer ones are cut. */
export const MAX_THREAD_NAME_BYTES = 15

/** Best effort: returns false where /proc is absent or refuses (then the thread keeps its name). */
export function nameThisThread (name: string): boolean {
  try {
    writeFileSync('/proc/thread-self/comm', name.slice(0, MAX_THREAD_NAME_BYTES))
    return true
  } catch {
    return false
  }
}
