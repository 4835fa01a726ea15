// The bench HTML report's charts: a throughput series of one point (a
// one-second measurement window, as --smoke gives) is drawn, not left
// empty, and the legend sits under the plot, where it cannot cover a curve.
import t from 'tap'
import { lineChart, renderHtml } from '../bench/report-html.js'
import type { ScenarioRow } from '../bench/types.js'

function row (system: string, perSecond: Array<{ t: number, answered: number }>): ScenarioRow {
  return {
    name: 'hft-latency', system, rate_per_s: 200, p50_us: 100, p99_us: 300, p999_us: 500, max_us: 900, throughput_per_s: 200,
    samples: 200, cdf_us: [[0, 50], [50, 100], [99, 300], [100, 900]], per_second: perSecond,
  }
}

/** The <svg> of the chart whose title starts with `title`. */
function chartOf (html: string, title: string): string {
  const start = html.indexOf(`aria-label="${title}`)
  t.ok(start >= 0, `chart "${title}" is in the report`)
  return html.slice(html.lastIndexOf('<svg', start), html.indexOf('</svg>', start))
}

/** Plot area bottom in the chart's own coordinates: the lowest horizontal grid line. */
function plotBottom (svg: string): number {
  return Math.max(...[...svg.matchAll(/<line x1="[\d.]+" x2="[\d.]+" y1="([\d.]+)" y2="([\d.]+)" class="grid"\/>/g)].map((m) => Math.max(Number(m[1]), Number(m[2]))))
}

t.test('a one-point throughput series is drawn as a dot, in the series colour', async (t) => {
  const html = renderHtml({ machine: {}, profile: 'smoke', scenarios: [row('gatehouse', [{ t: 0, answered: 200 }]), row('bare-relay', [{ t: 0, answered: 201 }])] })
  const svg = chartOf(html, 'hft-latency @ 200/s: throughput over time')
  const dots = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)" r="\d+" fill="(#[0-9a-f]{6})"\/>/g)]
  t.equal(dots.length, 2, 'one dot per series')
  t.same(dots.map((m) => m[3]).sort(), ['#2a7ab0', '#d1495b'], 'gatehouse red, bare-relay blue')
  for (const dot of dots) t.ok(Number(dot[2]) < plotBottom(svg), 'inside the plot')
})

t.test('longer series are lines; the legend is below the plot, one line per series', async (t) => {
  const long = Array.from({ length: 5 }, (_, i) => ({ t: i, answered: 1000 + i * 10 }))
  const html = renderHtml({ machine: {}, profile: 'quick', scenarios: [row('gatehouse', long), row('naive', long), row('bare-relay', long)] })
  for (const title of ['hft-latency @ 200/s: throughput over time', 'hft-latency @ 200/s: latency CDF']) {
    const svg = chartOf(html, title)
    t.equal([...svg.matchAll(/<path d="M[^"]*L[^"]*" fill="none"/g)].length, 3, `${title}: three lines`)
    const legend = [...svg.matchAll(/<text x="[\d.]+" y="([\d.]+)" dominant-baseline="middle" class="legend">([^<]*)<\/text>/g)]
    t.same(legend.map((m) => m[2]), ['gatehouse', 'naive', 'bare-relay'])
    const bottom = plotBottom(svg)
    for (const entry of legend) t.ok(Number(entry[1]) > bottom + 16, `${entry[2]}: legend under the plot and its axis labels (${entry[1]} > ${bottom})`)
    const height = Number(/viewBox="0 0 \d+ (\d+)"/.exec(svg)?.[1])
    t.ok(legend.every((m) => Number(m[1]) < height), 'and inside the picture')
  }
})

t.test('a series with no points says so in the legend; a chart with none says no data', async (t) => {
  const svg = lineChart('x', [{ name: 'a', points: [[1, 1], [2, 2]] }, { name: 'b', points: [] }], { ticks: [], label: 'x', log: false }, { ticks: [], label: 'y', log: false })
  t.match(svg, />b \(no data\)<\/text>/)
  t.match(lineChart('empty', [{ name: 'a', points: [] }], { ticks: [], label: 'x', log: false }, { ticks: [], label: 'y', log: false }), /^<p class="empty">empty: no data<\/p>$/)
})
