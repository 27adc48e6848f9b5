"""The browser-facing parts: the patient widget, the demo clinic page, dashboard templates."""

from pathlib import Path

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
