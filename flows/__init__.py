"""Prefect flows and deployments that compose the scraper, curation and model stages."""

from flows import results as _results  # noqa: F401  (registers the result storage block type in every flow process)
