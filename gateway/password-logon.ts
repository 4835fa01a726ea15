// Account logon with a password from config: the walking skeleton's
// authentication. Look-through authentication (AppID + AuthCode proof,
// terminal info, scrypt hashes verified in the piscina pool) replaces this
// behind the same verdict shape.
import { createHash, timingSafeEqual } from 'node:crypto'
import { RejectReason } from '../protocol/messages.js'
import type { GatewayConfig, LaneName } from './config.js'

export interface LogonVerdict {
  reason: number
  text: string
}

const ACCEPTED: LogonVerdict = Object.freeze({ reason: 0, text: '' })

function digest (secret: string): Buffer {
  return createHash('sha256').update(secret).digest()
}

export class PasswordLogon {
  private readonly accounts: Map<string, { passwordDigest: Buffer, lanes: Set<LaneName> }>

  constructor (accounts: GatewayConfig['accounts']) {
    this.accounts = new Map(accounts.map((account) => [account.id, {
      passwordDigest: digest(account.password),
      lanes: new Set(account.lanes),
    }]))
  }

  verify (account: string, password: string, lane: LaneName): LogonVerdict {
    const entry = this.accounts.get(account)
    // Compare digests in constant time, and compare even for an unknown
    // account, so timing does not reveal which accounts exist.
    const matches = timingSafeEqual(digest(password), entry?.passwordDigest ?? digest(`\0${password}`))
    if (entry === undefined || !matches) {
      return { reason: RejectReason.INVALID_CREDENTIALS, text: 'unknown account or wrong password' }
    }
    if (!entry.lanes.has(lane)) {
      return { reason: RejectReason.LANE_NOT_ALLOWED, text: `account ${account} may not use the ${lane} lane` }
    }
    return ACCEPTED
  }
}
