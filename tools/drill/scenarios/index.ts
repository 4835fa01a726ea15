// Every scenario, in the order a full drill runs them: those that need
// the trader's account to log on again come before the ones that may
// break such logons; among the logon scenarios, each that needs an
// account bucket clean runs before the ones that lock it (password-race
// the victim's approved-terminal bucket, enumeration its strangers'
// bucket, brute-force-password then finds both locked; cross-lane needs
// a new terminal for the trader before lockout-dos locks its name for
// strangers and fingerprint-flood uses up its new-fingerprint allowance);
// ops-fuzz, which can take the whole gateway down, comes last.
import type { Scenario } from '../scenario.js'
import { frameFuzz } from './frame-fuzz.js'
import { longFields } from './long-fields.js'
import { slowConsumer } from './slow-consumer.js'
import { preLogonFlood } from './pre-logon-flood.js'
import { connectionFlood } from './connection-flood.js'
import { slowlorisLogon } from './slowloris-logon.js'
import { nonceReplay } from './nonce-replay.js'
import { passwordRace } from './password-race.js'
import { enumeration } from './enumeration.js'
import { passwordOracle } from './password-oracle.js'
import { bruteForcePassword } from './brute-force-password.js'
import { bruteForceProof } from './brute-force-proof.js'
import { lockPersistence } from './lock-persistence.js'
import { logonCpu } from './logon-cpu.js'
import { fingerprintCrossLane } from './fingerprint-cross-lane.js'
import { lockoutDos } from './lockout-dos.js'
import { fingerprintFlood } from './fingerprint-flood.js'
import { logonAlerts } from './logon-alerts.js'
import { opsFuzz } from './ops-fuzz.js'

export const SCENARIOS: readonly Scenario[] = Object.freeze([
  frameFuzz,
  longFields,
  slowConsumer,
  preLogonFlood,
  connectionFlood,
  slowlorisLogon,
  nonceReplay,
  passwordRace,
  enumeration,
  passwordOracle,
  bruteForcePassword,
  bruteForceProof,
  lockPersistence,
  logonCpu,
  fingerprintCrossLane,
  lockoutDos,
  fingerprintFlood,
  logonAlerts,
  opsFuzz,
])
