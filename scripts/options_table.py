"""Writes the analysis options table (phar_cli/core/options.py) into README.md between its
markers, or prints it.
    python scripts/options_table.py            # print
    python scripts/options_table.py --write    # update README.md
"""
from __future__ import annotations

import sys
from pathlib import Path

from phar_cli.core.options import markdown_table

README = Path(__file__).resolve().parents[1] / "README.md"
START, END = "<!-- options: made by scripts/options_table.py -->\n", "<!-- options end -->\n"


def with_table(text: str) -> str:
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return head + START + markdown_table() + END + tail


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        README.write_text(with_table(README.read_text(encoding="utf-8")), encoding="utf-8")
    else:
        print(markdown_table(), end="")
