"""The run directory's life cycle: its layout and checking a new one (:mod:`~automm.run.layout`),
binding a space to a cache (:mod:`~automm.run.binding`), starting and resuming a search with
every check (:mod:`~automm.run.search`)."""
