"""Surge days (issue 23): the solver on contended instances of matching/surge.py against the exact
MILP (HiGHS), and the path large parts take (LP relaxation, then LNS) against brute force.

Wall time is never asserted: the checks that depend on how far the search gets run in reproducible
mode (a deterministic time limit), so they give the same plan on a loaded machine as on a quiet one.
"""

from __future__ import annotations

import pytest
from matching_checker import check
from matching_strategies import random_problem
from test_matching_optimality import brute_force, units

import os
import threading

import numpy as np

from matching.candidates import build_candidates
from matching.generator import NOW, at
from matching.moves import Moves
from matching.submodel import PartIndex
from matching.types import Interval, Location, Problem, Provider, Request
from matching import cpsat, greedy_call_order, greedy_most_constrained, lns, solve
from matching.reference import exact_reference
from matching.surge import SURGE_SIZES, generate_surge

CASES = [("S100", 1), ("S100", 2), ("S200", 1), ("S200", 2)]


@pytest.fixture(scope="module")
def optimum():
    """The exact reference per case (HiGHS, every feasible pair, levels 1 and 2)."""
    out = {}
    for size, seed in CASES:
        ref = exact_reference(generate_surge(size, seed=seed), time_limit_s=120)
        assert ref.status == "optimal"
        out[(size, seed)] = ref
    return out


@pytest.fixture
def through_lns(monkeypatch):
    """Every part with a pair goes the large-part way (LP, restricted neighbourhoods, LNS)."""
    monkeypatch.setattr(cpsat, "LNS_MIN_PAIRS", 1)
    monkeypatch.setattr(cpsat, "LNS_KM_PAIRS", 1)


@pytest.fixture
def chains_only(monkeypatch, through_lns):
    """The large-part way with neither the LP nor a neighbourhood: the start and its ejection chains."""

    class NoLP:
        def __init__(self, ix, _seconds):
            self.ix, self.done = ix, threading.Event()
            self.done.set()

        def get(self, _timeout):
            return None

        def close(self):
            pass

    monkeypatch.setattr(lns, "Prefetch", NoLP)
    monkeypatch.setattr(lns.Search, "run", lambda self, *a, **k: None)


def _assert_good(pr, plan, ref):
    assert check(pr, plan) == []
    assert plan.placed_weight >= ref.placed_weight * 0.995  # the tolerance: optimum - 0.5 %
    assert plan.placed_weight_bound >= ref.placed_weight  # a bound is never below the optimum
    if plan.placed_weight == ref.placed_weight and plan.total_km_bound is not None:
        assert plan.total_km_bound <= ref.total_km + 0.01 * plan.placed  # km bound: rounding to 10 m per request
    if plan.status == "optimal" or plan.gap == 0:
        assert plan.placed_weight == ref.placed_weight
    for base in (greedy_call_order(pr), greedy_most_constrained(pr)):
        assert plan.placed_weight >= base.placed_weight
        if plan.placed_weight == base.placed_weight:
            assert plan.total_km <= base.total_km + 1e-6


def test_the_generator_is_a_contended_surge():
    """What makes a surge: facilities with 1-8 places, 15 % caregivers, 1-3 children, windows of 2-10 h
    starting 08:00-22:00, 10 clusters, radii 5-15 km, and calls left over even in the best plan."""
    pr = generate_surge("S600", seed=3)
    assert (len(pr.requests), len(pr.providers)) == (600, 200)
    fac = [p for p in pr.providers if p.kind == "facility"]
    care = [p for p in pr.providers if p.kind == "caregiver"]
    assert all(1 <= p.capacity <= 8 for p in fac) and 0.08 < len(care) / len(pr.providers) < 0.22
    assert all(5.0 <= p.radius_km <= 15.0 for p in pr.providers)
    assert {len(r.child_ages) for r in pr.requests} == {1, 2, 3}
    day0 = 29146500
    assert all(8 * 60 <= r.start - day0 <= 22 * 60 and 120 <= r.end - r.start <= 600 for r in pr.requests)
    assert any(len(p.commitments) >= 2 for p in care)  # visits already booked, to chain with
    assert generate_surge("S600", seed=3).requests == pr.requests  # seeded
    assert generate_surge("S600", seed=4).requests != pr.requests
    plan = greedy_most_constrained(pr)
    assert plan.placed < 0.97 * len(pr.requests)
    assert set(SURGE_SIZES) >= {"S600", "S1000", "S2000"}


def test_the_variants_pack_tighter_or_visit_more():
    """S600t: facilities of 1-5 places and more families of two and three than S600; S600c: twice
    S600's share of visiting caregivers."""
    base, tight, carers = (generate_surge(size, seed=2) for size in ("S600", "S600t", "S600c"))
    fac = [p.capacity for p in tight.providers if p.kind == "facility"]
    assert max(fac) <= 5 < max(p.capacity for p in base.providers if p.kind == "facility")

    def children(pr):
        return sum(len(r.child_ages) for r in pr.requests) / len(pr.requests)

    assert children(tight) > children(base) + 0.2

    def carer_share(pr):
        return sum(p.kind == "caregiver" for p in pr.providers) / len(pr.providers)

    assert 0.22 < carer_share(carers) < 0.38 and carer_share(base) < 0.22


@pytest.mark.parametrize("size,seed", CASES)
def test_near_the_exact_optimum_never_below_greedy(size, seed, optimum):
    pr = generate_surge(size, seed=seed)
    _assert_good(pr, solve(pr, time_limit_s=1.0, reproducible=True), optimum[(size, seed)])


@pytest.mark.parametrize("size,seed", CASES)
def test_large_part_path_near_the_exact_optimum(size, seed, optimum, through_lns):
    pr = generate_surge(size, seed=seed)
    _assert_good(pr, solve(pr, time_limit_s=1.0, reproducible=True), optimum[(size, seed)])


def test_large_part_path_is_reproducible(through_lns):
    pr = generate_surge("S200", seed=2)
    a = solve(pr, time_limit_s=0.5, reproducible=True)
    b = solve(pr, time_limit_s=0.5, reproducible=True)
    assert a.assignments == b.assignments and a.placed_weight_bound == b.placed_weight_bound


def test_large_part_path_with_no_time_keeps_a_valid_plan(through_lns):
    pr = generate_surge("S200", seed=1)
    plan = solve(pr, time_limit_s=0.01)
    assert check(pr, plan) == []
    assert plan.placed_weight >= greedy_most_constrained(pr).placed_weight
    assert plan.placed_weight_bound >= plan.placed_weight


def test_ejection_chains_place_more_than_the_greedy_start(chains_only):
    """On a surge's greedy start the chains alone (moves.py) place more families, every rule kept."""
    pr = generate_surge("S200", seed=1)
    plan = solve(pr, time_limit_s=1.0, reproducible=True)
    assert check(pr, plan) == []
    start = max(greedy_call_order(pr).placed_weight, greedy_most_constrained(pr).placed_weight)
    assert plan.placed_weight >= start + 3


def test_ejection_chains_keep_every_rule(chains_only):
    """Chains on small random problems (caregivers' travel, commitments, multi-child households):
    every rule kept by the independent checker, never below either baseline."""
    for seed in range(150):
        pr = random_problem(40_000 + seed, max_requests=8, max_providers=3)
        plan = solve(pr, time_limit_s=1.0, workers=1, reproducible=True)
        assert check(pr, plan) == [], seed
        assert plan.placed_weight >= max(greedy_call_order(pr).placed_weight,
                                         greedy_most_constrained(pr).placed_weight), seed


def test_large_part_bounds_against_brute_force(through_lns):
    """The LP's certified bounds and the LNS's plans on small random problems: weight bound >= optimum,
    km bound <= the optimum's km when the weight is the optimum's, every rule kept."""
    for seed in range(120):
        pr = random_problem(30_000 + seed, max_requests=6, max_providers=3)
        plan = solve(pr, time_limit_s=2.0, workers=1, reproducible=True)
        assert check(pr, plan) == [], seed
        best_weight, best_units, _ = brute_force(pr)
        assert plan.placed_weight <= best_weight
        assert plan.placed_weight_bound >= best_weight, seed
        if plan.placed_weight == best_weight:
            provs = {p.id: p for p in pr.providers}
            reqs = {r.id: r for r in pr.requests}
            got = sum(units(pr, reqs[r], provs[p]) for r, p in plan.assignments.items())
            assert got >= -best_units
            assert plan.total_km_bound * 100 <= -best_units + plan.placed + 1e-6, seed


def test_reference_engines_agree():
    """HiGHS through highspy (the bench's column) and SCIP find the same two levels."""
    for pr in (generate_surge("S100", seed=3), generate_surge("S100", seed=4)):
        a = exact_reference(pr, engine="highs")
        b = exact_reference(pr, engine="scip")
        assert a.status == b.status == "optimal"
        assert (a.placed_weight, a.units) == (b.placed_weight, b.units)


def test_a_stalled_chain_makes_room_for_two_waiting_families():
    """A family of two holds a facility's two places; two families of one wait for that window and
    could go nowhere else. Swapping one for one gains nothing, so the plain chains stop there; with
    `fill` the chain takes the two-child family out and both waiting families come in."""
    here = Location(37.5, 127.0)
    home = Provider(id="F1", kind="facility", location=here, capacity=2, availability=(Interval(at(7), at(22)),),
                    radius_km=5.0)
    reqs = [Request(id="R-pair", child_ages=(4, 6), start=at(9), end=at(13), location=here, priority=3),
            Request(id="R-a", child_ages=(5,), start=at(9), end=at(12), location=here, priority=3),
            Request(id="R-b", child_ages=(7,), start=at(10), end=at(13), location=here, priority=3)]
    pr = Problem(requests=reqs, providers=(home,), now=NOW)
    cs = build_candidates(pr, prune=False, max_per_request=None)
    pairs = np.arange(len(cs.ri))
    ix = PartIndex(cs, pairs, cpsat.constraint_rows(cs, pairs))
    start = np.array([1 if cs.rt.ids[r] == "R-pair" else 0 for r in cs.ri.tolist()])
    waiting = [g for g in range(len(ix.first)) if start[ix.first[g]] == 0]

    plain = Moves(ix, start)
    assert plain.sweep(waiting, deadline=float("inf"), max_work=10_000) == 0  # one for one: no gain

    filling = Moves(ix, start)
    filling.fill = True
    assert filling.sweep(waiting, deadline=float("inf"), max_work=10_000) == 3  # two in for one out
    placed = {cs.rt.ids[int(cs.ri[k])] for k in np.flatnonzero(filling.x)}
    assert placed == {"R-a", "R-b"}
    assert ix.weight(filling.x) == 6


def _two_places():
    """A facility with two places 09-13 (and a second, one place, that only R-c can reach): a family
    of two and three families of one wanting overlapping windows."""
    here, far = Location(37.5, 127.0), Location(37.6, 127.0)
    one = Provider(id="F1", kind="facility", location=here, capacity=2, availability=(Interval(at(7), at(22)),),
                   radius_km=5.0)
    two = Provider(id="F2", kind="facility", location=far, capacity=1, availability=(Interval(at(7), at(22)),),
                   radius_km=1.0)
    reqs = [Request(id="R-pair", child_ages=(4, 6), start=at(9), end=at(13), location=here, priority=3),
            Request(id="R-a", child_ages=(5,), start=at(9), end=at(12), location=here, priority=3),
            Request(id="R-b", child_ages=(7,), start=at(10), end=at(13), location=here, priority=3),
            Request(id="R-c", child_ages=(3,), start=at(9), end=at(11), location=far, priority=1)]
    pr = Problem(requests=reqs, providers=(one, two), now=NOW)
    cs = build_candidates(pr, prune=False, max_per_request=None)
    pairs = np.arange(len(cs.ri))
    ix = PartIndex(cs, pairs, cpsat.constraint_rows(cs, pairs))
    names = [cs.rt.ids[int(cs.ri[ix.first[g]])] for g in range(len(ix.first))]
    return cs, ix, names


def test_a_target_set_that_fits_is_placed_whole():
    """Asked to place R-a, R-b and R-c, starting from a plan that holds F1 for the family of two, the
    feasibility question moves the family of two out and places all three, each where it may go."""
    from matching.starts import TargetModel

    cs, ix, names = _two_places()
    start = np.array([1 if cs.rt.ids[int(r)] == "R-pair" else 0 for r in ix.req.tolist()])
    force = np.array([n in {"R-a", "R-b", "R-c"} for n in names])
    y, _ = TargetModel(ix, start).solve(force, start, None, 5.0)
    assert y is not None
    placed = {cs.rt.ids[int(ix.req[k])]: cs.pt.ids[int(ix.prov[k])] for k in np.flatnonzero(y)}
    assert placed == {"R-a": "F1", "R-b": "F1", "R-c": "F2"}


def test_a_target_set_that_cannot_fit_is_refused_with_its_reason():
    """The family of two and both families of one need three places at 10-12 where F1 has two: no plan,
    and the reason CP-SAT gives names only requests of the set, R-c (which fits at F2) not among them."""
    from matching.starts import TargetModel

    cs, ix, names = _two_places()
    start = np.zeros(ix.n, dtype=np.int64)
    force = np.ones(len(names), dtype=bool)
    model = TargetModel(ix, start)
    y, _ = model.solve(force, start, None, 0.5)
    assert y is None
    core, _ = model.core(force, None, 5.0)
    assert core and set(names[g] for g in core) <= {"R-pair", "R-a", "R-b"}
    fewer = force.copy()
    fewer[core] = False
    assert model.solve(fewer, start, None, 5.0)[0] is not None


def test_shorten_moves_a_family_to_the_nearer_provider_with_room():
    """A family of one planned at the farther of its two facilities goes to the nearer one when it has
    room, and stays when the nearer one is full for its window."""
    home = Location(37.5, 127.0)
    near = Provider(id="F-near", kind="facility", location=Location(37.505, 127.0), capacity=1,
                    availability=(Interval(at(7), at(22)),), radius_km=10.0)
    far = Provider(id="F-far", kind="facility", location=Location(37.55, 127.0), capacity=1,
                   availability=(Interval(at(7), at(22)),), radius_km=10.0)
    fam = Request(id="R-fam", child_ages=(5,), start=at(9), end=at(12), location=home, priority=2)
    other = Request(id="R-other", child_ages=(6,), start=at(10), end=at(13), location=Location(37.505, 127.0),
                    priority=2)
    for with_other in (False, True):
        pr = Problem(requests=[fam, other] if with_other else [fam], providers=(near, far), now=NOW)
        cs = build_candidates(pr, prune=False, max_per_request=None)
        pairs = np.arange(len(cs.ri))
        ix = PartIndex(cs, pairs, cpsat.constraint_rows(cs, pairs))
        plan = {"R-fam": "F-far", "R-other": "F-near"}
        x = np.array([int(plan.get(cs.rt.ids[int(r)]) == cs.pt.ids[int(p)]) for r, p in zip(ix.req, ix.prov)])
        mv = Moves(ix, x)
        saved = mv.shorten(deadline=float("inf"), max_work=1_000)
        placed = {cs.rt.ids[int(ix.req[k])]: cs.pt.ids[int(ix.prov[k])] for k in np.flatnonzero(mv.x)}
        if with_other:  # the nearer place is taken for 10-12
            assert saved == 0 and placed["R-fam"] == "F-far"
        else:
            assert saved > 0 and placed == {"R-fam": "F-near"}


def _surge_part(size="S100", seed=1):
    cs = build_candidates(generate_surge(size, seed=seed))
    pairs = np.arange(len(cs.ri))
    return PartIndex(cs, pairs, cpsat.constraint_rows(cs, pairs))


def test_the_lp_process_gives_the_bounds_of_the_lp_solved_here():
    """The LP solved by the LP process (beside the chains, without sharing the interpreter lock)
    proves the same weight bound as solved here, and that process answers the km question from its
    model, once, as here."""
    from matching import relaxation as rel

    ix = _surge_part()
    here = rel.relaxation(ix, 30.0)
    km_here = rel.km_bound(ix, here, here.weight_bound(), 30.0)
    assert rel.LpProcess.warm(30.0)
    lp = rel.Prefetch(ix, 30.0)
    try:
        assert lp.lp_process is not None  # it went to the LP process
        there = lp.get(30.0)
        assert there.weight_bound() == here.weight_bound()
        assert abs(ix.w @ there.values - ix.w @ here.values) < 1e-6
        assert km_here > 0 and rel.km_bound(ix, there, here.weight_bound(), 30.0) == km_here
        assert rel.km_bound(ix, there, here.weight_bound(), 30.0) == 0  # the model serves once, as here
    finally:
        lp.close()
    assert rel.LpProcess.get() is not None  # given back, idle, for the next part
    rel.LpProcess._current.release()


def test_a_busy_or_abandoned_lp_process_never_holds_a_solve_up():
    """While the LP process solves one part's LP, another part's LP is solved on a thread; one whose
    answer is no longer awaited is ended at once, and the next part starts a new one."""
    from matching import relaxation as rel

    small, big = _surge_part(), _surge_part("S2000")
    assert rel.LpProcess.warm(30.0)
    first = rel.Prefetch(big, 60.0)
    proc = first.lp_process
    assert proc is not None
    second = rel.Prefetch(small, 30.0)
    assert second.lp_process is None and second.get(30.0) is not None  # on a thread meanwhile
    second.close()
    assert not first.done.is_set()
    first.close()  # abandoned mid-solve
    assert proc.proc.poll() is not None  # ended there and then (and reaped)
    assert rel.LpProcess._current is not proc
    assert rel.LpProcess.warm(30.0) and rel.LpProcess._current is not proc


def test_the_first_chains_stop_once_the_lp_is_back():
    """Told the LP is back, the chains on the start stop there (its questions come first); left to
    run, the same chains place the waiting families."""
    import time

    from matching.starts import polish

    cs, ix, names = _two_places()
    start = np.zeros(ix.n, dtype=np.int64)
    budget = cpsat.Budget(time.perf_counter() + 60.0)
    assert ix.weight(polish(ix, start, budget, 30.0, stop=lambda: True)) == 0
    assert ix.weight(polish(ix, start, budget, 30.0)) > 0


def test_the_lp_gets_its_time_however_long_its_highs_has_run(monkeypatch):
    """HiGHS compares its time limit with every run of a Highs object so far: the column generation's
    rounds and the km bound's run on the LP's model each get the time left to them, whatever that
    object has run before (given only the time left, they stopped at once)."""
    import highspy

    from matching import relaxation as rel

    ix = _surge_part("S600")
    monkeypatch.setattr(rel, "LP_MAX_COLS", 100)  # by column generation, round after round
    fresh = rel.relaxation(ix, 60.0)
    km_fresh = rel.km_bound(ix, fresh, fresh.weight_bound(), 60.0)
    # A Highs that has already run 0.6 s (on a random LP), its model then cleared.
    worn = rel._highs()
    worn.setOptionValue("output_flag", False)
    rng = np.random.default_rng(0)
    n = 300
    worn.addCols(n, -rng.random(n), np.zeros(n), np.ones(n), 0, np.zeros(n, np.int32), np.zeros(0, np.int32),
                 np.zeros(0))
    for _ in range(n):
        r = np.flatnonzero(rng.random(n) < 0.1).astype(np.int32)
        worn.addRow(-highspy.kHighsInf, 5.0, len(r), r, np.ones(len(r)))
    while worn.getRunTime() < 0.6:
        worn.clearSolver()
        worn.run()
    worn.clearModel()
    monkeypatch.setattr(rel, "_highs", lambda: worn)
    worn_lp = rel.relaxation(ix, 0.5)  # the LP alone takes a few hundredths of a second
    assert worn_lp is not None and worn_lp.weight_bound() == fresh.weight_bound()
    assert abs(ix.w @ worn_lp.values - ix.w @ fresh.values) < 1e-6
    assert km_fresh > 0 and rel.km_bound(ix, worn_lp, fresh.weight_bound(), 0.5) == km_fresh


def _at_nearest(ix, force):
    """A plan with every request of `force` at its nearest provider (a scripted question's answer)."""
    y = np.zeros(ix.n, dtype=np.int64)
    y[ix.first[np.flatnonzero(force)]] = 1
    return y


def test_a_question_about_a_set_holding_the_reason_is_given_up_when_the_reason_comes():
    """While one thread asks whether the LP's whole set can be placed, the other finds the reason it
    cannot (R-pair, R-a, R-b need three places where F1 has two): a set holding the reason cannot be
    placed, so that question is stopped there and then, and the set without the reason is asked."""
    import time

    from matching.starts import target_search

    cs, ix, names = _two_places()
    reason = [names.index(n) for n in ("R-pair", "R-a", "R-b")]

    class Script:
        """Both threads' models: the whole set's question waits until stopped (or a minute), the reason
        comes at once, the set without it is placed."""

        def __init__(self, log: list, stopped: threading.Event):
            self.log, self.stopped = log, stopped

        def copy(self):
            return Script(self.log, self.stopped)

        def stop(self):
            self.stopped.set()

        def solve(self, force, hint, wall, effort):
            self.log.append(("solve", sorted(names[g] for g in np.flatnonzero(force))))
            if force.all():
                assert self.stopped.wait(60.0)
                return None, 0.0
            if force[reason].all():  # a smaller set holding the reason cannot be placed either
                return None, 0.0
            return _at_nearest(ix, force), 0.0

        def core(self, force, wall, effort):
            self.log.append(("core", None))
            return reason, 0.0

    class LP:  # every request on its nearest provider, whole
        values = np.zeros(ix.n)

    LP.values[ix.first] = 1.0
    log: list = []
    stopped = threading.Event()
    budget = cpsat.Budget(time.perf_counter() + 120.0)
    y = target_search(ix, LP, np.zeros(ix.n, dtype=np.int64), budget, 90.0, workers=2, model=Script(log, stopped))
    assert stopped.is_set()
    # the first smaller set beside the whole set, before the reason (either thread may take either)
    assert sorted(log[:2]) == [("solve", ["R-a", "R-b", "R-c", "R-pair"]), ("solve", ["R-a", "R-b", "R-pair"])]
    assert ("solve", ["R-c"]) in log  # the set without the reason, asked after it came
    assert y is not None and {names[int(ix.group_of[k])] for k in np.flatnonzero(y)} >= {"R-c"}


def test_the_lp_rounding_places_each_family_where_the_lp_does():
    """The LP gives F1's two places to the two families of one (weight 6) rather than to the family
    of two (3): rounded in the LP's order, the plan places those two there and R-c at F2, the plan
    the LP describes."""
    from matching import relaxation as rel
    from matching.starts import lp_greedy

    cs, ix, names = _two_places()
    lp = rel.relaxation(ix, 30.0)
    y = lp_greedy(ix, lp.values)
    placed = {names[int(ix.group_of[k])]: cs.pt.ids[int(ix.prov[k])] for k in np.flatnonzero(y)}
    assert placed == {"R-a": "F1", "R-b": "F1", "R-c": "F2"}
    assert ix.weight(y) == round(float(ix.w @ lp.values)) == 7


def test_a_target_set_far_above_the_plan_is_not_asked_the_lp_rounding_is_polished_instead(monkeypatch):
    """On a tight surge (families of two and three, 1-5 places) the LP's whole set lies several percent
    above the chains' plan, where no such set was ever placed: no question is asked, and the LP's
    rounding, polished, is the plan the neighbourhoods start from when it places more."""
    tight = generate_surge("S200", seed=6, children_p=(0.3, 0.4, 0.3), room=(1, 5))
    cs = build_candidates(tight)
    pairs = np.arange(len(cs.ri))
    rows = cpsat.constraint_rows(cs, pairs)

    def asked(*args, **kwargs):
        raise AssertionError("a target question was asked")

    monkeypatch.setattr(lns, "target_search", asked)
    start = np.zeros(len(pairs), dtype=np.int64)
    res = lns.solve_part(cs, pairs, rows, start, cpsat.Budget(float("inf"), 0.4), workers=1)
    before, rounded = res.stats["lp_rounding"]
    assert rounded > before  # the rounding beat the greedy start's chains
    assert res.weight >= rounded
    ix = PartIndex(cs, pairs, rows)
    assert min(Moves(ix, res.x).slack) >= 0  # every capacity and caregiver row holds
    assert np.bincount(ix.group_of, weights=res.x).max() <= 1


def test_the_reason_a_set_cannot_be_placed_is_not_waited_for_once_that_set_is_placed():
    """One thread asks whether the LP's whole set can be placed, the other why it cannot: once the
    first places it, the second question is stopped there and then (it held the neighbourhoods back
    for a fifth of a second before)."""
    import time

    from matching.starts import target_search

    cs, ix, names = _two_places()
    reason_asked, stopped = threading.Event(), threading.Event()

    class Script:
        def copy(self):
            return Script()

        def stop(self):
            stopped.set()

        def solve(self, force, hint, wall, effort):
            if force.sum() == 3:  # the whole set (a smaller one, asked first beside it, is placed at once)
                assert reason_asked.wait(60.0)  # placed while the reason is being looked for
            return _at_nearest(ix, force), 0.0

        def core(self, force, wall, effort):
            reason_asked.set()
            assert stopped.wait(60.0)
            return None, 0.0

    class LP:  # R-a, R-b and R-c whole, at their nearest providers
        values = np.zeros(ix.n)

    for n in ("R-a", "R-b", "R-c"):
        LP.values[ix.first[names.index(n)]] = 1.0
    t0 = time.perf_counter()
    budget = cpsat.Budget(time.perf_counter() + 120.0)
    y = target_search(ix, LP, np.zeros(ix.n, dtype=np.int64), budget, 90.0, workers=2, model=Script())
    assert stopped.is_set() and time.perf_counter() - t0 < 30.0
    assert {names[int(ix.group_of[k])] for k in np.flatnonzero(y)} == {"R-a", "R-b", "R-c"}


def test_the_set_without_the_reason_is_asked_even_when_the_reason_comes_as_the_share_ends(monkeypatch):
    """On a slow machine the reason came with a few hundredths of a second of the share left, less than
    loading the model takes, and the likeliest question was never asked. It is now given its own
    minimum of wall time past the share, while the part's time allows (the clock is driven here)."""
    from matching import starts

    cs, ix, names = _two_places()
    reason = [names.index(n) for n in ("R-pair", "R-a", "R-b")]
    clock = [100.0]
    monkeypatch.setattr(starts.time, "perf_counter", lambda: clock[0])
    asked: list = []

    class Script:
        def copy(self):
            return Script()

        def stop(self):
            pass

        def solve(self, force, hint, wall, effort):
            asked.append((sorted(names[g] for g in np.flatnonzero(force)), wall))
            if force[reason].all():  # the whole set, and the smaller one asked before the reason
                clock[0] += 0.1 if force.all() else 0.0
                return None, 0.0
            return _at_nearest(ix, force), 0.0

        def core(self, force, wall, effort):
            clock[0] += 0.195  # the share (0.3 s) has 0.005 s left when the reason comes
            return reason, 0.0

    class LP:
        values = np.zeros(ix.n)

    LP.values[ix.first] = 1.0
    budget = cpsat.Budget(clock[0] + 10.0)
    y = starts.target_search(ix, LP, np.zeros(ix.n, dtype=np.int64), budget, 0.3, workers=1, model=Script())
    assert asked[-1][0] == ["R-c"] and asked[-1][1] >= starts.REASON_SET_MIN_S
    assert y is not None and "R-c" in {names[int(ix.group_of[k])] for k in np.flatnonzero(y)}
