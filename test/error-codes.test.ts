// One registry of error codes (protocol/error-codes.ts), one table in the
// docs (docs/errors.md): they must list exactly the same codes, and no code
// may be used in the sources or docs without being registered.
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { ERROR_CODES, isErrorCode, type ErrorCode } from '../protocol/error-codes.js'
import { GatehouseError, isGatehouseError } from '../protocol/gatehouse-error.js'
import { JournalError, journalErrorCodes } from '../journal/errors.js'
import { ConfigError } from '../config/config.js'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'generated', '.git'])
/**
 * Any code-shaped word, or a family written as a prefix and `_*` (as in
 * `GH_ERR_ADMIN_*`). Built from parts so this file holds no code of its own.
 */
const CODE_PATTERN = new RegExp(['GH', 'ERR', '[A-Z0-9_]*[A-Z0-9](_\\*)?'].join('_'), 'g')

function isRegisteredCodeOrFamily (word: string): boolean {
  if (!word.endsWith('_*')) return isErrorCode(word)
  const prefix = word.slice(0, -1)
  return Object.keys(ERROR_CODES).some((code) => code.startsWith(prefix))
}

function filesUnder (dir: string, suffix: string): string[] {
  const found: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (SKIPPED_DIRS.has(entry.name) || entry.name.startsWith('.')) continue
    const path = join(dir, entry.name)
    if (entry.isDirectory()) found.push(...filesUnder(path, suffix))
    else if (entry.isFile() && entry.name.endsWith(suffix)) found.push(path)
  }
  return found
}

/** The rows of the table in docs/errors.md: code → exit code column ('—' when none), and codes with more than one row. */
function documentedCodes (): { rows: Map<string, string>, repeated: string[] } {
  const rows = new Map<string, string>()
  const repeated: string[] = []
  for (const line of readFileSync(join(REPO_ROOT, 'docs', 'errors.md'), 'utf8').split('\n')) {
    const cells = /^\|(.*)\|\s*$/.exec(line)?.[1]?.split(/(?<!\\)\|/).map((cell) => cell.trim())
    const code = cells === undefined ? undefined : /^`([A-Z0-9_]+)`$/.exec(cells[0]!)?.[1]
    if (code === undefined || cells === undefined) continue
    if (rows.has(code)) repeated.push(code)
    rows.set(code, cells[3]!)
  }
  return { rows, repeated }
}

t.test('docs/errors.md and the registry list exactly the same codes, with the same exit codes', async (t) => {
  const { rows: documented, repeated } = documentedCodes()
  t.same(repeated, [], 'each code has one row')
  t.same([...documented.keys()].sort(), Object.keys(ERROR_CODES).sort())
  for (const [code, info] of Object.entries(ERROR_CODES) as Array<[ErrorCode, typeof ERROR_CODES[ErrorCode]]>) {
    const exitCode = 'exitCode' in info ? String(info.exitCode) : '—'
    t.equal(documented.get(code), exitCode, `${code}: exit code column`)
  }
})

t.test('every registered code says what it means, who raises it and what to do', async (t) => {
  for (const [code, info] of Object.entries(ERROR_CODES)) {
    t.ok(info.meaning.length > 10 && info.action.length > 10, `${code}: meaning and action`)
    t.ok(info.raisedBy.length > 0, `${code}: raised by someone`)
  }
})

t.test('no code in the sources or docs is missing from the registry', async (t) => {
  const files = [...filesUnder(REPO_ROOT, '.ts'), ...filesUnder(REPO_ROOT, '.md')]
  t.ok(files.length > 100, 'the scan saw the repository')
  const unregistered: string[] = []
  for (const file of files) {
    for (const match of readFileSync(file, 'utf8').matchAll(CODE_PATTERN)) {
      if (!isRegisteredCodeOrFamily(match[0])) unregistered.push(`${relative(REPO_ROOT, file)}: ${match[0]}`)
    }
  }
  t.same(unregistered, [])
})

t.test('no error class outside the base extends Error directly', async (t) => {
  const direct: string[] = []
  for (const file of filesUnder(REPO_ROOT, '.ts')) {
    const path = relative(REPO_ROOT, file)
    if (path === join('protocol', 'gatehouse-error.ts')) continue
    // Test helpers parse test output; they are not Gatehouse errors.
    if (path.startsWith(join('test', 'helpers'))) continue
    for (const match of readFileSync(file, 'utf8').matchAll(/class (\w+) extends Error\b/g)) direct.push(`${path}: ${match[1]}`)
  }
  t.same(direct, [])
})

t.test('subclasses are GatehouseErrors with their name and a registered code', async (t) => {
  const journal = new JournalError(journalErrorCodes.CORRUPT, 'damaged', { cause: new Error('root') })
  t.ok(journal instanceof GatehouseError)
  t.equal(journal.name, 'JournalError')
  t.ok(isGatehouseError(journal, journalErrorCodes.CORRUPT))
  t.notOk(isGatehouseError(journal, journalErrorCodes.CLOSED))
  t.equal((journal.cause as Error).message, 'root', 'the cause is passed along')
  const config = new ConfigError(['a: is required'])
  t.ok(isErrorCode(config.code))
  t.equal(config.name, 'ConfigError')
  t.notOk(isGatehouseError(new Error('plain')))
})
