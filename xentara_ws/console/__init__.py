"""The built-in browser console (static files shipped in the package) and the HTTP side that serves it.

`install_console(server)` registers the console's routes on a server's edge; see `routes`.
"""

from pathlib import Path

CONSOLE_DIR = Path(__file__).parent
"""The console's static files: index.html, app.js, style.css and the vendored browser libraries."""
