"""Typed settings, declared once (name, type, default, help), loadable from a TOML file.

Every setting is a field of :class:`Settings`; its help text lives in the field's metadata, so
``thbmonitor settings``, the TOML loader and the documentation all derive from one declaration.
A TOML file may use the flat names, or group them in tables (``[disclosure] threshold = 10``
is the setting ``disclosure_threshold``).

Settings are passed down explicitly; nothing below the CLI reads the environment, except that
the pseudonymisation key may come from the environment variable *named* in the settings, which
the CLI resolves (see :func:`thbmonitor.pseudonymise.load_key`).
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

from thbmonitor.errors import ConfigError


def setting(default: Any, help: str) -> Any:
    """Declare one setting: its default and its help text."""
    if isinstance(default, list | dict):
        return field(default_factory=lambda: type(default)(default), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class Settings:
    """All settings of a monitoring run."""

    # -- window and cohort ------------------------------------------------------------------
    window_first: int = setting(
        0, "First year of the monitoring window (0: four years before window_last)."
    )
    window_last: int = setting(
        0, "Last year of the monitoring window (0: the last complete year in the store)."
    )
    data_end: str = setting(
        "2023-12-31", "Data end date (YYYY-MM-DD): censoring date of the follow-up."
    )
    language: str = setting("en", "Language of the report: 'en' or 'nl'.")
    profile: str = setting(
        "nl",
        "Country profile: code lists, file layout and the monitor's groups; a shipped profile "
        "(nl, htcds) or a profile folder (see 'thbmonitor profile').",
    )
    # -- pseudonymisation -------------------------------------------------------------------
    key_file: str = setting("", "File holding the secret pseudonymisation key (hex or text).")
    key_env: str = setting(
        "THBMONITOR_KEY", "Environment variable holding the key, used when key_file is empty."
    )
    bloom_bits: int = setting(1000, "Length in bits of the Bloom-filter name encodings.")
    bloom_hashes: int = setting(20, "Number of hash functions per bigram in the Bloom filters.")
    # -- linkage ----------------------------------------------------------------------------
    linkage_threshold: float = setting(
        0.9, "Match probability above which two registrations are the same person."
    )
    police_link_threshold: float = setting(
        0.95, "Match probability above which a person is linked to a police-register event."
    )
    # -- engine -----------------------------------------------------------------------------
    engine: str = setting(
        "duckdb",
        "Where the linkage runs: 'duckdb' (this machine; the default) or 'spark' (a Spark "
        "cluster or local Spark; needs pip install 'thbmonitor[spark]'). The monitor tables, "
        "estimators, disclosure control and report always run on the DuckDB store.",
    )
    spark_master: str = setting(
        "local[*]", "Spark master URL for engine 'spark' (local[*], spark://host:7077, yarn, ...)."
    )
    spark_checkpoint_dir: str = setting(
        "",
        "Folder for Spark's checkpoints and the Parquet files the round's tables move in, seen "
        "alike by this machine and the cluster (a shared mount); empty: a temporary folder "
        "(local masters only).",
    )
    # setting() gives a dict a default_factory (a fresh dict per Settings)
    spark_config: dict[str, str] = setting(  # noqa: RUF009
        {},
        "Extra Spark settings for engine 'spark', e.g. "
        '{ "spark.executor.memory" = "8g", "spark.sql.shuffle.partitions" = "400" }.',
    )
    # -- follow-up --------------------------------------------------------------------------
    followup_entry: str = setting(
        "first", "Cohort entry: 'first' registration per person or 'episode' per registration."
    )
    index_exclusion_days: int = setting(
        30, "Police victim events of trafficking within this many days of entry are the index case."
    )
    followup_years: int = setting(7, "Longest follow-up horizon, in years.")
    followup_link_draws: int = setting(
        10,
        "Link sets drawn from the police match probabilities to carry linkage error into the "
        "follow-up's overall intervals (Rubin's rules); 0: the links at the threshold only.",
    )
    followup_miss_correction: bool = setting(
        True,
        "Correct the follow-up over link draws for the police events the linkage cannot see "
        "(scored below the candidate floor; share estimated from the linkage model).",
    )
    # -- hidden numbers ---------------------------------------------------------------------
    mse_method: str = setting("stepwise", "Model selection for MSE: stepwise, bic, aic or main.")
    mse_maxorder: int = setting(2, "Highest order of list interactions in MSE models.")
    mse_pthresh: float = setting(0.02, "p-value threshold of stepwise MSE selection.")
    mse_bootstrap: int = setting(0, "Bootstrap replicates for MSE intervals (0: profile only).")
    # -- disclosure control -----------------------------------------------------------------
    disclosure_method: str = setting(
        "suppression",
        "How the monitor's count tables are protected: 'suppression' (small counts hidden, "
        "audited jointly) or 'cell_key' (every count perturbed by a small noise from record "
        "keys; nothing hidden).",
    )
    disclosure_max_deviation: int = setting(
        3, "Cell-key method: the largest noise added to or taken from a count (D)."
    )
    disclosure_variance: float = setting(
        1.0, "Cell-key method: the variance of the noise (V), above 0 and below D."
    )
    disclosure_threshold: int = setting(10, "Counts from 1 to this minus one are suppressed.")
    disclosure_zeros_disclosive: bool = setting(
        False, "Whether a zero cell is disclosive (and suppressed) or shown as a true zero."
    )
    disclosure_dominance: float = setting(
        0.9, "Group disclosure: share of a group in one category at or above which it is hidden."
    )
    disclosure_unknown_primary: bool = setting(
        True,
        "Whether small counts of 'unknown' categories (sex, age band, residence status, ... not "
        "known) are hidden like other small counts; if false they are shown.",
    )
    disclosure_unit_ties: bool = setting(
        True,
        "Whether the monitor's registrations, victims and persons tables are protected as one "
        "release with the ties between the units (thbmonitor.monitor.relations), so that no "
        "hidden cell can be recomputed across them; off: each unit on its own (the ties are "
        "then not held: an intruder may recompute hidden cells from them).",
    )
    disclosure_time_limit: float = setting(
        20.0,
        "Seconds the optimal suppression may take per protection (a guard: it stops at a "
        "work limit first, so that patterns are reproducible); then a heuristic.",
    )
    disclosure_ledger: str = setting(
        "", "JSON ledger of earlier releases audited together with this one (empty: none)."
    )
    disclosure_release: str = setting(
        "",
        "Name under which a report that passes the audit is added to disclosure_ledger "
        "(written atomically; a name already there is refused; empty: the ledger is only read).",
    )
    # -- reproducibility --------------------------------------------------------------------
    seed: int = setting(20211207, "Seed of every random step (bootstrap, sampling).")

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed, type-checked."""
        return load_settings(None, {**dataclasses.asdict(self), **changes})


def describe() -> list[tuple[str, str, Any, str]]:
    """(name, type, default, help) of every setting, in declaration order."""
    hints = get_type_hints(Settings)
    out = []
    for f in dataclasses.fields(Settings):
        default = f.default
        if default is dataclasses.MISSING and f.default_factory is not dataclasses.MISSING:
            default = f.default_factory()
        out.append((f.name, _type_name(hints[f.name]), default, f.metadata["help"]))
    return out


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


# settings whose value is itself a table (kept whole, not flattened into names)
TABLE_SETTINGS = frozenset({"spark_config"})


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for k, v in data.items():
        name = f"{prefix}{k}"
        if isinstance(v, dict) and name not in TABLE_SETTINGS:
            flat.update(_flatten(v, f"{name}_"))
        else:
            flat[name] = v
    return flat


def _coerce(name: str, tp: Any, value: Any) -> Any:
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        tp = next(a for a in get_args(tp) if a is not type(None))
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"setting '{name}' must be true or false")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"setting '{name}' must be a whole number")
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"setting '{name}' must be a number")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"setting '{name}' must be text")
    if tp is dict or origin is dict:
        if isinstance(value, dict) and all(
            isinstance(v, str | int | float | bool) and not isinstance(v, dict)
            for v in value.values()
        ):
            # Spark reads every setting as text; true/false as Spark writes them
            return {
                str(k): (str(v).lower() if isinstance(v, bool) else str(v))
                for k, v in value.items()
            }
        raise ConfigError(
            f"setting '{name}' must be a table of names and plain values "
            '(e.g. { "spark.executor.memory" = "8g" })'
        )
    return value


def load_settings(path: Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Settings from defaults, then a TOML file, then explicit overrides; checked."""
    values: dict[str, Any] = {}
    if path is not None:
        try:
            with open(path, "rb") as fh:
                values.update(_flatten(tomllib.load(fh)))
        except OSError as exc:
            raise ConfigError(f"cannot read settings file {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"settings file {path} is not valid TOML: {exc}") from exc
    values.update(overrides or {})
    hints = get_type_hints(Settings)
    unknown = sorted(set(values) - set(hints))
    if unknown:
        raise ConfigError(
            f"unknown setting(s): {', '.join(unknown)}; 'thbmonitor settings' lists them all"
        )
    checked = {k: _coerce(k, hints[k], v) for k, v in values.items()}
    settings = Settings(**checked)
    _check(settings)
    return settings


def _check(s: Settings) -> None:
    if s.window_first and s.window_last and s.window_first > s.window_last:
        raise ConfigError("window_first must not be after window_last")
    if s.window_first and not s.window_last:
        raise ConfigError("give window_last too when window_first is set")
    if s.language not in ("en", "nl"):
        raise ConfigError("language must be 'en' or 'nl'")
    from thbmonitor.profiles import load_profile
    from thbmonitor.schema import check_profile

    check_profile(load_profile(s.profile))  # a profile that does not load: a ConfigError
    if not 1 <= s.followup_years <= 30:
        raise ConfigError("followup_years must be a whole number of years from 1 to 30")
    if s.followup_link_draws != 0 and not 2 <= s.followup_link_draws <= 1000:
        raise ConfigError("followup_link_draws must be 0 or a whole number from 2 to 1000")
    if s.followup_entry not in ("first", "episode"):
        raise ConfigError("followup_entry must be 'first' or 'episode'")
    if s.mse_method not in ("stepwise", "bic", "aic", "main"):
        raise ConfigError("mse_method must be one of stepwise, bic, aic, main")
    if s.disclosure_threshold < 2:
        raise ConfigError("disclosure_threshold must be at least 2")
    if s.disclosure_method not in ("suppression", "cell_key"):
        raise ConfigError("disclosure_method must be 'suppression' or 'cell_key'")
    if not 1 <= s.disclosure_max_deviation <= 20:
        raise ConfigError("disclosure_max_deviation must be a whole number from 1 to 20")
    if not 0 < s.disclosure_variance < s.disclosure_max_deviation:
        raise ConfigError("disclosure_variance must lie above 0 and below disclosure_max_deviation")
    if not 0.5 < s.disclosure_dominance <= 1.0:
        raise ConfigError("disclosure_dominance must lie above 0.5 and at most 1")
    if not 0 <= s.disclosure_time_limit <= 3600:
        raise ConfigError("disclosure_time_limit must be a number of seconds from 0 to 3600")
    if s.engine not in ("duckdb", "spark"):
        raise ConfigError("engine must be 'duckdb' or 'spark'")
    if not s.spark_master.strip():
        raise ConfigError("spark_master must be a Spark master URL, e.g. local[*]")
    if (
        s.engine == "spark"
        and not s.spark_checkpoint_dir
        and not s.spark_master.startswith("local")
    ):
        raise ConfigError(
            "spark_checkpoint_dir must name a folder the cluster and this machine both see "
            "when spark_master is not local"
        )
    if not 0.0 < s.linkage_threshold < 1.0 or not 0.0 < s.police_link_threshold < 1.0:
        raise ConfigError("linkage thresholds must lie strictly between 0 and 1")
    if s.bloom_bits < 64 or s.bloom_bits % 8 or s.bloom_hashes < 1:
        raise ConfigError(
            "bloom_bits must be a multiple of 8 of at least 64, and bloom_hashes at least 1"
        )
    try:
        from datetime import date

        date.fromisoformat(s.data_end)
    except ValueError as exc:
        raise ConfigError("data_end must be a date written YYYY-MM-DD") from exc


def settings_to_toml(s: Settings) -> str:
    """The settings as a TOML document with each help text as a comment."""
    lines = []
    for name, _tp, _default, help_text in describe():
        value = getattr(s, name)
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, dict):
            text = "{ " + ", ".join(f"{_toml_text(k)} = {_toml_text(v)}" for k, v in value.items())
            text = text + " }" if value else "{}"
        elif isinstance(value, str):
            text = _toml_text(value)
        else:
            text = repr(value)
        lines.append(f"# {help_text}\n{name} = {text}")
    return "\n".join(lines) + "\n"


def _toml_text(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
