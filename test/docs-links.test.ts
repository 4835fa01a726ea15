// The README and docs/ are read on GitHub and in a checkout: every relative
// link must reach a file of this repository, every #anchor a heading of its
// target, and nothing may send the reader outside the repository.
import t from 'tap'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** Mentions of material that lives outside the repository: a reader of the repository alone cannot follow them. */
const OUTSIDE_MENTIONS = [/\.\.\/shared\b/, /\bshared\//, /\bDOMAIN\.md\b/, /\bDESIGN\.md\b/, /\/work\//]

/** The Markdown files whose links are checked: README.md and every docs/*.md. */
function documentedFiles (root: string): string[] {
  const docsDir = join(root, 'docs')
  const docs = existsSync(docsDir) ? readdirSync(docsDir).filter((name) => name.endsWith('.md')).map((name) => join(docsDir, name)) : []
  return [join(root, 'README.md'), ...docs].filter((file) => existsSync(file))
}

/** Lines outside fenced code blocks, with their 1-based numbers: links and headings inside a fence are text, not Markdown. */
function proseLines (markdown: string): Array<{ line: number, text: string }> {
  const lines: Array<{ line: number, text: string }> = []
  let fence: string | null = null
  markdown.split('\n').forEach((text, index) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(text)?.[1]
    if (marker !== undefined) {
      if (fence === null) fence = marker[0]!
      else if (marker[0] === fence) fence = null
      return
    }
    if (fence === null) lines.push({ line: index + 1, text })
  })
  return lines
}

/** The anchor GitHub gives a heading: its rendered text, lower-cased, punctuation dropped, spaces as hyphens. */
export function githubSlug (heading: string): string {
  const rendered = heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, '$1') // a link renders as its text
    .replace(/`/g, '')
    .replace(/\*\*|__|\*/g, '')
  return rendered.trim().toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-')
}

/** Every anchor a Markdown file offers, repeated headings numbered -1, -2, … as GitHub does. */
function anchorsOf (markdown: string): Set<string> {
  const anchors = new Set<string>()
  const seen = new Map<string, number>()
  for (const { text } of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text)?.[1]
    if (heading === undefined) continue
    const slug = githubSlug(heading)
    const count = seen.get(slug) ?? 0
    seen.set(slug, count + 1)
    anchors.add(count === 0 ? slug : `${slug}-${count}`)
  }
  return anchors
}

/** Inline link targets `[text](target)` outside code spans and fences. */
function linkTargets (markdown: string): Array<{ line: number, target: string }> {
  const targets: Array<{ line: number, target: string }> = []
  for (const { line, text } of proseLines(markdown)) {
    const withoutCode = text.replace(/`[^`]*`/g, '')
    for (const match of withoutCode.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push({ line, target: match[1]! })
  }
  return targets
}

/** Every problem with the links and mentions of the Markdown files under root, as `file:line: problem`. */
export function linkProblems (root: string): string[] {
  const problems: string[] = []
  const anchorCache = new Map<string, Set<string>>()
  const anchorsIn = (file: string): Set<string> => {
    let anchors = anchorCache.get(file)
    if (anchors === undefined) anchorCache.set(file, anchors = anchorsOf(readFileSync(file, 'utf8')))
    return anchors
  }
  for (const file of documentedFiles(root)) {
    const name = relative(root, file)
    const markdown = readFileSync(file, 'utf8')
    markdown.split('\n').forEach((text, index) => {
      for (const pattern of OUTSIDE_MENTIONS) {
        if (pattern.test(text)) problems.push(`${name}:${index + 1}: mentions ${pattern.source}, which is outside the repository`)
      }
    })
    for (const { line, target } of linkTargets(markdown)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue // http:, https:, mailto: — not a file of ours
      const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined]
      if (pathPart.startsWith('/')) {
        problems.push(`${name}:${line}: ${target} is an absolute path; link relative to the file`)
        continue
      }
      const targetFile = pathPart === '' ? file : resolve(dirname(file), decodeURIComponent(pathPart))
      const inside = relative(root, targetFile)
      if (inside === '..' || inside.startsWith(`..${sep}`)) {
        problems.push(`${name}:${line}: ${target} points outside the repository`)
        continue
      }
      if (!existsSync(targetFile)) {
        problems.push(`${name}:${line}: ${target}: no such file ${inside}`)
        continue
      }
      if (anchor === undefined) continue
      if (!targetFile.endsWith('.md') || statSync(targetFile).isDirectory()) {
        problems.push(`${name}:${line}: ${target}: an anchor into a file that is not Markdown`)
        continue
      }
      if (!anchorsIn(targetFile).has(anchor.toLowerCase())) problems.push(`${name}:${line}: ${target}: ${inside} has no heading #${anchor}`)
    }
  }
  return problems
}

t.test('every relative link in README.md and docs/*.md reaches a file and heading of the repository', async (t) => {
  const files = documentedFiles(REPO_ROOT)
  t.ok(files.length >= 2, `checks README.md and docs/ (${files.length} files)`)
  t.same(linkProblems(REPO_ROOT), [])
})

t.test('the check fails on a broken link, a missing anchor and a mention outside the repository', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'gh-docs-links-'))
  t.teardown(() => { rmSync(root, { recursive: true, force: true }) })
  mkdirSync(join(root, 'docs'))
  writeFileSync(join(root, 'README.md'), [
    '# Front door',
    'Read [the protocol](docs/protocol.md#the-logon-flow) and [its codes](docs/protocol.md#reason-codes).',
    'A [missing page](docs/nowhere.md), [outside](../elsewhere.md) and [absolute](/etc/passwd).',
    '```',
    '[inside a fence](docs/ignored.md)',
    '```',
    'Background is in DOMAIN.md.',
  ].join('\n'))
  writeFileSync(join(root, 'docs', 'protocol.md'), [
    '# Protocol',
    '## The logon flow',
    '## `Reject` vs. `ExecutionReport`',
    'Back to [the top](#protocol), [the codes](#reject-vs-executionreport), [a gap](#no-such-heading), [home](../README.md).',
  ].join('\n'))
  t.same(linkProblems(root), [
    'README.md:7: mentions \\bDOMAIN\\.md\\b, which is outside the repository',
    'README.md:2: docs/protocol.md#reason-codes: docs/protocol.md has no heading #reason-codes',
    'README.md:3: docs/nowhere.md: no such file docs/nowhere.md',
    'README.md:3: ../elsewhere.md points outside the repository',
    'README.md:3: /etc/passwd is an absolute path; link relative to the file',
    'docs/protocol.md:4: #no-such-heading: docs/protocol.md has no heading #no-such-heading',
  ])
})

t.test('GitHub slugs of headings with code, punctuation and repeats', async (t) => {
  t.equal(githubSlug('Which message carries which code'), 'which-message-carries-which-code')
  t.equal(githubSlug('`journal.fsync` and power loss'), 'journalfsync-and-power-loss')
  t.equal(githubSlug('Logon: step 1 — Authenticate'), 'logon-step-1--authenticate')
  t.equal(githubSlug('Client protocol (`protocol/gatehouse/v1/client.proto`)'), 'client-protocol-protocolgatehousev1clientproto')
  t.same([...anchorsOf('# A\n## Results\n### Results\n```\n## Not a heading\n```\n')], ['a', 'results', 'results-1'])
})
