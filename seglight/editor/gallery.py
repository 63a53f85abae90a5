"""The workflow gallery: a thumbnail and a one-line description per classic workflow.

Each thumbnail shows the maximum-intensity projection over z of a synthetic image of the
structure the workflow was made for, with the projection of the workflow's mask outlined
(a middle slice showed only noise for structures that lie in a few slices, such as focal
adhesions at the bottom of the cell, or are sparse dots): a user picks the workflow whose picture
looks most like their structure. The PNGs ship in ``seglight/editor/thumbnails/``; they are
rendered from the repository's structure-like test images (``seglight/data/structures.py``)
by::

    python -m seglight.editor.gallery          # from the repository root
    python -m seglight.editor.gallery nucleus  # only these

The descriptions are the first comment line of each ``conf/model/classic/<name>.yaml``
(:func:`seglight.classic.workflow_info`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from seglight.classic import list_workflows, workflow_info

THUMBNAILS = Path(__file__).with_name("thumbnails")
#: Thumbnail size in pixels (square).
THUMB_PX = 96


def description(name: str) -> str:
    """The one-line description of workflow ``name`` (its config's first comment line),
    e.g. ``SEC61B (ER): N[2.5,7.5] -> EPS -> F2(1, 0.15) -> ...``."""
    return workflow_info(name).description


def thumbnail_path(name: str) -> Path | None:
    """The shipped thumbnail of workflow ``name``, or ``None`` if it has none."""
    path = THUMBNAILS / f"{name}.png"
    return path if path.exists() else None


def render_thumbnail(image_zyx: np.ndarray, mask_zyx: np.ndarray, px: int = THUMB_PX) -> np.ndarray:
    """RGB uint8 ``px``x``px``: the maximum projection over z with the outline of the
    mask's projection (centre crop)."""
    from PIL import Image

    from seglight.viz import overlay

    rgb = overlay(np.max(image_zyx, axis=0), np.max(np.asarray(mask_zyx) > 0, axis=0))
    side = min(rgb.shape[:2])
    y0, x0 = (rgb.shape[0] - side) // 2, (rgb.shape[1] - side) // 2
    square = Image.fromarray(rgb[y0:y0 + side, x0:x0 + side])
    return np.asarray(square.resize((px, px), Image.Resampling.LANCZOS))


def main(argv: list[str] | None = None) -> int:
    """Render every workflow's thumbnail into ``seglight/editor/thumbnails/``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=THUMBNAILS)
    parser.add_argument("--shape", default="16x96x96", help="ZYX of the synthetic images")
    parser.add_argument("names", nargs="*", metavar="WORKFLOW",
                        help="render only these workflows (default: all)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(list_workflows()))
    if unknown:
        parser.error(f"unknown workflow(s) {unknown}; choose from {list_workflows()}")
    from seglight.classic import run_workflow
    from seglight.data.structures import structure_image
    from seglight.viz import save_png

    shape = tuple(int(v) for v in args.shape.split("x"))
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.names or list_workflows():
        image = structure_image(name, shape)
        mask = run_workflow(name, image)
        save_png(args.out / f"{name}.png", render_thumbnail(image, mask))
        print(f"{name}: {description(name)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
