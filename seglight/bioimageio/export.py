"""Moved to :mod:`seglight.export.package` (writing a package lives with the other export
formats); this name stays importable."""

from seglight.export.package import default_test_image, export_package

__all__ = ["default_test_image", "export_package"]
