import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

from seglight import CONF_DIR
from seglight.errors import ConfigError


def _net(name):
    cfg = OmegaConf.load(CONF_DIR / "model" / f"{name}.yaml")
    return instantiate(cfg.net)


@pytest.mark.parametrize("name,n_heads", [("basic_unet", 1), ("dynunet", 3), ("segresnet", 1)])
def test_monai_networks_keep_size_and_declare_heads(name, n_heads):
    net = _net(name)
    shape = net.valid_input_shape((8, 32, 32))
    assert net.output_shape(shape) == shape
    net.train()
    heads = net.heads(torch.rand(1, 1, *shape))
    assert len(heads) == n_heads == net.n_heads
    assert all(h.shape == (1, 2, *shape) for h in heads)
    net.eval()
    with torch.no_grad():
        assert net.predict_logits(torch.rand(1, 1, *shape)).shape == (1, 2, *shape)


def test_monai_invalid_size_is_a_config_error():
    with pytest.raises(ConfigError, match=r"divisible by 16, 16, 16.*\[16, 32, 32\]"):
        _net("basic_unet").output_shape((10, 30, 32))
