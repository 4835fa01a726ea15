// The open-file limit as start reads it, and the reserve rule it enforces.
import t from 'tap'
import { fdReserveProblem, readNofileLimits, unauthenticatedCapsSum } from '../supervisor/fd-limit.js'
import { resolveConfig } from '../config/load.js'

t.test('reads Max open files from /proc/self/limits text, unlimited as Infinity', async (t) => {
  const text = 'Limit                     Soft Limit           Hard Limit           Units     \nMax open files            1024                 524288               files     \n'
  t.same(readNofileLimits(text), { soft: 1024, hard: 524288 })
  t.same(readNofileLimits('Max open files            unlimited            unlimited            files\n'), { soft: Infinity, hard: Infinity })
  t.equal(readNofileLimits('nothing here'), null)
  const own = readNofileLimits()
  t.ok(own !== null && own.soft <= own.hard, 'this process\'s limits are readable')
})

t.test('the enabled lanes\' unauthenticated caps plus the reserve must fit the soft limit', async (t) => {
  const config = resolveConfig()
  t.equal(unauthenticatedCapsSum(config), 256 + 128 + 32, 'the defaults: terminal 256, platform 128, hft 32')
  t.equal(fdReserveProblem(config, 1024), null, 'the defaults fit a 1024 limit')
  t.equal(fdReserveProblem(config, 600),
    'lanes.*.policy.maxUnauthenticatedConnections: the enabled lanes\' caps (416) plus security.fdReserve (256) exceed the open-file limit 600; ' +
    'lower the caps or the reserve, or raise the limit (ulimit -n, systemd LimitNOFILE=)')
  const noTerminal = resolveConfig({ lanes: { terminal: { enabled: false } } })
  t.equal(unauthenticatedCapsSum(noTerminal), 160, 'a disabled lane\'s cap does not count')
  t.equal(fdReserveProblem(noTerminal, 600), null)
})
