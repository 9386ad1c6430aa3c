#!/usr/bin/env bash
# Runs every libFuzzer target (Fuzz/corpus/NAME) for FUZZ_SECONDS each, after replaying the crashers
# already found (Fuzz/regressions/NAME). New inputs go to .build/fuzz/corpus/NAME; a crash is kept
# in .build/fuzz/crashes/NAME and fails the run. `scripts/fuzz.sh --merge` folds what the runs
# found into the committed corpus, minimised. FUZZ_SEED fixes libFuzzer's seed (CI's short pass, so
# a red run is the change's doing, not the draw's); unset, each run explores anew.
# Usage: FUZZ_SECONDS=300 [FUZZ_SEED=N] scripts/fuzz.sh [--merge] [TARGET...]
set -uo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-300}
merge=false
if [ "${1:-}" = --merge ]; then merge=true; shift; fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for dir in Fuzz/corpus/*/; do targets+=("$(basename "$dir")"); done
fi

# Every module the targets reach is instrumented for coverage; its own build directory keeps the
# normal debug build untouched.
echo "Building cubby-fuzz with -sanitize=fuzzer"
swift build --quiet --build-path .build/fuzz --product cubby-fuzz -Xswiftc -sanitize=fuzzer -Xswiftc -DCUBBY_FUZZ || exit 1
bin=.build/fuzz/debug/cubby-fuzz

# libFuzzer, not Swift's backtracer, must see a trap, so it saves the input that caused it.
export SWIFT_BACKTRACE=enable=no
# Files the targets write (the kubeconfig target's) stay in the build directory, not the machine's /tmp.
export TMPDIR=$PWD/.build/fuzz/tmp
mkdir -p "$TMPDIR"
failed=()
for target in "${targets[@]}"; do
    export CUBBY_FUZZ_TARGET=$target
    work=.build/fuzz/corpus/$target crashes=.build/fuzz/crashes/$target
    mkdir -p "$work" "$crashes"
    flags=()
    if [ -n "${FUZZ_SEED:-}" ]; then flags+=(-seed="$FUZZ_SEED"); fi
    case $target in json|json-patch|merge-patch|strategic-merge-patch|server-side-apply) flags+=(-dict=Fuzz/json.dict) ;; esac
    if $merge; then
        "$bin" -merge=1 "${flags[@]}" "Fuzz/corpus/$target" "$work" 2>&1 | tail -1
        continue
    fi
    if [ -d "Fuzz/regressions/$target" ] && ! "$bin" Fuzz/regressions/"$target"/* >/dev/null 2>&1; then
        echo "FAIL $target: a regression input crashes again (Fuzz/regressions/$target)"
        failed+=("$target"); continue
    fi
    echo "Fuzzing $target for ${seconds}s"
    # Inputs up to 16 KiB; one input over 10 s is a finding too (work must stay bounded).
    if "$bin" "${flags[@]}" -max_total_time="$seconds" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$crashes/" -print_final_stats=1 "$work" "Fuzz/corpus/$target" > "$crashes/log" 2>&1; then
        grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "$crashes/log" | sed "s/^/  /"
    else
        echo "FAIL $target: see $crashes/log and the input saved in $crashes/"
        grep -E "Fatal error|ERROR: libFuzzer|SUMMARY" "$crashes/log" | head -3 | sed "s/^/  /"
        failed+=("$target")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}"; exit 1; fi
$merge || echo "fuzz: ${#targets[@]} targets ran ${seconds}s each with no crash"
