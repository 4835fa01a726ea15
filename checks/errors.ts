// Errors of the live-tuning API. Match on `code` (from the registry,
// protocol/error-codes.ts), never on the message.
import type { ErrorCode } from '../protocol/error-codes.js'
import { GatehouseError } from '../protocol/gatehouse-error.js'

export const errorCodes = {
  INVALID_LIMIT: 'GH_ERR_INVALID_LIMIT',
  UNKNOWN_ACCOUNT: 'GH_ERR_UNKNOWN_ACCOUNT',
  UNKNOWN_APP: 'GH_ERR_UNKNOWN_APP',
  UNKNOWN_INSTRUMENT: 'GH_ERR_UNKNOWN_INSTRUMENT',
  CAPACITY: 'GH_ERR_RISK_CAPACITY',
} as const satisfies Record<string, ErrorCode>

export type RiskErrorCode = typeof errorCodes[keyof typeof errorCodes]

/** A live-tuning request that was refused; nothing was changed. */
export class RiskControlError extends GatehouseError {
  declare readonly code: RiskErrorCode
  constructor (code: RiskErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
  }
}
