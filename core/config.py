"""The domains file: which dataset to build and what to search for in each CycleGAN domain."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Strict, field_validator, model_validator

from core.errors import ConfigError, Model, UserError, invalid

__all__ = ["ConfigError", "UserError", "DatasetSpec", "DomainSpec", "Query", "load_domains", "parse_domains"]

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


def query_language(text: str) -> str:
    """Best-guess interface language (`hl`) for a search query from its script: ko, ja, zh or en."""
    if _HANGUL.search(text):
        return "ko"
    if _KANA.search(text):
        return "ja"
    if _HAN.search(text):
        return "zh"
    return "en"


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("a non-empty string")
    return text


def _language(hl: str) -> str:
    if not LANG_RE.match(hl):
        raise ValueError("a language code such as 'ko', 'en' or 'zh-CN'")
    return hl


def _dataset_name(name: str) -> str:
    if not DATASET_NAME_RE.match(name):
        raise ValueError("lowercase letters, digits, '-' and '_', starting with a letter or digit, at most 64 chars")
    return name


Text = Annotated[str, Strict(), AfterValidator(_not_blank)]
QUERY_FORMS = 'a string or a table { q = "...", hl = "ko" }'


class Query(Model):
    """One search query and the interface language to search it in (guessed from the text's script when not given).
    In the domains file: a string, or a table `{ q = "...", hl = "ko" }`."""

    text: Text
    hl: Annotated[str, Strict(), AfterValidator(_language)]

    @model_validator(mode="before")
    @classmethod
    def _forms(cls, raw: Any) -> Any:
        if isinstance(raw, str):
            raw = {"text": raw}
        elif isinstance(raw, dict) and "text" not in raw:  # the file's table form
            if "q" not in raw or set(raw) - {"q", "hl"}:
                raise ValueError(QUERY_FORMS)
            raw = {"text": raw["q"], "hl": raw.get("hl")}
        elif not isinstance(raw, dict | Query):
            raise ValueError(QUERY_FORMS)
        if isinstance(raw, dict) and raw.get("hl") is None and isinstance(raw.get("text"), str):
            raw = {**raw, "hl": query_language(raw["text"])}
        return raw


class DomainSpec(Model):
    """One CycleGAN domain (A or B): a label (default: its key) and its search queries, each once."""

    key: Domain
    label: Text
    queries: tuple[Query, ...]

    @model_validator(mode="before")
    @classmethod
    def _label(cls, raw: Any) -> Any:
        if isinstance(raw, dict) and "label" not in raw:
            raw = {**raw, "label": raw.get("key")}
        return raw

    @field_validator("queries", mode="before")
    @classmethod
    def _some_queries(cls, raw: Any) -> Any:
        if not isinstance(raw, list | tuple) or not raw:
            raise ValueError("a non-empty list of queries")
        return raw

    @field_validator("queries")
    @classmethod
    def _each_once(cls, queries: tuple[Query, ...]) -> tuple[Query, ...]:
        texts = [q.text for q in queries]
        if len(set(texts)) != len(texts):
            raise ValueError("each query once")
        return queries


class DatasetSpec(Model):
    """A dataset to build: its name (the folder under the data root) and its two domains, by key. In the domains
    file: `name = "..."` and the tables `[domains.A]`, `[domains.B]`."""

    name: Annotated[str, Strict(), AfterValidator(_dataset_name)]
    domains: dict[Domain, DomainSpec]

    @field_validator("domains", mode="before")
    @classmethod
    def _both_domains(cls, raw: Any) -> Any:
        if isinstance(raw, list | tuple):  # DomainSpecs, as code builds them
            raw = {getattr(d, "key", None): d for d in raw}
        if not isinstance(raw, dict) or sorted(raw, key=str) != list(DOMAIN_KEYS):
            shown = sorted(map(str, raw)) if isinstance(raw, dict) else raw
            raise invalid("domains", shown, "exactly [domains.A] and [domains.B]")
        return {k: {**v, "key": k} if isinstance(v, dict) else v for k, v in raw.items()}

    @model_validator(mode="after")
    def _keys_match(self) -> DatasetSpec:
        for key, d in self.domains.items():
            if d.key != key:
                raise invalid(f"domains.{key}.key", d.key, key)
        return self

    def domain(self, key: str) -> DomainSpec:
        """The domain with this key (A or B)."""
        if key not in self.domains:
            raise invalid("domain", key, " or ".join(DOMAIN_KEYS))
        return self.domains[key]


def parse_domains(data: dict[str, Any]) -> DatasetSpec:
    """Build a validated DatasetSpec from the parsed TOML mapping."""
    return DatasetSpec(**data)


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
