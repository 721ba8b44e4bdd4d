"""Benchmark: CP-SAT against the greedy baselines and an exact MILP on seeded instances (`dolbom bench`).

    python -m matching.bench [--sizes S,M,Mc,L,C600,C1000,XL] [--seeds N] [--json FILE] [--png FILE]
                             [--incremental N] [--no-reference] [--repeat 3] [--reference-limit S]
                             [--reference-cache FILE [--cached-reference-only]]

For each size (multi-seed sizes C600 / C1000 on 3 seeds, the surge days S100..S2000 of surge.py on
5): the solver at the service's default limit (`cpsat`; S2000 and XL 4.5 s, judged against 5 s),
at 5 s (`cpsat-5s`, contended sizes), at 1.8 s on L (`cpsat-1.8s`: the km proof at 2 s end to end),
the exact reference (`exact-highs`: HiGHS on every feasible pair, S/M/Mc/L/C600/C1000 and the surge
sizes; kept in --reference-cache between runs), both greedy baselines, reproducible mode run
--repeat times (`cpsat-reproducible`, contended sizes) and incremental mode (N new calls one by
one against the plan, generator.py's sizes). Prints a table and writes JSON rows {size, seed,
solver, requests, providers, placed, placed_weight, total_km, gap, wall_s, cpu_s, load1, p50_ms,
p99_ms, ...} and a PNG chart; the run ends with one [ok]/[FAIL] line per acceptance claim.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from .cpsat import solve
from .generator import SIZES, generate, more_requests
from .surge import SURGE_SIZES, generate_surge
from .greedy import greedy_call_order, greedy_most_constrained
from .incremental import solve_incremental
from .reference import exact_reference
from .relaxation import LpProcess
from .types import Plan, Problem

DEFAULT_LIMIT_S = 1.0  # the service's limit (solve's default)
# XL's build alone takes ~2 s and S2000 is a surge of 2,000 calls: both judged against 5 s end to end.
TIME_LIMIT_S = {"XL": 4.5, "S2000": 4.5}
LONG_LIMIT_S = 5.0
KM_PROOF_LIMIT_S = {"L": 1.8}  # a second row whose km gap is judged against 2 % at 2 s end to end
SURGE = set(SURGE_SIZES)  # surge days from surge.py: 5 seeds each
REFERENCE_SIZES = {"S", "M", "Mc", "L", "C600", "C1000"} | SURGE
CONTENDED = {"Mc", "C600", "C1000"} | SURGE
MULTI_SEED = {"C600", "C1000"} | SURGE
SEEDS = {size: 5 for size in SURGE}  # per size; others take --seeds (3)
REFERENCE_LIMIT_S = 120.0
# HiGHS needs minutes on these
REFERENCE_LIMIT = {"S600": 1800.0, "S600t": 1800.0, "S600c": 1800.0, "S1000": 3600.0, "S2000": 3600.0}
ALL_SIZES = {**SIZES, **SURGE_SIZES}


class _ReferenceCache:
    """Exact reference rows kept in a JSON file between runs (`--reference-cache`): HiGHS needs up to an
    hour per surge instance, and its optimum does not change with the solver under test. An entry is
    keyed by the instance's fingerprint, so a changed generator never reuses a stale optimum."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self.rows: dict[str, dict] = {}
        self.only = False  # use what the file has, compute nothing

    def open(self, path: str | None, only: bool = False) -> None:
        self.path, self.only = (Path(path) if path else None), only
        self.rows = json.loads(self.path.read_text()) if self.path and self.path.exists() else {}

    def get(self, key: str) -> dict | None:
        return self.rows.get(key)

    def put(self, key: str, row: dict) -> None:
        self.rows[key] = row
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(self.rows, indent=1, sort_keys=True))


reference_cache = _ReferenceCache()


def fingerprint(pr: Problem) -> str:
    """A short hash of everything the optimum depends on."""
    import hashlib

    def canon(v):  # sets in sorted order: their repr follows the process's string hashing
        if isinstance(v, (set, frozenset)):
            return sorted(canon(x) for x in v)
        if isinstance(v, (list, tuple)):
            return [canon(x) for x in v]
        if hasattr(v, "__dataclass_fields__"):
            return [type(v).__name__] + [canon(getattr(v, f)) for f in v.__dataclass_fields__]
        return v

    text = repr(canon((list(pr.requests), list(pr.providers), pr.now, pr.exclude, sorted(pr.fixed.items()), pr.travel,
                       pr.caregiver_lead_min)))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def make(size: str, seed: int | None = None) -> Problem:
    """The instance of a named size (generator.py or surge.py) and seed."""
    return generate_surge(size, seed=seed) if size in SURGE_SIZES else generate(size, seed=seed)


@contextlib.contextmanager
def _quiet_stdout():
    """HiGHS prints a banner from C++ straight to file descriptor 1."""
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            yield
        finally:
            os.dup2(saved, 1)
            os.close(saved)


def _row(size: str, seed: int, solver: str, pr: Problem, plan: Plan, wall: float) -> dict:
    unplaced = [e for e in plan.explanations.values() if e.provider_id is None]
    return {
        "size": size, "seed": seed, "solver": solver, "requests": len(pr.requests), "providers": len(pr.providers),
        "placed": plan.placed, "total_km": round(plan.total_km, 3),
        "gap": None if plan.gap is None else round(plan.gap, 6),
        "wall_s": round(wall, 4), "p50_ms": None, "p99_ms": None,
        "placed_weight": plan.placed_weight, "placed_weight_bound": plan.placed_weight_bound,
        "total_km_bound": None if plan.total_km_bound is None else round(plan.total_km_bound, 3),
        "gaps": {k: (None if v is None else round(v, 6)) for k, v in plan.gaps.items()} or None,
        "status": plan.status, "build_s": round(plan.build_s, 4), "solve_s": round(plan.solve_s, 4),
        "explain_s": round(plan.explain_s, 4), "components": plan.components or None,
        "candidate_pairs": plan.candidate_pairs,
        "unplaced": len(unplaced),
        "unplaced_without_reason": sum(1 for e in unplaced if not e.reason_code or not e.counts),
    }


def run_size(size: str, seed: int | None, n_incremental: int, reference: bool = True, repeat: int = 3,
             log=print) -> list[dict]:
    pr = make(size, seed=seed)
    seed = ALL_SIZES[size].seed if seed is None else seed
    rows = []
    limit = TIME_LIMIT_S.get(size, DEFAULT_LIMIT_S)

    def timed(name: str, fn, lim: float | None = None, problem: Problem | None = None, **extra):
        load = os.getloadavg()[0]
        t, c = time.perf_counter(), time.process_time()
        plan = fn()
        rows.append(_row(size, seed, name, problem or pr, plan, time.perf_counter() - t))
        rows[-1].update(extra)
        rows[-1]["time_limit_s"] = lim
        # what the machine gave: this process's CPU seconds (2 cores: up to 2x wall) and the load before
        rows[-1]["cpu_s"] = round(time.process_time() - c, 4)
        rows[-1]["load1"] = round(load, 2)
        log(_fmt(rows[-1]))
        return plan

    plan = timed("cpsat", lambda: solve(pr, time_limit_s=limit), limit)
    if size in KM_PROOF_LIMIT_S:  # issue 23: the total km proven within 2 % at <= 2 s end to end
        timed(f"cpsat-{KM_PROOF_LIMIT_S[size]}s", lambda: solve(pr, time_limit_s=KM_PROOF_LIMIT_S[size]),
              KM_PROOF_LIMIT_S[size])
    if size in CONTENDED:
        plan5 = timed("cpsat-5s", lambda: solve(pr, time_limit_s=LONG_LIMIT_S), LONG_LIMIT_S)
    if size in SURGE:  # the next sweep: 5 % of the calls settled meanwhile, the last plan as the warm start
        rng = np.random.default_rng(seed)
        gone = set(rng.choice([r.id for r in pr.requests], size=len(pr.requests) // 20, replace=False).tolist())
        nxt = replace(pr, requests=[r for r in pr.requests if r.id not in gone],
                      hint={r: p for r, p in plan5.assignments.items() if r not in gone})
        prio = {r.id: r.priority for r in nxt.requests}
        for name, problem in (("cpsat-next-cold", replace(nxt, hint={})), ("cpsat-next-warm", nxt)):
            timed(name, lambda: solve(problem, time_limit_s=limit), limit, problem,
                  hint_weight=sum(prio[r] for r in nxt.hint))
    if reference and size in REFERENCE_SIZES:
        ref_limit = REFERENCE_LIMIT.get(size, REFERENCE_LIMIT_S)
        key = f"{size}#{seed}:{fingerprint(pr)}"
        row = reference_cache.get(key)
        if reference_cache.only and row is None:
            pass
        elif row is None or (row["status"] != "optimal" and row["time_limit_s"] < ref_limit and not reference_cache.only):
            with _quiet_stdout():
                ref = exact_reference(pr, time_limit_s=ref_limit)
            row = {
                "size": size, "seed": seed, "solver": "exact-highs", "requests": len(pr.requests),
                "providers": len(pr.providers), "placed": ref.placed, "total_km": round(ref.total_km, 3),
                "gap": 0.0 if ref.status == "optimal" else None, "wall_s": round(ref.wall_s, 4), "p50_ms": None,
                "p99_ms": None, "placed_weight": ref.placed_weight, "placed_weight_bound": ref.placed_weight_bound,
                "km_units": ref.units, "status": ref.status, "time_limit_s": ref_limit,
            }
            reference_cache.put(key, row)
        else:
            row = dict(row, cached=True)
        if row is not None:
            rows.append(row)
            log(_fmt(rows[-1]))
    for name, fn in (("greedy", greedy_call_order), ("greedy-constrained", greedy_most_constrained)):
        timed(name, lambda: fn(pr))
        rows[-1]["gap"] = None
    if size in CONTENDED and repeat:
        plans = []
        t = time.perf_counter()
        for _ in range(repeat):
            plans.append(solve(pr, time_limit_s=limit, reproducible=True))
        rows.append(_row(size, seed, "cpsat-reproducible", pr, plans[-1], (time.perf_counter() - t) / repeat))
        rows[-1]["time_limit_s"] = limit
        rows[-1]["runs"] = repeat
        rows[-1]["same_plan"] = all(p.assignments == plans[0].assignments for p in plans)
        log(_fmt(rows[-1]))
    if n_incremental and size in SIZES:  # new calls come from generator.py's geography
        rows.append(run_incremental(size, pr, plan, n_incremental))
        rows[-1]["seed"] = seed
        log(_fmt(rows[-1]))
    return rows


def run_incremental(size: str, pr: Problem, plan: Plan, n: int) -> dict:
    """New calls one at a time against the current plan; the plan grows as they are placed."""
    spec = SIZES[size]
    new = more_requests(size, n, seed=spec.seed + 1000)
    requests = list(pr.requests)
    lat: list[float] = []
    placed = 0
    km0 = plan.total_km
    for req in new:
        requests.append(req)
        problem = replace(pr, requests=requests)
        t = time.perf_counter()
        plan = solve_incremental(problem, req.id, plan)
        lat.append(time.perf_counter() - t)
        placed += req.id in plan.assignments
    ms = np.asarray(lat) * 1000
    return {
        "size": size, "solver": "cpsat-incremental", "requests": n, "providers": len(pr.providers),
        "placed": placed, "total_km": round(plan.total_km - km0, 3), "gap": None,
        "wall_s": round(float(np.sum(lat)), 4), "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2), "max_ms": round(float(ms.max()), 2),
        "base_requests": len(pr.requests), "status": "incremental",
        "unplaced_without_reason": sum(1 for r in new if r.id not in plan.assignments
                                       and not (plan.explanations[r.id].reason_code and plan.explanations[r.id].counts)),
    }


HEADER = (f"{'size#seed':<9} {'solver':<20} {'req':>5} {'prov':>5} {'placed':>6} {'weight':>6} {'total_km':>9} "
          f"{'gap':>8} {'build_s':>8} {'solve_s':>8} {'wall_s':>7} {'cpu_s':>6} {'p50_ms':>7} {'p99_ms':>7} status")


def _fmt(r: dict) -> str:
    def num(v, f):
        return "-" if v is None else format(v, f)

    return (f"{r['size'] + '#' + str(r.get('seed', '')):<9} {r['solver']:<20} {r['requests']:>5} {r['providers']:>5} {r['placed']:>6} "
            f"{num(r.get('placed_weight'), 'd'):>6} {r['total_km']:>9.1f} {num(r['gap'], '.4%'):>8} "
            f"{num(r.get('build_s'), '.3f'):>8} {num(r.get('solve_s'), '.3f'):>8} {r['wall_s']:>7.3f} "
            f"{num(r.get('cpu_s'), '.2f'):>6} "
            f"{num(r['p50_ms'], '.1f'):>7} {num(r['p99_ms'], '.1f'):>7} {r.get('status', '')}")


def acceptance(rows: list[dict]) -> list[str]:
    """Plain-language checks of the issue's acceptance claims, one line each."""
    out = []
    by = {(r["size"], r["seed"], r["solver"]): r for r in rows}

    def line(ok: bool, text: str) -> None:
        out.append(f"[{'ok' if ok else 'FAIL'}] {text}")

    for size, seed in dict.fromkeys((r["size"], r["seed"]) for r in rows):
        tag = f"{size}#{seed}"
        c = by.get((size, seed, "cpsat"))
        if c is None:
            continue
        ref = by.get((size, seed, "exact-highs"))
        if ref is None and size in SURGE:
            line(False, f"{tag}: no exact reference (not in the cache, or --no-reference): claim unchecked")
        km_rows = [f"cpsat-{KM_PROOF_LIMIT_S[size]}s"] if size in KM_PROOF_LIMIT_S else []
        for name in ["cpsat", "cpsat-5s", "cpsat-reproducible"] + km_rows:
            x = by.get((size, seed, name))
            if x is None:
                continue
            if name != "cpsat-reproducible":
                line(x["wall_s"] <= x["time_limit_s"] * 1.1, f"{tag} {name}: wall {x['wall_s']:.3f} s, limit "
                     f"{x['time_limit_s']} s (+10 %)")
            # the weight claims need level 1 proven only (HiGHS may run out of time on the km level)
            if ref and (ref["status"] == "optimal" or ref["placed_weight_bound"] == ref["placed_weight"]):
                opt = ref["placed_weight"]
                line(x["placed_weight"] >= opt * 0.995, f"{tag} {name}: placed weight {x['placed_weight']} vs optimum "
                     f"{opt} ({x['placed']} vs {ref['placed']} requests)")
                line(x["placed_weight_bound"] >= opt, f"{tag} {name}: bound {x['placed_weight_bound']} >= optimum {opt}")
                if (x["status"] == "optimal" or x["gap"] == 0) and ref["status"] == "optimal":
                    same = x["placed_weight"] == opt and round(x["total_km"] * 100) <= ref["km_units"] + x["placed"]
                    line(same, f"{tag} {name}: gap 0 / {x['status']} and the optimum agrees "
                         f"(km {x['total_km']:.1f} vs {ref['total_km']:.1f})")
            elif ref and name == "cpsat":  # the claim cannot be checked: say so, and check what can be
                line(False, f"{tag}: the exact reference proved no optimum in {ref['time_limit_s']:.0f} s (its best "
                     f"{ref['placed_weight']}, bound {ref['placed_weight_bound']}): claim unchecked")
                line(x["placed_weight_bound"] >= ref["placed_weight"], f"{tag} {name}: bound "
                     f"{x['placed_weight_bound']} >= the reference's best {ref['placed_weight']}")
        for name in [f"cpsat-{KM_PROOF_LIMIT_S[size]}s"] if size in KM_PROOF_LIMIT_S else []:
            x = by.get((size, seed, name))  # issue 23: km proven within 2 % at <= 2 s, or near the exact 2nd stage
            km_gap = (x.get("gaps") or {}).get("total_km")
            line(km_gap is not None and km_gap <= 0.02 and x["wall_s"] <= 2.0, f"{tag} {name}: total km gap "
                 f"{km_gap if km_gap is None else f'{km_gap:.2%}'} proven (target 2 %) at {x['wall_s']:.2f} s (target 2 s)")
            if ref and ref["status"] == "optimal" and ref["placed_weight"] == x["placed_weight"]:
                line(x["total_km"] <= ref["total_km"] * 1.005, f"{tag} {name}: total km {x['total_km']:.1f} vs the "
                     f"exact second stage {ref['total_km']:.1f} (target within 0.5 %)")
        for g in ("greedy", "greedy-constrained"):
            b = by.get((size, seed, g))
            if b:
                ok = c["placed_weight"] > b["placed_weight"] or (
                    c["placed_weight"] == b["placed_weight"] and c["total_km"] <= b["total_km"] + 1e-6)
                line(ok, f"{tag}: cpsat weight {c['placed_weight']} vs {g} {b['placed_weight']} "
                     f"(km {c['total_km']:.1f} vs {b['total_km']:.1f})")
        warm, cold = by.get((size, seed, "cpsat-next-warm")), by.get((size, seed, "cpsat-next-cold"))
        if warm and cold:
            line(warm["placed_weight"] >= warm["hint_weight"], f"{tag}: next sweep warm-started from the last plan: "
                 f"weight {warm['placed_weight']} (cold {cold['placed_weight']}, the last plan's "
                 f"{warm['hint_weight']})")
        r = by.get((size, seed, "cpsat-reproducible"))
        if r:
            line(r["same_plan"], f"{tag}: reproducible mode gave the same plan in {r['runs']} runs")
        i = by.get((size, seed, "cpsat-incremental"))
        if i:
            target = 50 if size in CONTENDED else 20
            line(i["p99_ms"] <= target, f"{tag}: incremental p50 {i['p50_ms']} ms, p99 {i['p99_ms']} ms "
                 f"(target {target} ms)")
        missing = sum(x.get("unplaced_without_reason", 0) for x in rows if (x["size"], x["seed"]) == (size, seed))
        line(missing == 0, f"{tag}: unplaced requests without a reason: {missing}")
    return out


def plot(rows: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = list(dict.fromkeys(r["size"] for r in rows))
    batch = ["cpsat", "exact-highs", "greedy", "greedy-constrained"]
    colors = {"cpsat": "#1f77b4", "exact-highs": "#aec7e8", "greedy": "#ff7f0e", "greedy-constrained": "#ffbb78"}
    first_seed = {}
    for r in rows:
        first_seed.setdefault(r["size"], r.get("seed"))
    rows = [r for r in rows if r.get("seed") == first_seed[r["size"]]]  # one seed per size in the chart
    by = {(r["size"], r["solver"]): r for r in rows}
    fig, axes = plt.subplots(2, 3, figsize=(18, 10))
    (ax_placed, ax_km, ax_gap), (ax_wall, ax_inc, ax_text) = axes
    x = np.arange(len(sizes))
    width = 0.2

    def bars(ax, value, label, log=False):
        for k, s in enumerate(batch):
            pos = x + (k - (len(batch) - 1) / 2) * width
            got = [(p, by[(z, s)]) for p, z in zip(pos, sizes) if (z, s) in by]
            if not got:
                continue
            ys = [value(r) for _, r in got]
            ax.bar([p for p, _ in got], ys, width, label=s, color=colors[s])
            for (p, r), y in zip(got, ys):
                ax.annotate(label(r), (p, y), ha="center", va="bottom", fontsize=7, rotation=90,
                            xytext=(0, 2), textcoords="offset points")
        ax.set_xticks(x, [f"{z}\n{by[(z, 'cpsat')]['requests']}/{by[(z, 'cpsat')]['providers']}"
                          if (z, "cpsat") in by else z for z in sizes])
        ax.set_xlabel("size (requests/providers)", fontsize=8)
        if log:
            ax.set_yscale("log")

    bars(ax_placed, lambda r: 100 * r["placed"] / r["requests"], lambda r: str(r["placed"]))
    lo = min(100 * r["placed"] / r["requests"] for r in rows if r["solver"] in batch)
    ax_placed.set_ylim(max(0, lo - 8), 101)
    ax_placed.set_title("placed requests (% of requests; label = count)")

    def km_rel(r):
        base = by.get((r["size"], "cpsat"))
        return 100 * r["total_km"] / base["total_km"] if base and base["total_km"] else 0

    bars(ax_km, km_rel, lambda r: f"{r['total_km']:.0f} km")
    ax_km.set_ylim(70, 125)
    ax_km.axhline(100, color="grey", linewidth=0.8)
    ax_km.set_title("total road km (CP-SAT = 100; fewer placed means fewer trips)")

    gaps = [by.get((z, "cpsat"), {}).get("gap") for z in sizes]
    ax_gap.bar(x, [100 * (g or 0) for g in gaps], 0.5, color=colors["cpsat"])
    for xi, z, g in zip(x, sizes, gaps):
        st = by.get((z, "cpsat"), {}).get("status", "")
        ax_gap.annotate("n/a" if g is None else f"{100 * g:.3f} %\n{st}", (xi, 100 * (g or 0)), ha="center",
                        va="bottom", fontsize=9, xytext=(0, 2), textcoords="offset points")
    ax_gap.axhline(0.5, color="red", linestyle="--", linewidth=1, label="0.5 % target")
    ax_gap.set_ylim(0, 1.0)
    ax_gap.set_xticks(x, sizes)
    ax_gap.set_title("CP-SAT gap to its own proven bound (levels 1-2, %)")
    ax_gap.legend(fontsize=8)

    bars(ax_wall, lambda r: r["wall_s"], lambda r: f"{r['wall_s']:.3f} s", log=True)
    for xi, z in zip(x, sizes):
        limit = by.get((z, "cpsat"), {}).get("time_limit_s")
        if limit:
            ax_wall.hlines(limit, xi - 0.45, xi + 0.45, color="red", linestyle="--", linewidth=1)
    ax_wall.set_ylim(top=30)
    ax_wall.set_title("wall time (s, log; red = CP-SAT time limit)")

    inc = [by.get((z, "cpsat-incremental")) for z in sizes]
    for k, key in enumerate(("p50_ms", "p99_ms")):
        vals = [np.nan if r is None else r[key] for r in inc]
        b = ax_inc.bar(x + (k - 0.5) * 0.35, vals, 0.35, label=key.replace("_ms", ""), color=["#98df8a", "#2ca02c"][k])
        for rect, v in zip(b, vals):
            if not np.isnan(v):
                ax_inc.annotate(f"{v:.1f}", (rect.get_x() + rect.get_width() / 2, rect.get_height()), ha="center",
                                va="bottom", fontsize=9, xytext=(0, 2), textcoords="offset points")
    ax_inc.axhline(50, color="red", linestyle="--", linewidth=1, label="50 ms target")
    ax_inc.set_xticks(x, [f"{z}\n{r['requests']} calls" if r else z for z, r in zip(sizes, inc)])
    ax_inc.set_ylim(0, 60)
    ax_inc.set_title("incremental: latency of one new call (ms)")
    ax_inc.legend(fontsize=8)

    ax_text.axis("off")
    handles, labels = ax_placed.get_legend_handles_labels()
    ax_text.legend(handles, labels, loc="lower right", fontsize=9, title="solver", ncol=2)
    ax_text.text(0, 1, "\n".join(acceptance(rows)), va="top", ha="left", fontsize=7, family="monospace",
                 transform=ax_text.transAxes)
    fig.suptitle("dolbom matching benchmark: seeded Gyeonggi-shaped instances, measured on this machine")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="dolbom bench", description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="S,M,Mc,L,C600,C1000,XL",
                    help="comma-separated, from " + ",".join(ALL_SIZES) + " (S100..S2000, S600t, S600c: surge days)")
    ap.add_argument("--seeds", type=int, default=None,
                    help="seeds per multi-seed size (default 3 for C600/C1000, 5 for the surge sizes)")
    ap.add_argument("--reference-limit", type=float, default=None,
                    help="seconds for the exact MILP per instance (default 120; surge sizes 1,800-3,600)")
    ap.add_argument("--reference-cache", default=None,
                    help="JSON file keeping the exact MILP's rows between runs (keyed by instance fingerprint)")
    ap.add_argument("--cached-reference-only", action="store_true",
                    help="take the exact column from --reference-cache only; instances it lacks get none")
    ap.add_argument("--json", dest="json_path", help="write the rows as JSON here")
    ap.add_argument("--png", dest="png_path", help="write a chart here")
    ap.add_argument("--incremental", type=int, default=200, help="new calls per size in incremental mode (0: skip)")
    ap.add_argument("--no-reference", action="store_true", help="skip the exact MILP column")
    ap.add_argument("--repeat", type=int, default=3, help="runs of reproducible mode per contended instance (0: skip)")
    args = ap.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in ALL_SIZES]
    if unknown:
        ap.error(f"unknown sizes {unknown}; choose from {sorted(ALL_SIZES)}")
    reference_cache.open(args.reference_cache, only=args.cached_reference_only)
    if args.reference_limit is not None:
        REFERENCE_LIMIT.update({size: args.reference_limit for size in sizes})
    # the LP process a long-running service keeps (relaxation.LpProcess): up before anything is timed
    LpProcess.warm()
    print(f"# {os.cpu_count()} cores; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} at the start")
    print(HEADER)
    rows: list[dict] = []
    for size in sizes:
        n_seeds = args.seeds if args.seeds is not None else SEEDS.get(size, 3)
        seeds = [ALL_SIZES[size].seed + k for k in range(n_seeds)] if size in MULTI_SEED else [None]
        for seed in seeds:
            rows += run_size(size, seed, args.incremental, reference=not args.no_reference, repeat=args.repeat)
            sys.stdout.flush()
    print(f"# load average {' '.join(f'{v:.2f}' for v in os.getloadavg())} at the end")
    print()
    for line in acceptance(rows):
        print(line)
    if args.json_path:
        Path(args.json_path).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json_path).write_text(json.dumps(rows, indent=2, ensure_ascii=False))
    if args.png_path:
        Path(args.png_path).parent.mkdir(parents=True, exist_ok=True)
        plot(rows, args.png_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
