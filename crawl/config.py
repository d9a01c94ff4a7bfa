"""The crawl's configuration (config/sites.yaml): which agency sites, how politely, when.

A user writes these files, so a mistake must say where it is: every validation error names
the key and the line of the YAML it came from (the YAML is composed into nodes first, which
keep their line numbers, then handed to pydantic).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULT_CONFIG = Path(__file__).resolve().parent.parent / "config" / "sites.yaml"


class ConfigError(ValueError):
    """A sites file that cannot be used; the message names the file, key and line."""


class SiteDefaults(BaseModel):
    """Politeness and safety limits; any of them may be overridden per site."""

    model_config = ConfigDict(extra="forbid")

    delay_seconds: float = Field(2.0, ge=0)
    timeout_seconds: float = Field(30.0, gt=0)  # connect, and between two reads of a body
    max_fetch_seconds: float = Field(600.0, gt=0)  # one whole GET: a server dripping bytes ends too
    max_bytes: int = Field(50_000_000, gt=0)
    user_agent: str = "gongkai/0.1 (+https://github.com/gongkai)"
    retries: int = Field(2, ge=0, le=10)
    backoff_seconds: float = Field(1.0, ge=0)  # first retry's wait; doubled each retry
    max_retry_after_seconds: float = Field(120.0, ge=0)  # a longer Retry-After is an error
    max_listing_pages: int = Field(50, ge=1)
    max_crawl_delay_seconds: float = Field(300.0, ge=0)  # robots.txt Crawl-delay, capped


class Site(SiteDefaults):
    name: str = Field(min_length=1)
    start_urls: list[str] = Field(min_length=1)
    allowed_hosts: list[str] = Field(min_length=1)
    link_keywords: list[str] = Field(min_length=1)
    allow_private_addresses: bool = False

    @field_validator("start_urls")
    @classmethod
    def _http_urls(cls, urls: list[str]) -> list[str]:
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"{url!r} is not an http(s) URL")
        return urls

    @field_validator("allowed_hosts")
    @classmethod
    def _plain_hosts(cls, hosts: list[str]) -> list[str]:
        for host in hosts:
            if not host or "/" in host or "@" in host or host != host.strip():
                raise ValueError(f"{host!r} is not a host or host:port")
        return [h.lower() for h in hosts]


class CrawlConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schedule: str = "0 3 * * *"
    defaults: dict[str, Any] = Field(default_factory=dict)
    sites: list[Site] = Field(min_length=1)

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        if len(value.split()) != 5:
            raise ValueError(f"{value!r} is not a 5-field cron expression")
        return value

    def site(self, name: str) -> Site:
        for site in self.sites:
            if site.name == name:
                return site
        raise ConfigError(f"no site named {name!r}; the config has: {', '.join(s.name for s in self.sites)}")


def load_config(path: Path | None = None) -> CrawlConfig:
    path = path or DEFAULT_CONFIG
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or node is None:
        raise ConfigError(f"{path}: line 1: expected a mapping with schedule, defaults and sites")
    return _validate(path, data, node)


def _validate(path: Path, data: dict[str, Any], node: yaml.Node) -> CrawlConfig:
    # The defaults are checked on their own first, so a bad default names `defaults.<key>`.
    defaults = data.get("defaults") or {}
    try:
        if not isinstance(defaults, dict):
            raise ConfigError(f"{path}: line {_line(node, ('defaults',))}: defaults must be a mapping")
        SiteDefaults.model_validate(defaults)
        sites = data.get("sites")
        if isinstance(sites, list):
            data = {**data, "sites": [{**defaults, **s} if isinstance(s, dict) else s for s in sites]}
        return CrawlConfig.model_validate(data)
    except ValidationError as exc:
        prefix = ("defaults",) if exc.title == "SiteDefaults" else ()
        raise ConfigError(_describe(path, exc, node, prefix)) from None


def _describe(path: Path, exc: ValidationError, node: yaml.Node, prefix: tuple[str | int, ...]) -> str:
    lines = []
    for error in exc.errors():
        loc = prefix + tuple(error["loc"])
        key = ".".join(str(p) for p in loc) or "(top level)"
        lines.append(f"{path}: line {_line(node, loc)}: {key}: {error['msg']}")
    return "\n".join(lines)


def _line(node: yaml.Node, loc: tuple[str | int, ...]) -> int:
    """The 1-based line of the deepest node on `loc` that exists in the YAML."""
    line = node.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == part), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line
