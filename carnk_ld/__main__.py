"""The ``carnk-ld`` entry point (``python -m carnk_ld``): stop signals are handled before the heavy imports.

Importing the command line takes a noticeable time (pyoxigraph, rdflib, click); a Ctrl-C
then must end the command as it does later, with one line and exit 130, not a traceback.
"""

from carnk_ld import stopping


def run() -> None:
    """Install the stop-signal handlers, then import and run the command line."""
    stopping.install()
    try:
        from carnk_ld.cli import main

        main()
    finally:
        stopping.ignore()


if __name__ == "__main__":
    run()
