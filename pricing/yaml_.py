"""YAML reading for user files: safe (no object construction) and with dates left as text.

PyYAML's ``safe_load`` turns ``2025-13-01`` into a ``ValueError`` for the whole document. Here
timestamps stay strings, so a malformed date becomes one field error on one trade and the rest
of the file is still read.

>>> load_yaml("asof: 2025-13-01")
{'asof': '2025-13-01'}
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["YAMLError", "load_yaml"]

YAMLError = yaml.YAMLError


class _TextDateLoader(yaml.SafeLoader):
    """SafeLoader without the implicit timestamp resolver."""


_TextDateLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    """Parse YAML text safely; dates are returned as strings."""
    return yaml.load(text, Loader=_TextDateLoader)  # noqa: S506 - a SafeLoader subclass
