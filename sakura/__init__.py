"""sakura-street: shared configuration, the `sakura` CLI and local Prefect server control."""

from core.config import ConfigError, DatasetSpec, DomainSpec, Query, load_domains

__all__ = ["ConfigError", "DatasetSpec", "DomainSpec", "Query", "load_domains"]
