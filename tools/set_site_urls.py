"""Point ``_quarto.yml`` at the repository that builds the site (used by publish.yml).

    python tools/set_site_urls.py SITE_URL REPO_URL [CONFIG]

Replaces ``website.site-url`` with SITE_URL (the Pages base URL that
``actions/configure-pages`` reports) and every occurrence of the current ``repo-url``
(``website.repo-url`` and the navbar's GitHub link) with REPO_URL, so a fork deploys
links to itself without editing files. Only those values change; comments stay.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

_URL = re.compile(r"^https?://[^\s'\"#]+$")


def set_site_urls(config: Path, site_url: str, repo_url: str) -> str:
    """Rewrite ``config`` in place; returns the new text."""
    for name, url in (("SITE_URL", site_url), ("REPO_URL", repo_url)):
        if not _URL.match(url):
            raise ValueError(f"{name} must be an http(s) URL without spaces or quotes, got {url!r}")
    site_url, repo_url = site_url.rstrip("/"), repo_url.rstrip("/")
    text = config.read_text(encoding="utf-8")
    values = {}
    for key in ("site-url", "repo-url"):
        found = re.findall(rf"^\s+{key}:\s*(\S+)\s*$", text, re.M)
        if len(found) != 1:
            raise ValueError(f"{config}: expected one `{key}:` line, found {len(found)}")
        values[key] = found[0].strip("'\"")
    text = re.sub(
        r"^(\s+site-url:\s*)\S+\s*$", lambda m: m[1] + site_url, text, count=1, flags=re.M
    )
    text = text.replace(values["repo-url"], repo_url)
    config.write_text(text, encoding="utf-8")
    return text


def main(argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        print(__doc__, file=sys.stderr)
        return 2
    default = Path(__file__).resolve().parent.parent / "_quarto.yml"
    config = Path(argv[2]) if len(argv) == 3 else default
    set_site_urls(config, argv[0], argv[1])
    print(f"{config}: site-url {argv[0]}, repo-url {argv[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
