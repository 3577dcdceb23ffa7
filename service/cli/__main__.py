"""``python -m service.cli``: the same as the ``srs`` console script."""

from service.cli import main

main()
