"""Runs each PyTorch twin in scripts/pytorch/ for a set of seeds and stores what it prints.

tests/tutorials.rs checks that every Rust tutorial program prints these outputs (each printed
number within one unit of its last digit, for other CPUs); the live test
(tests/live_parity.rs) runs the twins afresh through `capture` and requires the same bytes.
Output: tests/fixtures/tutorials/<program>/seed_<seed>.txt (or under --root DIR), written
atomically.
Run with the Python that scripts/setup.sh installed:
    .venv/bin/python scripts/export_tutorials.py [--root DIR] [--seeds 0,1,2] [--programs a,b]
"""

import contextlib
import io
import runpy
import sys
from pathlib import Path

from fixture_io import argument_parser, write_atomically

ROOT = Path(__file__).resolve().parent.parent
PROGRAMS = ["rnn_cell", "rnn", "rnn_batch_first", "hello_rnn_cell", "hello_rnn", "hello_embedding", "hello_lstm", "hello_gru",
            "hello_lstm_cell", "hello_gru_cell", "packed_sequences", "hello_attention", "hello_attention_packed"]
# 2, 17 and 27 are seeds where libtorch's C++ Adam would print another last digit of a loss in
# hello_rnn_cell than torch.optim.Adam: they guard the choice of tch_rnn::optim::Adam.
SEEDS = [0, 1, 2, 3, 7, 17, 27, 42]


def capture(program: str, seed: int) -> bytes:
    """What `python scripts/pytorch/<program>.py <seed>` prints, run in this process (each twin
    seeds torch itself, so no state carries over from one run to the next)."""
    script = ROOT / "scripts" / "pytorch" / f"{program}.py"
    out = io.StringIO()
    argv = sys.argv
    sys.argv = [str(script), str(seed)]
    try:
        with contextlib.redirect_stdout(out):
            runpy.run_path(str(script), run_name="__main__")
    finally:
        sys.argv = argv
    return out.getvalue().encode()


def export(root: Path, seeds: list[int], programs: list[str] = PROGRAMS) -> str:
    """Writes every program's (of `programs`) output for every seed under `root`/tutorials;
    returns a summary."""
    for program in programs:
        for seed in seeds:
            write_atomically(root / "tutorials" / program / f"seed_{seed}.txt", capture(program, seed))
    return f"{len(programs)} programs x {len(seeds)} seeds"


def main() -> None:
    parser = argument_parser(__doc__)
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)), help="comma-separated (default: %(default)s)")
    parser.add_argument("--programs", default=",".join(PROGRAMS),
                        help="comma-separated, to regenerate some only (default: all)")
    args = parser.parse_args()
    seeds = [int(s) for s in args.seeds.split(",")]
    programs = args.programs.split(",")
    unknown = sorted(set(programs) - set(PROGRAMS))
    if unknown:
        parser.error(f"unknown programs {unknown}; expected some of {PROGRAMS}")
    print(f"export_tutorials: {export(args.root, seeds, programs)} in {args.root / 'tutorials'}")


if __name__ == "__main__":
    main()
