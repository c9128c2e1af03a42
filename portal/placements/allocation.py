"""Allocation strategies: which agency gets which case of a batch. Pure functions of plain
values (no database), so they are fast, property-tested and reproducible.

How a batch is split:
1. Each case may go only to agencies whose contract covers its region and bucket
   (affinity as a hard rule; an empty list in the contract means "any").
2. Cases with the same set of possible agencies form a group; each group is shared by
   the agencies' weights with the largest-remainder method, so every agency's count is
   within one case of its exact share when no limit binds.
3. Limits: the contract's remaining case and amount capacity, and the concentration
   limit (no agency above ``max_share`` of the batch). What a capped agency cannot take
   goes to the others; what nobody can take stays unallocated (in-house).
4. Champion/challenger: a random slice (``challenger_share``) of the batch, drawn with
   the recorded seed, is split equally among the challengers; the rest among champions.
"""

from __future__ import annotations

import math
import random
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

STRATEGIES = ("capacity", "performance", "champion_challenger")


class CaseSlot(NamedTuple):
    # A tuple, not a dataclass: a million of them are built per batch.
    id: Hashable
    amount_cents: int
    region: str
    bucket: str


@dataclass
class AgencySlot:
    id: Hashable
    capacity_cases: int  # remaining: contract max minus current active
    capacity_amount: int
    regions: frozenset[str] = frozenset()  # empty: any region
    buckets: frozenset[str] = frozenset()  # empty: any bucket
    score: float = 1.0  # performance (latest scorecard), 1.0 when unknown
    challenger: bool = False

    def accepts(self, region: str, bucket: str) -> bool:
        return (not self.regions or region in self.regions) and (not self.buckets or bucket in self.buckets)


@dataclass
class Allocation:
    assigned: dict[Hashable, Hashable] = field(default_factory=dict)  # case id -> agency id
    unallocated: list[Hashable] = field(default_factory=list)
    seed: int = 0
    strategy: str = "capacity"

    def per_agency(self, cases: Sequence[CaseSlot]) -> dict[Hashable, tuple[int, int]]:
        amounts = {c.id: c.amount_cents for c in cases}
        out: dict[Hashable, list[int]] = {}
        for case_id, agency_id in self.assigned.items():
            slot = out.setdefault(agency_id, [0, 0])
            slot[0] += 1
            slot[1] += amounts[case_id]
        return {k: (v[0], v[1]) for k, v in out.items()}


def weights_for(strategy: str, agencies: Sequence[AgencySlot]) -> dict[Hashable, float]:
    if strategy == "performance":
        return {a.id: max(a.score, 0.0) for a in agencies}
    # capacity-weighted (also the champions' rule in champion/challenger)
    return {a.id: float(max(a.capacity_cases, 0)) for a in agencies}


def largest_remainder(total: int, weights: dict[Hashable, float], caps: dict[Hashable, int],
                      order: Sequence[Hashable]) -> dict[Hashable, int]:
    """Share ``total`` by ``weights`` in whole cases (Hamilton's method), no one above its
    cap; what a capped agency cannot take is shared again among the rest."""
    quotas = {k: 0 for k in order}
    open_ = [k for k in order if caps.get(k, 0) > 0 and weights.get(k, 0) > 0]
    remaining = total
    while remaining > 0 and open_:
        w_sum = sum(weights[k] for k in open_)
        exact = {k: remaining * weights[k] / w_sum for k in open_}
        give = {k: min(math.floor(exact[k]), caps[k] - quotas[k]) for k in open_}
        left = remaining - sum(give.values())
        # Remainders: biggest fractional part first; ties by the fixed order (reproducible).
        for k in sorted(open_, key=lambda k: (-(exact[k] - math.floor(exact[k])), order.index(k))):
            if left <= 0:
                break
            if give[k] < caps[k] - quotas[k]:
                give[k] += 1
                left -= 1
        for k in open_:
            quotas[k] += give[k]
        remaining = total - sum(quotas.values())
        open_ = [k for k in open_ if quotas[k] < caps[k]]
        if left == remaining and all(give[k] == 0 for k in give):
            break
    return quotas


def allocate(cases: Sequence[CaseSlot], agencies: Sequence[AgencySlot], *, strategy: str = "capacity",
             seed: int = 0, max_share: float = 1.0, challenger_share: float = 0.0) -> Allocation:
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}")
    rng = random.Random(seed)
    result = Allocation(seed=seed, strategy=strategy)
    agencies = [a for a in agencies if a.capacity_cases > 0 and a.capacity_amount > 0]
    if not cases:
        return result
    if not agencies:
        result.unallocated = [c.id for c in cases]
        return result
    # Concentration: no single agency above max_share of the batch (at least one case).
    concentration = max(1, math.floor(len(cases) * max_share + 1e-9))
    room_cases = {a.id: min(a.capacity_cases, concentration) for a in agencies}
    room_amount = {a.id: a.capacity_amount for a in agencies}
    if strategy == "champion_challenger" and any(a.challenger for a in agencies):
        challengers = [a for a in agencies if a.challenger]
        champions = [a for a in agencies if not a.challenger]
        picked = set(rng.sample(range(len(cases)), k=round(len(cases) * challenger_share)))
        slice_c = [c for i, c in enumerate(cases) if i in picked]
        slice_rest = [c for i, c in enumerate(cases) if i not in picked]
        _allocate_groups(slice_c, challengers, {a.id: 1.0 for a in challengers}, room_cases, room_amount, rng, result)
        _allocate_groups(slice_rest, champions or challengers, weights_for("capacity", champions or challengers),
                         room_cases, room_amount, rng, result)
    else:
        _allocate_groups(cases, agencies, weights_for(strategy, agencies), room_cases, room_amount, rng, result)
    return result


def _allocate_groups(cases: Sequence[CaseSlot], agencies: Sequence[AgencySlot], weights: dict[Hashable, float],
                     room_cases: dict[Hashable, int], room_amount: dict[Hashable, int], rng: random.Random,
                     result: Allocation) -> None:
    order = [a.id for a in agencies]
    # Group cases by who may take them. The affinity test runs once per (region, bucket);
    # keys with the same set of possible agencies share one list, filled in input order
    # (the order the seed's shuffle is applied against: reproducible).
    keys = {(c.region, c.bucket) for c in cases}
    groups: dict[tuple[Hashable, ...], list[CaseSlot]] = {}
    list_of: dict[tuple[str, str], list[CaseSlot]] = {}
    for region, bucket in sorted(keys):
        eligible = tuple(a.id for a in agencies if a.accepts(region, bucket))
        list_of[(region, bucket)] = groups.setdefault(eligible, [])
    for case in cases:
        list_of[(case.region, case.bucket)].append(case)
    # Narrow groups first: a case only one agency may take should not lose its place to
    # a case that could have gone anywhere.
    for eligible, members in sorted(groups.items(), key=lambda kv: (len(kv[0]), order.index(kv[0][0]) if kv[0] else -1)):
        if not eligible:
            result.unallocated.extend(c.id for c in members)
            continue
        quotas = largest_remainder(len(members), {k: weights[k] for k in eligible},
                                   {k: room_cases[k] for k in eligible}, list(eligible))
        slots = [k for k in eligible for _ in range(quotas[k])]
        rng.shuffle(slots)  # interleave, so no agency gets only the first (or oldest) cases
        overflow: list[CaseSlot] = []
        for i, case in enumerate(members):
            agency = slots[i] if i < len(slots) else None
            if agency is not None and room_amount[agency] >= case.amount_cents and room_cases[agency] > 0:
                result.assigned[case.id] = agency
                room_cases[agency] -= 1
                room_amount[agency] -= case.amount_cents
            else:
                overflow.append(case)
        for case in overflow:  # amount limits bit: first agency (by room left) that can take it
            best = None
            for k in eligible:
                if room_cases[k] > 0 and room_amount[k] >= case.amount_cents and (
                        best is None or room_amount[k] > room_amount[best]):
                    best = k
            if best is None:
                result.unallocated.append(case.id)
            else:
                result.assigned[case.id] = best
                room_cases[best] -= 1
                room_amount[best] -= case.amount_cents
