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
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from hub.generate.generator import Generator

GOLDEN = Path(__file__).resolve().parent / "golden"

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


def csv_bytes(rows: list[dict[str, str]], encoding: str = "gbk") -> bytes:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\r\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode(encoding)


def write_goldens() -> None:
    recs = transaction_records()
    out = GOLDEN / "qingshan"
    out.mkdir(parents=True, exist_ok=True)
    for name, rows in qingshan_rows(recs).items():
        (out / name).write_bytes(csv_bytes(rows))
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    write_goldens()
