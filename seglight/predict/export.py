"""Moved: the command is ``python -m seglight.export`` (same arguments), the code
:mod:`seglight.export`. This name stays importable and runnable."""

import sys

from seglight.export.files import FORMATS, export_checkpoint, load_metadata

__all__ = ["FORMATS", "export_checkpoint", "load_metadata"]

if __name__ == "__main__":
    print("python -m seglight.predict.export moved to python -m seglight.export (same "
          "arguments); running that", file=sys.stderr, flush=True)
    from seglight.export.__main__ import main

    main()
