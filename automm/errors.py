"""Domain errors. The CLI turns each into one line on stderr and exit status 2."""

from __future__ import annotations


def one_line(text: str) -> str:
    """``text`` with line breaks shown as ``\\n`` (an error is one line on stderr, whatever a
    user file put into its message)."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


class AutommError(Exception):
    """Base class of every expected error (bad input, unknown names, bad files)."""

    def __str__(self) -> str:
        return one_line(super().__str__())


class UnknownComponentError(AutommError, KeyError):
    """A name that no registry knows."""

    def __str__(self) -> str:  # KeyError would quote the message
        return one_line(str(self.args[0])) if self.args else ""


class ArchitectureError(AutommError):
    """A malformed or inconsistent arch.json."""


class CacheError(AutommError):
    """A missing, malformed or incompatible feature cache."""


class PluginError(AutommError):
    """A plugin that could not be loaded or registered something invalid."""


class DataError(AutommError):
    """A dataset directory or media file that cannot be used."""


class RenderError(AutommError):
    """A figure that could not be written (unknown format, unwritable path, Graphviz failure)."""


class DotNotFoundError(RenderError):
    """The Graphviz ``dot`` executable is missing (only DOT source can be written)."""
