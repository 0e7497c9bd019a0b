"""Tests for sakura.config: the domains file."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import ConfigError, load_domains, parse_domains, query_language
from core.paths import PROJECT_ROOT

VALID = {
    "name": "street2sakura",
    "domains": {
        "A": {"label": "street trees", "queries": ["가로수길", "tree lined street"]},
        "B": {"label": "cherry blossoms", "queries": ["벚꽃길", {"q": "桜並木", "hl": "ja"}]},
    },
}


def test_shipped_domains_file_is_valid():
    spec = load_domains(PROJECT_ROOT / "datasets" / "domains.toml")
    assert spec.name == "street2sakura"
    assert [d.key for d in spec.domains.values()] == list(spec.domains) == ["A", "B"]
    assert "가로수길" in [q.text for q in spec.domain("A").queries]
    assert "벚꽃길" in [q.text for q in spec.domain("B").queries]


def test_parse_valid_guesses_and_keeps_languages():
    spec = parse_domains(VALID)
    assert [(q.text, q.hl) for q in spec.domain("A").queries] == [("가로수길", "ko"), ("tree lined street", "en")]
    assert [(q.text, q.hl) for q in spec.domain("B").queries] == [("벚꽃길", "ko"), ("桜並木", "ja")]


@pytest.mark.parametrize(
    ("text", "hl"),
    [("가로수 거리", "ko"), ("さくら", "ja"), ("樱花", "zh"), ("cherry blossom street", "en"), ("Allee 2024", "en")],
)
def test_query_language(text, hl):
    assert query_language(text) == hl


def _with(path: str, value):
    data = {"name": VALID["name"], "domains": {k: dict(v) for k, v in VALID["domains"].items()}}
    keys = path.split(".")
    target = data
    for k in keys[:-1]:
        target = target[k]
    if value is KeyError:
        del target[keys[-1]]
    else:
        target[keys[-1]] = value
    return data


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (_with("name", "Bad Name!"), "name"),
        (_with("name", KeyError), "name"),
        (_with("domains.A", KeyError), "domains"),
        (_with("domains.C", {"queries": ["x"]}), "domains"),
        (_with("domains.A.queries", []), "domains.A.queries"),
        (_with("domains.A.queries", "tree lined street"), "domains.A.queries"),
        (_with("domains.A.queries", ["", "x"]), "domains.A.queries[0].text"),
        (_with("domains.A.queries", ["x", "x"]), "domains.A.queries"),
        (_with("domains.B.queries", [{"q": "x", "hl": "korean!"}]), "domains.B.queries[0].hl"),
        (_with("domains.B.queries", [{"query": "x"}]), "domains.B.queries[0]"),
        (_with("domains.B.queries", [42]), "domains.B.queries[0]"),
        (_with("domains.B.label", ""), "domains.B.label"),
        (_with("domains.B.typo", 1), "domains.B.typo"),
        (_with("domains.B", "cherry"), "domains.B"),
        (_with("extra", 1), "extra"),
    ],
)
def test_invalid_config_names_the_field(data, field):
    with pytest.raises(ConfigError) as e:
        parse_domains(data)
    assert str(e.value).startswith(f"{field}:"), str(e.value)
    assert "allowed:" in str(e.value)


def test_load_reports_file_and_toml_errors(tmp_path: Path):
    with pytest.raises(ConfigError, match="not found"):
        load_domains(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_domains(bad)
    wrong = tmp_path / "wrong.toml"
    wrong.write_text('name = "x"\n[domains.A]\nqueries = []\n[domains.B]\nqueries = ["b"]\n')
    with pytest.raises(ConfigError, match=r"wrong\.toml: domains\.A\.queries"):
        load_domains(wrong)
