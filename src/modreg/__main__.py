"""`python -m modreg` runs the command-line interface."""

from modreg._entry import main

main()
