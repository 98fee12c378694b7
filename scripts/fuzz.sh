#!/usr/bin/env bash
# Fuzzes every parser of outside bytes with libFuzzer and AddressSanitizer (Tests/Fuzz), starting
# from the seed corpora in Tests/Fuzz/corpus/<target>. New inputs go to .build-fuzz/corpus, crashes
# to .build-fuzz/crashes; a crash fails the script, and its input becomes a unit test.
#
#   scripts/fuzz.sh [--seconds S] [--runs N] [TARGET...]
#
# Each target stops after N executions or S seconds, whichever comes first (defaults: 10 million
# executions or 20 minutes, the figures in the README); the test command runs each for a minute.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=1200
runs=10000000
targets=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    *) targets+=("$1"); shift ;;
  esac
done
[ ${#targets[@]} -gt 0 ] || targets=(mqtt commands config board spool w1)

# Debug configuration keeps @testable imports working; -O makes the run fast enough.
mkdir -p .build-fuzz
EDGE_AGENT_FUZZ=1 swift build --scratch-path .build-fuzz --product edge-agent-fuzz \
  -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING -Xswiftc -parse-as-library -Xswiftc -O >.build-fuzz/build.log 2>&1 \
  || { grep -E "error" .build-fuzz/build.log | head -20; echo "fuzz targets: build failed (.build-fuzz/build.log)"; exit 1; }
binary=.build-fuzz/debug/edge-agent-fuzz
mkdir -p .build-fuzz/crashes
failed=0
printf '%-9s %12s %9s %8s %s\n' target executions exec/s crashes seconds
for target in "${targets[@]}"; do
  work=.build-fuzz/corpus/$target
  mkdir -p "$work"
  log=.build-fuzz/$target.log
  start=$(date +%s)
  status=0
  # detect_leaks=0: the commands target keeps one agent alive across inputs on purpose.
  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 EDGE_FUZZ_TARGET=$target "$binary" \
    -runs="$runs" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix=".build-fuzz/crashes/$target-" "$work" "Tests/Fuzz/corpus/$target" >"$log" 2>&1 || status=$?
  executions=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
  crashes=0
  if [ $status -ne 0 ]; then crashes=1; failed=1; fi
  printf '%-9s %12s %9s %8s %s\n' "$target" "$executions" "$rate" "$crashes" "$(( $(date +%s) - start ))"
  if [ $status -ne 0 ]; then
    grep -E "ERROR|Fatal error|SUMMARY|Test unit written" "$log" | head -5
    echo "  full log: $log"
  fi
done
exit $failed
