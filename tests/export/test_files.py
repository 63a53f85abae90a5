"""TorchScript and ONNX export (seglight.export.files)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from seglight.errors import ConfigError
from seglight.export import export_checkpoint, load_metadata
from seglight.predict.network import NetworkBinarizer


@pytest.mark.slow
def test_torchscript_export_computes_the_probability_with_its_metadata(tiny_ckpt, tmp_path):
    path = export_checkpoint(tiny_ckpt, tmp_path / "net.pt", window_zyx=[8, 32, 32])
    meta = load_metadata(path)
    assert meta["threshold"] == 0.5 and meta["normalization"][0]["op"] == "clipped_zscore"
    assert meta["window_zyx"] == [8, 32, 32] and meta["dynamic_zyx"]
    scripted = torch.jit.load(str(path))
    binarizer = NetworkBinarizer.from_checkpoint(tiny_ckpt, precision="32",
                                                 window_zyx=[8, 32, 32])
    x = torch.rand(1, 1, 8, 32, 32)
    with torch.no_grad():
        expected = torch.softmax(binarizer.net.predict_logits(x), 1)[:, 1]
        torch.testing.assert_close(scripted(x), expected, atol=1e-5, rtol=1e-4)


@pytest.mark.slow
def test_onnx_export_carries_metadata_and_computes_the_probability(tiny_ckpt, tmp_path):
    pytest.importorskip("onnx")
    path = export_checkpoint(tiny_ckpt, tmp_path / "net.onnx", format="onnx")
    assert load_metadata(path)["output_zyx"] == [8, 32, 32]
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = torch.rand(1, 1, 8, 32, 32)
    binarizer = NetworkBinarizer.from_checkpoint(tiny_ckpt, precision="32",
                                                 window_zyx=[8, 32, 32])
    with torch.no_grad():
        expected = torch.softmax(binarizer.net.predict_logits(x), 1)[:, 1].numpy()
    (out,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
    np.testing.assert_allclose(out, expected, atol=1e-4, rtol=1e-3)
    with pytest.raises(ConfigError, match="format"):
        export_checkpoint(tiny_ckpt, tmp_path / "net.x", format="keras")


@pytest.mark.slow
def test_one_torchscript_file_serves_every_valid_size(tiny_ckpt, tmp_path):
    path = export_checkpoint(tiny_ckpt, tmp_path / "net.pt", window_zyx=[8, 32, 32])
    scripted = torch.jit.load(str(path))
    binarizer = NetworkBinarizer.from_checkpoint(tiny_ckpt, precision="32")
    x = torch.rand(2, 1, 5, 48, 40)
    with torch.no_grad():
        expected = torch.softmax(binarizer.net.predict_logits(x), 1)[:, 1]
        torch.testing.assert_close(scripted(x), expected, atol=1e-5, rtol=1e-4)


def test_package_arguments_are_refused_for_the_plain_formats(tmp_path):
    with pytest.raises(ConfigError, match="only with format=bioimageio"):
        export_checkpoint(tmp_path / "x.ckpt", tmp_path / "net.pt", license="MIT")
