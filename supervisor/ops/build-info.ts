// What runs, for gatehouse_build_info and the status page: the package's
// version, Node's, the uWebSockets.js package's, and the commit when the
// deployment says which (GATEHOUSE_COMMIT, e.g. set by the image build).
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { packageVersion } from '../../platform/package-version.js'

export interface BuildInfo {
  version: string
  node: string
  uws: string
  /** Absent unless GATEHOUSE_COMMIT holds a hex commit ID (7 to 40 digits). */
  commit?: string
}

let cached: BuildInfo | undefined

function uwsVersion (): string {
  try {
    const main = createRequire(import.meta.url).resolve('uWebSockets.js')
    const json = JSON.parse(readFileSync(join(dirname(main), 'package.json'), 'utf8')) as { version?: unknown }
    return typeof json.version === 'string' ? json.version : 'unknown'
  } catch {
    return 'unknown'
  }
}

export function buildInfo (): BuildInfo {
  if (cached !== undefined) return cached
  const commit = process.env.GATEHOUSE_COMMIT
  cached = {
    version: packageVersion(),
    node: process.versions.node,
    uws: uwsVersion(),
    // Anything else is ignored rather than put in a label: a label value is not a place for free text.
    ...(commit !== undefined && /^[0-9a-f]{7,40}$/.test(commit) ? { commit } : {}),
  }
  return cached
}
