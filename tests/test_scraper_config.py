"""Tests for scraper.config: ScrapeConfig validates on construction and names the bad value."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from core.config import ConfigError
from scraper.config import ScrapeConfig


def test_defaults_are_valid_and_polite(tmp_path):
    cfg = ScrapeConfig(data_root=tmp_path)
    assert (cfg.engine, cfg.max_bytes, cfg.max_redirects, cfg.allow_private_networks) == ("google", 20 * 2**20, 5, ())
    assert cfg.honour_robots and cfg.robots_directives == ("noai", "noimageai")
    assert cfg.raw_dir("street2sakura") == tmp_path / "street2sakura" / "raw"
    assert json.loads(json.dumps(cfg.to_dict()))["data_root"] == str(tmp_path)
    with pytest.raises(ValidationError, match="frozen"):
        cfg.workers = 3


@pytest.mark.parametrize(
    ("kw", "message"),
    [({"engine": "yahoo"}, "engine: got 'yahoo'; allowed: 'google' or 'bing'"),
     ({"google_url": "ftp://x"}, "google_url: got 'ftp://x'"),
     ({"per_query_limit": 0}, "per_query_limit: got 0; allowed: greater than 0"),
     ({"per_domain_limit": -1}, "per_domain_limit: got -1"),
     ({"workers": True}, "workers: got True"),
     ({"read_timeout": 0}, "read_timeout: got 0"),
     ({"per_host_delay": -1}, "per_host_delay: got -1"),
     ({"max_redirects": 6}, "max_redirects: got 6; allowed: less than or equal to 5"),
     ({"retries": 11}, "retries: got 11"),
     ({"allow_private_networks": ("127.0.0.1/32", "localhost")}, "allowed: IP networks such as"),
     ({"user_agent": " "}, "user_agent: got ' '"),
     ({"max_preview_clicks": -1}, "max_preview_clicks: got -1"),
     ({"fallback_engine": "yahoo"}, "fallback_engine: got 'yahoo'"),
     ({"load_attempts": 0}, "load_attempts: got 0"),
     ({"search_timeout": 0}, "search_timeout: got 0"),
     ({"search_retries": 6}, "search_retries: got 6"),
     ({"max_preview_misses": 0}, "max_preview_misses: got 0")],
)  # fmt: skip
def test_bad_values_raise_config_error(tmp_path, kw, message):
    with pytest.raises(ConfigError) as e:
        ScrapeConfig(data_root=tmp_path, **kw)
    assert message in str(e.value)


def test_engine_url_is_the_setting(tmp_path):
    cfg = ScrapeConfig(data_root=tmp_path, google_url="http://127.0.0.1:1234", bing_url="http://127.0.0.1:99")
    assert cfg.engine_url() == "http://127.0.0.1:1234"
    assert cfg.engine_url("bing") == "http://127.0.0.1:99"


@pytest.mark.parametrize(
    ("engine", "fallback_engine", "expected"),
    [("google", None, "bing"), ("bing", None, "google"), ("google", "none", None), ("google", "google", None),
     ("bing", "bing", None), ("google", "bing", "bing")],
)  # fmt: skip
def test_fallback_engine_defaults_to_the_other_one(tmp_path, engine, fallback_engine, expected):
    cfg = ScrapeConfig(data_root=tmp_path, engine=engine, fallback_engine=fallback_engine)
    assert cfg.fallback_for() == expected


def test_a_replaced_engine_url_is_the_only_source_unless_a_fallback_is_set(tmp_path):
    assert ScrapeConfig(data_root=tmp_path).with_engine_url("http://127.0.0.1:9").fallback_for() is None
    cfg = ScrapeConfig(data_root=tmp_path, fallback_engine="bing").with_engine_url("http://127.0.0.1:9")
    assert (cfg.google_url, cfg.fallback_for()) == ("http://127.0.0.1:9", "bing")


def test_preview_clicks_follow_the_asked_count_unless_set(tmp_path):
    assert ScrapeConfig(data_root=tmp_path).preview_clicks(60) == 120
    assert ScrapeConfig(data_root=tmp_path, max_preview_clicks=0).preview_clicks(60) == 0
    assert ScrapeConfig(data_root=tmp_path, max_preview_clicks=7).preview_clicks(60) == 7


def test_caps_are_command_line_options():
    import argparse

    from core.settings import add_arguments

    p = argparse.ArgumentParser()
    add_arguments(p, ScrapeConfig)
    help_text = p.format_help()
    for flag in ("--max-preview-clicks", "--max-preview-misses", "--load-attempts", "--search-timeout",
                 "--search-retries", "--fallback-engine", "--scroll-pause"):  # fmt: skip
        assert flag in help_text
    args = p.parse_args(["--max-preview-clicks", "5", "--fallback-engine", "none"])
    assert (args.max_preview_clicks, args.fallback_engine) == (5, "none")
