"""Legacy county data for the mapping and adapter tests, derived from generated records.

Two fictional but typical county systems, the way their exports really look:

- 青山县 (mappings/qingshan-csv.toml): nightly GBK CSV files with Chinese headers, dates as
  ``2024/03/01 18:07:00`` (older rows ``2024-03-01 18:07``), amounts in 万元, 是/否 and words
  for codes, 新增/修改/删除 for the operation;
- 西山县 (mappings/xishan-mariadb.toml): a MariaDB schema with pinyin column names, amounts in
  万元, local code letters, dates as strings in three formats, GBK tables, and an update-time
  column the sql adapter reads incrementally.

The committed golden inputs under tests/golden/ were written by ``python -m tests.legacy``;
the tests read those files, so a change here does not silently change the goldens.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from hub.generate.generator import Generator

GOLDEN = Path(__file__).resolve().parent / "golden"
# a county system's own exports, shipped with the package (`hub init` copies them)
SAMPLES = Path(__file__).resolve().parent.parent / "mappings" / "samples" / "qingshan"

_OP = {"add": "新增", "modify": "修改", "delete": "删除"}
_YN = {"1": "是", "0": "否"}
_MODE = {"1": "公开招标", "2": "邀请招标", "9": "其他"}
_FORM = {"1": "自行招标", "2": "委托招标", "3": "自行集中", "9": "其他"}
_RELATE = {"1": "固定资产", "0": "非固定资产"}


def transaction_records(seed: int = 5, n: int = 3) -> dict[str, list[dict[str, Any]]]:
    """PROJECT, TENDER_PROJECT and SECTION envelopes of ``n`` generated transactions."""
    out: dict[str, list[dict[str, Any]]] = {"PROJECT": [], "TENDER_PROJECT": [], "SECTION": []}
    for env in Generator(seed=seed).batch(n):
        if env["dataset"] in out:
            out[env["dataset"]].append(env)
    return out


def _ts(value: str, i: int) -> str:
    t = datetime.strptime(value, "%Y%m%d%H%M%S")
    # most rows in today's format; every third in the format of the system's first years
    return t.strftime("%Y-%m-%d %H:%M") if i % 3 == 2 else t.strftime("%Y/%m/%d %H:%M:%S")


def _wan(value: str) -> str:
    return format((Decimal(value) / 10000).normalize(), "f")


def qingshan_rows(recs: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, str]]]:
    files: dict[str, list[dict[str, str]]] = {}
    rows = []
    for i, env in enumerate(recs["PROJECT"]):
        r = env["record"]
        rows.append(
            {
                "项目编号": r["PROJECT_CODE"],
                "项目名称": r["PROJECT_NAME"] + ("\u3000" if i == 0 else ""),  # padded, as they are
                "行政区划": r["REGION_CODE"],
                "项目类别": _RELATE[r["RELATE_CODE"]],
                "投资项目代码": r.get("INVEST_PROJECT_CODE", "-"),
                "项目地址": r["ADDRESS"],
                "项目法人": r["LEGAL_PERSON"],
                "行业分类": r["INDUSTRIES_TYPE"],
                "资金来源": r["FUND_SOURCE"],
                "项目规模": r["PROJECT_SCALE"],
                "联系人": r["CONTACTOR"],
                "联系电话": r["CONTACT_INFORMATION"],
                "审批文件": r["APPROVAL_NAME"],
                "审批文号": r.get("APPROVAL_NUMBER", "无"),
                "建立时间": _ts(r["CREATE_TIME"], i),
                "更新时间": _ts(r["DATA_TIMESTAMP"], i),
                "操作": _OP[env["op"]],
            }
        )
    files["XM_20240301.csv"] = rows
    rows = []
    for i, env in enumerate(recs["TENDER_PROJECT"]):
        r = env["record"]
        rows.append(
            {
                "项目编号": r["PROJECT_CODE"],
                "招标项目编号": r["TENDER_PROJECT_CODE"],
                "自编号": r.get("TENDER_SELF_CODE", ""),
                "统一交易标识码": r.get("UNIFIED_DEAL_CODE", ""),
                "依法必须招标": _YN[r["IS_TO_LAW"]],
                "招标项目名称": r["TENDER_PROJECT_NAME"],
                "招标项目类型": r["TENDER_PROJECT_TYPE"],
                "行政区划": r["REGION_CODE"],
                "招标内容": r["TENDER_CONTENT"],
                "招标人": r["TENDERER_NAME"],
                "招标人代码": r["TENDERER_CODE"],
                "联合招标": _YN[r["ISUNION"]],
                "代理机构": r.get("TENDER_AGENCY_NAME", ""),
                "代理机构代码": r["TENDER_AGENCY_CODE"],
                "招标方式": _MODE[r["TENDER_MODE"]],
                "组织形式": _FORM[r["TENDER_ORGANIZE_FORM"]],
                "建立时间": _ts(r["CREATE_TIME"], i),
                "监督部门": r["SUPERVISE_DEPT_NAME"],
                "监督部门代码": r.get("SUPERVISE_DEPT_CODE", ""),
                "审核部门": r["APPROVE_DEPT_NAME"],
                "审核部门代码": r.get("APPROVE_DEPT_CODE", ""),
                "申报责任人": r["REPORT_DUTY"],
                "更新时间": _ts(r["DATA_TIMESTAMP"], i),
                "操作": _OP[env["op"]],
            }
        )
    files["ZBXM_20240301.csv"] = rows
    rows = []
    for i, env in enumerate(recs["SECTION"]):
        r = env["record"]
        begin = r.get("BEGIN_DATE", "")
        rows.append(
            {
                "招标项目编号": r["TENDER_PROJECT_CODE"],
                "标段编号": r["BID_SECTION_CODE"],
                "标段名称": r["BID_SECTION_NAME"],
                "标段序号": r["BID_ECTION_NUM"],
                "统一交易标识码": r["UNIFIED_DEAL_CODE"],
                "招标方式": _MODE[r["BID_TENDER_MODE"]],
                "行政区划": r["REGION_CODE"],
                "交易地点": r["TRA_PLACE_CODE"],
                "标段内容": r["BID_SECTION_CONTENT"],
                "标段分类": "，".join(r["TENDER_PROJECT_CLASSIFY_CODE"].split(";")),
                "估算价(万元)": _wan(r["CONTRACT_RECKON_PRICE"]),
                "资格条件": r["BID_QUALIFICATION"],
                "计划开工": f"{begin[:4]}/{begin[4:6]}/{begin[6:]}" if begin else "",
                "工期(天)": r.get("LIMITE_TIME", ""),
                "建立时间": _ts(r["CREATE_TIME"], i),
                "更新时间": _ts(r["DATA_TIMESTAMP"], i),
                "操作": _OP[env["op"]],
            }
        )
    files["BD_20240301.csv"] = rows
    return files


# -- 西山县: a MariaDB schema -------------------------------------------------------------
XISHAN_DDL = [
    """CREATE TABLE t_xiangmu (
        id INT AUTO_INCREMENT PRIMARY KEY,
        xmbh VARCHAR(17) NOT NULL, xmmc VARCHAR(600), qhdm CHAR(6), xmlb CHAR(1),
        tzdm VARCHAR(24) NULL, xmdz VARCHAR(200), xmfr VARCHAR(200), hydm CHAR(3),
        zjly TEXT, xmgm TEXT, lxr VARCHAR(100), lxfs VARCHAR(100), spwj VARCHAR(500),
        spwh VARCHAR(100) NULL, cjsj VARCHAR(20), gxsj DATETIME NOT NULL,
        scbz TINYINT NOT NULL DEFAULT 0,
        KEY ix_gxsj (gxsj, id)
    ) DEFAULT CHARSET=gbk""",
    """CREATE TABLE t_zbxm (
        id INT AUTO_INCREMENT PRIMARY KEY,
        xmbh VARCHAR(17), zbxmbh VARCHAR(20) NOT NULL, zbh VARCHAR(200), jydm VARCHAR(40),
        yfbx CHAR(1), zbxmmc VARCHAR(600), zbxmlx CHAR(3), qhdm CHAR(6), zbnr TEXT,
        zbrmc VARCHAR(2000), zbrdm VARCHAR(2000), lhzb CHAR(1), dljgmc VARCHAR(200),
        dljgdm VARCHAR(18), zbfs VARCHAR(2), zzxs VARCHAR(2), cjsj VARCHAR(20),
        jdbm VARCHAR(200), jdbmdm VARCHAR(18), shbm VARCHAR(200), shbmdm VARCHAR(18),
        sbzrr VARCHAR(100), gxsj DATETIME NOT NULL, scbz TINYINT NOT NULL DEFAULT 0,
        KEY ix_gxsj (gxsj, id)
    ) DEFAULT CHARSET=gbk""",
    """CREATE TABLE t_biaoduan (
        id INT AUTO_INCREMENT PRIMARY KEY,
        zbxmbh VARCHAR(20), bdbh VARCHAR(23) NOT NULL, bdmc VARCHAR(500), bdxh INT,
        jydm VARCHAR(40), zbfs VARCHAR(2), qhdm CHAR(6), jydd CHAR(6), bdnr TEXT,
        bdfl VARCHAR(60), gsj DECIMAL(20,6), zgtj TEXT, kgrq VARCHAR(10) NULL, gq INT NULL,
        cjsj VARCHAR(20), gxsj DATETIME NOT NULL, scbz TINYINT NOT NULL DEFAULT 0,
        KEY ix_gxsj (gxsj, id)
    ) DEFAULT CHARSET=gbk""",
]
_XMLB = {"1": "G", "0": "F"}
_YN_LETTER = {"1": "Y", "0": "N"}
_MODE_LETTER = {"1": "GK", "2": "YQ", "9": "QT"}
_FORM_LETTER = {"1": "ZX", "2": "WT", "3": "JZ", "9": "QT"}


def _legacy_time(value: str, i: int) -> str:
    t = datetime.strptime(value, "%Y%m%d%H%M%S")
    # three generations of the system wrote three formats
    return [
        t.strftime("%Y-%m-%d %H:%M:%S"),
        f"{t.year}/{t.month}/{t.day} {t:%H:%M}",
        t.strftime("%Y%m%d%H%M%S"),
    ][i % 3]


def _legacy_date(value: str, i: int) -> str:
    t = datetime.strptime(value, "%Y%m%d")
    return [t.strftime("%Y-%m-%d"), f"{t.year}/{t.month}/{t.day}", value][i % 3]


def _gxsj(value: str) -> datetime:
    return datetime.strptime(value, "%Y%m%d%H%M%S")


def xishan_rows(recs: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """Rows for the three tables; their gxsj (update time) is the record's DATA_TIMESTAMP,
    except that every row of a table shares one time with its neighbour, as batch jobs do."""
    out: dict[str, list[dict[str, Any]]] = {}
    rows = []
    for i, env in enumerate(recs["PROJECT"]):
        r = env["record"]
        rows.append(
            {
                "xmbh": r["PROJECT_CODE"],
                "xmmc": r["PROJECT_NAME"],
                "qhdm": r["REGION_CODE"],
                "xmlb": _XMLB[r["RELATE_CODE"]],
                "tzdm": r.get("INVEST_PROJECT_CODE"),
                "xmdz": r["ADDRESS"],
                "xmfr": r["LEGAL_PERSON"],
                "hydm": r["INDUSTRIES_TYPE"],
                "zjly": r["FUND_SOURCE"],
                "xmgm": r["PROJECT_SCALE"],
                "lxr": r["CONTACTOR"],
                "lxfs": r["CONTACT_INFORMATION"],
                "spwj": r["APPROVAL_NAME"],
                "spwh": r.get("APPROVAL_NUMBER"),
                "cjsj": _legacy_time(r["CREATE_TIME"], i),
                "gxsj": _gxsj(r["DATA_TIMESTAMP"]),
                "scbz": 0,
            }
        )
    out["t_xiangmu"] = rows
    rows = []
    for i, env in enumerate(recs["TENDER_PROJECT"]):
        r = env["record"]
        rows.append(
            {
                "xmbh": r["PROJECT_CODE"],
                "zbxmbh": r["TENDER_PROJECT_CODE"],
                "zbh": r.get("TENDER_SELF_CODE"),
                "jydm": r.get("UNIFIED_DEAL_CODE"),
                "yfbx": _YN_LETTER[r["IS_TO_LAW"]],
                "zbxmmc": r["TENDER_PROJECT_NAME"],
                "zbxmlx": r["TENDER_PROJECT_TYPE"],
                "qhdm": r["REGION_CODE"],
                "zbnr": r["TENDER_CONTENT"],
                "zbrmc": r["TENDERER_NAME"],
                "zbrdm": r["TENDERER_CODE"],
                "lhzb": _YN_LETTER[r["ISUNION"]],
                "dljgmc": r.get("TENDER_AGENCY_NAME"),
                "dljgdm": r["TENDER_AGENCY_CODE"],
                "zbfs": _MODE_LETTER[r["TENDER_MODE"]],
                "zzxs": _FORM_LETTER[r["TENDER_ORGANIZE_FORM"]],
                "cjsj": _legacy_time(r["CREATE_TIME"], i),
                "jdbm": r["SUPERVISE_DEPT_NAME"],
                "jdbmdm": r.get("SUPERVISE_DEPT_CODE"),
                "shbm": r["APPROVE_DEPT_NAME"],
                "shbmdm": r.get("APPROVE_DEPT_CODE"),
                "sbzrr": r["REPORT_DUTY"],
                "gxsj": _gxsj(r["DATA_TIMESTAMP"]),
                "scbz": 0,
            }
        )
    out["t_zbxm"] = rows
    rows = []
    for i, env in enumerate(recs["SECTION"]):
        r = env["record"]
        rows.append(
            {
                "zbxmbh": r["TENDER_PROJECT_CODE"],
                "bdbh": r["BID_SECTION_CODE"],
                "bdmc": r["BID_SECTION_NAME"],
                "bdxh": int(r["BID_ECTION_NUM"]),
                "jydm": r["UNIFIED_DEAL_CODE"],
                "zbfs": _MODE_LETTER[r["BID_TENDER_MODE"]],
                "qhdm": r["REGION_CODE"],
                "jydd": r["TRA_PLACE_CODE"],
                "bdnr": r["BID_SECTION_CONTENT"],
                "bdfl": "、".join(r["TENDER_PROJECT_CLASSIFY_CODE"].split(";")),
                "gsj": (Decimal(r["CONTRACT_RECKON_PRICE"]) / 10000).quantize(Decimal("1e-6")),
                "zgtj": r["BID_QUALIFICATION"],
                "kgrq": _legacy_date(r["BEGIN_DATE"], i) if r.get("BEGIN_DATE") else None,
                "gq": int(r["LIMITE_TIME"]) if r.get("LIMITE_TIME") else None,
                "cjsj": _legacy_time(r["CREATE_TIME"], i),
                "gxsj": _gxsj(r["DATA_TIMESTAMP"]),
                "scbz": 0,
            }
        )
    out["t_biaoduan"] = rows
    for table_rows in out.values():  # neighbours share an update time (the tie-break case)
        for a, b in zip(table_rows[::2], table_rows[1::2], strict=False):
            b["gxsj"] = a["gxsj"]
    return out


def xishan_jsonl(rows: list[dict[str, Any]]) -> bytes:
    """Rows the way the sql adapter stores a pull (what the mapping reads)."""
    import orjson

    from adapters.sql import json_value

    return b"".join(
        orjson.dumps({"id": i, **{k: json_value(v, "gbk") for k, v in r.items()}}) + b"\n"
        for i, r in enumerate(rows, start=1)
    )


def golden_check(path: Path, actual: str) -> None:
    """Compare with a committed golden file; HUB_UPDATE_GOLDEN=1 rewrites it (then review
    the diff).  A missing golden file is written and the test fails, so it gets committed."""
    import os

    import pytest

    if os.environ.get("HUB_UPDATE_GOLDEN") == "1" or not path.exists():
        existed = path.exists()
        path.write_text(actual, "utf-8")
        if not existed:
            pytest.fail(f"{path} did not exist; written now: review and commit it")
    assert actual == path.read_text("utf-8"), f"differs from the golden file {path}"


def with_dotted_update_time(line: str) -> tuple[str, str]:
    """A 青山 CSV line whose 更新时间 (its last date-time) the system now writes with dots,
    2024.03.03 16:34:00, which the shipped mapping does not read; and that value."""
    m = list(re.finditer(r"(\d{4})/(\d\d)/(\d\d) (\d\d:\d\d:\d\d)", line))[-1]
    dotted = f"{m[1]}.{m[2]}.{m[3]} {m[4]}"
    return line[: m.start()] + dotted + line[m.end() :], dotted


def csv_bytes(rows: list[dict[str, str]], encoding: str = "gbk") -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode(encoding)


def write_goldens() -> None:
    recs = transaction_records()
    SAMPLES.mkdir(parents=True, exist_ok=True)
    for name, rows in qingshan_rows(recs).items():
        (SAMPLES / name).write_bytes(csv_bytes(rows))
    out = GOLDEN / "xishan"
    out.mkdir(parents=True, exist_ok=True)
    for table, rows in xishan_rows(recs).items():
        (out / f"{table}.jsonl").write_bytes(xishan_jsonl(rows))
    print(f"wrote {GOLDEN}", file=sys.stderr)


if __name__ == "__main__":
    write_goldens()
