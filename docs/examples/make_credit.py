"""Write a synthetic credit-scoring table (docs/tutorial-credit.md uses it).

``python docs/examples/make_credit.py OUT_DIR`` writes ``credit.csv`` (train) and
``credit_new.csv`` (a later batch of applicants, with the outcome, for ``ridgeway check``) and
``applicants.csv`` (new applicants without the outcome, for ``ridgeway predict``).

About 7% of the customers default. The default risk grows with the balance and falls with
the income; students default more at the same balance; the region does not matter. In the
later batch a downturn hits: defaults come more from lost income than from high balances, so a
model fitted on the first batch ranks the new defaulters worse.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
from pyarrow import csv


def credit_table(n: int, seed: int, downturn: bool = False, first_id: int = 100_000
                 ) -> pa.Table:
    """``n`` customers; ``downturn``: the risk depends less on the balance, more on income."""
    rng = np.random.default_rng(seed)
    student = rng.random(n) < 0.3
    income = np.where(student, rng.normal(18_000, 5_000, n), rng.normal(42_000, 12_000, n))
    income = np.clip(income, 2_000, None).round(0)
    balance = np.clip(rng.gamma(2.0, 420.0, n) + 250 * student, 0, None).round(2)
    age = rng.integers(19, 80, n)
    months = rng.integers(1, 120, n)
    region = rng.choice(["North", "South", "East", "West"], n)
    logit = -9.8 + 0.0052 * balance - 0.00003 * income + 0.6 * student + 0.004 * (age - 45)
    if downturn:
        logit = -1.6 + 0.0008 * balance - 0.00011 * income + 0.3 * student
    default = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "Yes", "No")
    return pa.table({
        "customer_id": np.arange(first_id, first_id + n),
        "age": age, "income": income, "balance": balance,
        "student": np.where(student, "Yes", "No"), "region": region,
        "months_on_book": months, "default": default,
    })


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    csv.write_csv(credit_table(5_000, 0), out / "credit.csv")
    csv.write_csv(credit_table(2_000, 1, downturn=True, first_id=200_000),
                  out / "credit_new.csv")
    new = credit_table(5, 2, first_id=300_000)
    csv.write_csv(new.drop_columns(["default"]), out / "applicants.csv")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "."))
