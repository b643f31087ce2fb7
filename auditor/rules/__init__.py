"""Rule packs: dated jurisdiction rules (pay floors) shipped as data files.

``load_pack("us-nyc-tlc-hvfhv")`` reads a shipped pack, ``load_pack("my/pack.toml")`` a
user's own; ``builtin_pack_names()`` lists the shipped ones. The format and every shipped
pack, with its sources, are described in ``docs/rules.md``.
"""

from __future__ import annotations

from auditor.rules._pack import (
    KM_PER_MILE,
    PACKS_DIR,
    FloorRule,
    Rate,
    RulePack,
    Source,
    WorkingTimeRule,
    builtin_pack_names,
    describe_pack,
    load_pack,
)

__all__ = [
    "KM_PER_MILE",
    "PACKS_DIR",
    "FloorRule",
    "Rate",
    "RulePack",
    "Source",
    "WorkingTimeRule",
    "builtin_pack_names",
    "describe_pack",
    "load_pack",
]
