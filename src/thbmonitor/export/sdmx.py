"""The Eurostat figures as SDMX-CSV (version 1.0), written with pysdmx (the BIS's library).

``eurostat_thb_<year>.sdmx.csv`` holds the same rows as the Eurostat CSV
(:mod:`thbmonitor.export.eurostat`): one observation per row, the dataflow
(``AGENCY:ID(VERSION)``) in the first column, then FREQ, the indicator and breakdown
dimensions (component ids from the profile's ``[sdmx.components]``), UNIT, GEO and
TIME_PERIOD; the measure OBS_VALUE; the attributes OBS_STATUS (a figure that is not known:
the profile's ``not_known``) and CONF_STATUS (``C``: withheld by disclosure control). A value
that is not given is SDMX's intentionally missing value ``NaN`` (pysdmx writes it so), its
reason in those attributes.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from thbmonitor.export.codes import Eurostat
from thbmonitor.export.eurostat import CONFIDENTIAL, EurostatRow

__all__ = ["read_sdmx_csv", "sdmx_csv"]

COLUMNS = ("indicator", "sex", "age", "citizenship", "exploitation", "organisation")


def _schema(codes: Eurostat) -> Any:
    """The data structure of the delivery as a pysdmx Schema."""
    from pysdmx.model.concept import Concept, DataType
    from pysdmx.model.dataflow import Component, Components, Role, Schema

    def component(cid: str, role: Role, dtype: DataType = DataType.STRING) -> Component:
        return Component(
            id=cid,
            required=role != Role.ATTRIBUTE,
            role=role,
            concept=Concept(id=cid, dtype=dtype),
            attachment_level="O" if role == Role.ATTRIBUTE else None,
        )

    sdmx = codes.sdmx
    dims = ["FREQ", *(sdmx.components[c] for c in COLUMNS), "UNIT", "GEO", "TIME_PERIOD"]
    return Schema(
        context="dataflow",
        agency=sdmx.agency,
        id=sdmx.dataflow,
        version=sdmx.version,
        components=Components(
            [
                *(component(d, Role.DIMENSION) for d in dims),
                component("OBS_VALUE", Role.MEASURE, DataType.BIG_INTEGER),
                component("OBS_STATUS", Role.ATTRIBUTE),
                component("CONF_STATUS", Role.ATTRIBUTE),
            ]
        ),
    )


def _frame(rows: list[EurostatRow], codes: Eurostat) -> pd.DataFrame:
    sdmx = codes.sdmx
    data: dict[str, list[str]] = {"FREQ": [sdmx.freq] * len(rows)}
    for column in COLUMNS:
        data[sdmx.components[column]] = [str(getattr(r, column)) for r in rows]
    data["UNIT"] = [sdmx.unit] * len(rows)
    data["GEO"] = [codes.geo] * len(rows)
    data["TIME_PERIOD"] = [str(r.year) for r in rows]
    data["OBS_VALUE"] = [r.value for r in rows]
    data["OBS_STATUS"] = [sdmx.not_known if not r.value and not r.flag else "" for r in rows]
    data["CONF_STATUS"] = [CONFIDENTIAL if r.flag == CONFIDENTIAL else "" for r in rows]
    return pd.DataFrame(data)


def sdmx_csv(rows: list[EurostatRow], codes: Eurostat) -> str:
    """The SDMX-CSV 1.0 text of the Eurostat rows."""
    from pysdmx.io.csv.sdmx10.writer import write
    from pysdmx.io.pd import PandasDataset

    dataset = PandasDataset(structure=_schema(codes), data=_frame(rows, codes))
    text = write([dataset])
    assert text is not None  # no output path: the text is returned
    return str(text)


def read_sdmx_csv(text: str) -> tuple[str, pd.DataFrame]:
    """An SDMX-CSV 1.0 text read back with pysdmx: the dataflow's short URN and the
    observations (all columns as text; an empty attribute is "")."""
    from pysdmx.io.csv.sdmx10.reader import read

    (dataset,) = read(text)
    frame = dataset.data.astype(object).where(dataset.data.notna(), "")
    return str(dataset.short_urn), pd.DataFrame(frame).astype(str)
