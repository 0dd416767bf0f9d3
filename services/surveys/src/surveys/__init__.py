"""The surveys service: Study evaluation surveys and ratings. (started by the foundation; its own issue fills it)."""
