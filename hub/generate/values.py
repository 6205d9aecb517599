"""Building blocks: valid identifiers, names, amounts and dates from a seeded RNG."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta

from hub.validation import identifiers as ids

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰涛明超秀霞平刚"
ORG_WORDS = ["建设", "工程", "路桥", "水利", "市政", "电力", "信息", "环境", "建筑", "设计"]
ORG_KINDS = ["有限公司", "集团有限公司", "股份有限公司", "工程有限公司"]
PLACES = ["榕城", "闽江", "鼓山", "东湖", "南岭", "西溪", "北港", "金山", "青云", "海峡"]
WORKS = [
    "道路改造工程",
    "综合楼建设项目",
    "供水管网工程",
    "学校扩建工程",
    "污水处理厂工程",
    "桥梁维修加固工程",
    "河道整治工程",
    "产业园基础设施项目",
    "医院门诊楼工程",
]
OWNER_KINDS = ["城市建设投资集团有限公司", "建设发展有限公司"]
AGENCY_KINDS = ["招标代理有限公司", "工程咨询有限公司"]


class Values:
    def __init__(self, rng: random.Random, regions: list[str], base: datetime) -> None:
        self.rng = rng
        self.regions = regions
        self.base = base

    def region(self) -> str:
        return self.rng.choice(self.regions)

    def org_code(self) -> str:
        body = "".join(self.rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
        return body + ids.org_code_check_char(body)

    def uscc(self, region: str | None = None) -> str:
        kind = self.rng.choice(["91", "91", "91", "12", "52"])
        return ids.make_uscc(kind + (region or self.region()) + self.org_code())

    def citizen_id(self, region: str | None = None) -> str:
        birth = datetime(1960, 1, 1) + timedelta(days=self.rng.randrange(0, 40 * 365))
        seq = f"{self.rng.randrange(0, 1000):03d}"
        return ids.make_citizen_id((region or self.region()) + birth.strftime("%Y%m%d") + seq)

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(
            self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2)))
        )

    def company(self) -> str:
        return self.rng.choice(PLACES) + self.rng.choice(ORG_WORDS) + self.rng.choice(ORG_KINDS)

    def companies(self, n: int) -> list[str]:
        """``n`` distinct company names."""
        out: list[str] = []
        while len(out) < n:
            if (c := self.company()) not in out:
                out.append(c)
        return out

    def owners(self) -> list[str]:
        """Tenderers: the public companies that own the works of a district."""
        return [p + k for p in PLACES[:5] for k in OWNER_KINDS]

    def agencies(self) -> list[str]:
        return [p + k for p in PLACES[5:] for k in AGENCY_KINDS]

    def work(self) -> str:
        return self.rng.choice(PLACES) + self.rng.choice(WORKS)

    def moment(self, days_after: int = 0) -> datetime:
        return self.base + timedelta(days=days_after, minutes=self.rng.randrange(0, 600))

    def amount(self, int_digits: int, frac_digits: int) -> str:
        hi = min(10 ** min(int_digits, 9) - 1, 500_000_000)
        whole = self.rng.randrange(10_000 if hi > 10_000 else 1, hi + 1)
        if frac_digits:
            return f"{whole}.{self.rng.randrange(0, 100):02d}"[: len(str(whole)) + 1 + frac_digits]
        return str(whole)

    def guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4)).upper()

    def digits(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(n))
