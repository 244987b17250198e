"""Placeholder: being written (see the issue for this output)."""


def write_search(site) -> None:
    return None  # placeholder until this output is written
