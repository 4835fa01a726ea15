// Deliberately broken client behaviour for the conformance suite: what a
// vendor's client gets wrong, so the tests can show that each step it
// touches fails and says which.
import type { CertifyClientBehaviour } from '../../tools/certify/conformance-suite.js'

/** Never asks for cancel-on-disconnect, and after a reconnect never asks for the reports it missed. */
export const NEVER_RESENDS_NO_CANCEL_ON_DISCONNECT: CertifyClientBehaviour = Object.freeze({
  asksCancelOnDisconnect: false,
  recoverReports: async () => null,
})
