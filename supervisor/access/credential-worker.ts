// Piscina task: the slow, secret-handling part of logon, off the lane
// threads (credential and AuthCode verification run in the
// supervisor's pool, never on a lane thread). Each call is one check.
import { scrypt as scryptCallback, timingSafeEqual, createHmac, type ScryptOptions } from 'node:crypto'
import { promisify } from 'node:util'
import { authProofMessage } from '../../protocol/auth-proof.js'

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number, options: ScryptOptions) => Promise<Buffer>

export type CredentialTask =
  | { kind: 'auth-proof', authCode: string, nonce: Uint8Array, appId: string, account: string, lane: string, proof: Uint8Array }
  | { kind: 'password', passwordHash: string, password: string }

/**
 * Password hashes are "scrypt$N$r$p$<salt base64>$<key base64>", the format
 * `gatehouse hash-password` writes.
 */
export function parsePasswordHash (hash: string): { N: number, r: number, p: number, salt: Buffer, key: Buffer } | null {
  const parts = hash.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null
  const [N, r, p] = parts.slice(1, 4).map(Number) as [number, number, number]
  const salt = Buffer.from(parts[4]!, 'base64')
  const key = Buffer.from(parts[5]!, 'base64')
  if (![N, r, p].every(Number.isInteger) || salt.length < 16 || key.length < 32) return null
  return { N, r, p, salt, key }
}

export async function verifyPassword (passwordHash: string, password: string): Promise<boolean> {
  const parsed = parsePasswordHash(passwordHash)
  if (parsed === null) return false
  const derived = await scrypt(password, parsed.salt, parsed.key.length, { N: parsed.N, r: parsed.r, p: parsed.p, maxmem: 256 * parsed.N * parsed.r })
  return timingSafeEqual(derived, parsed.key)
}

export function verifyAuthProof (task: Extract<CredentialTask, { kind: 'auth-proof' }>): boolean {
  const expected = createHmac('sha256', Buffer.from(task.authCode, 'utf8'))
    .update(authProofMessage(task.nonce, task.appId, task.account, task.lane)).digest()
  const proof = Buffer.from(task.proof)
  return proof.length === expected.length && timingSafeEqual(proof, expected)
}

export default async function runCredentialTask (task: CredentialTask): Promise<boolean> {
  return task.kind === 'password' ? verifyPassword(task.passwordHash, task.password) : verifyAuthProof(task)
}
