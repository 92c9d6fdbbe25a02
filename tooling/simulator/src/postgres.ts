/**
 * PostgreSQL stores for a simulation (`vouch simulate --store postgres://…`): for every endpoint a
 * `postgresStore` on the URL (a small pool of its own) with tables of its own (prefix
 * `sim_<run>_<n>_`: the endpoints of one account must not share a store), all dropped again by
 * `close()`. The store package (and with it `pg`) is loaded only here, on first use.
 */
import type { StoreFactory } from './network.ts'

export interface PostgresStores {
  /** the `store` of `runSpanningScenario` / `createNetwork` */
  readonly factory: StoreFactory
  /** Drops every table the run created; call after the network (and so every store) is closed. */
  close(): Promise<void>
}

/** True for a `postgres://` or `postgresql://` URL. */
export const isPostgresUrl = (s: string): boolean => /^postgres(ql)?:\/\//i.test(s)

export async function postgresStores(url: string): Promise<PostgresStores> {
  const { dropTrustTables, postgresStore } = await import('@vouch/store-postgres')
  const run = crypto.randomUUID().replace(/-/g, '').slice(0, 8)
  const prefixes: string[] = []
  const factory: StoreFactory = async () => {
    const tablePrefix = `sim_${run}_${prefixes.length + 1}_`
    prefixes.push(tablePrefix)
    return postgresStore({ database: url, tablePrefix, poolSize: 2 })
  }
  return {
    factory,
    async close() {
      for (const tablePrefix of prefixes) await dropTrustTables({ database: url, tablePrefix })
    },
  }
}
