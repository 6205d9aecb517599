"""The listed kind (一处失信处处受限): a party of a transaction that is on a list — a
blacklist, a restriction for a violation — on the date of the event, as the list stood then:
an entry counts from its ``from`` date until its ``until`` date or the date of the record
that lifted it (a withdrawal with the entry's key); an entry marked revoked without such a
record counts until the date it was last sent (its DATA_TIMESTAMP)."""

from __future__ import annotations

import datetime as dt
from string import Template

from hub.supervise.pack import Rule
from hub.supervise.parts import Listing
from hub.supervise.reading import Key, Looked, Rec, day_of
from hub.supervise.seen import Seen

REVOKED = ("REVOCATION_STATUS", "1")


def _span(seen: Seen, li: Listing, entry: Rec) -> tuple[dt.date | None, dt.date | None]:
    start = day_of(entry.content.get(li.from_))
    end = day_of(entry.content.get(li.until)) if li.until else None
    if li.lifted is not None:
        lift = seen.records([(li.lifted.dataset, entry.key)]).get((li.lifted.dataset, entry.key))
        if lift is not None:
            end = day_of(lift.content.get(li.lifted.date)) or end
    if end is None and entry.content.get(REVOKED[0]) == REVOKED[1]:
        end = day_of(entry.content.get("DATA_TIMESTAMP"))
    return start, end


def listed(seen: Seen, pack: str, rule: Rule) -> list[Looked]:
    party, li = rule.party, rule.listing
    assert party is not None and li is not None
    entries: dict[str, list[Rec]] = {}
    for r in seen.every(li.dataset).values():
        code = r.content.get(li.field)
        if isinstance(code, str) and code:
            entries.setdefault(code, []).append(r)
    # the parties judged: those touched, and every party a touched entry (or lift) names
    keys: set[Key] = set(seen.scope(party.dataset))
    if seen.touched is not None:
        named = {k[1] for k in seen.scope(li.dataset)}
        if li.lifted:
            named |= {k[1] for k in seen.scope(li.lifted.dataset)}
        codes = {c for c, rs in entries.items() if any(r.key in named for r in rs)}
        if codes:  # (a scan of the party's data set: parties are not indexed yet)
            keys |= {k for k, _, v in seen.columns(party.dataset, None, party.field) if v in codes}
    out: list[Looked] = []
    for _, rec in sorted(seen.records(keys).items()):
        day = day_of(rec.content.get(party.date))
        code = rec.content.get(party.field)
        # judged whole: a finding about an entry this record no longer meets is cleared
        out.append(Looked(rule, pack, rec, rec, None, False, complete=True))
        if day is None or not isinstance(code, str) or not rule.in_force.covers(day):
            continue
        for entry in entries.get(code, []):
            start, end = _span(seen, li, entry)
            broken = start is not None and start <= day and (end is None or day < end)
            looked = Looked(rule, pack, entry, rec, code, broken, event_day=day)
            if broken:
                looked.evidence = {
                    "party": {"dataset": rec.dataset, "key": rec.key, "field": party.field,
                              "value": code, "date": rec.content.get(party.date),
                              "source": rec.source},
                    "listed": {"dataset": entry.dataset, "key": entry.key,
                               "from": entry.content.get(li.from_),
                               "until": f"{end:%Y%m%d}" if end else None,
                               "source": entry.source},
                    "law": rule.law,
                }  # fmt: skip
                looked.message = Template(rule.message).safe_substitute(
                    code=code, party=rec.content.get(party.field), since=f"{start:%Y-%m-%d}",
                    end=f"{day:%Y-%m-%d}", listed=f"{entry.dataset} {entry.key}",
                    end_record=f"{rec.dataset} {rec.key}",
                )  # fmt: skip
            out.append(looked)
    return out
