"""The extension contract, checked: every packaged network passes, broken ones fail in a line."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra

from seglight import CONF_DIR
from seglight.errors import ConfigError
from seglight.networks import SegmentationNetwork
from seglight.networks.contract import build_network, check_network
from seglight.training.checks import validate_train_config
from tests.helpers.hydra_utils import compose_config, options

REPO = Path(__file__).resolve().parents[2]
EXTEND = REPO / "docs" / "extend"


def _check_config(model: str, overrides=()):
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        return compose("check", [f"model={model}", *overrides])


@pytest.fixture
def mynet(monkeypatch):
    """The worked example of docs/extend.md, importable as a user's module."""
    monkeypatch.syspath_prepend(str(EXTEND))
    import mynet

    return mynet


# The default model in the quick tier; the others take 20-60 s of CPU each (slow tier).
@pytest.mark.parametrize("model", [m if m == "unet_xy_tiny" else
                                   pytest.param(m, marks=pytest.mark.slow)
                                   for m in options("model")])
def test_every_packaged_network_passes_the_check(model):
    cfg = _check_config(model, ["model.net.width=2"] if "width" in
                        _check_config(model).model.net else [])
    net = build_network(cfg.model.net)
    checks = check_network(net, list(cfg.model.loss.head_weights))
    assert [(c.name, c.detail) for c in checks if not c.ok] == []
    names = [c.name for c in checks]
    assert sum(n.startswith("forward+backward") for n in names) >= 1  # unpadded: one size
    assert {"invalid size refused", "predict an odd-sized image", "head weights"} <= set(names)


def test_the_worked_example_passes_and_runs_at_odd_sizes(mynet):
    checks = check_network(mynet.MyUNet(width=2), [1.0, 0.5])
    assert all(c.ok for c in checks), [(c.name, c.detail) for c in checks]
    assert checks[1].name == "forward+backward [9, 36, 36] (odd)"
    refused = next(c for c in checks if c.name == "invalid size refused")
    assert refused.detail == "[9, 1, 36] refused; nearest valid [9, 4, 36]"


def test_a_wrong_size_rule_fails_the_check_with_a_clear_line(mynet):
    class EvenOnly(mynet.MyUNet):
        """Forgets the second pooling: says even sizes are fine, needs multiples of 4."""

        def _axis_out(self, size, axis):
            return None if size < 1 or (axis > 0 and size % 2) else size

    checks = check_network(EvenOnly(width=2), [1.0, 0.5])
    failed = [c for c in checks if not c.ok]
    assert failed[0].name == "forward+backward [9, 34, 36] (odd)"
    assert failed[0].detail.startswith(
        "forward at [9, 34, 36] failed, although output_shape([9, 34, 36]) accepts it: "
        "Sizes of tensors must match")
    assert "predict an odd-sized image" in [c.name for c in failed]


def test_a_network_without_axis_out_is_named_by_the_check(mynet):
    class NoRule(mynet.MyUNet):
        _axis_out = SegmentationNetwork._axis_out

    checks = check_network(NoRule(width=2), [1.0, 0.5])
    assert checks[0].detail == "see the network's documentation" or checks[0].ok
    assert checks[0].detail.endswith("(no _axis_out: every size is valid)")
    assert not checks[1].ok and "Sizes of tensors must match" in checks[1].detail


def test_training_a_network_without_axis_out_is_one_line(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(EXTEND))
    (tmp_path / "norule.py").write_text(textwrap.dedent('''
        from mynet import MyUNet
        from seglight.networks import SegmentationNetwork

        class NoRule(MyUNet):
            _axis_out = SegmentationNetwork._axis_out
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    cfg = compose_config("train", [f"hydra.searchpath=[file://{EXTEND / 'myconf'}]",
                                   "model=mynet", "model.net._target_=norule.NoRule",
                                   "model.net.width=2", "data.patch_zyx=[8,30,30]"],
                         tmp_path / "run")
    with pytest.raises(ConfigError) as err:
        validate_train_config(cfg)
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith("model mynet (NoRule) does not define _axis_out (which input "
                              "sizes it takes), and forward at [8, 30, 30] failed")
    assert "Sizes of tensors must match" in message
    assert message.endswith("in the list; define _axis_out and size_rule (docs/extend.md) or pick "
                            "another data.patch_zyx")


def test_an_invalid_patch_names_the_nearest_valid_one(tmp_path, mynet):
    cfg = compose_config("train", [f"hydra.searchpath=[file://{EXTEND / 'myconf'}]",
                                   "model=mynet", "data.patch_zyx=[16,62,62]"], tmp_path / "run")
    with pytest.raises(ConfigError) as err:  # docs/extend.md quotes this line
        validate_train_config(cfg)
    assert str(err.value) == ("data.patch_zyx=[16, 62, 62] with model mynet: input size "
                              "[16, 62, 62] does not fit MyUNet (x and y divisible by 4); the "
                              "nearest valid size is [16, 64, 64]")


def test_an_unimportable_network_class_is_named():
    with pytest.raises(ConfigError) as err:
        build_network({"_target_": "nowhere_net.MyNet"})
    assert str(err.value) == ("network class nowhere_net.MyNet cannot be imported (No module "
                              "named 'nowhere_net'); is its folder on PYTHONPATH?")
    with pytest.raises(ConfigError, match="network class torch.nn.Identity is not a seglight"):
        build_network({"_target_": "torch.nn.Identity"})


def _check_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(EXTEND)])}
    return subprocess.run([sys.executable, "-m", "seglight.check", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_check_command_on_a_users_config_folder():
    result = _check_cli("--config-dir", "docs/extend/myconf", "model=mynet",
                        "model.net.width=2")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "mynet (MyUNet)" and lines[-1] == "9 passed, 0 failed"
    # Too few head weights for its two heads: the check fails, exit code 1.
    result = _check_cli("--config-dir", "docs/extend/myconf", "model=mynet",
                        "model.net.width=2", "model.loss.head_weights=[1.0]")
    assert result.returncode == 1
    assert ("head weights                         FAILED  loss.head_weights has 1 weight(s) "
            "for 2 head(s); give one per head, main head first") in result.stdout.splitlines()
