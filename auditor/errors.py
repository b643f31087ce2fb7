"""Exceptions and warnings raised by auditor.

Every message has one shape: where, what was expected, what arrived, what to do.

::

    AuditorError                      base of everything auditor raises on purpose
    ├── ConfigError(ValueError)       audit_config.toml cannot be used          -> exit 2
    ├── PackageError(ValueError)      the data package cannot be used           -> exit 2
    │   └── DecodeError               a file does not decode in its encoding    -> exit 2
    └── UsageError(ValueError)        the command line or API call is wrong     -> exit 2

    AuditorWarning(UserWarning)       base warning: ``warnings.filterwarnings("ignore",
                                      category=auditor.AuditorWarning)`` silences ours

Anything else that escapes is a bug: the CLI reports it as an internal error, exit 3.
Row-level contract failures are not exceptions: they are data (the quarantine table).
"""

from __future__ import annotations

__all__ = [
    "AuditorError",
    "AuditorWarning",
    "ConfigError",
    "DecodeError",
    "PackageError",
    "UsageError",
]


class AuditorError(Exception):
    """Base class of the errors auditor raises deliberately."""


class ConfigError(AuditorError, ValueError):
    """The audit configuration is invalid (unknown key, wrong type, bad value)."""


class PackageError(AuditorError, ValueError):
    """The data package cannot be used: missing required table or column, unreadable file."""


class DecodeError(PackageError):
    """A text file does not decode in the configured encoding.

    Attributes:
        path: the file.
        encoding: the encoding tried.
        byte_offset: 0-based offset of the first byte that does not decode.
    """

    def __init__(self, path: str, encoding: str, byte_offset: int, hint: str = "") -> None:
        self.path = path
        self.encoding = encoding
        self.byte_offset = byte_offset
        message = f"{path}: cannot decode as {encoding} at byte offset {byte_offset}. " + (
            hint
            or "Set [package] encoding in the config to the file's encoding "
            '(exports from Chinese systems are often "gb18030"), or re-export it as UTF-8.'
        )
        super().__init__(message)


class UsageError(AuditorError, ValueError):
    """The command line or an API call is used wrongly."""


class AuditorWarning(UserWarning):
    """Base class of auditor's warnings."""
