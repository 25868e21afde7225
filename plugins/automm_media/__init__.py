"""automm_media plugin (work in progress)."""
