"""regexp(pattern, text): 1 when Python's `re.search` finds `pattern` in
`text`, else 0, and NULL when either is NULL. SQLite turns
`text REGEXP pattern` into `regexp(pattern, text)`.

Compiled patterns are kept between rows (and calls), since an instance of
the plugin lives as long as its version serves.
"""

import re
from functools import lru_cache

from componentize_py_types import Err
from wit_world import WitWorld as Base
from wit_world.imports.types import (
    Value,
    Value_Integer,
    Value_Null,
    Value_Text,
)


@lru_cache(maxsize=64)
def compiled(pattern: str) -> "re.Pattern[str]":
    try:
        return re.compile(pattern)
    except re.error as error:
        raise Err(f"bad pattern {pattern!r}: {error}")


class WitWorld(Base):
    def call(self, args: list[Value]) -> Value:
        if len(args) != 2:
            raise Err(f"regexp takes 2 arguments (pattern, text), not {len(args)}")
        pattern, text = args
        if isinstance(pattern, Value_Null) or isinstance(text, Value_Null):
            return Value_Null()
        if not isinstance(pattern, Value_Text) or not isinstance(text, Value_Text):
            raise Err("regexp takes text arguments")
        found = compiled(pattern.value).search(text.value) is not None
        return Value_Integer(1 if found else 0)
