"""The jobs behind the ``neuralab`` command, one module per group of sub-commands."""

import argparse


class DefaultsHelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` shows each option's default, except where there is none to show (None, a
    flag's False) or the help already says what it is."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        none = (
            action.default is None or action.default is False or action.default == argparse.SUPPRESS
        )
        if none or "default" in text:
            return text
        return super()._get_help_string(action)
