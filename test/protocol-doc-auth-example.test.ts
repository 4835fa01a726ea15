// The worked example of the AuthCode proof in docs/protocol.md is what vendors
// build their clients from: keep it byte-exact with the implementation.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { authProofMessage, computeAuthProof } from '../protocol/auth-proof.js'

t.test('docs/protocol.md worked example matches computeAuthProof', async (t) => {
  const doc = readFileSync(fileURLToPath(new URL('../../docs/protocol.md', import.meta.url)), 'utf8')
  const row = (label: string): string => {
    const line = doc.split('\n').find((l) => l.startsWith(`| ${label} |`))
    t.ok(line, `docs/protocol.md has the ${label} row`)
    return [...line!.split('|')[2]!.matchAll(/`([^`]*)`/g)].map((m) => m[1]).join('')
  }
  const authCode = row('AuthCode')
  const nonce = Buffer.from(row('nonce (hex)'), 'hex')
  const [appId, account, lane] = doc.split('\n').find((l) => l.startsWith('| app_id / account / lane |'))!
    .split('|')[2]!.match(/`([^`]*)`/g)!.map((s) => s.slice(1, -1))
  t.equal(authProofMessage(nonce, appId!, account!, lane!).toString('hex'), row('message (hex)'))
  t.equal(computeAuthProof(authCode, nonce, appId!, account!, lane!).toString('hex'), row('proof (hex)'))
})
