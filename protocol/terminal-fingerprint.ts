// Terminal info (看穿式监管 collection data): which required fields are
// missing, and the stable fingerprint ID of a terminal.
import { createHash } from 'node:crypto'
import { wireInt } from './messages.js'
import type { gatehouse } from './generated/gatehouse.js'

/** Terminal-info fields, in the order of the collector's failure bitmask (docs/domain.md). */
export const TERMINAL_FIELDS = [
  'terminalType', 'collectedTime', 'ips', 'mac', 'deviceName',
  'osVersion', 'diskSerial', 'cpuSerial', 'bios', 'systemDiskPartition',
] as const
export type TerminalField = typeof TERMINAL_FIELDS[number]

export type TerminalInfo = gatehouse.v1.TerminalInfo

function fieldPresent (info: TerminalInfo, field: TerminalField): boolean {
  switch (field) {
    case 'collectedTime': return wireInt(info.collectedTimeUs) > 0
    case 'ips': return info.ips.length > 0 && info.ips.every((ip) => ip.length > 0)
    default: return info[field].length > 0
  }
}

/**
 * Required fields that are empty or that the collector flagged as not
 * collected (bit i of collect_failure_mask is TERMINAL_FIELDS[i]).
 */
export function missingTerminalFields (info: TerminalInfo, required: readonly TerminalField[]): TerminalField[] {
  return required.filter((field) => {
    const bit = TERMINAL_FIELDS.indexOf(field)
    return (info.collectFailureMask & (1 << bit)) !== 0 || !fieldPresent(info, field)
  })
}

/**
 * The terminal's identity: SHA-256 over the hardware and host fields, hex.
 * IPs, collection time and OS version are left out: they change on the same
 * machine (DHCP, each logon, OS updates) and would make every logon "new".
 */
export function fingerprintId (info: TerminalInfo): string {
  const hash = createHash('sha256')
  for (const value of [info.terminalType, info.mac.toLowerCase(), info.deviceName, info.diskSerial, info.cpuSerial, info.bios, info.systemDiskPartition]) {
    hash.update(value, 'utf8').update('\0')
  }
  return hash.digest('hex')
}

/** Terminal info for logs and the journal: the socket's address, never the client's claim, comes separately. */
export function terminalInfoRecord (info: TerminalInfo): Record<string, unknown> {
  return {
    terminalType: info.terminalType,
    collectedTimeUs: wireInt(info.collectedTimeUs),
    ips: info.ips,
    mac: info.mac,
    deviceName: info.deviceName,
    osVersion: info.osVersion,
    diskSerial: info.diskSerial,
    cpuSerial: info.cpuSerial,
    bios: info.bios,
    systemDiskPartition: info.systemDiskPartition,
    collectFailureMask: info.collectFailureMask,
    abnormal: info.abnormal,
  }
}
