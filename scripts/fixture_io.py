"""Writing fixtures, shared by the export_*.py scripts: every file is written to a temporary
name in its folder and renamed into place, so a fixture is never left half-written; every
exporter takes `--root DIR`, the fixtures folder it writes its files under (default
tests/fixtures; scripts/check-portability.sh and the live test write elsewhere)."""

import argparse
import os
import tempfile
from pathlib import Path

from safetensors.torch import save

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures"


def argument_parser(doc: str) -> argparse.ArgumentParser:
    """A parser described by the first line of `doc`, with the `--root` option."""
    parser = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    parser.add_argument("--root", type=Path, default=FIXTURES,
                        help="the fixtures folder to write into (default: tests/fixtures)")
    return parser


def write_atomically(path, data: bytes) -> None:
    """Writes `data` to `path` (mode 0644) through a temporary file in the same folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def save_tensors(tensors: dict, path) -> None:
    """Saves `tensors` as a safetensors file at `path`, atomically, keys in sorted order.
    The bytes are those of safetensors.torch.save_file."""
    write_atomically(path, save(dict(sorted(tensors.items()))))
