"""The split names every feature cache and dataset layout uses (no torch here)."""

SPLITS = ("train", "val", "test")
