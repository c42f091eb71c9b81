#!/usr/bin/env bash
# Uses the package as a new user would: packs it as `npm publish` does (prepack cleans and builds), checks what the
# tarball holds, installs it into an empty project by running the README's install commands as written (with the
# tarball for `userharbor`), type-checks .ci/consumer/consumer.ts against it with moduleResolution NodeNext and
# Bundler (strict, skipLibCheck off), loads every entry point with import and require, runs register ->
# verifyEmail -> login -> validateSession on a SQLite file, runs the `userharbor` binary (--help, status, migrate)
# with npx on another, and runs publint and arethetypeswrong (esm-only).
# Runs on the `node` first on PATH (.ci/node-versions.sh runs it on the oldest Node of each supported line).
# With --readme (as .ci/run calls it, after `npm run docs:check` extracted the blocks), the README's own code blocks
# are compiled in that project too, against the installed tarball, and run: the usage block with node, the test
# block with the project's vitest.
#
# Speed: the installs use npm's cache (--prefer-offline) and skip install scripts; argon2 loads its bundled
# prebuilt binary, and better-sqlite3's binary is copied from this repository's node_modules when it is the same
# version built for this Node's ABI (else rebuilt), instead of compiling it again (minutes on 2 cores).
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
here=$repo/.ci/consumer

work=$(mktemp -d "${TMPDIR:-/tmp}/userharbor-consumer-XXXXXX")
trap 'rm -rf "$work"' EXIT
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

fail() { echo "consumer check on $(node -v): FAILED: $*"; exit 1; }
timed() { # label, command...
  local label=$1 t; shift
  t=$(date +%s)
  "$@" || return 1
  echo "   ($label: $(($(date +%s) - t)) s)"
}

echo "consumer check on node $(node -v), npm $(npm -v)"

# 1. the tarball, as npm publish would make it
pack() { npm pack --pack-destination "$work" --json >"$work/pack.json" 2>"$work/pack.log" || { cat "$work/pack.log"; return 1; }; }
timed "npm pack (clean + build)" pack || fail "npm pack"
tarball=$(node -e 'const [r] = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(r.filename)' "$work/pack.json")
node -e '
  const [r] = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
  console.log(`tarball ${r.filename}: ${(r.size / 1000).toFixed(1)} kB packed, ${(r.unpackedSize / 1000).toFixed(1)} kB unpacked, ${r.entryCount} files`)
' "$work/pack.json"
mkdir -p "$work/unpacked" && tar -xzf "$work/$tarball" -C "$work/unpacked" || fail "cannot unpack $tarball"
node "$here/package-contents.mjs" "$work/unpacked" || fail "package contents"

# 2. publint and arethetypeswrong on the tarball itself (attw --pack would build a second time)
echo "publint:"
timed publint npx --no-install publint run --strict "$work/$tarball" || fail "publint"
echo "attw --profile esm-only:"
timed attw npx --no-install attw "$work/$tarball" --profile esm-only --format table-flipped --no-emoji || fail "attw"

# 3. an empty project, installed with the README's commands
project=$work/project
mkdir -p "$project" && cp "$here"/consumer.ts "$here"/run.mjs "$here"/entrypoints.mjs "$here"/tsconfig.*.json "$project/"
echo '{ "name": "userharbor-consumer", "private": true, "type": "module" }' >"$project/package.json"
node "$here/install-commands.mjs" README.md "$work/$tarball" >"$work/install-commands" || fail "README install commands"
install() {
  while read -r command; do
    echo "   ${command/$work\//}"
    (cd "$project" && $command --prefer-offline --ignore-scripts --loglevel=error >>"$work/install.log" 2>&1) || {
      tail -n 30 "$work/install.log"; return 1; }
  done <"$work/install-commands"
}
timed "README install commands" install || fail "a README install command failed"
(cd "$project" && npm ls --all effect 2>/dev/null | grep -o 'effect@[0-9.]*' | sort -u | grep -qv '^effect@3\.') &&
  fail "an effect other than 3.x was installed: $(cd "$project" && npm ls --all effect | grep -o 'effect@[0-9.]*' | sort -u)"

# each module's own check: argon2's bundled prebuilt binary can load and then crash on the first hash (it does on
# this CI machine; its install script notices and builds from source, which --ignore-scripts skipped)
check_native() { # module
  case $1 in
    argon2) (cd "$project" && node -e "require('argon2').hash('check').then(() => {})" >/dev/null 2>&1) ;;
    better-sqlite3) (cd "$project" && node -e "require('better-sqlite3')(':memory:').prepare('select 1').get()" >/dev/null 2>&1) ;;
  esac
}
native() {
  local module built target theirs ours
  for module in argon2 better-sqlite3; do
    target=$project/node_modules/$module
    built=$repo/node_modules/$module/build/Release/${module//-/_}.node
    theirs=$(node -p "require('$target/package.json').version")
    ours=$(node -p "require('$repo/node_modules/$module/package.json').version" 2>/dev/null)
    if [ "$theirs" = "$ours" ] && [ -f "$built" ]; then
      mkdir -p "$target/build/Release" && cp "$built" "$target/build/Release/"
    fi
    check_native "$module" && { echo "   $module $theirs loads"; continue; }
    echo "   building $module $theirs for $(node -v)"
    rm -rf "$target/build"
    (cd "$project" && npm_config_build_from_source=true npm rebuild "$module" >>"$work/install.log" 2>&1) || {
      tail -n 30 "$work/install.log"; return 1; }
    check_native "$module" || return 1
  done
}
timed "native modules" native || fail "native modules do not load"

# 4. types: every entry point, both resolutions, strict, library checks on
for subpath in $(node -p 'Object.keys(require("./package.json").exports).filter((s) => !s.endsWith(".json")).join(" ")'); do
  specifier=userharbor${subpath#.}
  grep -q "from \"$specifier\"" "$project/consumer.ts" || fail "consumer.ts does not import $specifier"
done
tsc=$repo/node_modules/typescript/bin/tsc
for resolution in nodenext bundler; do
  timed "tsc $resolution" node "$tsc" -p "$project/tsconfig.$resolution.json" || fail "consumer.ts does not compile ($resolution)"
  echo "   consumer.ts compiles with moduleResolution $resolution"
done

# 5. run: every entry point with import and require, then the account flow on SQLite (compiled by tsc above)
(cd "$project" && node entrypoints.mjs) || fail "an entry point does not load"
# better-sqlite3 12 on Node 24 can abort the process when the garbage collector finalizes a prepared statement
# outside a Node environment (`Assertion failed: (env) != nullptr` in RemoveEnvironmentCleanupHook; upstream,
# better-sqlite3 issue 1515, fixed only by its Node-API rewrite in 13, which does not run on Node 20). That abort,
# and only it, is reported and the flow run once more; any other failure, or the abort twice, fails the check.
account_flow() { (cd "$project" && node run.mjs) >"$work/run.log" 2>&1; local status=$?; cat "$work/run.log"; return $status; }
if ! account_flow; then
  grep -q "RemoveEnvironmentCleanupHook" "$work/run.log" || fail "the account flow failed"
  echo "WARNING: better-sqlite3 12 aborted on $(node -v) while finalizing a statement (upstream bug); running the flow again"
  account_flow || fail "the account flow failed"
fi

# 5b. the operator CLI as a user runs it: `npx userharbor` from the installed tarball (its optional peers came with
# the README's install commands), on a SQLite file: help, then status (pending), migrate, status (current)
cli_step() { # expected exit code, arguments...
  local expected=$1 status; shift
  (cd "$project" && npx --no-install userharbor "$@") >"$work/cli.log" 2>&1
  status=$?
  # the better-sqlite3 12 abort on Node 24 described above, and only it, gets a second run
  if [ "$status" -ne "$expected" ] && grep -q "RemoveEnvironmentCleanupHook" "$work/cli.log"; then
    echo "WARNING: better-sqlite3 12 aborted on $(node -v) in userharbor $*; running it again"
    (cd "$project" && npx --no-install userharbor "$@") >"$work/cli.log" 2>&1
    status=$?
  fi
  [ "$status" -eq "$expected" ] || { cat "$work/cli.log"; echo "userharbor $* exited with $status, not $expected"; return 1; }
  echo "   npx userharbor $*: exit $status"
}
cli_checks() {
  cli_step 0 --help && grep -q "USAGE" "$work/cli.log" &&
    cli_step 1 status --url sqlite:cli.db --check &&
    cli_step 0 migrate --url sqlite:cli.db &&
    cli_step 0 status --url sqlite:cli.db --check &&
    cli_step 0 status --url sqlite:cli.db --json && grep -q '"pending": \[\]' "$work/cli.log"
}
timed "npx userharbor" cli_checks || fail "the userharbor binary"

# 6. the README's code as a reader copies it, in the same project
if [ "${1:-}" = "--readme" ]; then
  blocks=$(ls "$repo"/.scratch/docs/src/readme-L*.ts 2>/dev/null | grep -v '\.harness\.ts$')
  [ -n "$blocks" ] || fail "no README blocks in .scratch/docs/src: run npm run docs:check first"
  mkdir -p "$project/readme" && cp $blocks "$project/readme/"
  # skipLibCheck as `tsc --init` sets it: @effect/platform-node's own declarations need @types/ws and DOM types
  # (step 4 checks this package's declarations with library checks on)
  cat >"$project/tsconfig.readme.json" <<'JSON'
{
  "extends": "./tsconfig.nodenext.json",
  "compilerOptions": {
    "lib": ["ES2024"],
    "types": ["node"],
    "skipLibCheck": true,
    "rootDir": "readme",
    "outDir": "readme-out"
  },
  "files": [],
  "include": ["readme"]
}
JSON
  timed "tsc README blocks" node "$tsc" -p "$project/tsconfig.readme.json" || fail "a README block does not compile"
  echo "   $(echo "$blocks" | wc -l) README blocks compile against the installed package"
  run_dir=$work/readme-run && mkdir -p "$run_dir"
  secret=$(node -p 'require("crypto").randomBytes(48).toString("base64")')
  for block in "$project"/readme-out/readme-L*.js; do
    case $block in *.test.js) continue ;; esac
    (cd "$run_dir" && USERHARBOR_SECRET_KEY=$secret node "$block") >"$work/readme-run.log" 2>&1 || {
      cat "$work/readme-run.log"; fail "README block $(basename "$block") failed"; }
    echo "   ran $(basename "$block" .js)"
  done
  for test in "$project"/readme/readme-L*.test.ts; do
    [ -e "$test" ] || continue
    (cd "$project" && npx --no-install vitest run "readme/$(basename "$test")" >"$work/readme-test.log" 2>&1) || {
      cat "$work/readme-test.log"; fail "README test block $(basename "$test") failed"; }
    echo "   ran $(basename "$test" .ts) with vitest"
  done
fi

echo "consumer check on $(node -v): ok"
