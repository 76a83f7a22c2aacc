"""Greets its input, using the `greeting` config value when it is set.

The Python counterpart of `tests/plugins/hello`, built with componentize-py
against the default `plugin` world of `wit/plugin.wit`.
"""

from componentize_py_types import Err
from wit_world import WitWorld as Plugin
from wit_world.imports import host


class WitWorld(Plugin):
    def run(self, input: str) -> str:
        if not input:
            raise Err("input is empty")
        host.log(host.Level.INFO, f"greeting {input}")
        greeting = host.config("greeting")
        if greeting is None:
            greeting = "Hello"
        return f"{greeting}, {input}!"
