"""What the rule-pack checks (PAY-03, HRS-02) share: the packs that apply, the finding when
none does, and the basis a finding quotes."""

from __future__ import annotations

from auditor.checks._base import CheckContext, Finding, Status
from auditor.checks._common import basis
from auditor.config import rule_packs
from auditor.rules import RulePack

__all__ = ["no_pack", "pack_basis", "packs_with"]


def packs_with(context: CheckContext, part: str) -> list[RulePack]:
    """The chosen rule packs (``[audit] rules``) that have ``part`` (``"floor"`` or
    ``"working_time"``), in the order chosen."""
    return [p for p in rule_packs(context.config) if getattr(p, part) is not None]


def no_pack(check: str, title: str, what: str, example: str) -> Finding:
    """``not_assessed``, naming ``[audit] rules``: no chosen pack has ``what``."""
    return Finding(
        check=check,
        status=Status.NOT_ASSESSED,
        title=title,
        missing=("[audit] rules",),
        detail=(
            f"No rule pack with {what} was chosen: name one in [audit] rules or with --rules "
            f"NAME ({example}, for example; `auditor rules` lists the shipped packs)."
        ),
    )


def pack_basis(context: CheckContext, check: str, pack: RulePack) -> str:
    """The check's ``[basis]`` text, then the pack's title and its legal sources."""
    sources = "; ".join(s.title + (f" ({s.cites})" if s.cites else "") for s in pack.sources)
    rule = f"{pack.title} ({pack.jurisdiction}): {sources}."
    own = basis(context, check)
    return f"{own} {rule}" if own else rule
