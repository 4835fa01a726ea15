// The run time the docs give for `npm run bench -- --quick` is the one
// the harness's own --help gives: a reader who plans around "~30 s" and
// waits a minute more thinks it hung.
import t from 'tap'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const RUN = join(ROOT, 'dist', 'bench', 'run.js')

t.test('--quick: every "~N s" next to it in the README and the bench docs matches --help', async (t) => {
  const help = spawnSync(process.execPath, [RUN, '--help'], { encoding: 'utf8' })
  t.equal(help.status, 0)
  const helpSeconds = /^\s*--quick\s+~(\d+) s\b/m.exec(help.stdout)?.[1]
  t.ok(helpSeconds, '--help gives the --quick run time')
  let mentions = 0
  for (const file of ['README.md', 'docs/benchmarks.md', 'bench/README.md']) {
    for (const line of readFileSync(join(ROOT, file), 'utf8').split('\n')) {
      if (!/--quick\b/.test(line)) continue
      const seconds = /~(\d+) s\b/.exec(line)?.[1]
      if (seconds === undefined) continue
      mentions++
      t.equal(seconds, helpSeconds, `${file}: ${line.trim()}`)
    }
  }
  t.ok(mentions >= 2, `${mentions} mentions checked`)
})
