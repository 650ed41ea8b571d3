"""The gpu slot logic, with the device count injected so it runs on CPU machines."""
import threading
import time

import torch

from tasks.gpu import device_slot


def test_no_cuda_means_cpu_and_no_slot(tmp_path):
    with device_slot("auto", devices=0, lock_dir=tmp_path) as device:
        assert device == torch.device("cpu")
    assert not any(tmp_path.iterdir())


def test_concurrent_holders_get_distinct_devices_and_a_third_waits(tmp_path):
    held, order = [], []
    release = threading.Event()

    def job(name):
        with device_slot("auto", devices=2, lock_dir=tmp_path, poll_seconds=0.05) as device:
            held.append(device)
            order.append(name)
            if name != "third":
                release.wait(10)

    first, second = threading.Thread(target=job, args=("first",)), threading.Thread(target=job, args=("second",))
    first.start(); second.start()
    deadline = time.time() + 30
    while len(held) < 2 and time.time() < deadline:
        time.sleep(0.05)
    assert sorted(d.index for d in held) == [0, 1]
    assert all(d.type == "cuda" for d in held)

    third = threading.Thread(target=job, args=("third",))
    third.start()
    time.sleep(0.5)
    assert "third" not in order  # both devices busy: it queues
    release.set()
    for t in (first, second, third):
        t.join(30)
    assert order[-1] == "third" and held[-1].index in (0, 1)
