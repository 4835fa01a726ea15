// In-thread micro-benchmarks, run in a process of their own (forked by
// run.ts while no system is running):
//
// - checks: checkOrderValidity() alone, with one reused verdict, as the lane
//   calls it (the baseline); then, in the same run, the whole per-order
//   check path the lane runs: session throttle, validity, the risk engine's
//   checkNewOrder over the shared risk state, and the release
//   (onOrderDone) when the order is done. Time per order and bytes
//   allocated per order for each.
// - working-orders: the lane's working-order slot table against the object
//   per order it replaced (working-orders-bench.ts), appended to checks.
// - codec: encode + decode of a NewOrder ClientEnvelope with the generated
//   static code, with protobufjs reflection (loadSync of the .proto files),
//   and as JSON. The protocol issue picks static vs reflection by this.
// - journal: what the retention journal costs a lane per message: append
//   of a client NewOrder frame as the lane journals it, and the commit of
//   the turn's batch (one write(2)), at 1 record a batch (an hft turn) and
//   16 and 64 (a busy platform turn), under the default fsync policy, on
//   this machine's disk. The batch loop is bench/journal-bench.ts's.
//
// How time and allocation are read: bench/micro-timing.ts.
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'
import { ClientEnvelope, RejectReason, Side, TimeInForce, Instrument, reasonName, v1, wireInt, type NewOrder, type Instrument as InstrumentType } from '../protocol/messages.js'
import { checkOrderValidity, newCheckVerdict } from '../checks/order-validity.js'
import { IN_LINK_ORDER_ID, IN_NOW_MS, IN_PRICE, RiskEngine, newRiskVerdict, type RiskContext } from '../checks/risk-engine.js'
import { RISK_LANES, type RiskControl } from '../checks/risk-control.js'
import { Limit, LIMIT_NAMES } from '../checks/limits.js'
import { SessionThrottle } from '../checks/sliding-window.js'
import { DEFAULT_INSTRUMENTS } from '../exchange-sim/instruments.js'
import { type LimitSetConfig } from '../config/config.js'
import { resolveConfig } from '../config/load.js'
import { DEFAULT_CONFIG } from '../config/defaults.js'
import { createRiskControl } from '../config/risk-config.js'
import { DEMO_APP_ID } from '../protocol/demo-identity.js'
import { openBenchStream, timeBatches as timeJournalBatches, yieldTurn } from './journal-bench.js'
import { Direction, LANE_CODES, RecordKind, Scratch, encodeRecord, newRecordHead } from '../journal/record-format.js'
import { CLIENT_BODY_FIELDS } from '../protocol/body-fields.js'
import type { Histogram } from './histogram.js'
import { BENCH_RISK_LIMITS, fsyncText } from './gatehouse-config.js'
import type { ScenarioRow } from './types.js'
import { runHotCodecBench } from './hot-codec-bench.js'
import { runWorkingOrdersBench } from './working-orders-bench.js'
import { BATCH_OPS, measureAllocation, percentile, rowFrom, timeBatches, type AllocationReading } from './micro-timing.js'

/**
 * Calls per timed batch of the full check path: at ~2 µs a call a batch
 * still lasts ~0.4 ms, far above the clock's resolution, and the default
 * run's 3000 batches per row take about a second instead of six.
 */
const FULL_PATH_BATCH_OPS = 200
/** Calls before a full-path row is timed (~0.4 s). */
const FULL_PATH_WARMUP_CALLS = 200_000
/**
 * Calls per allocation chunk for an op that should allocate nothing: large
 * enough that the allocation granularity of the reading is noise.
 */
const ALLOCATION_CHUNK_OPS = 10_000
/** For ops that allocate hundreds of bytes: small enough that most chunks see no scavenge. */
const ALLOCATING_CHUNK_OPS = 200
const PROTOCOL_DIR = fileURLToPath(new URL('../../protocol/', import.meta.url))

export interface MicroOptions {
  /** Timed batches per benchmark (each BATCH_OPS calls). */
  samples: number
  /** Calls over which GCs are counted and allocation estimated. */
  allocationOps: number
}

/** rb2605 from the simulator's default listing, as the lane holds it: decoded from the link's bytes (class instance with prototype defaults). */
function benchInstrument (): InstrumentType {
  const listing = DEFAULT_INSTRUMENTS.find((i) => i.symbol === 'rb2605')
  if (listing === undefined) throw new Error('checks bench: rb2605 is not in DEFAULT_INSTRUMENTS')
  return Instrument.decode(Instrument.encode(v1.Instrument.create(listing)).finish())
}

// ---- the full check path ------------------------------------------------

/** The account the full check path trades for. */
const RISK_ACCOUNT = 'bench-risk'
/**
 * Simulated time between two orders of the account: 100 orders/s, under
 * the platform lane's account throttle (200/s) and the HF per-second
 * warning (240/s) and block (300/s), so that every order takes the passing
 * path. It is above the burst size (10 in one second), so the burst monitor
 * counts one burst per simulated second, as for any programmatic account.
 */
const ORDER_INTERVAL_MS = 10
/** Start of the simulated clock: 2026-01-05 09:00 +08:00. */
const CLOCK_START_MS = Date.UTC(2026, 0, 5, 1, 0, 0)
/**
 * One order in this many is a GFD cancelled when done, which the cancel
 * monitors count (FAK and FOK cancels are not counted, by the exchanges'
 * rule); the rest are FAK, as in the hft and platform load. Few enough
 * that an allocation chunk (10^4 orders, one trading day) stays under the
 * cancel warning level (400 per contract per day).
 */
const GFD_EVERY = 32
/**
 * Resting orders per side, none crossing any order of the loop, on the
 * same account and contract: self-match prevention has working orders on
 * the other side for every order, so it scans the account's order table
 * every time (the whole table: risk.capacity.openOrdersPerAccount slots).
 */
const RESTING_PER_SIDE = 4
const RESTING_SELL_PRICE = 3350
const RESTING_BUY_PRICE = 3050
/** The loop's prices: 3100-3299, inside the 500 bps band around 3200 and between the resting orders. */
const LOOP_PRICE_BASE = 3100
const LOOP_PRICE_SPAN = 200

/**
 * Limits that default to null (no limit) at every scope that applies to
 * a platform order on SHFE, set here at the account scope so that every
 * check has a finite level. The account scope also carries the platform
 * lane's throttles, so that lane 0 (terminal: 50 and 20 per second)
 * resolves the same values as lane 1 in the two-lane row.
 */
const ALL_FINITE_ACCOUNT_LIMITS: LimitSetConfig = {
  sessionMessagesPerSecond: 500,
  accountActionsPerSecond: 200,
  maxOrderLots: 100,
  priceBandBps: 500,
  largeOrderPctOfMax: 80,
  // The opening-volume monitor at levels no bench order reaches (the
  // orders never fill, so only working opens count): the check runs, it
  // neither warns nor refuses.
  openVolumeWarn: 400,
  openVolumeBlock: 500,
}

interface FullPathSetup {
  /** Row system name. */
  system: string
  /** Lanes whose RiskEngines take turns, one order each (indexes into RISK_LANES). */
  lanes: number[]
  /** The config's risk.limits overrides (merged over the defaults). */
  limits: unknown
  /** Resting orders per side (none: self-match prevention has nothing to scan). */
  restingPerSide: number
  note: string
}

interface FullPath {
  op: (i: number) => void
  /** Rolls the trading day: run between timed batches and allocation chunks, outside the readings. */
  between: () => void
  control: RiskControl
  /** Orders refused (by anything) and the first refusal, as text. */
  refused: () => { count: number, first: string }
  /** Orders that came back with a monitor warning set (informational; the order passed). */
  warnings: () => number
}

function buildFullPath (setup: FullPathSetup, instrument: InstrumentType, orders: NewOrder[]): FullPath {
  const config = resolveConfig({
    // The demo account with another ID; programmatic report confirmed, as
    // every bench account, so the burst monitor's reporting level passes.
    accounts: [{ ...DEFAULT_CONFIG.accounts[0]!, id: RISK_ACCOUNT, appIds: [DEMO_APP_ID], programmaticReport: 'confirmed' }],
    risk: { limits: setup.limits },
  })
  const control = createRiskControl(config)
  const account = control.accountIndex(RISK_ACCOUNT)!
  const app = control.appIndex(DEMO_APP_ID)!
  const engines = setup.lanes.map((lane) => new RiskEngine(control.buffers, lane))
  const contexts: RiskContext[] = setup.lanes.map((lane) => ({ lane, app, account }))
  // One session per lane, each with its own message throttle, sized as
  // the lane sizes it (up to the largest limit config accepts).
  const throttles = setup.lanes.map(() => new SessionThrottle(64, config.risk.capacity.rateRingSize))
  const risks = engines.map((engine) => {
    const risk = engine.instrumentRisk(instrument)
    if (risk === null) throw new Error('checks bench: no room for rb2605 in the shared instrument table')
    return risk
  })
  const checkVerdict = newCheckVerdict()
  const verdict = newRiskVerdict(8)
  // In a typed array, not a closure variable: a closure slot holding an
  // epoch-ms double would be re-boxed on every tick, and that allocation
  // would be the harness's, not the check path's.
  const clock = new Float64Array([CLOCK_START_MS])
  let linkOrderId = 0
  let day = 1
  let refusedCount = 0
  let firstRefusal = ''
  let warnings = 0
  const refuse = (stage: string, reason: number, limit: number, observed: number): void => {
    if (refusedCount++ === 0) firstRefusal = `${stage}: ${reasonName(reason)} (limit ${limit}, observed ${observed})`
  }

  // The resting orders, alternately on each lane; never released.
  for (let k = 0; k < setup.restingPerSide * 2; k++) {
    const lane = k % engines.length
    const sell = k % 2 === 0
    const nowMs = clock[0] += ORDER_INTERVAL_MS
    const slot = engines[lane]!.checkNewOrder(contexts[lane]!, risks[lane]!, sell ? Side.SELL : Side.BUY,
      sell ? RESTING_SELL_PRICE + (k >> 1) : RESTING_BUY_PRICE - (k >> 1), 1 + (k >> 1), TimeInForce.GFD, false, ++linkOrderId, nowMs, verdict)
    if (slot < 0) refuse('resting order', verdict.reason, verdict.limit, verdict.observed)
  }

  const laneMask = engines.length === 1 ? 0 : 1
  if (engines.length > 2) throw new Error('checks bench: at most two lanes take turns')
  // Per order, the engine calls the lane makes: the session throttle
  // (lane/client-edge.ts), validity and check-and-reserve
  // (lane/order-entry.ts); then, when the order's final report comes,
  // the release (lane/order-lifecycle.ts). Done at once here, so the state stays steady.
  const op = (i: number): void => {
    const order = orders[i & 1023]!
    const k = i & laneMask
    const engine = engines[k]!
    const ctx = contexts[k]!
    // Epoch milliseconds, as the lane's Date.now(), through the engine's
    // input array exactly as the lane passes it (unboxed).
    const input = engine.input
    input[IN_NOW_MS] = clock[0] += ORDER_INTERVAL_MS
    const limits = engine.limitsFor(ctx, -1, -1)
    if (!throttles[k]!.admit(input[IN_NOW_MS]!, limits[Limit.sessionMessagesPerSecond]!, 1000)) {
      refuse('session throttle', RejectReason.THROTTLED_SESSION, limits[Limit.sessionMessagesPerSecond]!, 0)
      return
    }
    if (!checkOrderValidity(order, instrument, checkVerdict)) {
      refuse('validity', checkVerdict.reason, checkVerdict.limit, checkVerdict.observed)
      return
    }
    input[IN_PRICE] = wireInt(order.price)
    input[IN_LINK_ORDER_ID] = ++linkOrderId
    const slot = engine.checkNewOrderInput(ctx, risks[k]!, order.side, order.quantityLots, order.timeInForce, order.reduceOnly, order.offsetFlag, order.hedgeFlag, verdict)
    if (slot < 0) {
      refuse('checkNewOrder', verdict.reason, verdict.limit, verdict.observed)
      return
    }
    if (verdict.warningMonitor !== 0) warnings++
    engine.onOrderDone(ctx, slot, risks[k]!, true, verdict)
  }
  // A new trading day per timed batch (FULL_PATH_BATCH_OPS orders) and per
  // allocation chunk (10^4): the daily monitors (HF daily 20,000 actions,
  // cancels 475) see a day's worth of orders, as in production, instead of
  // the whole run's millions.
  const between = (): void => { engines[0]!.rollTradingDay(++day) }
  return { op, between, control, refused: () => ({ count: refusedCount, first: firstRefusal }), warnings: () => warnings }
}

/** Limits an order of this setup is checked against (first lane), and the ones that are lifted (null). */
function effectiveLimitsOf (control: RiskControl, setup: FullPathSetup): { limits: Record<string, number | null>, lifted: string[] } {
  const limits = control.effectiveLimits({ lane: RISK_LANES[setup.lanes[0]!]!, appId: DEMO_APP_ID, account: RISK_ACCOUNT, instrument: 'rb2605', exchange: 'SHFE' })
  return { limits, lifted: LIMIT_NAMES.filter((name) => limits[name] === null) }
}

const FULL_PATH_SETUPS: FullPathSetup[] = [
  {
    system: 'risk-full-path',
    lanes: [1],
    limits: { accounts: { [RISK_ACCOUNT]: ALL_FINITE_ACCOUNT_LIMITS } },
    restingPerSide: RESTING_PER_SIDE,
    note: 'session throttle + checkOrderValidity + RiskEngine.checkNewOrder + onOrderDone, one lane (platform), every limit finite: ' +
      'the defaults (global, platform lane, SHFE preset) plus maxOrderLots 100, priceBandBps 500, largeOrderPctOfMax 80 and the platform ' +
      'throttles at the account scope. 100 simulated orders/s (under every throttle and HF level), 1 in 32 a GFD cancelled (cancel monitors count it), ' +
      'the rest FAK; 4 resting orders per side that never cross, so the self-match scan runs on every order; trading day rolled between batches.',
  },
  {
    system: 'risk-full-path-2-lanes',
    lanes: [0, 1],
    limits: { accounts: { [RISK_ACCOUNT]: ALL_FINITE_ACCOUNT_LIMITS } },
    restingPerSide: RESTING_PER_SIDE,
    note: 'as risk-full-path, but two RiskEngines (lane 0 terminal, lane 1 platform) on one thread take turns on the same account: ' +
      'the account lock is always free (uncontended path), the resting orders are on both lanes.',
  },
  {
    // A breakdown, not a configuration anyone runs: the difference from
    // risk-full-path is the self-match scan.
    system: 'risk-full-path-no-opposite',
    lanes: [1],
    limits: { accounts: { [RISK_ACCOUNT]: ALL_FINITE_ACCOUNT_LIMITS } },
    restingPerSide: 0,
    note: 'as risk-full-path, but with no working order on the other side, so self-match prevention skips its scan of the order table: ' +
      'the difference from risk-full-path is what the scan costs.',
  },
  {
    system: 'risk-full-path-bench-limits',
    lanes: [1],
    limits: BENCH_RISK_LIMITS,
    restingPerSide: RESTING_PER_SIDE,
    note: 'as risk-full-path, under the benchmark gateway\'s limits (bench/gatehouse-config.ts BENCH_RISK_LIMITS): the load-shaped limits lifted ' +
      '(null) and maxOrderLots, priceBandBps, largeOrderPctOfMax at their defaults (null); every check still runs. The difference from ' +
      'risk-full-path is what lifting costs or saves.',
  },
]

export async function runChecksBench (options: MicroOptions): Promise<ScenarioRow[]> {
  const instrument = benchInstrument()
  // Orders decoded from bytes, as the lane sees them; all pass, so the
  // whole path runs (every check, no early exit). Alternating sides.
  const orders: NewOrder[] = []
  for (let i = 0; i < 1024; i++) {
    const bytes = ClientEnvelope.encode({
      newOrder: {
        clientOrderId: i + 1,
        instrument: 'rb2605',
        side: i % 2 === 0 ? Side.BUY : Side.SELL,
        price: LOOP_PRICE_BASE + (i % LOOP_PRICE_SPAN),
        quantityLots: 1 + (i % 10),
        timeInForce: i % GFD_EVERY === GFD_EVERY - 1 ? TimeInForce.GFD : TimeInForce.FAK,
      },
    }).finish()
    orders.push(ClientEnvelope.decode(bytes).newOrder as NewOrder)
  }

  // Baseline: checkOrderValidity alone, on the same orders.
  const verdict = newCheckVerdict()
  let passed = 0
  const op = (i: number): void => { if (checkOrderValidity(orders[i & 1023]!, instrument, verdict)) passed++ }
  timeBatches(Math.max(10, options.samples / 10), op) // warm up: let V8 optimise first
  const sorted = timeBatches(options.samples, op)
  const allocation = await measureAllocation(options.allocationOps, ALLOCATION_CHUNK_OPS, op)
  if (passed === 0) throw new Error('checks bench: no order passed, the benchmark is not measuring the full path')
  const baseline = rowFrom('checks', 'checkOrderValidity', sorted, allocationFields(allocation))
  const rows = [baseline]

  for (const setup of FULL_PATH_SETUPS) {
    const path = buildFullPath(setup, instrument, orders)
    // Warm up by calls, at least FULL_PATH_WARMUP_CALLS: with less, the
    // first full-path row still read the JIT's own work as allocation.
    const warmupCalls = Math.max(FULL_PATH_WARMUP_CALLS, Math.max(10, options.samples / 10) * BATCH_OPS)
    timeBatches(warmupCalls / FULL_PATH_BATCH_OPS, path.op, path.between, FULL_PATH_BATCH_OPS)
    const pathSorted = timeBatches(options.samples, path.op, path.between, FULL_PATH_BATCH_OPS)
    const pathAllocation = await measureAllocation(options.allocationOps, ALLOCATION_CHUNK_OPS, path.op, path.between)
    const refused = path.refused()
    if (refused.count > 0) {
      throw new Error(`checks bench ${setup.system}: ${refused.count} orders refused, first by ${refused.first}; the benchmark must measure the passing path`)
    }
    const { limits, lifted } = effectiveLimitsOf(path.control, setup)
    const p50 = Number(baseline.ns_per_op_p50)
    const row = rowFrom('checks', setup.system, pathSorted, {
      ...allocationFields(pathAllocation),
      batch_ops: FULL_PATH_BATCH_OPS,
      baseline: 'checkOrderValidity',
      added_ns_p50_over_baseline: Math.round((percentile(pathSorted, 50) - p50) * 100) / 100,
      p50_vs_baseline: Math.round(percentile(pathSorted, 50) / p50 * 100) / 100,
      lanes: setup.lanes.map((lane) => RISK_LANES[lane]),
      simulated_orders_per_s: 1000 / ORDER_INTERVAL_MS,
      resting_orders: setup.restingPerSide * 2,
      order_table_slots: path.control.views.capacity.openOrdersPerAccount,
      refused: refused.count,
      orders_with_monitor_warning: path.warnings(),
      lifted_limits: lifted,
      effective_limits: limits,
      note: setup.note,
    })
    rows.push(row)
  }
  // The lane's working-order slot table against the object per order it replaced (working-orders-bench.ts).
  rows.push(...await runWorkingOrdersBench(Math.max(20, Math.round(options.samples / 5)), Math.max(20_000, Math.round(options.allocationOps / 5))))
  return rows
}

function allocationFields (allocation: AllocationReading): Record<string, unknown> {
  return {
    bytes_per_order: allocation.bytesPerOp,
    // The "allocation count": bytes the read chunks allocated in all, over
    // how many calls, and the collections that ran.
    bytes_allocated: allocation.bytesTotal,
    allocation_calls: allocation.measuredOps,
    minor_gcs: allocation.minorGcs,
    major_gcs: allocation.majorGcs,
  }
}

/** The .proto files loaded at run time, 64-bit integers as numbers (Long is off: messages.js was imported). */
function reflectionEnvelopeType (): protobuf.Type {
  const root = new protobuf.Root()
  root.resolvePath = (_origin, target) => PROTOCOL_DIR + target
  root.loadSync(['gatehouse/v1/common.proto', 'gatehouse/v1/client.proto'])
  return root.lookupType('gatehouse.v1.ClientEnvelope')
}

export async function runCodecBench (options: MicroOptions): Promise<ScenarioRow[]> {
  const reflected = reflectionEnvelopeType()
  const envelopeAt = (i: number): Record<string, unknown> => ({
    seq: i + 1,
    sentTimeUs: 1_767_225_600_000_000 + i,
    newOrder: { clientOrderId: i + 1, instrument: 'rb2605', side: Side.BUY, price: 3200, quantityLots: 1, timeInForce: TimeInForce.FAK },
  })
  // Prove the three agree before timing them.
  const sample = envelopeAt(41)
  const staticBytes = ClientEnvelope.encode(sample).finish()
  const reflectedBytes = reflected.encode(sample).finish()
  if (Buffer.compare(Buffer.from(staticBytes), Buffer.from(reflectedBytes)) !== 0) throw new Error('codec bench: static and reflection encodings differ')
  const decoded = reflected.decode(staticBytes) as unknown as { newOrder: { clientOrderId: unknown } }
  if (decoded.newOrder.clientOrderId !== 42) throw new Error('codec bench: reflection did not decode 64-bit integers as numbers (is Long off?)')

  let sink = 0
  const variants: Array<[string, (i: number) => void]> = [
    ['protobuf-static', (i) => {
      const bytes = ClientEnvelope.encode(envelopeAt(i)).finish()
      sink += ClientEnvelope.decode(bytes).newOrder!.quantityLots!
    }],
    ['protobuf-reflection', (i) => {
      const bytes = reflected.encode(envelopeAt(i)).finish()
      sink += (reflected.decode(bytes) as unknown as { newOrder: { quantityLots: number } }).newOrder.quantityLots
    }],
    ['json', (i) => {
      const bytes = Buffer.from(JSON.stringify(envelopeAt(i)))
      sink += (JSON.parse(bytes.toString()) as { newOrder: { quantityLots: number } }).newOrder.quantityLots
    }],
  ]
  const encodedBytes: Record<string, number> = {
    'protobuf-static': staticBytes.length,
    'protobuf-reflection': reflectedBytes.length,
    json: Buffer.byteLength(JSON.stringify(sample)),
  }
  const rows: ScenarioRow[] = []
  for (const [system, op] of variants) {
    timeBatches(Math.max(10, options.samples / 10), op)
    const sorted = timeBatches(options.samples, op)
    const allocation = await measureAllocation(Math.min(options.allocationOps, 200_000), ALLOCATING_CHUNK_OPS, op)
    rows.push(rowFrom('codec', system, sorted, { encoded_bytes: encodedBytes[system], bytes_per_op: allocation.bytesPerOp, minor_gcs: allocation.minorGcs }))
  }
  if (sink === 0) throw new Error('codec bench: nothing decoded')
  // The lane's hand codecs against protobufjs, per hot message (hot-codec-bench.ts).
  rows.push(...await runHotCodecBench(Math.min(options.samples, 400), Math.min(options.allocationOps, 100_000)))
  return rows
}

// ---- journal ------------------------------------------------------------

/** Records per batch: one hft order per turn, and busy platform turns. */
const JOURNAL_BATCH_SIZES = [1, 16, 64]
/** Appends before a batch size is timed, so V8 has optimised the path. */
const JOURNAL_WARMUP_RECORDS = 50_000
/** Records per allocation chunk: whole batches of every size, and few enough that most chunks see no scavenge. */
const JOURNAL_ALLOCATION_CHUNK = 256
/** The account the hft bench sessions log on with (run.ts), which the lane puts in every record of the session. */
const JOURNAL_ACCOUNT = 'bench-hft'

/**
 * A NewOrder ClientEnvelope as a client that numbers and timestamps its
 * messages sends it (every field set but reduce_only), encoded by the
 * generated codec: the lane journals the frame's bytes as received.
 */
function journalOrderFrame (): Uint8Array {
  return ClientEnvelope.encode({
    seq: 1_234_567,
    sentTimeUs: 1_767_225_600_123_456,
    newOrder: { clientOrderId: 100_000_000_123, instrument: 'rb2605', side: Side.SELL, price: 3201, quantityLots: 1, timeInForce: TimeInForce.FAK },
  }).finish()
}

/** Value at percentile `p` of a histogram of ns per batch, per record. */
function perRecordNs (h: Histogram, p: number, batchRecords: number): number {
  return Math.round(h.getValueAtPercentile(p) / batchRecords * 100) / 100
}

/**
 * The floor of one commit: a bare write(2) of the bytes a batch of this
 * size writes, to a file on the same disk, yielding between writes as the
 * journal loop does. No encoding, CRC, hash chain or fsync.
 */
async function timeBareWrites (dir: string, bytesPerBatch: number, batches: number, warmupBatches: number): Promise<Float64Array> {
  const fd = openSync(join(dir, `bare-write-${bytesPerBatch}`), 'ax')
  const buf = Buffer.alloc(bytesPerBatch, 0x5a)
  const ns = new Float64Array(batches)
  try {
    for (let b = -Math.min(warmupBatches, batches); b < batches; b++) {
      const t0 = process.hrtime.bigint()
      writeSync(fd, buf, 0, bytesPerBatch)
      const elapsed = Number(process.hrtime.bigint() - t0)
      if (b >= 0) ns[b] = elapsed
      await yieldTurn()
    }
  } finally {
    closeSync(fd)
  }
  return ns.sort()
}

export async function runJournalBench (options: MicroOptions): Promise<ScenarioRow[]> {
  // On the disk the bench gateways journal to (os.tmpdir(), as their run
  // directories): the write(2) is part of what is measured.
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-journal-micro-'))
  const fsync = DEFAULT_CONFIG.journal.fsync
  const frame = journalOrderFrame()
  // The head the lane uses for a session's client frames
  // (lane/lane-journal.ts sessionHeads, the account set at logon).
  const head = newRecordHead({ kind: RecordKind.CLIENT_IN, lane: LANE_CODES.hft, direction: Direction.IN, sessionId: 1, account: JOURNAL_ACCOUNT, msgType: CLIENT_BODY_FIELDS.newOrder! })
  const probe = new Scratch()
  encodeRecord(probe, head, 1, 0, frame)
  const recordBytes = probe.length
  const rows: ScenarioRow[] = []
  try {
    for (const batchRecords of JOURNAL_BATCH_SIZES) {
      const j = openBenchStream(dir, fsync)
      const batches = options.samples * 5
      const warmupBatches = Math.min(Math.ceil(JOURNAL_WARMUP_RECORDS / batchRecords), options.samples * 20)
      const { histogram, bytes } = await timeJournalBatches(j, head, frame, { batchRecords, batches, warmupBatches, timed: 'append+commit' })
      const fsyncs = j.stats().fsyncs
      // Allocation over whole batches, in one synchronous loop: nothing
      // else runs in between, so the new space grows only by what append
      // and commit allocate (no interval fsync fires inside a chunk).
      const allocation = await measureAllocation(Math.min(options.allocationOps, 200_000), JOURNAL_ALLOCATION_CHUNK, (i) => {
        j.append(head, frame)
        if ((i + 1) % batchRecords === 0) j.commit()
      })
      j.close()
      const bytesPerBatch = Math.round(bytes / batches)
      const bare = await timeBareWrites(dir, bytesPerBatch, batches, warmupBatches)
      const bareP50 = percentile(bare, 50)
      const p50Batch = histogram.getValueAtPercentile(50)
      const us = (ns: number): number => Math.round(ns) / 1000
      rows.push({
        name: 'journal',
        system: `append-commit-batch-${batchRecords}`,
        rate_per_s: 0,
        p50_us: us(perRecordNs(histogram, 50, batchRecords)),
        p99_us: us(perRecordNs(histogram, 99, batchRecords)),
        p999_us: us(perRecordNs(histogram, 99.9, batchRecords)),
        max_us: us(histogram.maxValue / batchRecords),
        // Records per second one thread could journal at the p50 cost.
        throughput_per_s: Math.round(1e9 / perRecordNs(histogram, 50, batchRecords)),
        mode: 'in-thread',
        ns_per_record_p50: perRecordNs(histogram, 50, batchRecords),
        ns_per_record_p99: perRecordNs(histogram, 99, batchRecords),
        ns_per_record_p999: perRecordNs(histogram, 99.9, batchRecords),
        ns_per_batch_p50: p50Batch,
        batch_records: batchRecords,
        batches,
        samples: batches,
        payload_bytes: frame.length,
        record_bytes: recordBytes,
        bytes_per_batch: bytesPerBatch,
        fsync: fsyncText(fsync),
        fsyncs,
        bytes_per_record: allocation.bytesPerOp,
        bytes_allocated: allocation.bytesTotal,
        allocation_calls: allocation.measuredOps,
        minor_gcs: allocation.minorGcs,
        major_gcs: allocation.majorGcs,
        // The same run's floor: write(2) of the same bytes, nothing else.
        baseline: 'write(2) alone',
        write_syscall_ns_per_batch_p50: Math.round(bareP50),
        write_syscall_ns_per_batch_p99: Math.round(percentile(bare, 99)),
        added_ns_per_batch_p50_over_write: Math.round(p50Batch - bareP50),
        note: `lane path for one client NewOrder frame (${frame.length}-byte ClientEnvelope, every field but reduce_only set; account '${JOURNAL_ACCOUNT}'): ` +
          `JournalStream.append (encode + CRC-32 into the batch) x ${batchRecords}, then one commit() (SHA-256 chain over the batch, batch seal, ` +
          `one write(2) through SonicBoom) per event-loop turn, under the default policy (${fsyncText(fsync)}: fdatasync on the thread pool, ` +
          'yielding every batch so it runs as it would live). Timed per batch, divided by the batch size; allocation read from the new space ' +
          'over whole batches (bench/journal-bench.ts timeBatches; bytes_per_record includes each commit\'s share). ' +
          'write_syscall_ns_per_batch_*: a bare writeSync of the same bytes in the same run, the floor of one commit.',
      })
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  return rows
}

// Forked by run.ts: {type:'run', which, options} in, {type:'result', rows} out.
if (process.send !== undefined && process.argv.includes('--child')) {
  process.on('disconnect', () => { process.exit(0) })
  process.once('message', (message: { which: 'checks' | 'codec' | 'journal', options: MicroOptions }) => {
    const run = message.which === 'checks' ? runChecksBench : message.which === 'codec' ? runCodecBench : runJournalBench
    run(message.options).then((rows) => {
      process.send!({ type: 'result', rows }, () => { process.disconnect() })
    }, (err: unknown) => {
      process.send!({ type: 'failed', error: err instanceof Error ? err.stack ?? err.message : String(err) }, () => { process.disconnect() })
    })
  })
}
