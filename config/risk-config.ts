// Loads the risk section of the config into the shared risk state at
// start: registers every account and AppID (their indexes in the shared
// tables), then writes each scope's limits, trading states and
// programmatic-report statuses through the same RiskControl API ops use
// live.
import { RiskControl, type LimitSet } from '../checks/risk-control.js'
import { SELF_MATCH_MODES, type LimitName } from '../checks/limits.js'
import { EXCHANGES } from '../checks/risk-layout.js'
import { type GatewayConfig, type LimitSetConfig } from './config.js'
import { LANE_NAMES } from '../protocol/lanes.js'

/** Config spelling (words, booleans) to the numeric values the shared table holds. */
export function limitSetFromConfig (set: LimitSetConfig): LimitSet {
  const out: LimitSet = {}
  for (const [name, value] of Object.entries(set) as Array<[LimitName, unknown]>) {
    if (value === undefined) continue
    if (name === 'selfMatchMode') out[name] = SELF_MATCH_MODES.indexOf(value as typeof SELF_MATCH_MODES[number])
    else if (name === 'cancelOnDisconnect') out[name] = value === true ? 1 : 0
    else out[name] = value as number | null
  }
  return out
}

export function createRiskControl (config: GatewayConfig): RiskControl {
  const control = new RiskControl(config.risk.capacity)
  for (const software of config.software) control.registerApp(software.appId)
  for (const account of config.accounts) {
    control.registerAccount(account.id)
    control.setProgrammaticReport(account.id, account.programmaticReport)
  }
  const { limits } = config.risk
  control.setLimits({ kind: 'global' }, limitSetFromConfig(limits.global))
  for (const lane of LANE_NAMES) {
    const set = limits.lanes[lane]
    if (set !== undefined) control.setLimits({ kind: 'lane', lane }, limitSetFromConfig(set))
  }
  for (const exchange of EXCHANGES) {
    const set = limits.exchanges[exchange]
    if (set !== undefined) control.setLimits({ kind: 'exchange', exchange }, limitSetFromConfig(set))
  }
  for (const [appId, set] of Object.entries(limits.appIds)) control.setLimits({ kind: 'app', appId }, limitSetFromConfig(set))
  for (const [account, set] of Object.entries(limits.accounts)) control.setLimits({ kind: 'account', account }, limitSetFromConfig(set))
  for (const [account, bySymbol] of Object.entries(limits.accountInstruments)) {
    for (const [instrument, set] of Object.entries(bySymbol)) {
      // Config may name an instrument before the exchange lists it.
      control.registerInstrument(instrument)
      control.setLimits({ kind: 'account-instrument', account, instrument }, limitSetFromConfig(set))
    }
  }
  for (const [account, state] of Object.entries(config.risk.tradingStates)) control.setTradingState(account, state)
  return control
}
