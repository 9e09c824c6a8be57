"""Turning results into strict JSON: numpy and pandas scalars, dates, NaN (as null).

``results.json`` must load in any JSON parser, so NaN and infinities become ``null`` and the
file is written with ``allow_nan=False``. A value of a type with no clear JSON form raises
:class:`ReportError` rather than being silently turned into its ``repr``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import json
import math
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd

from thbmonitor.errors import ReportError


def to_jsonable(value: Any, where: str = "$") -> Any:
    """A copy of ``value`` made only of dict, list, str, int, float (finite), bool and None."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating | decimal.Decimal):
        number = float(value)
        return number if math.isfinite(number) else None
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, pd.Timedelta | dt.timedelta):
        return value.total_seconds()
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, np.ndarray | pd.Series | pd.Index):
        return [to_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value.tolist())]
    if isinstance(value, pd.DataFrame):
        records = value.to_dict("records")
        return [to_jsonable(r, f"{where}[{i}]") for i, r in enumerate(records)]
    if isinstance(value, list | tuple):
        return [to_jsonable(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, set | frozenset):
        return [to_jsonable(v, f"{where}[]") for v in sorted(value, key=str)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value), where)
    raise ReportError(
        f"results.json: the value at {where} is of type {type(value).__name__}, which has no "
        "JSON form; convert it to numbers, strings, lists or dicts before publishing."
    )


def results_document(results: Mapping[str, Any], facts: Mapping[str, Any]) -> dict[str, Any]:
    """The content of results.json: every result at the top level (users' scripts read
    ``results["window"]``, ``results["victims_by_year"]``, ...), and the run facts under
    ``"facts"``."""
    if "facts" in results:
        raise ReportError("'facts' is reserved in results.json for the run facts")
    return {**to_jsonable(results, "$"), "facts": to_jsonable(facts, "$.facts")}


def dumps(document: Any) -> str:
    """Pretty-printed strict JSON (UTF-8 text, no NaN)."""
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def lookup(results: Mapping[str, Any], key: str) -> Any:
    """The value of a headline key in results: the key itself, else a dotted path into dicts.

    Raises :class:`KeyError` if neither exists.
    """
    if key in results:
        return results[key]
    node: Any = results
    for part in key.split("."):
        if not isinstance(node, Mapping) or part not in node:
            raise KeyError(key)
        node = node[part]
    return node
