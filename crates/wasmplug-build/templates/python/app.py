"""The {{name}} plugin: implements the `run` export of the world in wit/.

`wit_world` is the bindings module that componentize-py generates from that
world while it builds the component; it does not exist outside the build.
"""

from componentize_py_types import Err
from wit_world import WitWorld as World
from wit_world.imports import host

from greeting import greet


# componentize-py calls the exports of the world on a class named after the
# bindings' world class, `WitWorld`, in this module.
class WitWorld(World):
    def run(self, input: str) -> str:
        """`run: func(input: string) -> result<string, string>`: the return
        value is the `ok` value, a raised `Err(message)` the `err` one."""
        try:
            greeting = greet(input)
        except ValueError as error:
            raise Err(str(error))
        host.log(host.Level.INFO, f"greeted {input}")
        return greeting
