"""Fine-tuning: start a training run from another network's weights (``init_from=``).

``python -m seglight.train init_from=<checkpoint or bioimage.io package> data.path=DIR`` trains
a fresh run (new optimizer, new schedule, step 0) whose network starts from the given weights:

- the **network** is the source's (its ``net`` config), unless the command line chooses one
  (``model=...`` or ``model.net.<key>=...``); every tensor whose name and shape match is
  copied, the others keep their fresh initialisation and are listed (another number of classes
  or input channels re-initialises the first or last layer, not the rest);
- the **normalization** recipe is the source's, unless the command line sets
  ``data.normalization`` (or ``data/normalization=``): a network sees its inputs as it was
  trained to see them; where the data config's recipe differs, one line says which is used;
- the **voxel size**: where the new images' voxel size differs from the source's, one line
  says so (the network sees structures at another scale: resample, or expect to need more
  steps);
- ``freeze=encoder`` keeps the encoder's weights fixed (the network says which modules are its
  encoder: :meth:`seglight.networks.SegmentationNetwork.encoder_modules`);
- ``init.reinit=decoder`` keeps a fresh initialisation for everything outside the encoder
  (decoder and heads), so only the encoder is warm-started;
- ``init.shrink=λ init.perturb=p`` ("shrink and perturb", Ash & Adams, NeurIPS 2020, "On
  Warm-Starting Neural Network Training"): every loaded parameter becomes ``λ·w + p·w₀``,
  ``w₀`` the value a fresh initialisation of the network gave it (noise of the scale of a
  fresh network's own); a network warm-started this way generalises like one trained anew
  rather than staying near the source's solution;
- the new checkpoint records its **parent** (path, kind, SHA-256, step) in its
  hyperparameters (``parent``).

A source is a checkpoint of ``python -m seglight.train`` or a bioimage.io package exported by
seglight (a ``.zip`` or folder whose ``rdf.yaml`` has a ``config.seglight`` block: its network
config, recipe and voxel size; the weights are the TorchScript file's).
"""

from __future__ import annotations

import hashlib
import logging
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig, OmegaConf, open_dict

from seglight.errors import ConfigError, SeglightError

log = logging.getLogger("seglight.train")

FREEZE_CHOICES = ("encoder",)
REINIT_CHOICES = ("decoder",)


@dataclass
class InitSource:
    """The weights and recorded choices of the network a run starts from."""

    path: Path
    kind: str  # "checkpoint" or "bioimageio"
    state_dict: dict[str, torch.Tensor]  # keys as the network's own (no "net." prefix)
    net: dict | None
    normalization: list | None
    spacing_um: list | None
    global_step: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def parent(self) -> dict[str, Any]:
        """What the new checkpoint records of this source (plain data)."""
        digest = hashlib.sha256(self.path.read_bytes()).hexdigest() if self.path.is_file() \
            else None
        return {"path": str(self.path.resolve()), "kind": self.kind, "sha256": digest,
                "global_step": self.global_step,
                "spacing_um": [float(v) for v in self.spacing_um] if self.spacing_um else None}


def read_source(path: str | Path) -> InitSource:
    """Read a checkpoint or a seglight-exported bioimage.io package.

    Raises:
        ConfigError: no such file, or neither a checkpoint nor a seglight package.
    """
    path = Path(str(path))
    if not path.exists():
        raise ConfigError(f"init_from={path}: no such checkpoint or package; pass the path of "
                          "a .ckpt from python -m seglight.train or of an exported package")
    if path.is_dir() or zipfile.is_zipfile(path):
        if (path / "rdf.yaml").is_file() or _zip_has_rdf(path):
            return _read_package(path)
        if path.is_dir():
            raise ConfigError(f"init_from={path}: a folder without rdf.yaml; pass a checkpoint "
                              "(.ckpt) or a bioimage.io package exported by seglight")
    from seglight.io.checkpoint import load_checkpoint

    try:
        state = load_checkpoint(path)
    except SeglightError:
        raise
    except Exception as err:  # noqa: BLE001  (torch raises many kinds on a non-checkpoint)
        raise ConfigError(f"init_from={path}: not a checkpoint ({type(err).__name__}); pass a "
                          ".ckpt from python -m seglight.train or an exported package") from None
    if not isinstance(state, dict) or "state_dict" not in state:
        raise ConfigError(f"init_from={path}: not a seglight checkpoint (no state_dict)")
    hp = state.get("hyper_parameters") or {}
    weights = {k.removeprefix("net."): v for k, v in state["state_dict"].items()
               if k.startswith("net.")}
    return InitSource(path, "checkpoint", weights, hp.get("net"), hp.get("normalization"),
                      hp.get("spacing_um"), state.get("global_step"))


def _zip_has_rdf(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as z:
        return "rdf.yaml" in z.namelist()


def _read_package(path: Path) -> InitSource:
    import io

    import yaml

    if path.is_dir():
        rdf = yaml.safe_load((path / "rdf.yaml").read_text())
        weights_name = ((rdf.get("weights") or {}).get("torchscript") or {}).get("source")
        data = (path / weights_name).read_bytes() if weights_name else None
    else:
        with zipfile.ZipFile(path) as z:
            rdf = yaml.safe_load(z.read("rdf.yaml"))
            weights_name = ((rdf.get("weights") or {}).get("torchscript") or {}).get("source")
            data = z.read(weights_name) if weights_name in z.namelist() else None
    config = (rdf.get("config") or {}).get("seglight")
    if not config or not config.get("net") or data is None:
        raise ConfigError(f"init_from={path}: a bioimage.io package not exported by seglight "
                          "(no config.seglight.net or no TorchScript weights); fine-tuning "
                          "needs the network's seglight config")
    scripted = torch.jit.load(io.BytesIO(data), map_location="cpu")
    # The package wraps the network (ProbabilityModule / TraceableUNetXY hold it as .net).
    weights = {k.removeprefix("net."): v.detach().clone()
               for k, v in scripted.state_dict().items()}
    return InitSource(path, "bioimageio", weights, config["net"], config.get("normalization"),
                      config.get("spacing_um"))


def _command_line_keys() -> list[str]:
    """The keys the user set on the command line (empty outside a Hydra app)."""
    try:
        from hydra.core.hydra_config import HydraConfig

        overrides = HydraConfig.get().overrides.task
    except ValueError:
        return []
    return [str(o).split("=", 1)[0].lstrip("+~") for o in overrides]


def adopt_source(cfg: DictConfig, source: InitSource) -> None:
    """Give ``cfg`` the source's network and recipe where the command line did not choose."""
    keys = _command_line_keys()
    chose_net = any(k == "model" or k.startswith("model.net") for k in keys)
    chose_recipe = any(k.startswith(("data.normalization", "data/normalization")) for k in keys)
    with open_dict(cfg):
        if source.net and not chose_net:
            cfg.model.net = OmegaConf.create(source.net)
        if source.normalization is not None and not chose_recipe:
            current = OmegaConf.to_container(cfg.data.normalization, resolve=True)
            if current != source.normalization:
                log.warning("init_from: keeping the source's normalization %s (the data "
                            "config's is %s; set data.normalization to change it)",
                            source.normalization, current)
            cfg.data.normalization = OmegaConf.create(source.normalization)


def warn_spacing(source_spacing: list[float] | None, data_spacing: list[float] | None) -> None:
    """One line where the new images' voxel size differs from the source network's."""
    from seglight.io.image import far_axes

    if not source_spacing or not data_spacing or not all(source_spacing):
        return
    if far_axes(list(data_spacing), list(source_spacing)):
        log.warning("init_from: the new images' voxel size is %s um, the source network was "
                    "trained at %s um: it sees structures at another scale (resample the "
                    "images, or expect to need more steps)",
                    [round(float(v), 4) for v in data_spacing],
                    [round(float(v), 4) for v in source_spacing])


@dataclass(frozen=True)
class LoadReport:
    """Which tensors a network took from the source."""

    loaded: list[str]
    reinitialised: list[str]  # in the network, absent from the source or of another shape
    unused: list[str]  # in the source, absent from the network

    def line(self, source: InitSource) -> str:
        text = (f"init_from={source.path}: loaded {len(self.loaded)} of "
                f"{len(self.loaded) + len(self.reinitialised)} tensors")
        if self.reinitialised:
            text += f"; re-initialised: {', '.join(self.reinitialised)}"
        if self.unused:
            text += f"; not used: {', '.join(self.unused)}"
        return text


def load_matching(net: torch.nn.Module, source: InitSource,
                  keep_fresh: frozenset[str] = frozenset()) -> LoadReport:
    """Copy every source tensor whose name and shape match into ``net`` (except the names in
    ``keep_fresh``, which keep their fresh initialisation: :func:`fresh_names`).

    Raises:
        ConfigError: nothing matched (another architecture altogether).
    """
    own = net.state_dict()
    loaded, reinit = [], []
    for name, tensor in own.items():
        theirs = source.state_dict.get(name) if name not in keep_fresh else None
        if theirs is not None and tuple(theirs.shape) == tuple(tensor.shape):
            own[name] = theirs.to(dtype=tensor.dtype)
            loaded.append(name)
        else:
            why = ("kept fresh" if name in keep_fresh else "absent" if theirs is None
                   else f"{list(theirs.shape)} -> {list(tensor.shape)}")
            reinit.append(f"{name} ({why})")
    if not loaded:
        raise ConfigError(f"init_from={source.path}: none of its tensors fits this network "
                          "(another architecture); drop model= to keep the source's network")
    net.load_state_dict(own)
    unused = sorted(set(source.state_dict) - set(own))
    return LoadReport(loaded, reinit, unused)


def freeze(net, what: str | None) -> int:
    """Keep the named part's weights fixed; returns how many parameters were frozen.

    Raises:
        ConfigError: an unknown part, or a network that does not name its encoder.
    """
    if not what:
        return 0
    if what not in FREEZE_CHOICES:
        raise ConfigError(f"freeze={what}: unknown; use one of {list(FREEZE_CHOICES)} or null")
    n = 0
    for module in net.encoder_modules():
        for param in module.parameters():
            param.requires_grad_(False)
            n += param.numel()
    return n


def fresh_names(net, reinit: str | None) -> frozenset[str]:
    """The state-dict names ``init.reinit`` keeps freshly initialised (``decoder``: all
    outside :meth:`~seglight.networks.SegmentationNetwork.encoder_modules`, heads included).

    Raises:
        ConfigError: an unknown part, or a network that does not name its encoder.
    """
    if not reinit:
        return frozenset()
    if reinit not in REINIT_CHOICES:
        raise ConfigError(f"init.reinit={reinit}: unknown; use one of {list(REINIT_CHOICES)} "
                          "or null")
    try:
        modules = net.encoder_modules()
    except ConfigError:
        raise ConfigError(f"init.reinit={reinit}: {type(net).__name__} does not say which "
                          "modules are its encoder (encoder_modules); use init.reinit=null"
                          ) from None
    encoder = {id(t) for m in modules for t in (*m.parameters(), *m.buffers())}
    tensors = {**dict(net.named_parameters()), **dict(net.named_buffers())}
    return frozenset(name for name, t in tensors.items() if id(t) not in encoder)


def check_shrink_perturb(shrink: float, perturb: float) -> None:
    """Raises ConfigError unless 0 < shrink <= 1 and perturb >= 0."""
    if not 0 < float(shrink) <= 1:
        raise ConfigError(f"init.shrink={shrink}: use a factor in (0, 1] (1: the weights as "
                          "loaded; Ash & Adams use 0.3-0.6)")
    if float(perturb) < 0:
        raise ConfigError(f"init.perturb={perturb}: use a scale >= 0 (0: no noise; Ash & "
                          "Adams use about 0.01)")


@torch.no_grad()
def shrink_perturb(net: torch.nn.Module, fresh: dict[str, torch.Tensor], names: list[str],
                   shrink: float, perturb: float) -> int:
    """Ash & Adams' shrink and perturb: each parameter in ``names`` (the loaded ones) becomes
    ``shrink * w + perturb * fresh[name]``, ``fresh`` a fresh initialisation of the same
    network. Buffers (running statistics) are left as loaded. Returns how many parameters
    (elements) changed."""
    check_shrink_perturb(shrink, perturb)
    if shrink == 1 and perturb == 0:
        return 0
    wanted, n = set(names), 0
    for name, param in net.named_parameters():
        if name in wanted and param.is_floating_point():
            param.mul_(shrink).add_(fresh[name].to(param.dtype), alpha=perturb)
            n += param.numel()
    return n
