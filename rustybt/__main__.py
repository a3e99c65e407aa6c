"""``python -m rustybt``: the same as the ``rustybt`` command."""

from rustybt.cli import main

if __name__ == "__main__":
    main()
