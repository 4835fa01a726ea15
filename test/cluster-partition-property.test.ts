// The partition rules of the account directory (cluster/account-directory.ts),
// property-tested: every account maps to exactly one instance of the cluster,
// an entry wins, hashing is stable when unrelated accounts are added, and
// removing an instance moves only the accounts it held. Plus the KV key
// encoding round-trips every account ID.
import t from 'tap'
import fc from 'fast-check'
import { createHash } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AccountDirectory, MAX_DIRECTORY_FILE_BYTES, accountOfKey, directoryKey, directoryOfConfig, persistedDirectoryPath, rendezvousOwner } from '../cluster/account-directory.js'
import { resolveConfig } from '../config/load.js'

// Short runs in CI (a few hundred cases at most, time-boxed).
const RUN = { numRuns: 200, interruptAfterTimeLimit: 10_000 }

const instanceIdArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/)
const instancesArb = fc.uniqueArray(instanceIdArb, { minLength: 1, maxLength: 8 })
// Account IDs as the config allows them, dots and non-ASCII included.
const accountArb = fc.oneof(fc.stringMatching(/^[A-Za-z0-9._-]{1,20}$/), fc.string({ minLength: 1, maxLength: 20, unit: 'grapheme' }))
const accountsArb = fc.uniqueArray(accountArb, { minLength: 1, maxLength: 40 })

t.test('every account maps to exactly one instance of the cluster, whatever the directory says', async (t) => {
  fc.assert(fc.property(instancesArb, accountsArb, fc.array(fc.tuple(accountArb, instanceIdArb), { maxLength: 20 }), (instances, accounts, entries) => {
    const directories = instances.map((self) => new AccountDirectory(self, instances, entries))
    for (const account of [...accounts, ...entries.map(([a]) => a)]) {
      const owners = directories.map((d) => d.ownerOf(account))
      // Every instance computes the same owner, a member of the cluster...
      if (new Set(owners).size !== 1) return false
      if (!instances.includes(owners[0]!)) return false
      // ...and exactly one instance holds the account locally.
      if (directories.filter((d) => d.isLocal(account)).length !== 1) return false
    }
    return true
  }), RUN)
  t.pass('held for every case')
})

t.test('an entry naming a member instance wins over hashing', async (t) => {
  fc.assert(fc.property(instancesArb, accountArb, fc.nat(), (instances, account, pick) => {
    const target = instances[pick % instances.length]!
    const directory = new AccountDirectory(instances[0]!, instances, [[account, target]])
    return directory.ownerOf(account) === target
  }), RUN)
  t.pass('held for every case')
})

t.test('hashing is stable: adding unrelated accounts or entries never moves an account', async (t) => {
  fc.assert(fc.property(instancesArb, accountArb, accountsArb, fc.nat(), (instances, account, others, pick) => {
    const before = new AccountDirectory(instances[0]!, instances).ownerOf(account)
    const unrelated = others.filter((o) => o !== account)
    const after = new AccountDirectory(instances[0]!, instances, unrelated.map((o, i) => [o, instances[(pick + i) % instances.length]!] as [string, string]))
    return after.ownerOf(account) === before
  }), RUN)
  t.pass('held for every case')
})

t.test('removing an instance moves only the accounts it held', async (t) => {
  fc.assert(fc.property(fc.uniqueArray(instanceIdArb, { minLength: 2, maxLength: 8 }), accountsArb, fc.nat(), (instances, accounts, pick) => {
    const removed = instances[pick % instances.length]!
    const remaining = instances.filter((i) => i !== removed)
    for (const account of accounts) {
      const before = rendezvousOwner(account, instances)
      const after = rendezvousOwner(account, remaining)
      if (before !== removed && after !== before) return false
      if (after === removed || after === null) return false
    }
    return true
  }), RUN)
  t.pass('held for every case')
})

t.test('the owner does not depend on the order instances are listed in', async (t) => {
  fc.assert(fc.property(instancesArb, accountArb, (instances, account) => {
    return rendezvousOwner(account, instances) === rendezvousOwner(account, [...instances].reverse())
  }), RUN)
  t.pass('held for every case')
})

t.test('the hash is the documented one: greatest SHA-256(instance 0x00 account)', async (t) => {
  // What another implementation computes (docs/cluster.md), written out here independently.
  const owner = (account: string, instances: string[]): string => instances
    .map((i) => ({ i, w: BigInt('0x' + createHash('sha256').update(Buffer.concat([Buffer.from(i), Buffer.from([0]), Buffer.from(account)])).digest('hex')) }))
    .sort((a, b) => (a.w > b.w ? -1 : a.w < b.w ? 1 : 0))[0]!.i
  fc.assert(fc.property(instancesArb, accountArb, (instances, account) => rendezvousOwner(account, instances) === owner(account, instances)), RUN)
  // A fixed vector, so a change of the rule cannot pass unnoticed.
  t.equal(rendezvousOwner('ACC1', ['gw-a', 'gw-b']), owner('ACC1', ['gw-a', 'gw-b']))
})

t.test('KV keys: every account ID round-trips and every key is a valid KV key', async (t) => {
  fc.assert(fc.property(accountArb, (account) => {
    const key = directoryKey(account)
    return /^[A-Za-z0-9_-]+$/.test(key) && accountOfKey(key) === account
  }), RUN)
  t.equal(directoryKey('ACC.1'), 'QUNDLjE')
  t.equal(accountOfKey('not.a.key'), null, 'a key with dots is not one the directory wrote')
})

t.test('a change of owner is reported once, and an entry that changes nothing is not', async (t) => {
  const instances = ['gw-a', 'gw-b']
  const directory = new AccountDirectory('gw-a', instances)
  const changes: unknown[] = []
  directory.onChange((change) => { changes.push(change) })
  const hashed = directory.ownerOf('ACC1')
  const other = hashed === 'gw-a' ? 'gw-b' : 'gw-a'
  directory.set('ACC1', hashed)
  t.same(changes, [], 'pinning an account where hashing puts it moves nothing')
  directory.set('ACC1', other)
  t.same(changes, [{ account: 'ACC1', before: hashed, after: other }])
  directory.set('ACC1', 'gw-unknown')
  t.equal(directory.ownerOf('ACC1'), hashed, 'an entry naming an unknown instance is ignored')
})

t.test('the last known KV map is read at start (nats-kv only), a file too large is not', async (t) => {
  const cluster = { enabled: true, instances: { 'gw-a': { endpoints: {} }, 'gw-b': { endpoints: {} } }, directory: { source: 'nats-kv', accounts: { 'ACC.C': 'gw-a' } } }
  const config = resolveConfig({ gatewayId: 'gw-a', runDir: mkdtempSync(join(tmpdir(), 'gh-dir-')), cluster })
  writeFileSync(persistedDirectoryPath(config), JSON.stringify({ accounts: { 'ACC.K': 'gw-b', 'ACC.C': 'gw-b' } }))
  const directory = directoryOfConfig(config)
  t.equal(directory.ownerOf('ACC.K'), 'gw-b', 'an entry only the file has')
  t.equal(directory.ownerOf('ACC.C'), 'gw-b', 'the file (the bucket\'s last state) wins over the config seed')
  const fromConfig = directoryOfConfig(resolveConfig({ gatewayId: 'gw-a', runDir: config.runDir, cluster: { ...cluster, directory: { source: 'config', accounts: { 'ACC.C': 'gw-a' } } } }))
  t.equal(fromConfig.ownerOf('ACC.C'), 'gw-a', 'source config never reads the file')
  writeFileSync(persistedDirectoryPath(config), Buffer.alloc(MAX_DIRECTORY_FILE_BYTES + 1, 0x20))
  t.equal(directoryOfConfig(config).ownerOf('ACC.C'), 'gw-a', 'an oversized file is ignored')
})
