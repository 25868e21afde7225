"""automm_darts plugin (work in progress)."""
