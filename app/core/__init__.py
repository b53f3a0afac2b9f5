"""Plain-Python core of Hearth: no Qt, no llama_cpp."""
