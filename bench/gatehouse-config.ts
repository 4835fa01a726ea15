// The Gatehouse config and client identity the benchmark runs with: its own
// AppID, terminal fingerprint and accounts, all registered the way a broker
// would register a real client, so every benchmark session goes through the
// whole look-through logon (AuthCode proof, terminal info, password).
//
// Two deliberate departures from production settings, both because every
// benchmark session comes from one host in a bounded run:
// - password hashes use scrypt N=1024 instead of 16384, so 5000 logons take
//   seconds rather than minutes (the logon rate is reported with this cost);
//   logon-rate's own accounts keep the production cost, since the logon
//   rate is what that scenario measures;
// - the per-IP connection throttle is raised, since all sessions share
//   127.0.0.1.
import { v1 } from '../protocol/messages.js'
import type { gatehouse } from '../protocol/generated/gatehouse.js'
import { SCRYPT_PARAMS, hashPassword } from '../gateway/password-hash.js'
import { fingerprintId, type TerminalInfo } from '../gateway/terminal-fingerprint.js'
import type { Credentials } from './types.js'

export const BENCH_APP_ID = 'gatehouse-bench'
export const BENCH_AUTH_CODE = 'bench-authcode-6c1f0e9a2d7b4c35'

function scryptText (params: Readonly<{ N: number, r: number, p: number }>): string {
  return `scrypt N=${params.N} r=${params.r} p=${params.p}`
}

/** Cost of the bench accounts' password hashes (production default: N=16384). */
export const BENCH_SCRYPT = Object.freeze({ N: 1024, r: 8, p: 1 })
export const BENCH_SCRYPT_TEXT = scryptText(BENCH_SCRYPT)
/** The production default (gateway/password-hash.ts), for the accounts of logon-rate. */
export const PRODUCTION_SCRYPT_TEXT = `${scryptText(SCRYPT_PARAMS)} (production default)`
/** Sessions one bench account may hold; scenarios with more sessions than accounts stay under it. */
export const BENCH_MAX_SESSIONS = 4

export const BENCH_TERMINAL_INFO: gatehouse.v1.TerminalInfo.$Properties = Object.freeze({
  terminalType: 'linux-server',
  collectedTimeUs: 0, // set at each logon
  ips: ['127.0.0.1'],
  mac: '02:42:ac:11:00:42',
  deviceName: 'bench-load-generator',
  osVersion: 'Linux 6.1',
  diskSerial: '',
  cpuSerial: '',
  bios: '',
  systemDiskPartition: '',
  // Disk, CPU, BIOS serials and the Windows partition not collected, as on
  // a Linux VM; no lane policy requires them.
  collectFailureMask: 0b11_1100_0000,
  abnormal: false,
})

/** What a load generator needs to pass the look-through logon. */
export interface ClientIdentity {
  appId: string
  authCode: string
  terminalInfo: gatehouse.v1.TerminalInfo.$Properties
}

export const BENCH_IDENTITY: ClientIdentity = { appId: BENCH_APP_ID, authCode: BENCH_AUTH_CODE, terminalInfo: BENCH_TERMINAL_INFO }

/** A config file (merged over the defaults by `gatehouse start --config`) for one benchmark gateway. */
export function gatehouseBenchConfig (options: { simPort: number, simHost: string, runDir: string, credentials: Credentials[] }): unknown {
  // Every bench account has the same password: hash it once per cost, not
  // per account (a production-cost hash takes ~50 ms of the runner's CPU).
  const passwordHashes = new Map<string, string>()
  const hashOf = (c: Credentials): string => {
    const params = c.scrypt ?? BENCH_SCRYPT
    const key = `${params.N}/${params.r}/${params.p}/${c.password}`
    let hash = passwordHashes.get(key)
    if (hash === undefined) {
      // The production cost goes through hashPassword's own default, so a
      // change of SCRYPT_PARAMS is what logon-rate measures.
      hash = scryptText(params) === scryptText(SCRYPT_PARAMS) ? hashPassword(c.password) : hashPassword(c.password, params)
      passwordHashes.set(key, hash)
    }
    return hash
  }
  const fingerprint = fingerprintId(v1.TerminalInfo.create(BENCH_TERMINAL_INFO) as TerminalInfo)
  const lane = { port: 0, policy: { maxConnectionsPerIpPerSecond: 1_000_000 } }
  return {
    gatewayId: 'bench',
    runDir: options.runDir,
    lanes: { terminal: lane, platform: lane, hft: lane },
    ops: { port: 0 },
    exchange: { embeddedSimulator: false, host: options.simHost, port: options.simPort },
    software: [{
      appId: BENCH_APP_ID,
      vendor: 'Gatehouse',
      name: 'gatehouse benchmark load generator',
      version: '0.1.0',
      authCode: BENCH_AUTH_CODE,
      status: 'production',
      assessment: { documents: [{ name: 'bench self-assessment', expires: '2099-12-31' }], accessTestPassed: '2026-01-05' },
    }],
    accounts: options.credentials.map((c) => ({
      id: c.account,
      passwordHash: hashOf(c),
      lanes: ['terminal', 'platform', 'hft'],
      appIds: [BENCH_APP_ID],
      ipRanges: ['127.0.0.0/8'],
      // Programmatic accounts must have a report on file before they trade.
      programmaticReport: 'confirmed',
      maxSessions: BENCH_MAX_SESSIONS,
      knownFingerprints: [fingerprint],
    })),
  }
}
