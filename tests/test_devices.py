"""Devices as torch has them on a machine without a GPU: nl.device, torch.cuda, torch.backends,
torch.accelerator, and the clear error for every device that is not the CPU."""

import pickle

import numpy as np
import pytest
import torch

import neuralab as nl

CPU_ONLY = r"device 'cuda(:\d)?' is not available: neuralab runs on the CPU only; use 'cpu'"


@pytest.mark.parametrize(
    "args",
    [("cpu",), ("cpu:0",), ("cpu", 0), ("cuda",), ("cuda:1",), ("cuda", 2), ("mps",), ("meta",)],
)
def test_device_parses_like_torch(args):
    ours, ref = nl.device(*args), torch.device(*args)
    assert (ours.type, ours.index) == (ref.type, ref.index)
    assert (str(ours), repr(ours)) == (str(ref), repr(ref))


def test_device_equality_hash_and_copies():
    assert nl.device(nl.device("cuda:1")) == nl.device("cuda", 1)
    assert nl.device(type="cpu", index=0) == nl.device("cpu:0") != nl.device("cpu")
    assert (nl.device("cpu") == "cpu") is (torch.device("cpu") == "cpu") is False
    assert hash(nl.device("cpu")) == hash(nl.device("cpu"))
    assert len({nl.device("cpu"), nl.device("cpu"), nl.device("cuda")}) == 2
    assert pickle.loads(pickle.dumps(nl.device("cuda:3"))) == nl.device("cuda:3")
    with pytest.raises(AttributeError, match="read-only"):
        nl.device("cpu").type = "cuda"


@pytest.mark.parametrize(
    "args, error, match",
    [
        (("gpu",), RuntimeError, r"expected one of cpu, cuda, mps.* got 'gpu'"),
        (("CPU",), RuntimeError, r"got 'CPU'"),
        (("cpu:x",), RuntimeError, r"invalid device string 'cpu:x'"),
        (("cpu:-1",), RuntimeError, r"invalid device string 'cpu:-1'"),
        (("cpu", -1), RuntimeError, r"index must be a non-negative int, got -1"),
        (("cuda:0", 1), RuntimeError, r"'cuda:0' names an index and index=1 was given too"),
        ((0,), RuntimeError, r"bare index \(0\) names an accelerator.*CPU only"),
        ((None,), TypeError, r"expected a device string such as 'cpu', got None"),
    ],
)
def test_bad_devices_raise_one_clear_line(args, error, match):
    with pytest.raises(error, match=match) as info:
        nl.device(*args)
    assert "\n" not in str(info.value)
    with pytest.raises((RuntimeError, TypeError)):  # torch refuses each of them too
        torch.device(*args)


@pytest.mark.parametrize("where_to", ["cpu", "cpu:0", nl.device("cpu"), nl.device("cpu", 0), None])
def test_factories_and_conversions_accept_the_cpu(where_to):
    t = nl.zeros(2, 3, device=where_to)
    assert t.device == nl.device("cpu") and t.device.type == "cpu"
    assert t.to(where_to) is t and t.to(device=where_to) is t
    assert nl.tensor([1.0], device=where_to).device.type == "cpu"
    assert nl.Tensor([1.0], device=where_to).shape == (1,)


REFUSERS = {
    "zeros": lambda d: nl.zeros(2, device=d),
    "ones": lambda d: nl.ones((2,), device=d),
    "empty": lambda d: nl.empty(2, device=d),
    "full": lambda d: nl.full((2,), 1.0, device=d),
    "eye": lambda d: nl.eye(2, device=d),
    "arange": lambda d: nl.arange(3, device=d),
    "linspace": lambda d: nl.linspace(0, 1, 3, device=d),
    "logspace": lambda d: nl.logspace(0, 1, 3, device=d),
    "rand": lambda d: nl.rand(2, device=d),
    "randn": lambda d: nl.randn(2, device=d),
    "randint": lambda d: nl.randint(3, (2,), device=d),
    "zeros_like": lambda d: nl.zeros_like(nl.ones(2), device=d),
    "ones_like": lambda d: nl.ones_like(nl.ones(2), device=d),
    "empty_like": lambda d: nl.empty_like(nl.ones(2), device=d),
    "full_like": lambda d: nl.full_like(nl.ones(2), 3.0, device=d),
    "rand_like": lambda d: nl.rand_like(nl.ones(2), device=d),
    "randn_like": lambda d: nl.randn_like(nl.ones(2), device=d),
    "randint_like": lambda d: nl.randint_like(nl.ones(2), 5, device=d),
    "tensor": lambda d: nl.tensor([1.0], device=d),
    "as_tensor": lambda d: nl.as_tensor([1.0], device=d),
    "Tensor": lambda d: nl.Tensor([1.0], device=d),
    "FloatTensor": lambda d: nl.FloatTensor(2, device=d),
    "to()": lambda d: nl.ones(2).to(d),
    "new_zeros": lambda d: nl.ones(2).new_zeros(2, device=d),
    "new_tensor": lambda d: nl.ones(2).new_tensor([1], device=d),
    "set_default_device": lambda d: nl.set_default_device(d),
}


@pytest.mark.parametrize("where", sorted(REFUSERS))
@pytest.mark.parametrize("where_to", ["cuda", "cuda:0", nl.device("cuda", 1), "mps", "meta"])
def test_other_devices_are_refused_naming_the_device(where, where_to):
    with pytest.raises(RuntimeError) as info:
        REFUSERS[where](where_to)
    text = str(info.value)
    assert text.startswith(f"{where}: device '{where_to}' is not available")
    assert "neuralab runs on the CPU only; use 'cpu'" in text and "\n" not in text


def test_cuda_and_device_index_methods_are_refused():
    x = nl.ones(2)
    for call in (
        x.cuda,
        lambda: x.cuda(0),
        lambda: x.to(0),
        lambda: x.type("torch.cuda.FloatTensor"),
    ):
        with pytest.raises(RuntimeError, match=CPU_ONLY + "|bare index"):
            call()
    with pytest.raises(RuntimeError, match=CPU_ONLY):
        with nl.device("cuda"):
            pass
    with nl.device("cpu") as d:
        assert d.type == "cpu"


def test_cpu_only_tensor_facts_match_torch():
    ours, ref = nl.ones(2), torch.ones(2)
    assert ours.cpu() is ours and ours.pin_memory() is ours
    for name in ("is_cuda", "is_cpu", "is_meta", "is_sparse", "is_quantized", "is_mps"):
        assert getattr(ours, name) == getattr(ref, name), name
    assert ours.is_pinned() is ref.is_pinned() is False
    assert ours.get_device() == ref.get_device() == -1
    assert ours.layout is nl.strided
    assert repr(nl.get_default_device()) == repr(torch.get_default_device())
    nl.set_default_device("cpu")
    nl.set_default_device(None)


def test_cuda_module_behaves_as_torch_without_cuda():
    assert nl.cuda.is_available() is torch.cuda.is_available() is False
    assert nl.cuda.device_count() == torch.cuda.device_count() == 0
    assert nl.cuda.is_initialized() is False and nl.cuda.is_bf16_supported() is False
    for quiet in (nl.cuda.manual_seed, nl.cuda.manual_seed_all):
        assert quiet(0) is None
    assert nl.cuda.seed() is None and nl.cuda.seed_all() is None
    assert nl.cuda.empty_cache() is None and nl.cuda.reset_peak_memory_stats() is None
    assert nl.cuda.memory_allocated() == nl.cuda.max_memory_allocated() == 0
    assert nl.cuda.memory_reserved() == nl.cuda.max_memory_reserved() == 0
    needs_gpu = [
        nl.cuda.synchronize, nl.cuda.current_device, nl.cuda.get_device_name,
        nl.cuda.get_device_properties, nl.cuda.get_device_capability,
        lambda: nl.cuda.set_device(0),
    ]  # fmt: skip
    for call in needs_gpu:
        with pytest.raises(RuntimeError, match=r"^cuda\.\w+\(\): " + CPU_ONLY):
            call()
    for call in (torch.cuda.synchronize, torch.cuda.current_device, torch.cuda.get_device_name):
        with pytest.raises((AssertionError, RuntimeError)):  # torch refuses them here too
            call()


def test_backend_flags_are_settable_and_report_no_gpu(monkeypatch):
    import neuralab.backends.cudnn as cudnn

    flags = [(cudnn, "benchmark"), (cudnn, "deterministic"), (cudnn, "enabled")]
    flags += [(nl.backends.cuda.matmul, "allow_tf32"), (nl.backends.cudnn, "allow_tf32")]
    for owner, name in flags:
        monkeypatch.setattr(owner, name, not getattr(owner, name))
    assert nl.backends.cudnn.benchmark is True and nl.backends.cuda.matmul.allow_tf32 is True
    assert (nl.backends.cudnn.enabled, cudnn.deterministic) == (False, True)
    assert nl.backends.cudnn.is_available() is False and nl.backends.cudnn.version() is None
    assert nl.backends.mps.is_available() is nl.backends.mps.is_built() is False
    assert nl.backends.cuda.is_built() is False
    assert nl.backends.mkldnn.is_available() is False and nl.backends.mkldnn.enabled is True
    assert nl.backends.mkl.is_available() is False and nl.backends.openmp.is_available() is False


def test_accelerator_reports_none():
    assert nl.accelerator.is_available() is torch.accelerator.is_available() is False
    assert nl.accelerator.current_accelerator() is torch.accelerator.current_accelerator() is None
    assert nl.accelerator.device_count() == torch.accelerator.device_count() == 0
    for call in (nl.accelerator.current_device_index, nl.accelerator.synchronize):
        with pytest.raises(RuntimeError, match="CPU only"):
            call()


def test_determinism_and_matmul_precision_switches_round_trip():
    nl.use_deterministic_algorithms(True, warn_only=True)
    assert nl.are_deterministic_algorithms_enabled() is True
    nl.use_deterministic_algorithms(False)
    assert nl.are_deterministic_algorithms_enabled() is False
    assert nl.get_float32_matmul_precision() == torch.get_float32_matmul_precision() == "highest"
    nl.set_float32_matmul_precision("high")
    assert nl.get_float32_matmul_precision() == "high"
    nl.set_float32_matmul_precision("highest")


def test_a_device_picked_as_torch_programs_do_is_the_cpu():
    where_to = nl.device("cuda" if nl.cuda.is_available() else "cpu")
    x = nl.randn(4, 3, device=where_to)
    y = x.to(where_to, non_blocking=True)
    assert y is x and np.array_equal(y.numpy(), x.numpy())
