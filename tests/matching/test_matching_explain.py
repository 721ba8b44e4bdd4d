"""Explanations carry the figures an operator acts on; the library stays pure; distances behave."""

from __future__ import annotations

import ast
import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from matching import (
    Commitment, GreatCircle, Interval, Location, MatrixTravel, Problem, Provider, Request, greedy_call_order,
    haversine_km, rank_providers, solve, solve_incremental, urgency_priority,
)
from matching.generator import generate

HOME = Location(37.2636, 127.0286)


def east(km: float) -> Location:
    return Location(HOME.lat, HOME.lon + km / (111.32 * math.cos(math.radians(HOME.lat))))


def h(hh: int) -> int:
    return hh * 60


def facility(pid, km, close=22, commitments=(), cap=5, radius=5.0):
    return Provider(id=pid, kind="facility", location=east(km), capacity=cap,
                    availability=(Interval(h(7), h(close)),), commitments=tuple(commitments), radius_km=radius)


def evening_problem() -> Problem:
    req = Request(id="R1", child_ages=(4, 7), start=h(18), end=h(21), location=HOME)
    provs = (
        facility("F1", 1.0, close=20),
        facility("F2", 2.0, close=20),
        facility("F3", 3.0, commitments=[Commitment(h(18), h(20), 4)]),
        facility("F4", 7.5, radius=5.0),  # free, but the family is outside its radius
    )
    return Problem(requests=[req], providers=provs, now=h(8), tz_offset_min=0)


def test_unplaced_request_says_why_with_counts_and_what_would_place_it():
    plan = solve(evening_problem())
    e = plan.explanations["R1"]
    assert e.provider_id is None
    assert e.counts == {"in_radius": 3, "closed": 2, "full": 1}
    assert "반경 내 3곳" in e.summary_ko
    assert "2곳은 20:00에 마감" in e.summary_ko
    assert "1곳은 18:00–20:00 정원 초과" in e.summary_ko
    assert "3 providers within radius" in e.summary_en and "2 closed at 20:00" in e.summary_en
    assert "1 full from 18:00 to 20:00" in e.summary_en
    assert e.reason_code == "capacity_full"
    assert "widen_radius:7.5km" in e.suggestions
    assert "shift_window:-60min" in e.suggestions
    assert "shorten_window:end=20:00" in e.suggestions
    assert len(e.suggestions_ko) == len(e.suggestions) == len(e.suggestions_en)


def test_placed_request_names_provider_distance_and_runners_up():
    pr = evening_problem()
    pr.requests[0] = Request(id="R1", child_ages=(4,), start=h(17), end=h(19), location=HOME)
    plan = solve(pr)
    e = plan.explanations["R1"]
    assert e.provider_id == "F1" and e.reason_code is None
    assert e.distance_km is not None and abs(e.distance_km - 1.3) < 0.01  # 1 km straight x road factor 1.3
    assert [a for a, _ in e.alternatives] == ["F2", "F3"]
    assert e.alternatives[0][1] < e.alternatives[1][1]
    assert e.counts["in_radius"] == 3 and e.counts["feasible"] == 3
    assert "F1" in e.summary_ko and "km" in e.summary_en


def test_nobody_in_radius_is_reported_with_the_nearest_distance():
    pr = evening_problem()
    pr.requests[0] = Request(id="R1", child_ages=(4,), start=h(17), end=h(19), location=east(-20))
    e = solve(pr).explanations["R1"]
    assert e.reason_code == "no_provider_in_radius"
    assert e.counts["in_radius"] == 0
    assert "반경 내 기관 없음" in e.summary_ko
    alone = replace(pr, providers=())  # nobody registered at all: still an explanation, no suggestion
    for plan in (solve(alone), solve_incremental(alone, "R1")):
        e = plan.explanations["R1"]
        assert e.reason_code == "no_provider_in_radius" and e.suggestions == []


def test_a_count_in_radius_above_what_the_solver_saw_is_named_in_both_languages():
    """A caller that gave the solver only the nearest of a request's providers in radius passes how many
    there are: placed or not, the explanation counts them all and says how many of the nearest were
    reviewed; a confirmed placement kept, or a count no higher than what the solver saw, changes nothing."""
    placed = evening_problem()
    placed.requests[0] = Request(id="R1", child_ages=(4,), start=h(17), end=h(19), location=HOME)
    placed.in_radius = {"R1": 40}
    for plan in (solve(placed), solve_incremental(placed, "R1")):
        e = plan.explanations["R1"]
        assert e.provider_id == "F1"
        assert e.counts == {"in_radius": 40, "reviewed": 3, "feasible": 3, "nearer_used": 0}
        assert "반경 내 40곳 중 가까운 3곳만 검토, 가능 3곳" in e.summary_ko
        assert "3 of the nearest 3 reviewed (40 providers within radius) could take it" in e.summary_en
    e = solve(replace(evening_problem(), in_radius={"R1": 40})).explanations["R1"]
    assert e.provider_id is None and e.reason_code == "capacity_full"
    assert e.counts == {"in_radius": 40, "reviewed": 3, "closed": 2, "full": 1}
    assert e.summary_ko.startswith("반경 내 40곳 중 가까운 3곳만 검토; 2곳은 20:00에 마감")
    assert e.summary_en.startswith("40 providers within radius, the nearest 3 reviewed; 2 closed at 20:00")
    e = solve(replace(placed, fixed={"R1": "F2"})).explanations["R1"]
    assert e.fixed and e.counts["in_radius"] == 3 and "reviewed" not in e.counts
    assert "검토" not in e.summary_ko and "reviewed" not in e.summary_en
    e = solve(replace(placed, in_radius={"R1": 3})).explanations["R1"]
    assert e.counts["in_radius"] == 3 and "reviewed" not in e.counts and "반경 내 3곳 중 가능 3곳" in e.summary_ko


def test_a_wider_radius_is_suggested_past_every_provider_the_plan_fills():
    """R0 has nobody in radius. The 22 facilities nearest outside it each take one family of the plan
    (a place each); the one with room is the 23rd nearest, 28 km away: that is the one suggested."""
    full = [facility(f"P{k:02d}", 6 + 0.5 * k, cap=1) for k in range(22)]
    spare = facility("P99", 28.0, cap=1)
    families = [Request(id=f"Q{k:02d}", child_ages=(5,), start=h(10), end=h(14), location=p.location)
                for k, p in enumerate(full)]
    r0 = Request(id="R0", child_ages=(5,), start=h(10), end=h(14), location=HOME)
    plan = solve(Problem(requests=[r0, *families], providers=(*full, spare), now=h(8), tz_offset_min=0),
                 reproducible=True)
    assert plan.placed == 22 and "R0" not in plan.assignments
    e = plan.explanations["R0"]
    assert e.reason_code == "no_provider_in_radius"
    assert e.suggestions[0] == "widen_radius:28.0km"
    assert "반경을 28.0 km로 넓히면 P99 가능" in e.suggestions_ko
    assert "widening the radius to 28.0 km would place it with P99" in e.suggestions_en


def test_suggestions_made_for_every_unplaced_request_at_once_match_one_at_a_time():
    """The explanations ask what would place every unplaced request in one go; each answer is the
    one that request gets alone (same kinds, same provider, same order)."""
    from matching.candidates import build_candidates
    from matching.explain import Explainer

    pr = generate("Mc", seed=4, n_providers=150, n_requests=160)
    plan = solve(pr, workers=1, reproducible=True)
    cs = build_candidates(pr)
    unplaced = [r for r in range(len(cs.rt)) if cs.rt.ids[r] not in plan.assignments]
    together = Explainer(pr, cs, plan.assignments).suggest_rows(unplaced)
    alone = {r: Explainer(pr, cs, plan.assignments).suggest_rows([r])[r] for r in unplaced}
    assert together == alone
    kinds = {code.split(":")[0] for codes, _, _ in together.values() for code in codes}
    assert len(unplaced) >= 20 and kinds == {"widen_radius", "shift_window", "shorten_window"}


def test_suggestions_stop_between_chunks_once_the_time_is_spent(monkeypatch):
    """On a national-sized plan the suggestions go in chunks of rows; once the limit passes, the rows
    left get reasons and counts but no suggestion, as one call at a time did (the clock is driven)."""
    from matching import explain
    from matching.candidates import build_candidates

    pr = generate("Mc", seed=4, n_providers=150, n_requests=160)
    plan = solve(pr, workers=1, reproducible=True)
    cs = build_candidates(pr)
    unplaced = [r for r in range(len(cs.rt)) if cs.rt.ids[r] not in plan.assignments]
    monkeypatch.setattr(explain, "SUGGEST_CHUNK", 5 * len(cs.pt))  # five rows a chunk
    clock = iter([0.0] + [10.0] * 10_000)  # the limit (5.0) passes after the first chunk
    monkeypatch.setattr(explain.time, "perf_counter", lambda: next(clock))
    made = explain.Explainer(pr, cs, plan.assignments, suggest_until=5.0).suggest_rows(unplaced)
    assert sorted(made) == unplaced[:5]
    assert any(codes for codes, _, _ in made.values())
    ex = explain.explain_all(pr, cs, plan.assignments, suggest_until=5.0)
    assert all(not e.suggestions for e in ex.values())  # past the limit from the start: none at all
    assert all(e.reason_code and e.counts for e in ex.values() if e.provider_id is None)


def test_every_unplaced_request_in_a_generated_instance_has_counts():
    pr = generate("Mc", seed=9, n_providers=150, n_requests=120)
    for plan in (solve(pr, workers=1), greedy_call_order(pr)):
        assert len(plan.explanations) == len(pr.requests)
        for e in plan.explanations.values():
            if e.provider_id is None:
                assert e.reason_code and e.counts and sum(e.counts.values()) > 0
                assert e.summary_ko and e.summary_en


def test_incremental_moves_a_planned_request_to_make_room():
    # R1 could use A or B and sits at A (nearer); the new R2 reaches only A.
    a = facility("A", 1.0, cap=1, radius=3.0)
    b = facility("B", -2.5, cap=1, radius=3.0)
    r1 = Request(id="R1", child_ages=(5,), start=h(10), end=h(12), location=HOME)
    r2 = Request(id="R2", child_ages=(6,), start=h(10), end=h(12), location=east(3.0))
    pr = Problem(requests=[r1], providers=(a, b), now=h(8))
    first = solve(pr)
    assert first.assignments == {"R1": "A"}
    pr2 = Problem(requests=[r1, r2], providers=(a, b), now=h(8))
    plan = solve_incremental(pr2, "R2", first)
    assert plan.assignments == {"R1": "B", "R2": "A"}
    # A confirmed R1 may not move: then R2 stays unplaced and says A is full.
    pr3 = Problem(requests=[r1, r2], providers=(a, b), now=h(8), fixed={"R1": "A"})
    plan = solve_incremental(pr3, "R2", first)
    assert plan.assignments == {"R1": "A"}
    assert plan.explanations["R2"].counts.get("full") == 1


def test_rank_providers_orders_offers_and_skips_excluded():
    pr = evening_problem()
    pr.requests[0] = Request(id="R1", child_ages=(4,), start=h(17), end=h(19), location=HOME)
    ranked = rank_providers(pr, "R1", k=2)
    assert [c.provider_id for c in ranked] == ["F1", "F2"]
    assert "km" in ranked[0].explanation and ranked[0].travel_min > 0
    pr.exclude = frozenset({("R1", "F1")})
    assert [c.provider_id for c in rank_providers(pr, "R1", k=2)] == ["F2", "F3"]


def test_caregiver_travel_time_between_visits_is_respected():
    care = Provider(id="C", kind="caregiver", location=HOME, capacity=2, availability=(Interval(h(6), h(23)),),
                    radius_km=10.0)
    r1 = Request(id="R1", child_ages=(3,), start=h(10), end=h(12), location=east(0.5))
    # 8 km further on: about 21 min by road at 30 km/h, so 12:10 is too early and 12:30 is fine.
    r2 = Request(id="R2", child_ages=(3,), start=h(12) + 10, end=h(14), location=east(8.5))
    r3 = Request(id="R3", child_ages=(3,), start=h(12) + 30, end=h(14), location=east(8.5))
    plan = solve(Problem(requests=[r1, r2], providers=(care,), now=h(6)))
    assert plan.placed == 1
    plan = solve(Problem(requests=[r1, r3], providers=(care,), now=h(6)))
    assert plan.placed == 2


def test_urgency_priority_prefers_sooner_windows():
    assert urgency_priority(100, 0) == 4 > urgency_priority(200, 0) == 3 > urgency_priority(400, 0) == 2
    assert urgency_priority(1000, 0) == 1


def test_haversine_and_matrix_travel():
    seoul, busan = Location(37.5665, 126.9780), Location(35.1796, 129.0756)
    assert abs(float(haversine_km(seoul.lat, seoul.lon, busan.lat, busan.lon)) - 325) < 5
    gc = GreatCircle(road_factor=1.5, speed_kmh=60)
    assert abs(float(gc.road_km(seoul.lat, seoul.lon, busan.lat, busan.lon)) - 1.5 * 325) < 8
    m = MatrixTravel(points=[seoul, busan], km=[[0, 400], [400, 0]], minutes=[[0, 270], [270, 0]])
    assert float(m.road_km(seoul.lat, seoul.lon, busan.lat, busan.lon)) == 400
    assert int(m.travel_min(busan.lat, busan.lon, seoul.lat, seoul.lon)) == 270
    other = Location(36.0, 128.0)
    both = m.road_km(np.array([seoul.lat, other.lat]), np.array([seoul.lon, other.lon]), busan.lat, busan.lon)
    assert both[0] == 400 and both[1] == float(GreatCircle().road_km(other.lat, other.lon, busan.lat, busan.lon))


def test_solve_uses_the_travel_model_for_distances():
    pr = evening_problem()
    pr.requests[0] = Request(id="R1", child_ages=(4,), start=h(17), end=h(19), location=HOME)
    f1, f2 = pr.providers[0].location, pr.providers[1].location
    # The routing engine says F1 is a long way round: F2 wins.
    pr.travel = MatrixTravel(points=[HOME, f1, f2], km=[[0, 9, 3], [9, 0, 1], [3, 1, 0]],
                             minutes=[[0, 30, 8], [30, 0, 3], [8, 3, 0]])
    plan = solve(pr)
    assert plan.assignments == {"R1": "F2"} and plan.total_km == 3


FORBIDDEN_MODULES = {"sqlmodel", "sqlalchemy", "fastapi", "starlette", "hotline", "api", "twilio", "apscheduler",
                     "requests", "httpx", "psycopg"}
FORBIDDEN_CALLS = {("time", "time"), ("datetime", "now"), ("datetime", "utcnow"), ("date", "today")}


def test_library_imports_no_database_web_or_domain_layer_and_reads_no_clock():
    root = Path(__file__).resolve().parents[2] / "matching"
    files = sorted(root.glob("*.py"))
    assert files
    for path in files:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else []
            else:
                names = []
            for name in names:
                assert name.split(".")[0] not in FORBIDDEN_MODULES, f"{path.name} imports {name}"
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                assert (node.value.id, node.attr) not in FORBIDDEN_CALLS, f"{path.name} reads the clock"
