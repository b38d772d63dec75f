"""`modreg run` merges parameters so that what the user typed wins, and says where each came from.

model defaults < the entry's own template < entry params < --template < --param (issue 15, point 2).
"""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from modreg.cli import app

runner = CliRunner()
EXAMPLE = Path(__file__).resolve().parents[2] / "registry.example"


def _run(*args: str) -> dict:
    done = runner.invoke(app, ["--registry", str(EXAMPLE), "--json", "run", "NHITS",
                               "--data", str(EXAMPLE / "data" / "visnights.csv"), "--param", "max_steps=1", *args])
    assert done.exit_code == 0, done.stderr
    return json.loads(done.stdout)


def test_a_template_given_on_the_command_line_wins_over_the_entry() -> None:
    result = _run("--template", "quarterly-8")
    assert result["resolved"]["h"] == {"value": 8, "source": "template quarterly-8"}
    assert result["resolved"]["input_size"] == {"value": 16, "source": "template quarterly-8"}
    assert {row["ds"] for row in result["items"] if row["unique_id"] == "NSWMetro"} == {
        "2017-01-01", "2017-04-01", "2017-07-01", "2017-10-01", "2018-01-01", "2018-04-01", "2018-07-01", "2018-10-01"}


def test_a_param_wins_over_the_template_and_every_parameter_names_its_source() -> None:
    result = _run("--template", "quarterly-8", "--param", "h=4")
    resolved = result["resolved"]
    assert resolved["h"] == {"value": 4, "source": "command line"}
    assert resolved["learning_rate"]["source"] == "entry"
    assert resolved["max_steps"]["source"] == "command line"
    assert resolved["dropout_prob_theta"]["source"] == "default"
    assert set(resolved) == set(result["params"])
