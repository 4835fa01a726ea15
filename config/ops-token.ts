// The bearer token of the ops port's account routes (/accounts/...). Read
// from ops.tokenFile, never from argv (visible in ps) or the config file
// (copied around); with no tokenFile one is generated at first start into
// <runDir>/ops-token and reused after. Either file must be its owner's
// alone: a token others can read protects nothing.
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { GatehouseError } from '../protocol/gatehouse-error.js'

/** RFC 6750 b64token, long enough not to be guessed. */
const TOKEN_PATTERN = /^[A-Za-z0-9\-._~+/]{16,}=*$/
export const MIN_TOKEN_CHARS = 16

/** Where the token is: ops.tokenFile, or the generated <runDir>/ops-token. */
export function opsTokenPath (config: { runDir: string, ops: { tokenFile: string | null } }): string {
  return config.ops.tokenFile ?? join(config.runDir, 'ops-token')
}

/** What is wrong with a token file (missing, open to others, not a token), or null if it is usable. */
export function tokenFileProblem (path: string): string | null {
  let mode: number
  try {
    const stat = statSync(path)
    if (!stat.isFile()) return `"${path}" is not a file`
    mode = stat.mode & 0o777
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    return code === 'ENOENT' ? `file "${path}" does not exist` : `cannot read "${path}" (${code ?? (err as Error).message})`
  }
  if ((mode & 0o077) !== 0) {
    return `"${path}" is open to group or others (mode ${mode.toString(8).padStart(4, '0')}); make it owner-only: chmod 600 ${path}`
  }
  let token: string
  try {
    token = readFileSync(path, 'utf8').trim()
  } catch (err) {
    return `cannot read "${path}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`
  }
  if (!TOKEN_PATTERN.test(token)) {
    return `"${path}" must hold one bearer token of at least ${MIN_TOKEN_CHARS} characters from A-Z a-z 0-9 - . _ ~ + / (e.g. from \`openssl rand -base64 32\`)`
  }
  return null
}

export class OpsTokenError extends GatehouseError {
  declare readonly code: 'GH_ERR_OPS_TOKEN'
  constructor (message: string, options?: { cause?: unknown }) {
    super('GH_ERR_OPS_TOKEN', message, options)
  }
}

/**
 * The token the ops port requires, and the file it came from. Generates
 * <runDir>/ops-token (0600) when no tokenFile is configured and none was
 * generated before. Throws OpsTokenError with a one-line reason naming the
 * field to change.
 */
export function loadOpsToken (config: { runDir: string, ops: { tokenFile: string | null } }): { token: string, path: string } {
  const path = opsTokenPath(config)
  const field = config.ops.tokenFile === null ? `the generated ops token (ops.tokenFile is null)` : 'ops.tokenFile'
  if (config.ops.tokenFile === null) {
    try {
      mkdirSync(config.runDir, { recursive: true, mode: 0o700 })
      const fd = openSync(path, 'wx', 0o600)
      try {
        writeSync(fd, randomBytes(32).toString('base64url') + '\n')
      } finally {
        closeSync(fd)
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      // Generated before: reused, so scrapers configured with it keep working.
      if (code !== 'EEXIST') throw new OpsTokenError(`${field}: cannot write "${path}" (${code ?? (err as Error).message}); make runDir writable or set ops.tokenFile`)
    }
  }
  const problem = tokenFileProblem(path)
  if (problem !== null) throw new OpsTokenError(`${field}: ${problem}`)
  return { token: readFileSync(path, 'utf8').trim(), path }
}
