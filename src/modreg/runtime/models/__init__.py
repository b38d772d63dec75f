"""The built-in runtime models: one architecture per module, each registered by `@register_model`.

Nothing is listed here: `modreg.runtime.factory` imports every module of this package on first
use (`factory.discover`), so adding an architecture is adding its file.
"""
