#!/usr/bin/env bash
# Runs the whole test suite (`cargo test --release`) under simulated other CPUs, then against
# fixtures regenerated under other CPU settings, and prints one line per run with the worst
# difference the fixture tests saw. Exits non-zero if any run fails.
#
# The variables change the code paths that libtorch's libraries pick on this CPU, as another
# CPU would: ATEN_CPU_CAPABILITY (ATen's kernels: default, avx2, avx512), MKL_ENABLE_INSTRUCTIONS
# and MKL_CBWR (MKL's BLAS and vector math), ONEDNN_MAX_CPU_ISA (oneDNN). The live test runs too,
# and holds Rust and PyTorch to the same bits under each setting, since both inherit it.
#   scripts/check-portability.sh          logs and reports in target/check-portability/
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
[[ -x .venv/bin/python ]] || { echo "check-portability: run bash scripts/setup.sh first" >&2; exit 1; }
logs="$root/target/check-portability"
rm -rf "$logs"
mkdir -p "$logs"

# "label|variables for the test run|variables for regenerating the fixtures (empty: committed)"
runs=(
    "this CPU||"
    "ATen default (no AVX2)|ATEN_CPU_CAPABILITY=default|"
    "ATen avx2|ATEN_CPU_CAPABILITY=avx2|"
    "MKL AVX2|MKL_ENABLE_INSTRUCTIONS=AVX2|"
    "MKL CBWR compatible|MKL_CBWR=COMPATIBLE|"
    "oneDNN AVX2|ONEDNN_MAX_CPU_ISA=AVX2|"
    "AVX2-only machine|ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2|"
    "ATen default + MKL compatible|ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE|"
    "fixtures from an AVX2-only machine||ATEN_CPU_CAPABILITY=avx2 MKL_ENABLE_INSTRUCTIONS=AVX2 ONEDNN_MAX_CPU_ISA=AVX2"
    "fixtures from ATen default + MKL compatible||ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE"
)

echo "check-portability: building the tests" >&2
cargo test --release --no-run --quiet 2>"$logs/build.log" || { cat "$logs/build.log" >&2; exit 1; }

# The worst share of assert_close's tolerance among the fixture tests' summary lines.
worst_tolerance() {
    grep -v '^live_parity' "$1" | sed -n 's/.*, \([0-9.]*\)% of assert_close.*/\1/p' | sort -g | tail -1
}

failed=0
printf '%-46s %-6s %8s  %s\n' "run" "result" "seconds" "worst fixture difference (share of assert_close's tolerance); decimals one unit off"
for i in "${!runs[@]}"; do
    IFS='|' read -r label vars regen <<<"${runs[$i]}"
    report="$logs/$i.report"
    fixtures=()
    if [[ -n "$regen" ]]; then
        dir="$logs/fixtures-$i"
        env $regen scripts/regenerate-fixtures.sh "$dir" >"$logs/$i.regenerate.log" 2>&1 ||
            { echo "check-portability: regenerating under $regen failed, see $logs/$i.regenerate.log" >&2; exit 1; }
        fixtures=("TCH_RNN_FIXTURES=$dir")
    fi
    start=$(date +%s)
    if env $vars "${fixtures[@]}" TCH_RNN_PARITY_REPORT="$report" cargo test --release --quiet >"$logs/$i.log" 2>&1; then
        result=pass
    else
        result=FAIL
        failed=1
    fi
    seconds=$(($(date +%s) - start))
    touch "$report"
    off=$(sed -n 's/^tutorials (fixtures).*byte-identical, \([0-9]*\) printed decimals.*/\1/p' "$report")
    printf '%-46s %-6s %8s  %s%%; %s\n' "$label" "$result" "$seconds" "$(worst_tolerance "$report")" "${off:-?}"
done
echo "check-portability: logs and per-test reports in ${logs#"$root"/}/" >&2
exit "$failed"
