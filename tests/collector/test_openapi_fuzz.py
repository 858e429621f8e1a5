"""The JSON API against its own description: requests made from the document
(valid ones and ones it forbids) never get a server error, a forbidden one is
refused, and every answer is one the document describes, with its schema.
Small and derandomised, so it is quick and the same on every run."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance


@pytest.fixture
def api_schema(app, demo):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
def test_requests_made_from_the_document_get_the_documented_answers(case):
    # A valid request may still be refused, as documented: a station that does
    # not exist, a text of spaces, an Idempotency-Key reused with another body.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
