"""Schemathesis generates requests from the service's OpenAPI document: no 500 anywhere, responses match the schema."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from mem0_service.api.openapi import build_openapi
from mem0_service.api.routes import ROUTES
from tests.support.service_process import ServiceProcess

# The same document the service serves at /api/openapi.json, built in-process so tests can be collected offline.
SCHEMA = schemathesis.openapi.from_dict(build_openapi(ROUTES))
OPERATIONS = [(route.path, route.method) for route in ROUTES]


@schemathesis.check
def no_crash(ctx, response, case):
    """A 500 is a bug. 501 (a mem0 platform feature not offered) and 503 (a dependency down) are answers."""
    if response.status_code >= 500 and response.status_code not in (501, 503):
        raise AssertionError(f"{response.status_code}: {response.text[:300]}")


# What a client relies on: no crash, only documented status codes and content types, bodies that match the schema.
CHECKS = [no_crash, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(scope="module")
def fuzz_service(tmp_path_factory):
    service = ServiceProcess(tmp_path_factory.mktemp("fuzz"), api_key="fuzz-admin-key").start()
    yield service
    service.stop()


@pytest.mark.parametrize("path, method", OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_generated_requests_never_break_the_service(fuzz_service, path, method):
    operation = SCHEMA[path][method]
    headers = {"Authorization": f"Bearer {fuzz_service.api_key}"}

    @given(case=operation.as_strategy())
    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    def check(case):
        case.call_and_validate(base_url=fuzz_service.url, headers=headers, checks=CHECKS, timeout=30)

    check()
