"""Rings across sections (hub/supervise/rings.py): firms winning by turns (BID-ROTATION) and
firms bidding together far more often than chance allows whoever wins (BID-CO-BIDDING),
each at its boundary on a real store, and the chance both are judged by."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from hub.generate.generator import Generator
from hub.store.engine import Store
from hub.supervise.findings import check
from tests.test_supervise import _ingest, _open


@pytest.mark.parametrize(("sections", "fires"), [(7, False), (8, True)])
def test_a_ring_of_four_firms_winning_by_turns(
    store: Store, tmp_path: Path, sections: int, fires: bool
) -> None:
    from hub.generate import plant_market
    from hub.generate.plant import Planter

    g = Generator(seed=31)
    recs = g.batch(24)
    p = Planter(g, recs)
    plant_market.ring(p, members=4, sections=sections)  # the lowest bid goes round the four
    _ingest(store, tmp_path, recs, "night")
    check(store)
    found = _open(store, "BID-ROTATION")
    assert bool(found) == fires, found
    if fires:
        [f] = found
        e = f["evidence"]
        assert e["observed"] == 8 and len(e["firms"]) == 4 and len(set(e["winners"].values())) == 4
        assert e["expected"] < 1 and "第三十九条" in e["law"]
        assert e["chance"] < 0.001 and "other_rings" not in e
        assert {p.key for p in p.planted if p.rule == "BID-ROTATION"} == {f["business_key"]}


def test_rings_that_start_at_one_award_are_one_finding(store: Store, tmp_path: Path) -> None:
    """Five firms bid together in eight sections and two of them win by turns: each set of
    four with both winners is a ring (three), all anchored on the first section's award.
    They are one finding, the further rings in its evidence (before, the second insert of
    the same pair failed the whole check on uq_finding)."""
    from hub.generate import plant_market
    from hub.generate.plant import Planter

    g = Generator(seed=31)
    recs = g.batch(32)  # eight sections of its own for the ring: enough transactions for them
    p = Planter(g, recs)
    plant_market.ring(p, members=5, sections=8, winners=2)
    _ingest(store, tmp_path, recs, "night")
    got = check(store)
    [f] = _open(store, "BID-ROTATION")
    e = f["evidence"]
    rings = [e, *e["other_rings"]]
    assert len(rings) == 3 and got.opened >= 1
    assert len({frozenset(r["firms"]) for r in rings}) == 3
    assert all(len(set(r["winners"].values())) == 2 for r in rings)
    assert {p.key for p in p.planted if p.rule == "BID-ROTATION"} == {f["business_key"]}


@pytest.mark.parametrize(
    ("k", "lam", "expected"),
    [
        (0, 2.0, 1.0),
        (1, 2.0, 1 - math.exp(-2.0)),
        # 1 − Σ_{i<9} e^−λ λ^i / i! for λ = 1.31, computed term by term
        (9, 1.31, 1 - sum(math.exp(-1.31) * 1.31**i / math.factorial(i) for i in range(9))),
        (300, 0.5, 0.0),  # far beyond floating point: no overflow, no error
    ],
)
def test_the_chance_of_a_ring_is_a_poisson_tail(k: int, lam: float, expected: float) -> None:
    from hub.supervise.rings import poisson_tail

    assert poisson_tail(k, lam) == pytest.approx(expected, rel=1e-9, abs=1e-300)


def test_a_set_of_firms_that_chance_explains_is_no_ring() -> None:
    """40 firms over three nights: a set of four in 9 sections where 1.31 were expected is
    rare for one set (about 1e-5) and expected among C(40, 4) = 91,390 sets."""
    from hub.supervise.rings import poisson_tail

    one = poisson_tail(9, 1.31)
    assert 1e-6 < one < 1e-4
    assert min(1.0, math.comb(40, 4) * one) > 0.001  # max_p of BID-ROTATION: not reported


@pytest.mark.parametrize(("sections", "fires"), [(9, False), (10, True)])
def test_four_firms_bidding_together_whoever_wins(
    store: Store, tmp_path: Path, sections: int, fires: bool
) -> None:
    """The same firm wins every section and three others cover for it: no rotation (one
    winner), but a set of four bidding together in 10 sections of a small market."""
    from hub.generate import plant_market
    from hub.generate.plant import Planter

    g = Generator(seed=31)
    recs = g.batch(32)
    p = Planter(g, recs)
    plant_market.ring(p, members=4, sections=sections, winners=1, rule="BID-CO-BIDDING")
    _ingest(store, tmp_path, recs, "night")
    check(store)
    assert _open(store, "BID-ROTATION") == []
    found = _open(store, "BID-CO-BIDDING")
    assert bool(found) == fires, found
    if fires:
        [f] = found
        e = f["evidence"]
        assert e["observed"] == 10 and len(set(e["winners"].values())) == 1
        assert e["chance"] < 0.001 and e["expected"] < 1
        assert f"({10})" in f["message"] and "第三十九条" in e["law"]
        assert {p.key for p in p.planted if p.rule == "BID-CO-BIDDING"} == {f["business_key"]}
