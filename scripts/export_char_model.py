"""Exports the character-model fixtures: a tiny model trained by PyTorch
(scripts/pytorch/char_model.py) on the first 20 000 characters of data/shakespeare.txt, for
tests/char_model_pytorch.rs to check across machines that Rust reads PyTorch's checkpoints,
computes PyTorch's logits, and trains to PyTorch's parameters.

Output, under tests/fixtures/char_model/ (or --root DIR/char_model), written atomically:
- tiny.txt: the text;
- one_step/, three_steps/: the checkpoint folders after 1 and 3 steps (LSTM 2 x 16, embedding
  8, windows 16 x 4, seed 0, one thread), in tch-rnn's layout;
- logits.safetensors: "logits" of three_steps for the input PROBE, from a zero state.
Run with the Python that scripts/setup.sh installed: .venv/bin/python scripts/export_char_model.py
"""

import contextlib
import sys
import tempfile
from pathlib import Path

import torch
from safetensors.torch import save

from fixture_io import argument_parser, write_atomically

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts" / "pytorch"))
import char_model  # noqa: E402

TINY = dict(cell="lstm", layers=2, hidden=16, embedding=8, seq_len=16, batch=4, seed=0, eval_every=3, dropout=0.0,
            lr=2e-3, clip=5.0, threads=1, optimizer="adam", weight_decay=None, beta1=0.9, beta2=0.999, eps=1e-8,
            momentum=0.0, dampening=0.0, nesterov="false", lr_schedule="none", lr_gamma=0.5, lr_step_size=2,
            lr_t_max=None, lr_eta_min=0.0, lr_patience=2, patience=None, val_text=None, batching="random")
PROBE = "ROMEO:\nBut, soft! what light"
TEXT_CHARS = 20_000


def export(root: Path) -> str:
    out = root / "char_model"
    text = (ROOT / "data" / "shakespeare.txt").read_text(encoding="ascii")[:TEXT_CHARS]
    write_atomically(out / "tiny.txt", text.encode())
    for name, steps in [("one_step", 1), ("three_steps", 3)]:
        # Trained from the fixture folder, so that config.json names the text "tiny.txt" on any machine.
        with tempfile.TemporaryDirectory() as run, contextlib.chdir(out):
            # char_model's own parser gives every option its default; TINY sets the rest.
            args = char_model.command_line().parse_args(["train", "--text", "tiny.txt", "--out", run])
            vars(args).update(steps=steps, **TINY)
            char_model.train(args)
            for file in sorted((Path(run) / "latest").iterdir()):
                write_atomically(out / name / file.name, file.read_bytes())
    torch.set_num_threads(1)
    config, vocab, model = char_model.load_checkpoint(out / "three_steps")
    index = {c: i for i, c in enumerate(vocab)}
    with torch.no_grad():
        logits, _ = model(torch.tensor([[index[c] for c in PROBE]]))
    write_atomically(out / "logits.safetensors", save({"logits": logits.contiguous()}))
    return f"checkpoints after 1 and 3 steps, logits of {len(PROBE)} characters"


def main() -> None:
    root = argument_parser(__doc__).parse_args().root
    print(f"export_char_model: {export(root)} in {root / 'char_model'}")


if __name__ == "__main__":
    main()
