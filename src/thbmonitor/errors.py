"""One exception tree for thbmonitor.

::

    ThbMonitorError                 every error the package raises on purpose
    ├── ConfigError                 a setting is missing, of the wrong type or inconsistent
    ├── KeyMissingError             no pseudonymisation key could be found
    ├── InputError                  an input file cannot be read at all (format, missing columns)
    │   └── ValidationError         rows that break the schema; carries every problem at once
    │       └── ReviewFileError     rows of a clerical-review file that cannot be used
    ├── StoreError                  the monitoring store is missing, locked or of another version
    ├── LinkageError                linkage cannot run (no registrations, no model, ...)
    ├── EngineError                 the chosen engine is not installed, cannot start, or cannot
    │                               run this step (Spark)
    ├── EstimationError             an estimator cannot produce a result (MSE, follow-up)
    │   └── ExistenceError          the MLE does not exist or is not identifiable
    ├── DisclosureError             a release would disclose a suppressed cell; nothing is published
    └── ReportError                 a report cannot be rendered (bad table key, language)

Messages say what is wrong and what to do. They never contain a record's values (names, birth
dates, identifiers): rows are referred to by number and fields by name.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class ThbMonitorError(Exception):
    """Base class of every error thbmonitor raises on purpose."""


class ConfigError(ThbMonitorError):
    """A setting is missing, of the wrong type or inconsistent."""


class KeyMissingError(ThbMonitorError):
    """No pseudonymisation key was found; nothing is ingested without one."""


class InputError(ThbMonitorError):
    """An input file cannot be read at all."""


@dataclass(frozen=True)
class Problem:
    """One problem in one row of an input file. Never holds the offending value."""

    file: str
    row: int  # 1-based data row number (the header is row 0)
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: row {self.row}, field '{self.field}': {self.reason}"


class ValidationError(InputError):
    """Rows of an input file break the schema. Carries every problem found, not only the first."""

    def __init__(
        self, problems: list[Problem], max_shown: int = 50, notes: Sequence[str] = ()
    ) -> None:
        self.problems = list(problems)
        self.notes = list(notes)  # e.g. the values a country profile cannot map, by column
        shown = "\n".join(f"  - {p}" for p in self.problems[:max_shown])
        more = len(self.problems) - max_shown
        tail = f"\n  ... and {more} more" if more > 0 else ""
        head = "".join(f"{n}\n" for n in self.notes)
        super().__init__(
            f"{len(self.problems)} problem(s) found; nothing was imported. {head}"
            f"Fix the rows below and ingest the file again.\n{shown}{tail}"
        )


class ReviewFileError(ValidationError):
    """Rows of a clerical-review (labels) file cannot be used; nothing was stored."""

    def __init__(self, problems: list[Problem], max_shown: int = 50) -> None:
        super().__init__(problems, max_shown)
        shown = "\n".join(f"  - {p}" for p in self.problems[:max_shown])
        more = len(self.problems) - max_shown
        tail = f"\n  ... and {more} more" if more > 0 else ""
        self.args = (
            f"{len(self.problems)} problem(s) found in the review file; no judgement was "
            f"stored and nothing was linked. Fix the rows below and give the file again.\n"
            f"{shown}{tail}",
        )


class StoreError(ThbMonitorError):
    """The monitoring store is missing, locked or of another version."""


class LinkageError(ThbMonitorError):
    """Record linkage cannot run."""


class EngineError(ThbMonitorError):
    """The chosen engine is not installed, cannot start, or cannot run this step."""


class EstimationError(ThbMonitorError):
    """An estimator cannot produce a result."""


class ExistenceError(EstimationError):
    """The maximum-likelihood estimate of a model does not exist or is not identifiable."""


class DisclosureError(ThbMonitorError):
    """A release would disclose a suppressed cell; nothing is published."""


class ReportError(ThbMonitorError):
    """A report cannot be rendered or written; nothing is left half-written."""
