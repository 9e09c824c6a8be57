"""The linkage models of a run as one JSON file, to apply them again on either engine.

``thbmonitor link --save-model FILE`` writes the models the store's last linkage used (the
registration model with its MinHash banding, the police- and population-register models);
``thbmonitor link --model FILE`` applies them instead of training (on DuckDB or on Spark: the
comparisons are written anew for the engine, the trained probabilities taken from the file,
see :func:`thbmonitor.linkage.model.trained_settings`). With one model file, both engines
find the same persons. The file holds m and u probabilities, the prior and the comparisons'
SQL; no record's values.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from thbmonitor.engine import Store
from thbmonitor.errors import InputError, LinkageError

FORMAT = "thbmonitor linkage models"
VERSION = 1


@dataclass(frozen=True)
class LinkageModels:
    """Trained Splink models (``save_model_to_json`` dicts) of one linkage run."""

    registrations: dict[str, Any]
    lsh: dict[str, int]  # the registration model's MinHash banding (blocking keys)
    police: dict[str, Any] | None = None
    population: dict[str, Any] | None = None

    def register_models(self) -> dict[str, Any]:
        """The police and population models, as :func:`~.police.link_police` takes them."""
        return {"police": self.police or None, "population": self.population or None}


def last_models(store: Store) -> LinkageModels:
    """The models of the store's last registration linkage, and of the police linkage after it."""
    rows = store.rows("SELECT parameters, notes FROM linkage_runs ORDER BY run_id")
    registrations: dict[str, Any] | None = None
    police: dict[str, Any] = {}
    for parameters, notes in rows:
        kind = json.loads(notes or "{}").get("kind")
        found = json.loads(parameters or "{}")
        if kind == "registrations":
            registrations, police = found, {}
        elif kind == "police" and registrations is not None:
            police = found
    if registrations is None:
        raise LinkageError("no linkage in the store yet; run 'thbmonitor link' first")
    return LinkageModels(
        registrations=registrations["splink_model"],
        lsh=registrations["lsh"],
        police=police.get("splink_model") or None,
        population=police.get("population_model") or None,
    )


def write_models(models: LinkageModels, path: Path) -> None:
    """Write the models to ``path`` (whole, then moved into place)."""
    document = {
        "format": FORMAT,
        "version": VERSION,
        "registrations": models.registrations,
        "lsh": models.lsh,
        "police": models.police,
        "population": models.population,
    }
    tmp = path.with_name(f".{path.name}.writing")
    try:
        tmp.write_text(json.dumps(document, indent=1, default=str), encoding="utf-8")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def read_models(path: Path) -> LinkageModels:
    """The models of a file written by :func:`write_models`."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read the linkage model file {path}: {exc.strerror}") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"the linkage model file {path} is not JSON") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise InputError(
            f"{path} is not a thbmonitor linkage model file (write one with "
            "'thbmonitor link --save-model FILE')"
        )
    if document.get("version") != VERSION:
        raise InputError(f"the linkage model file {path} has another version than {VERSION}")
    registrations, lsh = document.get("registrations"), document.get("lsh")
    if not isinstance(registrations, dict) or not isinstance(lsh, dict):
        raise InputError(f"the linkage model file {path} has no registration model")
    return LinkageModels(
        registrations=registrations,
        lsh={k: int(v) for k, v in lsh.items()},
        police=document.get("police") or None,
        population=document.get("population") or None,
    )
