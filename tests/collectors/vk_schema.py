"""Validate fake VK responses against VK's official JSON schema (../shared/data/vk_api_schema).

VK's files mix draft-4 keywords (allOf, $ref across files) with draft-3 `"required": true` inside
properties, so the validator is draft 4 with draft 3's `properties`. The code-generation field
`inner_type` is marked required but real responses never carry it; that one requirement is dropped.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from jsonschema import Draft4Validator, validators
from jsonschema._keywords import required as required_draft4
from jsonschema._legacy_keywords import properties_draft3
from referencing import Registry
from referencing.jsonschema import DRAFT4


def _required(validator, required, instance, schema):
    if isinstance(required, list):  # draft 4 form; the boolean form is handled by properties_draft3
        yield from required_draft4(validator, required, instance, schema)


VkValidator = validators.extend(Draft4Validator, {"properties": properties_draft3, "required": _required})


def _drop_inner_type_requirement(node):
    if isinstance(node, dict):
        props = node.get("properties")
        if isinstance(props, dict) and isinstance(props.get("inner_type"), dict):
            props["inner_type"] = {k: v for k, v in props["inner_type"].items() if k != "required"}
        for value in node.values():
            _drop_inner_type_requirement(value)
    elif isinstance(node, list):
        for value in node:
            _drop_inner_type_requirement(value)
    return node


class VkSchema:
    """`check(method, body)` returns the schema errors of one served response body (empty when valid)."""

    def __init__(self, root: Path):
        self.root = root.resolve()
        resources = []
        for path in self.root.rglob("*.json"):
            contents = _drop_inner_type_requirement(json.loads(path.read_text(encoding="utf-8")))
            resources.append((path.as_uri(), DRAFT4.create_resource(contents)))
        self.registry = Registry().with_resources(resources)

    @lru_cache(maxsize=None)
    def _validator(self, file: str, definition: str) -> VkValidator:
        ref = f"{(self.root / file).as_uri()}#/definitions/{definition}"
        return VkValidator({"$ref": ref}, registry=self.registry)

    def _errors(self, file: str, definition: str, instance) -> list[str]:
        found = self._validator(file, definition).iter_errors(instance)
        return [f"{definition}: {'/'.join(map(str, e.absolute_path))}: {e.message}" for e in found]

    def check_response(self, method: str, body: dict) -> list[str]:
        """Errors of a successful `{"response": …}` envelope of `method` (e.g. wall.get)."""
        section, name = method.split(".")
        return self._errors(f"{section}/responses.json", f"{section}_{name}_response", body)

    def check_error(self, error: dict) -> list[str]:
        """Errors of the object under "error" (or one execute_errors entry)."""
        return self._errors("base/objects.json", "base_error", error)
