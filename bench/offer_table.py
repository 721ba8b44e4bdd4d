"""The tables of docs/offer-policy.md from `dolbom simulate --json` files: one column per world and kind of
day, the waves policy beside the bound (every suitable provider asked at once, "everyone").

    python -m bench.offer_table docs/offer-policy/*.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROWS = [
    ("calls / placeable / confirmable", lambda w, e: f"{w['calls']} / {w['placeable']} / {w['confirmable']}"),
    ("confirmed ≤ 15 min: waves / everyone", lambda w, e: f"{w['within_15_min_count']} / {e['within_15_min_count']}"),
    ("**share of the bound** (≥ 95 %; slow ≥ 93 %; busy ≥ 97 %)",
     lambda w, e: f"**{w['within_15_min_count'] / max(e['within_15_min_count'], 1):.1%}**"),
    ("share of confirmable ≤ 15 min: waves / everyone",
     lambda w, e: f"{w['confirmable_confirmed_within_15_min']:.1%} / {e['confirmable_confirmed_within_15_min']:.1%}"),
    ("worst seed (waves)", lambda w, e: f"{w['worst_seed_within_15_min']:.1%}"),
    ("median / p90 minutes: waves", lambda w, e: f"{w['median_minutes']} / {w['p90_minutes']}"),
    ("median / p90 minutes: everyone", lambda w, e: f"{e['median_minutes']} / {e['p90_minutes']}"),
    ("**offers per confirmation**: waves / everyone (≤ 2.3; slow ≤ 3.0)",
     lambda w, e: f"**{w['offers_per_confirmation']:.2f}** / {e['offers_per_confirmation']:.2f}"),
    ("of them on calls never confirmed", lambda w, e: f"{w['offers_on_unconfirmed_calls']}"),
    ("\"already filled\" per confirmation: waves / everyone",
     lambda w, e: f"{w['already_filled_per_confirmation']:.2f} / {e['already_filled_per_confirmation']:.2f}"),
    ("escalations (confirmable): waves", lambda w, e: f"{w['escalations']} ({w['confirmable_escalated']})"),
    ("left open / wrong-offer answers: waves", lambda w, e: f"{w['left_open']} / {w['wrong_offer_answers']}"),
    ("what the n-th offer of a call bought: sent → confirmed",
     lambda w, e: " · ".join(f"{k}: {v['sent']}→{v['confirmed']}" for k, v in w["offers_by_order"].items())),
]


def label(path: Path, data: dict) -> str:
    command = data["command"]
    day = "slow day" if "--day slow" in command else "busy day" if "--day busy" in command else "normal day"
    history = "no history" if "--history 0" in command else "with history"
    return f"{day}, {history}"


def table(paths: list[Path]) -> str:
    columns = []
    for path in paths:
        data = json.loads(path.read_text(encoding="utf-8"))
        for world, by_policy in data["summary"].items():
            if "waves" in by_policy and "everyone" in by_policy:
                columns.append((f"{world}: {label(path, data)}", by_policy["waves"], by_policy["everyone"]))
    out = ["| | " + " | ".join(c[0] for c in columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for name, cell in ROWS:
        out.append(f"| {name} | " + " | ".join(cell(w, e) for _, w, e in columns) + " |")
    return "\n".join(out)


if __name__ == "__main__":
    print(table([Path(p) for p in sys.argv[1:]]))
