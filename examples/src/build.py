"""Build the notebooks in ``examples/`` from their percent-format sources here.

Each ``examples/src/<name>.py`` holds one notebook: ``# %% [markdown]`` starts a
markdown cell (its lines prefixed with ``# ``), ``# %%`` a code cell. The notebooks are
written with no outputs, as the repository stores them::

    python examples/src/build.py                 # every notebook
    python examples/src/build.py 02_equation_solving

Edit the source, not the ``.ipynb``: ``tests/test_notebooks.py`` checks that both say
the same.
"""

import re
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent


def notebook_from_source(text: str) -> nbformat.NotebookNode:
    """The notebook that a percent-format source describes, without outputs."""
    cells = []
    for block in re.split(r"^# %%", text, flags=re.M)[1:]:
        header, _, body = block.partition("\n")
        body = body.strip("\n")
        if "[markdown]" in header:
            lines = [ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in body.splitlines()]
            cells.append(nbformat.v4.new_markdown_cell("\n".join(lines)))
        else:
            cells.append(nbformat.v4.new_code_cell(body))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3", "display_name": "Python 3", "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    return nb


def sources() -> list[Path]:
    """Every notebook source in ``examples/src``."""
    return sorted(p for p in HERE.glob("[0-9]*.py"))


def main(names: list[str]) -> None:
    for src in sources():
        if names and src.stem not in names:
            continue
        nbformat.write(notebook_from_source(src.read_text()), EXAMPLES / f"{src.stem}.ipynb")
        print("built", src.stem)


if __name__ == "__main__":
    main(sys.argv[1:])
