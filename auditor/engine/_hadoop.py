"""A package behind a URI (``hdfs://``, ``s3a://``, ``abfss://``, ``file://``, ...), read
through the Spark session's Hadoop file system, with the session's own settings
(credentials, endpoints): listing, sizes, SHA-256 and line counts computed where the bytes
are, and a file object for the few bytes Python reads itself (a CSV header, a Parquet
footer)."""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

__all__ = ["URI_SCHEME", "HadoopPath", "HadoopStat", "TextLayout", "is_uri"]

URI_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")
"""A location with a scheme (``s3a://bucket/pkg``), as opposed to a local path."""


def is_uri(text: str) -> bool:
    """Whether ``text`` names a location by URI rather than a local path."""
    return bool(URI_SCHEME.match(text))


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
        head = URI_SCHEME.match(uri)
        cut = head.end() if head else 0
        self.uri = uri[:cut] + uri[cut:].rstrip("/") if len(uri) > cut else uri
        self._session = session
        self._fs = _fs if _fs is not None else self._jpath().getFileSystem(self._conf())
        self._status = _status
        self._layout: TextLayout | None = None
        self._lock = threading.Lock()

    def _jvm(self) -> Any:
        return self._session._jvm

    def _conf(self) -> Any:
        return self._session._jsc.hadoopConfiguration()

    def _jpath(self) -> Any:
        return self._jvm().org.apache.hadoop.fs.Path(self.uri)

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
        return self

    # the file system
    def _stat(self) -> Any:
        if self._status is None:
            from py4j.protocol import Py4JJavaError

            try:
                self._status = self._fs.getFileStatus(self._jpath())
            except Py4JJavaError as exc:
                if "FileNotFoundException" in exc.java_exception.getClass().getName():
                    return None
                raise _os_error(exc) from exc
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
            OSError: the folder cannot be listed (its message is Hadoop's).
        """
        from py4j.protocol import Py4JJavaError

        try:
            statuses = list(self._fs.listStatus(self._jpath()))
        except Py4JJavaError as exc:
            raise _os_error(exc) from exc
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
        raw = _HadoopStream(self._fs.open(self._jpath()), self.stat().st_size)
        return io.BufferedReader(raw, buffer_size=1 << 20)

    def qualified(self) -> str:
        """The URI as Spark records a file it read (``_metadata.file_path``)."""
        return str(self._fs.makeQualified(self._jpath()).toUri().toString())

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
        stream = self._fs.open(self._jpath())
        try:
            jvm.org.apache.commons.codec.digest.DigestUtils.updateDigest(digest, stream)
        finally:
            stream.close()
        return ("" if named else bytes(digest.digest()).hex()), digest

    def text_layout(self) -> TextLayout:
        """Line feeds, blank lines and the first byte that is not UTF-8, counted by one
        Spark job over the file's lines split at line feeds (Spark keeps each line's raw
        bytes). Computed once."""
        with self._lock:
            if self._layout is None:
                self._layout = _text_layout(self._session, self.uri, self.stat().st_size)
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

    def __init__(self, stream: Any, size: int) -> None:
        self._stream = stream
        self._size = size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.readNBytes(len(buffer))
        n = len(data) if data else 0
        memoryview(buffer).cast("B")[:n] = data[:n] if n else b""
        return n

    def tell(self) -> int:
        return int(self._stream.getPos())

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.tell(), io.SEEK_END: self._size}[whence]
        self._stream.seek(max(base + offset, 0))
        return self.tell()

    def close(self) -> None:
        if not self.closed:
            self._stream.close()
        super().close()


def _os_error(exc: Any) -> OSError:
    """A Java exception of the file system as the OSError the package reader reports."""
    java = exc.java_exception
    return OSError(0, str(java.getMessage() or java.toString()))
