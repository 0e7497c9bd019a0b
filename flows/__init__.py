"""Prefect flows and deployments that compose the scraper, curation and model stages."""
