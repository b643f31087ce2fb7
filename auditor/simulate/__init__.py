"""A realistic, deterministic synthetic gig-work platform with plantable breaches.

`simulate` turns a `SimulationSpec` into a `SimulatedPackage`: the seven tables of the audit
data contract (orders, offers, sessions, payouts, deductions, workers, fee_schedule) and a
ground truth of what was planted. `write_package` writes it as CSV, Parquet or JSONL.

>>> from auditor.simulate import SimulationSpec, simulate
>>> package = simulate(SimulationSpec(workers=50, days=3, plants=("DSP-01",)))
>>> sorted(package.tables)[:3]
['deductions', 'fee_schedule', 'offers']
"""

from ._dirty import DirtyRow, make_dirty_package
from ._platform import SimulatedPackage, simulate
from ._spec import PLANT_IDS, PlantOptions, SimulationSpec
from ._write import write_package

__all__ = [
    "PLANT_IDS",
    "DirtyRow",
    "PlantOptions",
    "SimulatedPackage",
    "SimulationSpec",
    "make_dirty_package",
    "simulate",
    "write_package",
]
