"""The repository's layout rules that a newcomer relies on, checked on the source itself."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from tests.helpers.cli_utils import REPO


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in a Python file, relative imports resolved by name only."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in {"import_module", "importorskip"} and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.append((node.lineno, node.args[0].value))
    return found


@pytest.mark.parametrize("folder", ["seglight", "scripts"])
def test_no_import_from_tests(folder):
    """Package code and benchmarks never reach into the test suite (a user's wheel has none)."""
    offenders = [
        f"{path.relative_to(REPO)}:{line}: {module}"
        for path in sorted((REPO / folder).rglob("*.py"))
        for line, module in _imported_modules(path)
        if module == "tests" or module.startswith("tests.")
    ]
    assert not offenders, "imports from tests/:\n" + "\n".join(offenders)


def test_import_finder_sees_every_form(tmp_path):
    source = tmp_path / "m.py"
    source.write_text(
        "import tests.helpers\nfrom tests.helpers import oracle\n"
        "import importlib\nimportlib.import_module('tests.x')\nfrom . import y\n"
    )
    assert [m for _, m in _imported_modules(source)] == [
        "tests.helpers", "tests.helpers", "importlib", "tests.x"]


def test_shell_scripts_do_not_import_tests():
    """The inline Python of scripts/*.sh follows the same rule."""
    offenders = [str(p.relative_to(REPO)) for p in sorted((REPO / "scripts").glob("*.sh"))
                 if "from tests" in p.read_text() or "import tests" in p.read_text()]
    assert not offenders


_CITED_FILE = re.compile(r"``([\w.-]+(?:/[\w.-]+)+\.(?:md|py|yaml|sh|toml))``")


def _docstrings(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    nodes = [tree, *(n for n in ast.walk(tree)
                     if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef))]
    return [doc for node in nodes if (doc := ast.get_docstring(node))]


def test_docstrings_cite_only_files_of_the_repository():
    """A user's clone has the repository only: every file a docstring names must be in it
    (a run folder's own files, ``.hydra/...``, are not the repository's)."""
    missing = sorted({
        f"{path.relative_to(REPO)}: {cited}"
        for path in (REPO / "seglight").rglob("*.py")
        for doc in _docstrings(path)
        for cited in _CITED_FILE.findall(doc)
        if not cited.startswith(".")
        and not (REPO / cited).exists() and not (REPO / "seglight" / cited).exists()
    })
    assert not missing, "docstrings cite files that are not in the repository:\n" + "\n".join(
        missing)
