"""Validation throughput: the hub's full validation against bare-library baselines.

Baselines, in the same run on the same files: (XML) lxml parse + XMLSchema.validate of the
batch XSD, nothing else; (JSONL) orjson per line + the compiled jsonschema-rs validator of
the record's data set.  The hub: Validator.validate_file (hardened decode, schema, rules,
issues).  Prints records/s and the ratio hub / baseline; the last line is the hub validating the
JSONL file on several processes (``--workers``), next to the same one-process baseline.

    .venv/bin/python bench/validate.py --records 100000
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import jsonschema_rs
import orjson
from lxml import etree

from hub.dictionary.paths import generated_dir
from hub.generate.batch import write_batch
from hub.generate.generator import Generator
from hub.validation.decode import xml_parser
from hub.validation.files import validate_file
from hub.validation.limits import MB, Limits
from hub.validation.validator import Validator


def make_batch(n: int, seed: int) -> list[dict[str, object]]:
    gen, out = Generator(seed=seed), []
    while len(out) < n:
        out += gen.batch(10)
    return out[:n]


def best(fn: Callable[[], None], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    records = make_batch(args.records, args.seed)
    tmp = Path(tempfile.mkdtemp(prefix="bench-validate-"))
    xml, jsonl = tmp / "b.xml", tmp / "b.jsonl"
    write_batch(records, xml, "xml")
    write_batch(records, jsonl, "jsonl")
    xsd = etree.XMLSchema(etree.parse(str(generated_dir() / "xsd" / "batch.xsd")))
    jdir = generated_dir() / "json"
    validators = {
        p.name.split(".")[0]: jsonschema_rs.validator_for(json.loads(p.read_text()))
        for p in jdir.glob("*.schema.json")
        if p.name not in ("batch.schema.json", "record.schema.json")
    }
    # 100k XML records are ~130 MB: one file over the node's 50 MB default input limit
    hub = Validator(limits=Limits(max_input_bytes=1024 * MB))
    workers = min(os.cpu_count() or 1, 4)
    hub_n = Validator(limits=Limits(max_input_bytes=1024 * MB), workers=workers)

    def bare_xml() -> None:
        tree = etree.fromstring(xml.read_bytes(), xml_parser())
        assert xsd.validate(tree)

    def bare_jsonl() -> None:
        for line in jsonl.read_bytes().splitlines():
            r = orjson.loads(line)
            assert validators[r["dataset"]].is_valid(r["record"])

    def hub_file(path: Path, v: Validator = hub) -> None:
        rep = validate_file(v, path)
        assert rep.records == len(records) and not rep.issues

    hub_file(xml)  # warm caches (compiled rules, schemas) once, as a running node has them
    rows = []
    cases: list[tuple[str, Callable[[], None], Callable[[], None]]] = [
        ("XML", bare_xml, lambda: hub_file(xml)),
        ("JSONL", bare_jsonl, lambda: hub_file(jsonl)),
    ]
    if workers > 1:
        cases.append((f"JSONL x{workers}", bare_jsonl, lambda: hub_file(jsonl, hub_n)))
    for fmt, bare, mine in cases:
        tb, th = best(bare, args.repeat), best(mine, args.repeat)
        rows.append((fmt, len(records) / tb, len(records) / th))
    print(f"{len(records)} generated records, all 104 data sets, best of {args.repeat}")
    print(f"{'format':<10}{'baseline rec/s':>16}{'hub rec/s':>12}{'hub/baseline':>14}")
    for fmt, b, h in rows:
        print(f"{fmt:<10}{b:>16,.0f}{h:>12,.0f}{h / b:>14.2f}")
    print("baseline XML = lxml parse + XMLSchema; JSONL = orjson + jsonschema-rs per record,")
    print("both in one process.  XML and JSONL: the hub in one process too.")
    if workers > 1:
        print(f"JSONL x{workers}: hub validate --workers {workers} (one file, {workers} processes)")


if __name__ == "__main__":
    main()
