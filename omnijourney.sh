#!/usr/bin/env bash
# omnijourney build driver. On a fresh Debian machine it installs what is missing, configures, builds
# with all cores and runs.
#
#   ./omnijourney.sh demo              build and run the main example
#   ./omnijourney.sh test [--sanitize] build and run every test (--sanitize: ASan+UBSan build), the
#                                      report's in headless Chromium among them
#   ./omnijourney.sh test --tsan       every test under ThreadSanitizer (clang-14 build), then the
#                                      concurrency test 5 more times
#   ./omnijourney.sh bench [FILTER]    Release build; the Google Benchmark suites (FILTER: only those),
#                                      then the macro table (1M events) and the peers on its identifiers
#                                      (Node.js union-find, DuckDB, PostgreSQL: benchmarks/peers.sh),
#                                      then the analysis at 1M and 10M events, then the NATS
#                                      JetStream cluster (docs/scale-out.md)
#   ./omnijourney.sh fuzz [SECONDS]    clang + libFuzzer (ASan+UBSan): each fuzz target for SECONDS
#                                      (default 60), from its seed corpus in fuzz/corpus/
#   ./omnijourney.sh soak [CYCLES]     the crash soak: CYCLES SIGKILLs (default 1000) during batch
#                                      ingest and erasure on a RocksDB store (docs/hardening.md)
#   ./omnijourney.sh cluster-demo      a 3-server NATS JetStream cluster on 127.0.0.1, 3 workers over 16
#                                      partitions, 20 tenants: throughput and a per-tenant check against
#                                      a single-process run; stops everything it started (by pid)
#   ./omnijourney.sh serve [--customers N] [--port P]
#                                      omnijourney serve on the synthetic population (2,000 customers
#                                      by default) on 127.0.0.1, with demo keys printed (docs/server.md)
#   ./omnijourney.sh build             configure and build only
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(cmake ninja-build g++ pkg-config libabsl-dev libprotobuf-dev protobuf-compiler libfmt-dev
          libgtest-dev libgmock-dev libbenchmark-dev librocksdb-dev libphonenumber-dev
          libsodium-dev libre2-dev libutf8proc-dev rocksdb-tools libnats-dev nats-server curl
          libcpp-httplib-dev nlohmann-json3-dev)

# install_missing [PACKAGE...]: the given packages, or PACKAGES.
install_missing() {
  local want=("$@") missing=()
  [ ${#want[@]} -eq 0 ] && want=("${PACKAGES[@]}")
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "omnijourney: installing ${missing[*]}" >&2
  local sudo=()
  [ "$(id -u)" -ne 0 ] && sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

jobs() { nproc 2>/dev/null || echo 2; }

# The browser tests: Debian's chromium, Node.js (the machine's, else Debian's) and puppeteer-core
# from npm (tests/browser/package-lock.json), installed once.
install_browser_tests() {
  install_missing chromium
  command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || install_missing nodejs npm
  if [ ! -d tests/browser/node_modules ] || [ tests/browser/package-lock.json -nt tests/browser/node_modules ]; then
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
    touch tests/browser/node_modules
  fi
}

# configure_and_build DIR BUILD_TYPE [extra cmake args...]
configure_and_build() {
  local dir=$1 type=$2
  shift 2
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE="$type" "$@" >/dev/null
  cmake --build "$dir" -j "$(jobs)"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  demo)
    install_missing
    configure_and_build build RelWithDebInfo
    ./build/examples/omnijourney_demo --report build/omnijourney-report.html "$@"
    ;;
  test)
    install_missing
    install_browser_tests
    if [ "${1:-}" = "--tsan" ]; then
      # clang: with GCC 12's TSan, code that fills protobuf maps crashes inside Debian's protobuf
      # (docs/hardening.md). A build-tsan left by GCC is configured afresh.
      install_missing clang-14 libclang-rt-14-dev
      if [ -f build-tsan/CMakeCache.txt ] && ! grep -q "CMAKE_CXX_COMPILER:.*clang++-14" build-tsan/CMakeCache.txt; then
        rm -rf build-tsan
      fi
      configure_and_build build-tsan RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 -DOMNIJOURNEY_SANITIZE=thread \
        -DOMNIJOURNEY_BUILD_BENCHMARKS=OFF -DOMNIJOURNEY_BUILD_EXAMPLES=OFF -DOMNIJOURNEY_BUILD_TOOLS=OFF
      export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/sanitizers/tsan.supp"
      ctest --test-dir build-tsan --output-on-failure -j "$(jobs)" --timeout 900
      build-tsan/tests/concurrency_test --gtest_repeat=5 --gtest_brief=1
    elif [ "${1:-}" = "--sanitize" ]; then
      configure_and_build build-asan Debug -DOMNIJOURNEY_SANITIZE=address,undefined \
        -DOMNIJOURNEY_BUILD_BENCHMARKS=OFF
      ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        ctest --test-dir build-asan --output-on-failure -j "$(jobs)" --timeout 900
    else
      configure_and_build build RelWithDebInfo
      ctest --test-dir build --output-on-failure -j "$(jobs)" --timeout 900
    fi
    ;;
  bench)
    install_missing
    configure_and_build build-release Release -DOMNIJOURNEY_BUILD_TESTS=OFF
    for b in build-release/benchmarks/*_benchmark; do
      case "$(basename "$b")" in macro_benchmark | cluster_benchmark | analysis_scale_benchmark) continue ;; esac
      echo "== $b"
      "$b" --benchmark_filter="${1:-.}"
    done
    if [ $# -eq 0 ]; then
      nodes=$(mktemp /tmp/omnijourney_nodes.XXXXXX)
      echo "== build-release/benchmarks/macro_benchmark --events 1000000"
      build-release/benchmarks/macro_benchmark --events 1000000 --nodes-file "$nodes" | tee build-release/macro.txt
      events=$(awk '/^events/ {print $(NF-4)}' build-release/macro.txt)
      engine=$(awk '/^ingest, in memory, batches of 1000, 1 thread/ {print $(NF-3)}' build-release/macro.txt)
      echo "== benchmarks/peers.sh ($events events; the engine's $engine events/s)"
      install_missing postgresql nodejs npm
      benchmarks/peers.sh "$nodes" "$events" "$engine"
      rm -f "$nodes"
      echo "== build-release/benchmarks/analysis_scale_benchmark (docs/analytics.md)"
      build-release/benchmarks/analysis_scale_benchmark
      echo "== build-release/benchmarks/cluster_benchmark (docs/scale-out.md)"
      build-release/benchmarks/cluster_benchmark
    fi
    ;;
  fuzz)
    seconds=${1:-60}
    case "$seconds" in '' | *[!0-9]*) echo "fuzz: SECONDS must be a whole number" >&2; exit 2 ;; esac
    install_missing
    install_missing clang-14 libclang-rt-14-dev
    configure_and_build build-fuzz RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 -DOMNIJOURNEY_FUZZ=ON \
      -DOMNIJOURNEY_SANITIZE=address,undefined -DOMNIJOURNEY_BUILD_TESTS=OFF -DOMNIJOURNEY_BUILD_BENCHMARKS=OFF \
      -DOMNIJOURNEY_BUILD_EXAMPLES=OFF -DOMNIJOURNEY_BUILD_TOOLS=OFF -DOMNIJOURNEY_INSTALL=OFF
    failed=0
    for seeds in fuzz/corpus/*/; do
      name=$(basename "$seeds")
      # New inputs go to build-fuzz/corpus/NAME (kept between runs); the seeds in the repo are read only.
      mkdir -p "build-fuzz/corpus/$name" build-fuzz/artifacts build-fuzz/logs
      log="build-fuzz/logs/$name.log"
      if ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
          "build-fuzz/fuzz/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
          -artifact_prefix="build-fuzz/artifacts/$name-" "build-fuzz/corpus/$name" "$seeds" >"$log" 2>&1; then
        echo "fuzz: $name: ok, $(grep -E '^#[0-9]+.*DONE' "$log" | tail -1 | sed 's/^#\([0-9]*\).*cov: \([0-9]*\).*/\1 runs, coverage \2/')"
      else
        failed=1
        echo "fuzz: $name: FAILED (log: $log; the input: build-fuzz/artifacts/$name-*;" \
             "replay: build/fuzz/${name}_replay FILE)" >&2
        grep -E "check failed|ERROR|SUMMARY" "$log" | head -5 >&2
      fi
    done
    exit $failed
    ;;
  soak)
    cycles=${1:-1000}
    case "$cycles" in '' | *[!0-9]*) echo "soak: CYCLES must be a whole number" >&2; exit 2 ;; esac
    install_missing
    configure_and_build build RelWithDebInfo
    OMNIJOURNEY_SOAK_CYCLES="$cycles" build/tests/crash_soak_test
    ;;
  cluster-demo)
    install_missing
    configure_and_build build RelWithDebInfo
    ./build/examples/omnijourney_cluster_demo --cli build/tools/omnijourney --source-dir "$PWD" "$@"
    ;;
  serve)
    install_missing
    configure_and_build build RelWithDebInfo
    customers=2000 port=8787
    while [ $# -gt 0 ]; do
      case "$1" in
        --customers) customers=$2; shift 2 ;;
        --port) port=$2; shift 2 ;;
        *) echo "serve: unknown option $1" >&2; exit 2 ;;
      esac
    done
    dir=build/serve-demo
    rm -rf "$dir" && mkdir -p "$dir"
    ./build/tools/omnijourney generate --customers "$customers" --seed 1 > "$dir/events.jsonl"
    ./build/tools/omnijourney replay --events "$dir/events.jsonl" --journeys examples/data/journeys.textproto \
      --store "$dir/store" --quiet
    {
      echo "port: $port"
      echo "store: \"store\""
      echo "journeys: \"$PWD/examples/data/journeys.textproto\""
    } > "$dir/serve.textproto"
    echo "demo keys (tenant \"\", the synthetic population's):"
    for scope in write read operator admin; do
      key_out=$(./build/tools/omnijourney key --scopes "$scope" --name "demo $scope")
      echo "  $scope: $(echo "$key_out" | sed -n 's/^key: //p')"
      echo "$key_out" | sed -n '/^keys {/,/^}/p' >> "$dir/serve.textproto"
    done
    example=$(grep -o '"crm_id","value":"[^"]*"' "$dir/events.jsonl" | head -1 | sed 's/.*"value":"//; s/"$//')
    echo "try: curl -H 'Authorization: Bearer READ_KEY' http://127.0.0.1:$port/v1/profiles/crm_id:$example/context"
    exec ./build/tools/omnijourney serve --config "$dir/serve.textproto"
    ;;
  build)
    install_missing
    configure_and_build build RelWithDebInfo
    ;;
  *)
    sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
