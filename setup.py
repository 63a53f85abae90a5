"""Ship the repository's top-level ``conf/`` inside the package as ``seglight/conf``.

Everything else about the build is in pyproject.toml; only this mapping needs code, because
``conf/`` is not under ``seglight/`` in the repository (the project's agreed layout) and
setuptools' automatic discovery cannot add a package from another folder.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["seglight", "seglight.*"]), "seglight.conf"],
    package_dir={"seglight.conf": "conf"},
)
