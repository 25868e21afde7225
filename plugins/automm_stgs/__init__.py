"""automm_stgs plugin (work in progress)."""
