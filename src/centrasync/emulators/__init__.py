"""Faithful local emulators of the external systems, shipped as a product feature."""
