"""The bill for the default settings as docs/bill.md shows it: the block between two markers, rewritten by
`dogbreed-bill --write-doc docs/bill.md` and compared with the tool's output by tests/bill/."""

from __future__ import annotations

from pathlib import Path

START = "<!-- dogbreed-bill: the output for the default settings (dogbreed-bill --write-doc docs/bill.md) -->"
END = "<!-- end of dogbreed-bill output -->"


class DocError(ValueError):
    """The document has no block of the bill's output."""


def block_of(text: str) -> str:
    """The bill's output the document holds."""
    if START not in text or END not in text:
        raise DocError(f"no block between {START!r} and {END!r}")
    return text.split(START, 1)[1].split(END, 1)[0].strip("\n") + "\n"


def write_block(path: Path, output: str) -> None:
    """Replace the document's block with OUTPUT."""
    text = path.read_text()
    block_of(text)
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    path.write_text(f"{before}{START}\n\n{output.strip()}\n\n{END}{after}")
