// `gatehouse hash-password` on a real pseudo-terminal (python3's pty
// module drives it as a person at a terminal would): it prompts on the
// terminal, does not echo what is typed, edits with Backspace, aborts on
// Ctrl-C, and leaves the terminal's echo on whatever way it exits.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { verifyPassword } from '../supervisor/access/credential-worker.js'
import { CLI_PATH } from '../supervisor/exchange-sim-process.js'

/**
 * Runs the CLI on a pty. steps: [text to wait for, keys to send]. Prints
 * JSON: everything the terminal showed, the exit status, and whether the
 * pty still echoes after the CLI exited.
 */
const DRIVER = `
import json, os, pty, select, sys, termios, time
node, cli, steps = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
pid, fd = pty.fork()
if pid == 0:
    os.execve(node, [node, cli, 'hash-password'], {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'HOME': '/'})
out = b''
def read(until, deadline):
    global out
    while until is None or until.encode() not in out:
        left = deadline - time.time()
        if left <= 0:
            return False
        r, _, _ = select.select([fd], [], [], left)
        if not r:
            return False
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return until is None
        if not chunk:
            return until is None
        out += chunk
    return True
ok = True
for wait, keys in steps:
    if not read(wait, time.time() + 20):
        ok = False
        break
    os.write(fd, keys.encode())
read(None, time.time() + 20)
_, status = os.waitpid(pid, 0)
echo = bool(termios.tcgetattr(fd)[3] & termios.ECHO)
print(json.dumps({'ok': ok, 'out': out.decode('utf8', 'replace'), 'code': os.waitstatus_to_exitcode(status), 'echo': echo}))
`

interface PtyRun { ok: boolean, out: string, code: number, echo: boolean }

function onPty (steps: Array<[string, string]>): PtyRun {
  const result = spawnSync('python3', ['-c', DRIVER, process.execPath, CLI_PATH, JSON.stringify(steps)], { encoding: 'utf8', timeout: 60_000 })
  if (result.status !== 0) throw new Error(`the pty driver failed (${String(result.status ?? result.signal)}): ${result.stderr}`)
  return JSON.parse(result.stdout) as PtyRun
}

const PASSWORD = 'Tr0ub4dor&3-horse'

t.test('on a terminal: prompts twice, echoes nothing, prints a hash that verifies', async (t) => {
  // A typo fixed with Backspace (DEL, as terminals send it) in the first entry.
  const typed = `${PASSWORD.slice(0, 5)}XY\x7f\x7f${PASSWORD.slice(5)}\r`
  const run = onPty([['Password: ', typed], ['Password again: ', `${PASSWORD}\r`]])
  t.ok(run.ok, 'both prompts appeared')
  t.equal(run.code, 0, `exit 0 (${run.out})`)
  t.notOk(run.out.includes(PASSWORD), 'the password never appears on the terminal')
  t.notOk(run.out.includes(PASSWORD.slice(0, 5)), 'not even its start')
  const hash = /scrypt\$\S+/.exec(run.out)?.[0]
  t.ok(hash !== undefined, 'a hash is printed')
  t.equal(await verifyPassword(hash!, PASSWORD), true, 'the hash verifies the password as corrected with Backspace')
  t.ok(run.echo, 'the terminal echoes again afterwards')
})

t.test('on a terminal: two different entries print nothing (exit 2)', async (t) => {
  const run = onPty([['Password: ', `${PASSWORD}\r`], ['Password again: ', `${PASSWORD}x\r`]])
  t.equal(run.code, 2)
  t.match(run.out, /the two passwords differ; nothing was printed/)
  t.notMatch(run.out, /scrypt\$/)
  t.ok(run.echo, 'echo restored')
})

t.test('on a terminal: Ctrl-C aborts (exit 130) and restores the terminal', async (t) => {
  const run = onPty([['Password: ', 'half-typed\x03']])
  t.equal(run.code, 130)
  t.match(run.out, /aborted/)
  t.notOk(run.out.includes('half-typed'), 'nothing typed was echoed')
  t.ok(run.echo, 'echo restored')
})

t.test('on a terminal: too short is refused (exit 2) with echo restored', async (t) => {
  const run = onPty([['Password: ', 'short\r']])
  t.equal(run.code, 2)
  t.match(run.out, /at least 8 characters/)
  t.ok(run.echo, 'echo restored')
})

t.test('from a pipe: one line, no prompt, as before', async (t) => {
  const result = spawnSync(process.execPath, [CLI_PATH, 'hash-password'], { input: `${PASSWORD}\n`, encoding: 'utf8' })
  t.equal(result.status, 0)
  t.equal(result.stderr, '', 'no prompt when stdin is not a terminal')
  t.equal(await verifyPassword(result.stdout.trim(), PASSWORD), true)
  const huge = spawnSync(process.execPath, [CLI_PATH, 'hash-password'], { input: 'x'.repeat(1024 * 1024), encoding: 'utf8' })
  t.equal(huge.status, 2, 'a megabyte on stdin is not a password')
  t.match(huge.stderr, /more than 65536 bytes/)
})
