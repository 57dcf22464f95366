"""Ports: the interfaces the core owns, as typing.Protocol classes speaking domain types only."""
