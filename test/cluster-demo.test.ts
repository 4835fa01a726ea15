// `npm run cluster-demo` as a user runs it: the command as its own process
// with a real nats-server, simulator and two gateway processes. It must
// pass every step, and fail (exit 1, the reason named) when it cannot,
// leaving no process and no temporary directory behind.
import t from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { runCli } from './helpers/cli-run.js'
import { CLI_PATH } from '../supervisor/exchange-sim-process.js'
import { STEP_TITLES } from '../tools/cluster-demo/cluster-demo-command.js'

// Two whole runs (one cut short by Ctrl-C) of five processes each, on a
// machine shared with another test file: more than the default 120 s can be needed.
t.setTimeout(300_000)

const TITLES = Object.values(STEP_TITLES)
const env = { ...process.env, NODE_OPTIONS: '' }

/** The temp dir the demo names on its first line. */
function demoDir (stdout: string): string {
  const match = /under (\/\S+)/.exec(stdout)
  if (match === null) throw new Error(`no temp dir in: ${stdout.slice(0, 200)}`)
  return match[1]!
}

/** Every pid the demo printed (nats-server, the simulator, the gateways). */
function printedPids (stdout: string): number[] {
  return [...stdout.matchAll(/\(pid (\d+)/g)].map((m) => Number(m[1]))
}

/** Processes whose command line names `dir` (the gateways' --config files are in it): none may outlive the demo. */
function processesUnder (dir: string): string[] {
  const found: string[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    let cmdline: string
    try { cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ') } catch { continue }
    if (cmdline.includes(dir)) found.push(`${entry}: ${cmdline.slice(0, 200)}`)
  }
  return found
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

t.test('the demo passes every step and exits 0', async (t) => {
  const run = await runCli(['cluster-demo'], { env })
  t.equal(run.code, 0, `exit 0; output:\n${run.stdout}\n${run.stderr}`)
  TITLES.forEach((title, i) => {
    t.ok(run.stdout.includes(`${String(i + 1).padStart(2)} ✓ ${title}`), `step ${i + 1} ✓ ${title}`)
  })
  t.notMatch(run.stdout, /✗/, 'no step failed')
  t.match(run.stdout, new RegExp(`cluster demo passed: all ${TITLES.length} steps`))
  t.match(run.stdout, /applied on gw1, gw2; missing: none/, 'the kill switch reply names both instances')
  t.match(run.stdout, /gw1: \d+ records verified from JetStream = \d+ in its local journal/)
  t.match(run.stdout, /gw2: \d+ records verified from JetStream = \d+ in its local journal/)
  t.notOk(existsSync(demoDir(run.stdout)), 'the temp dir is removed')
  for (const pid of printedPids(run.stdout)) t.notOk(alive(pid), `pid ${pid} is gone`)
})

t.test('without nats-server on PATH: exit 1 with GH_ERR_NATS_START, nothing else runs', async (t) => {
  const path = (process.env.PATH ?? '').split(':').filter((dir) => !existsSync(`${dir}/nats-server`)).join(':')
  const run = await runCli(['cluster-demo'], { env: { ...env, PATH: path } })
  t.equal(run.code, 1, run.stdout)
  t.match(run.stdout, / 1 ✗ nats-server with JetStream: GH_ERR_NATS_START: nats-server is not installed/)
  TITLES.slice(1).forEach((title, i) => {
    t.ok(run.stdout.includes(`${String(i + 2).padStart(2)} ✗ ${title}: not run (nats-server did not start)`), `step ${i + 2} not run`)
  })
  t.match(run.stdout, /cluster demo FAILED: steps 1 \(nats\), 2 \(sim\), 3 \(gateways\), 4 \(redirect\).* of 11/)
  t.notOk(existsSync(demoDir(run.stdout)), 'the temp dir is removed')
})

t.test('Ctrl-C stops everything it started and exits 1', async (t) => {
  const child = spawn(process.execPath, [CLI_PATH, 'cluster-demo'], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  const exited = once(child, 'close')
  const lines = createInterface({ input: child.stdout! })
  await new Promise<void>((resolve) => {
    lines.on('line', (line) => {
      stdout += line + '\n'
      // The gateways are up: everything the demo starts is running.
      if (line.startsWith(' 3 ')) resolve()
    })
  })
  const pids = printedPids(stdout)
  child.kill('SIGINT')
  await new Promise<void>((resolve) => { lines.on('close', resolve) })
  const [code] = await exited as [number | null]
  t.equal(code, 1, stdout)
  t.match(stdout, /stopped by SIGINT/)
  t.match(stdout, /cluster demo FAILED/)
  t.ok(pids.length >= 4, `nats-server, the simulator and both gateways printed their pids: ${pids.join(', ')}`)
  for (const pid of pids) t.notOk(alive(pid), `pid ${pid} is gone`)
  t.same(processesUnder(demoDir(stdout)), [], 'no process of the demo is left')
  t.notOk(existsSync(demoDir(stdout)), 'the temp dir is removed')
})

t.test('the overall budget running out mid-run stops everything and exits 1', async (t) => {
  // 2 s: less than a whole run takes (4-10 s here); usually the gateways are still starting then.
  const run = await runCli(['cluster-demo', '--timeout-ms', '2000'], { env })
  t.equal(run.code, 1, run.stdout)
  t.match(run.stdout, /ran out of its 2000 ms budget/)
  t.match(run.stdout, /cluster demo FAILED: .*11 \(verified\) of 11/)
  t.same(processesUnder(demoDir(run.stdout)), [], 'no process of the demo is left')
  for (const pid of printedPids(run.stdout)) t.notOk(alive(pid), `pid ${pid} is gone`)
  t.notOk(existsSync(demoDir(run.stdout)), 'the temp dir is removed')
})

t.test('--help, and a bad option is a usage error', async (t) => {
  const help = await runCli(['cluster-demo', '--help'], { env })
  t.equal(help.code, 0)
  t.match(help.stdout, /usage: gatehouse cluster-demo/)
  const bad = await runCli(['cluster-demo', '--no-such-option'], { env })
  t.equal(bad.code, 2)
  t.match(bad.stderr, /gatehouse cluster-demo: .*no-such-option/)
  const timeout = await runCli(['cluster-demo', '--timeout-ms', 'soon'], { env })
  t.equal(timeout.code, 2)
  t.match(timeout.stderr, /--timeout-ms/)
})
