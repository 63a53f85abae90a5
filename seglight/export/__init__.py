"""Export a trained network for use outside seglight: ``python -m seglight.export``.

- :mod:`~seglight.export.files`: a checkpoint as a TorchScript or ONNX file with its
  metadata (:func:`export_checkpoint`, :func:`load_metadata`), and the one ONNX writer every
  format uses;
- :mod:`~seglight.export.network`: the network as the traceable ``(B, 1, Z, Y, X)`` ->
  foreground-probability module, and its valid sizes in the bioimage.io spec's terms;
- :mod:`~seglight.export.preprocessing`: normalization recipes as the spec's preprocessing
  operations, and which recipes travel exactly;
- :mod:`~seglight.export.package`: :func:`export_package`, a checkpoint as a bioimage.io
  model package (0.5.x);
- :mod:`~seglight.export.__main__`: the command (``conf/export.yaml``).

Reading a package (``model_package=``) is :mod:`seglight.bioimageio`. See docs/export.md.
"""

from seglight.export.files import FORMATS, export_checkpoint, load_metadata

__all__ = ["FORMATS", "export_checkpoint", "load_metadata"]
