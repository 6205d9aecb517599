#!/usr/bin/env bash
# The demo: generate a realistic batch for every data set of the national specification,
# plant defects in some records, and validate it (XML and JSONL).  Output goes to demo-out/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
HUB=.venv/bin/hub
OUT=demo-out
mkdir -p "$OUT"

echo "== the dictionary: data sets of spec V2.0 (first rows)"
$HUB dictionary list | head -n 16
echo "== a clean batch: 20 transactions in every domain, as XML"
$HUB generate --seed 42 -n 20 --format xml -o "$OUT/clean.xml"
$HUB validate "$OUT/clean.xml"
echo "== the same with 5% realistic defects, as JSONL"
$HUB generate --seed 42 -n 20 --format jsonl --invalid-rate 0.05 -o "$OUT/county.jsonl" \
  --defects "$OUT/planted.json"
set +e
$HUB validate "$OUT/county.jsonl" --max-rows 25
status=$?
set -e
[ "$status" = 1 ] || { echo "demo: expected exit 1 (issues found), got $status" >&2; exit 1; }
$HUB validate "$OUT/county.jsonl" --format json > "$OUT/issues.json" || true
echo "== issues as JSON: $OUT/issues.json; planted defects: $OUT/planted.json"
