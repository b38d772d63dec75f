"""The built-in runtime models: importing this package runs every model's `@register_model`.

One architecture per module; this file only imports them (no tables to keep in sync).
"""

from __future__ import annotations

from modreg.runtime.models import mlp  # noqa: F401
from modreg.runtime.models import dlinear  # noqa: F401
from modreg.runtime.models import nlinear  # noqa: F401
from modreg.runtime.models import nbeats  # noqa: F401
from modreg.runtime.models import nhits  # noqa: F401
from modreg.runtime.models import rnn  # noqa: F401
from modreg.runtime.models import lstm  # noqa: F401
from modreg.runtime.models import gru  # noqa: F401
from modreg.runtime.models import tcn  # noqa: F401
from modreg.runtime.models import timellm  # noqa: F401
from modreg.runtime.models import naive  # noqa: F401
