// Errors of the exchange simulator. Each has a stable `code` from the
// registry (protocol/error-codes.ts): match on it, not on the class or the message.
import type { ErrorCode } from '../protocol/error-codes.js'
import { GatehouseError } from '../protocol/gatehouse-error.js'

/** A flag, option or instruments file is invalid; the message names the field and says what to change. */
export const ERR_SIM_CONFIG = 'GH_ERR_SIM_CONFIG' satisfies ErrorCode

export class SimConfigError extends GatehouseError {
  declare readonly code: typeof ERR_SIM_CONFIG
  constructor (message: string, options?: { cause?: unknown }) {
    super(ERR_SIM_CONFIG, message, options)
  }
}
