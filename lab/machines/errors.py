"""The machines half's own failures (a missing package, an image that cannot be built); a
command that fails raises lab.run.CommandError instead."""


class MachineError(Exception):
    """A lab machine operation failed; the message is one line for the user."""
