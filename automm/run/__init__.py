"""The run directory's life cycle: its layout, checking a new one, binding a space to a cache."""
