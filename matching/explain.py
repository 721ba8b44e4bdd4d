"""Explanations an operator can act on: who got the request and why, or why nobody did, with counts.

Every in-radius provider is counted under the first rule it fails (see candidates.REASONS); for the
ones that pass every rule but are full in the final plan, the span where they are full is named.
For unplaced requests the engine also tries what would place it: a wider radius, a shifted window,
or a window that ends when a provider closes. When the solver saw only the nearest of a request's
providers in radius (`Problem.nearest`, or a caller's read: `Problem.in_radius`), the counts and both
texts name how many are in radius and how many of the nearest were reviewed.
"""

from __future__ import annotations

import time
from typing import Mapping

import numpy as np

from .candidates import (
    FEASIBLE, R_AGE, R_BUSY, R_CLOSED, R_EXCLUDED, R_FULL, R_LANGUAGE, R_SKILL, R_TOO_MANY, REASONS, WIDEN_MAX_KM,
    CandidateSet, base_loads, busy_span, classify, index_pairs, provider_items,
)
from .distance import haversine_km
from .types import Explanation, Plan, Problem

REASON_CODES = {
    "excluded": "excluded", "age": "age_range", "skill": "skill_missing", "language": "language",
    "closed": "closed", "lead_time": "lead_time", "too_many_children": "too_many_children",
    "full": "capacity_full", "busy": "caregiver_busy", "not_selected": "not_selected",
}
SHIFTS = (30, -30, 60, -60, 90, -90, 120, -120, 180, -180, 240, -240)
N_ALTERNATIVES = 3
SUGGEST_CHUNK = 2_000_000  # request rows x providers looked at in one go by the suggestions


def plan_figures(problem: Problem, cs: CandidateSet, plan: Plan) -> None:
    """Fill placed, placed_weight and total_km from the assignments."""
    rt, pt = cs.rt, cs.pt
    ri, pi = index_pairs(rt, pt, plan.assignments)
    plan.placed = len(ri)
    plan.placed_weight = int(rt.priority[ri].sum())
    plan.total_km = float(problem.travel.road_km(rt.lat[ri], rt.lon[ri], pt.lat[pi], pt.lon[pi]).sum()) if len(ri) else 0.0


def explain_all(problem: Problem, cs: CandidateSet, assignments: Mapping[str, str],
                rows=None, suggest_until: float | None = None) -> dict[str, Explanation]:
    """One explanation per request row; past `suggest_until` (perf_counter) the suggestions are left out."""
    ex = Explainer(problem, cs, assignments, suggest_until)
    rows = range(len(cs.rt)) if rows is None else list(rows)  # read twice
    ex.suggestions.update(ex.suggest_rows([r for r in rows if cs.rt.ids[r] not in assignments]))  # all at once
    return {cs.rt.ids[r]: ex.explain(r) for r in rows}


def _ko_n(n: int) -> str:
    return f"{n}곳"


def _en_n(n: int, word: str = "provider") -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _radius_counts(seen: int, total: int | None) -> dict[str, int]:
    """`in_radius` is every provider in radius; `reviewed`, when fewer, the nearest the solver saw."""
    return {"in_radius": seen} if total is None else {"in_radius": total, "reviewed": seen}


class Explainer:
    def __init__(self, problem: Problem, cs: CandidateSet, assignments: Mapping[str, str],
                 suggest_until: float | None = None):
        self.problem, self.cs, self.assignments = problem, cs, assignments
        self.suggest_until = suggest_until
        self._items: dict[int, list] | None = None
        self.suggestions: dict[int, tuple[list[str], list[str], list[str]]] = {}  # per unplaced row, once made

    @property
    def items(self) -> dict[int, list]:
        """Commitments plus every assignment of the plan, per provider row (built on first need)."""
        if self._items is None:
            reqs = {r.id: r for r in self.problem.requests}
            self._items = provider_items(self.problem, self.cs.pt, self.assignments, reqs)
        return self._items

    def fmt(self, t: int) -> str:
        return self.problem.format_time(t)

    def _total_in_radius(self, r: int, seen: int) -> int | None:
        """How many providers are within the request's radius when the solver saw only the nearest `seen`
        of them (the caller's count, else the count before `Problem.nearest`'s cut); None when it saw all."""
        total = self.problem.in_radius.get(self.cs.rt.ids[r])
        if total is None and self.cs.in_radius is not None:
            total = int(self.cs.in_radius[r])
        # none seen: the explanation names the nearest provider, not a count reviewed
        return total if total is not None and 0 < seen < total else None

    def explain(self, r: int) -> Explanation:
        rid = self.cs.rt.ids[r]
        if rid in self.assignments:
            return self._placed(r, self.assignments[rid])
        return self._unplaced(r)

    # -- placed ------------------------------------------------------------------------------

    def _placed(self, r: int, pid: str) -> Explanation:
        cs, pt, rt = self.cs, self.cs.pt, self.cs.rt
        sl = cs.pairs_of(r)
        pis, kms, mins, reasons = cs.all_pi[sl], cs.all_km[sl], cs.all_min[sl], cs.all_reason[sl]
        p = pt.index[pid]
        hit = np.flatnonzero(pis == p)
        if len(hit):
            km, tmin = float(kms[hit[0]]), int(mins[hit[0]])
        else:  # a fixed assignment outside the usual rules
            km = float(self.problem.travel.road_km(rt.lat[r], rt.lon[r], pt.lat[p], pt.lon[p]))
            tmin = int(self.problem.travel.travel_min(rt.lat[r], rt.lon[r], pt.lat[p], pt.lon[p]))
        ok = (reasons == FEASIBLE) & (pis != p)
        alts = [(pt.ids[q], round(float(k), 2)) for q, k in zip(pis[ok][:N_ALTERNATIVES], kms[ok][:N_ALTERNATIVES])]
        nearer = int(np.count_nonzero(ok & (kms < km)))
        fixed = rt.ids[r] in self.problem.fixed
        total = None if fixed else self._total_in_radius(r, len(pis))  # a confirmed placement is kept, not chosen
        counts = _radius_counts(len(pis), total) | {"feasible": int(np.count_nonzero(reasons == FEASIBLE)),
                                                    "nearer_used": nearer}
        alt_ko = ", ".join(f"{a} {k:.1f} km" for a, k in alts)
        if fixed:
            ko = f"확정 배정 유지: {pid} ({km:.1f} km, 이동 약 {tmin}분)"
            en = f"kept confirmed assignment: {pid} ({km:.1f} km, about {tmin} min)"
        else:
            feasible = counts["feasible"]
            ko = f"{pid} 배정: {km:.1f} km (이동 약 {tmin}분); "
            en = f"assigned to {pid}: {km:.1f} km (about {tmin} min); "
            if total is None:
                ko += f"반경 내 {_ko_n(len(pis))} 중 가능 {_ko_n(feasible)}"
                en += f"{feasible} of {_en_n(len(pis))} within radius could take it"
            else:
                ko += f"반경 내 {_ko_n(total)} 중 가까운 {_ko_n(len(pis))}만 검토, 가능 {_ko_n(feasible)}"
                en += f"{feasible} of the nearest {len(pis)} reviewed ({_en_n(total)} within radius) could take it"
            if nearer:
                ko += f"; 더 가까운 {_ko_n(nearer)}은 다른 요청 배정에 사용"
                en += f"; {_en_n(nearer, 'nearer provider')} used for other requests"
        if alts:
            ko += f"; 대안: {alt_ko}"
            en += f"; alternatives: {alt_ko}"
        return Explanation(request_id=rt.ids[r], provider_id=pid, distance_km=round(km, 3), alternatives=alts,
                           reason_code=None, counts=counts, summary_ko=ko, summary_en=en, travel_min=tmin, fixed=fixed)

    # -- unplaced ----------------------------------------------------------------------------

    def _unplaced(self, r: int) -> Explanation:
        cs, pt, rt, pr = self.cs, self.cs.pt, self.cs.rt, self.problem
        req = rt.requests[r]
        sl = cs.pairs_of(r)
        pis, kms, reasons = cs.all_pi[sl], cs.all_km[sl], cs.all_reason[sl].copy()
        n_in = len(pis)
        closes: list[int] = []
        opens: list[int] = []
        spans: dict[int, list[tuple[int, int]]] = {R_FULL: [], R_BUSY: []}
        by_plan = 0
        unused: list[str] = []
        for k, (p, why) in enumerate(zip(pis.tolist(), reasons.tolist())):
            prov = pt.providers[p]
            if why == R_CLOSED:
                inside = [iv for iv in prov.availability if iv.start <= req.start < iv.end]
                if inside:
                    closes.append(inside[0].end)
                else:
                    later = [iv.start for iv in prov.availability if req.start < iv.start < req.end]
                    if later:
                        opens.append(min(later))
            elif why in (R_FULL, R_BUSY, FEASIBLE):
                span = busy_span(prov, req.start, req.end, len(req.child_ages), req.location.lat, req.location.lon,
                                 self.items.get(p, ()), pr.travel)
                if span is None:
                    unused.append(pt.ids[p])
                    continue
                if why == FEASIBLE:
                    by_plan += 1
                    why = R_BUSY if prov.kind == "caregiver" else R_FULL
                    reasons[k] = why
                spans[why].append(span)
        total = self._total_in_radius(r, n_in)
        counts = _radius_counts(n_in, total)
        for code, name in enumerate(REASONS):
            c = int(np.count_nonzero(reasons == code))
            if c:
                counts[name] = c
        if by_plan:
            counts["full_by_plan"] = by_plan
        if unused:
            counts["not_selected"] = len(unused)

        ko_parts, en_parts = [], []
        if n_in == 0:
            d = haversine_km(rt.lat[r], rt.lon[r], pt.lat, pt.lon)
            near = float(d.min()) if len(d) else float("nan")
            counts["nearest_km_x10"] = int(round(near * 10)) if len(d) else -1
            ko_parts.append(f"반경 내 기관 없음 (가장 가까운 곳 {near:.1f} km)")
            en_parts.append(f"no provider within radius (nearest is {near:.1f} km away)")
            code = "no_provider_in_radius"
        else:
            if total is None:
                ko_parts.append(f"반경 내 {_ko_n(n_in)}")
                en_parts.append(f"{_en_n(n_in)} within radius")
            else:
                ko_parts.append(f"반경 내 {_ko_n(total)} 중 가까운 {_ko_n(n_in)}만 검토")
                en_parts.append(f"{_en_n(total)} within radius, the nearest {n_in} reviewed")
            named = {k: v for k, v in counts.items() if k in REASON_CODES}
            # The furthest rule any provider got to is the one the operator can act on.
            order = list(REASONS) + ["not_selected"]
            top = max(named, key=order.index) if named else "not_selected"
            code = REASON_CODES[top]
            self._phrases(counts, closes, opens, spans, unused, ko_parts, en_parts)

        if r not in self.suggestions:  # (none once the time limit is spent: reasons and counts only)
            self.suggestions.update(self.suggest_rows([r]))
        sugg, sugg_ko, sugg_en = self.suggestions.get(r, ([], [], []))
        ko = "; ".join(ko_parts)
        en = "; ".join(en_parts)
        if sugg_ko:
            ko += " → " + sugg_ko[0]
            en += " → " + sugg_en[0]
        return Explanation(request_id=rt.ids[r], provider_id=None, distance_km=None, alternatives=[],
                           reason_code=code, counts=counts, summary_ko=ko, summary_en=en, suggestions=sugg,
                           suggestions_ko=sugg_ko, suggestions_en=sugg_en)

    def _phrases(self, counts, closes, opens, spans, unused, ko, en) -> None:
        f, pr = self.fmt, self.problem
        simple = {
            "excluded": ("곳은 이미 거절/만료", "declined or let an offer expire"),
            "age": ("곳은 연령 범위 밖", "outside their age range"),
            "skill": ("곳은 필요한 돌봄(영아/특수) 불가", "lack a required skill"),
            "language": ("곳은 언어 불일치", "do not speak the language"),
            "too_many_children": ("곳은 아동 수 초과", "take fewer children per household"),
        }
        for key in ("excluded", "age", "skill", "language"):
            if key in counts:
                ko.append(f"{counts[key]}{simple[key][0]}")
                en.append(f"{counts[key]} {simple[key][1]}")
        if "closed" in counts:
            n = counts["closed"]
            if closes:
                t = f(max(closes))
                ko.append(f"{n}곳은 {t}에 마감" if len(closes) == n else f"{n}곳은 운영시간 밖 ({t} 마감 등)")
                en.append(f"{n} closed at {t}" if len(closes) == n else f"{n} outside opening hours (closing {t} etc.)")
            elif opens:
                t = f(min(opens))
                ko.append(f"{n}곳은 {t} 이후 운영")
                en.append(f"{n} open only from {t}")
            else:
                ko.append(f"{n}곳은 해당 시간 운영 안 함")
                en.append(f"{n} not available at that time")
        if "lead_time" in counts:
            h = pr.caregiver_lead_min / 60
            ko.append(f"{counts['lead_time']}곳은 방문 {h:g}시간 전 예약 필요")
            en.append(f"{counts['lead_time']} visiting caregivers need {h:g} h notice")
        if "too_many_children" in counts:
            ko.append(f"{counts['too_many_children']}{simple['too_many_children'][0]}")
            en.append(f"{counts['too_many_children']} {simple['too_many_children'][1]}")
        for key, word_ko, word_en in ((R_FULL, "정원 초과", "full"), (R_BUSY, "다른 방문 중", "busy with another visit")):
            if spans[key]:
                a, b = min(s for s, _ in spans[key]), max(e for _, e in spans[key])
                ko.append(f"{len(spans[key])}곳은 {f(a)}–{f(b)} {word_ko}")
                en.append(f"{len(spans[key])} {word_en} from {f(a)} to {f(b)}")
        if unused:
            ko.append(f"{len(unused)}곳은 여유 있으나 미선택 ({', '.join(unused[:3])})")
            en.append(f"{len(unused)} had room but were not used ({', '.join(unused[:3])})")

    # -- what would place it -----------------------------------------------------------------

    def suggest_rows(self, rows) -> dict[int, tuple[list[str], list[str], list[str]]]:
        """What would place each of the unplaced request rows: (codes, Korean, English), at most one of
        each kind (wider radius, shifted window, shorter window). Every candidate of every row is
        classified at once, against the plan's load: per row and kind the first that passes wins.
        Rows are taken in chunks (SUGGEST_CHUNK rows x providers); past `suggest_until` the rows
        left get none."""
        rows = np.asarray(list(rows), dtype=np.int64)
        out: dict[int, tuple[list[str], list[str], list[str]]] = {}
        if not len(self.cs.pt):  # no provider registered: nothing would place them
            return {int(r): ([], [], []) for r in rows}
        for chunk in np.array_split(rows, max(1, -(-len(rows) * len(self.cs.pt) // SUGGEST_CHUNK))):
            if self.suggest_until is not None and time.perf_counter() >= self.suggest_until:
                break
            if len(chunk):
                out.update({int(r): ([], [], []) for r in chunk})
                self._suggest_chunk(chunk, out)
        return out

    def _suggest_chunk(self, rows: np.ndarray, out) -> None:
        cs, pt, rt, pr = self.cs, self.cs.pt, self.cs.rt, self.problem
        # (row, provider, start, end, rank within its row and kind) of every candidate, per kind
        kinds: dict[str, tuple] = {}
        # Wider radius: the nearest provider outside its radius that passes every other rule.
        d = haversine_km(rt.lat[rows][:, None], rt.lon[rows][:, None], pt.lat[None, :], pt.lon[None, :])
        k, p = np.nonzero((d > pt.radius[None, :]) & (d <= WIDEN_MAX_KM))
        dk = d[k, p]
        order = np.lexsort((dk, k))
        k, p = k[order], p[order]
        kinds["widen"] = (rows[k], p, rt.start[rows][k], rt.end[rows][k], dk[order])
        # Providers in radius that fail only on time: a shifted window, nearest shift first, or a
        # window ending when one of the closed ones closes.
        sl = [cs.pairs_of(int(r)) for r in rows.tolist()]
        idx = np.concatenate([np.arange(a.start, a.stop) for a in sl]) if sl else np.zeros(0, np.int64)
        own = np.repeat(rows, [a.stop - a.start for a in sl])
        why, pis = cs.all_reason[idx], cs.all_pi[idx]
        timed = ~np.isin(why, [R_EXCLUDED, R_AGE, R_SKILL, R_LANGUAGE, R_TOO_MANY])
        tr, tp, tpos = own[timed], pis[timed], np.flatnonzero(timed)
        shifts = np.asarray(SHIFTS, dtype=np.int64)
        sr = np.repeat(tr, len(shifts))
        sp = np.repeat(tp, len(shifts))
        sdt = np.tile(shifts, len(tr))
        rank = np.tile(np.arange(len(shifts)), len(tr)) * (len(idx) + 1) + np.repeat(tpos, len(shifts))
        ok = rt.start[sr] + sdt >= pr.now
        sr, sp, sdt, rank = sr[ok], sp[ok], sdt[ok], rank[ok]
        kinds["shift"] = (sr, sp, rt.start[sr] + sdt, rt.end[sr] + sdt, rank)
        closed = timed & (why == R_CLOSED)
        cr, cp = own[closed], pis[closed]
        s0 = rt.start[cr]
        # the first opening interval (in the provider's order) that holds the start and lasts an hour
        inside = (pt.av_start[cp] <= s0[:, None]) & (s0[:, None] < pt.av_end[cp]) & (pt.av_end[cp] - s0[:, None] >= 60)
        has = inside.any(axis=1)
        ends = pt.av_end[cp, inside.argmax(axis=1)]
        kinds["shorten"] = (cr[has], cp[has], s0[has], ends[has], np.flatnonzero(closed)[has])

        # Commitments plus the plan as load, at the providers these rows can reach: a pair that
        # classify() passes against it fits the plan as it stands.
        near = (d <= max(float(pt.radius.max()), WIDEN_MAX_KM) + 1.0).any(axis=0)
        loads = base_loads(pr, pt, rt, self.assignments, only=near)
        for kind, (r_, p_, s_, e_, rank_) in kinds.items():
            if not len(r_):
                continue
            fits = classify(pr, pt, rt, r_, p_, loads, start=s_, end=e_) == FEASIBLE
            r_, p_, s_, e_, rank_ = r_[fits], p_[fits], s_[fits], e_[fits], rank_[fits]
            order = np.lexsort((rank_, r_))
            first = order[np.r_[True, r_[order][1:] != r_[order][:-1]]] if len(order) else order
            for j in first.tolist():
                r, q = int(r_[j]), int(p_[j])
                codes, ko, en = out[r]
                pid = pt.ids[q]
                if kind == "widen":
                    km = float(rank_[j])
                    codes.append(f"widen_radius:{km:.1f}km")
                    ko.append(f"반경을 {km:.1f} km로 넓히면 {pid} 가능")
                    en.append(f"widening the radius to {km:.1f} km would place it with {pid}")
                elif kind == "shift":
                    m = int(s_[j] - rt.start[r])
                    codes.append(f"shift_window:{m:+d}min")
                    ko.append(f"시간을 {m:+d}분 옮기면 {pid} 가능")
                    en.append(f"shifting the window by {m:+d} min would place it with {pid}")
                else:
                    t = self.fmt(int(e_[j]))
                    codes.append(f"shorten_window:end={t}")
                    ko.append(f"종료를 {t}로 당기면 {pid} 가능")
                    en.append(f"ending at {t} would place it with {pid}")
