"""Ensemble: several runtime models fitted on the same data, their forecasts combined.

Its members are runtime models, each with its own parameters, each fitted `seeds` times
(random_seed, random_seed + 1, ...); the forecasts combine by their median or mean, and
probabilistic members by quantile averaging (`modreg.runtime.combine`). With `jobs > 1` the
members fit in parallel worker processes (`modreg.runtime.ensemble_fit`), one BLAS thread each.

A registry entry may name its members as other registry entries (`entry = "NHITS"`) or with a
template (`template = "quick"`); the runtime never reads the registry, so those are resolved
into runtime members (`model` + complete `params`) by `modreg.forecast.ensemble` before the
model is built here, and this class refuses them.

Saving writes one `.npz`: the ensemble's parameters (every member's model and parameters) as
JSON and each fitted member's weights under `members/<k>/`; loading rebuilds each member from
those parameters (registered runtime models only, never an import path) and loads its weights
strictly: a missing, extra or misshapen member array is an integrity error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from modreg._plain import plain
from modreg.errors import IntegrityError, ModregError, UsageError
from modreg.runtime.combine import Combine, combine_forecasts
from modreg.runtime.data import SeriesFrame
from modreg.runtime.ensemble_fit import MemberFit, MemberPlan, fit_members
from modreg.runtime.factory import get_model, register_model
from modreg.runtime.models.base import Forecast, Forecaster
from modreg.runtime.params import ParameterError, schema_for, validate_against
from modreg.runtime.training.fit import TrainHistory

if TYPE_CHECKING:
    from typing import Self

    from modreg.runtime.training.fit import ProgressFn

__all__ = ["MEMBER_SCHEMA", "Ensemble", "MemberFit", "MemberPlan"]

MEMBER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "model": {"type": "string", "description": "a runtime model"},
        "entry": {"type": "string", "description": "a registry entry with a [runtime] table"},
        "template": {"type": "string", "description": "a template's parameters under this member's own"},
        "params": {"type": "object", "description": "the member's parameters (h comes from the ensemble)"},
        "name": {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9._-]{0,63}$", "description": "its label"},
        "seeds": {"type": "integer", "minimum": 1, "description": "fits with consecutive seeds (default: the ensemble's)"},
    },
    "additionalProperties": False,
}


@register_model("Ensemble", category="specialized", capabilities=("multi_step", "batch_processing", "ensemble"))
class Ensemble(Forecaster):
    """An ensemble of runtime models whose forecasts are combined.

    Args:
        h: forecast horizon (every member forecasts it; a member may not set another h).
        members: the members, each a table: `model` (a runtime model; in a registry entry also `entry`, another entry, or `template`), `params`, and optionally `name` and `seeds`.
        combine: how forecasts combine: median or mean (quantile by quantile for probabilistic members).
        seeds: fits per member, with random_seed, random_seed + 1, ... (a member's own `seeds` wins).
        random_seed: the first seed of every member that does not set its own random_seed.
        max_steps: when set, the training steps of every member that trains (None: each member's own).
        jobs: worker processes fitting members in parallel (1: one after the other, in this process).

    References:
        Oreshkin, B. N., Carpov, D., Chapados, N., Bengio, Y. (2020). "N-BEATS: Neural basis
        expansion analysis for interpretable time series forecasting". ICLR. arXiv:1905.10437
        (an ensemble of models with several input sizes, losses and seeds, combined by the median).
        Wallis, K. F. (2005). "Combining density and interval forecasts: a modest proposal".
        Oxford Bulletin of Economics and Statistics 67 (quantile averaging).
    """

    param_bounds: ClassVar[dict[str, dict[str, Any]]] = {
        "h": {"minimum": 1},
        "members": {"items": MEMBER_SCHEMA, "minItems": 1},
        "seeds": {"minimum": 1},
        "max_steps": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]},
        "jobs": {"minimum": 1},
    }
    fitted: tuple[MemberFit, ...] = ()

    def __init__(self, h: int, members: tuple[Any, ...], combine: Combine = "median", seeds: int = 1,
                 random_seed: int = 1, max_steps: int | None = None, jobs: int = 1) -> None:
        self.h, self.members, self.combine, self.seeds = h, tuple(plain(m) for m in members), combine, seeds
        self.random_seed, self.max_steps, self.jobs = random_seed, max_steps, jobs
        self.plans = tuple(plan for index, member in enumerate(self.members) for plan in self._plan(index, member))

    # ----- Members -----

    def _plan(self, index: int, member: Mapping[str, Any]) -> list[MemberPlan]:
        """The fits of member `index` (1-based in messages), each with complete, validated parameters."""
        where = f"Ensemble member {index + 1}"
        for key in ("entry", "template"):
            if key in member:
                raise UsageError(f"{where} names a {'registry entry' if key == 'entry' else 'template'} "
                                 f"(`{member[key]}`), which only a registry can resolve.",
                                 hint="run the ensemble with `modreg run` / `modreg bench`, or name a runtime model "
                                      "with `model` and its `params`.")
        model = member.get("model")
        if not isinstance(model, str) or "entry" in member:
            raise UsageError(f"{where} names no runtime model.", hint='give it model = "NHITS" (see `modreg models`).')
        if model == "Ensemble":
            raise UsageError(f"{where} is an Ensemble itself; ensembles do not nest.",
                             hint="list the inner ensemble's members in this one instead.")
        try:
            cls = get_model(model).cls
        except ModregError as error:
            raise type(error)(f"{where}: {error.message}", hint=error.hint) from None
        params = self._member_params(where, model, cls, dict(member.get("params") or {}))
        label = str(member.get("name") or f"{model}-{index + 1}")
        seeds = int(member.get("seeds") or self.seeds)
        accepts_seed = "random_seed" in schema_for(cls)["properties"]
        first = int(params.get("random_seed", self.random_seed))
        if not accepts_seed or seeds == 1:
            return [MemberPlan(label, model, params)]
        return [MemberPlan(f"{label}#{s}", model, {**params, "random_seed": first + s}) for s in range(seeds)]

    def _member_params(self, where: str, model: str, cls: type, params: dict[str, Any]) -> dict[str, Any]:
        if "h" in params and params["h"] != self.h:
            raise UsageError(f"{where} ({model}) sets h = {params['h']}, but the ensemble forecasts h = {self.h}.",
                             hint="drop h from the member: it comes from the ensemble.")
        accepted = schema_for(cls)["properties"]
        params["h"] = self.h
        if "random_seed" in accepted:
            params.setdefault("random_seed", self.random_seed)
        if self.max_steps is not None and "max_steps" in accepted:
            params["max_steps"] = self.max_steps
        try:
            return validate_against(cls, params, owner=model)
        except ParameterError as error:
            hint = error.hint if "needs parameter" not in error.message else \
                f"add it to the member's params, e.g. params = {{ {error.param} = ... }}."
            raise UsageError(f"{where} ({model}): {error.message}", hint=hint) from None
        except ModregError as error:
            raise UsageError(f"{where} ({model}): {error.message}", hint=error.hint) from None

    @property
    def context_length(self) -> int | None:  # type: ignore[override]
        """The longest context the fitted members need (None: the whole series)."""
        lengths = [fit.model.context_length for fit in self.fitted]
        if not lengths or any(n is None for n in lengths):
            return None
        return max(n for n in lengths if n is not None)

    @property
    def train_history(self) -> TrainHistory | None:
        """The member fits' training summed up (steps, rows, seconds); None when no member trained."""
        histories = [h for h in (getattr(fit.model, "train_history", None) for fit in self.fitted) if h is not None]
        if not histories:
            return None
        return TrainHistory(steps=sum(h.steps for h in histories), rows=sum(h.rows for h in histories),
                            seconds=sum(h.seconds for h in histories))

    @property
    def total_steps(self) -> int:
        """The training steps of all member fits together (what a progress bar counts)."""
        return sum(int(p.params.get("max_steps") or 0) for p in self.plans)

    # ----- Fit and predict -----

    def fit(self, data: SeriesFrame, *, progress: ProgressFn | None = None) -> Self:
        """Fit every member (and seed) on `data`; `progress` sees the steps of all fits, numbered on."""
        self.check_params()
        self.fitted = tuple(fit_members(self.plans, data, jobs=self.jobs, progress=progress))
        self._remember(data)
        return self

    def _predict(self, data: SeriesFrame, h: int, futr: SeriesFrame | None) -> Forecast:
        return combine_forecasts(self.name, self.member_forecasts(data, h, futr=futr), self.combine)

    def member_forecasts(self, data: SeriesFrame | None = None, h: int | None = None, *,
                         futr: SeriesFrame | None = None) -> list[Forecast]:
        """Each fitted member's own forecast, its columns named by the member's label."""
        if not self.fitted:
            raise UsageError(f"{self.name} is not fitted yet.", hint="call fit(data) first, or load a saved model.")
        frame = data if data is not None else self._context
        steps = self._horizon(h)
        return [fit.model.predict(frame, steps, futr=futr).renamed(fit.plan.label) for fit in self.fitted]

    def num_parameters(self) -> int:
        models = [fit.model for fit in self.fitted] or [get_model(p.model).cls(**p.params) for p in self.plans]
        return int(sum(model.num_parameters() for model in models))

    # ----- State -----

    def _state(self) -> dict[str, np.ndarray]:
        return {f"members/{k}/{key}": value for k, fit in enumerate(self.fitted) for key, value in fit.model._state().items()}

    def _load_state(self, state: dict[str, np.ndarray]) -> None:
        """Rebuild every member from its parameters and load its arrays strictly (IntegrityError otherwise)."""
        parts: dict[int, dict[str, np.ndarray]] = {k: {} for k in range(len(self.plans))}
        for key, value in state.items():
            head, _, rest = key.partition("/")
            number, _, name = rest.partition("/")
            if head != "members" or not number.isdigit() or int(number) not in parts or not name:
                raise IntegrityError(f"The saved ensemble holds the array `{key}`, which belongs to none of its "
                                     f"{len(self.plans)} member fits.", hint="save the ensemble again.")
            parts[int(number)][name] = value
        fits = []
        for k, plan in enumerate(self.plans):
            member = get_model(plan.model).cls(**plan.params)
            try:
                member._load_state(parts[k])
            except IntegrityError as error:
                raise IntegrityError(f"Member fit {k + 1} ({plan.label}) of the saved ensemble: {error.message}",
                                     hint=error.hint) from None
            fits.append(MemberFit(plan, member, 0.0, 0.0))
        self.fitted = tuple(fits)

    def _restore_context(self, arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> None:
        super()._restore_context(arrays, meta)
        for fit in self.fitted:
            fit.model._context = self._context
