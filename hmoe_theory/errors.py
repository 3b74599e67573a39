"""Exceptions that reach the user as one clear line (the CLI prints ``hmoe: error: <message>``)."""


class HmoeError(Exception):
    """Base class of every error meant for the user rather than a traceback."""


class ExpressionError(HmoeError, ValueError):
    """A user expression was rejected by the safe parser (never evaluated)."""


class UnknownNameError(HmoeError, KeyError):
    """A catalogue name (gate, expert, setting, claim pattern...) does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class TimeLimitExceeded(HmoeError, TimeoutError):
    """A symbolic computation did not finish within its time limit."""


class ModelError(HmoeError, ValueError):
    """A model or its parameters are ill-posed (wrong sizes, degenerate map, bad point...)."""
