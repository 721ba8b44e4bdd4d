"""Schemathesis over the whole OpenAPI document, as `schemathesis run` runs it from outside: every phase
(examples, coverage, fuzzing, stateful) and every default check — no server error; every status, content
type, header and body one the document declares; schema-valid requests accepted and schema-violating ones
refused; 405 with a true `Allow`; no auth ignored; nothing used after it is freed — once with an operator's
token and once with an admin's (issue 9, defect 13; issue 18, defect 10 and acceptance item 5). The
repository's schemathesis.toml is the one an outside run uses; where it lets an operation answer a
schema-valid request 422 (rules JSON Schema cannot state), `refused_only_for_unstatable_rules` below checks
that the answer names one of those rules and nothing else. Deterministic and bounded: DOLBOM_FUZZ_EXAMPLES
examples per operation and phase, 8 by default so that CI stays quick; raise it for a deeper run."""

from __future__ import annotations

import os
import re

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import events, from_schema

from hotline.core.config import REPO_ROOT

EXAMPLES = int(os.environ.get("DOLBOM_FUZZ_EXAMPLES", "8"))

# (field, English message) of each rule the document cannot state, for the operations schemathesis.toml lets
# answer a schema-valid request 422: the window against the clock and against itself, the children's ages
# over the window, places and coordinates, a reused Idempotency-Key; min_age against max_age; span order;
# and combining marks in a name, which are counted after NFC normalisation (U+0344 is two marks in NFC)
NFC_MARKS = r"too many combining marks"
UNSTATABLE = {
    "POST /v1/requests": [
        (r"guardian\.name|children\[\d+\]\.first_name", NFC_MARKS),
        ("start_at", r"lies in the past|can be booked at most"),
        ("end_at", r"must be after start_at|may last at most"),
        (r"children\[\d+\]\.birth_date", r"is after the care start|aged 12 and under"),
        (r"location\.(place|lat|lon)", r"Unknown place|is not a place in Gyeonggi|Could not place address|outside Gyeonggi|together"),
        ("Idempotency-Key", r"already used with a different request body"),
    ],
    "POST /v1/providers": [
        ("name", NFC_MARKS),
        ("min_age", r"greater than max_age"),
        ("weekly_hours", r"with start < end"),
        ("place", r"Unknown place|is not a place in Gyeonggi|Give a place or lat/lon"),
        ("lat", r"outside Gyeonggi"),
    ],
    "PATCH /v1/providers/{provider_id}": [
        ("name", NFC_MARKS),
        ("min_age", r"greater than max_age"),
        ("weekly_hours", r"with start < end"),
    ],
}


@schemathesis.check
def refused_only_for_unstatable_rules(ctx, response, case) -> None:
    """A schema-valid request that one of the UNSTATABLE operations refuses names only those rules."""
    rules = UNSTATABLE.get(case.operation.label)
    if rules is None or response.status_code != 422 or case.meta is None or not case.meta.generation.mode.is_positive:
        return
    errors = (response.json() or {}).get("errors") or [{"field": "?", "message_en": response.text[:200]}]
    unstatable = [e for e in errors
                  if any(re.fullmatch(f, e["field"]) and re.search(m, e["message_en"]) for f, m in rules)]
    if unstatable != errors:
        raise AssertionError(f"a schema-valid request was refused for a rule the document could state: {errors}")


@pytest.mark.parametrize("backend", ["sqlite"])  # the schema is the same on both; the rest of the suite covers PostgreSQL
@pytest.mark.parametrize("role", ["operator", "admin"])
@pytest.mark.slow
def test_the_api_keeps_to_its_openapi_document(app, client, demo, role, request):
    token = request.getfixturevalue(role)
    config = SchemathesisConfig.from_path(str(REPO_ROOT / "schemathesis.toml"))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)
    schema.config.update(headers=token, workers=1)
    schema.config.generation.update(max_examples=EXAMPLES, deterministic=True, database="none")
    failures: dict[tuple[str, str, str], str] = {}
    errors: list[str] = []
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.failure_info is not None:
                        failure = check.failure_info.failure
                        key = (failure.operation or "?", check.name, failure.title)
                        failures.setdefault(key, f"{failure.message}\n{check.failure_info.code_sample}")
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            errors.append(f"fatal: {event.exception!r}")
        elif isinstance(event, events.EngineFinished):
            for failure in event.failures:
                failures.setdefault((failure.operation or "?", "after_run", failure.title), failure.message)
    report = [f"{op} [{check}] {title}: {_cut(text)}" for (op, check, title), text in failures.items()]
    assert not (report or errors), f"as {role}:\n" + "\n\n".join(report + errors)


def _cut(text: str) -> str:
    return text if len(text) < 1500 else text[:1500] + " …"
