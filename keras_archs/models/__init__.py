"""Architecture families, one module each; importing them fills the registry.

Every module in this package is imported here, and its `__all__` (the public
constructors) is re-exported, so a new family joins by adding its file.
"""

import importlib
import pkgutil

_INTERNAL_MODULES = {"base"}

__all__ = []
for _module_info in sorted(pkgutil.iter_modules(__path__), key=lambda info: info.name):
    if _module_info.name in _INTERNAL_MODULES or _module_info.name.startswith("_"):
        continue
    _module = importlib.import_module(f"{__name__}.{_module_info.name}")
    for _constructor_name in _module.__all__:
        globals()[_constructor_name] = getattr(_module, _constructor_name)
        __all__.append(_constructor_name)
__all__.sort()
