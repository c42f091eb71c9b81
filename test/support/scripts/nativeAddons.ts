/**
 * Run by the entry-point test in its own process: records every native addon (`.node` file) Node loads, imports
 * the core entry, then builds the argon2 layer, and prints one JSON line with the addons loaded after each step.
 * `process.dlopen` is patched before anything of the library is imported, hence the dynamic imports.
 */
const loaded: Array<string> = []
const dlopen = process.dlopen
process.dlopen = (module, filename, ...flags) => {
  loaded.push(filename)
  return dlopen(module, filename, ...flags)
}

const core = await import("../../../src/index.js")
const afterImport = [...loaded]
const { Effect, Layer } = await import("effect")
await Effect.runPromise(Effect.scoped(Layer.build(core.Argon2Hasher.layerInsecureForTesting)))
process.stdout.write(`${JSON.stringify({ afterImport, afterBuild: [...loaded] })}\n`)
