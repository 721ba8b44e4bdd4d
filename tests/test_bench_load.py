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
