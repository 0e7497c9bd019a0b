"""Prefect global concurrency / rate limits the flows use, created on first use."""

from __future__ import annotations

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate, GlobalConcurrencyLimitUpdate
from prefect.exceptions import ObjectNotFound

SEARCH_LIMIT = "sakura-search"


def ensure_rate_limit(name: str, per_minute: int) -> None:
    """Create or update a rate limit of `per_minute` slots that decay over a minute (occupy one per use)."""
    decay = per_minute / 60.0
    with get_client(sync_client=True) as client:
        try:
            current = client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(name=name, limit=per_minute, slot_decay_per_second=decay)
            )
            return
        if current.limit != per_minute or current.slot_decay_per_second != decay:
            client.update_global_concurrency_limit(
                name, GlobalConcurrencyLimitUpdate(limit=per_minute, slot_decay_per_second=decay)
            )
