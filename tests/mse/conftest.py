from __future__ import annotations

from pathlib import Path

import pytest

from thbmonitor.mse import CaptureTable, read_capture_histories

REFERENCE = Path("/work/shared/reference/mse")


@pytest.fixture(scope="session")
def ref_path() -> Path:
    if not REFERENCE.exists():
        pytest.skip("shared reference data not available")
    return REFERENCE


@pytest.fixture(scope="session")
def load(ref_path: Path):  # type: ignore[no-untyped-def]
    def _load(name: str) -> CaptureTable:
        return read_capture_histories(ref_path / f"{name}.csv")

    return _load
