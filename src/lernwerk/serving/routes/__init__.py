"""One router per resource: health, datasets, models, runs (with jobs and events)."""
