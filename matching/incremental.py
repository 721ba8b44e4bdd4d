"""What runs while the operator is on the phone: one new request against the current plan.

`solve_incremental` keeps every other assignment. If the new request fits somewhere without moving
anyone it takes the nearest such provider (optimal with the others fixed). Otherwise a small CP-SAT
model over the requests planned at the providers that could take it may move them (never drop them;
confirmed ones in `problem.fixed` never move) to make room. `rank_providers` lists the best k
providers for one request, for parallel offers; `rank_many` does it for many requests at once (the sweep).
"""

from __future__ import annotations

import time
from typing import Mapping

import numpy as np

from .candidates import (
    FEASIBLE, R_AGE, R_BUSY, R_CLOSED, R_FULL, R_LANGUAGE, R_LEAD, R_SKILL, R_TOO_MANY, REASONS, base_loads,
    build_candidates, classify, max_load, nearest_pairs, pairs_in_radius, provider_items, provider_table, request_table,
    visit_conflict,
)
from .distance import haversine_km
from .cpsat import SolveStats, solve_pairs
from .explain import Explainer, plan_figures
from .greedy import fill
from .types import Candidate, Plan, Problem


def _base_assignments(problem: Problem, plan: Plan | None, skip: str) -> dict[str, str]:
    """Assignments to keep: the plan's (or, without a plan, the hints that still fit) plus fixed ones."""
    if plan is not None:
        base = {r: p for r, p in plan.assignments.items() if r != skip}
    else:
        pt = provider_table(problem.providers)
        rt = request_table(problem.requests, pt)
        hinted = [rt.index[r] for r, p in problem.hint.items() if r != skip and r in rt.index and p in pt.index
                  and r not in problem.fixed]
        base = {}
        if hinted:
            cs = build_candidates(problem, max_per_request=None, requests=np.array(hinted))
            ok = {(r, p) for r, p in zip(cs.ri.tolist(), cs.pi.tolist())}
            cands = {r: [pt.index[problem.hint[rt.ids[r]]]] for r in hinted
                     if (r, pt.index[problem.hint[rt.ids[r]]]) in ok}
            reqs = {r.id: r for r in problem.requests}
            items = provider_items(problem, pt, problem.fixed, reqs)
            chosen = fill(problem, pt, rt, hinted, cands, items)
            base = {rt.ids[r]: pt.ids[p] for r, p in chosen.items()}
    base.update({r: p for r, p in problem.fixed.items() if r != skip})
    return base


def solve_incremental(problem: Problem, new_request_id: str, plan: Plan | None = None, *,
                      time_limit_s: float = 0.2, workers: int = 1) -> Plan:
    t0 = time.perf_counter()
    deadline = t0 + time_limit_s
    base = _base_assignments(problem, plan, new_request_id)
    movable = {r: p for r, p in base.items() if r not in problem.fixed}
    cs = build_candidates(problem, max_per_request=None, requests=_rows(problem, [new_request_id]), extra_load=movable)
    rt, pt = cs.rt, cs.pt
    new = rt.index[new_request_id]
    assignments = dict(base)
    if new_request_id in problem.fixed:
        assignments[new_request_id] = problem.fixed[new_request_id]
    solve_s = 0.0
    redo = {new: cs}  # request row -> the candidate set its explanation is read from
    if len(cs.ri):
        assignments[new_request_id] = pt.ids[int(cs.pi[0])]  # nearest first: optimal with the others kept
    elif cs.decide[new]:
        # Providers that pass every rule but room: free them by moving what is planned there.
        sl = cs.pairs_of(new)
        blocked = {pt.ids[p] for p, why in zip(cs.all_pi[sl].tolist(), cs.all_reason[sl].tolist())
                   if why in (R_FULL, R_BUSY)}
        hood = [r for r, p in movable.items() if p in blocked]
        if hood:
            x, cs2, st = _reshuffle(problem, movable, hood, new_request_id, deadline, workers)
            solve_s = st.solve_s
            if cs2 is not None:
                for r in hood:
                    assignments.pop(r, None)
                sel = np.flatnonzero(x)
                for r, p in zip(cs2.ri[sel].tolist(), cs2.pi[sel].tolist()):
                    assignments[rt.ids[r]] = pt.ids[p]
                redo = {rt.index[r]: cs2 for r in hood + [new_request_id]}
    build_s = time.perf_counter() - t0 - solve_s

    t1 = time.perf_counter()
    explanations = dict(plan.explanations) if plan is not None else {}
    for r, c in redo.items():
        explanations[rt.ids[r]] = Explainer(problem, c, assignments).explain(r)
    missing = [rt.index[r.id] for r in problem.requests if r.id not in explanations]
    if missing:  # no previous plan to copy from
        others = {r: p for r, p in assignments.items() if r not in problem.fixed}
        cs3 = build_candidates(problem, max_per_request=None, requests=np.array(missing), extra_load=others)
        ex3 = Explainer(problem, cs3, assignments)
        for r in missing:
            explanations[rt.ids[r]] = ex3.explain(r)
    out = Plan(assignments=assignments, explanations=explanations, status="incremental", placed=0, placed_weight=0,
               total_km=0.0, build_s=build_s, solve_s=solve_s, explain_s=time.perf_counter() - t1,
               candidate_pairs=len(cs.all_ri))
    plan_figures(problem, cs, out)
    return out


def _rows(problem: Problem, ids) -> np.ndarray:
    index = request_table(problem.requests, provider_table(problem.providers)).index  # cached
    return np.array([index[i] for i in ids], dtype=np.int64)


def _reshuffle(problem: Problem, movable: Mapping[str, str], hood: list[str], new_id: str, deadline: float,
               workers: int):
    """Re-decide `hood` plus the new request with everything else kept; hood requests stay placed."""
    hood = list(hood)
    for _ in range(2):
        keep = {r: p for r, p in movable.items() if r not in hood}
        cs = build_candidates(problem, max_per_request=None, requests=_rows(problem, hood + [new_id]), extra_load=keep)
        have = set(zip(cs.ri.tolist(), cs.pi.tolist()))
        stuck = [r for r in hood if (cs.rt.index[r], cs.pt.index[movable[r]]) not in have]
        if not stuck:
            must = frozenset(cs.rt.index[r] for r in hood)
            hint = {cs.rt.index[r]: cs.pt.index[movable[r]] for r in hood}
            # Levels 1-2 only: the operator is on the phone; the next batch solve evens the load again.
            x, st = solve_pairs(cs, deadline, workers=workers, must_place=must, hint=hint, fairness=False)
            placed = {int(r) for r in cs.ri[np.flatnonzero(x)].tolist()}
            if must <= placed:
                return x, cs, st
            return None, None, st
        hood = [r for r in hood if r not in stuck]  # their old pair no longer passes: keep them as they are
        if not hood:
            break
    return None, None, SolveStats()


def rank_providers(problem: Problem, request_id: str, k: int = 3, plan: Plan | None = None) -> list[Candidate]:
    """Feasible providers for one request given commitments, fixed assignments (and `plan`), best first."""
    pt, rt, given = _tables(problem, plan)
    given.pop(request_id, None)
    return _rank(problem, pt, rt, rt.index[request_id], k, base_loads(problem, pt, rt, given))


def rank_many(problem: Problem, depth: Mapping[str, int], plan: Plan | None = None) -> dict[str, list[Candidate]]:
    """`rank_providers(problem, request_id, k, plan)` for each request id -> k of `depth` (the sweep's waves),
    with the tables and the load of commitments, fixed assignments and `plan` built once for all.

    A request's own placement is load for every other request but not for itself: the one pair it touches,
    with the provider it is placed at, is looked at again against that provider's load without it (a
    provider's load depends only on its own items). Same candidates, order and text as one by one."""
    pt, rt, given = _tables(problem, plan)
    loads = base_loads(problem, pt, rt, given)
    placed_at: dict[str, dict[str, str]] = {}  # only a provider's own items make its load
    for r, q in given.items():
        placed_at.setdefault(q, {})[r] = q
    out: dict[str, list[Candidate]] = {}
    for request_id, k in depth.items():
        own = None
        p = pt.index.get(given.get(request_id, ""))
        if p is not None:
            alone = np.zeros(len(pt), dtype=bool)
            alone[p] = True
            others = {r: q for r, q in placed_at[given[request_id]].items() if r != request_id}
            own = (p, base_loads(problem, pt, rt, others, only=alone))
        out[request_id] = _rank(problem, pt, rt, rt.index[request_id], k, loads, own)
    return out


def _tables(problem: Problem, plan: Plan | None):
    """The provider and request tables, and every placement given: fixed ones, then `plan`'s."""
    pt = provider_table(problem.providers)
    rt = request_table(problem.requests, pt)
    given = dict(problem.fixed)
    if plan is not None:
        given.update(plan.assignments)
    return pt, rt, given


def _rank(problem: Problem, pt, rt, r: int, k: int, loads, own=None) -> list[Candidate]:
    """The ranking of request row `r` against `loads`; `own` (provider row, its load without this request):
    that provider's pair is judged against its own load instead."""
    ri, pi, straight = pairs_in_radius(pt, rt.lat[[r]], rt.lon[[r]])
    if problem.nearest is not None:
        near_only = nearest_pairs(ri, straight, problem.nearest)
        pi, straight = pi[near_only], straight[near_only]
    ri = np.full(len(pi), r)
    why = classify(problem, pt, rt, ri, pi, loads)
    mine = np.flatnonzero(pi == own[0]) if own is not None else ()
    if len(mine):
        why[mine] = classify(problem, pt, rt, ri[mine], pi[mine], own[1])
    ok = why == FEASIBLE
    n_feasible = int(ok.sum())
    pi, straight = pi[ok], straight[ok]
    km = problem.travel.road_km(rt.lat[r], rt.lon[r], pt.lat[pi], pt.lon[pi])
    tmin = problem.travel.travel_min(rt.lat[r], rt.lon[r], pt.lat[pi], pt.lon[pi])
    starts, ends = np.full(len(pi), rt.start[r]), np.full(len(pi), rt.end[r])
    used = max_load(loads, pi, starts, ends)
    mine = np.flatnonzero(pi == own[0]) if own is not None else ()
    if len(mine):
        used[mine] = max_load(own[1], pi[mine], starts[mine], ends[mine])
    spare = np.where(pt.caregiver[pi], pt.cap[pi], pt.cap[pi] - used)
    order = np.lexsort((-spare, km))[:k]
    n_in = int(len(ok))
    out = []
    for rank, j in enumerate(order.tolist(), 1):
        p = int(pi[j])
        kind = "방문 돌봄" if pt.caregiver[p] else "기관"
        out.append(Candidate(
            provider_id=pt.ids[p], distance_km=round(float(km[j]), 3), travel_min=int(tmin[j]),
            explanation=f"{rank}순위 {pt.ids[p]} ({kind}): {km[j]:.1f} km, 이동 약 {int(tmin[j])}분, "
                        f"여유 {int(spare[j])}명; 반경 내 {n_in}곳 중 가능 {n_feasible}곳",
            explanation_en=f"#{rank} {pt.ids[p]} ({pt.providers[p].kind}): {km[j]:.1f} km, about {int(tmin[j])} min, "
                           f"room for {int(spare[j])}; {n_feasible} of {n_in} within radius can take it",
            kind=pt.providers[p].kind, straight_km=round(float(straight[j]), 3), spare=int(spare[j]),
        ))
    return out


RULES_KO = {"excluded": "이미 거절·만료·취소한 기관", "radius": "서비스 반경 밖", "age": "돌봄 가능 연령 밖",
            "skill": "필요한 돌봄(영아·특수) 불가", "language": "언어 불일치", "closed": "운영 시간·휴무",
            "lead_time": "방문 준비 시간 부족", "too_many_children": "아동 수가 정원 초과", "full": "그 시간 정원 가득",
            "busy": "다른 방문과 겹침"}


def broken_rules(problem: Problem, request_id: str, provider_id: str) -> list[str]:
    """Every rule the pair breaks (not only the first), for an operator who offers outside the rules and
    must say which ones: codes from `RULES_KO` ("radius", "closed", "full", …), empty when the pair is fine."""
    pt = provider_table(problem.providers)
    rt = request_table(problem.requests, pt)
    given = dict(problem.fixed)
    given.pop(request_id, None)
    loads = base_loads(problem, pt, rt, given)
    r, p = rt.index[request_id], pt.index[provider_id]
    broken = ["excluded"] if (request_id, provider_id) in problem.exclude else []
    if float(haversine_km(rt.lat[r], rt.lon[r], pt.lat[p], pt.lon[p])) > pt.radius[p]:
        broken.append("radius")
    return broken + [REASONS[code] for code in _each_rule(problem, pt, rt, r, p, loads)]


def _each_rule(problem: Problem, pt, rt, r: int, p: int, loads) -> list[int]:
    failing = []
    if rt.min_age[r] < pt.min_age[p] or rt.max_age[r] > pt.max_age[p]:
        failing.append(R_AGE)
    if (rt.need_mask[r] & ~pt.skill_mask[p]) != 0 or rt.need_unknown[r]:
        failing.append(R_SKILL)
    if (pt.lang_mask[p] & rt.lang_bit[r]) == 0:
        failing.append(R_LANGUAGE)
    if not ((pt.av_start[p] <= rt.start[r]) & (rt.end[r] <= pt.av_end[p])).any():
        failing.append(R_CLOSED)
    if pt.caregiver[p] and rt.start[r] - problem.now < problem.caregiver_lead_min:
        failing.append(R_LEAD)
    if rt.children[r] > pt.cap[p]:
        failing.append(R_TOO_MANY)
    elif not pt.caregiver[p]:
        used = max_load(loads, np.array([p]), np.array([rt.start[r]]), np.array([rt.end[r]]))[0]
        if rt.children[r] + used > pt.cap[p]:
            failing.append(R_FULL)
    elif visit_conflict(loads, np.array([p]), np.array([rt.start[r]]), np.array([rt.end[r]]), rt.lat[[r]],
                        rt.lon[[r]], problem.travel)[0]:
        failing.append(R_BUSY)
    return failing
