// What a connection may cost before it has logged on. Until then nobody is
// accountable for it, yet every frame it sends is journaled for 20 years:
// so it gets small frames, a few messages (the three logon steps, their
// retries and some heartbeats), and a bounded journal footprint. Past the
// whole-frame allowance only a digest of each frame is kept: evidence of
// what was sent, without its bytes.

/** The lane's pre-logon limits (lanes.<lane>.policy). */
export interface PreLogonLimits {
  preLogonMaxFrameBytes: number
  preLogonMaxMessages: number
  preLogonJournalBytes: number
}

/** One connection's spending before logon. */
export interface PreLogonBudget {
  messages: number
  journaledBytes: number
  /** Set once the budget is exceeded: the connection is closing and everything else it sends is dropped. */
  exceeded: boolean
}

export function newPreLogonBudget (): PreLogonBudget {
  return { messages: 0, journaledBytes: 0, exceeded: false }
}

/**
 * Counts one frame of frameBytes. Returns null while within budget, or
 * why the budget is exceeded (the text sent to the client).
 */
export function spendPreLogonFrame (budget: PreLogonBudget, limits: PreLogonLimits, frameBytes: number): string | null {
  budget.messages++
  if (frameBytes > limits.preLogonMaxFrameBytes) {
    return `frame of ${frameBytes} bytes before logon exceeds this lane's ${limits.preLogonMaxFrameBytes}-byte pre-logon limit; closing`
  }
  if (budget.messages > limits.preLogonMaxMessages) {
    return `more than ${limits.preLogonMaxMessages} messages before logon; log on with Authenticate, TerminalInfo and Logon first; closing`
  }
  return null
}

/** True when a frame of frameBytes may still be journaled whole (and charges it); false: journal its digest. */
export function journalWholeBeforeLogon (budget: PreLogonBudget, limits: PreLogonLimits, frameBytes: number): boolean {
  if (budget.exceeded || budget.journaledBytes + frameBytes > limits.preLogonJournalBytes) return false
  budget.journaledBytes += frameBytes
  return true
}
