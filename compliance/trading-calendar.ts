// Trading days as the programmatic-trading rules count them: the filing
// clock (5 trading days) and the material-change clock (30 trading days)
// run on exchange days, not calendar days. Weekends never trade; the
// exchanges' holidays come from config (compliance.tradingCalendar.holidays),
// which the broker keeps current from the exchanges' yearly notices: the
// gateway cannot know them in advance. Dates are calendar dates
// (YYYY-MM-DD) with no time of day, so no time zone enters the count.

const DAY_MS = 86_400_000
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/

/** A calendar date as days since 1970-01-01 (UTC), or null if it is not one. */
export function dayNumberOf (date: string): number | null {
  if (!DATE_PATTERN.test(date)) return null
  const ms = Date.parse(`${date}T00:00:00Z`)
  if (Number.isNaN(ms) || !new Date(ms).toISOString().startsWith(date)) return null
  return ms / DAY_MS
}

export function dateOfDayNumber (day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10)
}

export class TradingCalendar {
  private readonly holidays: ReadonlySet<number>

  constructor (holidays: readonly string[] = []) {
    const days = new Set<number>()
    for (const h of holidays) {
      const n = dayNumberOf(h)
      if (n !== null) days.add(n)
    }
    this.holidays = days
  }

  /** True on a weekday that is not a listed holiday. */
  isTradingDay (date: string): boolean {
    const n = dayNumberOf(date)
    return n !== null && this.isTradingDayNumber(n)
  }

  private isTradingDayNumber (n: number): boolean {
    // 1970-01-01 was a Thursday: (n + 4) % 7 is 0 on Sundays, 6 on Saturdays.
    const weekday = (n + 4) % 7
    return weekday !== 0 && weekday !== 6 && !this.holidays.has(n)
  }

  /**
   * The date `count` trading days after `date` (the day itself does not
   * count, as a deadline "within 5 trading days of" the report is read):
   * a report received on a Friday with no holidays is due the next Friday.
   */
  addTradingDays (date: string, count: number): string {
    let n = dayNumberOf(date)
    if (n === null) throw new RangeError(`not a calendar date: ${JSON.stringify(date)}`)
    let left = count
    // Bounded: a year has ~250 trading days; 10 years of holidays cannot stop the walk.
    for (let steps = 0; left > 0 && steps < 3660 + count * 2; steps++) {
      n++
      if (this.isTradingDayNumber(n)) left--
    }
    return dateOfDayNumber(n)
  }

  /**
   * Trading days after `from` up to and including `to` (0 when `to` is not
   * after `from`; negative when `to` is before it, counting backwards).
   */
  tradingDaysBetween (from: string, to: string): number {
    const a = dayNumberOf(from)
    const b = dayNumberOf(to)
    if (a === null || b === null) throw new RangeError(`not a calendar date: ${JSON.stringify(a === null ? from : to)}`)
    const [lo, hi, sign] = a <= b ? [a, b, 1] : [b, a, -1]
    let count = 0
    for (let n = lo + 1; n <= hi; n++) if (this.isTradingDayNumber(n)) count++
    return sign * count
  }
}
