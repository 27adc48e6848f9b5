"""Small SVG charts for the insight page, drawn on the server.

Hand-drawn rather than a charting library: the dashboard's Content-Security-Policy allows
no inline style or script, and libraries such as pygal embed both. These charts use only
SVG presentation attributes, so they render under that policy with no CDN and no script.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 44


def _frame(title: str, body: list[str], legend: Sequence[tuple[str, str]]) -> Markup:
    keys, x = [], LEFT
    for name, color in legend:  # each key as wide as its name (about 6.5 units a letter)
        keys.append(
            f'<rect x="{x}" y="{HEIGHT - 14}" width="10" height="10" fill="{color}"/>'
            f'<text x="{x + 14}" y="{HEIGHT - 5}" font-size="11">{escape(name)}</text>'
        )
        x += 14 + 6.5 * len(name) + 16
    keys = "".join(keys)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>'
        + "".join(body)
        + keys
        + "</svg>"
    )


def _axes(top_value: float, labels: Sequence[str], unit: str) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
        'stroke="#555"/>',
        f'<text x="{LEFT - 4}" y="{TOP + 10}" font-size="11" text-anchor="end">'
        f"{escape(_number(top_value))}{escape(unit)}</text>",
        f'<text x="{LEFT - 4}" y="{TOP + plot_h}" font-size="11" text-anchor="end">0</text>',
    ]
    step = max(1, len(labels) // 8)  # at most ~8 labels on the x axis
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(labels))
    for i in range(0, len(labels), step):
        x = LEFT + slot * (i + 0.5)
        parts.append(
            f'<text x="{x:.1f}" y="{TOP + plot_h + 14}" font-size="10" text-anchor="middle">'
            f"{escape(labels[i])}</text>"
        )
    return parts


def _number(value: float) -> str:
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def stacked_bars(
    title: str, labels: Sequence[str], series: Sequence[tuple[str, str, Sequence[float]]]
) -> Markup:
    """One bar per label, stacked from `series` = (name, colour, values)."""
    totals = [sum(values[i] for _, _, values in series) for i in range(len(labels))]
    top = max(totals, default=0) or 1
    plot_h = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(labels))
    body = _axes(top, labels, "")
    for i, label in enumerate(labels):
        y = TOP + plot_h
        for name, color, values in series:
            if not values[i]:
                continue
            h = plot_h * values[i] / top
            y -= h
            body.append(
                f'<rect x="{LEFT + slot * i + slot * 0.15:.1f}" y="{y:.1f}" '
                f'width="{slot * 0.7:.1f}" height="{h:.1f}" fill="{color}">'
                f"<title>{escape(label)}: {escape(name)} {_number(values[i])}</title></rect>"
            )
    return _frame(title, body, [(name, color) for name, color, _ in series])


def lines(
    title: str,
    labels: Sequence[str],
    series: Sequence[tuple[str, str, Sequence[float | None]]],
    unit: str = "",
) -> Markup:
    """A line per series (None: no point for that label), dots at each value."""
    values = [v for _, _, vs in series for v in vs if v is not None]
    top = max(values, default=0) or 1
    plot_h = HEIGHT - TOP - BOTTOM
    slot = (WIDTH - LEFT - RIGHT) / max(1, len(labels))
    body = _axes(top, labels, unit)
    for name, color, vs in series:
        points = [
            (LEFT + slot * (i + 0.5), TOP + plot_h - plot_h * v / top, v)
            for i, v in enumerate(vs)
            if v is not None
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
            body.append(
                f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>'
            )
        body += [
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}">'
            f"<title>{escape(name)}: {_number(v)}{escape(unit)}</title></circle>"
            for x, y, v in points
        ]
    return _frame(title, body, [(name, color) for name, color, _ in series])


SEVERITY_COLOURS = {"critical": "#b00020", "high": "#c46a00", "normal": "#1d5fa8"}
LEVEL_COLOURS = {
    "emergency": "#b00020",
    "urgent": "#c46a00",
    "routine": "#2e7d32",
    "info": "#1d5fa8",
    "none": "#9e9e9e",
}


def insight_charts(data: dict) -> dict[str, Markup]:
    """The insight page's four charts from `insight()`'s figures."""
    days = data["days"]
    labels = [day["day"][5:] for day in days]  # MM-DD
    weeks = data["weeks"]
    week_labels = [week["week"][5:] for week in weeks]
    return {
        "alerts": stacked_bars(
            "Alerts per day by severity",
            labels,
            [(s, c, [day["alerts"][s] for day in days]) for s, c in SEVERITY_COLOURS.items()],
        ),
        "turns": stacked_bars(
            "Patient messages per day by level",
            labels,
            [(lv, c, [day["turns"][lv] for day in days]) for lv, c in LEVEL_COLOURS.items()],
        ),
        "handling": lines(
            "Minutes to acknowledge and to resolve, per week",
            week_labels,
            [
                (
                    "acknowledge, median",
                    "#1d5fa8",
                    [w["acknowledge_minutes_median"] for w in weeks],
                ),
                ("acknowledge, 90%", "#7fa7d6", [w["acknowledge_minutes_p90"] for w in weeks]),
                ("resolve, median", "#2e7d32", [w["resolve_minutes_median"] for w in weeks]),
                ("resolve, 90%", "#8fc592", [w["resolve_minutes_p90"] for w in weeks]),
            ],
            unit=" min",
        ),
        "not_understood": lines(
            "Share of patient messages not understood, per day",
            labels,
            [
                (
                    "not understood",
                    "#7a3d00",
                    [
                        None
                        if day["not_understood_rate"] is None
                        else 100 * day["not_understood_rate"]
                        for day in days
                    ],
                )
            ],
            unit=" %",
        ),
    }


def _percent(share: float | None) -> float | None:
    return None if share is None else 100 * share
