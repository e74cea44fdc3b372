"""The standard layers, one family per module; ``neuralab.nn`` re-exports them all."""
