"""Apache Spark as the audit's engine, through Ibis's PySpark backend.

The same API as the DuckDB engine (:class:`auditor.engine.Engine`): tables are Spark
temporary views, stored ones checkpointed (computed once, lineage cut, so that nothing
is recomputed in another partition order). The session's time zone is the audit's.
Functions the checks call by the DuckDB name (``epoch``, ``json_extract_string``) are
defined as Spark SQL functions, so that one Ibis expression runs on both engines.
Results come back to the driver as Arrow and are converted to pandas exactly as the
DuckDB backend converts them: the statistics see the same values from either engine.
"""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# pyspark warns, when imported and on conversions, that it does not yet support pandas 3;
# the audit converts through Arrow with Ibis's own converters.
warnings.filterwarnings(
    "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
)

import ibis  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow.types as pat  # noqa: E402
from ibis.backends.duckdb.converter import DuckDBPandasData, DuckDBPyArrowData  # noqa: E402
from ibis.backends.pyspark import Backend as PySparkBackend  # noqa: E402
from ibis.expr.types import Table  # noqa: E402

from auditor.config import AuditConfig  # noqa: E402
from auditor.errors import ConfigError  # noqa: E402

__all__ = ["SparkEngine", "connect_spark"]

_FUNCTIONS = (
    # seconds since the epoch of an instant, as DuckDB's epoch()
    "CREATE OR REPLACE TEMPORARY FUNCTION epoch(t TIMESTAMP) RETURNS DOUBLE "
    "RETURN unix_micros(t) / 1000000.0",
    # a field of a JSON object as text, the path written $."name" as for DuckDB
    "CREATE OR REPLACE TEMPORARY FUNCTION json_extract_string(v STRING, p STRING) "
    "RETURNS STRING RETURN get_json_object(v, "
    """concat("$['", substr(p, 4, length(p) - 4), "']"))""",
    # an instant as DuckDB writes one: local wall time, the fraction of a second without
    # trailing zeros, the offset as +08 or +05:30
    "CREATE OR REPLACE TEMPORARY FUNCTION auditor_instant_text(t TIMESTAMP) RETURNS STRING "
    "RETURN concat(date_format(t, 'yyyy-MM-dd HH:mm:ss'), "
    "CASE WHEN pmod(unix_micros(t), 1000000) = 0 THEN '' ELSE concat('.', regexp_replace("
    "lpad(CAST(pmod(unix_micros(t), 1000000) AS STRING), 6, '0'), '0+$', '')) END, "
    "regexp_replace(date_format(t, 'xxx'), ':00$', ''))",
    # a wall-clock time read as an instant: where the clock goes back and the time occurs
    # twice, the later instant, as DuckDB (ICU) takes it (Spark takes the earlier)
    "CREATE OR REPLACE TEMPORARY FUNCTION auditor_later_instant(t TIMESTAMP, naive BOOLEAN) "
    "RETURNS TIMESTAMP RETURN CASE WHEN naive AND "
    "date_format(t + INTERVAL 1 HOUR, 'yyyy-MM-dd HH:mm:ss.SSSSSS') = "
    "date_format(t, 'yyyy-MM-dd HH:mm:ss.SSSSSS') THEN t + INTERVAL 1 HOUR ELSE t END",
)


def dates_as_dates(frame: Any, expr: Table) -> Any:
    """``frame`` (Spark's result of ``expr``) with the columns Ibis types as dates made
    dates: Spark's ``date_trunc`` gives a timestamp where Ibis and DuckDB have a date, which
    Arrow would read as the UTC date of local midnight (the day before, east of UTC)."""
    from pyspark.sql import functions as F  # noqa: N812
    from pyspark.sql.types import TimestampType

    for name, kind in expr.schema().items():
        if kind.is_date() and isinstance(frame.schema[name].dataType, TimestampType):
            frame = frame.withColumn(name, F.to_date(F.col(f"`{name}`")))
    return frame


class _Backend(PySparkBackend):  # type: ignore[misc]
    """Ibis's PySpark backend, results fetched as Arrow and converted as DuckDB's are."""

    def _arrow(self, expr: Any, params: Any = None, limit: Any = None) -> Any:
        self._run_pre_execute_hooks(expr)
        table = expr.as_table()
        frame = self._session.sql(self.compile(table, params=params, limit=limit))
        return dates_as_dates(frame, table).toArrow()

    def execute(self, expr: Any, /, *, params: Any = None, limit: Any = None, **kw: Any) -> Any:
        table = self._arrow(expr, params, limit)
        df = pd.DataFrame(
            {
                name: (
                    col.to_pylist()
                    if pat.is_nested(col.type) or pat.is_dictionary(col.type) or col.null_count
                    else col.to_pandas()
                )
                for name, col in zip(table.column_names, table.columns, strict=True)
            }
        )
        df = DuckDBPandasData.convert_table(df, expr.as_table().schema())
        return expr.__pandas_result__(df)

    def to_pyarrow(self, expr: Any, /, *, params: Any = None, limit: Any = None, **kw: Any) -> Any:
        table = self._arrow(expr, params, limit)
        return expr.__pyarrow_result__(table, data_mapper=DuckDBPyArrowData)


@dataclass(slots=True)
class SparkEngine:
    """An Ibis connection to a Spark session and the scratch space the audit owns.

    Attributes:
        con: the Ibis PySpark backend.
        workdir: local temporary folder (transcoded files); removed by :meth:`close`.
        session: the ``SparkSession`` (left running when the audit ends, for the next).
    """

    con: Any
    workdir: Path
    session: Any
    _tmp: tempfile.TemporaryDirectory[str] | None = field(default=None, repr=False)
    _stored: dict[str, Any] = field(default_factory=dict, repr=False)

    backend = "spark"

    def sql(self, query: str) -> Any:
        """Run a Spark SQL statement; returns its DataFrame."""
        return self.session.sql(query)

    def dataframe(self, expr: Table) -> Any:
        """The Spark DataFrame of an Ibis expression (in-memory tables registered)."""
        self.con._run_pre_execute_hooks(expr)
        return dates_as_dates(self.session.sql(self.con.compile(expr)), expr)

    def keep(self, name: str, frame: Any) -> Table:
        """Compute ``frame`` once, cut its lineage, and name it ``name``."""
        old = self._stored.pop(name, None)
        frame = frame.localCheckpoint(eager=True)
        frame.createOrReplaceTempView(name)
        self._stored[name] = frame
        if old is not None:
            old.unpersist()
        return self.con.table(name)

    def store(self, name: str, data: Any) -> Table:
        """Store ``data`` (pandas, Arrow, or anything ``ibis.memtable`` takes) as ``name``."""
        return self.materialize(name, ibis.memtable(data))

    def drop(self, name: str) -> None:
        """Drop table ``name`` if it exists, freeing what it holds."""
        self.session.catalog.dropTempView(name)
        old = self._stored.pop(name, None)
        if old is not None:
            old.unpersist()

    def materialize(self, name: str, expr: Table) -> Table:
        """Store ``expr`` as table ``name`` (replacing it) and return it."""
        return self.keep(name, self.dataframe(expr))

    def view(self, name: str, expr: Table) -> Table:
        """Name ``expr`` as view ``name``: computed again by each query that reads it."""
        self.dataframe(expr).createOrReplaceTempView(name)
        return self.con.table(name)

    def close(self) -> None:
        for name in list(self._stored):
            self.drop(name)
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> SparkEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


SPARK_DEFAULTS = {
    "spark.driver.memory": "4g",
    "spark.driver.maxResultSize": "2g",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.warehouse.dir": str(Path(tempfile.gettempdir()) / "auditor-spark-warehouse"),
}
"""Settings of a session the audit starts, unless ``[engine.spark]`` gives others. The
driver receives each check's cells (a comparison's largest is about 100 bytes per worker
and stratum); Spark's own default of 1 GB loses them on a million-order package. The audit
uses only temporary views: the warehouse folder (which Spark would otherwise create in the
working folder) goes to the system's temporary folder."""


def connect_spark(config: AuditConfig, session: Any = None) -> SparkEngine:
    """Open a Spark engine: ``session`` if given, else a session of ``[engine.spark]
    master`` with its ``conf`` pairs; its time zone set to the audit's.

    Raises:
        ConfigError: the session cannot start (no Java, or the master cannot be reached).
        TypeError: ``session`` is not a ``SparkSession``.
    """
    from pyspark.errors import PySparkRuntimeError
    from pyspark.sql import SparkSession

    if session is not None and not isinstance(session, SparkSession):
        raise TypeError(
            f'engine must be "duckdb", "spark" or a SparkSession; got {type(session).__name__}'
        )
    if session is None:
        settings = {**SPARK_DEFAULTS, **config.engine.spark}
        master = settings.pop("master", "local[*]")
        builder = SparkSession.builder.master(master).appName("auditor")
        for key, value in settings.items():
            builder = builder.config(key, value)
        try:
            session = builder.getOrCreate()
        except PySparkRuntimeError as exc:  # no Java, or a master that cannot be reached
            raise ConfigError(
                f"Spark could not start a session (master {master!r}): {exc}. Spark needs "
                "Java 17 or newer on the PATH (or JAVA_HOME), and a reachable master."
            ) from exc
        session.sparkContext.setLogLevel("ERROR")
    ibis.pyspark  # noqa: B018  (loading the backend this way registers its options)
    con = _Backend().connect(session)
    session.conf.set("spark.sql.session.timeZone", config.audit.timezone)
    for statement in _FUNCTIONS:
        session.sql(statement)
    tmp = tempfile.TemporaryDirectory(prefix="auditor-")
    return SparkEngine(con=con, workdir=Path(tmp.name), session=session, _tmp=tmp)
