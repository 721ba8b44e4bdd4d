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
