"""The plugin's logic, free of wasm bindings so that plain Python can test it."""


def greet(name: str) -> str:
    """The greeting for `name`; ValueError when there is nobody to greet."""
    if not name.strip():
        raise ValueError("expected a name, got an empty string")
    return f"Hello, {name}!"
