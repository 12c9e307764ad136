#!/usr/bin/env bash
# Runs on a lent GPU machine, from the repository root, what scripts/device/pack.mjs packed
# into .gpucarry/ (carried with .gl/, the Vulkan loader's .deb files): the adapter probe,
# then the GPU test tier (as bundles, several files at a time) while the full-size models
# are generated (scripts/gen-bench-models.ts), then `npm run bench:gpu` (full shapes), cut
# off DEADLINE seconds after the start (default 580: the device tool's limit is 600), then
# bench/step-profile.ts on the Qwen shape (GPU time per dispatch) in the time left.
# Everything it prints also lands in $OUT: probe.txt, tests.log, gen.txt, bench.md (the
# benchmark's tables), bench.err (its progress lines), profile.md.
#   bash scripts/device/run.sh [tests|bench|all]   (default all)
# Environment: TESTS (a name filter, default all), TESTS_JOBS, TESTS_TIMEOUT (a file),
# TESTS_BUDGET (the tier), DEADLINE,
# BENCH_ARGS (e.g. --quick), LOCAL=1 (a trial run here: no .deb unpacking, any adapter).
set -u
what=${1:-all}
start=$(date +%s)
OUT=${OUT:-/tmp/tabllm-device-out}
mkdir -p "$OUT"
C=.gpucarry

if [ -z "${LOCAL:-}" ]; then
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
fi
if ! command -v node >/dev/null 2>&1 || [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" -lt 20 ]; then
  mkdir -p /tmp/node-bin
  if command -v xz >/dev/null 2>&1; then xz -dc $C/node.xz > /tmp/node-bin/node
  else python3 -c 'import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' $C/node.xz /tmp/node-bin/node; fi
  chmod +x /tmp/node-bin/node
  export PATH=/tmp/node-bin:$PATH
fi
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  if [ -f "$icd" ]; then export VK_DRIVER_FILES=$icd VK_ICD_FILENAMES=$icd; break; fi
done
[ -d /usr/local/nvidia/lib64 ] && export LD_LIBRARY_PATH=/usr/local/nvidia/lib64:/usr/local/nvidia/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export XDG_RUNTIME_DIR=/tmp/xdg && mkdir -p -m 700 /tmp/xdg
# The fixtures sit beside the repository (../shared), as the tests expect.
[ -e ../shared ] || { [ -d $C/shared ] && ln -s "$PWD/$C/shared" ../shared; }

probe() {
  echo "node $(node -v), VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-unset}"
  ls /usr/local/nvidia/share/vulkan/icd.d /usr/share/vulkan/icd.d /etc/vulkan/icd.d 2>&1
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem --format=csv 2>&1
  timeout 60 node $C/probe.mjs 2>&1
}
probe | tee "$OUT/probe.txt"
if ! grep -q '^probe: software' "$OUT/probe.txt" && [ -n "${VK_ICD_FILENAMES:-}" ]; then
  echo 'run.sh: no adapter with that ICD; once more with the loader choosing'
  unset VK_DRIVER_FILES VK_ICD_FILENAMES
  probe | tee -a "$OUT/probe.txt"
fi
[ -n "${LOCAL:-}" ] || grep -q 'probe: software false' "$OUT/probe.txt" || { echo 'run.sh: no hardware adapter; stopping'; exit 1; }

if [ "$what" != tests ]; then
  # Both full-size models, on every core, beside the tests (one after the other: each uses all cores).
  (for m in qwen llama; do timeout 400 node $C/gen-bench-models.mjs $m; done > "$OUT/gen.txt" 2>&1 &)
fi
if [ "$what" != bench ]; then
  started=$(date +%s)
  # The tier as a whole stops after TESTS_BUDGET seconds (files not finished by then say so).
  ls $C/tests/*${TESTS:-}*.mjs | timeout "${TESTS_BUDGET:-200}" xargs -P "${TESTS_JOBS:-8}" -I{} sh -c 'timeout '"${TESTS_TIMEOUT:-180}"' node {} > {}.log 2>&1; echo "rc=$?" >> {}.log'
  pkill -f "$C/tests/" 2>/dev/null
  sleep 1
  for f in $C/tests/*${TESTS:-}*.mjs; do [ -f "$f.log" ] && grep -q '^rc=' "$f.log" || echo "not finished: $f"; done
  cat $C/tests/*.mjs.log > "$OUT/tests.log"
  grep -h 'passed,.*failed' $C/tests/*.mjs.log
  grep -h '^FAIL\|^rc=[1-9]' $C/tests/*.mjs.log | cut -c1-300 | head -40
  awk '/ passed, .* failed/ { p += $(NF-5); f += $(NF-3); s += $(NF-1) } END { printf "tests: %d passed, %d failed, %d skipped in '"$(( $(date +%s) - started ))"' s\n", p, f, s }' $C/tests/*.mjs.log | tee -a "$OUT/tests.log"
  grep -c '^rc=124' $C/tests/*.mjs.log | grep -v ':0$' | sed 's/^/timed out: /'
fi
if [ "$what" != tests ]; then
  while pgrep -f gen-bench-models.mjs >/dev/null; do sleep 1; done
  cat "$OUT/gen.txt"
  timeout $(( ${DEADLINE:-580} - ($(date +%s) - start) )) node $C/gpu.mjs ${BENCH_ARGS:-} > "$OUT/bench.md" 2> "$OUT/bench.err"
  echo "bench rc=$?"
  tail -4 "$OUT/bench.err"
  cat "$OUT/bench.md"
  # Where a decode step's GPU time goes (timestamp per dispatch), on the Qwen shape, in what is left.
  left=$(( ${DEADLINE:-580} - ($(date +%s) - start) ))
  if [ "$left" -gt 20 ]; then
    TABLLM_BENCH_BATCHES=1,16 timeout "$left" node $C/step-profile.mjs /tmp/tabllm-bench-models/qwen2-*.gguf > "$OUT/profile.md" 2>&1
    echo "step-profile rc=$?"
    cat "$OUT/profile.md"
  fi
fi
