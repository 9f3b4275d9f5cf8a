"""Runs scripts/pytorch/char_model.py with its model and batches on a device, as a PyTorch user
would move it to a GPU, and as `tch-rnn train --device` places its work:

    python on_device.py DEVICE CHAR_MODEL_PY train|sample|logits ARGS...

- the model is built under `with torch.device(DEVICE)`: its parameters are allocated and drawn
  there (tch-rnn allocates them on the device and draws them in place, from the same seed);
- the training windows are drawn on the CPU, as char_model.py and tch-rnn both draw them, then
  moved to the device, and the model moves its input there (for sampling);
- everything else (Adam and its step counts, checkpoints, the corpus) is char_model.py's own.

On `cpu` it is char_model.py unchanged.
"""

import sys
from pathlib import Path

import torch


def main():
    device, script, args = sys.argv[1], Path(sys.argv[2]), sys.argv[3:]
    sys.path.insert(0, str(script.parent))
    import char_model

    if device != "cpu":
        base, cpu_windows = char_model.CharModel, char_model.windows

        class OnDevice(base):
            def __init__(self, *a, **k):
                with torch.device(device):
                    super().__init__(*a, **k)

            def forward(self, x, state=None):
                return super().forward(x.to(self.fc.weight.device), state)

        def windows(data, starts, length):
            x, y = cpu_windows(data, starts, length)
            return x.to(device), y.to(device)

        char_model.CharModel, char_model.windows = OnDevice, windows
    sys.argv = [str(script)] + args
    char_model.main()
    if device != "cpu":
        torch.cuda.synchronize()
        print(f"on_device: peak memory allocated by PyTorch {torch.cuda.max_memory_allocated() / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
