"""The split and class names every feature cache and dataset layout uses (no torch here)."""

SPLITS = ("train", "val", "test")
CLASSES = ("real", "fake")
