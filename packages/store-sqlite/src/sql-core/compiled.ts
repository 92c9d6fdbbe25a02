import type { Compilable, CompiledQuery, QueryResult } from 'kysely'

/**
 * Fixed-shape statements compiled once per store: kysely builds and compiles a query on every
 * call, which costs several times more than SQLite running it. A template is built with
 * placeholders ({@link arg}) instead of values, compiled once, and bound to the values of each
 * call; it runs through `executeQuery` on the same `Kysely`/`Transaction` as before, so locking,
 * transactions and error mapping are unchanged, and the SQL text is the one kysely would produce.
 */

const MARK = '\u0000vouch-arg:'

/** Placeholder for the `i`-th value of a template (typed as whatever the column wants). */
export function arg<T = string>(i: number): T {
  return `${MARK}${i}` as unknown as T
}

export interface Template<R> {
  readonly compiled: CompiledQuery<R>
  /** for each parameter of `compiled`: the index of the value it takes, or -1 for a constant */
  readonly slots: readonly number[]
}

export function compileTemplate<R>(query: Compilable<R>): Template<R> {
  const compiled = query.compile()
  const slots = compiled.parameters.map((p) => {
    if (typeof p !== 'string' || !p.startsWith(MARK)) return -1
    const i = Number(p.slice(MARK.length))
    if (!Number.isSafeInteger(i) || i < 0) throw new Error(`bad template placeholder ${p}`)
    return i
  })
  return { compiled, slots }
}

export function bind<R>(template: Template<R>, values: readonly unknown[]): CompiledQuery<R> {
  const { compiled, slots } = template
  const constants = compiled.parameters
  const parameters = new Array<unknown>(slots.length)
  for (let j = 0; j < slots.length; j++) {
    const s = slots[j] as number
    parameters[j] = s < 0 ? constants[j] : values[s]
  }
  return { sql: compiled.sql, query: compiled.query, queryId: compiled.queryId, parameters }
}

/** What runs a compiled query: the store's `Kysely` or a `Transaction` of it. */
export interface QueryRunner {
  executeQuery<R>(query: CompiledQuery<R>): Promise<QueryResult<R>>
}

/** The templates of one store (one SQL dialect, one table prefix), by shape key. */
export class Templates {
  readonly #map = new Map<string, Template<unknown>>()
  get<R>(key: string, build: () => Compilable<R>): Template<R> {
    let t = this.#map.get(key) as Template<R> | undefined
    if (t === undefined) {
      t = compileTemplate(build())
      this.#map.set(key, t as Template<unknown>)
    }
    return t
  }
}
