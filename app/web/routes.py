"""The demo clinic page at `/` and the widget script every clinic page loads."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from app.web import STATIC_DIR

router = APIRouter(include_in_schema=False)


@router.get("/")
async def demo_clinic_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "demo.html", media_type="text/html; charset=utf-8")


@router.get("/widget.js")
async def widget_script() -> FileResponse:
    # Short cache: clinics pick up a fixed widget within minutes.
    return FileResponse(
        STATIC_DIR / "widget.js",
        media_type="text/javascript; charset=utf-8",
        headers={"Cache-Control": "public, max-age=300"},
    )
