// The naive gateway's piscina task: the same validity checks Gatehouse
// runs inline, run on a pool thread, one task per order, as a team that
// "keeps CPU work off the event loop" would write it.
import { checkOrderValidity, newCheckVerdict, type CheckVerdict } from '../checks/order-validity.js'
import type { Instrument, NewOrder } from '../protocol/messages.js'

export interface NaiveCheckTask {
  order: Pick<NewOrder, 'side' | 'price' | 'quantityLots'>
  instrument: Pick<Instrument, 'status' | 'tickSize' | 'lowerLimitPrice' | 'upperLimitPrice' | 'maxOrderLots'> | undefined
}

export default function checkOrder (task: NaiveCheckTask): CheckVerdict {
  const verdict = newCheckVerdict()
  checkOrderValidity(task.order as NewOrder, task.instrument as Instrument | undefined, verdict)
  return verdict
}
