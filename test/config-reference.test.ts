// docs/configuration.md describes every field of the config schema, and
// deploy/gatehouse.example.json (the production-shaped example it points
// to) validates. JSON has no comments, so the reference is where each
// field is explained; a field added to the schema without a row fails here.
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { z } from 'zod'
import { ConfigError, GatewayConfigSchema } from '../config/config.js'
import { resolveConfig } from '../config/load.js'
import { REPO_ROOT } from './helpers/deploy-queries.js'

const fixture = (name: string): string => fileURLToPath(new URL(`../../test/fixtures/${name}`, import.meta.url))

/** Every leaf field path of a zod schema: arrays as `[]`, records as `*`. */
function leafPaths (schema: z.ZodType, path: string, out: string[]): string[] {
  const def = (schema as unknown as { _zod: { def: Record<string, any> } })._zod.def
  switch (def.type) {
    case 'object':
      for (const [key, value] of Object.entries(def.shape as Record<string, z.ZodType>)) leafPaths(value, path === '' ? key : `${path}.${key}`, out)
      break
    case 'optional': case 'nullable': case 'default': case 'pipe':
      leafPaths(def.innerType ?? def.in, path, out)
      break
    case 'array':
      leafPaths(def.element, `${path}[]`, out)
      break
    case 'record':
      leafPaths(def.valueType, `${path}.*`, out)
      break
    default:
      out.push(path)
  }
  return out
}

/** The row a field is documented under: lanes and limit scopes share theirs. */
function documentedAs (path: string): string {
  return path
    .replace(/^lanes\.(terminal|platform|hft)\./, 'lanes.<lane>.')
    .replace(/^risk\.limits\.(global|lanes\.\w+|exchanges\.\w+|appIds\.\*|accounts\.\*|accountInstruments\.\*\.\*)\./, 'risk.limits.<scope>.')
}

t.test('every schema field has a row in docs/configuration.md, and every row is a field', async (t) => {
  const doc = readFileSync(join(REPO_ROOT, 'docs/configuration.md'), 'utf8')
  const rows = new Set([...doc.matchAll(/^\| `([^`]+)` \| (.+) \|$/gm)].map((m) => m[1]!))
  const described = [...doc.matchAll(/^\| `([^`]+)` \| (.+) \|$/gm)]
  for (const [, field, meaning] of described) t.ok(meaning!.trim().length >= 10, `${field}: says something`)
  const fields = new Set(leafPaths(GatewayConfigSchema as unknown as z.ZodType, '', []).map(documentedAs))
  t.ok(fields.size > 100, `${fields.size} fields`)
  for (const field of fields) t.ok(rows.has(field), `${field}: documented`)
  for (const row of rows) t.ok(fields.has(row), `${row}: is a field of the schema`)
})

t.test('deploy/gatehouse.example.json validates (with test certificates in place of its paths)', async (t) => {
  const example = JSON.parse(readFileSync(join(REPO_ROOT, 'deploy/gatehouse.example.json'), 'utf8')) as Record<string, any>
  // Validation checks that certificate files exist; this host has test ones.
  for (const lane of ['terminal', 'platform', 'hft']) {
    t.ok(example.lanes[lane].tls, `lanes.${lane} is TLS in the example`)
    example.lanes[lane].tls = { certFile: fixture('lane-tls-cert.pem'), keyFile: fixture('lane-tls-key.pem') }
  }
  const config = resolveConfig(example)
  t.equal(config.exchange.embeddedSimulator, false, 'a production config dials a real exchange')
  t.equal(config.runDir, '/var/lib/gatehouse', 'the runDir the systemd unit and the image use')
  t.equal(config.ops.port, 7080, 'the ops port the unit\'s readiness check polls')
  // And as it stands, only the certificate paths of this host are missing.
  const asIs = JSON.parse(readFileSync(join(REPO_ROOT, 'deploy/gatehouse.example.json'), 'utf8')) as unknown
  try {
    resolveConfig(asIs)
    t.fail('the example\'s certificate paths do not exist here')
  } catch (err) {
    t.ok(err instanceof ConfigError)
    t.ok((err as ConfigError).problems.every((problem) => /^lanes\.\w+\.tls\.(certFile|keyFile): file "\/etc\/gatehouse\/tls\/gateway\.(crt|key)" does not exist$/.test(problem)), (err as ConfigError).problems.join('\n'))
  }
})
