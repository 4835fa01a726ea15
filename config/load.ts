// Loading a config: the embedded defaults, merged with a file or an
// object of overrides, then validated as a whole (config.ts).
import { MAX_JSON_FILE_BYTES, readBoundedFile } from '../journal/read-bounded-file.js'
import { ConfigError, isPlainObject, mergeConfig, validateConfig, type GatewayConfig } from './config.js'
import { DEFAULT_CONFIG } from './defaults.js'

/** Merges `overrides` over the embedded defaults and validates the result. */
export function resolveConfig (overrides: unknown = {}): GatewayConfig {
  return validateConfig(mergeConfig(structuredClone(DEFAULT_CONFIG), overrides))
}

/** Reads a JSON config file (partial or whole) and resolves it. */
export function loadConfigFile (path: string): GatewayConfig {
  let text: string
  try {
    // Bounded, and only a regular file: `--config /dev/zero` or a FIFO used to read forever.
    text = readBoundedFile(path, MAX_JSON_FILE_BYTES, 'config file').toString('utf8')
  } catch (cause) {
    throw new ConfigError([(cause as Error).message], { cause })
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
