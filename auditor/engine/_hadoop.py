"""A package behind a URI (``hdfs://``, ``s3a://``, ``abfss://``, ``file://``, ...), read
through the Spark session's Hadoop file system, with the session's own settings
(credentials, endpoints): listing, sizes, SHA-256 and line counts computed where the bytes
are, and a file object for the few bytes Python reads itself (a CSV header, a Parquet
footer)."""

from __future__ import annotations

import io
import posixpath
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from auditor.errors import PackageError

__all__ = [
    "URI_SCHEME",
    "HadoopPath",
    "HadoopStat",
    "TextLayout",
    "file_uri_path",
    "is_uri",
    "java_reason",
    "normalized_uri",
]

URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")
"""A location with a scheme (``s3a://bucket/pkg``), as opposed to a local path."""

_PARTS = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):(?://([^/]*))?(.*)$", re.S)


def is_uri(text: str) -> bool:
    """Whether ``text`` names a location by URI rather than a local path: a scheme and
    ``//`` (``s3a://bucket/pkg``), or ``file:/...`` as Spark and Hadoop print local paths."""
    return bool(URI_SCHEME.match(text) or re.match(r"(?i)file:/", text))


def normalized_uri(uri: str) -> str:
    """``uri`` in one spelling: the scheme in lower case (schemes ignore case);
    ``file:/x`` and ``file://localhost/x`` as ``file:///x``; ``.``, ``..`` and doubled
    slashes of the path folded; no trailing slash. Nothing is percent-decoded: Hadoop
    and Spark read a URI's path as written."""
    match = _PARTS.match(uri)
    if match is None:
        raise ValueError(f"not a URI: {uri!r}")
    scheme, authority, path = match.group(1).lower(), match.group(2) or "", match.group(3)
    if scheme == "file" and authority == "localhost":
        authority = ""
    if path:
        path = "/" + posixpath.normpath(path).lstrip("/") if path.startswith("/") else path
        path = "" if path in ("/", ".") else path
    return f"{scheme}://{authority}{path}"


def file_uri_path(uri: str) -> Path | None:
    """The local path a ``file:`` URI names (taken as written, as Hadoop takes it), or None
    for another URI or a ``file:`` URI of another host."""
    if not is_uri(uri):
        return None
    match = _PARTS.match(normalized_uri(uri))
    if match is None or match.group(1) != "file" or match.group(2):
        return None
    return Path(match.group(3) or "/")


@dataclass(frozen=True, slots=True)
class HadoopStat:
    """What :meth:`HadoopPath.stat` tells: the file's size in bytes."""

    st_size: int


@dataclass(frozen=True, slots=True)
class TextLayout:
    """A text file's line feeds as :func:`auditor.engine.fingerprint_file` counts them.

    Attributes:
        lines: line feeds, plus one for a last line without one.
        blank_lines: lines (after the first) that are empty or a lone carriage return.
        first_undecodable: 0-based byte offset of the first byte that is not UTF-8, or None.
    """

    lines: int
    blank_lines: int
    first_undecodable: int | None


class HadoopPath:
    """A file or folder named by a URI, read through Hadoop's ``FileSystem`` of a Spark
    session. It offers what the package reader asks of a ``pathlib.Path`` (``name``,
    ``suffix``, ``iterdir``, ``stat``, ``open``, ...); there are no links to resolve."""

    __slots__ = ("_fs", "_layout", "_lock", "_session", "_status", "uri")

    def __init__(self, uri: str, session: Any, *, _fs: Any = None, _status: Any = None) -> None:
        self.uri = normalized_uri(uri)
        self._session = session
        if _fs is None:
            _fs = self._call("opening its file system", self._file_system)
        self._fs = _fs
        self._status = _status
        self._layout: TextLayout | None = None
        self._lock = threading.Lock()

    def _jvm(self) -> Any:
        return self._session._jvm

    def _conf(self) -> Any:
        return self._session._jsc.hadoopConfiguration()

    def _jpath(self) -> Any:
        return self._jvm().org.apache.hadoop.fs.Path(self.uri)

    def _file_system(self) -> Any:
        """The URI's Hadoop file system; for local files the raw one, which lists Hadoop's
        ``.crc`` files as files (as a local path shows them) rather than hiding them."""
        fs = self._jpath().getFileSystem(self._conf())
        if self.uri.startswith("file:") and fs.getClass().getName().endswith("LocalFileSystem"):
            fs = fs.getRawFileSystem()
        return fs

    def _call(self, doing: str, call: Any) -> Any:
        """``call()``, with the file system's refusal as a PackageError naming the URI."""
        return _jvm_call(
            call,
            lambda reason: PackageError(
                f"{self.uri}: {doing} failed: {reason}. Check the URI, that its service is "
                "reachable, and the Spark session's settings for it (connector, "
                "credentials, endpoint)."
            ),
        )

    # pathlib's naming
    @property
    def name(self) -> str:
        head = URI_SCHEME.match(self.uri)
        rest = self.uri[head.end() if head else 0 :]
        return rest.rsplit("/", 1)[-1] if "/" in rest else ""

    @property
    def stem(self) -> str:
        return PurePosixPath(self.name).stem if self.name else ""

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.name).suffix if self.name else ""

    @property
    def parent(self) -> HadoopPath:
        if not self.name:
            return self
        return HadoopPath(self.uri[: -len(self.name) - 1], self._session, _fs=self._fs)

    @property
    def parents(self) -> tuple[HadoopPath, ...]:
        chain: list[HadoopPath] = []
        at = self
        while at.name:
            at = at.parent
            chain.append(at)
        return tuple(chain)

    def __truediv__(self, child: str) -> HadoopPath:
        return HadoopPath(f"{self.uri}/{child}", self._session, _fs=self._fs)

    def __str__(self) -> str:
        return self.uri

    def __repr__(self) -> str:
        return f"HadoopPath({self.uri!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HadoopPath) and other.uri == self.uri

    def __hash__(self) -> int:
        return hash(self.uri)

    def __lt__(self, other: HadoopPath) -> bool:
        return self.uri < other.uri

    def resolve(self) -> HadoopPath:
        """A local file's URI with its links followed (so a link out of the package is
        seen as one); other file systems' URIs as they are."""
        local = file_uri_path(self.uri)
        if local is None:
            return self
        return HadoopPath(f"file://{local.resolve()}", self._session, _fs=self._fs)

    # the file system
    def _stat(self) -> Any:
        if self._status is None:
            from py4j.protocol import Py4JJavaError

            def status() -> Any:
                try:
                    return self._fs.getFileStatus(self._jpath())
                except Py4JJavaError as exc:
                    if "FileNotFoundException" in exc.java_exception.getClass().getName():
                        return None
                    raise

            self._status = self._call("reading its status", status)
        return self._status

    def exists(self) -> bool:
        return self._stat() is not None

    def is_dir(self) -> bool:
        status = self._stat()
        return status is not None and bool(status.isDirectory())

    def is_file(self) -> bool:
        status = self._stat()
        return status is not None and bool(status.isFile())

    def iterdir(self) -> Iterator[HadoopPath]:
        """The folder's entries (each with its status, so no further call asks for it).

        Raises:
            PackageError: the folder cannot be listed (with the file system's reason).
        """
        statuses = self._call("listing it", lambda: list(self._fs.listStatus(self._jpath())))
        for status in statuses:
            name = str(status.getPath().getName())
            yield HadoopPath(f"{self.uri}/{name}", self._session, _fs=self._fs, _status=status)

    def stat(self) -> HadoopStat:
        status = self._stat()
        if status is None:
            raise FileNotFoundError(0, f"{self.uri} does not exist")
        return HadoopStat(int(status.getLen()))

    def open(self, mode: str = "rb") -> io.BufferedReader:
        """The file's bytes, read through the JVM (for small reads: a header, a footer)."""
        if mode != "rb":
            raise ValueError(f"a file behind a URI opens only as 'rb', not {mode!r}")
        stream = self._call("opening it", lambda: self._fs.open(self._jpath()))
        raw = _HadoopStream(stream, self.stat().st_size, self.uri)
        return io.BufferedReader(raw, buffer_size=1 << 20)

    def qualified(self) -> str:
        """The URI as Spark records a file it read (``_metadata.file_path``)."""
        qualified = self._call("qualifying it", lambda: self._fs.makeQualified(self._jpath()))
        return str(qualified.toUri().toString())

    # what is computed where the bytes are
    def sha256(self, *, named: bool = False, digest: Any = None) -> tuple[str, Any]:
        """SHA-256 of the bytes, computed in the JVM, as hex; with ``named``, "" and the
        JVM digest (``digest``, or a new one) updated with the name and size (see
        :func:`auditor.engine.fingerprint_files`) and the bytes, not yet finished."""
        jvm = self._jvm()
        if digest is None:
            digest = jvm.java.security.MessageDigest.getInstance("SHA-256")
        if named:
            digest.update(bytearray(f"{self.name}\0{self.stat().st_size}\0".encode()))

        def update() -> None:
            stream = self._fs.open(self._jpath())
            try:
                jvm.org.apache.commons.codec.digest.DigestUtils.updateDigest(digest, stream)
            finally:
                stream.close()

        self._call("hashing it", update)
        return ("" if named else bytes(digest.digest()).hex()), digest

    def text_layout(self) -> TextLayout:
        """Line feeds, blank lines and the first byte that is not UTF-8, counted by one
        Spark job over the file's lines split at line feeds (Spark keeps each line's raw
        bytes). Computed once."""
        with self._lock:
            if self._layout is None:
                size = self.stat().st_size
                self._layout = self._call(
                    "counting its lines", lambda: _text_layout(self._session, self.uri, size)
                )
            return self._layout


def _text_layout(session: Any, uri: str, size: int) -> TextLayout:
    """:class:`TextLayout` of the file at ``uri`` (``size`` bytes): a blank line is a line
    after the first that is empty or a lone carriage return followed by a line feed."""
    from pyspark.sql import functions as F  # noqa: N812  (Spark's own convention)

    lines = session.read.option("lineSep", "\n").text(uri)
    lines = lines.select(
        "value",
        F.monotonically_increasing_id().alias("_id"),  # in file order within one file
        F.col("value").isin("", "\r").alias("_blank"),
        F.expr("is_valid_utf8(value)").alias("_valid"),
        F.octet_length("value").alias("_bytes"),
    ).localCheckpoint(eager=True)
    row = lines.agg(
        F.count("*").alias("n"),
        F.sum(F.col("_blank").cast("long")).alias("blank"),
        F.min_by("_blank", "_id").alias("first_blank"),
        F.max_by(F.col("value") == "\r", "_id").alias("last_cr"),
        F.sum(F.col("_bytes") + 1).alias("bytes"),
        F.min(F.when(~F.col("_valid"), F.col("_id"))).alias("bad"),
    ).collect()[0]
    n = int(row["n"])
    blank = int(row["blank"] or 0) - (1 if row["first_blank"] else 0)
    if row["last_cr"] and n > 1 and int(row["bytes"]) != size:
        blank -= 1  # a lone carriage return ends the file: no line feed follows it
    offset = None
    if row["bad"] is not None:
        bad_id = int(row["bad"])
        before = lines.filter(F.col("_id") < bad_id).agg(F.sum(F.col("_bytes") + 1)).collect()
        text = lines.filter(F.col("_id") == bad_id).select(F.col("value").cast("binary"))
        data = bytes(text.collect()[0][0])
        try:
            data.decode("utf-8")
            within = 0  # not reached: Spark found the line not UTF-8
        except UnicodeDecodeError as exc:
            within = exc.start
        offset = int(before[0][0] or 0) + within
    return TextLayout(lines=n, blank_lines=blank, first_undecodable=offset)


class _HadoopStream(io.RawIOBase):
    """A Hadoop ``FSDataInputStream`` as a seekable Python binary file."""

    def __init__(self, stream: Any, size: int, uri: str) -> None:
        self._stream = stream
        self._size = size
        self._uri = uri

    def _call(self, call: Any) -> Any:
        return _jvm_call(call, lambda reason: OSError(0, f"{self._uri}: {reason}"))

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._call(lambda: self._stream.readNBytes(len(buffer)))
        n = len(data) if data else 0
        memoryview(buffer).cast("B")[:n] = data[:n] if n else b""
        return n

    def tell(self) -> int:
        return int(self._call(self._stream.getPos))

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.tell(), io.SEEK_END: self._size}[whence]
        self._call(lambda: self._stream.seek(max(base + offset, 0)))
        return self.tell()

    def close(self) -> None:
        if not self.closed:
            self._call(self._stream.close)
        super().close()


def _jvm_call(call: Any, error: Any) -> Any:
    """``call()``; a failure on the JVM's side raised as ``error(reason)`` instead."""
    from py4j.protocol import Py4JJavaError
    from pyspark.errors import PySparkException

    try:
        return call()
    except (Py4JJavaError, PySparkException) as exc:
        raise error(java_reason(exc)) from exc


def java_reason(exc: Any) -> str:
    """Spark's or the file system's own words for a failure: the Java exception's
    message (its first line, at most 500 characters), else the Python one's."""
    java = getattr(exc, "java_exception", None)
    text = str(java.getMessage() or java.toString()) if java is not None else str(exc)
    lines = text.strip().splitlines()
    return (lines[0] if lines else type(exc).__name__)[:500]
