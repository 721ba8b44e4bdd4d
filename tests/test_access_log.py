"""Issue 18, defects 4 and 5, seen from outside: `dolbom serve` started for real writes access lines with
the route's template, never a phone number or name from the console's queries, nor a link token from the
path (workspace, offer, status and application links)."""

from __future__ import annotations

from urllib.parse import quote

import httpx
import pytest

from test_serve_workers import served, serving  # noqa: F401  (fixture)

pytestmark = [pytest.mark.twilio, pytest.mark.slow, pytest.mark.servers]
TOKEN = "41.tq8z3k.S3cr3tT0k3nXy"


@pytest.mark.parametrize("backend", ["sqlite"])
def test_the_served_access_log_carries_route_templates_only(served, twilio, tmp_path):  # noqa: F811
    database_url, _ = served
    secrets = ("010-5555-1234", "01055551234", "5555-1234", "홍길동", quote("홍길동"), TOKEN)
    gets = (("/console/callers", {"phone": "010-5555-1234"}), ("/console", {"q": "010-5555-1234"}),
            ("/console", {"q": "홍길동"}), (f"/p/{TOKEN}", {}), (f"/p/{TOKEN}/r/AB12CD", {}),
            (f"/apply/code/{TOKEN}", {}), (f"/apply/s/{TOKEN}", {}), (f"/o/{TOKEN}", {}),
            (f"/s/{TOKEN}", {}), (f"/nowhere/{TOKEN}", {}))
    with serving(database_url, twilio, tmp_path, 1) as (base, log), httpx.Client(base_url=base) as http:
        for path, params in gets:
            assert http.get(path, params=params).status_code < 500
        http.post(f"/p/{TOKEN}/r/AB12CD/adjust", data={"kind": "extend", "minutes": "²"})
        # a line is written once its answer has gone out: every request's line, before reading them
        assert log.wait_for("INFO api.access:", count=len(gets) + 1), "".join(log)
        text = "".join(log)
    assert '"GET /p/{token}/r/{ref}"' in text and '"GET /console/callers"' in text and '"GET /s/{token}"' in text
    assert [s for s in secrets if s in text] == []
