"""What someone who holds the monitoring store but not the key can learn (README: "What the
store holds"). Issue 11 item 1.

Run: python benchmarks/bench_store_exposure.py --demo DIR [--seed 11]
(DIR is a finished `thbmonitor demo --out DIR --seed N`; the benchmark runs the demo there,
with seed N, if it is missing.) The input's names and birth dates
(DIR/input/registrations.csv) only score the attacks; the attacks use the store alone. Printed:

* birth dates: the intruder of tests/robustness/intruder.py (every record sharing a birth-date
  token, and the day-and-month token, intersected): exact, within a month, median window;
* quasi-identifiers in clear: the share of registrations unique in the store on combinations
  of birth year, sex, nationality, municipality and registration date (someone who knows these
  facts of one victim finds that victim's record, then the linked police events);
* frequency attack on name tokens: tokens are the same for the same name, so the most frequent
  surname token is the most frequent surname. The attacker here knows the exact frequency of
  every surname among the registered (a worst case: a real attacker knows the population's
  name frequencies); a token is read as the surname of the same frequency rank when that rank's
  count is unique. Share of registrations whose surname (and first name) is so recovered.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "robustness"))

from intruder import summary  # noqa: E402

from thbmonitor.pseudonymise import normalise_name, split_surname  # noqa: E402
from thbmonitor.store import open_store  # noqa: E402

MAIN = "from thbmonitor.cli import main; main()"
QUASI = {
    "birth year, sex": ["birth_year", "sex"],
    "birth year, sex, nationality": ["birth_year", "sex", "nationality"],
    "birth year, sex, nationality, municipality": [
        "birth_year",
        "sex",
        "nationality",
        "municipality",
    ],
    "birth year, sex, nationality, registration year": [
        "birth_year",
        "sex",
        "nationality",
        "registration_year",
    ],
    "birth year, sex, nationality, registration date": [
        "birth_year",
        "sex",
        "nationality",
        "registration_date",
    ],
    "age band, sex, municipality, registration date": [
        "age_band",
        "sex",
        "municipality",
        "registration_date",
    ],
}


def rank_attack(tokens: pd.Series, truth: pd.Series) -> float:
    """Share of rows whose true value the attacker reads from the token's frequency rank."""
    tok_counts = tokens.value_counts()
    true_counts = truth.value_counts()
    # a count shared by several values cannot be told apart by frequency alone
    unique_counts = true_counts[~true_counts.duplicated(keep=False)]
    guess: dict[str, str] = {}
    for value, count in unique_counts.items():
        match = tok_counts[tok_counts == count]
        if len(match) == 1:
            guess[str(match.index[0])] = str(value)
    guessed = tokens.map(guess)
    return float((guessed == truth).mean())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--demo", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=11, help="seed of the demo, if it is run")
    options = parser.parse_args()
    demo: Path = options.demo
    store_path = demo / "monitor.duckdb"
    if not store_path.exists():
        subprocess.run(
            [sys.executable, "-c", MAIN, "demo", "--out", str(demo), "--seed", str(options.seed)],
            check=True,
        )
    truth = pd.read_csv(
        demo / "input" / "registrations.csv", dtype=str, keep_default_na=False
    ).set_index("registration_id")
    with open_store(store_path, read_only=True) as store:
        exposure = summary(store, truth.reset_index()[["registration_id", "date_of_birth"]])
        regs = store.df("SELECT * FROM registrations").set_index("registration_id")
        n_persons = store.scalar("SELECT count(DISTINCT person_id) FROM registration_person")
        with_police = store.scalar(
            "SELECT count(DISTINCT person_id) FROM person_police WHERE match_probability >= 0.5"
        )
    n = len(regs)
    print(f"store {store_path}: {n:,} registrations, {n_persons:,} persons")
    print(
        f"birth dates: {exposure.registrations:,} registrations with one; exact {exposure.exact}, "
        f"within a week {exposure.within_week}, within a month {exposure.within_month}, "
        f"median window {exposure.median_width_days:.0f} days, unsound windows {exposure.wrong}"
    )
    for label, columns in QUASI.items():
        sizes = regs.groupby(columns, dropna=False)[columns[0]].transform("size")
        print(f"unique on {label}: {(sizes == 1).mean():.1%} of registrations")
    print(f"persons linked to police-register events (with dates and roles): {with_police:,}")
    truth = truth.loc[regs.index]
    last = truth["last_name"].map(lambda s: split_surname(normalise_name(s))[1])
    first = truth["first_names"].map(normalise_name)
    print(
        "frequency attack, attacker knows every name's exact count among the registered: "
        f"surname read for {rank_attack(regs['tok_last'], last):.1%}, first names for "
        f"{rank_attack(regs['tok_first'], first):.1%} of registrations"
    )


if __name__ == "__main__":
    main()
