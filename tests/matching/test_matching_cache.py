"""The column caches (provider table, request table) never hand back stale data.

Both are keyed by the objects in the sequence, not by the sequence: a list changed in place (a
provider given new commitments, a request replaced, removed or appended) must give the same tables
and the same answers as a cold start.
"""

from __future__ import annotations

from dataclasses import fields, replace

import numpy as np

from matching import Commitment, Problem, rank_providers, solve, solve_incremental
from matching import candidates as C
from matching.generator import generate, more_requests


def _cold(fn):
    C._table_cache.clear()
    C._rt_cache.clear()
    return fn()


def _same_table(a, b) -> None:
    for f in fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        if isinstance(x, np.ndarray):
            assert np.array_equal(x, y), f.name
        elif f.name not in ("providers", "requests"):
            assert x == y, f.name


def _tables(pr: Problem):
    pt = C.provider_table(pr.providers)
    return pt, C.request_table(pr.requests, pt)


def _check_against_cold(pr: Problem) -> None:
    pt, rt = _tables(pr)
    pt0, rt0 = _cold(lambda: _tables(pr))
    _same_table(pt, pt0)
    _same_table(rt, rt0)


def test_tables_follow_in_place_changes():
    pr = generate("S", seed=3)
    providers, requests = list(pr.providers), list(pr.requests)
    pr = replace(pr, providers=providers, requests=requests)
    _check_against_cold(pr)
    # a provider replaced in the same list: new commitments, another radius
    p = providers[0]
    providers[0] = replace(p, radius_km=p.radius_km + 3, commitments=p.commitments + (
        Commitment(pr.now, pr.now + 24 * 60, p.capacity),))
    _check_against_cold(pr)
    # requests appended (the incremental path), replaced, removed, reordered
    extra = more_requests("S", 3, seed=99)
    requests.extend(extra)
    _check_against_cold(pr)
    requests[1] = replace(requests[1], child_ages=(1, 2, 3), needs=frozenset({"infant"}), language="en")
    _check_against_cold(pr)
    del requests[0]
    _check_against_cold(pr)
    requests.reverse()
    _check_against_cold(pr)
    # an appended request whose id is already there is still refused
    requests.append(requests[0])
    try:
        _tables(pr)
    except ValueError:
        pass
    else:
        raise AssertionError("duplicate request id accepted")


def test_answers_follow_a_provider_filled_in_place():
    pr = generate("S", seed=5)
    providers = list(pr.providers)
    pr = replace(pr, providers=providers)
    plan = solve(pr, time_limit_s=0.5, workers=1)
    rid = next(r for r in plan.assignments)
    first = rank_providers(pr, rid, k=1)[0].provider_id
    # fill that provider all day, in the same list object: it must no longer be offered
    i = next(i for i, p in enumerate(providers) if p.id == first)
    p = providers[i]
    providers[i] = replace(p, commitments=p.commitments + (Commitment(pr.now - 24 * 60, pr.now + 3 * 24 * 60,
                                                                      p.capacity),))
    assert first not in [c.provider_id for c in rank_providers(pr, rid, k=50)]
    assert rank_providers(pr, rid, k=50) == _cold(lambda: rank_providers(pr, rid, k=50))


def test_incremental_matches_a_cold_start_call_by_call():
    pr = generate("S", seed=7)
    plan = solve(pr, time_limit_s=0.5, workers=1)
    requests = list(pr.requests)
    for req in more_requests("S", 6, seed=8):
        requests.append(req)
        problem = replace(pr, requests=requests)
        warm = solve_incremental(problem, req.id, plan)
        cold = _cold(lambda: solve_incremental(problem, req.id, plan))
        assert warm.assignments == cold.assignments
        assert warm.explanations[req.id] == cold.explanations[req.id]
        # an exclusion added afterwards (the offer was declined) is honoured with warm tables
        if req.id in warm.assignments:
            excl = replace(problem, exclude=problem.exclude | {(req.id, warm.assignments[req.id])})
            again = solve_incremental(excl, req.id, plan)
            assert again.assignments.get(req.id) != warm.assignments[req.id]
        plan = warm


def test_local_load_gives_the_same_answers_as_the_full_load():
    """A candidate set built for a few rows carries only nearby load; reasons and explanations agree."""
    from matching.explain import Explainer

    pr = generate("Mc", seed=4)
    plan = solve(pr, time_limit_s=0.5, workers=1)
    given = {r: p for r, p in plan.assignments.items()}
    for k in range(0, len(pr.requests), 37):
        rid = pr.requests[k].id
        load = {r: p for r, p in given.items() if r != rid}
        full = C.build_candidates(pr, max_per_request=None, extra_load=load)
        local = C.build_candidates(pr, max_per_request=None, requests=np.array([k]), extra_load=load)
        assert len(C.provider_table(pr.providers)) > 4 * C.LOCAL_LOAD_ROWS
        sl_f, sl_l = full.pairs_of(k), local.pairs_of(k)
        assert np.array_equal(full.all_pi[sl_f], local.all_pi[sl_l])
        assert np.array_equal(full.all_reason[sl_f], local.all_reason[sl_l])
        assert Explainer(pr, full, load).explain(k) == Explainer(pr, local, load).explain(k)
