#!/usr/bin/env bash
# The demo, on SQLite: a city node receives two counties' nightly batches.  It generates
# realistic batches for every data set (one county's with defects), ingests them into the
# store, shows what came in, what was rejected and why, a whole transaction's lifecycle,
# a record's history, and that sending the same batch again changes nothing.
# Everything is written under demo-out/ (the store is demo-out/hub-data/hub.db).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
HUB=.venv/bin/hub
OUT=demo-out
export HUB_CONFIG=config/demo.toml
export COLUMNS=${COLUMNS:-150}  # wide tables when the output is not a terminal
unset HUB_DATABASE_URL
rm -rf "$OUT"
mkdir -p "$OUT"

echo "== the dictionary: data sets of spec V2.0 (first rows)"
$HUB dictionary list | head -n 12

echo "== county 闽侯 sends a clean batch (12 transactions in every domain, XML)"
$HUB generate --seed 42 -n 12 --format xml -o "$OUT/minhou.xml"
$HUB validate "$OUT/minhou.xml"
$HUB ingest "$OUT/minhou.xml" --source county-minhou

echo "== county 连江 sends JSONL with 5% realistic defects"
$HUB generate --seed 7 -n 12 --format jsonl --invalid-rate 0.05 -o "$OUT/lianjiang.jsonl" \
  --defects "$OUT/planted.json"
set +e
$HUB ingest "$OUT/lianjiang.jsonl" --source county-lianjiang
status=$?
set -e
[ "$status" = 1 ] || { echo "demo: expected exit 1 (records rejected), got $status" >&2; exit 1; }

echo "== 连江 sends the same file again: no new version (what was stored is a duplicate)"
$HUB ingest "$OUT/lianjiang.jsonl" --source county-lianjiang --format json \
  > "$OUT/resend.json" || true
.venv/bin/python - "$OUT/resend.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print({k: r[k] for k in ("records_in", "accepted", "rejected", "quarantined", "held", "duplicate")})
assert r["accepted"] == 0, "a re-send must not add versions"
PY

echo "== what the store holds"
$HUB stats

CODE=$(.venv/bin/python -c "import json;print(next(json.loads(l)['record']['PROJECT_CODE'] for l in open('$OUT/lianjiang.jsonl') if json.loads(l)['dataset']=='PROJECT'))")
echo "== the lifecycle of project $CODE, across data sets and libraries"
$HUB lifecycle "$CODE"
echo "== one record: current version, history, provenance"
$HUB show PROJECT "$CODE" | tail -n 8
echo "== the audit log"
$HUB audit verify
echo "== done: store in $OUT/hub-data/hub.db; try: HUB_CONFIG=$HUB_CONFIG $HUB quarantine list"
