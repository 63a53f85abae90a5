"""Fine-tuning (``init_from=``): exactly the matching weights load, the rest is listed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from seglight.errors import ConfigError
from seglight.networks import UNetXY
from seglight.training.init_from import (
    InitSource,
    freeze,
    fresh_names,
    load_matching,
    read_source,
    shrink_perturb,
)

OLD_CKPT = Path(__file__).parents[1] / "fixtures" / "unet_xy_tiny_w2_before_training_move.ckpt"


def _source(net: torch.nn.Module, **kw) -> InitSource:
    return InitSource(Path("src.ckpt"), "checkpoint", net.state_dict(), None, None, None, **kw)


def test_only_tensors_of_the_same_name_and_shape_load_and_the_others_are_listed():
    torch.manual_seed(0)
    src = UNetXY(width=2, n_classes=2, padded=True, norm="instance")
    torch.manual_seed(1)
    dst = UNetXY(width=2, n_classes=3, padded=True, norm="instance")
    fresh = {k: v.clone() for k, v in dst.state_dict().items()}
    report = load_matching(dst, _source(src))
    changed = {"head.weight", "head.bias", "aux.0.weight", "aux.0.bias", "aux.1.weight",
               "aux.1.bias"}
    assert {r.split(" ")[0] for r in report.reinitialised} == changed
    assert "head.weight ([2, 4, 1, 1, 1] -> [3, 4, 1, 1, 1])" in report.reinitialised
    for name, tensor in dst.state_dict().items():
        expected = fresh[name] if name in changed else src.state_dict()[name]
        assert torch.equal(tensor, expected), name
    assert len(report.loaded) == len(fresh) - len(changed) and not report.unused


def test_another_architecture_altogether_is_one_line():
    src = torch.nn.Linear(3, 2)
    with pytest.raises(ConfigError, match="none of its tensors fits"):
        load_matching(UNetXY(width=2), _source(src))


def test_a_checkpoint_source_gives_its_network_recipe_and_a_parent_record():
    source = read_source(OLD_CKPT)
    state = torch.load(OLD_CKPT, weights_only=True, map_location="cpu")
    assert source.kind == "checkpoint" and source.global_step == 2
    assert source.net["width"] == 2 and source.normalization[0]["op"] == "auto_contrast"
    assert set(source.state_dict) == {k[4:] for k in state["state_dict"] if k.startswith("net.")}
    parent = source.parent()
    assert parent["path"] == str(OLD_CKPT.resolve()) and len(parent["sha256"]) == 64


def test_a_missing_or_foreign_source_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="no such checkpoint"):
        read_source(tmp_path / "nope.ckpt")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ConfigError, match="not a checkpoint"):
        read_source(tmp_path / "notes.txt")


def test_freeze_encoder_fixes_the_contracting_path_only():
    net = UNetXY(width=2)
    n = freeze(net, "encoder")
    assert n == sum(p.numel() for m in (net.enc, net.bottleneck) for p in m.parameters())
    assert not any(p.requires_grad for p in net.enc.parameters())
    assert all(p.requires_grad for p in net.dec.parameters())
    with pytest.raises(ConfigError, match="freeze=decoder: unknown"):
        freeze(UNetXY(width=2), "decoder")


def test_shrink_and_perturb_scales_the_loaded_weights_and_adds_the_fresh_init():
    torch.manual_seed(0)
    src = UNetXY(width=2, n_classes=2, padded=True, norm="instance")
    torch.manual_seed(1)
    dst = UNetXY(width=2, n_classes=3, padded=True, norm="instance")  # other heads
    fresh = {k: v.detach().clone() for k, v in dst.named_parameters()}
    report = load_matching(dst, _source(src))
    n = shrink_perturb(dst, fresh, report.loaded, 0.4, 0.1)
    theirs = src.state_dict()
    for name, param in dst.named_parameters():
        if name in report.loaded:
            expected = 0.4 * theirs[name] + 0.1 * fresh[name]
            assert torch.allclose(param, expected, atol=1e-7), name
        else:  # a re-initialised head keeps its fresh values, not shrunk
            assert torch.equal(param, fresh[name]), name
    assert n == sum(p.numel() for k, p in dst.named_parameters() if k in report.loaded)
    assert shrink_perturb(dst, fresh, report.loaded, 1.0, 0.0) == 0  # as loaded: untouched
    with pytest.raises(ConfigError, match=r"init.shrink=0: use a factor in \(0, 1\]"):
        shrink_perturb(dst, fresh, report.loaded, 0, 0.01)
    with pytest.raises(ConfigError, match="init.perturb=-1"):
        shrink_perturb(dst, fresh, report.loaded, 0.5, -1)


def test_reinit_decoder_keeps_everything_outside_the_encoder_fresh():
    torch.manual_seed(0)
    src = UNetXY(width=2, padded=True, norm="instance")
    torch.manual_seed(1)
    dst = UNetXY(width=2, padded=True, norm="instance")
    before = {k: v.clone() for k, v in dst.state_dict().items()}
    keep = fresh_names(dst, "decoder")
    report = load_matching(dst, _source(src), keep)
    assert keep and all(not k.startswith(("enc.", "bottleneck.")) for k in keep)
    assert {"head.weight", "dec.0.0.weight", "up.0.weight"} <= keep
    for name, tensor in dst.state_dict().items():
        expected = before[name] if name in keep else src.state_dict()[name]
        assert torch.equal(tensor, expected), name
    assert f"{sorted(keep)[0]} (kept fresh)" in report.reinitialised
    assert fresh_names(dst, None) == frozenset()
    with pytest.raises(ConfigError, match="init.reinit=encoder: unknown"):
        fresh_names(dst, "encoder")


def test_init_options_need_a_source_and_default_to_nothing(tmp_path):
    from omegaconf import OmegaConf

    from seglight.training.fit import _init_options

    plain = OmegaConf.create({"init": {"shrink": 1.0, "perturb": 0.0, "reinit": None}})
    assert _init_options(plain, None) == {}
    shrunk = OmegaConf.create({"init": {"shrink": 0.4, "perturb": 0.01, "reinit": None}})
    with pytest.raises(ConfigError, match="need init_from="):
        _init_options(shrunk, None)
    source = read_source(OLD_CKPT)
    assert _init_options(shrunk, source) == {"shrink": 0.4, "perturb": 0.01, "reinit": None}


@pytest.mark.slow
def test_shrunk_frozen_encoder_is_exactly_the_shrunk_source_and_recorded(tmp_path):
    from omegaconf import open_dict

    from seglight.io.checkpoint import load_checkpoint
    from seglight.training import fit
    from tests.helpers.hydra_utils import compose_config

    cfg = compose_config("train", ["data.demo.n_images=2", "data.demo.shape_zyx=[16,64,64]",
                                   "data.patch_zyx=[16,64,64]", "data.num_workers=0",
                                   "+trainer.max_steps=1", "+trainer.limit_val_batches=1",
                                   "logger=csv", f"init_from='{OLD_CKPT}'", "freeze=encoder",
                                   "init.shrink=0.5"], tmp_path)
    with open_dict(cfg):
        cfg.data.path = str(tmp_path / "demo")
    new = load_checkpoint(fit(cfg).last_checkpoint)
    old = load_checkpoint(OLD_CKPT)["state_dict"]
    assert new["hyper_parameters"]["parent"]["shrink"] == 0.5
    frozen = [n for n in new["state_dict"] if n.startswith(("net.enc.", "net.bottleneck."))
              and "running" not in n]
    assert frozen
    for name in frozen:
        assert torch.allclose(new["state_dict"][name], 0.5 * old[name]), name


@pytest.mark.slow
def test_fine_tuning_keeps_the_sources_network_records_its_parent_and_freezes(tmp_path):
    from omegaconf import open_dict

    from seglight.io.checkpoint import load_checkpoint
    from seglight.training import fit
    from tests.helpers.hydra_utils import compose_config

    cfg = compose_config("train", ["data.demo.n_images=2", "data.demo.shape_zyx=[16,64,64]",
                                   "data.patch_zyx=[16,64,64]", "data.num_workers=0",
                                   "+trainer.max_steps=2", "+trainer.limit_val_batches=1",
                                   "logger=csv", f"init_from='{OLD_CKPT}'", "freeze=encoder"],
                         tmp_path)
    with open_dict(cfg):
        cfg.data.path = str(tmp_path / "demo")
    result = fit(cfg)
    new = load_checkpoint(result.last_checkpoint)
    old = load_checkpoint(OLD_CKPT)
    assert new["global_step"] == 2  # a fresh run, not a resume of the source's 2 steps
    hp = new["hyper_parameters"]
    assert hp["net"]["width"] == 2  # the source's network, not unet_xy_tiny's width 8
    assert hp["parent"]["path"] == str(OLD_CKPT.resolve())
    for name, tensor in new["state_dict"].items():
        if name.startswith(("net.enc.", "net.bottleneck.")) and "running" not in name:
            assert torch.equal(tensor, old["state_dict"][name]), name
    dec = [n for n in new["state_dict"] if n.startswith("net.dec.") and n.endswith("weight")]
    assert any(not torch.equal(new["state_dict"][n], old["state_dict"][n]) for n in dec)


@pytest.mark.slow
def test_a_seglight_bioimageio_package_is_a_source_with_the_checkpoints_weights(tmp_path):
    pytest.importorskip("bioimageio.spec")
    from seglight.export.package import export_package
    from seglight.io import write_ome_tiff

    image = np.random.default_rng(0).integers(300, 3000, (16, 64, 64)).astype(np.uint16)
    write_ome_tiff(tmp_path / "im.ome.tif", image, (0.29, 0.108, 0.108))
    package = tmp_path / "pkg.zip"
    # its recipe (auto_contrast, the former default) travels only approximately
    export_package(OLD_CKPT, package, test_image=tmp_path / "im.ome.tif", allow_inexact=True)
    source = read_source(package)
    checkpoint = read_source(OLD_CKPT)
    assert source.kind == "bioimageio" and source.net == checkpoint.net
    assert source.normalization == checkpoint.normalization
    shared = set(source.state_dict) & set(checkpoint.state_dict)
    assert {k for k in checkpoint.state_dict if not k.startswith("aux.")} <= shared
    for name in shared:
        assert torch.equal(source.state_dict[name], checkpoint.state_dict[name]), name
