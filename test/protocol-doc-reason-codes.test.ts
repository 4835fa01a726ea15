// The reason-code table of docs/protocol.md is the one clients code against;
// keep it equal to the RejectReason enum in common.proto.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { RejectReason } from '../protocol/messages.js'

t.test('docs/protocol.md reason-code table lists exactly the RejectReason enum', async (t) => {
  const doc = readFileSync(fileURLToPath(new URL('../../docs/protocol.md', import.meta.url)), 'utf8')
  const section = doc.split('## Reason codes')[1]!.split('\n## ')[0]!
  const documented = [...section.matchAll(/^\| (\d+) \| `([A-Z_]+)` \|/gm)].map(([, code, name]) => [Number(code), name])
  const enumEntries = Object.entries(RejectReason as unknown as Record<string, number>)
    .filter(([name, code]) => typeof code === 'number' && code !== 0 && Number.isNaN(Number(name)))
    .map(([name, code]) => [code, name])
    .sort((a, b) => (a[0] as number) - (b[0] as number))
  t.same(documented, enumEntries)
})
