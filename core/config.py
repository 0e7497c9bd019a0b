"""The domains file: which dataset to build and what to search for in each CycleGAN domain."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Domain = Literal["A", "B"]
DOMAIN_KEYS: tuple[str, ...] = Domain.__args__  # the two CycleGAN domains
Split = Literal["train", "test"]
SPLITS: tuple[str, ...] = Split.__args__  # the dataset's splits
TRAIN, TEST = SPLITS
DATASET_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")
_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HAN = re.compile(r"[\u4e00-\u9fff]")


class UserError(Exception):
    """An error the user can fix (bad input, a missing program, a busy port): the CLI prints its message as one
    line, without a traceback."""


class ConfigError(ValueError, UserError):
    """A configuration value is invalid; the message names the field, the value and what is allowed."""


def require(ok: bool, field: str, value: Any, allowed: str) -> None:
    """Raise ConfigError naming `field`, the bad `value` and what is `allowed` unless `ok`."""
    if not ok:
        raise ConfigError(f"{field}: got {value!r}; allowed: {allowed}")


def query_language(text: str) -> str:
    """Best-guess interface language (`hl`) for a search query from its script: ko, ja, zh or en."""
    if _HANGUL.search(text):
        return "ko"
    if _KANA.search(text):
        return "ja"
    if _HAN.search(text):
        return "zh"
    return "en"


@dataclass(frozen=True)
class Query:
    """One search query and the interface language to search it in."""

    text: str
    hl: str

    def __post_init__(self) -> None:
        require(isinstance(self.text, str) and self.text.strip() != "", "query.text", self.text, "a non-empty string")
        require(
            isinstance(self.hl, str) and bool(LANG_RE.match(self.hl)),
            "query.hl",
            self.hl,
            "a language code such as 'ko', 'en' or 'zh-CN'",
        )


@dataclass(frozen=True)
class DomainSpec:
    """One CycleGAN domain (A or B): a label and its search queries."""

    key: str
    label: str
    queries: tuple[Query, ...]

    def __post_init__(self) -> None:
        require(self.key in DOMAIN_KEYS, "domain key", self.key, " or ".join(DOMAIN_KEYS))
        require(len(self.queries) > 0, f"domains.{self.key}.queries", list(self.queries), "at least one query")


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset to build: its name (the folder under the data root) and its two domains."""

    name: str
    domains: tuple[DomainSpec, ...]

    def __post_init__(self) -> None:
        require(
            isinstance(self.name, str) and bool(DATASET_NAME_RE.match(self.name)),
            "name",
            self.name,
            "lowercase letters, digits, '-' and '_', starting with a letter or digit, at most 64 characters",
        )
        keys = tuple(d.key for d in self.domains)
        require(keys == DOMAIN_KEYS, "domains", list(keys), "exactly the domains A and B")

    def domain(self, key: str) -> DomainSpec:
        """The domain with this key (A or B)."""
        for d in self.domains:
            if d.key == key:
                return d
        raise ConfigError(f"domain: got {key!r}; allowed: {' or '.join(DOMAIN_KEYS)}")


def _parse_query(raw: Any, field: str) -> Query:
    if isinstance(raw, str):
        return Query(text=raw, hl=query_language(raw))
    if isinstance(raw, dict):
        unknown = set(raw) - {"q", "hl"}
        require(not unknown, field, sorted(unknown), "keys 'q' and 'hl'")
        require(isinstance(raw.get("q"), str), f"{field}.q", raw.get("q"), "a string")
        return Query(text=raw["q"], hl=raw.get("hl") or query_language(raw["q"]))
    raise ConfigError(f'{field}: got {raw!r}; allowed: a string or a table {{ q = "...", hl = "ko" }}')


def _parse_domain(key: str, raw: Any) -> DomainSpec:
    field = f"domains.{key}"
    require(isinstance(raw, dict), field, raw, "a table with 'label' and 'queries'")
    unknown = set(raw) - {"label", "queries"}
    require(not unknown, field, sorted(unknown), "keys 'label' and 'queries'")
    label = raw.get("label", key)
    require(isinstance(label, str) and label.strip() != "", f"{field}.label", label, "a non-empty string")
    queries = raw.get("queries")
    require(isinstance(queries, list) and len(queries) > 0, f"{field}.queries", queries, "a non-empty list of queries")
    parsed = tuple(_parse_query(q, f"{field}.queries[{i}]") for i, q in enumerate(queries))
    texts = [q.text for q in parsed]
    require(len(set(texts)) == len(texts), f"{field}.queries", texts, "each query once")
    return DomainSpec(key=key, label=label, queries=parsed)


def parse_domains(data: dict[str, Any]) -> DatasetSpec:
    """Build a validated DatasetSpec from the parsed TOML mapping."""
    unknown = set(data) - {"name", "domains"}
    require(not unknown, "top level", sorted(unknown), "keys 'name' and 'domains'")
    domains = data.get("domains")
    require(isinstance(domains, dict), "domains", domains, "a table with [domains.A] and [domains.B]")
    require(sorted(domains) == list(DOMAIN_KEYS), "domains", sorted(domains), "exactly [domains.A] and [domains.B]")
    return DatasetSpec(name=data.get("name"), domains=tuple(_parse_domain(k, domains[k]) for k in DOMAIN_KEYS))


def load_domains(path: str | Path) -> DatasetSpec:
    """Read and validate a domains file (TOML); raise ConfigError that names the file and the bad field."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: domains file not found") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: not valid TOML: {e}") from None
    try:
        return parse_domains(data)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}") from None


def default_dataset() -> str:
    """The dataset named in the default domains file (what every stage works on when none is named)."""
    from core.paths import default_domains_file

    return load_domains(default_domains_file()).name
