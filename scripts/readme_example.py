#!/usr/bin/env python3
"""Prints the first ```python block under a Markdown heading, so tests run the README's example as written.

Usage: scripts/readme_example.py FILE.md [HEADING]   (default heading: "## Python"; "" means the whole file)
Exits 1 naming the file when there is no such block.
"""

import re
import sys


def example(text: str, heading: str) -> str | None:
    """The first fenced python block after `heading` (a line of its own) and before the next heading of its level."""
    if heading:
        start = re.search(rf"^{re.escape(heading)}[ \t]*$", text, re.MULTILINE)
        if start is None:
            return None
        text = text[start.end():]
        level = heading.split(" ")[0]
        following = re.search(rf"^{re.escape(level)} ", text, re.MULTILINE)
        text = text[:following.start()] if following else text
    block = re.search(r"^```python\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    return block.group(1) if block else None


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    path, heading = sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else "## Python"
    with open(path, encoding="utf-8") as file:
        code = example(file.read(), heading)
    if code is None:
        sys.exit(f"error: {path} has no ```python block under '{heading}'")
    sys.stdout.write(code)
