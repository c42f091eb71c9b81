// The part of better-sqlite3's API that the session fast path (and the benchmarks) use. better-sqlite3 ships no
// types and `@types/better-sqlite3` is not installed; this is private to the package (no public signature
// mentions it). Delete it if `@types/better-sqlite3` is ever added.
declare module "better-sqlite3" {
  interface Statement {
    readonly reader: boolean
    get(...params: ReadonlyArray<unknown>): unknown
    all(...params: ReadonlyArray<unknown>): Array<unknown>
    run(...params: ReadonlyArray<unknown>): { readonly changes: number; readonly lastInsertRowid: number | bigint }
  }
  interface Database {
    readonly open: boolean
    readonly inTransaction: boolean
    prepare(source: string): Statement
    pragma(source: string, options?: { readonly simple?: boolean }): unknown
    exec(source: string): Database
    transaction<Args extends ReadonlyArray<unknown>>(fn: (...args: Args) => void): (...args: Args) => void
    close(): Database
  }
  interface Options {
    readonly readonly?: boolean
    readonly fileMustExist?: boolean
    /** Busy timeout in milliseconds. */
    readonly timeout?: number
  }
  const Database: new(filename: string, options?: Options) => Database
  export default Database
}
