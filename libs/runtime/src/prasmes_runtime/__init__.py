"""The shared runtime of every Prasmes service. One way to do each thing, used by all."""
