"""The class names of the caches ``automm extract`` writes: a dataset layout labels a real video 0
and a fake 1 (:class:`~automm.data.MediaSample`); the detector's output is P(fake), the
probability of the last class."""

CLASSES = ("real", "fake")
FAKE = CLASSES.index("fake")
