"""Build the collector for a source from its type; a missing secret switches only that source off."""
from __future__ import annotations

import importlib

from collectors.base import Collector, SourceConfig
from collectors.errors import NotConfigured
from collectors.pseudonym import Pseudonymizer
from tsur.settings import Settings

# type -> "module:function"; each builder is build(config, settings, pseudonymize) -> Collector
BUILDERS = {
    "vk_wall": "collectors.vk:build",
    "vk_search": "collectors.vk:build",
    "tg_channel": "collectors.telegram:build",
    "web": "collectors.web:build",
    "replay": "collectors.replay:build",
}


def build_collector(config: SourceConfig, settings: Settings, pseudonymize: Pseudonymizer) -> Collector:
    """The collector for `config`; raises NotConfigured when the source cannot run here."""
    type_ = config.options.get("type") or {"replay": "replay", "web": "web", "tg": "tg_channel"}.get(config.platform)
    target = BUILDERS.get(type_ or "")
    if target is None:
        raise NotConfigured(f"{config.key}: unknown source type {type_!r}")
    module_name, func = target.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise NotConfigured(f"{config.key}: collector {module_name} unavailable ({exc})") from None
    return getattr(module, func)(config, settings, pseudonymize)
