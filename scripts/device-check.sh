#!/usr/bin/env bash
# GPU check in one short run: builds the CUDA kernels, runs iro_cuda_check (CUDA twins vs CPU on
# random inputs), the native CPU tests and the native CPU-vs-CUDA kernel benchmark, and writes logs
# and JSON to OUTDIR. Node may be absent. Build routes, first that applies:
#   1. plain cmake on the project CMakeLists, when the extracted llama.cpp headers (build/deps) and
#      the prebuilt libraries (node_modules/@node-llama-cpp/*) are present;
#   2. cmake-js (npm run build:native with IRO_CUDA=ON), when node and node_modules are present;
#   3. a kernel-only cmake project generated into OUTDIR (needs only cmake, a C++17 compiler, nvcc).
# Usage: scripts/device-check.sh OUTDIR   (env: IRO_CUDA_ARCHS, default "90-real;90-virtual";
#        IRO_DEVICE_CHECK_MODE=cmake|cmake-js|kernels-only forces a route)
set -uo pipefail
OUT=${1:?usage: scripts/device-check.sh OUTDIR}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
JOBS=$(nproc 2>/dev/null || echo 4)
log() { echo "[device-check] $*" | tee -a "$OUT/device-check.log"; }

if ! command -v nvcc >/dev/null 2>&1; then
  for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do [ -x "$d/nvcc" ] && export PATH="$d:$PATH" && break; done
fi
if ! command -v nvcc >/dev/null 2>&1; then
  log "nvcc not found"; echo '{"ok": false, "reason": "nvcc not found"}' > "$OUT/summary.json"; exit 1
fi
log "nvcc: $(nvcc --version | tail -1)"
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1

# Hopper code plus PTX that newer GPUs JIT (override with IRO_CUDA_ARCHS, e.g. "native").
ARCHS=${IRO_CUDA_ARCHS:-90-real;90-virtual}
FORCE=${IRO_DEVICE_CHECK_MODE:-}   # cmake | cmake-js | kernels-only: force one route (for testing the script)

HEADERS=$(ls -d "$ROOT"/build/deps/llama-*/ 2>/dev/null | head -1)
CPU_LIBS=$(ls -d "$ROOT"/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64 2>/dev/null | head -1)
CUDA_LIBS=$(ls -d "$ROOT"/node_modules/@node-llama-cpp/linux-x64-cuda/bins/linux-x64-cuda 2>/dev/null | head -1)
CHECK_BIN="" TESTS_BIN="" MODE=""
start=$(date +%s)

if { [ -z "$FORCE" ] || [ "$FORCE" = cmake ]; } && [ -n "$HEADERS" ] && [ -n "$CPU_LIBS" ] && [ -n "$CUDA_LIBS" ]; then
  MODE=cmake
  TAG=$(basename "$HEADERS"); TAG=${TAG#llama-}
  B="$ROOT/build/device-check"
  log "build: plain cmake (headers $HEADERS)"
  if cmake -S "$ROOT" -B "$B" -DCMAKE_BUILD_TYPE=Release -DIRO_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=$ARCHS" \
      "-DLLAMA_INCLUDE_DIRS=${HEADERS}include;${HEADERS}ggml/include" "-DLLAMA_CPU_LIB_DIR=$CPU_LIBS" "-DLLAMA_CUDA_LIB_DIR=$CUDA_LIBS" \
      "-DLLAMA_RELEASE=$TAG" > "$OUT/build.log" 2>&1 &&
     cmake --build "$B" --parallel "$JOBS" --target iro_cuda_check iro_native_tests >> "$OUT/build.log" 2>&1; then
    CHECK_BIN=$(ls "$ROOT"/variants/cuda*/build/Release/iro_cuda_check 2>/dev/null | head -1)
    TESTS_BIN="$ROOT/build/Release/iro_native_tests"
  else
    log "plain cmake build failed (see build.log)"; MODE=""
  fi
fi
if [ -z "$MODE" ] && { [ -z "$FORCE" ] || [ "$FORCE" = cmake-js ]; } && command -v node >/dev/null 2>&1 && [ -d "$ROOT/node_modules/cmake-js" ]; then
  MODE=cmake-js
  log "build: cmake-js (IRO_CUDA=ON)"
  if (cd "$ROOT" && IRO_CUDA=ON node scripts/build-native.mjs) >> "$OUT/build.log" 2>&1; then
    CHECK_BIN=$(ls "$ROOT"/variants/cuda*/build/Release/iro_cuda_check 2>/dev/null | head -1)
    TESTS_BIN="$ROOT/build/Release/iro_native_tests"
  else
    log "cmake-js build failed (see build.log)"; MODE=""
  fi
fi
if [ -z "$MODE" ]; then
  MODE=kernels-only
  # The generated project stays in OUT (small, for the record); the build tree goes outside it so
  # that object files are not shipped back with the results.
  P="$OUT/kernels-project"; B="${TMPDIR:-/tmp}/iro-device-check-kernels-build"
  mkdir -p "$P"
  log "build: kernel-only cmake project (no llama.cpp needed), archs $ARCHS"
  cat > "$P/CMakeLists.txt" <<CMAKE
cmake_minimum_required(VERSION 3.18)
project(iro_kernels_check LANGUAGES CXX CUDA)
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CUDA_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(R "$ROOT")
file(GLOB K "\${R}/native/kernels/*.cpp")
file(GLOB C "\${R}/cuda/*.cu")
file(GLOB CC "\${R}/test/native/cuda/*.cpp" "\${R}/test/native/cuda/*.cu")
add_library(kern STATIC \${K} "\${R}/native/common/threads.cpp")
target_include_directories(kern PUBLIC "\${R}")
target_compile_options(kern PRIVATE -O3 -ffp-contract=off -fno-trapping-math)
find_package(Threads REQUIRED)
target_link_libraries(kern PUBLIC Threads::Threads)
add_library(kcuda STATIC \${C})
target_link_libraries(kcuda PUBLIC kern)
target_compile_definitions(kcuda PUBLIC IRO_WITH_CUDA=1)
target_compile_options(kcuda PRIVATE \$<\$<COMPILE_LANGUAGE:CUDA>:-fmad=false>)
set_target_properties(kcuda PROPERTIES CUDA_RUNTIME_LIBRARY Static)
add_executable(iro_cuda_check \${CC})
target_link_libraries(iro_cuda_check PRIVATE kcuda)
set_target_properties(iro_cuda_check PROPERTIES CUDA_RUNTIME_LIBRARY Static LINKER_LANGUAGE CUDA)
add_executable(iro_native_tests "\${R}/test/native/test_main.cpp" "\${R}/test/native/kernels_test.cpp")
target_link_libraries(iro_native_tests PRIVATE kern)
CMAKE
  if cmake -S "$P" -B "$B" -DCMAKE_BUILD_TYPE=Release "-DCMAKE_CUDA_ARCHITECTURES=$ARCHS" >> "$OUT/build.log" 2>&1 &&
     cmake --build "$B" --parallel "$JOBS" >> "$OUT/build.log" 2>&1; then
    CHECK_BIN="$B/iro_cuda_check"; TESTS_BIN="$B/iro_native_tests"
  else
    log "kernel-only build failed (see build.log)"
    tail -30 "$OUT/build.log"
    printf '{"ok": false, "mode": "%s", "reason": "build failed"}\n' "$MODE" > "$OUT/summary.json"; exit 1
  fi
fi
build_s=$(( $(date +%s) - start ))
log "built in ${build_s}s (mode $MODE)"

run() {  # name, command...: runs, logs, returns the exit status
  local name=$1; shift
  local t0=$(date +%s)
  "$@" > "$OUT/$name.log" 2>&1; local rc=$?
  log "$name: exit $rc in $(( $(date +%s) - t0 ))s"; tail -5 "$OUT/$name.log"
  return $rc
}
run native_tests "$TESTS_BIN"; rc_tests=$?
run cuda_check "$CHECK_BIN"; rc_check=$?
run cuda_bench "$CHECK_BIN" --bench "$OUT/kernels-bench.json"; rc_bench=$?
skipped=false; grep -q '^SKIP' "$OUT/cuda_check.log" && skipped=true
ok=false; [ $rc_tests -eq 0 ] && [ $rc_check -eq 0 ] && [ $rc_bench -eq 0 ] && [ "$skipped" = false ] && ok=true
printf '{"ok": %s, "mode": "%s", "buildSeconds": %d, "nativeTests": %d, "cudaCheck": %d, "cudaBench": %d, "skippedNoDevice": %s}\n' \
  "$ok" "$MODE" "$build_s" "$rc_tests" "$rc_check" "$rc_bench" "$skipped" > "$OUT/summary.json"
cat "$OUT/summary.json"
[ "$ok" = true ]
