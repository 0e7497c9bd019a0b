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
     ({"max_preview_clicks": -1}, "max_preview_clicks: got -1")],
)  # fmt: skip
def test_bad_values_raise_config_error(tmp_path, kw, message):
    with pytest.raises(ConfigError) as e:
        ScrapeConfig(data_root=tmp_path, **kw)
    assert message in str(e.value)


def test_engine_url_is_the_setting(tmp_path):
    cfg = ScrapeConfig(data_root=tmp_path, google_url="http://127.0.0.1:1234", bing_url="http://127.0.0.1:99")
    assert cfg.engine_url() == "http://127.0.0.1:1234"
    assert cfg.engine_url("bing") == "http://127.0.0.1:99"
