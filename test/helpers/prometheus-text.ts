// A strict reader of the Prometheus text exposition format (version 0.0.4),
// for tests of /metrics. npm's parse-prometheus-text-format was tried and
// does not fit: it accepts any metric name and any value, and it merges the
// buckets of a labelled histogram's series into one (a second lane's
// buckets overwrite the first's). So every line is checked here against
// the format's grammar, and every family against its type's rules; the
// first violation throws with its line number.
//
// https://prometheus.io/docs/instrumenting/exposition_formats/#text-format-details

export type MetricKind = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped'

export interface Sample {
  /** The sample's own name, e.g. x_bucket for histogram x. */
  name: string
  labels: Record<string, string>
  value: number
}

export interface Family {
  name: string
  type: MetricKind
  help: string | null
  samples: Sample[]
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
/** Go's strconv.ParseFloat as Prometheus accepts it, plus its spellings of infinity and NaN. */
const FLOAT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|Inf|inf|NaN)$/
const TIMESTAMP = /^-?\d+$/
const TYPES: readonly string[] = ['counter', 'gauge', 'histogram', 'summary', 'untyped']

export class ExpositionError extends Error {}

function parseFloatValue (text: string): number {
  if (text.endsWith('Inf') || text.endsWith('inf')) return text.startsWith('-') ? -Infinity : Infinity
  if (text === 'NaN') return NaN
  return Number(text)
}

/** `name{a="b",...} value [timestamp]`, read character by character as the format defines it. */
function parseSampleLine (line: string, fail: (why: string) => never): Sample {
  let i = 0
  while (i < line.length && line[i] !== '{' && line[i] !== ' ' && line[i] !== '\t') i++
  const name = line.slice(0, i)
  if (!METRIC_NAME.test(name)) fail(`invalid metric name '${name}'`)
  const labels: Record<string, string> = {}
  if (line[i] === '{') {
    i++
    let first = true
    while (line[i] !== '}') {
      if (!first) {
        if (line[i] !== ',') fail('labels must be separated by commas')
        i++
      }
      first = false
      const nameStart = i
      while (i < line.length && line[i] !== '=') i++
      const labelName = line.slice(nameStart, i)
      if (!LABEL_NAME.test(labelName) || labelName.startsWith('__')) fail(`invalid label name '${labelName}'`)
      if (labelName in labels) fail(`label '${labelName}' given twice`)
      if (line[i + 1] !== '"') fail(`label '${labelName}': value must be in double quotes`)
      i += 2
      let value = ''
      for (;;) {
        if (i >= line.length) fail(`label '${labelName}': unterminated value`)
        const c = line[i]!
        if (c === '"') break
        if (c === '\\') {
          const next = line[i + 1]
          if (next === '\\') value += '\\'
          else if (next === '"') value += '"'
          else if (next === 'n') value += '\n'
          else fail(`label '${labelName}': invalid escape \\${next ?? ''}`)
          i += 2
          continue
        }
        value += c
        i++
      }
      labels[labelName] = value
      i++
      if (i >= line.length) fail('unterminated label set')
    }
    i++
  }
  const rest = line.slice(i)
  if (!/^[ \t]/.test(rest)) fail('a sample needs whitespace between name (or labels) and value')
  const fields = rest.trim().split(/[ \t]+/)
  if (fields.length < 1 || fields.length > 2) fail(`expected a value and an optional timestamp, got '${rest.trim()}'`)
  if (!FLOAT.test(fields[0]!)) fail(`invalid value '${fields[0]}'`)
  if (fields.length === 2 && !TIMESTAMP.test(fields[1]!)) fail(`invalid timestamp '${fields[1]}'`)
  return { name, labels, value: parseFloatValue(fields[0]!) }
}

/** The family a sample belongs to under the declared types: histogram x owns x_bucket, x_sum, x_count; summary x owns x_sum, x_count. */
function familyOf (sampleName: string, types: ReadonlyMap<string, MetricKind>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sampleName.endsWith(suffix)) continue
    const base = sampleName.slice(0, -suffix.length)
    const type = types.get(base)
    if (type === 'histogram' || (type === 'summary' && suffix !== '_bucket')) return base
  }
  return sampleName
}

function seriesKey (name: string, labels: Record<string, string>): string {
  return name + JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)))
}

/**
 * Parses and checks an exposition. Checks, besides each line's grammar:
 * the text ends with a newline; at most one HELP and one TYPE per family,
 * each before its samples; a family's samples are contiguous (no family
 * resumes after another began); no series appears twice; and for each
 * histogram series: le on every _bucket, buckets in increasing le with
 * non-decreasing counts, a +Inf bucket equal to _count, and a _sum.
 */
export function parseExposition (text: string): Map<string, Family> {
  const families = new Map<string, Family>()
  const types = new Map<string, MetricKind>()
  const helps = new Set<string>()
  const seen = new Set<string>()
  let current: string | null = null
  if (text.length > 0 && !text.endsWith('\n')) throw new ExpositionError('the exposition must end with a newline')
  const lines = text.split('\n')
  lines.pop()
  const familyFor = (name: string, lineNo: number): Family => {
    let family = families.get(name)
    if (family === undefined) {
      family = { name, type: types.get(name) ?? 'untyped', help: null, samples: [] }
      families.set(name, family)
    } else if (current !== name && family.samples.length > 0) {
      throw new ExpositionError(`line ${lineNo}: samples of ${name} resume after another family began`)
    }
    current = name
    return family
  }
  lines.forEach((line, index) => {
    const lineNo = index + 1
    const fail = (why: string): never => { throw new ExpositionError(`line ${lineNo}: ${why}: ${line}`) }
    if (line.trim() === '') return
    if (line.startsWith('#')) {
      const m = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line)
      if (m === null) return // a plain comment
      const [, keyword, name, rest = ''] = m
      if (!METRIC_NAME.test(name!)) fail(`invalid metric name '${name}'`)
      if (keyword === 'TYPE') {
        if (!TYPES.includes(rest)) fail(`unknown type '${rest}'`)
        if (types.has(name!)) fail(`second TYPE for ${name}`)
        if ((families.get(name!)?.samples.length ?? 0) > 0) fail(`TYPE for ${name} after its samples`)
        types.set(name!, rest as MetricKind)
        familyFor(name!, lineNo).type = rest as MetricKind
      } else {
        if (helps.has(name!)) fail(`second HELP for ${name}`)
        if (/\\[^\\n]|\\$/.test(rest.replace(/\\\\/g, ''))) fail('HELP may escape only \\\\ and \\n')
        if ((families.get(name!)?.samples.length ?? 0) > 0) fail(`HELP for ${name} after its samples`)
        helps.add(name!)
        familyFor(name!, lineNo).help = rest.replace(/\\n/g, '\n').replace(/\\\\/g, '\\')
      }
      return
    }
    const sample = parseSampleLine(line, fail)
    const family = familyFor(familyOf(sample.name, types), lineNo)
    const key = seriesKey(sample.name, sample.labels)
    if (seen.has(key)) fail('series given twice')
    seen.add(key)
    if (family.type === 'histogram' && sample.name.endsWith('_bucket') && !('le' in sample.labels)) fail('histogram bucket without le')
    if ((family.type === 'counter' || family.type === 'gauge') && sample.name !== family.name) fail(`sample name differs from its ${family.type} ${family.name}`)
    if (family.type === 'counter' && !(sample.value >= 0)) fail('a counter must be a non-negative number')
    family.samples.push(sample)
  })
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family)
  return families
}

function checkHistogram (family: Family): void {
  const fail = (why: string): never => { throw new ExpositionError(`histogram ${family.name}: ${why}`) }
  const series = new Map<string, { buckets: Array<[number, number]>, sum?: number, count?: number }>()
  for (const sample of family.samples) {
    const { le, ...rest } = sample.labels
    const key = JSON.stringify(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)))
    const entry = series.get(key) ?? { buckets: [] }
    series.set(key, entry)
    if (sample.name === `${family.name}_bucket`) {
      if (!FLOAT.test(le!)) fail(`le="${le}" is not a float`)
      entry.buckets.push([parseFloatValue(le!), sample.value])
    } else if (sample.name === `${family.name}_sum`) entry.sum = sample.value
    else if (sample.name === `${family.name}_count`) entry.count = sample.value
    else fail(`unexpected sample ${sample.name}`)
  }
  for (const [key, { buckets, sum, count }] of series) {
    if (sum === undefined || count === undefined) fail(`series ${key} lacks _sum or _count`)
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i]![0] > buckets[i - 1]![0])) fail(`series ${key}: le not increasing at ${buckets[i]![0]}`)
      if (!(buckets[i]![1] >= buckets[i - 1]![1])) fail(`series ${key}: bucket counts decrease at le=${buckets[i]![0]}`)
    }
    const last = buckets[buckets.length - 1]
    if (last === undefined || last[0] !== Infinity) fail(`series ${key} has no +Inf bucket`)
    if (last![1] !== count) fail(`series ${key}: +Inf bucket ${last![1]} differs from _count ${count}`)
  }
}

/** One sample's value; throws if the series is not there. */
export function sampleValue (families: ReadonlyMap<string, Family>, family: string, sampleName: string, labels: Record<string, string>): number {
  const f = families.get(family)
  if (f === undefined) throw new Error(`no metric family ${family}`)
  const match = f.samples.find((s) => s.name === sampleName && seriesKey('', s.labels) === seriesKey('', labels))
  if (match === undefined) throw new Error(`no sample ${sampleName}${JSON.stringify(labels)}`)
  return match.value
}
