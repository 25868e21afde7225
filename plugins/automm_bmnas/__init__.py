"""automm_bmnas plugin (work in progress)."""
