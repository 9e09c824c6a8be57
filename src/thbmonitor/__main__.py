"""``python -m thbmonitor``: the same as the ``thbmonitor`` command (e.g. for
``python -X importtime -m thbmonitor mse --help``)."""

from thbmonitor.cli import main

if __name__ == "__main__":
    main()
