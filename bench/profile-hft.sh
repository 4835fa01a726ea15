#!/usr/bin/env bash
# Profiles the Gatehouse process while the harness loads one lane, and
# prints the busiest threads' top frames (the lane thread first). This is
# how a missed budget is explained in bench/README-section.md.
#
#   bench/profile-hft.sh                       # hft-latency at 10k orders/s
#   RATES=50000 bench/profile-hft.sh
#   SCENARIO=platform-throughput bench/profile-hft.sh
#   SCENARIO=platform-throughput SYSTEMS=gatehouse-journal-off bench/profile-hft.sh   # the same lane, journal off
#
# Output: $PROFILE_DIR, default /tmp/gatehouse-profile/ (*.cpuprofile, one per thread, loadable in
# Chrome DevTools; run.json; summary.txt). Bounded: one system, one
# measurement window of MEASURE_S seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

SCENARIO="${SCENARIO:-hft-latency}"
RATES="${RATES:-10000}"
# One Gatehouse system: gatehouse (the default config) or a journal variant.
SYSTEMS="${SYSTEMS:-gatehouse}"
MEASURE_S="${MEASURE_S:-5}"
# 100 µs sampling: the default 1 ms misses most of a 20 µs order path.
INTERVAL_US="${INTERVAL_US:-100}"
# Outside the repo: profiles are large and not results to commit.
OUT="${PROFILE_DIR:-${TMPDIR:-/tmp}/gatehouse-profile}"

rm -rf "$OUT"
mkdir -p "$OUT"
npm run build --silent
node dist/bench/run.js --scenario "$SCENARIO" --systems "$SYSTEMS" --rates "$RATES" --measure-s "$MEASURE_S" \
  --gateway-node-args="--cpu-prof --cpu-prof-interval=$INTERVAL_US --cpu-prof-dir=$OUT" \
  --json "$OUT/run.json" | tee "$OUT/table.txt"
node dist/bench/cpu-profile-summary.js --top 20 "$OUT"/*.cpuprofile | tee "$OUT/summary.txt"
