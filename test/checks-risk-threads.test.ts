// Two real lane threads trade the same account at once, each with its own
// RiskEngine over the one set of shared buffers, as the gateway runs them.
// Each worker (helpers/risk-thread-worker.ts) runs a seeded fast-check
// script of orders, fills and cancels and audits the account under its lock
// after every step. Here: no audit ever found a limit exceeded or a total
// out of step with the order table, the two really ran concurrently, and
// when all is done nothing is left reserved or working and every fill and
// action was counted exactly once (a lost update would show).
import t from 'tap'
import fc from 'fast-check'
import { Worker } from 'node:worker_threads'
import type { LimitSet } from '../checks/risk-control.js'
import { resolveConfig } from '../config/load.js'
import { DEMO_APP_ID } from '../protocol/demo-identity.js'
import { createRiskControl } from '../config/risk-config.js'
import { DEFAULT_INSTRUMENTS } from '../exchange-sim/instruments.js'
import { OffsetFlag, Side } from '../protocol/messages.js'
import type { RiskThreadLimits, RiskThreadOp, RiskThreadResult, RiskThreadWorkerData } from './helpers/risk-thread-worker.js'

const WORKER_URL = new URL('./helpers/risk-thread-worker.js', import.meta.url)
const CAPACITY = { accounts: 4, appIds: 4, instruments: 16, instrumentsPerAccount: 4, openOrdersPerAccount: 256, rateRingSize: 1024 }
const CONFIG = resolveConfig({ risk: { capacity: CAPACITY } })
const ACCOUNT = 'demo-maker'
const LANES = [1, 2] // platform and hft: two lane threads
const SEEDS = [11, 22, 33, 44, 55, 66, 77, 88]
const OPS_PER_WORKER = 4000
const SYMBOLS = ['rb2605', 'm2605']
const INSTRUMENTS = SYMBOLS.map((symbol) => DEFAULT_INSTRUMENTS.find((i) => i.symbol === symbol)!)
const LIMITS: RiskThreadLimits = { maxOpenOrders: 6, maxLongLots: 12, maxShortLots: 12, fundsFen: 3_000_000 }
/** Only the limits under test can refuse; the monitors would block a long script. */
const ACCOUNT_LIMITS: LimitSet = {
  accountActionsPerSecond: null, hfPerSecondWarn: null, hfPerSecondBlock: null, hfDailyBlock: null, hfBurstsReporting: null,
  cancelsBlock: null, largeCancelsBlock: null, selfTradesBlock: null, maxDailyVolumeLots: null,
  maxOpenOrders: LIMITS.maxOpenOrders, maxLongLots: LIMITS.maxLongLots, maxShortLots: LIMITS.maxShortLots, funds: LIMITS.fundsFen / 100,
}

const opArb: fc.Arbitrary<RiskThreadOp> = fc.record({
  kind: fc.oneof(
    { weight: 5, arbitrary: fc.constant('order' as const) },
    { weight: 2, arbitrary: fc.constantFrom('cancel' as const, 'fill' as const) },
    { weight: 1, arbitrary: fc.constantFrom('partial' as const, 'reject' as const) },
  ),
  instrument: fc.integer({ min: 0, max: INSTRUMENTS.length - 1 }),
  side: fc.constantFrom(Side.BUY, Side.SELL),
  // Overlapping buy and sell prices: the lanes' orders cross now and then,
  // so self-match prevention reads the other lane's orders too.
  tick: fc.integer({ min: -3, max: 3 }),
  lots: fc.integer({ min: 1, max: 5 }),
  pick: fc.nat(),
  // Opens, and closes of the positions both threads' fills built (each
  // lane's closes freeze lots the other lane's closes may not take).
  offset: fc.constantFrom(OffsetFlag.OFFSET_OPEN, OffsetFlag.OFFSET_OPEN, OffsetFlag.OFFSET_CLOSE, OffsetFlag.OFFSET_CLOSE_TODAY),
})
const scriptArb = fc.array(opArb, { minLength: OPS_PER_WORKER, maxLength: OPS_PER_WORKER })

/** Runs the workers together; if one fails, the others are stopped (they would wait for it at the start gate forever). */
async function runWorkers (data: RiskThreadWorkerData[]): Promise<RiskThreadResult[]> {
  // Compiled JS needs no loaders: without execArgv the workers inherit
  // tap's TypeScript and coverage hooks, and take seconds to start.
  const workers = data.map((workerData) => new Worker(WORKER_URL, { workerData, execArgv: ['--enable-source-maps'] }))
  try {
    return await Promise.all(workers.map((worker) => new Promise<RiskThreadResult>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
      worker.once('exit', (code) => { reject(new Error(`risk thread worker exited with code ${code} before reporting`)) })
    })))
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()))
  }
}

const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0)

t.test('two lane threads on one account never exceed a limit and release exactly', async (t) => {
  let concurrentRuns = 0
  let contendedSteps = 0
  for (const seed of SEEDS) {
    const control = createRiskControl(CONFIG)
    control.setLimits({ kind: 'account', account: ACCOUNT }, ACCOUNT_LIMITS)
    const app = control.appIndex(DEMO_APP_ID)!
    const account = control.accountIndex(ACCOUNT)!
    const sync = new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT * (1 + LANES.length))
    const scripts = fc.sample(scriptArb, { seed, numRuns: LANES.length })
    const results = await runWorkers(LANES.map((lane, workerIndex) => ({
      buffers: control.buffers, sync, workers: LANES.length, workerIndex,
      ctx: { lane, app, account }, instruments: INSTRUMENTS, limits: LIMITS, script: scripts[workerIndex]!,
    })))

    t.same(results.flatMap((r) => r.violations), [], `seed ${seed}: no audit found a limit exceeded or totals out of step`)
    t.same(results[1]!.instrumentIndexes, results[0]!.instrumentIndexes, `seed ${seed}: one shared index per instrument`)
    for (const [i, r] of results.entries()) {
      t.ok((r.outcomes.pass ?? 0) > 0 && Object.keys(r.outcomes).length > 1, `seed ${seed} worker ${i}: orders passed and were refused`)
    }
    const c = control.counters(ACCOUNT)
    t.match(c, { openOrders: 0, openLots: 0, reservedFen: 0 }, `seed ${seed}: nothing reserved once every order is done`)
    t.equal(c.tradedLotsToday, sum(results.map((r) => r.tradedLots)), `seed ${seed}: every fill counted once`)
    t.equal(c.actionsToday, sum(results.map((r) => r.actions)), `seed ${seed}: every order and cancel counted once`)
    SYMBOLS.forEach((symbol, i) => {
      const p = c.instruments.find((x) => x.instrument === symbol)
      t.match(p, {
        longTodayLots: sum(results.map((r) => r.longLots[i]!)),
        shortTodayLots: sum(results.map((r) => r.shortLots[i]!)),
        longTodayFrozenLots: 0, shortTodayFrozenLots: 0, workingOpenLongLots: 0, workingOpenShortLots: 0,
        workingBuyLots: 0, workingSellLots: 0, workingBuyOrders: 0, workingSellOrders: 0,
      }, `seed ${seed} ${symbol}: position is the sum of both threads' fills, nothing working or frozen`)
    })
    const interleaved = results.map((r) => r.interleaved)
    const contended = sum(results.map((r) => r.contended))
    contendedSteps += contended
    if (interleaved.every((n) => n > 0)) concurrentRuns++
    const outcomes: Record<string, number> = {}
    for (const r of results) for (const [name, n] of Object.entries(r.outcomes)) outcomes[name] = (outcomes[name] ?? 0) + n
    t.comment(`seed ${seed}: steps that saw the other thread progress ${interleaved.join(' / ')} of ${OPS_PER_WORKER}, lock found held ${contended} times; ` +
      Object.entries(outcomes).map(([name, n]) => `${name} ${n}`).join(', '))
  }
  // Each worker counts its own steps during which the other completed one
  // (both non-zero: the scripts overlapped in time), and steps that found
  // the account lock held by the other thread (they fought over it).
  t.ok(concurrentRuns > 0, `the two threads ran concurrently (in ${concurrentRuns} of ${SEEDS.length} runs)`)
  t.ok(contendedSteps > 0, `and contended for the account lock (${contendedSteps} steps found it held)`)
})
