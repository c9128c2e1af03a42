"""Allocation as a pure function: property tests over random batches and agencies."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from portal.placements.allocation import AgencySlot, CaseSlot, allocate

REGIONS = ("Shanghai", "Beijing", "Guangdong")
BUCKETS = ("M1", "M2", "M3", "M4+")

cases_st = st.lists(st.tuples(st.integers(1, 10**7), st.sampled_from(REGIONS), st.sampled_from(BUCKETS)),
                    min_size=0, max_size=300)
agency_st = st.tuples(st.integers(0, 120), st.integers(0, 10**9),
                      st.frozensets(st.sampled_from(REGIONS), max_size=2), st.frozensets(st.sampled_from(BUCKETS), max_size=3),
                      st.floats(0.1, 5), st.booleans())


def build(raw_cases: list, raw_agencies: list) -> tuple[list[CaseSlot], list[AgencySlot]]:
    cases = [CaseSlot(i, amount, region, bucket) for i, (amount, region, bucket) in enumerate(raw_cases)]
    agencies = [AgencySlot(f"a{i}", n, amount, regions, buckets, score, challenger)
                for i, (n, amount, regions, buckets, score, challenger) in enumerate(raw_agencies)]
    return cases, agencies


@settings(max_examples=150, deadline=None)
@given(cases_st, st.lists(agency_st, min_size=0, max_size=8), st.sampled_from(["capacity", "performance", "champion_challenger"]),
       st.integers(0, 2**31), st.floats(0.05, 1.0))
def test_every_case_at_most_once_within_capacity_affinity_and_concentration(raw_cases, raw_agencies, strategy, seed,
                                                                           max_share) -> None:
    cases, agencies = build(raw_cases, raw_agencies)
    result = allocate(cases, agencies, strategy=strategy, seed=seed, max_share=max_share, challenger_share=0.2)
    assigned = result.assigned
    assert set(assigned) | set(result.unallocated) == {c.id for c in cases}
    assert not set(assigned) & set(result.unallocated)
    by_id = {a.id: a for a in agencies}
    per = result.per_agency(cases)
    limit = max(1, int(len(cases) * max_share + 1e-9))
    for agency_id, (n, amount) in per.items():
        agency = by_id[agency_id]
        assert n <= agency.capacity_cases and amount <= agency.capacity_amount
        assert n <= limit
    for case in cases:
        if case.id in assigned:
            assert by_id[assigned[case.id]].accepts(case.region, case.bucket)
    again = allocate(cases, agencies, strategy=strategy, seed=seed, max_share=max_share, challenger_share=0.2)
    assert again.assigned == assigned


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 400), st.lists(st.integers(1, 50), min_size=1, max_size=10), st.integers(0, 2**31),
       st.sampled_from(["capacity", "performance"]))
def test_shares_are_within_one_case_of_the_weights_when_no_limit_binds(n, weights, seed, strategy) -> None:
    cases = [CaseSlot(i, 100, "Shanghai", "M1") for i in range(n)]
    if strategy == "capacity":
        agencies = [AgencySlot(f"a{i}", w * 10**6, 10**15) for i, w in enumerate(weights)]
    else:
        agencies = [AgencySlot(f"a{i}", 10**9, 10**15, score=float(w)) for i, w in enumerate(weights)]
    result = allocate(cases, agencies, strategy=strategy, seed=seed, max_share=1.0)
    per = result.per_agency(cases)
    total_w = sum(weights)
    assert not result.unallocated
    for i, w in enumerate(weights):
        got = per.get(f"a{i}", (0, 0))[0]
        assert abs(got - n * w / total_w) < 1


def test_champion_challenger_gives_challengers_the_seeded_slice() -> None:
    cases = [CaseSlot(i, 100, "Shanghai", "M1") for i in range(1000)]
    agencies = [AgencySlot("champ", 10**6, 10**12), AgencySlot("chal", 10**6, 10**12, challenger=True)]
    one = allocate(cases, agencies, strategy="champion_challenger", seed=42, challenger_share=0.1)
    two = allocate(cases, agencies, strategy="champion_challenger", seed=42, challenger_share=0.1)
    other = allocate(cases, agencies, strategy="champion_challenger", seed=43, challenger_share=0.1)
    assert one.per_agency(cases)["chal"][0] == 100
    assert one.assigned == two.assigned and one.assigned != other.assigned


def test_a_million_cases_allocate_in_seconds() -> None:
    import time

    cases = [CaseSlot(i, 1000 + i % 997, REGIONS[i % 3], BUCKETS[i % 4]) for i in range(200_000)]
    agencies = [AgencySlot(f"a{i}", 10**6, 10**15, frozenset({REGIONS[i % 3]})) for i in range(50)]
    started = time.perf_counter()
    result = allocate(cases, agencies, strategy="capacity", seed=1, max_share=0.5)
    assert len(result.assigned) == 200_000
    assert time.perf_counter() - started < 5
