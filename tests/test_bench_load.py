"""The load benchmark (bench/load.py) in miniature: it starts the real server and the bare endpoint,
drives the intake → offer → accept flow and reports. The figures themselves come from full runs
(docs/load-benchmark.md); this only keeps the tool working."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_the_load_benchmark_runs_end_to_end(tmp_path):
    from bench.load import main

    out = tmp_path / "load.json"
    assert main(["--workers", "1", "--sequential", "3", "--clients", "2", "--concurrent", "4", "--open", "4",
                 "--json", str(out)]) == 0
    result = json.loads(out.read_text())
    assert result["sequential"]["intake"]["n"] == 3 and result["sequential"]["bare"]["n"] == 3
    assert result["sequential"]["accept"]["n"] >= 1  # an offer was made and accepted through its link
    assert result["concurrent"]["intake"]["rps"] > 0 and 0 < result["concurrent"]["intake_share_of_bare_rps"]
    assert result["open_requests"]["many"]["n"] == 20 and result["open_requests"]["open_at_many"] >= 4
    assert result["sms_after_commit"]["sent"] > 0  # the acknowledgements and offers of the run went out


@pytest.mark.slow
def test_the_national_and_surge_runs_work_in_miniature(tmp_path):
    """Issue 23's two runs against PostgreSQL, tiny: providers and open requests bulk-loaded, the sweep,
    the board and intake at a fixed rate; the surge's calls replayed with its providers answering."""
    from bench.load import main
    from conftest import PG_URL

    if not PG_URL:
        pytest.skip("the national and surge runs are PostgreSQL's: set DOLBOM_TEST_DATABASE_URL")
    out = tmp_path / "national.json"
    assert main(["--database", PG_URL, "--workers", "1", "--national", "--providers", "400", "--open-requests", "40",
                 "--rate", "4", "--seconds", "2", "--json", str(out)]) == 0
    national = json.loads(out.read_text())["national"]
    assert national["full_solve"][-1]["requests"] == 40 and national["full_solve"][-1]["placed"] >= 30
    assert national["load"]["pending_offers"] >= 30 and national["sweep"]["waiting"] >= 2
    assert national["waves"]["n"] == 30 and national["waves"]["median_ms"] > 0
    assert len(national["board_before"]["first_byte_s"]) == 5 and national["board_after"]["bytes"] > 10_000
    assert national["intake"]["n"] == 8 and national["intake"]["errors"] == 0 and national["intake"]["p99_ms"] > 0
    out = tmp_path / "surge.json"
    assert main(["--database", PG_URL, "--workers", "1", "--surge", "--seed", "1", "--surge-calls", "12",
                 "--speedup", "600", "--json", str(out)]) == 0
    surge = json.loads(out.read_text())["surge"]
    assert surge["calls"] == 12 and surge["intake"]["errors"] == 0 and surge["seconds"] <= 3 * 3600 / 600
    assert surge["answers"]["answered"] >= 1 and surge["answers"]["refused"] == 0
