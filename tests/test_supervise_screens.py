"""The price screens of the bidding pack (hub/supervise/screens.py) at their boundaries, on a
real store: a clean generated batch first (no finding), then a section's bids changed the way
a county would resend them.  The relative distance's chance is checked against simulation."""

from __future__ import annotations

import random
import statistics
from pathlib import Path
from typing import Any

import pytest

from hub.store.engine import Store
from hub.supervise.findings import check
from hub.supervise.pack import load_packs
from hub.supervise.screens import distance, fence, gap
from tests.test_supervise import _batch, _bids, _ingest, _modify, _open

Rec = dict[str, Any]


def _rule(rule_id: str) -> Any:
    return next(r for p in load_packs() for r in p.rule if r.id == rule_id)


def _sections(recs: list[Rec], min_bids: int) -> list[str]:
    codes = sorted({r["record"]["BID_SECTION_CODE"] for r in recs if r["dataset"] == "TENDER_LIST"})
    return [c for c in codes if len(_bids(recs, c)) >= min_bids]


def _clean(store: Store, tmp_path: Path, n: int, min_bids: int) -> tuple[list[Rec], list[Rec]]:
    """A clean night of ``n`` transactions in the store (no finding), and the bids of its
    first section with ``min_bids``, lowest first."""
    recs = _batch(n, seed=21)
    _ingest(store, tmp_path, recs, "night")
    assert check(store).opened == 0
    return recs, sorted(_bids(recs, _sections(recs, min_bids)[0]), key=_price)


def _resend(store: Store, tmp_path: Path, changed: list[Rec], rule: str | None) -> list[Any]:
    """Send the changed bids, judge, and expect exactly ``rule``'s finding (None: none)."""
    _ingest(store, tmp_path, changed, "changed")
    check(store)
    found = _open(store)
    assert [f["rule"] for f in found] == ([rule] if rule else []), found
    return found


def _price(r: Rec) -> float:
    return float(r["record"]["BID_PRICE"])


@pytest.mark.parametrize(("steps", "rule"), [
    ((0, 10_000, 20_000), "BID-PROGRESSION"),
    ((0, 10_000, 20_001), None),
    ((0, 100, 230, 350, 500), "BID-LOW-VARIANCE"),
    ((0, 100, 250, 350), None),  # four bids: too few for the variance screen
])  # fmt: skip
def test_price_screens(
    store: Store, tmp_path: Path, steps: tuple[int, ...], rule: str | None
) -> None:
    recs = _batch(6, seed=21)
    _ingest(store, tmp_path, recs, "night")
    assert check(store).opened == 0
    sections = sorted({r["record"]["BID_SECTION_CODE"] for r in recs
                       if r["dataset"] == "TENDER_LIST"})  # fmt: skip
    section = next(s for s in sections if len(_bids(recs, s)) >= 5)
    bids = _bids(recs, section)
    low = float(bids[0]["record"]["BID_PRICE"])
    changed = [_modify(b, BID_PRICE=f"{low + s:.2f}") for b, s in zip(bids, steps, strict=False)]
    # the section's other bids: as close for the variance screen, else well above
    for i, b in enumerate(bids[len(steps) :]):
        # (well above: unequal steps, or three of them would be a progression of their own)
        far = 700 + 110 * i if rule == "BID-LOW-VARIANCE" else low * 0.05 + 7_777 * i * (i + 1)
        changed.append(_modify(b, BID_PRICE=f"{low + far:.2f}"))
    _ingest(store, tmp_path, changed, "screened")
    check(store)
    found = {f["rule"] for f in _open(store)}
    assert found == ({rule} if rule else set()), found


def test_the_chance_of_a_relative_distance_matches_independent_bids() -> None:
    # the closed form ((n-2)/(n-2+d))^(n-2) against 40,000 sections of independent uniform
    # bids: the share of them at or beyond d
    rng = random.Random(3)
    for n, d in ((4, 2.0), (5, 3.0), (6, 1.5)):
        runs = [sorted(rng.uniform(0.86, 0.99) for _ in range(n)) for _ in range(40_000)]
        share = sum(distance(v)[0] >= d for v in runs) / len(runs)
        expected = ((n - 2) / (n - 2 + d)) ** (n - 2)
        assert abs(share - expected) < 0.01, (n, d, share, expected)
    assert distance([100.0, 200.0, 200.0, 200.0]) == (float("inf"), 0.0)  # losers all equal
    assert distance([100.0, 100.0, 150.0, 190.0]) == (0.0, 1.0)  # two lowest equal: no gap
    d, chance = distance([1000.0, 1300.0, 1310.0, 1320.0, 1330.0])
    assert d == 30.0 and chance == pytest.approx((3 / 33) ** 3)


@pytest.mark.parametrize("fires", [False, True], ids=["at", "beyond"])
def test_cover_bids_at_the_chance_limit(store: Store, tmp_path: Path, fires: bool) -> None:
    rule = _rule("BID-COVER-BIDS")
    _, bids = _clean(store, tmp_path, 6, 5)
    n = len(bids)
    # losers 90, 110, 130 and 70 millionths of the lowest bid apart (never two equal steps:
    # no progression; the lowest a few per cent below: no low variance)
    low = _price(bids[0])
    losers = [o * low / 1e6 for o in (0, 90, 200, 330, 400)[: n - 1]]
    spread = losers[-1] / (n - 2)
    limit = (n - 2) * (rule.max_p ** (-1 / (n - 2)) - 1)  # the distance of chance max_p
    d = limit * (1.001 if fires else 0.999)
    second = low + d * spread
    changed = [
        _modify(b, BID_PRICE=f"{second + o:.2f}") for b, o in zip(bids[1:], losers, strict=True)
    ]
    found = _resend(store, tmp_path, changed, "BID-COVER-BIDS" if fires else None)
    if fires:
        ev = found[0]["evidence"]
        assert ev["chance"] < rule.max_p and len(ev["records"]) == n
        assert "第三十九条" in ev["law"] and f"{n} bids" in found[0]["message"]


def _market(recs: list[Rec], but: str) -> list[float]:
    out = []
    for code in _sections(recs, 3):
        if code != but and (g := gap(sorted(_price(b) for b in _bids(recs, code)))) is not None:
            out.append(g)
    return out


@pytest.mark.parametrize("fires", [False, True], ids=["at", "beyond"])
def test_a_lowest_bid_far_below_the_others_at_the_market_fence(
    store: Store, tmp_path: Path, fires: bool
) -> None:
    rule = _rule("BID-ABNORMALLY-LOW")
    recs, bids = _clean(store, tmp_path, 40, 4)
    section = bids[0]["record"]["BID_SECTION_CODE"]
    market = _market(recs, section)
    assert len(market) + 1 >= rule.min_sections
    # the section's own gap lies above Q3 either way, so the fence does not move with it
    _, _, top = fence([*market, 1.0], rule.fence)
    limit = max(top, rule.min_value)
    want = limit + (0.002 if fires else -0.002)
    low = _price(bids[0])
    shares = [1.0, 1.013, 1.031, 1.04, 1.056][: len(bids) - 1]
    mean = low / (1 - want)
    others = [mean * s / statistics.fmean(shares) for s in shares]
    changed = [_modify(b, BID_PRICE=f"{p:.2f}") for b, p in zip(bids[1:], others, strict=True)]
    found = _resend(store, tmp_path, changed, "BID-ABNORMALLY-LOW" if fires else None)
    if fires:
        ev = found[0]["evidence"]
        assert ev["gap"] > ev["fence"] and ev["sections"] == len(market) + 1
        assert "第二十一条" in ev["law"] and "below the mean of the others" in found[0]["message"]


def test_a_market_too_small_judges_no_outlier(store: Store, tmp_path: Path) -> None:
    recs = _batch(6, seed=21)  # fewer sections than the rule's min_sections
    _ingest(store, tmp_path, recs, "night")
    assert len(_sections(recs, 3)) < _rule("BID-ABNORMALLY-LOW").min_sections
    bids = sorted(_bids(recs, _sections(recs, 3)[0]), key=_price)
    far = [
        _modify(b, BID_PRICE=f"{_price(bids[0]) * 3 + i * 977:.2f}") for i, b in enumerate(bids[1:])
    ]
    _ingest(store, tmp_path, far, "low")
    check(store)
    assert _open(store, "BID-ABNORMALLY-LOW") == []


def test_a_screen_without_its_threshold_names_what_it_lacks(tmp_path: Path) -> None:
    from hub.errors import ConfigError
    from hub.supervise.pack import load_pack

    text = Path("schemas/supervision/bidding.toml").read_text("utf-8")
    for cut, says in (
        ("max_p = 1e-7\n", "the distance screen needs max_p"),
        ("min_sections = 30\n", "the outlier screen needs min_sections"),
    ):
        bad = tmp_path / "bad.toml"
        bad.write_text(text.replace(cut, "", 1), "utf-8")
        with pytest.raises(ConfigError, match=rf"bad.toml: rule BID-\S+: .*{says}"):
            load_pack(bad)


@pytest.mark.parametrize("fires", [False, True], ids=["above", "below"])
def test_low_variance_at_its_coefficient_of_variation(
    store: Store, tmp_path: Path, fires: bool
) -> None:
    rule = _rule("BID-LOW-VARIANCE")
    _, bids = _clean(store, tmp_path, 6, rule.min_count)
    # uneven offsets (no two equal steps: no progression), scaled to a coefficient of
    # variation a thousandth above or below the rule's
    shape = [0.0, 1.0, 3.0, 4.0, 7.0, 11.0][: len(bids)]
    mean, sd = statistics.fmean(shape), statistics.pstdev(shape)
    cv = rule.max_cv * (0.999 if fires else 1.001)
    low = _price(bids[0])
    prices = [low * (1 + cv * (x - mean) / sd) for x in shape]
    changed = [_modify(b, BID_PRICE=f"{p:.2f}") for b, p in zip(bids, prices, strict=True)]
    found = _resend(store, tmp_path, changed, "BID-LOW-VARIANCE" if fires else None)
    if fires:
        assert found[0]["evidence"]["cv"] < rule.max_cv
