/**
 * Multi-row writes: one description per kind of row ({@link RowWrite}) and one sender
 * ({@link sendWrites}) for all of them — compiled templates for up to `TEMPLATE_ROWS` rows, chunks
 * of `CHUNK` rows beyond, and, where the database allows data-modifying statements in `WITH`
 * (`SqlDialect.writableCte`, PostgreSQL), the writes to several tables in one statement.
 */
import type { Compilable, QueryCreator } from 'kysely'
import { arg, bind, compileTemplate } from './compiled.ts'
import { chunks, type Db, q, type Scope, TEMPLATE_ROWS } from './context.ts'
import type { TrustDb } from './schema.ts'

/** How rows of one kind are written: `arg(0)` is the account, then `width` values per row. */
export interface RowWrite<R> {
  /** names the compiled templates */
  readonly name: string
  readonly width: number
  /** the statement for `n` rows; `at(i, j)` is the placeholder of row i's j-th value */
  build(
    s: Scope,
    b: QueryCreator<TrustDb>,
    n: number,
    at: <T = string>(i: number, j: number) => T,
  ): Compilable<unknown>
  values(row: R): readonly unknown[]
}

export interface Writes<R> {
  readonly write: RowWrite<R>
  readonly rows: readonly R[]
}

/** Sends `parts` (each: rows of one kind, one row per key, in any order between kinds). */
export async function sendWrites(s: Scope, db: Db, parts: readonly Writes<unknown>[]): Promise<void> {
  const todo = parts.filter((p) => p.rows.length > 0)
  if (todo.length === 0) return
  if (
    s.core.dialect.writableCte === true &&
    todo.length > 1 &&
    todo.every((p) => p.rows.length <= TEMPLATE_ROWS)
  ) {
    // WITH w0 AS (INSERT …), w1 AS (INSERT …) INSERT …: one round trip
    const values: unknown[] = [s.account]
    const offsets: number[] = []
    for (const p of todo) {
      offsets.push(values.length)
      for (const r of p.rows) values.push(...p.write.values(r))
    }
    const key = `writes:${todo.map((p) => `${p.write.name}${p.rows.length}`).join(',')}`
    await q(
      s,
      db,
      key,
      (b) => {
        const statement = (p: Writes<unknown>, k: number, creator: QueryCreator<TrustDb>) =>
          p.write.build(s, creator, p.rows.length, (i, j) =>
            arg((offsets[k] as number) + p.write.width * i + j),
          )
        let creator: QueryCreator<TrustDb> = b
        for (const [k, p] of todo.slice(0, -1).entries())
          creator = (creator as unknown as WithCreator).with(`vouch_w${k}`, (qc) => statement(p, k, qc))
        return statement(todo[todo.length - 1] as Writes<unknown>, todo.length - 1, creator)
      },
      values,
    )
    return
  }
  for (const p of todo)
    for (const part of chunks(p.rows)) {
      const build = (b: QueryCreator<TrustDb>) =>
        p.write.build(s, b, part.length, (i, j) => arg(1 + p.write.width * i + j))
      const values = [s.account, ...part.flatMap((r) => p.write.values(r))]
      if (part.length <= TEMPLATE_ROWS) await q(s, db, `${p.write.name}:${part.length}`, build, values)
      else await db.executeQuery(bind(compileTemplate(build(db)), values))
    }
}

/** kysely's `with` as used here (the CTE's output is not read, so its type does not matter). */
interface WithCreator {
  with(
    name: string,
    expression: (creator: QueryCreator<TrustDb>) => Compilable<unknown>,
  ): QueryCreator<TrustDb>
}
