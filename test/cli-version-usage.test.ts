// A new user's first two commands: bare `gatehouse` prints the usage and
// succeeds (it is a question, not a mistake), and `gatehouse --version`
// prints package.json's version.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const CLI = fileURLToPath(new URL('../cli/cli.js', import.meta.url))
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version

t.test('bare gatehouse: usage on stdout, exit 0', async (t) => {
  const bare = spawnSync(process.execPath, [CLI], { encoding: 'utf8' })
  t.equal(bare.status, 0)
  t.equal(bare.stderr, '')
  t.match(bare.stdout, /^usage: gatehouse <command> \[options\]\n\ncommands:\n/)
  for (const command of ['start', 'doctor', 'journal', 'admin']) t.match(bare.stdout, new RegExp(`^  ${command} +\\S`, 'm'), command)
  t.match(bare.stdout, /Run `gatehouse --version` for the version\.\n$/)
  const journal = spawnSync(process.execPath, [CLI, 'journal'], { encoding: 'utf8' })
  t.equal(journal.status, 2, 'a subcommand without its tool is still a usage error')
})

t.test('gatehouse --version and -V', async (t) => {
  for (const flag of ['--version', '-V']) {
    const result = spawnSync(process.execPath, [CLI, flag], { encoding: 'utf8' })
    t.equal(result.status, 0)
    t.equal(result.stdout, `gatehouse ${VERSION}\n`)
  }
  const extra = spawnSync(process.execPath, [CLI, '--version', 'start'], { encoding: 'utf8' })
  t.equal(extra.status, 2, '--version takes nothing after it')
})
