"""Charts drawn with matplotlib (imported lazily, only when an image is not in the per-user cache)."""
