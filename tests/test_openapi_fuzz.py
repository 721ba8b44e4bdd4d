"""Schemathesis over the whole OpenAPI document, with an operator's and an admin's token: no server error,
and every response — status, content type, body — is one the document declares (issue 9, defect 13 and
the fuzzing acceptance). Deterministic (derandomized) and bounded: DOLBOM_FUZZ_EXAMPLES examples per
operation, 8 by default so that CI stays quick; raise it for a deeper run."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (content_type_conformance, not_a_server_error, response_headers_conformance,
                                 response_schema_conformance, status_code_conformance)

EXAMPLES = int(os.environ.get("DOLBOM_FUZZ_EXAMPLES", "8"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          response_headers_conformance]


@pytest.mark.parametrize("backend", ["sqlite"])  # the schema is the same on both; the rest of the suite covers PostgreSQL
@pytest.mark.slow
def test_the_api_keeps_to_its_openapi_document(app, client, operator, admin, demo):
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None, print_blob=False,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def run(case) -> None:
            for headers in (operator, admin):
                case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001  (all operations' failures, one report)
            failures.append(f"{operation.method.upper()} {operation.path}: {_describe(exc)}")
    assert not failures, "\n\n".join(failures[:20])


def _describe(exc: BaseException) -> str:
    parts = [str(exc)[:300]] + [_describe(e) for e in getattr(exc, "exceptions", ())]
    return " | ".join(parts)[:1500]
