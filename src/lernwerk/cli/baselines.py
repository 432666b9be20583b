"""`lernwerk baselines DATASET`: classical methods on the dataset's own split, stored as runs."""

from __future__ import annotations

import typer

from lernwerk.cli.common import JsonOption, app, err, open_workspace, out, print_json, rows_table


@app.command()
def baselines(
    dataset: str = typer.Argument(..., help="A built-in (digits, xor, …) or stored dataset."),
    val_split: float = typer.Option(0.2, "--val-split", help="As the runs to compare with."),
    test_split: float = typer.Option(0.2, "--test-split", help="As the runs to compare with."),
    split_seed: int = typer.Option(0, "--split-seed", help="As the runs to compare with."),
    task: str | None = typer.Option(
        None, "--task", help="classification or regression (default: the dataset's own)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seeds the estimators."),
    estimator: list[str] | None = typer.Option(
        None,
        "--estimator",
        metavar="NAME",
        help="Only these (repeatable): logistic-regression, ridge, hist-gradient-boosting, "
        "xgboost, rocket (series). Default: all that suit the data.",
    ),
    as_json: bool = JsonOption,
) -> None:
    """Logistic regression (ridge), gradient boosting, XGBoost and, for series, ROCKET on
    the dataset's split, stored as runs; shown beside the networks trained on the same split."""
    if not as_json:
        err.print(f"fitting baselines on {dataset} …")
    comparison = open_workspace().baselines(
        dataset,
        val_split=val_split,
        test_split=test_split,
        split_seed=split_seed,
        task=task,
        seed=seed,
        estimators=estimator or None,
    )
    if as_json:
        print_json(comparison.to_dict())
        return
    rows = comparison.rows()
    scores = [k for k in ("test_accuracy", "test_r2", "test_mae") if any(k in r for r in rows)]
    columns = ["model", "features", *scores, "seconds", "id"]
    sizes = comparison.splits
    title = (
        f"{comparison.dataset}: baselines and networks on the same split "
        f"(train {sizes['train']}, val {sizes['val']}, test {sizes['test']})"
    )
    out.print(rows_table(rows, title, columns))
    for note in comparison.notes:
        out.print(f"note: {note}")
    out.print(
        "seconds: the fit's wall time (a network's: its training). The baselines are stored "
        "as runs (`lernwerk runs list`); their fitted estimators are not kept."
    )
