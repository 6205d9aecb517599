#!/usr/bin/env bash
# The demo, on SQLite: a city node receives two counties' nightly batches.  It generates
# realistic batches for every data set (one county's with defects), ingests them into the
# store, shows what came in, what was rejected and why, a whole transaction's lifecycle,
# a record's history, that sending the same batch again changes nothing, a county
# sending a signed package that the city answers with a signed per-record receipt, and a
# county system's own GBK CSV export pulled from an inbox through a declarative mapping.
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

echo "== county 闽侯 sends a valid batch (40 transactions in every domain, XML), in which the"
echo "   generator planted what supervision looks for: late deadlines, a bond above 2%, a"
echo "   blacklisted winner, an agency that bids, an expert employed by a bidder, collusion"
$HUB generate --seed 42 -n 40 --format xml -o "$OUT/minhou.xml" --plant 1 \
  --findings "$OUT/planted-findings.json"
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

echo "== county 闽清 signs a batch as a package (SM2 / SM3) and sends it to the city"
COUNTY=12350124MB0000000Q
CITY=$(sed -n 's/^platform_code = "\([^"]*\)".*/\1/p' config/demo.toml)
$HUB keys init "$OUT/keys-county" --platform "$COUNTY" > /dev/null
$HUB keys init "$OUT/keys-city" --platform "$CITY" > /dev/null
cat > "$OUT/county.toml" <<TOML
[node]
platform_code = "$COUNTY"
[store]
data_dir = "county-data"
[signing]
key = "keys-county/node-sm2.TEST-ONLY.key"
cert = "keys-county/node-sm2.pem"
[trust]   # the county checks the city's receipts
anchors = ["keys-city/ca.pem"]
crls = ["keys-city/ca.crl"]
TOML
$HUB generate --seed 11 -n 4 --format jsonl --invalid-rate 0.04 -o "$OUT/minqing.jsonl"
$HUB package build "$OUT/minqing.jsonl" --to "$CITY" --out "$OUT/minqing.zip" \
  --config "$OUT/county.toml"
$HUB package verify "$OUT/minqing.zip"
echo "== the city receives it: verified, ingested, answered with a signed per-record receipt"
$HUB package receive "$OUT/minqing.zip"
echo "== the county checks the city's receipt (and OpenSSL agrees)"
$HUB package receipt "$OUT/minqing.zip.receipt" --config "$OUT/county.toml"
.venv/bin/python -m zipfile -e "$OUT/minqing.zip.receipt" "$OUT/receipt"
openssl cms -verify -binary -inform DER -in "$OUT/receipt/signature.p7s" \
  -content "$OUT/receipt/receipt.json" -CAfile "$OUT/keys-city/ca.pem" -out /dev/null
echo "== a package altered in transit is refused, with a signed refusal, and nothing is stored"
.venv/bin/python - "$OUT/minqing.zip" "$OUT/altered.zip" <<'PY'
import sys
from hub.package import archive
ents = archive.read(open(sys.argv[1], "rb").read(), sys.argv[1])
bad = [(n, b.replace(b"2024", b"2025", 1) if n.startswith("data/") else b) for n, b in ents]
open(sys.argv[2], "wb").write(archive.write(bad))
PY
set +e
$HUB package receive "$OUT/altered.zip"
status=$?
set -e
[ "$status" = 1 ] || { echo "demo: expected exit 1 (package refused), got $status" >&2; exit 1; }

echo "== county 青山 drops its own system's GBK CSV export in an inbox; a mapping reads it"
mkdir -p "$OUT/inbox-qingshan"
cp mappings/samples/qingshan/*.csv "$OUT/inbox-qingshan/"
$HUB mapping check mappings/qingshan-csv.toml
$HUB mapping preview mappings/qingshan-csv.toml --sample "$OUT/inbox-qingshan/BD_20240301.csv" \
  --limit 1
$HUB sync county-qingshan
ls "$OUT/inbox-qingshan/processed"
echo "== a second sync finds nothing new"
$HUB sync county-qingshan

echo "== 闽清 drops tonight's signed package in its inbox; the sync leaves the signed receipt"
mkdir -p "$OUT/inbox-minqing"
$HUB generate --seed 12 -n 3 --format jsonl -o "$OUT/minqing-2.jsonl"
$HUB package build "$OUT/minqing-2.jsonl" --to "$CITY" --out "$OUT/inbox-minqing/minqing-2.zip" \
  --config "$OUT/county.toml" > /dev/null
$HUB sync county-minqing
$HUB package receipt "$OUT/inbox-minqing/receipts/minqing-2.zip.receipt" --config "$OUT/county.toml"

echo "== what the store holds"
$HUB stats

CODE=$(.venv/bin/python -c "import json;print(next(json.loads(l)['record']['PROJECT_CODE'] for l in open('$OUT/lianjiang.jsonl') if json.loads(l)['dataset']=='PROJECT'))")
echo "== the lifecycle of project $CODE, across data sets and libraries"
$HUB lifecycle "$CODE"
echo "== one record: current version, history, provenance"
$HUB show PROJECT "$CODE" | tail -n 8
echo "== supervision: timelines, bonds, credit and collusion screens on what arrived (docs/supervision.md)"
$HUB findings check
$HUB findings --limit 8
.venv/bin/python - "$OUT/planted-findings.json" <<'PY'
import json, sys
planted = json.load(open(sys.argv[1], encoding="utf-8"))
print(f"planted by the generator: {len(planted)} finding(s) of {len({p['rule'] for p in planted})} rules;"
      " `hub findings --rule ID` lists each (rule ids in docs/supervision.md)")
PY
echo "== data quality per county and month: 完整性 合规性 准确性 及时性 修复率"
$HUB quality
echo "== the audit log"
$HUB audit verify
echo "== done: store in $OUT/hub-data/hub.db; try: HUB_CONFIG=$HUB_CONFIG $HUB runs (or rejected, held, quarantine list, audit list)"
