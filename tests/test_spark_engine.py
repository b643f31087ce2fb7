"""The same audit on Apache Spark: every output byte-identical to DuckDB's.

Spark runs in local mode (``local[2]``). Without pyspark or Java the Spark tests skip,
unless ``AUDITOR_REQUIRE_SPARK=1`` (set by ``.ci/run``) makes that a failure. The as-of
join and the usage errors are tested on every machine.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest
from _packages import as_text_table, split_into_parts

from auditor import cli
from auditor.engine._asof import _asof_by_window, asof_left_join
from auditor.simulate import SimulationSpec, simulate, write_package

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
CONFIG = ROOT / "audit_config.toml"
# The manifest records the command line and the time; every other output must match.
COMPARED = (
    "findings.json",
    "quarantine.csv",
    "leads.csv",
    "owed.csv",
    "statistics.csv",
    "indicators.csv",
    "summary.md",
    "junit.xml",
    "report.html",
)


def _spark_or_skip() -> None:
    required = os.environ.get("AUDITOR_REQUIRE_SPARK") == "1"
    problem = None
    try:
        import pyspark  # noqa: F401
    except ImportError:
        problem = "pyspark is not installed (pip install -e '.[spark]')"
    if problem is None and shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        problem = "no java on the PATH (apt-get install default-jre-headless; .ci/run does)"
    if problem is not None:
        if required:
            pytest.fail(f"AUDITOR_REQUIRE_SPARK=1 but {problem}")
        pytest.skip(problem)


def _spark_config(tmp: Path, *, demo: bool = True) -> Path:
    """The demo's config (or the defaults) on Spark local[2], with few shuffle partitions
    (small data)."""
    text = CONFIG.read_text(encoding="utf-8") if demo else ""
    text += (
        '\n[engine.spark]\nmaster = "local[2]"\n"spark.sql.shuffle.partitions" = "2"\n'
        '"spark.ui.enabled" = "false"\n'
    )
    path = tmp / "spark_config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _run(package: Path | str, config: Path, out: Path, *extra: str) -> int:
    args = ["run", str(package), "--config", str(config), "--out", str(out), "--quiet"]
    return cli.main([*args, "--fail-on", "never", *extra])


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A platform of 200 workers over a week, every table: orders and offers as folders of
    Parquet part files (as a data lake writes them), the rest CSV."""
    spec = SimulationSpec(workers=200, days=7, seed=3)
    package = write_package(simulate(spec), tmp_path_factory.mktemp("sim") / "pkg")
    for table, parts in (("orders", 3), ("offers", 4)):
        text = as_text_table(package / f"{table}.csv")
        (package / f"{table}.csv").unlink()
        split_into_parts(text, package / table, parts)
    return package


@pytest.mark.slow
@pytest.mark.parametrize("name", ["demo", "dirty", "simulated"])
def test_every_output_is_byte_identical_on_spark(
    name: str, simulated: Path, tmp_path: Path
) -> None:
    """Every output of ``auditor run`` on DuckDB (the local folder) and on Spark (the demo
    by its path; the dirty and simulated packages by ``file://`` URI)."""
    _spark_or_skip()
    package = simulated if name == "simulated" else FIXTURES / name
    config = _spark_config(tmp_path)
    assert _run(package, config, tmp_path / "duckdb") == 0
    # Spark reads the dirty and simulated packages by URI, through Hadoop's file system,
    # as it reads hdfs:// or s3a://; the demo by its path.
    where = str(package) if name == "demo" else f"file://{package}"
    assert _run(where, config, tmp_path / "spark", "--engine", "spark") == 0
    for output in COMPARED:
        duck = (tmp_path / "duckdb" / output).read_bytes()
        spark = (tmp_path / "spark" / output).read_bytes()
        assert duck == spark, f"{name}: {output} differs between the engines"
    for engine in ("duckdb", "spark"):  # the manifest says which engine wrote the folder
        manifest = json.loads((tmp_path / engine / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["engine"]["backend"] == engine and manifest["engine"]["version"]
    if name == "dirty":  # the quarantine is not empty: the comparison means something
        assert (tmp_path / "spark" / "quarantine.csv").read_text().count("\n") > 20


@pytest.mark.slow
def test_a_preset_folder_of_parquet_months_is_identical_on_spark(tmp_path: Path) -> None:
    """The TLC preset reads its Parquet files as one table, numbered across them."""
    _spark_or_skip()
    source = next((FIXTURES / "nyc-tlc-hvfhv").glob("*.parquet"))
    frame = pd.read_parquet(source)
    folder = tmp_path / "months"
    folder.mkdir()
    half = len(frame) // 2
    frame.iloc[:half].to_parquet(folder / "fhvhv_tripdata_2023-01.parquet", index=False)
    frame.iloc[half:].to_parquet(folder / "fhvhv_tripdata_2023-02.parquet", index=False)
    config = _spark_config(tmp_path, demo=False)
    for engine in ("duckdb", "spark"):
        args = ["--preset", "nyc-tlc-hvfhv", "--engine", engine]
        assert _run(folder, config, tmp_path / engine, *args) == 0
    for output in ("findings.json", "quarantine.csv", "owed.csv"):
        duck = (tmp_path / "duckdb" / output).read_bytes()
        assert duck == (tmp_path / "spark" / output).read_bytes(), output


def _validate_both(package: Path, config: Path, tmp: Path) -> None:
    """``auditor validate`` on both engines: the same exit code, and the same
    validation.json and quarantine.csv."""
    codes = []
    for engine in ("duckdb", "spark"):
        args = ["validate", str(package), "--config", str(config), "--out", str(tmp / engine)]
        codes.append(cli.main([*args, "--quiet", "--fail-on", "never", "--engine", engine]))
    assert codes[0] == codes[1] == 0
    for output in ("validation.json", "quarantine.csv"):
        duck = (tmp / "duckdb" / output).read_bytes()
        assert duck == (tmp / "spark" / output).read_bytes(), output


@pytest.mark.slow
def test_hostile_text_files_are_read_alike(tmp_path: Path) -> None:
    """CSV and JSON Lines records that readers disagree on: a quote inside an unquoted
    value (kept), text after a closing quote and a wrong field count (malformed), CRLF and
    blank lines; two JSON objects on one line, a raw control character, NaN and a trailing
    comma (malformed), a key holding a quote, and a wall-clock time that occurs twice (the
    later instant)."""
    _spark_or_skip()
    package = tmp_path / "pkg"
    package.mkdir()
    lines = (FIXTURES / "demo" / "orders.csv").read_text(encoding="utf-8").splitlines()[:30]
    header = lines[0].split(",")
    zone = header.index("pickup_zone")

    def with_zone(line: str, value: str) -> str:
        fields = line.split(",")
        fields[zone] = value
        return ",".join(fields)

    lines[3] = with_zone(lines[3], 'Z"04')
    lines[5] = with_zone(lines[5], '"Z04"x')
    lines[7] = lines[7] + ",extra"
    lines[9] = with_zone(lines[9], '"Z,04 ""east"""')
    text = "\r\n".join(lines[:12]) + "\r\n\r\n" + "\r\n".join(lines[12:]) + "\r\n"
    (package / "orders.csv").write_text(text, encoding="utf-8", newline="")
    workers = [
        '{"worker_id": "W000001", "gender": "F"}{"worker_id": "W000002"}',
        '{"worker_id": "W000003", "gender": "F\u0001"}',
        '{"worker_id": "W000004", "gender": "M", "age_band": NaN}',
        '{"worker_id": "W000005", "gender": "M",}',
        '{"worker_id": "W000006", "gender": "M", "tenure": 1.50, "joined\'on": "2026-13-01"}',
        "",
        '{"worker_id": "W000007", "gender": "F"} 5',
        '{"worker_id": "W000008", "gender": "F", "joined\'on": "2026-01-05"}',
    ]
    (package / "workers.jsonl").write_text("\n".join(workers) + "\n", encoding="utf-8")
    config = _spark_config(tmp_path)  # a key JSON paths cannot quote, mapped to a column
    with config.open("a", encoding="utf-8") as fh:
        fh.write('[package.mapping.workers]\njoined_on = "joined\'on"\n')
    _validate_both(package, config, tmp_path)
    quarantine = (tmp_path / "spark" / "quarantine.csv").read_text(encoding="utf-8")
    assert quarantine.count("malformed_record") == 7
    assert "2026-13-01" in quarantine  # the quoted key was read, and its bad date caught


@pytest.mark.slow
def test_the_hour_a_clock_goes_back_is_read_alike(tmp_path: Path) -> None:
    """Times without an offset in New York's repeated hour: both engines take the later
    instant (DuckDB's ICU does; Spark's java.time would take the earlier)."""
    _spark_or_skip()
    package = tmp_path / "pkg"
    package.mkdir()
    lines = (FIXTURES / "demo" / "orders.csv").read_text(encoding="utf-8").splitlines()[:6]
    header = lines[0].split(",")
    fields = [line.split(",") for line in lines[1:]]
    for i, row in enumerate(fields):
        for column in ("accepted_at", "pickup_at", "dropoff_at"):
            minute = {"accepted_at": 10, "pickup_at": 20, "dropoff_at": 40}[column]
            row[header.index(column)] = f"2026-11-01T01:{minute + i:02d}:00"
    rows = [",".join(header)] + [",".join(r) for r in fields]
    (package / "orders.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    config = tmp_path / "ny.toml"
    config.write_text(
        _spark_config(tmp_path, demo=False).read_text(encoding="utf-8")
        + '\n[audit]\ntimezone = "America/New_York"\ncurrency = "USD"\n',
        encoding="utf-8",
    )
    _validate_both(package, config, tmp_path)


def test_spark_without_pyspark_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 2 naming the extra, before anything is read."""
    import builtins

    real_import = builtins.__import__

    def no_pyspark(name: str, *args: object, **kwargs: object) -> object:
        if name == "pyspark" or name.startswith(("pyspark.", "ibis.backends.pyspark")):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_pyspark)
    for module in [m for m in list(__import__("sys").modules) if "_spark" in m]:
        monkeypatch.delitem(__import__("sys").modules, module)
    code = _run(FIXTURES / "demo", CONFIG, tmp_path / "out", "--engine", "spark")
    assert code == 2
    err = capsys.readouterr().err
    assert 'pip install "auditor[spark]"' in err
    assert not (tmp_path / "out").exists()


def test_an_unknown_engine_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.toml"
    config.write_text('[engine]\nbackend = "polars"\n', encoding="utf-8")
    code = _run(FIXTURES / "demo", config, tmp_path / "out")
    assert code == 2
    assert '[engine] backend must be "duckdb" or "spark"' in capsys.readouterr().err


@pytest.mark.parametrize("seed", range(5))
def test_window_as_of_join_matches_the_native_one(seed: int) -> None:
    """Spark's as-of join (a window and two equality joins), run on DuckDB, gives the rows
    DuckDB's native as-of join gives: ties at the same instant, left rows before any right
    row, null keys, workers with no right rows, and repeated left keys."""
    rng = np.random.default_rng(seed)
    n_left, n_right = 400, 60
    left = pd.DataFrame(
        {
            "worker_id": rng.choice(["a", "b", "c", "d", None], n_left),
            "t": rng.integers(0, 200, n_left).astype(float),
            "x": np.arange(n_left),
        }
    )
    # missing instants are nulls (the engine's NaN would sort after every key)
    left["t"] = left["t"].astype("Float64")
    left.loc[rng.random(n_left) < 0.05, "t"] = pd.NA
    starts = []
    for worker in ("a", "b", "c"):  # "d" has none; a right key is unique per worker
        for s in np.sort(rng.choice(np.arange(0, 200, 3), n_right // 3, replace=False)):
            starts.append((worker, float(s), float(s) + rng.integers(1, 10)))
    right = pd.DataFrame(starts, columns=["worker_id", "on", "off"])
    # the same instant in both: a right row at a left row's instant must match it
    right.loc[0, "on"] = left["t"].dropna().iloc[0]
    con = ibis.duckdb.connect()
    lt = con.create_table("l", left)
    rt = con.create_table("r", right.drop_duplicates(["worker_id", "on"]))
    keys = dict(left_on="t", right_on="on", left_by="worker_id", right_by="worker_id")
    native = asof_left_join(lt, rt, **keys).to_pandas()
    window = _asof_by_window(lt, rt, "t", "on", "worker_id", "worker_id").to_pandas()
    assert (
        list(native.columns)
        == list(window.columns)
        == ["worker_id", "t", "x", "worker_id_right", "on", "off"]
    )
    order = ["x"]
    pd.testing.assert_frame_equal(
        native.sort_values(order).reset_index(drop=True),
        window.sort_values(order).reset_index(drop=True),
    )
    matched = native["on"].notna()
    assert 0.3 < matched.mean() < 1.0  # both matched and unmatched rows are compared
    assert (native.loc[matched, "on"] <= native.loc[matched, "t"]).all()


def test_a_uri_on_duckdb_is_refused_unless_it_is_a_local_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """DuckDB reads local files: ``s3a://`` is a usage error naming Spark; a ``file:`` URI
    is its local path, taken as written as Hadoop takes it (``#`` and ``%20`` are part of
    the name), and an output folder inside it is refused as for the path."""
    args = ["--out", str(tmp_path / "out"), "--quiet", "--fail-on", "never"]
    assert cli.main(["validate", "s3a://bucket/package", *args]) == 2
    assert "--engine spark" in capsys.readouterr().err
    package = tmp_path / "pkg#1 %20"
    shutil.copytree(FIXTURES / "demo", package)
    assert cli.main(["validate", f"FILE://localhost{package}/", *args]) == 0
    inside = ["--out", str(package / "out"), "--quiet", "--fail-on", "never"]
    assert cli.main(["validate", f"file://{package}", *inside]) == 2
    assert "inside the package folder" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("uri", "spelled"),
    [
        ("FILE:///tmp/x/", "file:///tmp/x"),
        ("file:/tmp/x", "file:///tmp/x"),
        ("file://localhost/tmp/./a//b/", "file:///tmp/a/b"),
        ("hdfs://nn:8020/", "hdfs://nn:8020"),
        ("s3a://bucket/a/../c", "s3a://bucket/c"),
        ("abfss://c@acct.dfs.core.windows.net/x%20y", "abfss://c@acct.dfs.core.windows.net/x%20y"),
    ],
)
def test_a_uri_has_one_spelling(uri: str, spelled: str) -> None:
    from auditor.engine._hadoop import normalized_uri

    assert normalized_uri(uri) == spelled


@pytest.mark.slow
def test_a_uri_on_spark_is_refused_or_read_as_the_local_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """On Spark: a link out of a package named by ``file:`` URI is refused (exit 2) as for
    the path; a Parquet part folder under ``FILE://localhost`` validates as DuckDB does on
    the path; a part whose Hadoop checksum (``.crc``) does not match is exit 2, not 3."""
    _spark_or_skip()
    config = _spark_config(tmp_path, demo=False)
    flags = ["--config", str(config), "--quiet", "--fail-on", "never"]

    def validate(where: str, out: str, engine: str = "spark") -> int:
        args = ["validate", where, "--out", str(tmp_path / "out" / out), "--engine", engine]
        return cli.main([*args, *flags])

    linked = tmp_path / "linked"
    linked.mkdir()
    shutil.copy(FIXTURES / "dirty" / "orders.csv", tmp_path / "outside.csv")
    (linked / "orders.csv").symlink_to(tmp_path / "outside.csv")
    assert validate(f"file://{linked}", "linked") == 2
    assert "outside the package folder" in capsys.readouterr().err

    parts = tmp_path / "parts"
    orders = as_text_table(FIXTURES / "demo" / "orders.csv").slice(0, 300)
    split_into_parts(orders, parts / "orders", 3)
    assert validate(str(parts), "duckdb", engine="duckdb") == 0
    assert validate(f"FILE://localhost{parts}/", "spark") == 0
    for output in ("validation.json", "quarantine.csv"):
        duck = (tmp_path / "out" / "duckdb" / output).read_bytes()
        assert duck == (tmp_path / "out" / "spark" / output).read_bytes(), output

    (parts / "orders" / ".part-00001.snappy.parquet.crc").write_bytes(b"crc\x00" + bytes(12))
    assert validate(f"file://{parts}", "crc") == 2
    assert "internal error" not in capsys.readouterr().err


@pytest.mark.slow
@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_files_behind_a_uri_are_counted_and_hashed_where_they_are(
    tmp_path: Path, encoding: str
) -> None:
    """Line feeds, blank lines, the first byte that is not UTF-8, SHA-256s and Parquet
    footers of files behind a URI, computed by Spark and the JVM: as Python computes them
    on the local file. Another encoding behind a URI is refused (exit 2)."""
    _spark_or_skip()
    from pyspark.sql import SparkSession

    from auditor.engine import fingerprint_file, fingerprint_files
    from auditor.engine._decode import first_undecodable_offset
    from auditor.engine._hadoop import HadoopPath
    from auditor.engine._readers import parquet_footer

    if encoding != "utf-8":
        (tmp_path / "pkg").mkdir()
        shutil.copy(FIXTURES / "demo" / "orders.csv", tmp_path / "pkg" / "orders.csv")
        config = _spark_config(tmp_path, demo=False)
        config.write_text(
            config.read_text(encoding="utf-8") + f'[package]\nencoding = "{encoding}"\n'
        )
        args = ["validate", f"file://{tmp_path / 'pkg'}", "--config", str(config)]
        out = ["--out", str(tmp_path / "out"), "--quiet", "--engine", "spark"]
        assert cli.main([*args, *out]) == 2
        return
    session = SparkSession.builder.master("local[2]").getOrCreate()
    samples = {
        "plain": b"a,b\n1,2\n3,4\n",
        "no_last_feed": b"a,b\n1,2",
        "blank_first": b"\na\n\n\nb\n",
        "crlf_blanks": b"a\r\n\r\n\r\nb\r\n",
        "lone_cr_last": b"a\n\r",
        "lone_cr": b"\r",
        "feeds": b"\n\n\n",
        "empty": b"",
        "bad_byte": "a,é\n".encode() * 1000 + b"x\xff\xfey\n" + b"z\n" * 10,
        "cut_character": b"a\n" + "中".encode()[:2],
        "random": bytes(np.random.default_rng(5).integers(0, 256, 200_000, dtype=np.uint8)),
    }
    for name, data in samples.items():
        local = tmp_path / f"{name}.csv"
        local.write_bytes(data)
        remote = HadoopPath(f"file://{local}", session)
        expected = fingerprint_file(local)
        assert fingerprint_file(remote) == expected, name
        assert first_undecodable_offset(remote, "utf-8") == first_undecodable_offset(
            local, "utf-8"
        ), name
    parts = []
    for i in range(3):
        part = tmp_path / f"part-{i}.parquet"
        pd.DataFrame({"x": np.arange(i * 10 + 1), "y": "é"}).to_parquet(part)
        parts.append(part)
    remote_parts = tuple(HadoopPath(f"file://{p}", session) for p in parts)
    assert fingerprint_files(remote_parts) == fingerprint_files(tuple(parts))
    assert [parquet_footer(p) for p in remote_parts] == [parquet_footer(p) for p in parts]
