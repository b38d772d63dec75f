"""Two or three real examples at the end of every command's `--help`.

Each runs as written from a clone of the repository (against registry.example and its data);
a test parses every one against its command, and `attach_examples` adds them to the commands
that do not set their own epilog.
"""

from __future__ import annotations

from typing import Any

__all__ = ["EXAMPLES", "attach_examples", "examples"]

_REG = "-r registry.example"
_AIR = "registry.example/data/air_passengers.csv"

EXAMPLES: dict[str, tuple[str, ...]] = {
    "init": ("modreg init my-registry", "modreg init my-registry --git-hooks --json"),
    "validate": (f"modreg {_REG} validate", f"modreg {_REG} validate --format github",
                 f"modreg {_REG} validate registry.example/models/NHITS.toml --strict"),
    "schema": ("modreg schema descriptor > descriptor.schema.json", "modreg schema NHITS", "modreg schema output.search"),
    "register": (f"modreg {_REG} register MyModel --category custom --summary \"NHITS for sales\" "
                 "--description \"Weekly sales.\" --author \"Me <me@example.org>\" --tag retail --capability multi_step --dry-run",
                 f"modreg {_REG} register --from new/*.toml"),
    "show": (f"modreg {_REG} show NHITS", f"modreg {_REG} show NHITS --json", f"modreg {_REG} show NHITS --at HEAD"),
    "list": (f"modreg {_REG} list", f"modreg {_REG} list --category recurrent --status active",
             f"modreg {_REG} list --format tsv"),
    "update": (f"modreg {_REG} update NHITS --tag energy --dry-run",
               f"modreg {_REG} update NHITS --set runtime.params.input_size=36 --dry-run"),
    "models": ("modreg models", "modreg models --category recurrent", "modreg models --format json"),
    "run": (f"modreg {_REG} run NHITS --data {_AIR}",
            f"modreg run SeasonalNaive --data {_AIR} --horizon 12 --plot forecast.png",
            "modreg run Naive --data tests/data/us_change.csv --target-col income --horizon 4"),
    "templates": (f"modreg {_REG} templates", f"modreg {_REG} templates --format md"),
    "bench": (f"modreg {_REG} bench --all --data {_AIR} --horizon 12 --windows 3 --quick",
              f"modreg bench Naive DLinear --data {_AIR} --horizon 12 --param input_size=24 --max-steps 100 --windows 3 --output cv.csv --plot bench.png",
              f"modreg {_REG} bench NHITS --data {_AIR} --max-steps 200 --format md"),
    "search": (f"modreg {_REG} search \"long horizon mlp\"", f"modreg {_REG} search --category advanced --tag mlp",
               f"modreg {_REG} search --where \"performance.mase < 0.9\" --format json"),
    "index": (f"modreg {_REG} index", f"modreg {_REG} index --check"),
    "report": (f"modreg {_REG} report", f"modreg {_REG} report --check"),
    "build": (f"modreg {_REG} build", f"modreg {_REG} build --check"),
    "stats": (f"modreg {_REG} stats", f"modreg {_REG} stats --format md", f"modreg {_REG} stats --json"),
    "version": (f"modreg {_REG} version NHITS --bump minor -m \"input window 24 -> 36\" --dry-run",
                f"modreg {_REG} version NHITS --set 1.5.0 -m \"a longer input window\" --dry-run"),
    "history": (f"modreg {_REG} history NHITS", f"modreg {_REG} history NHITS --format json"),
    "diff": (f"modreg {_REG} diff NHITS 1.0.0 1.1.0", f"modreg {_REG} diff NHITS 1.1.0 --format md",
             f"modreg {_REG} diff --git HEAD~1"),
    "deprecate": (f"modreg {_REG} deprecate LSTM --reason \"GRU is faster\" --replacement GRU --dry-run",
                  f"modreg {_REG} deprecate RNN --reason superseded --sunset 2030-01-01 --dry-run"),
    "archive": (f"modreg {_REG} archive RNN --dry-run", f"modreg {_REG} archive RNN --json --dry-run"),
    "restore": (f"modreg {_REG} restore RNN --dry-run", f"modreg {_REG} restore RNN --json --dry-run"),
    "delete": (f"modreg {_REG} delete TCN --dry-run", f"modreg {_REG} delete NBEATS --force --dry-run"),
    "audit": (f"modreg {_REG} audit", f"modreg {_REG} audit NHITS --format tsv"),
    "discover": (f"modreg {_REG} discover --dry-run", f"modreg {_REG} discover modreg.runtime.models.naive --dry-run"),
    "completion": ("modreg completion bash > /etc/bash_completion.d/modreg", "source <(modreg completion bash)",
                   "modreg completion fish > ~/.config/fish/completions/modreg.fish"),
    "serve": (f"modreg {_REG} serve", f"modreg {_REG} serve --port 8080",
              "modreg serve --registry /srv/registry --host 0.0.0.0 --port 8080"),
    "plugin list": (f"modreg {_REG} plugin list", f"modreg {_REG} plugin list --format json"),
    "plugin verify": (f"modreg {_REG} plugin verify", f"modreg {_REG} plugin verify seasonal_ets"),
    "plugin lock": (f"modreg {_REG} plugin lock seasonal_ets --dry-run", f"modreg {_REG} plugin lock seasonal_ets"),
    "plugin health": (f"modreg {_REG} plugin health", f"modreg {_REG} plugin health seasonal_ets --timeout 30"),
}


def examples(command: str) -> str:
    """The epilog of `command`: "Examples:" and its lines, kept as they are (click's \\b)."""
    lines = EXAMPLES[command]
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)


def attach_examples(group: Any, prefix: str = "") -> None:
    """Set the examples epilog of every command of a typer app (and its groups) that has none."""
    for info in group.registered_commands:
        name = prefix + (info.name or info.callback.__name__.rstrip("_").replace("_", "-"))
        if info.epilog is None and name in EXAMPLES:
            info.epilog = examples(name)
    for sub in group.registered_groups:
        attach_examples(sub.typer_instance, f"{prefix}{sub.name} ")
