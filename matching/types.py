"""Plain dataclasses exchanged with the hotline: requests, providers, the problem and the plan.

Times are integer minutes on an axis the caller chooses (the hotline uses minutes since the Unix
epoch, UTC); intervals are half-open [start, end). The library never reads a clock: `now` is input.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Mapping, Sequence

from .distance import GreatCircle, TravelModel


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float


@dataclass(frozen=True)
class Interval:
    start: int
    end: int

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"empty interval [{self.start}, {self.end})")


@dataclass(frozen=True)
class Commitment:
    """Care the provider already gives (another booking, a confirmed visit): uses capacity."""

    start: int
    end: int
    children: int
    location: Location | None = None  # caregivers: where the visit is; None = the provider's base
    request_id: str | None = None


@dataclass(frozen=True)
class Request:
    id: str
    child_ages: tuple[int, ...]
    start: int
    end: int
    location: Location
    needs: frozenset[str] = frozenset()  # skills required, e.g. {"infant", "special_needs"}
    language: str = "ko"  # the provider must speak it
    priority: int = 1  # positive weight; see urgency_priority()

    def __post_init__(self) -> None:
        if not self.child_ages:
            raise ValueError(f"request {self.id}: no children")
        if self.end <= self.start:
            raise ValueError(f"request {self.id}: empty window")
        if self.priority < 1:
            raise ValueError(f"request {self.id}: priority must be positive")

    @property
    def children(self) -> int:
        return len(self.child_ages)


@dataclass(frozen=True)
class Provider:
    """A facility (capacity = children at once) or a visiting caregiver.

    A caregiver serves one household at a time and travels between visits; its `capacity` is the
    largest number of children it takes in one household.
    """

    id: str
    kind: Literal["facility", "caregiver"]
    location: Location
    capacity: int
    availability: tuple[Interval, ...]
    commitments: tuple[Commitment, ...] = ()
    min_age: int = 0
    max_age: int = 12
    skills: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset({"ko"})
    radius_km: float = 5.0

    def __post_init__(self) -> None:
        if self.kind not in ("facility", "caregiver"):
            raise ValueError(f"provider {self.id}: unknown kind {self.kind!r}")


@dataclass
class Problem:
    requests: Sequence[Request]
    providers: Sequence[Provider]
    now: int
    exclude: frozenset[tuple[str, str]] = frozenset()  # (request_id, provider_id): declined or expired
    fixed: Mapping[str, str] = field(default_factory=dict)  # request_id -> provider_id, confirmed: kept
    hint: Mapping[str, str] = field(default_factory=dict)  # warm start from the previous plan
    travel: TravelModel = field(default_factory=GreatCircle)
    caregiver_lead_min: int = 120
    tz_offset_min: int = 540  # for HH:MM in explanations; KST by default
    # per request, only the nearest this many providers whose radius holds it are paired (all at the last
    # one's distance); None: every one. A caller with thousands in reach of each request sets it.
    nearest: int | None = None
    # request_id -> how many providers the caller counts within its radius, when the problem holds only the
    # nearest of them: explanations name both numbers (a cut by `nearest` is counted by the solver itself)
    in_radius: Mapping[str, int] = field(default_factory=dict)

    def format_time(self, t: int) -> str:
        m = (t + self.tz_offset_min) % 1440
        return f"{m // 60:02d}:{m % 60:02d}"


@dataclass
class Explanation:
    request_id: str
    provider_id: str | None
    distance_km: float | None  # road km by the problem's travel model
    alternatives: list[tuple[str, float]]  # runner-up provider ids with road km, nearest first
    reason_code: str | None  # None when placed; else e.g. "no_provider_in_radius", "capacity_full", "closed"
    counts: dict[str, int]  # figures behind the decision, e.g. {"in_radius": 3, "closed": 2, "full": 1}
    summary_ko: str
    summary_en: str
    suggestions: list[str] = field(default_factory=list)  # codes, e.g. "widen_radius:7.5km", "shift_window:+60min"
    suggestions_ko: list[str] = field(default_factory=list)
    suggestions_en: list[str] = field(default_factory=list)
    travel_min: int | None = None
    fixed: bool = False  # kept from a confirmed assignment


@dataclass
class Candidate:
    provider_id: str
    distance_km: float  # road km
    travel_min: int
    explanation: str  # Korean, for the operator console
    explanation_en: str = ""
    kind: str = "facility"
    straight_km: float = 0.0
    spare: int = 0  # children the provider could still take during the window (caregivers: household size)


@dataclass
class Plan:
    assignments: dict[str, str]  # request_id -> provider_id (fixed ones included)
    explanations: dict[str, Explanation]  # one for every request in the problem
    status: str  # "optimal" | "feasible" | "greedy" | "incremental"
    placed: int
    placed_weight: int  # sum of priorities of placed requests (objective level 1)
    total_km: float  # road km over all assignments (objective level 2)
    fairness: int = 0  # objective level 3 (lower is more even), over solver-decided requests
    placed_weight_bound: int | None = None  # proven upper bound on level 1
    total_km_bound: float | None = None  # proven lower bound on level 2 given level 1 as found
    gaps: dict[str, float | None] = field(default_factory=dict)  # per level: "placed_weight", "total_km", "fairness"
    gap: float | None = None  # worst of the level-1 and level-2 gaps; 0.0 when proven optimal
    build_s: float = 0.0  # candidates + model building
    solve_s: float = 0.0  # time inside CP-SAT
    explain_s: float = 0.0
    components: int = 0  # independent parts solved
    candidate_pairs: int = 0
