import pytest
import torch

from components.device import select_device


def test_auto_picks_cpu_without_cuda_and_cuda_with_it():
    assert select_device("auto", cuda_devices=0) == torch.device("cpu")
    assert select_device("auto", cuda_devices=2, index=1) == torch.device("cuda", 1)
    assert select_device("cpu", cuda_devices=4) == torch.device("cpu")


def test_bad_requests_fail_clearly():
    with pytest.raises(RuntimeError, match="no CUDA device"):
        select_device("cuda", cuda_devices=0)
    with pytest.raises(ValueError, match="index 3"):
        select_device("cuda", cuda_devices=2, index=3)
    with pytest.raises(ValueError, match="'tpu'"):
        select_device("tpu", cuda_devices=0)  # type: ignore[arg-type]
