"""The day simulator in quick mode (a short Pyeongtaek day): the long runs behind docs/offer-policy.md
use the same code through `dolbom simulate`."""

from __future__ import annotations

import json

import pytest

from bench import simulator
from api.cli import main
from hotline.core.config import REPO_ROOT

pytestmark = pytest.mark.slow  # its own fixed day: nothing to learn from it at another date


def test_a_short_day_is_played_through_the_api_and_adds_up():
    world = simulator.pyeongtaek(REPO_ROOT / "data", calls=8)
    report = simulator.simulate_day(world, policy="waves", seed=3, history_offers=4)
    assert report.calls == 8 and report.confirmable <= report.placeable <= report.calls
    assert report.confirmed >= 1 and len(report.minutes_to_confirmation) <= report.confirmable
    assert report.left_open == 0 and report.wrong_offer_answers == 0 and report.confirmable_escalated == 0
    assert report.offers_per_confirmation >= 1 and report.sms_per_confirmation > report.offers_per_confirmation
    assert all(0 <= m for m in report.minutes_to_confirmation)


def test_the_same_seed_meets_the_same_providers_and_calls():
    world = simulator.pyeongtaek(REPO_ROOT / "data", calls=5)
    assert simulator.calls_of(world, 1) == simulator.calls_of(world, 1) != simulator.calls_of(world, 2)
    answers = [simulator.answer_of(p["code"], 0, 1, simulator.Behaviour()) for p in world.providers]
    assert answers == [simulator.answer_of(p["code"], 0, 1, simulator.Behaviour()) for p in world.providers]
    shares = [simulator.answer_of(p["code"], call, 9, simulator.Behaviour()).kind
              for p in simulator.gyeonggi(REPO_ROOT / "data").providers for call in range(20)]
    assert 0.58 < shares.count("accept") / len(shares) < 0.72  # the province's 65 % on average
    assert 0.10 < shares.count("silent") / len(shares) < 0.20


def test_dolbom_simulate_writes_json_and_a_plot(tmp_path, capsys):
    out, png = tmp_path / "sim.json", tmp_path / "sim.png"
    assert main(["simulate", "--worlds", "pyeongtaek", "--policies", "waves,rounds", "--seeds", "1", "--calls", "4",
                 "--json", str(out), "--png", str(png)]) == 0
    result = json.loads(out.read_text(encoding="utf-8"))
    assert set(result["summary"]["pyeongtaek"]) == {"waves", "rounds"}
    assert result["summary"]["pyeongtaek"]["waves"]["calls"] == 4
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert "confirmable confirmed" in capsys.readouterr().out
    assert "fallthroughs" not in result and "fall_throughs" not in result["runs"][0]  # off: the JSON as before


def test_withdrawals_and_no_shows_are_played_and_re_placed_through_the_offer_loop():
    """Issue 19: a short day where a third of placements withdraw and a third never turn up (the rest check
    in by SMS): each fall-through goes through the webhook (`취소 A7`) or the console's re-place button, is
    judged like a call, and its re-confirmation is the offer loop's own (the service's minutes_to_replace)."""
    world = simulator.pyeongtaek(REPO_ROOT / "data", calls=8)
    falls = simulator.Fallthroughs(withdrawals=0.3, no_shows=0.3)
    report = simulator.simulate_day(world, policy="waves", seed=3, history_offers=4, fallthroughs=falls)
    rows = report.fall_throughs
    assert report.fall_through_misfires == 0  # every check-in, withdrawal and re-placement was taken
    assert {r["why"] for r in rows} == {"withdrawal", "no_show"}
    assert {r["how"] for r in rows if r["why"] == "no_show"} <= {"operator", "parent", "parent_then_operator"}
    withdrawn = [r for r in rows if r["why"] == "withdrawal"]
    assert all(r["minutes_before_start"] <= 12 * 60 for r in withdrawn)
    assert all(r["minutes_before_start"] <= -5 for r in rows if r["why"] == "no_show")  # after the start
    replaced = [r for r in rows if r["replaced_min"] is not None]
    assert replaced and all(0 <= r["replaced_min"] for r in replaced)  # another provider confirmed, by SMS
    assert all(r["replaceable"] == (r["in_time"] > 0) for r in rows)
    summary = simulator.summarize_fall_throughs([report])
    assert summary["fall_throughs"] == len(rows) == summary["withdrawals"] + summary["no_shows"]
    assert summary["left_unplaced"] == len(rows) - len(replaced) and summary["replaced"] == len(replaced)
    assert summary["replaced_within_target"] <= summary["replaceable"] <= len(rows)
    assert report.left_open == 0 and report.wrong_offer_answers == 0


def test_each_placement_draws_its_fate_from_the_seed():
    from datetime import datetime, timedelta

    falls = simulator.Fallthroughs(withdrawals=0.05, no_shows=0.02)
    now = datetime(2026, 12, 7, 8, 0, tzinfo=simulator.SEOUL)
    start = now + timedelta(hours=20)
    fates = [simulator.fate_of(f"p{k}", call, 1, falls, confirmed_at=now, start=start, replace_after_min=20)
             for k in range(40) for call in range(50)]
    assert fates == [simulator.fate_of(f"p{k}", call, 1, falls, confirmed_at=now, start=start, replace_after_min=20)
                     for k in range(40) for call in range(50)]
    kinds = [f.kind for f in fates]
    assert 0.035 < kinds.count("withdraw") / len(fates) < 0.065 and 0.01 < kinds.count("no_show") / len(fates) < 0.03
    assert all(start - timedelta(hours=12) <= f.at <= start - timedelta(minutes=30)
               for f in fates if f.kind == "withdraw")
    assert all(start - timedelta(minutes=30) <= f.at <= start + timedelta(minutes=5)
               for f in fates if f.kind == "arrive")
    soon = simulator.fate_of("p0", 0, 1, simulator.Fallthroughs(withdrawals=1.0), confirmed_at=now,
                             start=now + timedelta(minutes=20), replace_after_min=20)
    assert soon.kind == "withdraw" and soon.at == now  # less than 30 minutes left: at once
    none = {simulator.fate_of(f"p{k}", 0, 1, simulator.Fallthroughs(), confirmed_at=now, start=start,
                              replace_after_min=20).kind for k in range(200)}
    assert none == {"arrive"}


def test_a_surge_morning_brings_its_calls_within_three_hours_and_is_played_through():
    """Issue 23: the `surge` world (a school closure) brings all its calls between 07:30 and 10:30, most
    wanting care within two hours; a small one is played through the API with every call taken, no
    request left open and no answer landing on the wrong offer. The normal day's calls are unchanged."""
    from datetime import datetime, time, timedelta

    world = simulator.WORLDS["surge"](REPO_ROOT / "data", calls=20)
    assert world.name == "surge" and world.surge is not None and len(world.providers) == 300
    calls = simulator.calls_of(world, 2)
    assert calls == simulator.calls_of(world, 2) and len(calls) == 20
    first = datetime.combine(simulator.DAY, time(7, 30), simulator.SEOUL)
    assert all(first <= at < first + timedelta(hours=3) for at, _ in calls)
    leads = [(datetime.fromisoformat(body["start_at"]) - at).total_seconds() / 60 for at, body in calls]
    assert all(lead >= 30 for lead in leads) and sum(lead <= 125 for lead in leads) >= len(leads) / 2
    normal = simulator.calls_of(simulator.gyeonggi_dong(REPO_ROOT / "data", calls=20), 2)
    assert normal[-1][0] > first + timedelta(hours=3)  # a normal day's calls run on to the evening

    report = simulator.simulate_day(world, policy="waves", seed=2, history_offers=4)
    assert report.calls == 20 and report.left_open == 0 and report.wrong_offer_answers == 0
    assert report.confirmed >= 1 and report.confirmable_escalated == 0
    assert report.confirmed_within_target_share <= report.confirmed_within_30_min_share <= 1
    assert report.fall_through_misfires is None  # none drawn, none played
    summary = simulator.summarize([report])["surge"]["waves"]
    assert summary["confirmable_confirmed_within_30_min"] == report.confirmed_within_30_min_share
    assert "confirmable_confirmed_within_15_min" in summary and "already_filled_per_confirmation" in summary
