"""The statistics service: the platform dashboard projected from the public events. The package is not
called `statistics`, which is a standard-library module."""
