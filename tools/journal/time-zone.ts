// `--tz ZONE` of the compliance tools: the time of each record printed in
// an IANA time zone (Asia/Shanghai for a Chinese broker's compliance
// desk) with its UTC offset, instead of UTC. The journal stores µs since
// the epoch; this changes only how a time is written, never which records
// a filter selects (--day and a --from/--to without a zone stay UTC).
import { isoTimeOfUs } from '../../journal/record-decoder.js'
import { UsageError } from '../../platform/cli-kit.js'

/** The zone the tools print in when --tz is not given. */
export const DEFAULT_TIME_ZONE = 'UTC'

/** The help lines of --tz, shared by every tool that takes it. */
export const TZ_HELP = `  --tz ZONE              print times in this IANA time zone with its offset
                         (e.g. Asia/Shanghai: 2026-11-20T09:30:00.000000+08:00);
                         default UTC (…Z). Filters still read times as UTC
                         unless a --from/--to time carries its own offset`

/** Writes µs-since-epoch times in one zone, with six fractional digits and the offset. */
export interface TimeFormatter {
  zone: string
  format: (timeUs: number) => string
}

/** A formatter for `zone`; a UsageError naming --tz for a zone Intl does not know. */
export function timeFormatter (zone: string = DEFAULT_TIME_ZONE): TimeFormatter {
  if (zone === 'UTC' || zone === 'Etc/UTC') return { zone, format: isoTimeOfUs }
  let parts: Intl.DateTimeFormat
  try {
    parts = new Intl.DateTimeFormat('en-US', {
      timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    })
  } catch {
    throw new UsageError(`--tz: unknown time zone '${zone}'; give an IANA name such as Asia/Shanghai or UTC`)
  }
  const pad = (n: number, width = 2): string => String(n).padStart(width, '0')
  return {
    zone,
    format: (timeUs) => {
      const ms = Math.floor(timeUs / 1000)
      const wholeSecondMs = Math.floor(ms / 1000) * 1000
      const field: Record<string, number> = {}
      for (const part of parts.formatToParts(wholeSecondMs)) if (part.type !== 'literal') field[part.type] = Number(part.value)
      // The zone's offset at that instant: its wall clock read as if UTC, minus the instant.
      const offsetMin = Math.round((Date.UTC(field.year!, field.month! - 1, field.day!, field.hour!, field.minute!, field.second!) - wholeSecondMs) / 60_000)
      const sign = offsetMin < 0 ? '-' : '+'
      const abs = Math.abs(offsetMin)
      const fractionUs = timeUs - wholeSecondMs * 1000
      return `${pad(field.year!, 4)}-${pad(field.month!)}-${pad(field.day!)}T${pad(field.hour!)}:${pad(field.minute!)}:${pad(field.second!)}.${pad(fractionUs, 6)}` +
        `${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`
    },
  }
}
