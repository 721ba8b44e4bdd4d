"""The `dolbom` command: the benchmark writes the rows the issue defines."""

import json

from api.cli import main


def test_bench_writes_json_rows(tmp_path, capsys):
    out = tmp_path / "bench.json"
    assert main(["bench", "--sizes", "S", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())
    keys = {"size", "solver", "requests", "providers", "placed", "total_km", "gap", "wall_s", "p50_ms", "p99_ms"}
    assert rows and all(keys <= row.keys() for row in rows)
    solvers = {row["solver"] for row in rows}
    assert {"cpsat", "greedy", "greedy-constrained", "cpsat-incremental"} <= solvers
    cpsat = next(r for r in rows if r["solver"] == "cpsat")
    greedy = next(r for r in rows if r["solver"] == "greedy")
    assert cpsat["placed"] >= greedy["placed"] and cpsat["p50_ms"] is None
    assert "cpsat" in capsys.readouterr().out
