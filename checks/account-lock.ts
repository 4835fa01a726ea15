// A mutex in one Int32 slot of a SharedArrayBuffer (Drepper, "Futexes Are
// Tricky", mutex 2): 0 free, 1 held, 2 held with waiters. The uncontended
// path is one compareExchange to lock and one exchange to unlock; only a
// thread that found waiters pays for Atomics.notify. Critical sections are
// a few hundred nanoseconds, so a contender spins briefly before sleeping;
// on 2 cores the holder may be descheduled, and spinning through its whole
// time slice would waste the slice.

const SPINS_BEFORE_SLEEP = 200

export function lockSlot (control: Int32Array, index: number): void {
  if (Atomics.compareExchange(control, index, 0, 1) === 0) return
  for (let spin = 0; spin < SPINS_BEFORE_SLEEP; spin++) {
    if (Atomics.load(control, index) === 0 && Atomics.compareExchange(control, index, 0, 1) === 0) return
  }
  let state = Atomics.exchange(control, index, 2)
  while (state !== 0) {
    Atomics.wait(control, index, 2)
    state = Atomics.exchange(control, index, 2)
  }
}

export function unlockSlot (control: Int32Array, index: number): void {
  if (Atomics.exchange(control, index, 0) === 2) Atomics.notify(control, index, 1)
}
