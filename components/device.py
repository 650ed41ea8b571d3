"""Device choice for training code: one place decides CUDA or CPU."""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import torch

# torch is imported where a device is chosen, not here: the config modules import DeviceRequest, and
# the command line reads them before it refuses a bad input (torch's import alone takes 2 s)
DeviceRequest = Literal["auto", "cpu", "cuda"]


def select_device(requested: DeviceRequest, cuda_devices: int, index: int | None = None) -> torch.device:
    """The torch device for a job.

    requested: "auto" (CUDA when any device exists, else CPU), "cpu" or "cuda".
    cuda_devices: how many CUDA devices this process can use (injected so it is testable).
    index: the device index assigned by the `gpu` slot, if any.
    """
    import torch

    if requested not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {requested!r}")
    if requested == "cpu" or (requested == "auto" and cuda_devices == 0):
        return torch.device("cpu")
    if cuda_devices == 0:
        raise RuntimeError("device 'cuda' requested but no CUDA device is available")
    index = 0 if index is None else index
    if not 0 <= index < cuda_devices:
        raise ValueError(f"CUDA device index {index} outside 0..{cuda_devices - 1}")
    return torch.device("cuda", index)


def cuda_device_count() -> int:
    """Number of usable CUDA devices (0 on CPU-only machines and CPU builds)."""
    import torch

    return torch.cuda.device_count() if torch.cuda.is_available() else 0
