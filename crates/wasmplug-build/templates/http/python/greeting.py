"""The handler's logic, apart from WASI so that plain Python tests it."""


def greeting(name: str) -> str:
    return f"hello from {name}\n"
