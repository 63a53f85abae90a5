"""The extension contract of a seglight network, checked: what ``python -m seglight.check``
runs (docs/extend.md describes the contract itself).

:func:`build_network` instantiates a network config with one-line errors (a class that
cannot be imported, a class that is not a :class:`SegmentationNetwork`);
:func:`check_network` runs every check of the contract on a built network and returns one
:class:`Check` per line of the table the command prints.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from seglight.errors import ConfigError, SeglightError
from seglight.networks.base import SegmentationNetwork

#: Sizes the shape checks ask the network for (the smallest valid size at least these):
#: odd ones first, so a network that takes odd sizes is run at odd sizes.
PROBE_TARGETS = ((9, 33, 35), (13, 47, 41), (8, 32, 32), (16, 64, 64))
#: Sizes scanned per axis for one the network declares invalid.
INVALID_SCAN = range(1, 257)


def build_network(net_cfg: Any) -> SegmentationNetwork:
    """Instantiate a network config (``_target_`` plus arguments).

    Raises:
        ConfigError: the class cannot be imported ("network class X cannot be imported; is
            its folder on PYTHONPATH?"), or it is not a :class:`SegmentationNetwork`.
    """
    from hydra.errors import InstantiationException
    from hydra.utils import instantiate

    target = str(net_cfg.get("_target_", "?")) if hasattr(net_cfg, "get") else "?"
    try:
        net = instantiate(net_cfg)
    except InstantiationException as err:
        cause = err.__cause__
        if isinstance(cause, SeglightError):
            raise cause from None
        if isinstance(cause, ImportError) or str(err).startswith("Error locating target"):
            raise ConfigError(f"network class {target} cannot be imported "
                              f"({_import_reason(err)}); is its folder on PYTHONPATH?") from None
        raise
    if not isinstance(net, SegmentationNetwork):
        raise ConfigError(f"network class {target} is not a seglight.networks."
                          "SegmentationNetwork; subclass it (docs/extend.md)")
    return net


def _import_reason(err: BaseException) -> str:
    """The line of an import failure that says what is missing (Hydra wraps it in several)."""
    text = "\n".join(str(e) for e in (err, err.__cause__, err.__context__) if e is not None)
    found = re.search(r"No module named '[^']+'|cannot import name '[^']+'|has no attribute "
                      r"'[^']+'", text)
    return found.group(0) if found else text.strip().splitlines()[-1]


def declares_sizes(net: SegmentationNetwork) -> bool:
    """Whether the network's class says which input sizes it takes (overrides
    ``_axis_out``); the base class's default takes every size."""
    return type(net)._axis_out is not SegmentationNetwork._axis_out


def forward_shapes(net: SegmentationNetwork, shape_zyx: Sequence[int],
                   backward: bool = True) -> None:
    """Run the network at one input size as training and inference do, and compare every
    output with what it declares.

    Training mode (batch of 2, with a backward pass): ``n_heads`` heads, each
    ``(2, n_classes, *output_shape)``, finite gradients. Eval mode: ``predict_logits`` is
    ``(1, n_classes, *output_shape)``.

    Raises:
        ConfigError: one line saying what differed, or the first line of the error the
            forward pass raised.
    """
    shape = [int(s) for s in shape_zyx]
    want = list(net.output_shape(shape))
    was_training = net.training
    try:
        net.train()
        x = torch.randn(2, 1, *shape)
        try:
            heads = net.heads(x)
        except RuntimeError as err:
            raise ConfigError(f"forward at {shape} failed, although output_shape({shape}) "
                              f"accepts it: {str(err).splitlines()[0].rstrip('.')}") from None
        if len(heads) != net.n_heads:
            raise ConfigError(f"forward at {shape} returned {len(heads)} head(s); n_heads is "
                              f"{net.n_heads}")
        for i, head in enumerate(heads):
            if list(head.shape) != [2, net.n_classes, *want]:
                raise ConfigError(f"head {i} at input {shape} is {list(head.shape)[2:]}, "
                                  f"output_shape() says {want}")
        if backward:
            sum(h.float().mean() for h in heads).backward()
            grads = [p.grad for p in net.parameters() if p.grad is not None]
            if not grads or not all(torch.isfinite(g).all() for g in grads):
                raise ConfigError(f"backward at {shape}: no finite gradient reached the "
                                  "parameters")
            net.zero_grad(set_to_none=True)
        net.eval()
        with torch.no_grad():
            logits = net.predict_logits(x[:1])
        if list(logits.shape) != [1, net.n_classes, *want]:
            raise ConfigError(f"eval-mode predict_logits at {shape} is "
                              f"{list(logits.shape)[2:]}, output_shape() says {want}")
    finally:
        net.train(was_training)


def probe_patch(net: SegmentationNetwork, patch_zyx: Sequence[int], model: str) -> None:
    """Before training a network that does not declare its sizes (no ``_axis_out``): one
    forward pass at the training patch, so a size it cannot take is one line, not a raw
    ``RuntimeError`` in the middle of training.

    Raises:
        ConfigError: the forward pass failed or disagreed with ``output_shape``.
    """
    if declares_sizes(net):
        return
    try:
        forward_shapes(net, patch_zyx, backward=False)
    except ConfigError as err:
        raise ConfigError(f"model {model} ({type(net).__name__}) does not define _axis_out "
                          f"(which input sizes it takes), and {err}; define _axis_out and "
                          "size_rule (docs/extend.md) or pick another data.patch_zyx") from None


def valid_shapes(net: SegmentationNetwork) -> list[tuple[int, int, int]]:
    """Valid input sizes to check at: the smallest valid size at least each of
    :data:`PROBE_TARGETS`, without repeats."""
    return list(dict.fromkeys(net.valid_input_shape(t) for t in PROBE_TARGETS))


def find_invalid(net: SegmentationNetwork,
                 valid: Sequence[int]) -> tuple[int, int, int] | None:
    """A size the network declares invalid (one axis of ``valid`` changed), or None when
    every size of :data:`INVALID_SCAN` is valid on every axis."""
    for axis in range(3):
        for size in INVALID_SCAN:
            if net._axis_out(size, axis) is None:
                shape = list(valid)
                shape[axis] = size
                return tuple(shape)  # type: ignore[return-value]
    return None


@dataclass
class Check:
    """One line of the check table."""

    name: str
    ok: bool
    detail: str


def _run(name: str, check: Callable[[], str]) -> Check:
    try:
        return Check(name, True, check())
    except (ConfigError, RuntimeError, ValueError, TypeError, AssertionError) as err:
        return Check(name, False, str(err).splitlines()[0] if str(err) else type(err).__name__)


def check_network(net: SegmentationNetwork, head_weights: Sequence[float] | None = None,
                  shapes: Sequence[Sequence[int]] | None = None) -> list[Check]:
    """Every check of the extension contract, in order; see docs/extend.md.

    Args:
        net: the built network.
        head_weights: the model config's ``loss.head_weights`` (None: not checked).
        shapes: the valid input sizes to run at (default :func:`valid_shapes`).
    """
    checks = [Check("size rule", True, f"{net.size_rule()}"
                    + ("" if declares_sizes(net) else " (no _axis_out: every size is valid)"))]
    try:
        shapes = [tuple(int(v) for v in s) for s in shapes] if shapes else valid_shapes(net)
    except ConfigError as err:
        return [*checks, Check("valid sizes", False, str(err))]
    for shape in shapes:
        odd = " (odd)" if any(s % 2 for s in shape) else ""
        checks.append(_run(f"forward+backward {list(shape)}{odd}",
                           lambda s=shape: _shapes(net, s)))
    checks.append(_run("invalid size refused", lambda: _refusal(net, shapes[0])))
    checks.append(_run("inference_bytes_per_voxel", lambda: _bytes(net)))
    if head_weights is not None:
        checks.append(_run("head weights", lambda: _head_weights(net, head_weights)))
    checks.append(_run("predict an odd-sized image", lambda: _predict(net, shapes[0])))
    return checks


def table(model: str, net_name: str, checks: list[Check]) -> str:
    """The check table: one line per check, then a summary line."""
    width = max(len(c.name) for c in checks)
    lines = [f"{model} ({net_name})", f"{'check'.ljust(width)}  result  detail"]
    lines += [f"{c.name.ljust(width)}  {'ok' if c.ok else 'FAILED':6}  {c.detail}"
              for c in checks]
    failed = sum(not c.ok for c in checks)
    lines.append(f"{len(checks) - failed} passed, {failed} failed")
    return "\n".join(lines)


def _shapes(net: SegmentationNetwork, shape: Sequence[int]) -> str:
    forward_shapes(net, shape)
    return f"{net.n_heads} head(s) of {list(net.output_shape(shape))}, as output_shape() says"


def _refusal(net: SegmentationNetwork, valid: Sequence[int]) -> str:
    bad = find_invalid(net, valid)
    if bad is None:
        return f"every size {INVALID_SCAN.start}-{INVALID_SCAN.stop - 1} is valid on every axis"
    try:
        net.output_shape(bad)
    except ConfigError as err:
        message = str(err)
        if "\n" in message or "nearest valid size" not in message:
            raise ConfigError(f"output_shape({list(bad)}) refused with {message!r}, not the "
                              "one-line nearest-valid message") from None
        nearest = net.valid_input_shape(bad)
        net.output_shape(nearest)
        return f"{list(bad)} refused; nearest valid {list(nearest)}"
    raise ConfigError(f"output_shape({list(bad)}) accepted a size _axis_out calls invalid")


def _bytes(net: SegmentationNetwork) -> str:
    value = float(net.inference_bytes_per_voxel())
    if not (math.isfinite(value) and value > 0):
        raise ConfigError(f"inference_bytes_per_voxel() is {value}; give a positive number")
    return f"{value:.0f} B per input voxel (float32)"


def _head_weights(net: SegmentationNetwork, weights: Sequence[float]) -> str:
    if len(weights) < net.n_heads:
        raise ConfigError(f"loss.head_weights has {len(weights)} weight(s) for {net.n_heads} "
                          "head(s); give one per head, main head first")
    return f"{list(weights)[:net.n_heads]} for {net.n_heads} head(s)"


def _predict(net: SegmentationNetwork, window: Sequence[int]) -> str:
    """Predict an image of odd size, larger than one window, through the tiler."""
    from seglight.predict.network import NetworkBinarizer

    out = net.output_shape(window)
    # A window whose output is at least 8 voxels on every axis (an unpadded network's output
    # can be 1 slice thick at its smallest input), so the image takes a few windows, not many.
    window = net.valid_input_shape([w + max(0, 8 - o) for w, o in zip(window, out, strict=True)])
    out = net.output_shape(window)
    shape = tuple(o + w // 2 + d for o, w, d in zip(out, window, (3, 5, 7), strict=True))
    shape = tuple(s if s % 2 else s + 1 for s in shape)
    image = np.random.default_rng(0).normal(100, 10, shape).astype(np.float32)
    binarizer = NetworkBinarizer(net, window_zyx=list(window), precision="32")
    try:
        proba = binarizer.predict_proba(image)
    finally:
        net.train()
    if proba.shape != shape:
        raise ConfigError(f"the tiler returned {list(proba.shape)} for an image of "
                          f"{list(shape)}")
    if not (np.isfinite(proba).all() and proba.min() >= 0 and proba.max() <= 1):
        raise ConfigError("the probabilities are not all finite and in [0, 1]")
    return f"{list(shape)} image, window {list(window)}: probabilities of the same size"
