"""The routing policy: agencies, rules, thresholds, incident window, SLA calendar and delivery, from config/.

Example: policy = load_policy()  # repo config/; load once and reuse
"""
from __future__ import annotations

import csv
import hashlib
import tomllib
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any

from routing.errors import RulesError
from routing.rules import Rule, norm, read_rules

CONFIG = Path(__file__).resolve().parents[1] / "config"


@dataclass(frozen=True)
class Agency:
    """One responsible body; municipal administrations carry the municipality they serve."""

    name: str
    short_name: str = ""
    kind: str = ""
    municipality: str = ""
    settlement: str = ""


@dataclass(frozen=True)
class Thresholds:
    """Confidence thresholds; below them an item goes to human review (or is ignored)."""

    complaint_ignore: float = 0.5
    complaint_review: float = 0.65
    geo: float = 0.5
    topic_default: float = 0.4
    topic: dict[str, float] = field(default_factory=dict)

    def for_topic(self, group: str | None) -> float:
        """The topic_proba threshold of a topic group."""
        return self.topic.get(group or "", self.topic_default)


@dataclass(frozen=True)
class IncidentConfig:
    """When a new item joins an open ticket instead of opening one."""

    window_hours: float = 72
    similarity: float = 0.3
    repost_similarity: float = 0.8


@dataclass(frozen=True)
class SlaConfig:
    """Working-hours calendar and the response norms of one region."""

    timezone: str = "Europe/Simferopol"
    holidays_country: str = "RU"
    work_start: time = time(9)
    work_end: time = time(18)
    hours_normal: float = 9
    hours_high: float = 4
    warn_before_hours: float = 2


@dataclass(frozen=True)
class Channel:
    """Where one agency's tickets go."""

    webhook: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class DeliveryConfig:
    """Outbox retry policy and the channels per agency (full name)."""

    max_attempts: int = 8
    backoff_base_s: float = 30
    backoff_max_s: float = 3600
    lease_s: float = 300
    timeout_s: float = 10
    notify_attach: bool = True
    allow_link_local_targets: bool = False  # webhooks to 169.254.0.0/16, fe80::/10 and metadata hosts (routing.targets)
    channels: dict[str, Channel] = field(default_factory=dict)


@dataclass(frozen=True)
class Policy:
    """Everything routing needs, loaded once."""

    version: str
    rules: tuple[Rule, ...]
    agencies: dict[str, Agency]
    thresholds: Thresholds
    incident: IncidentConfig
    sla: SlaConfig
    delivery: DeliveryConfig
    topics: dict[str, str]  # normalised topic → ИМ topic group
    municipalities: tuple[str, ...]
    rules_path: Path | None = None
    settlements: dict[str, tuple[str, ...]] | None = None  # the region's, by municipality (None: no gazetteer)

    def agency(self, ref: str) -> Agency | None:
        """The agency named by full name or short name (None if unknown)."""
        return self.agencies.get(norm(ref))

    def municipal_admin(self, municipality: str | None) -> Agency | None:
        """The administration of a municipality (not of a town inside it)."""
        for agency in self.agencies.values():
            if agency.municipality == municipality and not agency.settlement and agency.kind == "municipal_administration":
                return agency
        return None


def read_csv(path: Path, required: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """Rows of a CSV file whose header has the `required` columns, or RulesError naming the file."""
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in required if c not in (reader.fieldnames or ())]
            if missing:
                raise RulesError(f"{path}:1: header lacks column(s) {', '.join(missing)}")
            return list(reader)
    except OSError as exc:
        raise RulesError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise RulesError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file, or RulesError naming the file and line."""
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise RulesError(f"{path}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(f"{path}: {exc}") from None
    except UnicodeDecodeError as exc:
        raise RulesError(f"{path}: not UTF-8 text (byte {exc.start})") from None


def load_agencies(path: Path) -> dict[str, Agency]:
    """Agencies keyed by normalised full name and short name."""
    index: dict[str, Agency] = {}
    for line, row in enumerate(read_csv(path), start=2):
        if not row.get("name"):
            raise RulesError(f"{path}:{line}: agency without a name")
        agency = Agency(row["name"], row.get("short_name") or "", row.get("kind") or "",
                        row.get("municipality") or "", row.get("settlement") or "")
        for key in {norm(agency.name), norm(agency.short_name)} - {""}:
            if key in index and index[key] != agency:
                raise RulesError(f"{path}:{line}: name {key!r} also used by {index[key].name!r}")
            index[key] = agency
    return index


def _time(value: str, where: str) -> time:
    try:
        return time.fromisoformat(value)
    except (TypeError, ValueError):
        raise RulesError(f"{where}: not a time of day (HH:MM): {value!r}") from None


def _section(cls, data: dict[str, Any], where: str, **extra):
    """A config dataclass from a TOML table, refusing unknown keys."""
    known = set(cls.__dataclass_fields__)
    unknown = sorted(set(data) - known)
    if unknown:
        raise RulesError(f"{where}: unknown key(s): {', '.join(map(repr, unknown))}")
    return cls(**{**data, **extra})


def load_sla(data: dict[str, Any], region: str, where: str) -> SlaConfig:
    """The SLA table of `region`."""
    table = dict(data.get("sla", {}).get(region) or {})
    if not table:
        raise RulesError(f"{where}: no [sla.{region}] table")
    for key in ("work_start", "work_end"):
        if key in table:
            table[key] = _time(table[key], f"{where} [sla.{region}] {key}")
    return _section(SlaConfig, table, f"{where} [sla.{region}]")


def load_delivery(path: Path, agencies: dict[str, Agency]) -> DeliveryConfig:
    """Delivery defaults and channels; a channel naming an unknown agency or a bad target is an error."""
    if not path.exists():
        return DeliveryConfig()
    data = read_toml(path)
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict) or not isinstance(data.get("channel", []), list):
        raise RulesError(f"{path}: [defaults] must be a table and [[channel]] an array of tables")
    allow = defaults.get("allow_link_local_targets", False) is True
    channels = {}
    for n, entry in enumerate(data.get("channel", []), start=1):
        name = entry.get("agency") if isinstance(entry, dict) else entry
        agency = agencies.get(norm(name)) if isinstance(name, str) else None
        if agency is None:
            raise RulesError(f"{path}: [[channel]] #{n}: unknown agency {name!r}")
        channels[agency.name] = Channel(_target(path, n, agency, entry, "webhook", allow),
                                        _target(path, n, agency, entry, "email", allow))
    return _section(DeliveryConfig, defaults, f"{path} [defaults]", channels=channels)


def _target(path: Path, n: int, agency: Agency, entry: dict[str, Any], key: str, allow: bool) -> str | None:
    """One checked target of a [[channel]] entry (None when absent)."""
    from routing.targets import TargetError, check_email, check_webhook

    value = entry.get(key)
    if value is None:
        return None
    try:
        return check_webhook(value, allow) if key == "webhook" else check_email(value)
    except TargetError as exc:
        raise RulesError(f"{path}: [[channel]] #{n} ({agency.name}): {key} {value!r}: {exc}") from None


def load_topics(config_dir: Path) -> dict[str, str]:
    """Known topics (normalised) → group, plus every group mapping to itself."""
    topics = {norm(r["topic"]): r["topic_group"] for r in read_csv(config_dir / "routing_topics.csv", ("topic", "topic_group"))}
    groups = config_dir / "topics" / "groups.csv"
    names = [r["group"] for r in read_csv(groups, ("group",))] if groups.exists() else []
    for group in set(topics.values()) | set(names):
        topics.setdefault(norm(group), group)
    return topics


def load_settlements(places: Path) -> dict[str, tuple[str, ...]] | None:
    """Settlements (and Sevastopol's okrugs) of a region's places.csv by municipality; None without the file."""
    if not places.exists():
        return None
    found: dict[str, list[str]] = {}
    for row in read_csv(places, ("kind", "name", "municipality")):
        if row["kind"] in ("settlement", "okrug"):
            found.setdefault(row["municipality"], []).append(row["name"])
    return {m: tuple(names) for m, names in found.items()}


def fingerprint(*paths: Path) -> str:
    """Short hash of the files' bytes: tells two rule sets with the same version apart."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:8]


def load_policy(config_dir: Path | None = None, *, rules_path: Path | None = None, strict: bool = True) -> Policy:
    """Load the policy from `config_dir` (default: repo config/); strict: refuse rules with errors."""
    config_dir = Path(config_dir or CONFIG)
    rules_path = Path(rules_path or config_dir / "routing_rules.csv")
    main = config_dir / "routing.toml"
    data = read_toml(main)
    region = data.get("region", "crimea")
    thresholds = _section(Thresholds, data.get("thresholds", {}), f"{main} [thresholds]")
    incident = _section(IncidentConfig, data.get("incident", {}), f"{main} [incident]")
    agencies = load_agencies(config_dir / "agencies.csv")
    policy = Policy(
        version=f"{data.get('version', 'unversioned')}+{fingerprint(main, rules_path)}",
        rules=tuple(read_rules(rules_path)), agencies=agencies, thresholds=thresholds, incident=incident,
        sla=load_sla(data, region, str(main)), delivery=load_delivery(config_dir / "delivery.toml", agencies),
        topics=load_topics(config_dir),
        municipalities=tuple(r["municipality"] for r in read_csv(config_dir / "routing_municipalities.csv", ("municipality",))),
        rules_path=rules_path, settlements=load_settlements(config_dir / "regions" / region / "places.csv"),
    )
    if strict:
        from routing.check import check_rules

        errors = [p for p in check_rules(policy) if p.level == "error"]
        if errors:
            raise RulesError(f"{rules_path}: {len(errors)} error(s); first: {errors[0]}")
    return policy
