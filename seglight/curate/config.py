"""What to curate and how (``conf/curate.yaml``), checked before any work."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seglight.errors import ConfigError
from seglight.normalization import Normalizer

MODES = ("takeall", "sorting", "merging")
ORDERS = ("as_listed", "uncertainty")


@dataclass
class CurateConfig:
    """What to curate, and how; mirrors ``conf/curate.yaml``.

    Attributes:
        mode: ``takeall``, ``sorting`` or ``merging``.
        raw: folder of raw images.
        out: folder of curated triplets (created; numbering continues after its triplets).
        seg: folder of segmentations (takeall, sorting).
        seg1: first segmentation folder (merging; ground truth outside merging regions).
        seg2: second segmentation folder (merging; ground truth inside merging regions).
        mask: optional folder of excluding masks ``<stem><mask_suffix>.tiff`` (voxels > 0
            get costmap 0; a YX mask applies through z).
        merge_mask: optional folder of merging-region masks (merging mode).
        decisions: CSV of decisions (``image,decision[,exclude,merge]``); required for
            sorting, and for merging unless ``merge_mask`` is given; optional in takeall,
            where only its ``exclude`` polygons are used.
        seg_suffix: a segmentation is ``<raw stem><seg_suffix>.<any image extension>``.
        mask_suffix: an excluding mask is ``<raw stem><mask_suffix>.<ext>``.
        merge_mask_suffix: a merging mask is ``<raw stem><merge_mask_suffix>.<ext>``.
        channel: channel (index or name) of the raw images to curate.
        prefix: triplets are named ``<prefix>_<n>``.
        normalize: write images through ``normalization`` instead of raw (default raw:
            the Trainer normalizes).
        normalization: recipe steps used when ``normalize`` is true.
        log: decision log path (default ``<out>/curation_log.csv``).
        order: ``as_listed`` (by file name) or ``uncertainty`` (most uncertain first, see
            :mod:`seglight.curate.uncertainty`; the score is logged with each decision).
        uncertainty_ckpt: score by this network's flip test-time-augmentation disagreement.
        uncertainty_seg: or by the disagreement between the segmentation and a second one
            in this folder (same names); merging mode uses seg1 and seg2 by default.
    """

    mode: str = "takeall"
    raw: str | None = None
    out: str | None = None
    seg: str | None = None
    seg1: str | None = None
    seg2: str | None = None
    mask: str | None = None
    merge_mask: str | None = None
    decisions: str | None = None
    seg_suffix: str = "_struct_segmentation"
    mask_suffix: str = "_mask"
    merge_mask_suffix: str = "_merge"
    channel: int | str = 0
    prefix: str = "img"
    normalize: bool = False
    normalization: list[dict[str, Any]] | None = None
    log: str | None = None
    order: str = "as_listed"
    uncertainty_ckpt: str | None = None
    uncertainty_seg: str | None = None

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any]) -> CurateConfig:
        """Build from a dict or an OmegaConf config (e.g. Hydra's ``cfg``).

        Raises:
            ConfigError: an unknown key, naming it and the known ones.
        """
        try:
            from omegaconf import DictConfig, OmegaConf

            if isinstance(cfg, DictConfig):
                cfg = OmegaConf.to_container(cfg, resolve=True)
        except ImportError:  # omegaconf comes with hydra-core; plain dicts still work
            pass
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(cfg) - known - {"hydra"})
        if unknown:
            raise ConfigError(f"curate: unknown key(s) {unknown}; known keys: {sorted(known)}")
        return cls(**{k: v for k, v in cfg.items() if k in known})

    def validate(self, interactive: bool = False) -> None:
        """Check the configuration before any work, with one readable line per problem.

        Args:
            interactive: a person decides (napari), so no decisions file is needed.

        Raises:
            ConfigError: a missing or wrong value, naming the key and what to do.
        """
        if self.mode not in MODES:
            raise ConfigError(f"mode={self.mode!r}; choose mode=takeall, sorting or merging")
        needed = {"takeall": ["raw", "seg", "out"], "sorting": ["raw", "seg", "out", "decisions"],
                  "merging": ["raw", "seg1", "seg2", "out"]}[self.mode]
        if interactive:
            needed = [k for k in needed if k != "decisions"]
        missing = [k for k in needed if not getattr(self, k)]
        if missing:
            usage = {
                "takeall": "mode=takeall raw=DIR seg=DIR out=DIR [mask=DIR]",
                "sorting": "mode=sorting raw=DIR seg=DIR out=DIR decisions=FILE.csv",
                "merging": "mode=merging raw=DIR seg1=DIR seg2=DIR out=DIR decisions=FILE.csv",
            }[self.mode]
            raise ConfigError(
                f"mode={self.mode} needs {', '.join(k + '=' for k in missing)}; usage: "
                f"python -m seglight.curate {usage}"
            )
        if self.mode == "merging" and not (self.decisions or self.merge_mask or interactive):
            raise ConfigError(
                "mode=merging needs decisions=FILE.csv (with merge polygons) or merge_mask=DIR; "
                "without merging regions the ground truth is just seg1"
            )
        if self.mode != "merging" and (self.seg1 or self.seg2 or self.merge_mask):
            raise ConfigError(
                f"seg1=/seg2=/merge_mask= are for mode=merging; mode={self.mode} uses seg="
            )
        if self.mode == "merging" and self.seg:
            raise ConfigError("mode=merging takes seg1= and seg2=, not seg=")
        inputs = {k: getattr(self, k) for k in ("raw", "seg", "seg1", "seg2", "mask", "merge_mask")}
        for key, value in inputs.items():
            if value and not Path(value).is_dir():
                raise ConfigError(f"{key}={value}: no such folder")
        if self.decisions and not Path(self.decisions).is_file():
            raise ConfigError(f"decisions={self.decisions}: no such file")
        out = Path(self.out).resolve()
        for key, value in inputs.items():
            if value and Path(value).resolve() == out:
                raise ConfigError(
                    f"out={self.out} is also {key}=; write triplets to a separate folder "
                    "(the Curator never writes into its inputs)"
                )
        if out.exists() and not out.is_dir():
            raise ConfigError(f"out={self.out} is a file; give a folder")
        if not self.seg_suffix and self.mode != "merging" and Path(self.seg).resolve() == Path(
            self.raw
        ).resolve():
            raise ConfigError("seg= is the raw folder and seg_suffix is empty; set seg_suffix=")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", str(self.prefix)):
            raise ConfigError(f"prefix={self.prefix!r}; use letters, digits, '.', '_' or '-'")
        self._validate_order()
        if not isinstance(self.normalize, bool):
            raise ConfigError(f"normalize={self.normalize!r}; use true or false")
        if self.normalize:
            if not self.normalization:
                raise ConfigError(
                    "normalize=true needs a recipe in normalization= (a list of steps); "
                    "or keep normalize=false to write raw images (the Trainer normalizes)"
                )
            Normalizer(self.normalization)

    def _validate_order(self) -> None:
        if self.order not in ORDERS:
            raise ConfigError(f"order={self.order!r}; use order=as_listed or order=uncertainty")
        if self.uncertainty_ckpt and not Path(self.uncertainty_ckpt).is_file():
            raise ConfigError(f"uncertainty_ckpt={self.uncertainty_ckpt}: no such checkpoint file")
        if self.uncertainty_seg and not Path(self.uncertainty_seg).is_dir():
            raise ConfigError(f"uncertainty_seg={self.uncertainty_seg}: no such folder")
        if (self.order == "uncertainty" and self.mode != "merging"
                and not (self.uncertainty_ckpt or self.uncertainty_seg)):
            raise ConfigError(
                "order=uncertainty needs uncertainty_ckpt=<trained .ckpt> (flip-TTA "
                "disagreement) or uncertainty_seg=DIR (a second segmentation to compare with)"
            )
