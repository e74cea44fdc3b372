"""Grad modes as in torch: no_grad, enable_grad, set_grad_enabled, inference_mode, each a context
manager and a decorator (bare or called), checked against torch's own answers."""

import pytest
import torch

import neuralab as nl


def _modes(lib):
    """The grad mode seen inside each way of entering each manager, in ``lib``."""
    x = lib.ones(2, requires_grad=True)
    seen = {}

    @lib.no_grad
    def bare_no_grad():
        return (x * 2).requires_grad

    @lib.no_grad()
    def called_no_grad():
        return (x * 2).requires_grad

    @lib.inference_mode
    def bare_inference():
        return (x * 2).requires_grad

    @lib.enable_grad()
    def enabled():
        return (x * 2).requires_grad

    @lib.set_grad_enabled(False)
    def set_off():
        return (x * 2).requires_grad

    seen["decorating does not change the mode"] = lib.is_grad_enabled()
    seen["bare no_grad"] = bare_no_grad()
    seen["called no_grad"] = called_no_grad()
    seen["bare inference_mode"] = bare_inference()
    seen["set_grad_enabled(False) decorator"] = set_off()
    with lib.no_grad():
        seen["enable_grad inside no_grad"] = enabled()
        seen["no_grad block"] = lib.is_grad_enabled()
    with lib.set_grad_enabled(False):
        seen["set_grad_enabled block"] = lib.is_grad_enabled()
    seen["after the block"] = lib.is_grad_enabled()
    lib.set_grad_enabled(False)
    seen["set_grad_enabled called"] = lib.is_grad_enabled()
    lib.set_grad_enabled(True)
    with lib.inference_mode():
        seen["inference block"] = (lib.is_grad_enabled(), lib.is_inference_mode_enabled())
    with lib.inference_mode(False):
        seen["inference_mode(False)"] = (lib.is_grad_enabled(), lib.is_inference_mode_enabled())
    seen["after inference"] = (lib.is_grad_enabled(), lib.is_inference_mode_enabled())
    return seen


def test_grad_modes_behave_as_torchs():
    assert _modes(nl) == _modes(torch)


def test_modes_restore_after_an_exception():
    with pytest.raises(ValueError), nl.no_grad():
        raise ValueError
    assert nl.is_grad_enabled()
    with pytest.raises(ValueError), nl.inference_mode():
        raise ValueError
    assert nl.is_grad_enabled() and not nl.is_inference_mode_enabled()


def test_decorated_function_keeps_its_name_and_result():
    @nl.inference_mode()
    def predict(x):
        """Doubles."""
        return x * 2

    assert predict.__name__ == "predict" and predict.__doc__ == "Doubles."
    assert predict(nl.tensor([1.5])).tolist() == [3.0]
