// Creates scrypt password hashes in the format the credential worker
// verifies. Used by `gatehouse hash-password` and to build demo configs.
import { randomBytes, scryptSync } from 'node:crypto'

/** scrypt cost parameters: N=2^14, r=8, p=1 (about 50 ms and 16 MiB per check here). */
export const SCRYPT_PARAMS = Object.freeze({ N: 16384, r: 8, p: 1 })
const KEY_BYTES = 32
const SALT_BYTES = 16

export function hashPassword (password: string, params: { N: number, r: number, p: number } = SCRYPT_PARAMS): string {
  const salt = randomBytes(SALT_BYTES)
  const key = scryptSync(password, salt, KEY_BYTES, { ...params, maxmem: 256 * params.N * params.r })
  return `scrypt$${params.N}$${params.r}$${params.p}$${salt.toString('base64')}$${key.toString('base64')}`
}
