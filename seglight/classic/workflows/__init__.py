"""The 26 structure workflows as pipelines; importing this package registers them all.

- :mod:`.filament_spot` — filament and spot workflows (ACTB … SON);
- :mod:`.objects` — object, dot and shell workflows (CETN2 … RAB5A).

The block library (:mod:`seglight.classic.blocks`) is registered first; each module adds
the few blocks only its workflows use.
"""

from seglight.classic import blocks  # noqa: F401 - registers the blocks the pipelines use
from seglight.classic.workflows import filament_spot, objects  # noqa: F401 - they register
