// Property: whatever a client sends, in whatever order, no order reaches
// order entry unless Authenticate, TerminalInfo and Logon have all
// succeeded, in that order, on that connection. Random sequences run
// against a real lane; a model predicts each answer.
import t from 'tap'
import fc from 'fast-check'
import { GatehouseClient } from '../client/gatehouse-client.js'
import { computeAuthProof } from '../protocol/auth-proof.js'
import { DEMO_APP_ID, DEMO_AUTH_CODE, DEMO_TERMINAL_INFO } from '../protocol/demo-identity.js'
import { RejectReason, Side, TimeInForce, type ClientEnvelope } from '../protocol/messages.js'
import { startTestGateway } from './helpers/gateway.js'

const gateway = await startTestGateway({
  // Bad attempts are part of the input; they must not lock the test out.
  // Many connections a second from one address are part of it too.
  overrides: {
    security: { maxFailures: 1_000_000, prefixMaxFailures: 1_000_000, failureWindowMs: 60_000, lockoutMs: 60_000, maxTrackedEntries: 1000 },
    lanes: { terminal: { policy: { maxConnectionsPerIpPerSecond: 10_000, maxTerminalInfoAttempts: 100 } } },
  },
})
t.teardown(() => gateway.stop())

type Action = 'auth-good' | 'auth-bad' | 'terminal-good' | 'terminal-bad' | 'logon-good' | 'logon-bad' | 'order' | 'cancel'
// Good steps and orders are listed twice so that many sequences get all the
// way through logon and then trade, not only the refusal paths.
const ACTIONS: Action[] = ['auth-good', 'auth-good', 'auth-bad', 'terminal-good', 'terminal-good', 'terminal-bad',
  'logon-good', 'logon-good', 'logon-bad', 'order', 'order', 'cancel']
const STAGES = ['challenged', 'authenticated', 'terminal-verified', 'logged-on'] as const
type Stage = typeof STAGES[number]
const STEP_FROM: Partial<Record<Action, Stage>> = {
  'auth-good': 'challenged', 'auth-bad': 'challenged',
  'terminal-good': 'authenticated', 'terminal-bad': 'authenticated',
  'logon-good': 'terminal-verified', 'logon-bad': 'terminal-verified',
}

/** Sends one action and resolves with the gateway's answer to it. */
async function perform (client: GatehouseClient, action: Action, orderId: number): Promise<ClientEnvelope> {
  const challenges = client.received.filter((m) => m.body === 'authChallenge')
  const nonce = challenges[challenges.length - 1]!.authChallenge!.nonce!
  const answers = (seq: number) => (m: ClientEnvelope): boolean =>
    (m.body === 'reject' && Number(m.reject!.refSeq) === seq) ||
    m.body === 'authenticateReply' || m.body === 'terminalInfoReply' || m.body === 'logonReply' || m.body === 'executionReport'
  // The answer cannot arrive before nextNew() is registered right after the
  // send: it needs a network round trip, and this all runs synchronously.
  let seq = 0
  switch (action) {
    case 'auth-good':
    case 'auth-bad': {
      const authCode = action === 'auth-good' ? DEMO_AUTH_CODE : 'wrong-authcode-0000000000'
      seq = client.send({ authenticate: { appId: DEMO_APP_ID, account: 'demo-maker', proof: computeAuthProof(authCode, nonce, DEMO_APP_ID, 'demo-maker', 'terminal') } })
      break
    }
    case 'terminal-good':
    case 'terminal-bad':
      seq = client.send({ terminalInfo: { ...DEMO_TERMINAL_INFO, collectedTimeUs: Date.now() * 1000, mac: action === 'terminal-good' ? DEMO_TERMINAL_INFO.mac : '' } })
      break
    case 'logon-good':
    case 'logon-bad':
      seq = client.send({ logon: { account: 'demo-maker', password: action === 'logon-good' ? 'maker-pass' : 'wrong-password' } })
      break
    case 'order':
      seq = client.newOrder({ clientOrderId: orderId, instrument: 'rb2605', side: Side.BUY, price: 3000, quantityLots: 1, timeInForce: TimeInForce.FAK })
      break
    case 'cancel':
      seq = client.cancel(orderId)
      break
  }
  const answer = await client.nextNew(answers(seq))
  // A failed Authenticate is followed by a fresh challenge: wait for it so
  // the next proof is made over the current nonce.
  if (answer.body === 'authenticateReply' && answer.authenticateReply!.ok !== true) {
    await client.next((m) => m.body === 'authChallenge' && client.received.filter((x) => x.body === 'authChallenge').length > challenges.length)
  }
  return answer
}

t.test('no message sequence reaches order entry without all three steps', async (t) => {
  let loggedOnRuns = 0
  const noise = fc.array(fc.constantFrom(...ACTIONS), { maxLength: 5 })
  // Half the sequences splice the correct three steps in somewhere; noise
  // before them may still derail them, which the model accounts for.
  const sequences = fc.tuple(noise, fc.boolean(), noise).map(([before, withGoodPath, after]): Action[] =>
    withGoodPath ? [...before, 'auth-good', 'terminal-good', 'logon-good', ...after] : [...before, ...after])
  await fc.assert(fc.asyncProperty(sequences, async (actions) => {
    const client = await GatehouseClient.connect(gateway.url('terminal'))
    await client.next((m) => m.body === 'authChallenge')
    let stage: Stage = 'challenged'
    try {
      for (const [index, action] of actions.entries()) {
        const answer = await perform(client, action, index + 1)
        if (action === 'order' || action === 'cancel') {
          const reachedOrderEntry = !(answer.body === 'reject' && answer.reject!.reason === RejectReason.NOT_AUTHENT)
          if (reachedOrderEntry !== (stage === 'logged-on')) return false
          continue
        }
        const from = STEP_FROM[action]!
        const succeeded = (answer.authenticateReply ?? answer.terminalInfoReply ?? answer.logonReply)?.ok === true
        const expectSuccess = stage === from && action.endsWith('-good')
        if (succeeded !== expectSuccess) return false
        if (stage !== from && !(answer.body === 'reject' && (answer.reject!.reason === RejectReason.LOGON_STEP_OUT_OF_ORDER || answer.reject!.reason === RejectReason.ALREADY_LOGGED_ON))) return false
        if (succeeded) stage = STAGES[STAGES.indexOf(stage) + 1]!
      }
      if (stage === 'logged-on') loggedOnRuns++
      return true
    } finally {
      await client.close()
    }
  }), { numRuns: 60, interruptAfterTimeLimit: 60_000 })
  t.pass('every random sequence behaved as the model says')
  t.ok(loggedOnRuns > 0, `some sequences completed logon (${loggedOnRuns} of 60)`)
})
