"""The 25 structure workflows; importing this package registers them all.

- :mod:`.filament_spot` — filament and spot workflows (ACTB … SON);
- :mod:`.objects` — object, dot and shell workflows (CETN2 … RAB5A).
"""

from seglight.classic.workflows import filament_spot, objects  # noqa: F401 - they register
