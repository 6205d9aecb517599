#!/usr/bin/env bash
# The demo, on SQLite: `hub demo` runs a county → province cascade on this machine (three
# nodes on loopback: a province and two counties, each with its own folder, store, TEST keys
# and trust), then a few commands look at what each node holds.  Everything is written
# under demo-out/ (each node's node.toml, store and raw batches).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
HUB=.venv/bin/hub
OUT=demo-out
export COLUMNS=${COLUMNS:-150}  # wide tables when the output is not a terminal
unset HUB_CONFIG HUB_DATABASE_URL
rm -rf "$OUT"   # an older demo's folder (hub demo clears only the folders it wrote)

$HUB demo --out "$OUT"

PROVINCE="--config $OUT/province/node.toml"
MINHOU="--config $OUT/county-minhou/node.toml"
echo
echo "== 闽侯's forwarding target: packages, runs waiting, the province's verdicts"
$HUB forward $MINHOU
echo "== why 闽侯 did not take some records: rule, field and value"
$HUB rejected --limit 5 $MINHOU
echo "== what the province holds, per library and source"
$HUB stats $PROVINCE
echo "== supervision at the province: timelines, bonds, credit, collusion (docs/supervision.md)"
$HUB findings --limit 8 $PROVINCE
echo "== data quality at the province, per county source and month"
$HUB quality $PROVINCE
echo "== the province's audit log"
$HUB audit verify $PROVINCE
