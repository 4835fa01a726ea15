// The user's path: `gatehouse start` as a real process with the embedded
// exchange simulator, then `gatehouse demo` against it, then SIGTERM.
import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { DEMO_TERMINAL_INFO } from '../protocol/demo-identity.js'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { CLI_PATH } from '../supervisor/exchange-sim-process.js'
import { verifyPassword } from '../supervisor/access/credential-worker.js'
import { TEST_IDENTITY } from './helpers/trading.js'

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-start-'))

t.test('start with the embedded simulator, run the demo, stop cleanly', async (t) => {
  const configFile = join(dir, 'ephemeral-ports.json')
  writeFileSync(configFile, JSON.stringify({
    runDir: join(dir, 'var'),
    lanes: { terminal: { port: 0 }, platform: { port: 0 }, hft: { port: 0 } },
    ops: { port: 0 },
    exchange: { port: 0 },
  }))
  const gateway = spawn(process.execPath, [CLI_PATH, 'start', '--config', configFile, '--json-events'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = once(gateway, 'exit')
  const events: Array<Record<string, any>> = []
  const lines = createInterface({ input: gateway.stdout! })
  const nextEvent = (name: string): Promise<Record<string, any>> => new Promise((resolve) => {
    const seen = events.find((e) => e.event === name)
    if (seen !== undefined) { resolve(seen); return }
    const onLine = (): void => {
      const found = events.find((e) => e.event === name)
      if (found !== undefined) { lines.off('line', onLine); resolve(found) }
    }
    lines.on('line', onLine)
  })
  lines.on('line', (line) => { events.push(JSON.parse(line)) })

  const ready = await nextEvent('ready')
  t.equal(ready.exchange.embedded, true, 'embedded simulator started')
  t.same(Object.keys(ready.lanes).sort(), ['hft', 'platform', 'terminal'])
  const health = await fetch(`http://127.0.0.1:${ready.ops.port}/healthz`)
  t.ok(health.status === 200 || health.status === 503, '/healthz answers')

  // Every lane, the terminal lane's tighter fat-finger band included.
  for (const lane of ['platform', 'terminal', 'hft']) {
    const demo = spawn(process.execPath, [CLI_PATH, 'demo', '--url', `ws://127.0.0.1:${ready.lanes[lane].port}`], { stdio: ['ignore', 'pipe', 'inherit'] })
    let demoOutput = ''
    demo.stdout!.on('data', (chunk: Buffer) => { demoOutput += chunk.toString() })
    const [demoCode] = await once(demo, 'exit')
    t.equal(demoCode, 0, `demo on the ${lane} lane succeeded:\n${demoOutput}`)
    t.match(demoOutput, /FILL/)
    t.match(demoOutput, /CANCELLED/)
    // The close of today's lot: the fill carries the flag applied, and the
    // positions query shows today's long lot before the close and none after.
    t.match(demoOutput, /taker: FILL 1 @ \S+ \(order 3, .*OFFSET_CLOSE_TODAY/)
    const positionLines = demoOutput.split('\n').filter((line) => line.includes('taker: positions -> '))
    t.equal(positionLines.length, 2, 'positions queried before and after the close')
    t.match(positionLines[0], /rb2605 LONG: today 1 /)
    t.notMatch(positionLines[1], /LONG: today [1-9]/)
    t.match(demoOutput, /Demo complete/)
  }

  // A new terminal on the terminal lane (allow-alert): the alert reaches the event stream.
  const newTerminal = await GatehouseClient.connect(`ws://127.0.0.1:${ready.lanes.terminal.port}`)
  const alerted = nextEvent('logon-alert')
  t.equal((await newTerminal.logon('demo-maker', 'maker-pass', { ...TEST_IDENTITY, terminalInfo: { ...DEMO_TERMINAL_INFO, deviceName: 'start-command-new-box' } })).ok, true)
  const alert = await alerted
  t.equal(alert.kind, 'new-fingerprint', 'a new-terminal alert is an event')
  t.equal(alert.account, 'demo-maker')
  t.equal(alert.lane, 'terminal')
  await newTerminal.logout()

  const healthAfter = await fetch(`http://127.0.0.1:${ready.ops.port}/healthz`)
  t.equal(healthAfter.status, 200, 'healthy once the links are up')
  t.equal(((await healthAfter.json()) as { status: string }).status, 'ok')

  gateway.kill('SIGTERM')
  const [code] = await exited
  t.equal(code, 0, 'clean exit on SIGTERM')
  t.ok(events.some((e) => e.event === 'stopped'), 'says it stopped')
})

t.test('hash-password prints a hash the gateway accepts', async (t) => {
  const result = spawnSync(process.execPath, [CLI_PATH, 'hash-password'], { input: 'correct horse battery\n', encoding: 'utf8' })
  t.equal(result.status, 0)
  const hash = result.stdout.trim()
  t.match(hash, /^scrypt\$16384\$8\$1\$/)
  t.equal(await verifyPassword(hash, 'correct horse battery'), true)
  t.equal(await verifyPassword(hash, 'correct horse batterY'), false)
})

t.test('a bad config refuses to start and names the field', async (t) => {
  const configFile = join(dir, 'bad.json')
  writeFileSync(configFile, JSON.stringify({ lanes: { hft: { port: 'seven' } } }))
  const result = spawnSync(process.execPath, [CLI_PATH, 'start', '--config', configFile], { encoding: 'utf8' })
  t.equal(result.status, 2)
  t.match(result.stderr, /lanes\.hft\.port: Invalid input: expected number, received string/)
  t.match(result.stderr, /^gatehouse start: did not start: invalid config: lanes\.hft\.port: /)
})

t.test('every subcommand has --help', async (t) => {
  for (const command of ['start', 'exchange-sim', 'demo', 'hash-password', 'journal', 'journal verify', 'journal search', 'journal export', 'journal replay', 'drill', 'compliance', 'compliance report', 'compliance monitoring', 'certify', 'doctor']) {
    const result = spawnSync(process.execPath, [CLI_PATH, ...command.split(' '), '--help'], { encoding: 'utf8' })
    t.equal(result.status, 0, `${command} --help exits 0`)
    t.match(result.stdout, new RegExp(`usage: gatehouse ${command}`), `${command} --help prints usage`)
  }
  const top = spawnSync(process.execPath, [CLI_PATH, '--help'], { encoding: 'utf8' })
  t.match(top.stdout, /start.*\n.*exchange-sim.*\n.*hash-password.*\n.*admin.*\n.*journal.*\n[^]*demo[^]*certify[^]*doctor[^]*drill/)
  const unknown = spawnSync(process.execPath, [CLI_PATH, 'frobnicate'], { encoding: 'utf8' })
  t.equal(unknown.status, 2)
  t.match(unknown.stderr, /unknown command "frobnicate"/)
})
