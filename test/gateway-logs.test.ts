// The gateway's operational log as ops meet it: pino JSON lines with time
// and level in a --log-file, readable by pino-pretty with no flags, and a
// SIGHUP after logrotate's rename sends the next lines to a new file at
// the path. A real `gatehouse start` process with the embedded simulator.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startGatewayProcess } from './helpers/gateway-process.js'

const dir = mkdtempSync(join(tmpdir(), 'gatehouse-logs-'))
const PINO_PRETTY = createRequire(import.meta.url).resolve('pino-pretty/bin.js')

function logLines (file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8').split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>)
}

t.test('--log-file: JSON lines with time and level, pino-pretty reads them, SIGHUP reopens at the path', async (t) => {
  const configFile = join(dir, 'config.json')
  writeFileSync(configFile, JSON.stringify({
    runDir: join(dir, 'var'),
    lanes: { terminal: { port: 0 }, platform: { port: 0 }, hft: { port: 0 } },
    ops: { port: 0 },
    exchange: { port: 0 },
  }))
  const logFile = join(dir, 'log', 'gatehouse.log')
  const gw = await startGatewayProcess(configFile, { args: ['--log-file', logFile] })
  t.teardown(async () => { if (gw.child.exitCode === null) await gw.stop() })
  t.teardown(() => { if (!t.passing()) t.comment(`gateway stderr:\n${gw.stderr()}`) })
  await gw.event((e) => e.event === 'link-state' && e.state === 'up')

  const before = logLines(logFile)
  const ready = before.find((line) => line.event === 'ready')
  t.ok(ready, 'the ready event is a log line too')
  for (const line of before) {
    t.match(line, { level: Number, time: /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, msg: String, pid: gw.ready.pid }, `a pino line: ${String(line.msg).split('\n')[0]}`)
  }
  t.match(ready!.msg, /^gatehouse \S+ is running\n {2}lane /)
  t.same(ready!.lanes, gw.ready.lanes, 'with the same fields as the harness event')
  t.notOk(before.some((line) => line.event === 'link-state' && line.state === 'up' && line.level !== 30), 'link up is info (30)')
  t.equal(gw.stderr(), '', 'nothing on stderr: the log went to the file')

  const pretty = spawnSync(process.execPath, [PINO_PRETTY], { input: readFileSync(logFile), encoding: 'utf8' })
  t.equal(pretty.status, 0, 'pino-pretty with no flags')
  t.match(pretty.stdout, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO \(\d+\): lane \w+: nothing to recover/m)
  t.match(pretty.stdout, /INFO \(\d+\): gatehouse \S+ is running/)
  t.notMatch(pretty.stdout, /^\{"level"/m, 'every line was understood')

  // logrotate: rename, then SIGHUP; the gateway answers with a line in the new file.
  const rotated = `${logFile}.1`
  renameSync(logFile, rotated)
  const reopened = gw.event((e) => e.event === 'log-reopened')
  gw.child.kill('SIGHUP')
  await reopened
  t.ok(existsSync(logFile), 'a new file at the path')
  t.match(logLines(logFile), [{ event: 'log-reopened', level: 30 }], 'the next line is in the new file')
  t.same(logLines(rotated).map((line) => line.event), before.map((line) => line.event), 'the rotated file kept what it had and got nothing new')

  await gw.stop()
  t.equal(gw.child.exitCode, 0, 'still running after SIGHUP, then a clean exit on SIGTERM')
  const after = logLines(logFile).map((line) => line.event)
  t.same(after.slice(-1), ['stopped'])
  t.ok(after.includes('stopping'), 'the stop went to the new file too')
})

t.test('--log-level is checked; a log file that cannot be created refuses to start in one line', async (t) => {
  const cli = join(import.meta.dirname, '..', 'cli', 'cli.js')
  const level = spawnSync(process.execPath, [cli, 'start', '--log-level', 'loud'], { encoding: 'utf8' })
  t.equal(level.status, 2)
  t.match(level.stderr, /^gatehouse start: --log-level must be one of debug, info, warn, error \(got "loud"\)/)
  const blocker = join(dir, 'plain-file')
  writeFileSync(blocker, '')
  const file = spawnSync(process.execPath, [cli, 'start', '--log-file', join(blocker, 'x.log')], { encoding: 'utf8' })
  t.equal(file.status, 1)
  t.match(file.stderr, /^gatehouse start: did not start: --log-file .*plain-file\/x\.log: E[A-Z]+: /)
  t.equal(file.stderr.trim().split('\n').length, 1)
})
