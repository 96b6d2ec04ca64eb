"""centrasync: keeps Centra and warehouse systems in step, exactly once."""

__version__ = "0.1.0"

__all__ = ["__version__"]
