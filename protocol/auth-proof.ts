// The AuthCode proof of the Authenticate step. Shared by the gateway (to
// verify) and the client library (to compute), so both follow the one
// definition documented in docs/protocol.md:
//
//   proof = HMAC-SHA256(key = AuthCode (UTF-8),
//                       "gatehouse.v1/authenticate" 0x00 nonce 0x00 app_id 0x00 account 0x00 lane)
//
// The nonce is raw bytes; the strings are UTF-8. The 0x00 separators keep
// ("ab","c") and ("a","bc") from producing the same message.
import { createHmac } from 'node:crypto'

export const AUTH_PROOF_CONTEXT = 'gatehouse.v1/authenticate'
const SEPARATOR = Buffer.from([0])

/** The bytes the HMAC is computed over. */
export function authProofMessage (nonce: Uint8Array, appId: string, account: string, lane: string): Buffer {
  return Buffer.concat([
    Buffer.from(AUTH_PROOF_CONTEXT, 'utf8'), SEPARATOR,
    nonce, SEPARATOR,
    Buffer.from(appId, 'utf8'), SEPARATOR,
    Buffer.from(account, 'utf8'), SEPARATOR,
    Buffer.from(lane, 'utf8'),
  ])
}

/** The 32-byte proof a client sends in Authenticate.proof. */
export function computeAuthProof (authCode: string, nonce: Uint8Array, appId: string, account: string, lane: string): Buffer {
  return createHmac('sha256', Buffer.from(authCode, 'utf8')).update(authProofMessage(nonce, appId, account, lane)).digest()
}
