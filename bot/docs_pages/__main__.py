"""Write the generated documentation pages: ``python -m bot.docs_pages`` (``make docs-gen``)."""

from __future__ import annotations

import sys

from bot.config.settings import PROJECT_ROOT
from bot.docs_pages import benchmarks, configuration


def main() -> int:
    """Write docs/configuration.md and docs/benchmarks-figures.md; print what changed."""
    for page, text in ((configuration.PAGE, configuration.render()), (benchmarks.PAGE, benchmarks.render())):
        path = PROJECT_ROOT / page
        changed = not path.is_file() or path.read_text(encoding="utf-8") != text
        path.write_text(text, encoding="utf-8")
        print(f"{page}: {'written' if changed else 'unchanged'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
