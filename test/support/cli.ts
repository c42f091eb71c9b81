/**
 * The operator CLI as a user runs it: built once per test file from src/ (as `npm run build` does, without
 * declarations and maps, which the binary does not need) into a private folder under .scratch/ (inside the
 * repository, so the build finds node_modules), then run as `node dist/cli.js …`, a process of its own.
 */
import { execFile, spawn } from "node:child_process"
import { copyFileSync, mkdirSync, rmSync } from "node:fs"
import { join, resolve } from "node:path"
import { promisify } from "node:util"

const repo = resolve(import.meta.dirname, "..", "..")

export interface CliRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface BuiltCli {
  /** Runs `userharbor args…` with `env` as the whole environment (plus PATH), stdin closed. */
  readonly run: (args: ReadonlyArray<string>, env?: Readonly<Record<string, string>>) => Promise<CliRun>
  readonly remove: () => void
}

export const buildCli = async (): Promise<BuiltCli> => {
  const dir = join(repo, ".scratch", `cli-${process.pid}-${Date.now().toString(36)}`)
  mkdirSync(dir, { recursive: true })
  const tsc = join(repo, "node_modules", "typescript", "bin", "tsc")
  await promisify(execFile)(process.execPath, [
    tsc,
    "-p",
    join(repo, "tsconfig.build.json"),
    "--outDir",
    join(dir, "dist"),
    "--declaration",
    "false",
    "--declarationMap",
    "false",
    "--sourceMap",
    "false"
  ])
  // The binary reads its version from ../package.json, as in the package.
  copyFileSync(join(repo, "package.json"), join(dir, "package.json"))
  const run = (args: ReadonlyArray<string>, env: Readonly<Record<string, string>> = {}) =>
    new Promise<CliRun>((done, fail) => {
      const child = spawn(process.execPath, [join(dir, "dist", "cli.js"), ...args], {
        cwd: dir,
        env: { PATH: process.env.PATH ?? "", ...env },
        stdio: ["ignore", "pipe", "pipe"]
      })
      let stdout = ""
      let stderr = ""
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
      child.on("error", fail)
      child.on("close", (code) => done({ code, stdout, stderr }))
    })
  return { run, remove: () => rmSync(dir, { recursive: true, force: true }) }
}
