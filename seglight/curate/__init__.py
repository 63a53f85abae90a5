"""The Curator: turn binarizer outputs into training triplets, in napari or from a script.

Python::

    from seglight.curate import curate
    curate({"mode": "takeall", "raw": "raw/", "seg": "seg/", "out": "curated/"})

Command line (Hydra, ``key=value``)::

    python -m seglight.curate mode=takeall raw=DIR seg=DIR out=DIR [mask=DIR]
    python -m seglight.curate mode=sorting raw=DIR seg=DIR out=DIR decisions=FILE.csv
    python -m seglight.curate mode=merging raw=DIR seg1=DIR seg2=DIR out=DIR decisions=FILE.csv

napari: *Plugins > seglight* (install ``seglight[napari]``).

Images are written raw by default; the Trainer normalizes them with its data config.
"""

from seglight.curate.config import CurateConfig
from seglight.curate.decision_log import DecisionLog, Entry, read_decisions
from seglight.curate.engine import Curator, Item, curate
from seglight.curate.regions import (
    Polygon,
    format_polygons,
    merge_segmentations,
    parse_polygons,
    rasterize,
)
from seglight.summary import Summary

__all__ = [
    "CurateConfig",
    "Curator",
    "DecisionLog",
    "Entry",
    "Item",
    "Polygon",
    "Summary",
    "curate",
    "format_polygons",
    "merge_segmentations",
    "parse_polygons",
    "rasterize",
    "read_decisions",
]
