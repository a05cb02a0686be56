"""Errors whose message says what went wrong and what to do next."""

from __future__ import annotations

from dataclasses import dataclass, field


class AtelierError(Exception):
    """Base of expected failures: pages show the message as is, the CLI prints it and exits non-zero."""


class ConfigError(AtelierError):
    """A setting is missing or wrong."""


class WorkspaceError(AtelierError):
    """A workspace is missing, incomplete or unreadable."""


class NotReadyError(AtelierError):
    """A step a screen needs has not been taken yet (e.g. no model trained): guidance, not a failure."""


class UnknownIdError(AtelierError, KeyError):
    """An external id (user, brand, item, campaign ...) is not known to the workspace or model."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else "unknown id"


@dataclass(frozen=True)
class Problem:
    """One validation failure: where it is and which rule it breaks."""

    file: str
    row: int | None  # 1-based data row (header excluded); None for file-level problems
    column: str | None
    rule: str
    value: str | None = None

    def __str__(self) -> str:
        where = _printable(self.file)
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{_printable(self.column)}'"
        shown = f" (value {self.value!r})" if self.value is not None else ""
        return f"{where}: {_printable(self.rule)}{shown}"


def _printable(text: str) -> str:
    """Non-printable characters as escapes: a hostile column or file name must not drive the terminal (ANSI)."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@dataclass
class ValidationError(AtelierError):
    """A file was rejected; nothing was written. `problems` lists every failure found."""

    problems: list[Problem] = field(default_factory=list)
    limit_shown: int = 20

    def __post_init__(self) -> None:
        super().__init__(self.summary())

    def summary(self) -> str:
        n = len(self.problems)
        head = "; ".join(str(p) for p in self.problems[: self.limit_shown])
        more = f" ... and {n - self.limit_shown} more" if n > self.limit_shown else ""
        return f"{n} problem(s), nothing was imported: {head}{more}. Fix the file and import it again."


class ParamsError(ValidationError):
    """Hyper-parameters (from a form, the CLI or a job) were refused; nothing was trained."""

    def summary(self) -> str:
        return "invalid parameters: " + "; ".join(str(p) for p in self.problems) + ". Change them and try again."


class ArtifactError(AtelierError):
    """A model version is missing, incomplete or fails its checksums; the previous version keeps serving."""


class SchemaOutdatedError(AtelierError):
    """The database schema is behind the code; run `python -m core db upgrade`."""


class StaleEditError(AtelierError):
    """Someone else changed the record since it was shown; reload and decide again."""


class PermissionDenied(AtelierError):
    """The signed-in person's role does not allow this action."""


class JobCancelled(AtelierError):
    """A job saw its cancel flag and stopped."""
