"""Hypothesis strategies for small random matching problems (a few km, a few hours)."""

from __future__ import annotations

from hypothesis import strategies as st

from matching import Commitment, Interval, Location, Problem, Provider, Request

LAT0, LON0 = 37.27, 127.03
SKILLS = ["infant", "special_needs"]


def location():
    # About 4 km x 4 km, so radii of 1-5 km leave some pairs out.
    return st.builds(Location, st.floats(LAT0, LAT0 + 0.03), st.floats(LON0, LON0 + 0.04))


@st.composite
def window(draw, lo=0, hi=600):
    start = draw(st.integers(lo, hi - 60)) // 30 * 30
    length = draw(st.sampled_from([60, 90, 120, 180, 240]))
    return start, start + length


@st.composite
def provider(draw, i: int, kinds=("facility", "caregiver")):
    kind = draw(st.sampled_from(kinds))
    loc = draw(location())
    cap = draw(st.integers(1, 5)) if kind == "facility" else draw(st.integers(2, 3))
    if draw(st.integers(0, 2)):
        av = [Interval(-60, 900)]  # open all day, most of the time
    else:
        av = []
        for _ in range(draw(st.integers(1, 2))):
            s, e = draw(window(0, 800))
            av.append(Interval(s, s + draw(st.integers(2, 12)) * 60))
    coms = []
    free = cap
    for _ in range(draw(st.integers(0, 2 if kind == "facility" else 1))):
        if free < 1:
            break
        s, e = draw(window())
        n = draw(st.integers(1, free)) if kind == "facility" else draw(st.integers(1, cap))
        free -= n if kind == "facility" else 0
        where = draw(st.one_of(st.none(), location())) if kind == "caregiver" else None
        coms.append(Commitment(s, e, n, where))
    lo = draw(st.sampled_from([0, 0, 0, 0, 3]))
    return Provider(
        id=f"P{i}", kind=kind, location=loc, capacity=cap, availability=tuple(av), commitments=tuple(coms),
        min_age=lo, max_age=draw(st.sampled_from([12, 12, 12, 12, 10])),
        skills=frozenset(draw(st.sets(st.sampled_from(SKILLS)))),
        languages=frozenset({"ko"} | draw(st.sets(st.just("en")))), radius_km=draw(st.floats(1.5, 6.0)),
    )


@st.composite
def request(draw, i: int, max_children: int = 3, win=None):
    s, e = draw(window()) if win is None else win
    n = draw(st.integers(1, max_children))
    ages = tuple(draw(st.lists(st.integers(1, 11), min_size=n, max_size=n)))
    return Request(
        id=f"R{i}", child_ages=ages, start=s, end=e, location=draw(location()),
        needs=frozenset(draw(st.sets(st.sampled_from(SKILLS), max_size=1))) if draw(st.integers(0, 5)) == 0
        else frozenset(),
        language="en" if draw(st.integers(0, 9)) == 0 else "ko", priority=draw(st.integers(1, 4)),
    )


@st.composite
def problem(draw, max_requests: int = 8, max_providers: int = 5, with_extras: bool = True):
    provs = [draw(provider(i)) for i in range(draw(st.integers(1, max_providers)))]
    reqs = [draw(request(i)) for i in range(draw(st.integers(1, max_requests)))]
    exclude = frozenset()
    hint = {}
    if with_extras:
        pairs = [(r.id, p.id) for r in reqs for p in provs]
        exclude = frozenset(draw(st.lists(st.sampled_from(pairs), max_size=2))) if pairs else frozenset()
        hint = {r.id: draw(st.sampled_from(provs)).id for r in reqs if draw(st.booleans())}
    return Problem(requests=reqs, providers=tuple(provs), now=draw(st.integers(-150, 30)), exclude=exclude,
                   hint=hint, caregiver_lead_min=draw(st.sampled_from([0, 60, 120])))


def random_problem(seed: int, max_requests: int = 10, max_providers: int = 5) -> Problem:
    """Same shape as `problem()`, drawn with numpy from a seed: cheap enough for thousands."""
    import numpy as np

    rng = np.random.default_rng(seed)

    def loc() -> Location:
        return Location(LAT0 + rng.uniform(0, 0.03), LON0 + rng.uniform(0, 0.04))

    def win(hi: int = 600) -> tuple[int, int]:
        s = int(rng.integers(0, hi - 59)) // 30 * 30
        return s, s + int(rng.choice([60, 90, 120, 180, 240]))

    provs = []
    for i in range(int(rng.integers(1, max_providers + 1))):
        kind = "facility" if rng.random() < 0.6 else "caregiver"
        cap = int(rng.integers(1, 6)) if kind == "facility" else int(rng.integers(2, 4))
        av = [Interval(-60, 900)] if rng.random() < 0.65 else []
        for _ in range(0 if av else int(rng.integers(1, 3))):
            s, _ = win(800)
            av.append(Interval(s, s + int(rng.integers(2, 13)) * 60))
        coms, free = [], cap
        for _ in range(int(rng.integers(0, 3 if kind == "facility" else 2))):
            if free < 1:
                break
            s, e = win()
            n = int(rng.integers(1, free + 1)) if kind == "facility" else int(rng.integers(1, cap + 1))
            free -= n if kind == "facility" else 0
            where = (loc() if rng.random() < 0.5 else None) if kind == "caregiver" else None
            coms.append(Commitment(s, e, n, where))
        provs.append(Provider(
            id=f"P{i}", kind=kind, location=loc(), capacity=cap, availability=tuple(av), commitments=tuple(coms),
            min_age=int(rng.choice([0, 0, 0, 0, 3])), max_age=int(rng.choice([12, 12, 12, 12, 10])),
            skills=frozenset(s for s in SKILLS if rng.random() < 0.6),
            languages=frozenset({"ko", "en"} if rng.random() < 0.3 else {"ko"}), radius_km=float(rng.uniform(1.5, 6)),
        ))
    reqs = []
    for i in range(int(rng.integers(1, max_requests + 1))):
        s, e = win()
        n = int(rng.integers(1, 4))
        reqs.append(Request(
            id=f"R{i}", child_ages=tuple(int(a) for a in rng.integers(1, 12, n)), start=s, end=e, location=loc(),
            needs=frozenset({SKILLS[int(rng.integers(0, 2))]}) if rng.random() < 0.15 else frozenset(),
            language="en" if rng.random() < 0.1 else "ko", priority=int(rng.integers(1, 5)),
        ))
    pairs = [(r.id, p.id) for r in reqs for p in provs]
    exclude = frozenset(pairs[int(k)] for k in rng.integers(0, len(pairs), int(rng.integers(0, 2))))
    hint = {r.id: provs[int(rng.integers(0, len(provs)))].id for r in reqs if rng.random() < 0.5}
    return Problem(requests=reqs, providers=tuple(provs), now=int(rng.integers(-150, 31)), exclude=exclude,
                   hint=hint, caregiver_lead_min=int(rng.choice([0, 60, 120])))
