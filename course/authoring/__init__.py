"""Authoring: the module notebooks built from their narratives (notebooks/src) and the case pack, and the checks
that the stored notebooks match both."""
