"""Tests for flows.limits: the search rate limit on a real Prefect server."""

from __future__ import annotations

import pytest

from flows.limits import ensure_rate_limit


@pytest.mark.prefect
def test_rate_limit_is_created_then_updated(prefect_server):
    from prefect.client.orchestration import get_client

    ensure_rate_limit("sakura-test-limit", per_minute=12)
    ensure_rate_limit("sakura-test-limit", per_minute=12)  # idempotent
    with get_client(sync_client=True) as client:
        first = client.read_global_concurrency_limit_by_name("sakura-test-limit")
    assert (first.limit, first.slot_decay_per_second) == (12, pytest.approx(0.2))
    ensure_rate_limit("sakura-test-limit", per_minute=30)
    with get_client(sync_client=True) as client:
        second = client.read_global_concurrency_limit_by_name("sakura-test-limit")
    assert (second.id, second.limit, second.slot_decay_per_second) == (first.id, 30, pytest.approx(0.5))
