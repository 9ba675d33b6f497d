"""Device choice and timing on the accelerators this machine lacks, with the device faked."""

import pytest
import torch

from harness.measure import bench as B
from harness.measure import devices as D
from harness.measure import precision as P
from harness.measure import timing as T


@pytest.fixture
def only_mps(monkeypatch):
    """A machine whose torch sees an Apple GPU and nothing else."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    if hasattr(torch, "xpu"):
        monkeypatch.setattr(torch.xpu, "is_available", lambda: False)
    monkeypatch.setattr(D.importlib.util, "find_spec", lambda name: None)  # no torch_xla, no habana


def test_auto_picks_the_accelerator_present(only_mps):
    assert D.resolve_device("auto") == torch.device("mps")
    assert D.present() == ("mps", "cpu")
    assert D.resolve_device("mps:0") == torch.device("mps:0")


@pytest.mark.parametrize("name, message", [
    ("cuda", "device 'cuda' is not available here"),
    ("xpu", "present: mps, cpu"),
    ("xla", "install torch_xla"),
    ("hpu", "install habana_frameworks"),
    ("tpu", "unknown device 'tpu'; choose one of: auto, cuda, mps, xpu, hpu, xla, cpu"),
    ("mps:one", "whole number"),
])
def test_devices_not_here_are_refused_in_one_line(only_mps, name, message):
    with pytest.raises(D.DeviceError, match=message) as err:
        D.resolve_device(name)
    assert "\n" not in str(err.value)


def test_auto_falls_back_to_the_cpu(monkeypatch):
    monkeypatch.setattr(D, "available", lambda k: k == "cpu")
    assert D.resolve_device("auto") == torch.device("cpu")


def test_without_events_every_mark_waits_for_the_device(monkeypatch):
    """On MPS (no CUDA events) a mark synchronises the device and then reads the clock."""
    waits = []
    monkeypatch.setattr(T, "synchronize", lambda device: waits.append(device.type))
    clock = iter(float(i) for i in range(100))
    monkeypatch.setattr(T.time, "perf_counter", lambda: next(clock))

    def step(mark):
        mark("start")
        mark("forward")
        mark("backward")

    s = T.time_step(step, torch.device("mps"), warmup=1, iterations=3)
    # one wait after the warm-up, then one per mark: 3 steps x 3 marks
    assert waits == ["mps"] * (1 + 3 * 3)
    # the fake clock ticks 1 s a mark: each phase lasts 1 s; a step runs from its start to the next one's
    assert s.phases == {"forward": (1.0, 1.0, 1.0), "backward": (1.0, 1.0, 1.0)}
    assert s.seconds == (3.0, 3.0, 2.0)  # the last step ends at its last mark


def test_the_cpu_reads_the_clock_without_waiting(monkeypatch):
    waits = []
    monkeypatch.setattr(T, "synchronize", lambda device: waits.append(device.type))
    T.time_step(lambda mark: (mark("start"), mark("forward")), torch.device("cpu"), warmup=0, iterations=4)
    assert waits == ["cpu"]  # the one wait before timing (a no-op on the CPU); none per mark


def test_measure_step_warms_up_outside_the_sampler():
    calls, inside = [], []

    class Sampler:
        active = False

        def __enter__(self):
            Sampler.active = True

        def __exit__(self, *exc):
            Sampler.active = False

        def summary(self):
            return {"power_watts": 300.0}

    def step(mark):
        calls.append(1)
        inside.append(Sampler.active)
        mark("start")
        mark("forward")

    samples, telemetry = T.measure_step(step, torch.device("cpu"), 2, 3, Sampler())
    assert inside == [False, False, True, True, True]
    assert len(samples.seconds) == 3 and telemetry == {"power_watts": 300.0}


def test_synchronize_calls_the_device_runtime(monkeypatch):
    seen = []
    monkeypatch.setattr(torch.mps, "synchronize", lambda: seen.append("mps"))
    D.synchronize(torch.device("mps"))
    D.synchronize(torch.device("cpu"))  # nothing to wait for
    assert seen == ["mps"]


def test_an_apple_gpu_finds_its_peak(monkeypatch):
    monkeypatch.setattr(D, "apple_chip", lambda: "Apple M1 Max")
    mps = torch.device("mps")
    peak, source = B.datasheet_peak(mps, P.get("fp32", mps))
    assert peak == pytest.approx(10.4e12)  # Apple: M1 Max 32-core GPU, 10.4 teraflops (peaks.csv)
    assert "Apple M1 Max" in source


@pytest.mark.parametrize("kind", ["mps", "xpu", "xla", "cpu"])
def test_tf32_is_refused_off_nvidia(kind):
    with pytest.raises(P.PrecisionError, match="tf32"):
        P.get("tf32", torch.device(kind))


@pytest.mark.parametrize("error, oom", [
    (RuntimeError("[enforce fail at alloc_cpu.cpp:117] DefaultCPUAllocator: can't allocate memory: "
                  "you tried to allocate 1099511627776 bytes"), True),
    (MemoryError(), True),
    (RuntimeError("MPS backend out of memory (MPS allocated: 17.00 GB)"), True),
    (RuntimeError("RESOURCE_EXHAUSTED: XLA:TPU compile permanent error"), True),
    (RuntimeError("mat1 and mat2 shapes cannot be multiplied"), False),
])
def test_allocation_failures_on_every_device_count_as_oom(error, oom):
    assert D.is_oom(error) is oom


def test_memory_floor_of_a_training_step():
    from harness.measure import memory as M

    net = torch.nn.Sequential(torch.nn.Linear(8, 4, bias=False), torch.nn.ReLU()).to("meta")
    x = torch.empty(2, 8, device="meta")
    train = M.estimate(net, (x,), "train")
    # 32 weights x (4 + 4 + 8) bytes; the Linear's and the ReLU's outputs, 2 x 4 each, x 4 bytes
    assert (train.parameters, train.activation_elements) == (32, 16)
    assert train.bytes == 32 * 16 + 16 * 4
    assert M.estimate(net, (x,), "inference").bytes == 32 * 4  # weights only: nothing kept for a backward


def test_available_memory_is_read_on_the_cpu():
    from harness.measure import memory as M

    free = M.available_bytes(torch.device("cpu"))
    assert free is not None and free > 0
    assert M.available_bytes(torch.device("mps")) is None  # unknown: the check is skipped, not guessed
