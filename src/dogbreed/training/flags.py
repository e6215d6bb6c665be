"""Flag spellings SageMaker users expect: `--learning-rate` or `--learning_rate`, and `--flag true|false`."""

from __future__ import annotations

import argparse

TRUE_WORDS = frozenset({"true", "1", "yes", "y", "on"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "off"})


def str_to_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def spellings(name: str) -> list[str]:
    """`--learning-rate` and the underscore spelling SageMaker hyperparameters come in, `--learning_rate`."""
    names = [f"--{name}"]
    if "-" in name:
        names.append(f"--{name.replace('-', '_')}")
    return names


def add_flag(parser: argparse.ArgumentParser | argparse._ArgumentGroup, name: str, **kwargs) -> None:
    parser.add_argument(*spellings(name), **kwargs)


def add_switch(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, name: str, default: bool, help: str
) -> None:
    """`--name`, `--name true|false` and `--no-name` (hidden from the help, which mentions it)."""
    dest = name.replace("-", "_")
    parser.add_argument(
        *spellings(name),
        dest=dest,
        nargs="?",
        const=True,
        default=default,
        type=str_to_bool,
        metavar="BOOL",
        help=f"{help} (default: {default})",
    )
    parser.add_argument(*spellings(f"no-{name}"), dest=dest, action="store_false", help=argparse.SUPPRESS)
