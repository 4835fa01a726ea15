// Errors of the live-tuning API. Match on `code`, never on the message.

export const errorCodes = {
  INVALID_LIMIT: 'GH_ERR_INVALID_LIMIT',
  UNKNOWN_ACCOUNT: 'GH_ERR_UNKNOWN_ACCOUNT',
  UNKNOWN_APP: 'GH_ERR_UNKNOWN_APP',
  UNKNOWN_INSTRUMENT: 'GH_ERR_UNKNOWN_INSTRUMENT',
  CAPACITY: 'GH_ERR_RISK_CAPACITY',
} as const

export type RiskErrorCode = typeof errorCodes[keyof typeof errorCodes]

/** A live-tuning request that was refused; nothing was changed. */
export class RiskControlError extends Error {
  constructor (readonly code: RiskErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = 'RiskControlError'
  }
}
