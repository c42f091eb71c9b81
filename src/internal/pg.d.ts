// The part of `pg` that the PostgreSQL session fast path (and the benchmarks) use. `pg` ships no types and
// `@types/pg` is not installed; this is private to the package (no public signature mentions it). Delete it if
// `@types/pg` is ever added.
declare module "pg" {
  interface QueryResult {
    readonly rows: Array<unknown>
  }
  interface PoolConfig {
    readonly connectionString?: string | undefined
    readonly max?: number | undefined
    readonly connectionTimeoutMillis?: number | undefined
    readonly application_name?: string | undefined
  }
  export class Pool {
    constructor(config?: PoolConfig)
    query(text: string, values?: ReadonlyArray<unknown>): Promise<QueryResult>
    on(event: "error", listener: (error: Error) => void): this
    end(): Promise<void>
  }
  const pg: { readonly Pool: typeof Pool }
  export default pg
}
