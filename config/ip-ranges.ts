// Source-IP allow-lists from CIDR strings, on node:net's BlockList (no
// hand-written address arithmetic).
import { BlockList, isIP } from 'node:net'

export function parseCidr (cidr: string): { address: string, prefix: number, family: 'ipv4' | 'ipv6' } | null {
  const [address, prefixText, ...rest] = cidr.split('/')
  if (address === undefined || prefixText === undefined || rest.length > 0 || !/^\d{1,3}$/.test(prefixText)) return null
  const version = isIP(address)
  const prefix = Number(prefixText)
  if (version === 0 || prefix > (version === 4 ? 32 : 128)) return null
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' }
}

/** An IP allow-list built from CIDR ranges. */
export class IpRanges {
  private readonly list = new BlockList()

  constructor (cidrs: readonly string[]) {
    for (const cidr of cidrs) {
      const parsed = parseCidr(cidr)
      if (parsed === null) throw new Error(`not a CIDR range: ${cidr}`)
      this.list.addSubnet(parsed.address, parsed.prefix, parsed.family)
    }
  }

  /** True when `address` (as uWS reports it, IPv4 possibly IPv4-mapped IPv6) is in a range. */
  includes (address: string): boolean {
    const mapped = /^(?:0{0,4}:){5}ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address) ?? /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
    if (mapped !== null) return this.list.check(mapped[1]!, 'ipv4')
    const version = isIP(address)
    if (version === 0) return false
    return this.list.check(address, version === 4 ? 'ipv4' : 'ipv6')
  }
}
