import { POSTGRES_INSTALL_HINT, postgresInstalled, startPostgres } from '@vouch/postgres-tooling'
import type { TestProject } from 'vitest/node'

/** What the test files get from `inject('postgres')`. */
export type ProvidedPostgres = { readonly url: string } | { readonly skip: string }

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: ProvidedPostgres
  }
}

/**
 * Starts one throwaway cluster (or uses `VOUCH_POSTGRES_URL`, a database the tests may fill and
 * drop tables in). Without PostgreSQL the tests skip, saying why; on CI (`CI` set) a missing
 * PostgreSQL fails the run instead, since CI installs it (tooling/debian-packages.txt).
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const given = process.env.VOUCH_POSTGRES_URL
  if (given !== undefined && given !== '') {
    project.provide('postgres', { url: given })
    return undefined
  }
  if (!postgresInstalled()) {
    if (process.env.CI !== undefined && process.env.CI !== '')
      throw new Error(`${POSTGRES_INSTALL_HINT} (CI must have it)`)
    const skip = `skipped: ${POSTGRES_INSTALL_HINT}`
    process.stderr.write(`@vouch/store-postgres: ${skip}\n`)
    project.provide('postgres', { skip })
    return undefined
  }
  const server = await startPostgres()
  project.provide('postgres', { url: await server.createDatabase('vouch_test') })
  return () => server.stop()
}
