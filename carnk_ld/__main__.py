"""Allow ``python -m carnk_ld``."""

from carnk_ld.cli import main

if __name__ == "__main__":
    main()
