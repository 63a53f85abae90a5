"""The 25 structure workflows; importing this package registers them all.

- :mod:`.filament_spot` — filament and spot workflows (ACTB … SON);
- :mod:`.objects` — object, dot and shell workflows (CETN2 … RAB5A).
"""

import importlib

# The two modules land from two branches; until both have, register what is there.
for _module in ("filament_spot", "objects"):
    try:
        importlib.import_module(f"{__name__}.{_module}")
    except ModuleNotFoundError as err:
        if err.name != f"{__name__}.{_module}":
            raise
