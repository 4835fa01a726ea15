// What a real gateway journals, read back with the compliance tools: a
// known session (logon steps, an order that fills, a refused order, a
// cancel, a malformed frame, a limit change by an operator) through a real
// gateway and the simulator process, then `gatehouse journal search` and
// `export` over its journal directory.
import t from 'tap'
import { journalDir } from '../config/config.js'
import { DEFAULT_CONFIG } from '../config/defaults.js'
import { runExportCommand } from '../tools/journal/export-command.js'
import { runSearchCommand } from '../tools/journal/search-command.js'
import type { CommandIo } from '../platform/cli-kit.js'
import type { DecodedRecord } from '../journal/record-decoder.js'
import { verifyJournal } from '../journal/verify.js'
import { ExecType, RejectReason, Side, wireInt } from '../protocol/messages.js'
import { startTestGateway } from './helpers/gateway.js'
import { logOn, tradingAccount } from './helpers/trading.js'

function capture (): CommandIo & { text: () => string, records: () => DecodedRecord[] } {
  let out = ''
  return {
    out: (s) => { out += s },
    err: () => {},
    text: () => out,
    records: () => out.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as DecodedRecord),
  }
}

t.test('every message, decision, logon step and limit change of a session is in the journal, and search and export find them', async (t) => {
  const gateway = await startTestGateway({
    overrides: { accounts: [...DEFAULT_CONFIG.accounts, tradingAccount('REC-T'), tradingAccount('REC-M')] },
  })
  const maker = await logOn(gateway, 'platform', 'REC-M')
  const taker = await logOn(gateway, 'platform', 'REC-T')
  maker.client.newOrder({ clientOrderId: 1, instrument: 'rb2605', side: Side.SELL, price: 3200, quantityLots: 2 })
  await maker.client.report(1, ExecType.ACK)
  taker.client.newOrder({ clientOrderId: 7, instrument: 'rb2605', side: Side.BUY, price: 3200, quantityLots: 2 })
  await taker.client.report(7, ExecType.FILL)
  // A limit change by a named operator, then the order it refuses.
  gateway.supervisor.admin.setLimits('ops-alice', { kind: 'account', account: 'REC-T' }, { maxOrderLots: 5 })
  taker.client.newOrder({ clientOrderId: 8, instrument: 'rb2605', side: Side.BUY, price: 3100, quantityLots: 6 })
  await taker.client.report(8, ExecType.REJECTED)
  taker.client.newOrder({ clientOrderId: 9, instrument: 'rb2605', side: Side.BUY, price: 3100, quantityLots: 1 })
  await taker.client.report(9, ExecType.ACK)
  taker.client.cancel(9)
  await taker.client.report(9, ExecType.CANCELLED)
  taker.client.sendRaw(Uint8Array.from([0xff, 0xff, 0xff]))
  await taker.client.reject()
  await taker.client.logout()
  await maker.client.logout()
  await gateway.stop()

  const dir = journalDir(gateway.config)
  t.ok(verifyJournal(dir, { requireSealed: true }).ok, 'the journal verifies, every segment sealed after the orderly stop')

  const io = capture()
  t.equal(await runSearchCommand([dir, '--account', 'REC-T', '--json'], io), 0)
  const records = io.records()
  const kinds = (type: string): string[] => records.filter((r) => r.messageType === type).map((r) => `${r.kind}${r.direction === '' ? '' : `/${r.direction}`}`)
  t.same(new Set(kinds('newOrder')), new Set(['client-in/in', 'link-out/out']), 'new orders: as the client sent them and as they went to the exchange')
  t.equal(records.filter((r) => r.kind === 'check-decision').length, 3, 'a decision for each of the three orders')
  t.ok(records.some((r) => r.kind === 'check-decision' && r.clientOrderId === 8 && r.reason === RejectReason.QUANTITY_ABOVE_MAX), 'the refusal with its reason')
  t.ok(records.some((r) => r.kind === 'client-out' && r.messageType === 'executionReport' && r.clientOrderId === 7), 'the fill report sent to the client')
  t.ok(records.some((r) => r.kind === 'link-out' && r.messageType === 'cancel'), 'the cancel sent to the exchange')
  t.ok(records.some((r) => r.kind === 'client-in' && r.messageType === 'none' && r.direction === 'in'), 'the malformed frame, as received')
  t.ok(records.some((r) => r.kind === 'client-out' && r.messageType === 'reject' && r.reason === RejectReason.MALFORMED_FRAME), 'and its reject')
  t.ok(records.some((r) => r.kind === 'admin-change' && (r.body as { operator?: string }).operator === 'ops-alice'), 'the limit change with its operator')
  const change = records.find((r) => r.kind === 'admin-change')!.body as { before: Record<string, unknown>, after: Record<string, unknown> }
  t.same([change.before, change.after], [{ maxOrderLots: 'inherit' }, { maxOrderLots: 5 }], 'with before and after values')
  for (const step of ['authenticate', 'terminal-info', 'logon', 'logout', 'disconnect']) {
    t.ok(records.some((r) => r.kind === 'logon-step' && r.messageType === step), `the ${step} step`)
  }
  // The connect step comes before any account is claimed: it is the session's.
  const bySession = capture()
  t.equal(await runSearchCommand([dir, '--session', String(wireInt(taker.logon.sessionId)), '--kind', 'logon-step', '--json'], bySession), 0)
  t.same(bySession.records().map((r) => r.messageType), ['connect', 'authenticate', 'terminal-info', 'logon', 'logout', 'disconnect'], 'the session\'s logon steps, in order')
  const terminalStep = records.find((r) => r.kind === 'logon-step' && r.messageType === 'terminal-info')!
  t.equal(terminalStep.terminalInfo, 'masked', 'terminal info is masked without --reveal')

  // Link reports carry no account in the head; search by the link order ID finds them.
  const linkOrderId = records.find((r) => r.kind === 'link-out' && r.messageType === 'newOrder' && r.clientOrderId === 0)?.linkOrderId ??
    records.find((r) => r.kind === 'check-decision' && r.clientOrderId === 7)!.linkOrderId
  const byLinkId = capture()
  t.equal(await runSearchCommand([dir, '--link-order-id', String(linkOrderId), '--kind', 'link-in', '--json'], byLinkId), 0)
  t.ok(byLinkId.records().some((r) => r.messageType === 'report'), 'the exchange\'s reports of that order')

  const exported = capture()
  t.equal(await runExportCommand([dir, '--from', '20000101', '--to', '21000101', '--account', 'REC-T', '--format', 'jsonl'], exported), 0)
  t.equal(exported.records().length, records.length, 'export of the range has the same records as the search')
  t.ok(exported.records().every((r) => r.terminalInfo !== 'revealed'), 'and never reveals terminal info')
})
