#!/usr/bin/env bash
# The long fuzz runs of issue 18: every fuzz_<name> of a fuzz build, one at a time at the lowest priority, until
# RUNS executions (default 10^6) or SECONDS seconds (default 1800, libFuzzer's -max_total_time) whichever comes first,
# each growing a scratch copy of its seed corpus. Prints one table row per target: executions, the corpus it ended
# with (files), and its findings (crash/leak/oom/timeout files written, 0 when clean; slow-unit files, which libFuzzer
# writes for any input slower than 10 s, are not findings). Run again with the same FUZZ_WORK to go on from the grown
# corpus; FUZZ_NICE sets the priority (default 19).
#   tests/fuzz/run_long.sh [BUILD_DIR=build-fuzz] [RUNS=1000000] [SECONDS=1800] [TARGETS...]
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-fuzz}; runs=${2:-1000000}; secs=${3:-1800}; shift $(( $# < 3 ? $# : 3 ))
work=${FUZZ_WORK:-$build/fuzz_long}
mkdir -p "$work"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in tests/fuzz/fuzz_*.cpp; do n=$(basename "$f" .cpp); targets+=("${n#fuzz_}"); done
fi
printf '| target | executions | seconds | corpus files (seed -> end) | findings |\n|---|---|---|---|---|\n'
for name in "${targets[@]}"; do
  corpus=$work/corpus_$name; art=$work/artifacts_$name/; log=$work/$name.log
  mkdir -p "$corpus" "$art"
  cp -n tests/fuzz/corpus/"$name"/* "$corpus"/ 2>/dev/null
  seeds=$(ls tests/fuzz/corpus/"$name" | wc -l)
  start=$(date +%s)
  nice -n "${FUZZ_NICE:-19}" "$build/tests/fuzz/fuzz_$name" -runs="$runs" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$art" "$corpus" >"$log" 2>&1
  rc=$?
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
  # crash-/leak-/oom-/timeout- files are findings; slow-unit- files only say an input took > 10 s (a loaded machine)
  findings=$(ls "$art" | grep -vc '^slow-unit-')
  printf '| fuzz_%s | %s | %s | %s -> %s | %s%s |\n' "$name" "${execs:-?}" "$(( $(date +%s) - start ))" "$seeds" \
    "$(ls "$corpus" | wc -l)" "$findings" "$([ $rc -ne 0 ] && echo " (exit $rc, see $log)")"
done
