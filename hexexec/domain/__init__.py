"""The pure core: values and rules. Standard library only, no I/O, no trio."""
