"""Benchmark: CP-SAT against the greedy baselines on seeded instances (`dolbom bench`).

    python -m matching.bench [--sizes S,M,Mc,L] [--json FILE] [--png FILE] [--incremental N]

For each size: CP-SAT (pruned, decomposed), CP-SAT without pruning (S, M, Mc only: every
provider within radius), both greedy baselines, and incremental mode (N new calls one by one
against the current plan, latency per call). Prints a table and writes JSON rows
{size, solver, requests, providers, placed, total_km, gap, wall_s, p50_ms, p99_ms, ...}
(null where a figure does not apply) and a PNG chart of the same.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from .cpsat import solve
from .generator import SIZES, generate, more_requests
from .greedy import greedy_call_order, greedy_most_constrained
from .incremental import solve_incremental
from .types import Plan, Problem

TIME_LIMIT_S = {"S": 1.0, "M": 1.0, "Mc": 1.0, "L": 5.0}
UNPRUNED_LIMIT_S = 30.0  # quality reference, not a speed claim
UNPRUNED_SIZES = {"S", "M", "Mc"}
SOLVERS = ("cpsat", "cpsat-unpruned", "greedy", "greedy-constrained", "cpsat-incremental")


def _row(size: str, solver: str, pr: Problem, plan: Plan, wall: float) -> dict:
    unplaced = [e for e in plan.explanations.values() if e.provider_id is None]
    return {
        "size": size, "solver": solver, "requests": len(pr.requests), "providers": len(pr.providers),
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


def run_size(size: str, n_incremental: int, log=print) -> list[dict]:
    pr = generate(size)
    rows = []
    limit = TIME_LIMIT_S.get(size, 5.0)
    t = time.perf_counter()
    plan = solve(pr, time_limit_s=limit)
    rows.append(_row(size, "cpsat", pr, plan, time.perf_counter() - t))
    rows[-1]["time_limit_s"] = limit
    log(_fmt(rows[-1]))
    if size in UNPRUNED_SIZES:
        t = time.perf_counter()
        ref = solve(pr, time_limit_s=UNPRUNED_LIMIT_S, prune=False)
        rows.append(_row(size, "cpsat-unpruned", pr, ref, time.perf_counter() - t))
        rows[-1]["time_limit_s"] = UNPRUNED_LIMIT_S
        log(_fmt(rows[-1]))
    for name, fn in (("greedy", greedy_call_order), ("greedy-constrained", greedy_most_constrained)):
        t = time.perf_counter()
        base = fn(pr)
        rows.append(_row(size, name, pr, base, time.perf_counter() - t))
        rows[-1]["gap"] = None
        log(_fmt(rows[-1]))
    if n_incremental:
        rows.append(run_incremental(size, pr, plan, n_incremental))
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


HEADER = (f"{'size':<4} {'solver':<20} {'req':>5} {'prov':>5} {'placed':>6} {'weight':>6} {'total_km':>9} "
          f"{'gap':>8} {'build_s':>8} {'solve_s':>8} {'wall_s':>7} {'p50_ms':>7} {'p99_ms':>7} status")


def _fmt(r: dict) -> str:
    def num(v, f):
        return "-" if v is None else format(v, f)

    return (f"{r['size']:<4} {r['solver']:<20} {r['requests']:>5} {r['providers']:>5} {r['placed']:>6} "
            f"{num(r.get('placed_weight'), 'd'):>6} {r['total_km']:>9.1f} {num(r['gap'], '.4%'):>8} "
            f"{num(r.get('build_s'), '.3f'):>8} {num(r.get('solve_s'), '.3f'):>8} {r['wall_s']:>7.3f} "
            f"{num(r['p50_ms'], '.1f'):>7} {num(r['p99_ms'], '.1f'):>7} {r.get('status', '')}")


def acceptance(rows: list[dict]) -> list[str]:
    """Plain-language checks of the benchmark claims, one line each."""
    out = []
    by = {(r["size"], r["solver"]): r for r in rows}
    for size in dict.fromkeys(r["size"] for r in rows):
        c = by.get((size, "cpsat"))
        if c is None:
            continue
        u = by.get((size, "cpsat-unpruned"))
        if u:
            ok = c["placed"] == u["placed"] and c["total_km"] <= u["total_km"] * 1.005 + 1e-9
            out.append(f"[{'ok' if ok else 'FAIL'}] {size}: pruned places {c['placed']} vs unpruned {u['placed']}, "
                       f"km {c['total_km']:.1f} vs {u['total_km']:.1f}")
        for g in ("greedy", "greedy-constrained"):
            b = by.get((size, g))
            if b:
                ok = c["placed"] >= b["placed"] and (c["placed"] > b["placed"] or c["total_km"] <= b["total_km"] + 1e-6)
                out.append(f"[{'ok' if ok else 'FAIL'}] {size}: cpsat places {c['placed']} vs {g} {b['placed']} "
                           f"(km {c['total_km']:.1f} vs {b['total_km']:.1f})")
        limit = c.get("time_limit_s")
        out.append(f"[{'ok' if c['gap'] is not None and c['gap'] <= 0.005 else 'FAIL'}] {size}: status {c['status']}, "
                   f"gap {c['gap']:.4%}, wall {c['wall_s']:.3f} s (limit {limit} s)")
        i = by.get((size, "cpsat-incremental"))
        if i:
            out.append(f"[{'ok' if i['p99_ms'] <= 50 else 'FAIL'}] {size}: incremental p50 {i['p50_ms']} ms, "
                       f"p99 {i['p99_ms']} ms")
        missing = sum(r.get("unplaced_without_reason", 0) for r in rows if r["size"] == size)
        out.append(f"[{'ok' if missing == 0 else 'FAIL'}] {size}: unplaced requests without a reason: {missing}")
    return out


def plot(rows: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = list(dict.fromkeys(r["size"] for r in rows))
    batch = ["cpsat", "cpsat-unpruned", "greedy", "greedy-constrained"]
    colors = {"cpsat": "#1f77b4", "cpsat-unpruned": "#aec7e8", "greedy": "#ff7f0e", "greedy-constrained": "#ffbb78"}
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
    ap.add_argument("--sizes", default="S,M,Mc,L", help="comma-separated: S, M, Mc, L")
    ap.add_argument("--json", dest="json_path", help="write the rows as JSON here")
    ap.add_argument("--png", dest="png_path", help="write a chart here")
    ap.add_argument("--incremental", type=int, default=200, help="new calls per size in incremental mode (0: skip)")
    args = ap.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    if unknown:
        ap.error(f"unknown sizes {unknown}; choose from {sorted(SIZES)}")
    print(HEADER)
    rows: list[dict] = []
    for size in sizes:
        rows += run_size(size, args.incremental)
        sys.stdout.flush()
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
