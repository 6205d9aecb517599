"""The bidders of a generated section: three to six companies, each bidding once below the
estimate, the lowest winning.  What the supervision screens read (docs/supervision.md): a
clean batch has at least three bids per section, no two equal prices, and a winner whose
name, code and price agree across the bid list, the candidates, the award and the contract.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.generate.generator import Generator

MIN_BIDDERS, MAX_BIDDERS = 3, 6


def estimate(g: Generator) -> str:
    """A section's estimated contract price in 元 (CONTRACT_RECKON_PRICE, PRICE_UNIT 0)."""
    return f"{g.rng.randrange(800_000, 60_000_000)}.00"


def margin(estimates: list[str]) -> dict[str, str]:
    """The tender documents' bid bond: 1.5% of the smallest section's estimate, rounded down
    to a thousand yuan (at most 2%: 条例 Art. 26); the ceiling price: the largest estimate."""
    low = min(float(e) for e in estimates)
    return {
        "MARGIN_AMOUNT": f"{int(low * 0.015) // 1000 * 1000}.00",
        "MARGIN_AMOUNT_UNIT": "0",
        "MARGIN_CURRENCY": "156",
        "MARGIN_PERCENT": "1.5%",
        "CONTROL_PRICE": max(estimates, key=float),
        "CONTROL_PRICE_UNIT": "0",
        "CONTROL_PRICE_CURRENCY": "156",
    }


def _spread(g: Generator, base: float, n: int) -> list[int]:
    while True:
        prices = sorted(g.rng.sample(range(int(base * 0.86), int(base * 0.99)), n))
        mean = sum(prices) / n
        sd = (sum((p - mean) ** 2 for p in prices) / n) ** 0.5
        if sd / mean >= 0.005:
            return prices


def tender(
    g: Generator, sctx: dict[str, str], est: str
) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The winner's context for the records after the bids, and one context per bid."""
    n = g.rng.randint(MIN_BIDDERS, MAX_BIDDERS)
    firms = g.rng.sample(g.companies, n)
    base = float(est)
    # each bid between 86% and 99% of the estimate, in whole yuan, all different, and not
    # bunched: bids within a few thousandths of each other are a screen's red flag
    # (BID-LOW-VARIANCE), and uniform chance gave one in the 8,445 sections of three nights
    prices = _spread(g, base, n)
    bids = []
    for (name, code), price in zip(firms, g.rng.sample(prices, n), strict=True):
        bids.append(
            {
                **sctx,
                "_org_code": code,
                "BIDDER_NAME": name,
                "BIDDER_ORG_CODE": code,
                "BID_PRICE": f"{price}.00",
                "PRICE_UNIT": "0",
                "PRICE_CURRENCY": "156",
                "IS_LOST": "0",  # no bidder is a 失信 party
                # each bid its own project manager (two bidders naming one is collusion)
                "BID_MANAGER": g.v.person(),
                "_person_id": g.v.citizen_id(),
            }
        )
    win = min(bids, key=lambda b: float(b["BID_PRICE"]))
    winner: dict[str, Any] = {
        **sctx,
        "_org_code": win["_org_code"],
        "BIDDER_NAME": win["BIDDER_NAME"],
        "WIN_BIDDER_NAME": win["BIDDER_NAME"],
        "WIN_BIDDER_CODE": win["_org_code"],
        "WIN_CANDIDATE_NAME": win["BIDDER_NAME"],
        "WIN_CANDIDATE_CODE": win["_org_code"],
        "WIN_CANDIDATE_ORDER": "1",
        "BID_PRICE": win["BID_PRICE"],
        "BID_AMOUNT": win["BID_PRICE"],
        "CONTRACT_PRICE": win["BID_PRICE"],
        "PRICE_UNIT": "0",
        "PRICE_UINT": "0",
    }
    return winner, bids
