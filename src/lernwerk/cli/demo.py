"""`lernwerk demo`: the XOR lesson in the workspace."""

from __future__ import annotations

from lernwerk.cli.common import JsonOption, app, err, open_workspace, out, print_json, rows_table


@app.command()
def demo(as_json: bool = JsonOption) -> None:
    """Fill the workspace with the XOR lesson (a perceptron and an MLP) and show the runs.

    Idempotent: runs that exist already are kept. (`make run` starts the web workbench,
    `lernwerk serve --demo`.)
    """
    ws = open_workspace()
    have = {r.name for r in ws.runs()}
    for model in ("perceptron", "mlp"):
        name = f"demo: {model} on xor"
        if name not in have:
            err.print(f"training {name} …")
            ws.fit("xor", model, name=name)
    runs = [r for r in ws.runs() if r.name.startswith("demo: ")]
    if as_json:
        print_json([r.row() for r in runs])
        return
    out.print(
        rows_table(
            [r.row() for r in runs],
            f"Demo runs in {ws.path}",
            ["id", "name", "status", "epochs", "test_accuracy", "seconds"],
        )
    )
    out.print(
        "A perceptron has no hidden layer and cannot learn XOR; an MLP can.\n"
        f"Next: [bold]lernwerk -w {ws.path} runs list[/], "
        "[bold]lernwerk train --dataset digits --model lenet[/], [bold]lernwerk --help[/]"
    )
