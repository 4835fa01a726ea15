// Gateway configuration: one JSON file, merged over the embedded defaults
// and validated with zod. Every error names the exact field path and says
// what to change; the gateway refuses to start on any of them.
import { readFileSync, existsSync } from 'node:fs'
import { isIP } from 'node:net'
import { z } from 'zod'
import { DEFAULT_CONFIG } from './config-defaults.js'

export const LANE_NAMES = ['terminal', 'platform', 'hft'] as const
export const LaneNameSchema = z.enum(LANE_NAMES)
export type LaneName = z.infer<typeof LaneNameSchema>

const host = z.string().min(1, 'must be a host name or IP address')
const port = z.number().int('must be a whole number').min(0, 'must be 0 (any free port) or 1-65535').max(65535, 'must be at most 65535')

const TlsSchema = z.object({
  certFile: z.string().min(1, 'must be the path of a PEM certificate file'),
  keyFile: z.string().min(1, 'must be the path of a PEM private key file'),
  passphrase: z.string().optional(),
}).strict()

const LaneSchema = z.object({
  enabled: z.boolean(),
  host,
  port,
  /** Largest ClientEnvelope accepted; larger frames get FRAME_TOO_LARGE. */
  maxFrameBytes: z.number().int().min(64, 'must be at least 64 bytes').max(1_048_576, 'must be at most 1 MiB'),
  /** Close a connection silent for this long. uWS resolution is 4 s. */
  idleTimeoutS: z.number().int().refine((s) => s === 0 || s >= 8, 'must be 0 (never) or at least 8 seconds'),
  /** A client that stops reading is disconnected past this many unsent bytes. */
  maxBackpressureBytes: z.number().int().min(65_536, 'must be at least 64 KiB'),
  tls: TlsSchema.optional(),
  /** Allow a plain-text listener on a non-loopback address. */
  allowInsecureNonLoopback: z.boolean(),
}).strict()

const AccountSchema = z.object({
  id: z.string().regex(/^[A-Za-z0-9_.-]{1,32}$/, 'must be 1-32 letters, digits, ".", "_" or "-"'),
  password: z.string().min(8, 'must be at least 8 characters'),
  lanes: z.array(LaneNameSchema).min(1, 'must list at least one lane the account may use'),
}).strict()

export const GatewayConfigSchema = z.object({
  gatewayId: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'must be 1-32 letters, digits, "_" or "-"'),
  runDir: z.string().min(1),
  lanes: z.object({ terminal: LaneSchema, platform: LaneSchema, hft: LaneSchema }).strict(),
  ops: z.object({ host, port }).strict(),
  exchange: z.object({
    host,
    port,
    memberId: z.string().min(1).max(32),
    /** Start the bundled exchange simulator as a child process (`npm start`). */
    embeddedSimulator: z.boolean(),
    heartbeatIntervalMs: z.number().int().min(100, 'must be at least 100 ms').max(60_000, 'must be at most 60000 ms'),
    reconnectDelayMs: z.number().int().min(10).max(60_000),
    maxReconnectDelayMs: z.number().int().min(10).max(300_000),
  }).strict(),
  accounts: z.array(AccountSchema),
}).strict()

export type GatewayConfig = z.infer<typeof GatewayConfigSchema>
export type LaneConfig = GatewayConfig['lanes'][LaneName]

/** A config that failed validation; `problems` lists each as "path: what to change". */
export class ConfigError extends Error {
  readonly code = 'GH_ERR_CONFIG'
  readonly problems: string[]
  constructor (problems: string[], options?: { cause?: unknown }) {
    super(`invalid config:\n  - ${problems.join('\n  - ')}`, options)
    this.name = 'ConfigError'
    this.problems = problems
  }
}

function isLoopback (address: string): boolean {
  if (address === 'localhost' || address === '::1') return true
  return isIP(address) === 4 && address.startsWith('127.')
}

function formatIssue (issue: z.core.$ZodIssue): string {
  const path = issue.path.length === 0 ? '(top level)' : issue.path.map(String).join('.')
  if (issue.code === 'unrecognized_keys') {
    return `${path}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}; remove it or check its spelling`
  }
  if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) {
    return `${path}: is required (expected ${issue.expected})`
  }
  return `${path}: ${issue.message}`
}

/**
 * Rules that span fields, in one place (Artio's conclude()). Runs only on a
 * config whose fields are individually valid.
 */
function crossFieldProblems (config: GatewayConfig): string[] {
  const problems: string[] = []
  const portOwners = new Map<number, string>()
  const claimPort = (owner: string, port: number): void => {
    if (port === 0) return
    const other = portOwners.get(port)
    if (other !== undefined) problems.push(`${owner}.port: ${port} is already used by ${other}; give each listener its own port`)
    else portOwners.set(port, owner)
  }
  for (const name of LANE_NAMES) {
    const lane = config.lanes[name]
    if (!lane.enabled) continue
    const path = `lanes.${name}`
    claimPort(path, lane.port)
    if (lane.tls === undefined && !isLoopback(lane.host) && !lane.allowInsecureNonLoopback) {
      problems.push(`${path}.host: "${lane.host}" is not a loopback address and the lane has no TLS; ` +
        `set ${path}.tls { certFile, keyFile }, or set ${path}.allowInsecureNonLoopback: true if TLS is terminated in front of the gateway`)
    }
    if (lane.tls !== undefined) {
      for (const field of ['certFile', 'keyFile'] as const) {
        if (!existsSync(lane.tls[field])) problems.push(`${path}.tls.${field}: file "${lane.tls[field]}" does not exist`)
      }
    }
  }
  if (!LANE_NAMES.some((name) => config.lanes[name].enabled)) {
    problems.push('lanes: every lane is disabled; enable at least one')
  }
  claimPort('ops', config.ops.port)
  if (config.exchange.embeddedSimulator) claimPort('exchange', config.exchange.port)
  if (config.exchange.maxReconnectDelayMs < config.exchange.reconnectDelayMs) {
    problems.push('exchange.maxReconnectDelayMs: must be at least exchange.reconnectDelayMs')
  }
  const seen = new Set<string>()
  config.accounts.forEach((account, index) => {
    if (seen.has(account.id)) problems.push(`accounts.${index}.id: "${account.id}" is listed twice; account IDs must be unique`)
    seen.add(account.id)
  })
  return problems
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Objects merge field by field; arrays and scalars in `override` replace. */
export function mergeConfig (base: unknown, override: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(override)) return override === undefined ? base : override
  const merged: Record<string, unknown> = { ...base }
  for (const [key, value] of Object.entries(override)) merged[key] = mergeConfig(base[key], value)
  return merged
}

/** Validates a whole config object. Throws ConfigError listing every problem. */
export function validateConfig (input: unknown): GatewayConfig {
  const parsed = GatewayConfigSchema.safeParse(input)
  if (!parsed.success) throw new ConfigError(parsed.error.issues.map(formatIssue))
  const problems = crossFieldProblems(parsed.data)
  if (problems.length > 0) throw new ConfigError(problems)
  return parsed.data
}

/** Merges `overrides` over the embedded defaults and validates the result. */
export function resolveConfig (overrides: unknown = {}): GatewayConfig {
  return validateConfig(mergeConfig(structuredClone(DEFAULT_CONFIG), overrides))
}

/** Reads a JSON config file (partial or whole) and resolves it. */
export function loadConfigFile (path: string): GatewayConfig {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (cause) {
    throw new ConfigError([`${path}: cannot read the config file (${(cause as Error).message})`], { cause })
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (cause) {
    throw new ConfigError([`${path}: not valid JSON (${(cause as Error).message})`], { cause })
  }
  if (!isPlainObject(json)) throw new ConfigError([`${path}: must hold a JSON object`])
  return resolveConfig(json)
}
