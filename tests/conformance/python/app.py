"""The conformance world in Python, built with componentize-py.

Each function follows the doc comment of its declaration in
`tests/conformance/wit/conformance.wit`.
"""

from typing import List, Optional, Tuple

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import events
from wit_world.imports.types import (
    Color,
    ParseError_Empty,
    ParseError_Invalid,
    ParseError_TooLarge,
    Permissions,
    Person,
    Point,
    Scalars,
    Shape,
    Shape_Circle,
    Shape_Rectangle,
)

from api import Counter

S32_MIN = -(2**31)
S32_MAX = 2**31 - 1
# Code points U+D800..U+DFFF are surrogates, not Unicode scalar values.
SURROGATES = range(0xD800, 0xE000)


class Api(exports.Api):
    def reverse_string(self, s: str) -> str:
        # A Python str is a sequence of code points, and strings from the
        # component model never hold surrogates.
        return s[::-1]

    def reverse_bytes(self, data: bytes) -> bytes:
        return data[::-1]

    def split_words(self, s: str) -> List[str]:
        return s.split(" ")

    def sum(self, values: List[int]) -> int:
        return sum(values)

    def min_max(self, values: List[int]) -> Optional[Tuple[int, int]]:
        if not values:
            return None
        return (min(values), max(values))

    def translate(self, p: Point, dx: int, dy: int) -> Point:
        return Point(x=p.x + dx, y=p.y + dy)

    def bump(self, s: Scalars) -> Scalars:
        letter = ord(s.letter) + 1
        if letter in SURROGATES:
            letter = SURROGATES.stop
        return Scalars(
            flag=not s.flag,
            tiny=s.tiny + 1,
            small=s.small + 1,
            medium=s.medium + 1,
            large=s.large + 1,
            single=s.single * 2,
            double=s.double * 2,
            letter=chr(letter),
        )

    def describe(self, p: Person) -> str:
        text = f"{p.name} ({p.age})"
        if p.nicknames:
            text += " aka " + ", ".join(p.nicknames)
        if p.email is not None:
            text += f" <{p.email}>"
        return text

    def birthday(self, p: Person, nickname: str) -> Person:
        return Person(
            name=p.name,
            age=p.age + 1,
            nicknames=p.nicknames + [nickname],
            email=p.email,
        )

    def area(self, s: Shape) -> int:
        if isinstance(s, Shape_Circle):
            return 3 * s.value * s.value
        if isinstance(s, Shape_Rectangle):
            return abs(s.value.x * s.value.y)
        return 0

    def next_color(self, c: Color) -> Color:
        return {
            Color.RED: Color.GREEN,
            Color.GREEN: Color.BLUE,
            Color.BLUE: Color.RED,
        }[c]

    def flip(self, p: Permissions, toggle: Permissions) -> Permissions:
        return p ^ toggle

    def first_even(self, values: List[int]) -> Optional[int]:
        return next((v for v in values if v % 2 == 0), None)

    def parse_number(self, s: str) -> int:
        if s == "":
            raise Err(ParseError_Empty())
        digits = s[1:] if s.startswith("-") else s
        # str.isdigit() also accepts non-ASCII digits such as "²" or "٣".
        if not digits or not (digits.isascii() and digits.isdigit()):
            raise Err(ParseError_Invalid(s))
        value = int(s)
        if not S32_MIN <= value <= S32_MAX:
            raise Err(ParseError_TooLarge())
        return value

    def record_all(self, points: List[Point]) -> int:
        count = 0
        for index, point in enumerate(points):
            count = events.record_event(f"p{index}", point)
        return count

    def lookup_all(self, keys: List[str]) -> List[str]:
        answers = []
        for key in keys:
            value = events.lookup(key)
            answers.append(f"{key}?" if value is None else f"{key}={value}")
        return answers

    def merge(self, a: Counter, b: Counter) -> Counter:
        return Counter(a.value() + b.value())
