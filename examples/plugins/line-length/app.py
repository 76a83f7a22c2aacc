"""A check for the example linter, in Python: lines longer than the
linter's `max-length` setting (100 characters by default) are warnings.

A `max-length` that is not a number raises `ValueError`, which crashes the
call: the host shows the Python exception first.
"""

from wit_world import WitWorld as World
from wit_world.imports import env
from wit_world.imports.types import Diagnostic, Severity


class WitWorld(World):
    def lint(self, source: str) -> list[Diagnostic]:
        setting = env.config("max-length")
        longest = int(setting) if setting is not None else 100
        found = []
        for number, line in enumerate(source.splitlines(), start=1):
            if len(line) > longest:
                found.append(
                    Diagnostic(
                        line=number,
                        severity=Severity.WARNING,
                        message=f"{len(line)} characters, more than {longest}",
                    )
                )
        return found
