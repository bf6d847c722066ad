"""Preview and render need Python and Quarto only: no Node.js, no network (issue 24, part 4).

KaTeX is committed under ``vendor/katex/`` (see ``vendor/README.md``); nothing fetches it
before a render. The test renders a small post of its own, with math and one executed
cell, from a copy of the checkout, with an empty user cache and a ``PATH`` that holds
this venv's ``bin``, Quarto's ``bin`` and links to every other system command except
``node``, ``npm``, ``npx`` and ``corepack`` (Quarto runs on its own Deno). In Chromium,
served on 127.0.0.1, every formula is typeset by the site's own KaTeX and no request
leaves the site.
"""

from __future__ import annotations

import http.server
import os
import shutil
import subprocess
import sys
import threading
from functools import partial
from pathlib import Path

import pytest
from conftest import copy_checkout, quarto_exe
from test_browser import WAIT_MS, OfflinePage

pytestmark = pytest.mark.slow

NODE_TOOLS = {"node", "nodejs", "npm", "npx", "corepack"}
SLUG = "99-math-check"
POST = r"""---
title: "Week 99: math without Node"
---

Inline math, $\sigma(z) = \frac{1}{1 + e^{-z}}$, and a display:

$$
\hat{\mathbf{W}} \leftarrow \hat{\mathbf{W}} - \alpha \nabla_{\mathbf{W}}
\frac{1}{n} \sum_{i=1}^{n} \left(y_i - \mathbf{x}_i^\top \hat{\mathbf{W}}\right)^2 .
$$

```{python}
print(2 + 3)
```
"""


def path_without_node(tmp_path: Path) -> str:
    """This venv's bin, Quarto's bin, then links to every other command but Node's."""
    links = tmp_path / "system-bin"
    links.mkdir()
    for folder in ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"):
        for tool in sorted(Path(folder).glob("*")) if Path(folder).is_dir() else []:
            if tool.name not in NODE_TOOLS and not (links / tool.name).exists():
                (links / tool.name).symlink_to(tool)
    quarto = Path(quarto_exe()).parent
    return os.pathsep.join([str(Path(sys.executable).parent), str(quarto), str(links)])


def test_a_post_renders_with_its_math_and_no_node(tmp_path: Path, browser) -> None:
    src, out = tmp_path / "src", tmp_path / "site"
    copy_checkout(src)
    (src / "posts" / SLUG).mkdir(parents=True)
    (src / "posts" / SLUG / "index.qmd").write_text(POST, encoding="utf-8")
    path = path_without_node(tmp_path)
    assert [t for t in NODE_TOOLS if shutil.which(t, path=path)] == []
    # an empty user cache too: nothing fetched earlier (e.g. a KaTeX download) is there
    env = {**os.environ, "PATH": path, "QUARTO_PYTHON": sys.executable}
    env["XDG_CACHE_HOME"] = str(tmp_path / "empty-cache")
    proc = subprocess.run(
        ["quarto", "render", f"posts/{SLUG}/index.qmd", "--output-dir", str(out)],
        cwd=src, env=env, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log[-3000:]
    assert (out / "vendor" / "katex" / "katex.min.js").is_file()

    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(out))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site = f"http://127.0.0.1:{server.server_address[1]}/"
    page = OfflinePage(browser)
    try:
        page.open(site + f"posts/{SLUG}/index.html")
        p = page.page
        p.wait_for_function(
            "() => document.querySelectorAll('span.math:not(:has(.katex))').length === 0",
            timeout=WAIT_MS,
        )
        assert p.locator("span.math.inline .katex").count() == 1
        assert p.locator("span.math.display .katex-display").count() == 1
        assert p.locator(".katex-error").count() == 0
        # what screen readers read: MathML beside the drawn formula, which they skip
        assert p.locator(".katex-mathml math").count() == 2
        assert p.locator(".katex-html[aria-hidden='true']").count() == 2
        # KaTeX's own fonts drew it: the fraction's font is loaded from the site
        assert p.evaluate("document.fonts.check('1em KaTeX_Main')")
        assert any(u.endswith("vendor/katex/katex.min.js") for u in page.requests)
        assert [u for u in page.requests if not u.startswith((site, "data:"))] == []
        assert page.blocked == [] and not page.errors
        assert "5" in p.locator(".cell-output").inner_text()  # the cell ran
    finally:
        page.close()
        server.shutdown()
        server.server_close()
