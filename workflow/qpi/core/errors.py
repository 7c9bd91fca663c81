"""The one error a user's input raises: every layer may raise it, every script's log prints it as one sentence."""


class StackError(ValueError):
    """A problem with a user's input file; the message names the file, the problem and the fix."""
