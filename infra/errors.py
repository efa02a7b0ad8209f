"""The errors the CLI turns into one readable line and an exit code."""

from __future__ import annotations


class InfraError(Exception):
    """A problem the user can fix; the CLI prints it as one line, no traceback."""

    exit_code = 1


class ConfigError(InfraError):
    """Bad configuration: names the file, the key path and the reason."""

    exit_code = 2

    def __init__(self, source: str, key: str, reason: str) -> None:
        self.source = source
        self.key = key
        self.reason = reason
        where = f"{source}: {key}: " if key else f"{source}: "
        super().__init__(f"{where}{reason}")


class TemplateLimitError(InfraError):
    """A rendered stack is over a CloudFormation service limit."""

    exit_code = 1


class UsageError(InfraError):
    """A command asked for something that does not exist (a stack, an environment choice)."""

    exit_code = 2


class DeclarationError(InfraError):
    """The app's declaration (its app.py) is inconsistent: names what, and how to fix it."""

    exit_code = 2
