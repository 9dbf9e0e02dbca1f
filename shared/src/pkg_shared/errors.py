"""Errors that mean bad input from the user: the CLI prints them as one line and exits 2."""


class UserError(Exception):
    """Bad input (a wrong option, a missing file, malformed data): shown as one line, exit code 2."""
