/**
 * Errors of the exchange simulator. Each has a stable `code` (the undici
 * convention): match on it, not on the class or the message.
 */
export class SimConfigError extends Error {
  readonly code = ERR_SIM_CONFIG
  constructor (message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'SimConfigError'
  }
}

/** A flag, option or instruments file is invalid; the message names the field and says what to change. */
export const ERR_SIM_CONFIG = 'GH_ERR_SIM_CONFIG'
