"""Text encodings: transcode to UTF-8, or find the first byte that does not decode."""

from __future__ import annotations

import codecs
from pathlib import Path

from auditor.engine._hadoop import HadoopPath
from auditor.errors import DecodeError

__all__ = ["first_undecodable_offset", "is_utf8", "transcode_to_utf8"]

_CHUNK = 1 << 22  # 4 MiB


def is_utf8(encoding: str) -> bool:
    """Whether ``encoding`` names UTF-8 (which the engine reads natively)."""
    return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")


def first_undecodable_offset(path: Path | HadoopPath, encoding: str) -> int | None:
    """0-based byte offset of the first byte of ``path`` that does not decode, or None (a
    UTF-8 file behind a URI is checked by Spark, where its bytes are)."""
    if isinstance(path, HadoopPath) and is_utf8(encoding):
        return path.text_layout().first_undecodable
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    consumed = 0
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(_CHUNK)
            pending = len(decoder.getstate()[0])
            try:
                decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                return consumed - pending + exc.start
            if not chunk:
                return None
            consumed += len(chunk)


def transcode_to_utf8(source: Path, target: Path, encoding: str) -> None:
    """Write ``source`` (in ``encoding``) to ``target`` as UTF-8, streaming.

    Raises:
        DecodeError: naming the file and the byte offset of the first byte that does not decode.
    """
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    consumed = 0
    with source.open("rb") as src, target.open("wb") as dst:
        while True:
            chunk = src.read(_CHUNK)
            pending = len(decoder.getstate()[0])
            try:
                text = decoder.decode(chunk, final=not chunk)
            except UnicodeDecodeError as exc:
                raise DecodeError(str(source), encoding, consumed - pending + exc.start) from None
            dst.write(text.encode("utf-8"))
            if not chunk:
                return
            consumed += len(chunk)
