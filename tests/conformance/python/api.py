"""The `counter` resource of the `api` interface.

componentize-py looks up the class of an exported resource in a top-level
module named after its interface, hence this module's name.
"""

from wit_world.exports import api


class Counter(api.Counter):
    def __init__(self, start: int) -> None:
        self.current = start

    def add(self, by: int) -> int:
        self.current += by
        return self.current

    def value(self) -> int:
        return self.current

    def fork(self) -> "Counter":
        return Counter(self.current)
