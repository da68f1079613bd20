"""Thin command-line entry points. Each subcommand module exposes ``main(argv) -> int``."""
