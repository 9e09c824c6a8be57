"""Information loss of a protected release: what disclosure control costs the reader.

Per table and for the release: cells hidden as small counts (primary, with the group rule's)
and as complements, their share of the cells, and the units (persons or registrations) in the
hidden inner cells. The last one is a sum of hidden counts, so it is only reported where the
published figures give it anyway: every top total of the table (the cell that is a Total in
every dimension with margins, per stratum) is shown, and the units in hidden cells are those
totals minus the shown inner cells. Otherwise it is ``None``: reporting it would tell a
hidden total.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from thbmonitor.disclosure.protected import ProtectedTable
from thbmonitor.disclosure.rules import CellStatus

__all__ = ["information_loss"]

SHOWN = (CellStatus.PUBLISHED, CellStatus.ZERO)


def _table_loss(pt: ProtectedTable) -> dict[str, Any]:
    grid = pt.table.grid()
    status = np.array([CellStatus(s) for s in pt.frame["status"]], dtype=object).reshape(grid.shape)
    primary = int(np.isin(status, [CellStatus.PRIMARY, CellStatus.GROUP]).sum())
    secondary = int((status == CellStatus.SECONDARY).sum())
    cells = int(status.size)
    inner = np.ones(grid.shape, dtype=bool)
    top = np.ones(grid.shape, dtype=bool)
    for d, tp in enumerate(grid.total_pos):
        if tp is None:
            continue
        at = np.zeros(grid.shape[d], dtype=bool)
        at[tp] = True
        shape = [-1 if e == d else 1 for e in range(len(grid.shape))]
        inner &= ~at.reshape(shape)
        top &= at.reshape(shape)
    values = np.nan_to_num(grid.values)
    tops_shown = bool(np.isin(status[top], SHOWN).all())
    hidden_inner = inner & ~np.isin(status, SHOWN)
    units: int | None = None
    if tops_shown:
        shown_inner = inner & np.isin(status, SHOWN)
        units = round(float(values[top].sum() - values[shown_inner].sum()))
    return {
        "cells": cells,
        "primary": primary,
        "complementary": secondary,
        "hidden_share": round((primary + secondary) / cells, 4) if cells else 0.0,
        "hidden_inner_cells": int(hidden_inner.sum()),
        "units_in_hidden_cells": units,
        "units": round(float(values[top].sum())) if tops_shown else None,
    }


def information_loss(tables: Sequence[ProtectedTable]) -> dict[str, Any]:
    """``{"tables": {name: figures}, "release": figures}`` (see the module docstring); the
    release's units in hidden cells are summed where every table reports them."""
    per = {pt.name: _table_loss(pt) for pt in tables}
    cells = sum(v["cells"] for v in per.values())
    primary = sum(v["primary"] for v in per.values())
    secondary = sum(v["complementary"] for v in per.values())
    units = [v["units_in_hidden_cells"] for v in per.values()]
    release = {
        "tables": len(per),
        "cells": cells,
        "primary": primary,
        "complementary": secondary,
        "hidden_share": round((primary + secondary) / cells, 4) if cells else 0.0,
        "complementary_per_primary": round(secondary / primary, 3) if primary else 0.0,
        "units_in_hidden_cells": sum(u for u in units if u is not None),
        "tables_without_units": sum(u is None for u in units),
    }
    return {"tables": per, "release": release}
