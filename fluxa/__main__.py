"""`python -m fluxa …` is the `fluxa` command."""

from fluxa.cli import main

main()
