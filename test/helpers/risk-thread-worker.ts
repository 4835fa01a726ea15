// One lane thread of test/checks-risk-threads.test.ts: its own RiskEngine
// over the shared risk buffers (posted in workerData; SharedArrayBuffers
// arrive shared, not copied), running a script of orders, fills and
// cancels for an account another worker trades at the same time. After
// every operation it takes the account lock and checks that no measure is
// past its limit and that the account totals agree with the order table,
// recording what it finds rather than throwing, so the test can report it.
import { parentPort, workerData } from 'node:worker_threads'
import { lockSlot, unlockSlot } from '../../checks/account-lock.js'
import { RiskEngine, newRiskVerdict, type InstrumentRisk, type RiskContext } from '../../checks/risk-engine.js'
import {
  ACCOUNT_CTL_LOCK, ACCOUNT_FIELDS, ACCOUNT_OPEN_LOTS, ACCOUNT_OPEN_ORDERS, ACCOUNT_RESERVED_FEN, ORDER_FIELDS,
  ORDER_FREE, ORDER_LEAVES_LOTS, ORDER_MARGIN_PER_LOT_FEN, ORDER_STATE, POSITION_BOOK, POSITION_FIELDS,
  POSITION_WORKING_OPEN_LONG_LOTS, POSITION_WORKING_OPEN_SHORT_LOTS, type RiskBuffers,
} from '../../checks/risk-layout.js'
import { BOOK_FIELDS, BOOK_FROZEN, BOOK_LONG_TODAY, BOOK_SHORT_TODAY, heldLots, isClose } from '../../checks/position-book.js'
import { Side, TimeInForce, reasonName, v1, type InstrumentInit } from '../../protocol/messages.js'

export interface RiskThreadOp {
  kind: 'order' | 'cancel' | 'fill' | 'partial' | 'reject'
  instrument: number
  side: number
  /** Price offset from the reference, in steps of 10. */
  tick: number
  lots: number
  /** Which working order a cancel or fill is for (modulo how many there are). */
  pick: number
  /** OffsetFlag of an order: opens and closes of either position. */
  offset: number
}

export interface RiskThreadLimits {
  maxOpenOrders: number
  maxLongLots: number
  maxShortLots: number
  fundsFen: number
}

export interface RiskThreadWorkerData {
  buffers: RiskBuffers
  /** Int32 slots: SYNC_READY, then one progress counter per worker. */
  sync: SharedArrayBuffer
  workers: number
  workerIndex: number
  ctx: RiskContext
  instruments: InstrumentInit[]
  limits: RiskThreadLimits
  script: RiskThreadOp[]
}

export interface RiskThreadResult {
  violations: string[]
  outcomes: Record<string, number>
  /** Orders and cancels the checks admitted: each counts as one action. */
  actions: number
  /** Long and short lots this worker's fills opened minus those they closed, by instrument (as listed in workerData). */
  longLots: number[]
  shortLots: number[]
  tradedLots: number
  /** Shared index each instrument got (both workers intern them at once). */
  instrumentIndexes: number[]
  /** Own operations during which another worker also completed one. */
  interleaved: number
  /** Steps that found the account lock already held (by the other thread) just before taking it. */
  contended: number
}

export const SYNC_READY = 0
export const SYNC_PROGRESS = 1

interface Working { slot: number, instrument: number, side: number, offset: number, leaves: number }

parentPort!.postMessage(run(workerData as RiskThreadWorkerData))

function run (data: RiskThreadWorkerData): RiskThreadResult {
  const { ctx, limits } = data
  const sync = new Int32Array(data.sync)
  const engine = new RiskEngine(data.buffers, ctx.lane)
  const { control, accountState, positions, orders, capacity } = engine.views
  const verdict = newRiskVerdict(8)
  const instruments: InstrumentRisk[] = data.instruments.map((init) => engine.instrumentRisk(v1.Instrument.create(init))!)
  const positionBases = instruments.map((i) => (ctx.account * capacity.instrumentsPerAccount + engine.positionSlot(ctx.account, i.index)) * POSITION_FIELDS)
  const lock = engine.views.accountCtl(ctx.account) + ACCOUNT_CTL_LOCK
  const result: RiskThreadResult = {
    violations: [], outcomes: {}, actions: 0, longLots: instruments.map(() => 0), shortLots: instruments.map(() => 0), tradedLots: 0,
    instrumentIndexes: instruments.map((i) => i.index), interleaved: 0, contended: 0,
  }
  const working: Working[] = []
  const nowMs = Date.UTC(2026, 0, 5, 1, 30)
  let linkOrderId = (data.workerIndex + 1) * 1_000_000
  const fail = (what: string): void => { if (result.violations.length < 20) result.violations.push(`worker ${data.workerIndex}: ${what}`) }

  /** Under the account lock: every limit holds, and the totals match the order table. */
  const audit = (step: number): void => {
    lockSlot(control, lock)
    const a = ctx.account * ACCOUNT_FIELDS
    const openOrders = accountState[a + ACCOUNT_OPEN_ORDERS]!
    const reservedFen = accountState[a + ACCOUNT_RESERVED_FEN]!
    const openLots = accountState[a + ACCOUNT_OPEN_LOTS]!
    let tableOrders = 0
    let tableLots = 0
    let tableFen = 0
    for (let i = 0; i < capacity.openOrdersPerAccount; i++) {
      const o = (ctx.account * capacity.openOrdersPerAccount + i) * ORDER_FIELDS
      if (orders[o + ORDER_STATE] === ORDER_FREE) continue
      tableOrders++
      tableLots += orders[o + ORDER_LEAVES_LOTS]!
      tableFen += orders[o + ORDER_LEAVES_LOTS]! * orders[o + ORDER_MARGIN_PER_LOT_FEN]!
    }
    const positionsNow = positionBases.map((p) => [
      heldLots(positions, p + POSITION_BOOK, BOOK_LONG_TODAY), positions[p + POSITION_WORKING_OPEN_LONG_LOTS]!,
      heldLots(positions, p + POSITION_BOOK, BOOK_SHORT_TODAY), positions[p + POSITION_WORKING_OPEN_SHORT_LOTS]!,
      Array.from(positions.subarray(p + POSITION_BOOK, p + POSITION_BOOK + BOOK_FIELDS)),
    ] as const)
    unlockSlot(control, lock)
    if (openOrders > limits.maxOpenOrders) fail(`step ${step}: openOrders ${openOrders} > ${limits.maxOpenOrders}`)
    if (reservedFen > limits.fundsFen) fail(`step ${step}: reservedFen ${reservedFen} > ${limits.fundsFen}`)
    if (openOrders !== tableOrders || openLots !== tableLots || reservedFen !== tableFen) {
      fail(`step ${step}: totals ${openOrders}/${openLots}/${reservedFen}, order table ${tableOrders}/${tableLots}/${tableFen}`)
    }
    positionsNow.forEach(([long, workingLong, short, workingShort, book], i) => {
      if (long + workingLong > limits.maxLongLots) fail(`step ${step}: ${instruments[i]!.symbol} long ${long + workingLong} > ${limits.maxLongLots}`)
      if (short + workingShort > limits.maxShortLots) fail(`step ${step}: ${instruments[i]!.symbol} short ${short + workingShort} > ${limits.maxShortLots}`)
      for (let b = 0; b < BOOK_FROZEN; b++) {
        if (book[b]! < 0 || book[b + BOOK_FROZEN]! < 0 || book[b + BOOK_FROZEN]! > book[b]!) fail(`step ${step}: ${instruments[i]!.symbol} book ${book.join(',')}`)
      }
    })
  }

  const count = (name: string): void => { result.outcomes[name] = (result.outcomes[name] ?? 0) + 1 }
  const fill = (w: Working, lots: number): number => {
    const leaves = engine.onFill(ctx.account, w.slot, lots)
    w.leaves -= lots
    // BUY opens long or closes short; SELL opens short or closes long.
    const long = (w.side === Side.BUY) !== isClose(w.offset)
    const moved = isClose(w.offset) ? -lots : lots
    if (long) result.longLots[w.instrument] = result.longLots[w.instrument]! + moved
    else result.shortLots[w.instrument] = result.shortLots[w.instrument]! + moved
    result.tradedLots += lots
    if (leaves !== w.leaves) fail(`fill left ${leaves} working, expected ${w.leaves}`)
    return leaves
  }
  const done = (w: Working, cancelled: boolean): void => {
    engine.onOrderDone(ctx, w.slot, instruments[w.instrument]!, cancelled, verdict)
    working.splice(working.indexOf(w), 1)
  }

  // Start together: the last worker to arrive wakes the others.
  if (Atomics.add(sync, SYNC_READY, 1) + 1 === data.workers) Atomics.notify(sync, SYNC_READY)
  for (let ready = Atomics.load(sync, SYNC_READY); ready < data.workers; ready = Atomics.load(sync, SYNC_READY)) Atomics.wait(sync, SYNC_READY, ready)

  const othersDone = (): number => {
    let total = 0
    for (let w = 0; w < data.workers; w++) if (w !== data.workerIndex) total += Atomics.load(sync, SYNC_PROGRESS + w)
    return total
  }
  let others = othersDone()
  data.script.forEach((op, step) => {
    if (Atomics.load(control, lock) !== 0) result.contended++
    if (op.kind === 'order') {
      const instrument = instruments[op.instrument]!
      const slot = engine.checkNewOrder(ctx, instrument, op.side, instrument.referencePrice + op.tick * 10, op.lots, TimeInForce.GFD, false,
        linkOrderId++, nowMs, verdict, op.offset)
      count(slot >= 0 ? 'pass' : reasonName(verdict.reason))
      if (slot >= 0) {
        result.actions++
        working.push({ slot, instrument: op.instrument, side: op.side, offset: op.offset, leaves: op.lots })
      }
    } else if (working.length > 0) {
      const w = working[op.pick % working.length]!
      if (op.kind === 'cancel') {
        if (engine.checkCancel(ctx, w.slot, instruments[w.instrument]!, nowMs, verdict)) result.actions++
        else fail(`cancel refused: ${reasonName(verdict.reason)}`)
        done(w, true)
      } else if (op.kind === 'reject') {
        done(w, false)
      } else if (op.kind === 'fill') {
        fill(w, w.leaves)
        done(w, false)
      } else if (w.leaves > 1) {
        fill(w, Math.min(op.lots, w.leaves - 1))
      }
    }
    if (Atomics.load(control, lock) !== 0) result.contended++
    audit(step)
    Atomics.store(sync, SYNC_PROGRESS + data.workerIndex, step + 1)
    const now = othersDone()
    if (now !== others) result.interleaved++
    others = now
  })
  // Every order done: the exchange cancels what is left.
  for (const w of [...working]) done(w, true)
  audit(data.script.length)
  return result
}
