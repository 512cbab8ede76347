"""`python -m cli …` is the `fluxa` command."""

from cli.main import main

main()
