"""Statistics on the small frames the engine produces: group effects within strata (ratios
of rates or of mean money by a Poisson pseudo-likelihood, ratios of geometric means by least
squares), their small-sample cluster-robust inference (CR2, Bell-McCaffrey degrees of
freedom), and the family-wise verdict (Holm, minimum-effect and equivalence tests, power)."""

from auditor.stats._codes import cluster_subset, compact, strata
from auditor.stats._comparison import EffectFn, log_estimator, ratio_estimator
from auditor.stats._cr2 import Blocks, ClusterRobust, cluster_robust
from auditor.stats._decision import (
    Decision,
    OneSided,
    Verdict,
    band,
    decide,
    decide_one_sided,
    holm,
    one_sided_p,
    workers_needed,
)
from auditor.stats._effect import P_FLOOR, Exclusion, GroupEffect, Wald, kish, reported_p
from auditor.stats._poisson import RateCells, poisson_effect
from auditor.stats._within import LogCells, LogFit, log_fit, log_ratio_effect
from auditor.stats._within_cell import normal_solution, within_cell_coefficients

__all__ = [
    "P_FLOOR",
    "Blocks",
    "ClusterRobust",
    "Decision",
    "EffectFn",
    "Exclusion",
    "GroupEffect",
    "LogCells",
    "LogFit",
    "OneSided",
    "RateCells",
    "Verdict",
    "Wald",
    "band",
    "cluster_robust",
    "cluster_subset",
    "compact",
    "decide",
    "decide_one_sided",
    "holm",
    "kish",
    "log_estimator",
    "log_fit",
    "log_ratio_effect",
    "normal_solution",
    "one_sided_p",
    "poisson_effect",
    "ratio_estimator",
    "reported_p",
    "strata",
    "within_cell_coefficients",
    "workers_needed",
]
