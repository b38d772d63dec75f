"""`modreg.api.run` given arguments of the wrong kind raises a UsageError that says which, not
a TypeError or AttributeError from deep inside."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modreg import api
from modreg.errors import UsageError

AIR = Path(__file__).resolve().parents[2] / "tests" / "data" / "air_passengers.csv"


@pytest.mark.parametrize(("data", "kind"), [(None, "NoneType"), (123, "int"), ([1.0, 2.0], "list")])
def test_data_that_is_neither_a_path_nor_a_dataframe(data: Any, kind: str) -> None:
    with pytest.raises(UsageError, match=f"data must be a CSV path or a pandas DataFrame, not {kind}"):
        api.run("Naive", data=data, horizon=2)


def test_params_that_are_not_key_value_strings() -> None:
    with pytest.raises(UsageError, match="a parameter must be a 'key=value' string, not 1"):
        api.run("Naive", data=AIR, horizon=2, params=[1, 2])
