"""A trained checkpoint as a bioimage.io model package (format 0.5.x).

The package (a ``.zip``, or a folder) holds:

- ``rdf.yaml``: the description: input ``raw`` with axes batch, channel, z, y, x (voxel size
  in micrometres from training), its preprocessing (the normalization recipe in the spec's
  operations, :mod:`seglight.export.preprocessing`), the valid input sizes
  (``min + n*step`` per axis) and output ``probability`` whose size is the input's plus an
  offset (an unpadded network's negative offset is the halo it crops), authors, license,
  citations, and a ``config.seglight`` block with the threshold and the recipe;
- ``weights.pt`` (TorchScript) and ``weights.onnx`` (ONNX, converted from the same module);
- ``test_input.npy`` / ``test_output.npy``: a crop of a real image and the checkpoint's own
  probability for it (normalized by seglight, not by the package, so ``bioimageio test``
  checks that the package's preprocessing reproduces training's; for a recipe exported with
  ``allow_inexact=true``, the package's own probability, and the README gives the agreement);
- ``cover.png`` and ``README.md`` (with the "Validation" section the spec asks for).

The weights are not also stored as ``pytorch_state_dict``: that format names a Python class
to rebuild the network, and a seglight network returns two-class logits (and auxiliary heads
in training), not the package's one-channel probability, so it would need seglight installed
and a wrapper class: nothing a consumer without seglight could use.

The threshold is not a postprocessing step: a package's output would then be the mask only,
and deepImageJ/ilastik users would lose the probability map they threshold themselves. It is
in the README and in ``config.seglight.threshold``, which the predict runner reads.
"""

from __future__ import annotations

import getpass
import json
import logging
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import ValidationError

from seglight.bioimageio import require_bioimageio
from seglight.config import to_plain
from seglight.errors import ConfigError, SeglightError
from seglight.evaluation.scores import dice
from seglight.export.files import ONNX_OPSET, write_onnx
from seglight.export.network import AxisRule, size_rule, trace_probability
from seglight.export.preprocessing import (
    check_travels,
    describe,
    package_normalize,
    spec_preprocessing,
)

log = logging.getLogger(__name__)

INPUT_ID = "raw"
OUTPUT_ID = "probability"
#: The Segmenter's paper: the architecture of unet_xy and the normalization recipes.
SEGMENTER_CITATION = {
    "text": "Chen J., Ding L., Viana M.P., et al. The Allen Cell and Structure Segmenter: a new "
            "open source toolkit for segmenting 3D intracellular structures in fluorescence "
            "microscopy images. bioRxiv (2018)",
    "doi": "10.1101/491035",
}
PREPROCESSING = ("auto", "none")



def default_test_image(ckpt_path: str | Path) -> Path:
    """The first curated image of the run that wrote ``ckpt_path`` (its ``.hydra`` config).

    Raises:
        ConfigError: the run's config or data folder is not there.
    """
    from omegaconf import OmegaConf

    from seglight.io.curated import find_triplets

    config = Path(ckpt_path).resolve().parent.parent / ".hydra" / "config.yaml"
    hint = "pass test_image=<a raw image like the training data> (a real crop is packaged)"
    if not config.is_file():
        raise ConfigError(f"ckpt_path={ckpt_path}: no run config at {config}; {hint}")
    data_path = OmegaConf.load(config).get("data", {}).get("path")
    try:
        triplets = find_triplets(data_path) if data_path else []
    except SeglightError:
        triplets = []
    if not triplets:
        raise ConfigError(f"{config}: data.path={data_path} holds no curated image; {hint}")
    return triplets[0].image


def _crop(image: np.ndarray, size_zyx: Sequence[int]) -> np.ndarray:
    """The centred ``size_zyx`` block of a ZYX image, mirrored where the image is smaller."""
    pad = [max(0, s - n) for s, n in zip(size_zyx, image.shape, strict=True)]
    if any(pad):
        image = np.pad(image, [(p // 2, p - p // 2) for p in pad], mode="symmetric")
    starts = [(n - s) // 2 for s, n in zip(size_zyx, image.shape, strict=True)]
    return image[tuple(slice(a, a + s) for a, s in zip(starts, size_zyx, strict=True))]


def _cover(path: Path, crop: np.ndarray, proba: np.ndarray, threshold: float) -> None:
    from seglight.viz import panel, save_png

    pad = [(a - b) // 2 for a, b in zip(crop.shape, proba.shape, strict=True)]
    full = np.zeros(crop.shape, np.float32)
    full[tuple(slice(p, p + s) for p, s in zip(pad, proba.shape, strict=True))] = proba
    mask = (full > threshold).astype(np.uint8)
    rgb = panel([("input", crop), ("probability", full)], outline_mask=mask, outline_on=(0,))
    save_png(path, rgb)


def _readme(meta: dict) -> str:
    sizes = meta["sizes"]
    offset = meta["offset"]
    halo = ("" if not any(offset) else
            f" The network is unpadded: its output is the input minus a halo of "
            f"{[-o // 2 for o in offset]} voxels per side (ZYX), so tiles must overlap by "
            "that much; deepImageJ and bioimageio.core do this from the package.")
    if not meta["preprocessing"]:
        prep = ("**The package does not normalize**: normalize each image beforehand with the "
                f"recipe above (`seglight.normalization.Normalizer({meta['recipe']})`).")
    elif meta["exact"]:
        prep = ("The package normalizes each image itself (its `preprocessing`), exactly as "
                "training did.")
    else:
        prep = ("The package normalizes each image itself (its `preprocessing`) with an "
                "**approximation** of the training recipe (exported with "
                "`allow_inexact=true`); its masks can differ from the checkpoint's.")
    return f"""# {meta['name']}

{meta['description']}

Exported by seglight from `{meta['ckpt']}` ({meta['net']}).

## Input

One 3D fluorescence channel, axes `batch, channel, z, y, x`, voxel size
{meta['spacing']} µm (ZYX) as in training. Valid input sizes per axis (ZYX): {sizes}.{halo}

Normalization recipe: {meta['recipe_text']}. {prep} On the packaged test crop, the
package's mask agrees with the checkpoint's (seglight's own normalization) at Dice
{meta['agreement']:.4f}.

## Output

`probability`: the foreground probability (float32 in [0, 1]), one channel. The mask is
`probability > {meta['threshold']}` (the threshold chosen in training; also stored as
`config.seglight.threshold`). In seglight:

    python -m seglight.predict model_package=<this package> input=raw/ output=seg/

## Validation

The packaged test tensors are a crop of a real image and seglight's own prediction for it;
`bioimageio test <this package>` reproduces them with every weight format. To validate the
model on your own data, segment images it has not seen and compare with curated masks:

    python -m seglight.predict model_package=<this package> input=heldout/ output=seg/
    python -m seglight.evaluate prediction=seg/ truth=heldout_truth/

which reports Dice, precision and recall per image (docs/evaluate.md). Check a few masks by
eye (`qc=true` writes an outline panel per image) before trusting a new microscope or cell
line: the network was trained on {meta['spacing']} µm voxels.

## Limitations

Trained for one structure and one imaging setup; images at another voxel size should be
resized first. The threshold was tuned on the training data.
"""


def export_package(
    ckpt_path: str | Path,
    out: str | Path,
    test_image: str | Path | None = None,
    *,
    channel: int | str = 0,
    name: str | None = None,
    description: str | None = None,
    authors: Sequence[str] | None = None,
    license: str = "CC-BY-4.0",
    cite: Sequence[dict] | None = None,
    tags: Sequence[str] = (),
    window_zyx: Sequence[int] | None = None,
    preprocessing: str = "auto",
    allow_inexact: bool = False,
) -> Path:
    """Write a checkpoint as a bioimage.io model package (0.5.x).

    Args:
        ckpt_path: a checkpoint from ``python -m seglight.train``.
        out: the package: a ``.zip`` file, or a folder (any other name).
        test_image: a raw image like the training data (any format seglight reads); a crop
            of it becomes the test tensors and the cover. Default: the first curated image
            of the checkpoint's run (its ``.hydra/config.yaml``).
        channel: the structure channel of ``test_image``.
        name: the model's name (default: from the checkpoint file and network).
        description: one or two sentences (default: generated).
        authors: author names (default: the current user).
        license: an SPDX license id for the weights.
        cite: citations, each ``{"text": ..., "doi": ...}`` (or ``"url"``); the Segmenter's
            paper is added for ``unet_xy`` networks.
        tags: extra tags.
        window_zyx: the test crop's size (rounded up to a valid one); default the training
            patch.
        preprocessing: ``auto``: the normalization recipe as spec operations (a recipe
            without exact equivalent is refused, naming the ones that travel); ``none``: no
            preprocessing in the package (users normalize beforehand; the README says how).
        allow_inexact: export ``auto_contrast`` (seglight's default before
            ``clipped_zscore``) with its approximate spec form; the agreement of the two
            masks on the test crop is returned in the log, the README and the description.

    Returns:
        The written package.

    Raises:
        ConfigError: a bad argument, a recipe without exact spec equivalent (see
            ``allow_inexact``), or the extra is not installed.
    """
    require_bioimageio()
    if preprocessing not in PREPROCESSING:
        raise ConfigError(f"preprocessing={preprocessing}; use one of {list(PREPROCESSING)}")
    from seglight.io import read_image
    from seglight.normalization import Normalizer
    from seglight.predict.network import load_module

    module = load_module(ckpt_path)
    net = module.net.eval()
    hp = {k: to_plain(v) for k, v in module.hparams.items()}
    recipe = list(hp.get("normalization") or [])
    exact = preprocessing == "none" or check_travels(recipe, allow_inexact) == "exact"
    threshold = float(hp.get("threshold", 0.5))
    window = net.valid_input_shape(window_zyx or hp.get("patch_zyx") or (16, 64, 64))
    rules = size_rule(net)
    traced, general = trace_probability(net, window, rules)
    if not general:
        log.warning("%s: the traced network does not run at other sizes; the package "
                    "declares the one input size %s", type(net).__name__, list(window))

    image = read_image(test_image or default_test_image(ckpt_path), channel)
    spacing = hp.get("spacing_um") or list(image.spacing_um)
    crop = _crop(np.asarray(image.data), window).astype(np.float32)
    with torch.no_grad():
        trained = traced(torch.from_numpy(Normalizer(recipe)(crop))[None, None]).numpy()
        if preprocessing == "auto":
            packaged = torch.from_numpy(package_normalize(crop, recipe))[None, None]
            computed = traced(packaged).numpy().astype(np.float32)
        else:  # the package takes normalized images: its test input is one
            crop, computed = Normalizer(recipe)(crop), trained.astype(np.float32)
    agreement = dice(computed > threshold, trained > threshold)
    # The test output is the checkpoint's own, so that `bioimageio test` checks that the
    # package reproduces it; an inexact package is tested against what it computes.
    expected = trained.astype(np.float32) if exact else computed
    if not exact:
        log.warning("%s: normalization %s exported as an approximation: on the test crop, "
                    "the package's mask agrees with the checkpoint's at Dice %.4f", out,
                    describe(recipe), agreement)
    net_cfg = hp.get("net") or {}
    net_name = str(net_cfg.get("_target_", type(net).__name__)).rsplit(".", 1)[-1]
    meta = {
        "name": name or f"seglight {net_name} {Path(ckpt_path).stem}",
        "description": description or (
            "3D segmentation of an intracellular structure in fluorescence microscopy: "
            f"a {net_name} trained with seglight, returning the foreground probability."),
        "ckpt": Path(ckpt_path).name,
        "net": ", ".join(f"{k}={v}" for k, v in net_cfg.items() if k != "_target_"),
        "spacing": [float(s) if s else None for s in spacing],
        "sizes": ([f"{r.min} + n*{r.step}" for r in rules] if general
                  else [int(w) for w in window]),
        "offset": [r.offset for r in rules] if general else
                  [o - w for o, w in zip(expected.shape[2:], window, strict=True)],
        "threshold": threshold,
        "recipe": recipe,
        "recipe_text": describe(recipe),
        "preprocessing": preprocessing == "auto" and bool(recipe),
        "agreement": agreement,
        "exact": exact,
    }
    out = Path(out)
    with tempfile.TemporaryDirectory(prefix="seglight-bioimageio-") as tmp:
        root = Path(tmp)
        torch.jit.save(traced, str(root / "weights.pt"))
        write_onnx(traced, torch.from_numpy(crop)[None, None], root / "weights.onnx",
                   input_name=INPUT_ID, output_name=OUTPUT_ID, output_rank=5,
                   dynamic_zyx=general)
        np.save(root / "test_input.npy", crop[None, None])
        np.save(root / "test_output.npy", expected)
        _cover(root / "cover.png", crop, expected[0, 0], threshold)
        (root / "README.md").write_text(_readme(meta), encoding="utf-8")
        try:
            descr = _describe(
                root, meta, window, rules if general else None, recipe, preprocessing,
                authors=authors, license=license, cite=cite, tags=tags, hp=hp,
                net_name=net_name,
            )
        except ValidationError as err:  # a field the spec refuses (name, license, ...)
            first = err.errors()[0]
            field = ".".join(str(p) for p in first["loc"]) or "description"
            raise ConfigError(f"the bioimage.io spec refuses {field}: "
                              f"{first['msg'].splitlines()[0]}") from None
        _save(descr, out)
    return out


def _describe(root: Path, meta: dict, window: Sequence[int], rules: Sequence[AxisRule] | None,
              recipe: list, preprocessing: str, *, authors, license, cite, tags, hp, net_name):
    from bioimageio.spec import ValidationContext
    from bioimageio.spec.model import v0_5

    unit = "micrometer" if all(meta["spacing"]) else None
    # A dyadic voxel size (k / 2**20 µm, within 1e-6 µm): the spec checks an output size as
    # ``input size * scale / scale + offset`` in floats, exact only for such values.
    scales = [round(float(s) * 2**20) / 2**20 if unit else 1.0 for s in meta["spacing"]]
    ids = [v0_5.AxisId(a) for a in "zyx"]
    in_axes: list = [v0_5.BatchAxis(),
                     v0_5.ChannelAxis(channel_names=[v0_5.Identifier("structure")])]
    out_axes: list = [v0_5.BatchAxis(),
                      v0_5.ChannelAxis(channel_names=[v0_5.Identifier("foreground")])]
    for axis, axis_id in enumerate(ids):
        if rules is None:
            in_size: Any = int(window[axis])
            out_size: Any = int(window[axis]) + meta["offset"][axis]
        else:
            in_size = v0_5.ParameterizedSize(min=rules[axis].min, step=rules[axis].step)
            out_size = v0_5.SizeReference(tensor_id=v0_5.TensorId(INPUT_ID), axis_id=axis_id,
                                          offset=rules[axis].offset)
        in_axes.append(v0_5.SpaceInputAxis(id=axis_id, size=in_size, unit=unit,
                                           scale=scales[axis]))
        out_axes.append(v0_5.SpaceOutputAxis(id=axis_id, size=out_size, unit=unit,
                                             scale=scales[axis]))
    prep = spec_preprocessing(recipe) if preprocessing == "auto" else []
    citations = [dict(c) for c in (cite or [])]
    if net_name == "UNetXY" and not any(c.get("doi") == SEGMENTER_CITATION["doi"]
                                        for c in citations):
        citations.append(SEGMENTER_CITATION)
    version = torch.__version__.split("+")[0]
    with ValidationContext(root=root, perform_io_checks=True):
        return v0_5.ModelDescr(
            name=meta["name"],
            description=meta["description"],
            authors=[v0_5.Author(name=a) for a in (authors or [getpass.getuser()])],
            cite=[v0_5.CiteEntry(**c) for c in citations],
            license=license,
            tags=sorted({"3d", "fluorescence-light-microscopy", "semantic-segmentation",
                         "pytorch", "seglight", *tags}),
            documentation=v0_5.FileDescr(source=root / "README.md"),
            covers=[v0_5.FileDescr(source=root / "cover.png")],
            inputs=[v0_5.InputTensorDescr(
                id=v0_5.TensorId(INPUT_ID),
                description=f"raw 3D image; normalization: {meta['recipe_text']}"[:128],
                axes=in_axes,
                test_tensor=v0_5.FileDescr(source=root / "test_input.npy"),
                data=v0_5.IntervalOrRatioDataDescr(type="float32"),
                preprocessing=prep,
            )],
            outputs=[v0_5.OutputTensorDescr(
                id=v0_5.TensorId(OUTPUT_ID),
                description=f"foreground probability; mask = probability > {meta['threshold']}",
                axes=out_axes,
                test_tensor=v0_5.FileDescr(source=root / "test_output.npy"),
                data=v0_5.IntervalOrRatioDataDescr(type="float32", range=(0.0, 1.0)),
            )],
            weights=v0_5.WeightsDescr(
                torchscript=v0_5.TorchscriptWeightsDescr(
                    source=root / "weights.pt", pytorch_version=v0_5.Version(version)),
                onnx=v0_5.OnnxWeightsDescr(source=root / "weights.onnx", opset_version=ONNX_OPSET,
                                           parent="torchscript"),
            ),
            config=v0_5.Config(
                bioimageio=v0_5.BioimageioConfig(
                    architecture_type=net_name,
                    architecture_description=meta["net"][:1000] or None,
                    training=v0_5.TrainingDetails(training_preprocessing=meta["recipe_text"]),
                ),
                seglight={
                    "threshold": meta["threshold"],
                    "normalization": json.loads(json.dumps(recipe)),
                    "patch_zyx": hp.get("patch_zyx"),
                    "spacing_um": meta["spacing"],
                    "net": hp.get("net"),
                    "preprocessing": preprocessing,
                    "exact_preprocessing": meta["exact"],
                    "agreement_dice": round(meta["agreement"], 6),
                },
            ),
        )


def _save(descr: Any, out: Path) -> None:
    """Write the package atomically: a zip renamed into place, or a folder swapped in."""
    from bioimageio.spec import save_bioimageio_package, save_bioimageio_package_as_folder

    from seglight.io.atomic import atomic_path

    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".zip":
        with atomic_path(out, suffix=".zip") as tmp:
            save_bioimageio_package(descr, output_path=Path(tmp))
        return
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        save_bioimageio_package_as_folder(descr, output_path=staging)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
