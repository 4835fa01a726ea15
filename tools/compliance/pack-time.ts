// Times in the regulator pack: UTC unless the officer asks for a zone
// (--tz Asia/Shanghai). Dates in the journal are instants (µs since the
// epoch); the pack shows them with their offset, so a reader never has to
// guess the zone.

/** Checks an IANA zone name; throws RangeError naming it if the runtime does not know it. */
export function checkTimeZone (tz: string): string {
  new Intl.DateTimeFormat('en-US', { timeZone: tz }).format(0)
  return tz
}

function wallClock (ms: number, tz: string): { y: number, mo: number, d: number, h: number, mi: number, s: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
  }).formatToParts(new Date(ms))
  const get = (type: string): number => Number(parts.find((p) => p.type === type)?.value ?? 0)
  return { y: get('year'), mo: get('month'), d: get('day'), h: get('hour'), mi: get('minute'), s: get('second') }
}

/** The zone's offset from UTC at an instant, in minutes. */
export function offsetMinutes (ms: number, tz: string): number {
  const w = wallClock(ms, tz)
  return Math.round((Date.UTC(w.y, w.mo - 1, w.d, w.h, w.mi, w.s) - Math.floor(ms / 1000) * 1000) / 60_000)
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0')

/** An instant as ISO 8601 in the zone, with milliseconds and its offset (Z for UTC). */
export function formatTime (timeUs: number, tz: string): string {
  const ms = Math.floor(timeUs / 1000)
  if (tz === 'UTC') return new Date(ms).toISOString()
  const offset = offsetMinutes(ms, tz)
  const local = new Date(ms + offset * 60_000).toISOString().slice(0, 23)
  const sign = offset < 0 ? '-' : '+'
  return `${local}${sign}${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`
}

/** The first instant (µs) after the end of a calendar date in the zone: records before it are "as of" that date. */
export function endOfDateUs (date: string, tz: string): number {
  const nextMidnightUtcMs = Date.parse(`${date}T00:00:00Z`) + 86_400_000
  const offset = tz === 'UTC' ? 0 : offsetMinutes(nextMidnightUtcMs, tz)
  return (nextMidnightUtcMs - offset * 60_000) * 1000
}

/** The calendar date of an instant in the zone. */
export function dateInZone (timeUs: number, tz: string): string {
  return formatTime(timeUs, tz).slice(0, 10)
}
