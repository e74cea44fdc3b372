"""Neural-network building blocks: Module, Parameter, layers, activations, losses, init."""

from neuralab.nn.module import Module, Parameter

__all__ = ["Module", "Parameter"]
