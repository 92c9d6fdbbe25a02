/**
 * `vouch simulate --store postgres://…`: the default scenario on PostgreSQL stores (tables of
 * their own per endpoint, on a throwaway loopback cluster from tooling/postgres) converges like
 * the in-memory run, and leaves no table behind; a `--store` that is neither memory, sqlite nor a
 * PostgreSQL URL is a usage error. Skips, saying so, when PostgreSQL is not installed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
// tooling, by path (as the atm bench imports the simulator): not a dependency of the CLI
import {
  POSTGRES_INSTALL_HINT,
  type PostgresServer,
  postgresInstalled,
  startPostgres,
} from '../../../tooling/postgres/src/index.ts'
import { simulateCli } from './helpers.ts'

it('--store: neither memory, sqlite nor a PostgreSQL URL is a usage error (exit 2, one line)', async () => {
  const r = await simulateCli(['--store', 'mysql://x'])
  expect(r.code).toBe(2)
  expect(r.stderr.trim().split('\n')).toHaveLength(1)
  expect(r.stderr).toContain('PostgreSQL URL')
})

const missing = !postgresInstalled()
describe.skipIf(missing)(
  `vouch simulate --store postgres://…${missing ? ` (skipped: ${POSTGRES_INSTALL_HINT})` : ''}`,
  () => {
    let server: PostgresServer | undefined
    let url = process.env.VOUCH_POSTGRES_URL ?? ''
    beforeAll(async () => {
      if (url === '') {
        server = await startPostgres()
        url = await server.createDatabase()
      }
    }, 60_000)
    afterAll(async () => {
      await server?.stop()
    })

    it('converges on PostgreSQL stores exactly as in memory, and drops every table it made', async () => {
      const args = ['--accounts', 'alice:3,bob:2', '--seed', '3', '--reorder', '--duplicate', '--json']
      const db = url.slice(url.lastIndexOf('/') + 1)
      const commits = async () =>
        Number(await server?.psql(`select xact_commit from pg_stat_database where datname = '${db}'`))
      const before = await commits()
      const onPg = await simulateCli([...args, '--store', url])
      expect(onPg.code, onPg.stderr).toBe(0)
      const inMemory = await simulateCli(args)
      expect(JSON.parse(onPg.stdout)).toEqual(JSON.parse(inMemory.stdout))
      expect(JSON.parse(onPg.stdout).converged).toBe(true)
      // the stores were really on PostgreSQL (backends report their commits when they end)
      await new Promise((r) => setTimeout(r, 500))
      expect((await commits()) - before).toBeGreaterThan(100)
      // and no table of the run is left behind
      const left = await server?.psql("select count(*) from pg_tables where tablename like 'sim\\_%'", db)
      expect(left?.trim()).toBe('0')
    }, 120_000)
  },
)
