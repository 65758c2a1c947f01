"""Start the Speech QA browser app on the data in data/ (same as `qa serve`)."""
import sys

from qa.app.cli import main

if __name__ == "__main__":
    sys.exit(main(["serve", *sys.argv[1:]]))
