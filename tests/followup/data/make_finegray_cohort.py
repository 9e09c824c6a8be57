"""Write finegray_cohort.csv: a seeded cohort in the shape of the follow-up chapter's data.

Run once with ``python tests/followup/data/make_finegray_cohort.py``; the CSV is committed and
``finegray_crr.R`` fits it with R ``cmprsk::crr``. Durations are whole days in years (so
times tie, as in the register), status 0 censored, 1 new victim event, 2 death/emigration;
covariates ``minor`` (0/1), ``sex`` and the factor ``nationality_group`` (reference NL).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd


def cohort(seed: int = 20261128, n: int = 3000) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    minor = (rng.random(n) < 0.2).astype(int)
    sex = np.where(rng.random(n) < 0.7, "female", "male")
    nationality = rng.choice(["NL", "EU", "non-EU", "unknown"], n, p=[0.35, 0.3, 0.3, 0.05])
    lp = (
        0.4 * minor
        - 0.3 * (sex == "male")
        + np.select(
            [nationality == "EU", nationality == "non-EU", nationality == "unknown"],
            [-0.2, -0.5, 0.3],
            0.0,
        )
    )
    t1 = rng.exponential(1 / (0.12 * np.exp(lp)))
    t2 = rng.exponential(1 / (0.02 * np.exp(0.5 * (sex == "male"))))
    follow = rng.uniform(2.0, 12.0, n)  # administrative end: entries 2012-2021
    t = np.minimum(np.minimum(t1, t2), follow)
    status = np.where(t == t1, 1, np.where(t == t2, 2, 0))
    days = np.maximum(np.ceil(t * 365.25), 1.0)
    return pd.DataFrame(
        {
            "duration": np.round(days / 365.25, 6),
            "status": status,
            "minor": minor,
            "sex": sex,
            "nationality_group": nationality,
        }
    )


if __name__ == "__main__":
    cohort().to_csv(Path(__file__).with_name("finegray_cohort.csv"), index=False)
