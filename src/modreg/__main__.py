"""`python -m modreg` runs the command-line interface."""

from modreg.cli import main

main()
