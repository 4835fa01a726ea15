// Whether a host name or address is this machine's loopback: listeners off
// loopback need TLS (config), and the drill refuses remote targets unless
// told. A URL's IPv6 host comes bracketed ("[::1]"); both forms are accepted.
import { isIP } from 'node:net'

export function isLoopbackHost (host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '')
  return bare === 'localhost' || bare === '::1' || (isIP(bare) === 4 && bare.startsWith('127.'))
}
