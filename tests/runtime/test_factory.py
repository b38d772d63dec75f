"""The runtime-model registry: registration rules, lookups, creation from configs, discovery."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from modreg.errors import Conflict, NotFound, UsageError
from modreg.runtime import factory
from modreg.runtime.models.base import Forecaster
from modreg.runtime.models.mlp import MLP


class _Dummy(Forecaster):
    def __init__(self, h: int = 1, scale: float = 1.0) -> None:
        self.h, self.scale = h, scale


@pytest.fixture
def dummy() -> Iterator[str]:
    factory.register_model("TestDummy", category="custom", capabilities=("multi_step",))(_Dummy)
    yield "TestDummy"
    if factory.is_registered("TestDummy"):
        factory.unregister_model("TestDummy")


def test_builtin_models_are_listed_with_their_metadata() -> None:
    models = factory.list_models()
    assert list(models) == sorted(models)
    info = models["MLP"]
    assert info.category == "basic" and "multi_step" in info.capabilities
    assert info.qualified_name == "modreg.runtime.models.mlp.MLP" and info.is_builtin
    assert info.to_dict()["class"] == "modreg.runtime.models.mlp.MLP"


def test_duplicates_raise_unless_overwrite(dummy: str) -> None:
    with pytest.raises(Conflict, match="already registered"):
        factory.register_model(dummy, category="custom")(_Dummy)
    class Other(_Dummy):
        pass
    factory.register_model(dummy, category="basic", overwrite=True)(Other)
    assert factory.get_model(dummy).cls is Other and factory.get_model(dummy).category == "basic"


def test_unregister_and_is_registered(dummy: str) -> None:
    assert factory.is_registered(dummy)
    factory.unregister_model(dummy)
    assert not factory.is_registered(dummy)
    with pytest.raises(NotFound):
        factory.unregister_model(dummy)


def test_unknown_names_suggest_the_closest_and_list_all() -> None:
    with pytest.raises(NotFound) as caught:
        factory.get_model("MPL")
    assert "did you mean 'MLP'" in caught.value.hint and "available:" in caught.value.hint
    with pytest.raises(NotFound) as caught:
        factory.create("mlp", h=12, input_size=24)
    assert "'MLP'" in caught.value.hint


def test_bad_category_is_refused() -> None:
    with pytest.raises(ValueError, match="category"):
        factory.register_model("X", category="fancy")


def test_register_sets_the_model_name(dummy: str) -> None:
    assert _Dummy.model_name == dummy and _Dummy().name == dummy


def test_find_points_at_the_class_definition() -> None:
    path, line = factory.find("MLP")
    assert path.endswith("mlp.py")
    lines = Path(path).read_text().splitlines()
    assert lines[line - 1].startswith('@register_model("MLP"') and lines[line].startswith("class MLP")


def test_create_validates_and_coerces_params() -> None:
    model = factory.create("MLP", h=12, input_size=24, learning_rate=1, futr_exog_list=["a"])
    assert isinstance(model, MLP) and model.learning_rate == 1.0 and isinstance(model.learning_rate, float)
    assert model.futr_exog_list == ("a",)
    with pytest.raises(UsageError, match="`h` of MLP expects an integer >= 1, found 0"):
        factory.create("MLP", h=0, input_size=24)


def test_create_from_config_merges_template_then_params(dummy: str) -> None:
    templates = {"base": {"params": {"h": 5, "scale": 2.0}}}
    model = factory.create_from_config({"model": dummy, "template": "base", "params": {"scale": 3.0}},
                                       templates=templates)
    assert (model.h, model.scale) == (5, 3.0)
    inline = factory.create_from_config({"model": "MLP", "template": {"params": {"h": 6}},
                                         "params": {"input_size": 12}, "precision": "float64"})
    assert (inline.h, inline.input_size, inline.precision) == (6, 12, "float64")


def test_create_from_config_errors() -> None:
    with pytest.raises(UsageError, match="no `model`"):
        factory.create_from_config({"params": {}})
    with pytest.raises(NotFound, match="No template named 'fast'"):
        factory.create_from_config({"model": "MLP", "template": "fast"}, templates={"faster": {}})


def test_merge_params_later_layers_win() -> None:
    assert factory.merge_params({"a": 1, "b": 1}, {"b": 2}, {"c": 3}) == {"a": 1, "b": 2, "c": 3}


def test_discover_imports_a_package_so_its_models_register(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "extra_models_pkg"
    (package / "deep").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "deep" / "__init__.py").write_text("")
    (package / "deep" / "thing.py").write_text(textwrap.dedent("""
        from modreg.runtime.factory import register_model
        from modreg.runtime.models.base import Forecaster

        @register_model("DiscoveredThing", category="custom")
        class Thing(Forecaster):
            def __init__(self, h: int = 1) -> None:
                self.h = h
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        imported = factory.discover("extra_models_pkg")
        assert "extra_models_pkg.deep.thing" in imported
        assert factory.is_registered("DiscoveredThing")
        assert not factory.get_model("DiscoveredThing").is_builtin
    finally:
        factory.unregister_model("DiscoveredThing")
        for name in [m for m in sys.modules if m.startswith("extra_models_pkg")]:
            del sys.modules[name]


def test_get_and_set_params_go_through_the_signature() -> None:
    from modreg.runtime.training.losses import HuberLoss

    model = MLP(h=4, input_size=8, loss=HuberLoss(delta=0.5))
    params = model.get_params()
    assert params["loss"] == {"type": "huber", "delta": 0.5} and params["input_size"] == 8
    model.set_params(h=6, hidden_size=8)
    assert (model.h, model.input_size, model.hidden_size) == (6, 8, 8) and not model.is_fitted
    assert model.get_params()["loss"] == {"type": "huber", "delta": 0.5}
    with pytest.raises(UsageError, match="has no parameter `hidden`"):
        model.set_params(hidden=3)
    with pytest.raises(UsageError, match="expects an integer >= 1"):
        MLP(h=0, input_size=4).check_params()


def test_input_size_below_one_means_three_horizons() -> None:
    from modreg.runtime.models.base import WindowForecaster

    class Recurrentish(WindowForecaster):
        def __init__(self, h: int, input_size: int = -1) -> None:
            super().__init__(h=h, input_size=input_size)

    model = Recurrentish(h=4)
    assert model.input_size == 12 and model.get_params() == {"h": 4, "input_size": -1}
    assert model.set_params(h=5).input_size == 15
