"""What the flows share: the steps `force` can name, the cache policy, defaults of flow-only parameters."""

from __future__ import annotations

from typing import Literal

from prefect.cache_policies import INPUTS, TASK_SOURCE

from core.config import default_dataset, load_domains

Step = Literal["scrape", "curate", "train", "translate"]
# A step's result is reused when the same code gets the same inputs; inputs carry content fingerprints.
CONTENT_CACHE = INPUTS + TASK_SOURCE
SEARCHES_PER_MINUTE = 6  # the Prefect rate limit on searches (global across runs)
GPUS = 1  # training processes; more than one launches torchrun


def dataset_name(dataset: str | None, domains_file: str | None) -> str:
    """The dataset to work on: the parameter, else the name in the domains file."""
    if dataset:
        return dataset
    return load_domains(domains_file).name if domains_file else default_dataset()
