"""BioImage Model Zoo (bioimage.io) model packages, the reading side: predict with a package.

- :mod:`~seglight.bioimageio.binarizer`: :class:`PackageBinarizer`, any local 3D package as a
  :class:`~seglight.binarizer.Binarizer` for the predict runner and ``seglight.binarize``
  (``model_package=``).

Writing a package is an export format: :mod:`seglight.export.package`
(``python -m seglight.export format=bioimageio``).

They need the optional ``bioimageio`` extra (``pip install 'seglight[bioimageio]'``):
``bioimageio.core`` 0.11 / ``bioimageio.spec`` 0.5 and ``onnx``/``onnxruntime``. Nothing is
downloaded: packages are local files or folders. See ``docs/bioimageio.md``.
"""

from __future__ import annotations

from seglight.errors import ConfigError

INSTALL_HINT = "pip install 'seglight[bioimageio]'"


def require_bioimageio() -> None:
    """Import ``bioimageio.core`` or fail in one line saying what to install.

    Raises:
        ConfigError: ``bioimageio.core`` is not installed.
    """
    try:
        import bioimageio.core  # noqa: F401
    except ImportError:
        raise ConfigError(
            f"bioimage.io packages need bioimageio.core and bioimageio.spec: {INSTALL_HINT}"
        ) from None
