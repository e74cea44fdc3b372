"""The jobs behind the ``neuralab`` command, one module per group of sub-commands."""
