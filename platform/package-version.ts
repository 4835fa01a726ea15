// The package's version, as package.json says: `gatehouse --version` and
// `gatehouse doctor` print it. Read once from the file next to dist/ (the
// compiled module sits at dist/platform/, the package root two levels up),
// so a release bumps one place.
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** The package root: package.json, package-lock.json and node_modules live here. */
export const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url))

let cached: string | undefined

/** package.json's "version", or "unknown" when the file cannot be read (a copied dist/ without it). */
export function packageVersion (): string {
  if (cached !== undefined) return cached
  try {
    const json = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown }
    cached = typeof json.version === 'string' ? json.version : 'unknown'
  } catch {
    cached = 'unknown'
  }
  return cached
}
