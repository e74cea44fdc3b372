"""Benchmarks of neuralab against PyTorch: a paired timing harness and the engine workloads."""
