// `gatehouse cluster-demo` (`npm run cluster-demo`): the quick start of a
// cluster. It starts a local nats-server with JetStream, the exchange
// simulator and two gateway instances, then shows each thing the cluster
// adds, as numbered steps a person can follow, each ✓ or ✗:
// a logon at the wrong instance follows the redirect, both instances
// trade, a global kill switch set on one instance stops both, and every
// record of both instances is verified from JetStream. It stops what it
// started (also on failure, Ctrl-C or its overall timeout) and exits 0
// only if every step passed.
//
// Everything it checks goes through what an operator or a client would
// use: `gatehouse start`, the client library, `gatehouse admin` and
// `gatehouse journal verify`, each run as its own process or library call.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { EXIT_FAILED, EXIT_OK, isUsageError, processIo, refuseUsage, type CommandIo } from '../../platform/cli-kit.js'
import { startNatsServer, type NatsServerProcess } from '../../cluster/nats-server-process.js'
import { startExchangeSimProcess, type ExchangeSimProcess } from '../../supervisor/exchange-sim-process.js'
import { runCli } from '../../platform/cli-process.js'
import { GatehouseClient } from '../../client/gatehouse-client.js'
import { expectReport } from '../../client/demo.js'
import { DEMO_APP_ID, DEMO_AUTH_CODE, DEMO_TERMINAL_INFO } from '../../protocol/demo-identity.js'
import { ExecType, Side, reasonName, wireInt, type ExecutionReport, type Instrument } from '../../protocol/messages.js'
import { verifyJournal } from '../../journal/verify.js'
import {
  DEMO_ACCOUNTS, INSTANCE_IDS, demoConfig, laneUrl, pickLanePorts, startGatewayChild, writeDemoConfig,
  type DemoAccount, type GatewayChild, type InstanceId, type LanePorts,
} from './demo-cluster.js'

/** The CLI's own environment: without a test runner's NODE_OPTIONS (its loaders), as an operator runs it. */
const CLEAN_ENV = { env: { ...process.env, NODE_OPTIONS: '' } }

const COMMAND = 'gatehouse cluster-demo'

export const CLUSTER_DEMO_HELP = `usage: gatehouse cluster-demo [options]

Starts a local nats-server with JetStream, the exchange simulator and two
gateway instances (gw1, gw2) on loopback, then, printing each step with ✓
or ✗:
  - logs an account homed on gw2 on at gw1: the client follows the
    WRONG_INSTANCE redirect to gw2;
  - trades on both instances (an order filled against a crossing order, a
    resting order cancelled);
  - sets a global kill switch on gw1 through its admin socket: both
    instances apply it and refuse new orders; then lifts it;
  - stops the gateways and verifies every journal record of both instances
    from the JetStream stream (\`gatehouse journal verify --nats\`), record
    for record against the local journals.
Stops everything it started, also on failure or Ctrl-C, and exits 0 only
if every step passed (1 otherwise, naming the failed steps).

options:
  --instrument SYMBOL  instrument to trade (default rb2605)
  --timeout-ms N       overall time budget (default 120000)
  --nats-server CMD    the nats-server executable (default nats-server on PATH)
  --keep               keep the temporary directory (configs, journals,
                       logs, the NATS store) and print where it is
  -h, --help           show this help
`

/** How long one client exchange (an ack, a fill, a reject) may take. */
const REPLY_WAIT_MS = 5000
/** How long a gateway may take to be ready. */
const START_WAIT_MS = 30_000

const DEMO_IDENTITY = { appId: DEMO_APP_ID, authCode: DEMO_AUTH_CODE, terminalInfo: DEMO_TERMINAL_INFO }

/** A step that did not happen as it should: its message is the ✗ line's reason (an error with a GH_ERR_ code shows the code too). */
const StepFailed = Error

interface StepResult { number: number, title: string, ok: boolean }

/** Everything the demo started, so it can be stopped whatever happened. */
interface Running {
  dir: string
  nats: NatsServerProcess | null
  sim: ExchangeSimProcess | null
  gateways: Partial<Record<InstanceId, GatewayChild>>
  /** Gateways spawned and not yet ready: stopped too if the demo ends meanwhile. */
  spawned: Array<(graceMs?: number) => Promise<void>>
  /** Set once stopAll ran: a start that finishes after that (a step cut off by Ctrl-C) stops what it started at once. */
  closed: boolean
  ports: Partial<Record<InstanceId, LanePorts>>
  clients: GatehouseClient[]
}

export async function runClusterDemoCommand (argv: string[], io: CommandIo = processIo): Promise<number> {
  let values: { instrument: string, 'timeout-ms': string, 'nats-server': string, keep?: boolean, help?: boolean }
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        instrument: { type: 'string', default: 'rb2605' },
        'timeout-ms': { type: 'string', default: '120000' },
        'nats-server': { type: 'string', default: 'nats-server' },
        keep: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }) as { values: typeof values })
  } catch (err) {
    if (!isUsageError(err)) throw err
    return refuseUsage(io, COMMAND, err.message, CLUSTER_DEMO_HELP)
  }
  if (values.help === true) {
    io.out(CLUSTER_DEMO_HELP)
    return EXIT_OK
  }
  const timeoutMs = Number(values['timeout-ms'])
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1000) {
    return refuseUsage(io, COMMAND, `--timeout-ms: expected a whole number of milliseconds from 1000; got '${values['timeout-ms']}'`, CLUSTER_DEMO_HELP)
  }

  const started = Date.now()
  const running: Running = { dir: mkdtempSync(join(tmpdir(), 'gh-cluster-demo-')), nats: null, sim: null, gateways: {}, spawned: [], closed: false, ports: {}, clients: [] }
  const results: StepResult[] = []
  // Ctrl-C or the overall timeout ends the current step and every later one.
  let abortReason: string | null = null
  let abort: (reason: string) => void = () => {}
  const aborted = new Promise<never>((_resolve, reject) => {
    abort = (reason) => {
      if (abortReason !== null) return
      abortReason = reason
      reject(new StepFailed(reason))
    }
  })
  aborted.catch(() => {})
  const overall = setTimeout(() => { abort(`the demo ran out of its ${timeoutMs} ms budget`) }, timeoutMs)
  const onSignal = (signal: string) => () => { abort(`stopped by ${signal}`) }
  const onInt = onSignal('SIGINT')
  const onTerm = onSignal('SIGTERM')
  process.on('SIGINT', onInt)
  process.on('SIGTERM', onTerm)

  const elapsed = (): string => `${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s`
  /** Runs one numbered step; prints `N ✓ title` with its detail lines, or `N ✗ title: why`. Returns whether it passed. */
  const step = async (title: string, body: () => Promise<string[] | void>): Promise<boolean> => {
    const number = results.length + 1
    if (abortReason !== null) {
      results.push({ number, title, ok: false })
      io.out(`${String(number).padStart(2)} ✗ ${title}: not run (${abortReason})\n`)
      return false
    }
    try {
      const detail = await Promise.race([body(), aborted]) ?? []
      results.push({ number, title, ok: true })
      io.out(`${String(number).padStart(2)} ✓ ${title}  [${elapsed()}]\n${detail.map((line) => `     ${line}\n`).join('')}`)
      return true
    } catch (err) {
      results.push({ number, title, ok: false })
      const code = (err as { code?: unknown }).code
      const why = `${typeof code === 'string' && code.startsWith('GH_ERR_') ? `${code}: ` : ''}${(err as Error).message}`
      io.out(`${String(number).padStart(2)} ✗ ${title}: ${why}  [${elapsed()}]\n`)
      return false
    }
  }
  /** A step that cannot run because an earlier one failed: ✗, with the reason. */
  const notRun = (title: string, because: string): void => {
    results.push({ number: results.length + 1, title, ok: false })
    io.out(`${String(results.length).padStart(2)} ✗ ${title}: not run (${abortReason ?? because})\n`)
  }

  io.out(`Gatehouse cluster demo: nats-server, the exchange simulator and two gateway instances on loopback, under ${running.dir}\n`)
  try {
    await runSteps(values.instrument, values['nats-server'], running, step, notRun)
  } finally {
    clearTimeout(overall)
    const stopped = await stopAll(running)
    for (const problem of stopped) io.out(`   (stopping: ${problem})\n`)
    process.off('SIGINT', onInt)
    process.off('SIGTERM', onTerm)
    if (values.keep === true) io.out(`kept ${running.dir} (configs, journals, logs, the NATS store)\n`)
    else {
      try {
        rmSync(running.dir, { recursive: true, force: true })
      } catch (err) {
        io.out(`   (could not remove ${running.dir}: ${(err as Error).message})\n`)
      }
    }
  }
  // After Ctrl-C or the timeout the step that was cut off may still await
  // a reply (its timer holds the process): everything is stopped, so do
  // not wait for it.
  if (abortReason !== null) setTimeout(() => { process.exit(EXIT_FAILED) }, 1000).unref()
  const failed = results.filter((r) => !r.ok)
  if (failed.length === 0) {
    io.out(`cluster demo passed: all ${results.length} steps in ${elapsed().trim()}\n`)
    return EXIT_OK
  }
  io.out(`cluster demo FAILED: step${failed.length === 1 ? '' : 's'} ${failed.map((r) => `${r.number} (${shortName(r.title)})`).join(', ')} of ${results.length} (the ✗ lines above say why)\n`)
  return EXIT_FAILED
}

type Step = (title: string, body: () => Promise<string[] | void>) => Promise<boolean>

async function runSteps (symbol: string, natsCommand: string, running: Running, step: Step, notRun: (title: string, because: string) => void): Promise<void> {
  const natsOk = await step(STEP_TITLES.nats, async () => {
    const nats = await startNatsServer({ storeDir: join(running.dir, 'nats'), command: natsCommand })
    if (running.closed) await nats.stop()
    running.nats = nats
    return [`${nats.url} (pid ${nats.child.pid}, store ${nats.storeDir})`]
  })
  if (!natsOk) {
    for (const title of stepsAfter('nats')) notRun(title, 'nats-server did not start')
    return
  }
  const simOk = await step(STEP_TITLES.sim, async () => {
    const sim = await startExchangeSimProcess(['--host', '127.0.0.1', '--port', '0', '--environment', 'test'])
    if (running.closed) await sim.stop()
    running.sim = sim
    return [`127.0.0.1:${running.sim.port} (pid ${running.sim.child.pid}); both instances connect to it`]
  })
  if (!simOk) {
    for (const title of stepsAfter('sim')) notRun(title, 'the simulator did not start')
    return
  }
  for (const id of INSTANCE_IDS) running.ports[id] = await pickLanePorts()
  const ports = running.ports as Record<InstanceId, LanePorts>
  const gatewaysOk = await step(STEP_TITLES.gateways, async () => {
    const lines: string[] = []
    await Promise.all(INSTANCE_IDS.map(async (id) => {
      const runDir = join(running.dir, id)
      mkdirSync(runDir, { recursive: true })
      const configFile = join(running.dir, `${id}.json`)
      writeDemoConfig(configFile, demoConfig({ id, runDir, adminSocket: adminSocketOf(running, id), natsUrl: running.nats!.url, simPort: running.sim!.port, ports }))
      running.gateways[id] = await startGatewayChild(id, configFile, join(runDir, 'gateway.log'), START_WAIT_MS, (stop) => {
        if (running.closed) void stop()
        else running.spawned.push(stop)
      })
    }))
    for (const id of INSTANCE_IDS) {
      const homed = DEMO_ACCOUNTS.filter((a) => a.home === id).map((a) => a.id).join(', ')
      lines.push(`${id}: platform lane ${laneUrl(ports[id].platform)}, holds ${homed} (pid ${running.gateways[id]!.ready.pid}, config ${join(running.dir, `${id}.json`)})`)
    }
    lines.push('the account directory is the NATS KV bucket, seeded from both configs\' cluster.directory.accounts')
    return lines
  })
  if (!gatewaysOk) {
    for (const title of stepsAfter('gateways')) notRun(title, 'the gateways did not start')
    return
  }

  const url = (id: InstanceId): string => laneUrl(ports[id].platform)
  /** Logs on at `at`'s platform lane with the client library, which follows a WRONG_INSTANCE redirect (logonAt). */
  const logon = async (at: InstanceId, account: DemoAccount): Promise<{ client: GatehouseClient, instruments: Instrument[], url: string, redirects: string[] }> => {
    const { client, reply, url: landed, redirects } = await GatehouseClient.logonAt(url(at), account.id, account.password, DEMO_IDENTITY)
    running.clients.push(client)
    if (!reply.ok) throw new StepFailed(`the logon of ${account.id} at ${at} was refused: ${reasonName(reply.reason)}: ${reply.text}`)
    return { client, instruments: reply.instruments as Instrument[], url: landed, redirects }
  }
  const account = (home: InstanceId, role: 'maker' | 'taker'): DemoAccount => DEMO_ACCOUNTS.find((a) => a.home === home && a.id.includes(role))!
  const sessions: Partial<Record<string, GatehouseClient>> = {}
  let instrument: Instrument | undefined

  // 4: the redirect. The account is homed on gw2; the client is pointed at gw1.
  const redirected = account('gw2', 'taker')
  await step(STEP_TITLES.redirect, async () => {
    const { client, instruments, url: landed, redirects } = await logon('gw1', redirected)
    instrument ??= instruments.find((i) => i.symbol === symbol)
    // Where did the session land? Ask both instances, as ops would.
    const on = await sessionsOf(running, redirected.id)
    if (on.gw2 === 0 || on.gw1 !== 0) {
      // Not kept: gw2's trading step must trade on gw2, so it logs on there itself.
      await client.close()
      throw new StepFailed(`after the logon at gw1, gw1 lists ${on.gw1} session(s) and gw2 ${on.gw2} of ${redirected.id}: no redirect happened`)
    }
    sessions[redirected.id] = client
    if (landed !== url('gw2')) throw new StepFailed(`the client ended at ${landed}, not gw2's ${url('gw2')}`)
    return [
      `connected to gw1 (${url('gw1')}): refused with WRONG_INSTANCE, redirect to ${redirects.join(' -> ')}`,
      `logged on at gw2 (${landed}); gatehouse admin sessions --account ${redirected.id}: gw1 lists ${on.gw1}, gw2 ${on.gw2}`,
    ]
  })

  // 5, 6: each instance trades its own accounts.
  for (const id of INSTANCE_IDS) {
    await step(id === 'gw1' ? STEP_TITLES.tradeGw1 : STEP_TITLES.tradeGw2, async () => {
      const maker = account(id, 'maker')
      const taker = account(id, 'taker')
      const makerSession = sessions[maker.id] ?? (sessions[maker.id] = (await logon(id, maker)).client)
      let takerSession = sessions[taker.id]
      if (takerSession === undefined) {
        const { client, instruments } = await logon(id, taker)
        takerSession = sessions[taker.id] = client
        instrument ??= instruments.find((i) => i.symbol === symbol)
      }
      if (instrument === undefined) throw new StepFailed(`instrument ${symbol} is not listed (is the exchange link up?)`)
      return tradeRoundTrip(makerSession, maker.id, takerSession, taker.id, instrument)
    })
  }

  // 7-9: the global kill switch, set on gw1 only.
  // Set is not yet applied everywhere: the refusals are checked on both
  // instances whenever gw1 took the change, whatever its reply says.
  let killSet = false
  await step(STEP_TITLES.killOn, async () => {
    const result = await admin(running, 'gw1', ['kill-switch', 'on', '--global'])
    killSet = true
    return [describeFanOut(result)]
  })
  await step(STEP_TITLES.refused, async () => {
    if (!killSet) throw new StepFailed('gw1 did not take the kill switch')
    const lines: string[] = []
    for (const id of INSTANCE_IDS) {
      const maker = account(id, 'maker')
      const client = sessions[maker.id]
      if (client === undefined || instrument === undefined) throw new StepFailed(`no session of ${maker.id} on ${id} to send an order with`)
      const report = await sendOrder(client, instrument, Side.SELL, priceOf(instrument) + 20 * wireInt(instrument.tickSize), ExecType.REJECTED)
      if (reasonName(report.reason) !== 'KILL_SWITCH') throw new StepFailed(`${id} refused the order with ${reasonName(report.reason)}, not KILL_SWITCH`)
      lines.push(`${id}: ${maker.id}'s order refused: ${reasonName(report.reason)} (${report.text})`)
    }
    return lines
  })
  await step(STEP_TITLES.killOff, async () => {
    if (!killSet) throw new StepFailed('gw1 did not take the kill switch')
    const result = await admin(running, 'gw1', ['kill-switch', 'off', '--global'])
    if ((result as { detail?: { pending?: unknown } }).detail?.pending !== undefined) {
      throw new StepFailed('the lift is waiting for a second operator (compliance.dualControl.requireFor.globalKillLift is on)')
    }
    const lines = [describeFanOut(result), 'one operator lifts it: the demo configs set compliance.dualControl.requireFor.globalKillLift: false (the default needs a second operator\'s approval)']
    for (const id of INSTANCE_IDS) {
      const maker = account(id, 'maker')
      const client = sessions[maker.id]!
      const report = await sendOrder(client, instrument!, Side.SELL, priceOf(instrument!) + 20 * wireInt(instrument!.tickSize), ExecType.ACK)
      client.cancel(wireInt(report.clientOrderId))
      await expectReport(client, wireInt(report.clientOrderId), ExecType.CANCELLED, REPLY_WAIT_MS)
      lines.push(`${id}: ${maker.id}'s order acknowledged again (then cancelled)`)
    }
    return lines
  })

  // 10, 11: every record of both instances, from JetStream.
  const stoppedOk = await step(STEP_TITLES.stopped, async () => {
    await Promise.all(running.clients.splice(0).map(async (c) => c.logout().catch(async () => c.close())))
    await Promise.all(INSTANCE_IDS.map(async (id) => running.gateways[id]?.stop()))
    const codes = INSTANCE_IDS.map((id) => running.gateways[id]!.child.exitCode)
    if (codes.some((c) => c !== 0)) throw new StepFailed(`exit codes ${codes.join(', ')}`)
    return [`gw1 and gw2 exited 0; nats-server keeps the stream`]
  })
  if (!stoppedOk) {
    notRun(STEP_TITLES.verified, 'the gateways did not stop cleanly')
    return
  }
  await step(STEP_TITLES.verified, async () => verifyFromStream(running))
}

/** Every step's title, in order: the test checks each line. */
export const STEP_TITLES = {
  nats: 'nats-server with JetStream',
  sim: 'exchange simulator',
  gateways: 'two gateway instances, gw1 and gw2',
  redirect: 'logon of demo-taker-2 (homed on gw2) at gw1 follows the redirect to gw2',
  tradeGw1: 'trading on gw1: an order filled against a crossing order, a resting order cancelled',
  tradeGw2: 'trading on gw2: an order filled against a crossing order, a resting order cancelled',
  killOn: 'global kill switch set on gw1 (gatehouse admin kill-switch on --global): applied on gw1 and gw2',
  refused: 'new orders refused with KILL_SWITCH on both instances',
  killOff: 'global kill switch lifted on gw1: both instances take orders again',
  stopped: 'clients logged out, gateways stopped (SIGTERM: each journal sealed)',
  verified: 'every record of gw1 and gw2 verified from JetStream (gatehouse journal verify --nats), as many as in the local journals',
} as const

/** A step's key in STEP_TITLES, the short name the last line gives a failed step. */
function shortName (title: string): string {
  return Object.entries(STEP_TITLES).find(([, t]) => t === title)?.[0] ?? title
}

/** The titles of the steps after `key`, for the ✗ lines when a step the others need fails. */
function stepsAfter (key: keyof typeof STEP_TITLES): string[] {
  const keys = Object.keys(STEP_TITLES)
  return Object.values(STEP_TITLES).slice(keys.indexOf(key) + 1)
}

function adminSocketOf (running: Running, id: InstanceId): string {
  // A Unix socket path must fit ~107 bytes: the temp dir is short.
  return join(running.dir, `${id}.sock`)
}

function priceOf (instrument: Instrument): number {
  const tick = wireInt(instrument.tickSize)
  return Math.round(wireInt(instrument.referencePrice) / tick) * tick
}

let nextOrderId = 1000
/** Sends a 1-lot order and awaits its report of `execType` (ExecType.REJECTED to expect a refusal). */
async function sendOrder (client: GatehouseClient, instrument: Instrument, side: number, price: number, execType: number): Promise<ExecutionReport> {
  const clientOrderId = nextOrderId++
  client.newOrder({ clientOrderId, instrument: instrument.symbol, side, price, quantityLots: 1 })
  if (execType !== ExecType.REJECTED) return expectReport(client, clientOrderId, execType, REPLY_WAIT_MS)
  const envelope = await client.next((m) => m.body === 'executionReport' && wireInt(m.executionReport!.clientOrderId) === clientOrderId, REPLY_WAIT_MS)
  const report = envelope.executionReport as ExecutionReport
  if (report.execType !== ExecType.REJECTED) throw new StepFailed(`order ${clientOrderId} was not refused: ${ExecType[report.execType] ?? report.execType}`)
  return report
}

/** The maker rests a sell, the taker buys into it (filled), rests a low bid and cancels it. */
async function tradeRoundTrip (maker: GatehouseClient, makerId: string, taker: GatehouseClient, takerId: string, instrument: Instrument): Promise<string[]> {
  const tick = wireInt(instrument.tickSize)
  const price = priceOf(instrument)
  const shown = (p: number): string => (p / 10 ** instrument.priceDecimals).toFixed(instrument.priceDecimals)
  await sendOrder(maker, instrument, Side.SELL, price, ExecType.ACK)
  const buy = await sendOrder(taker, instrument, Side.BUY, price, ExecType.ACK)
  const fill = await expectReport(taker, wireInt(buy.clientOrderId), ExecType.FILL, REPLY_WAIT_MS)
  // Ten ticks under the fill: it rests, inside every lane's price band.
  const lowBid = Math.max(wireInt(instrument.lowerLimitPrice), price - 10 * tick)
  const rest = await sendOrder(taker, instrument, Side.BUY, lowBid, ExecType.ACK)
  taker.cancel(wireInt(rest.clientOrderId))
  await expectReport(taker, wireInt(rest.clientOrderId), ExecType.CANCELLED, REPLY_WAIT_MS)
  return [
    `${makerId}: SELL 1 ${instrument.symbol} @ ${shown(price)} acknowledged`,
    `${takerId}: BUY 1 @ ${shown(price)} filled ${fill.lastLots} @ ${shown(wireInt(fill.lastPrice))} (trade ${fill.tradeId})`,
    `${takerId}: BUY 1 @ ${shown(lowBid)} rested, then cancelled`,
  ]
}

/** `gatehouse admin ... --json` against one instance's socket, as an operator runs it; the reply's result. */
async function admin (running: Running, id: InstanceId, words: string[]): Promise<unknown> {
  const run = await runCli([...['admin', ...words], '--socket', adminSocketOf(running, id), '--operator', 'demo-ops', '--json'], CLEAN_ENV)
  if (run.code !== 0) throw new StepFailed(`gatehouse admin ${words.join(' ')} on ${id} exited ${String(run.code)}: ${run.stderr.trim().split('\n')[0] ?? ''}`)
  try {
    return JSON.parse(run.stdout) as unknown
  } catch {
    throw new StepFailed(`gatehouse admin ${words.join(' ')} printed no JSON`)
  }
}

/** How many sessions of `account` each instance lists (`gatehouse admin sessions --account`). */
async function sessionsOf (running: Running, account: string): Promise<Record<InstanceId, number>> {
  const counts = {} as Record<InstanceId, number>
  for (const id of INSTANCE_IDS) {
    const list = await admin(running, id, ['sessions', '--account', account])
    counts[id] = Array.isArray(list) ? list.filter((s: { account?: string | null }) => s.account === account).length : 0
  }
  return counts
}

/**
 * The fan-out part of an admin change's reply: `instances` (who applied
 * it) and `missing` (who did not answer). Both instances must have
 * applied it, else the step fails.
 */
function describeFanOut (result: unknown): string {
  const reply = result as { instances?: Array<{ instance: string, applied: boolean, error?: { code?: string, message?: string } }>, missing?: string[] }
  if (!Array.isArray(reply.instances)) throw new StepFailed('the admin reply lists no instances: this gateway does not fan admin changes out')
  const applied = reply.instances.filter((i) => i.applied).map((i) => i.instance)
  const notApplied = INSTANCE_IDS.filter((id) => !applied.includes(id))
  if (notApplied.length > 0) {
    const why = reply.instances.filter((i) => !i.applied).map((i) => `${i.instance}: ${i.error?.code ?? ''} ${i.error?.message ?? ''}`.trim())
    throw new StepFailed(`not applied on ${notApplied.join(', ')}${why.length > 0 ? ` (${why.join('; ')})` : ''}; missing: ${(reply.missing ?? []).join(', ') || 'none'}`)
  }
  return `the reply: applied on ${applied.join(', ')}; missing: ${(reply.missing ?? []).join(', ') || 'none'}`
}

/** The records each instance's local journal holds, by the same verify code the tools run. */
function localRecords (running: Running, id: InstanceId): { records: number, ok: boolean } {
  const result = verifyJournal(join(running.dir, id, 'journal'))
  return { records: result.segments.reduce((n, s) => n + s.records, 0), ok: result.ok }
}

/**
 * `gatehouse journal verify --nats URL --instance ID --json` per instance
 * (the stream rebuilt into segment files and checked by the same verify
 * code as a local directory): it must pass and count as many records as
 * the instance's local journal.
 */
async function verifyFromStream (running: Running): Promise<string[]> {
  const lines: string[] = []
  for (const id of INSTANCE_IDS) {
    const local = localRecords(running, id)
    if (!local.ok) throw new StepFailed(`${id}'s local journal does not verify`)
    const run = await runCli(['journal', 'verify', '--nats', running.nats!.url, '--instance', id, '--json'], CLEAN_ENV)
    if (run.code !== 0) throw new StepFailed(`gatehouse journal verify --nats ${running.nats!.url} --instance ${id} exited ${String(run.code)}: ${(run.stderr.trim() || run.stdout.trim()).split('\n')[0] ?? ''}`)
    const fromStream = streamRecords(run.stdout, id)
    if (fromStream !== local.records) throw new StepFailed(`${id}: ${fromStream} records verified from JetStream, ${local.records} in the local journal`)
    lines.push(`${id}: ${fromStream} records verified from JetStream = ${local.records} in its local journal`)
  }
  return lines
}

/** The record count of one instance in `journal verify --nats --json`'s output. */
function streamRecords (stdout: string, id: InstanceId): number {
  let parsed: unknown
  try { parsed = JSON.parse(stdout) } catch { throw new StepFailed('gatehouse journal verify --nats printed no JSON') }
  const count = (result: { segments?: Array<{ records: number }> }): number => (result.segments ?? []).reduce((n, s) => n + s.records, 0)
  if (Array.isArray(parsed)) {
    const mine = parsed.find((r: { instance?: string }) => r.instance === id) as { segments?: Array<{ records: number }>, result?: { segments?: Array<{ records: number }> } } | undefined
    if (mine === undefined) throw new StepFailed(`gatehouse journal verify --nats found nothing of ${id}`)
    return count(mine.result ?? mine)
  }
  const object = parsed as { instances?: Record<string, { segments?: Array<{ records: number }> }>, segments?: Array<{ records: number }> }
  if (object.instances !== undefined) {
    const mine = object.instances[id]
    if (mine === undefined) throw new StepFailed(`gatehouse journal verify --nats found nothing of ${id}`)
    return count(mine)
  }
  return count(object)
}

/** Stops everything in reverse order of start; returns what did not stop cleanly. */
async function stopAll (running: Running): Promise<string[]> {
  const problems: string[] = []
  const attempt = async (what: string, fn: () => Promise<void>): Promise<void> => {
    try { await fn() } catch (err) { problems.push(`${what}: ${(err as Error).message}`) }
  }
  await Promise.all(running.clients.splice(0).map(async (c) => attempt('a client', async () => c.close())))
  running.closed = true
  await Promise.all(INSTANCE_IDS.map(async (id) => attempt(id, async () => running.gateways[id]?.stop())))
  await Promise.all(running.spawned.splice(0).map(async (stop) => attempt('a gateway still starting', async () => stop())))
  await attempt('the simulator', async () => running.sim?.stop())
  await attempt('nats-server', async () => running.nats?.stop())
  return problems
}
