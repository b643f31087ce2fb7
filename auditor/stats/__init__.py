"""Statistics on the small frames the engine produces: group effects within strata
(weighted least squares, Poisson rate ratios), worker-level spread, and the family-wise
verdict (Holm, equivalence, minimum detectable effect)."""

from auditor.stats._decision import Decision, Verdict, band, decide, holm
from auditor.stats._effect import GroupEffect
from auditor.stats._moments import CellMoments, Fit
from auditor.stats._poisson import RateCells, poisson_effect
from auditor.stats._within import within_effect

__all__ = [
    "CellMoments",
    "Decision",
    "Fit",
    "GroupEffect",
    "RateCells",
    "Verdict",
    "band",
    "decide",
    "holm",
    "poisson_effect",
    "within_effect",
]
