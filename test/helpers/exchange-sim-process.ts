// The exchange simulator as a real child process on an ephemeral loopback
// port, for tests.
import { startExchangeSimProcess, type ExchangeSimProcess } from '../../supervisor/exchange-sim-process.js'

export { CLI_PATH } from '../../supervisor/exchange-sim-process.js'
export type SimProcess = ExchangeSimProcess

export async function startExchangeSim (extraArgs: string[] = []): Promise<SimProcess> {
  return startExchangeSimProcess(['--host', '127.0.0.1', '--port', '0', ...extraArgs])
}
