"""Syrlas: an anonymous health confidant for teenagers and mothers in Kazakhstan."""
