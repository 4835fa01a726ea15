// Every scenario, in the order a full drill runs them: those that need
// the trader's account to log on again come before the ones that may
// break such logons (lockouts, fingerprint history), and ops-fuzz, which
// can take the whole gateway down, comes last.
import type { Scenario } from '../scenario.js'
import { frameFuzz } from './frame-fuzz.js'
import { longFields } from './long-fields.js'
import { slowConsumer } from './slow-consumer.js'
import { preLogonFlood } from './pre-logon-flood.js'
import { connectionFlood } from './connection-flood.js'
import { slowlorisLogon } from './slowloris-logon.js'
import { nonceReplay } from './nonce-replay.js'
import { bruteForcePassword } from './brute-force-password.js'
import { bruteForceProof } from './brute-force-proof.js'
import { addressSpray } from './address-spray.js'
import { logonCpu } from './logon-cpu.js'
import { fingerprintFlood } from './fingerprint-flood.js'
import { opsFuzz } from './ops-fuzz.js'

export const SCENARIOS: readonly Scenario[] = Object.freeze([
  frameFuzz,
  longFields,
  slowConsumer,
  preLogonFlood,
  connectionFlood,
  slowlorisLogon,
  nonceReplay,
  bruteForcePassword,
  bruteForceProof,
  addressSpray,
  logonCpu,
  fingerprintFlood,
  opsFuzz,
])
