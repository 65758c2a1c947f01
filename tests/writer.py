"""A writer in a process of its own, for the concurrency tests: `python writer.py DATA INDEX add|remove|build ARG…`.

Prints one JSON line: what it reports as added / removed, or the error code."""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from fakes import FakeEmbedder  # noqa: E402

from qa.errors import QAError  # noqa: E402
from qa.index.indexer import sync  # noqa: E402
from qa.library import add_files, remove_document  # noqa: E402
from qa.settings import Settings, from_environment  # noqa: E402


def main(data: str, index: str, action: str, *args: str) -> None:
    # QA_BACKEND and QA_MILVUS_URI choose where the index lives (test_milvus_server.py)
    settings = Settings(data_dir=Path(data), index_dir=Path(index), store=from_environment().store)
    fake = FakeEmbedder()
    try:
        if action == "add":
            report = add_files(settings, [Path(a) for a in args], fake)
            out = {"added": list(report.added + report.replaced), "rejected": [n for n, _ in report.rejected]}
        elif action == "remove":
            row, _ = remove_document(settings, args[0], fake)
            out = {"removed": row.source}
        else:
            out = {"built": sync(settings, fake, force=True).built}
    except QAError as exc:
        out = {"error": exc.code}
    print(json.dumps(out, ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
