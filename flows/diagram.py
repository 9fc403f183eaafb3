"""The flow picture: steps in order, with an arrow for every data reference (who feeds whom).

Drawn from the parsed JSON as it is, valid or not, so the editor can show a half-written
flow while the user types. Server-rendered SVG; every piece of text is escaped.
"""

import json
import re
from dataclasses import dataclass, field

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

BOX_X, BOX_W, BOX_H, PITCH = 12, 250, 46, 76
LANE_GAP, NAME_MAX = 16, 30
_STEP_PATH = re.compile(r"^procedures\[(\d+)\]")


@dataclass
class Step:
    index: int
    name: str
    action: str
    feeds_from: dict[int, list[str]] = field(default_factory=dict)  # source index -> references
    unknown: list[str] = field(default_factory=list)
    error: bool = False


def references(value) -> list[str]:
    """Every reference string (``@step...``, not ``@@`` literals) inside a step's params.

    Iterative: params nested thousands deep (hostile input) must not overflow the stack.
    """
    found, stack = [], [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if item[:1] == "@" and item[:2] != "@@":
                found.append(item)
        elif isinstance(item, dict):
            stack.extend(reversed(list(item.values())))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return found


def error_steps(diagnostics) -> set[int]:
    """Indexes of the steps that diagnostics point into (paths like ``procedures[2].mod``)."""
    return {int(m.group(1)) for d in diagnostics if (m := _STEP_PATH.match(d.path))}


def steps_of(flow_json: str, errors: set[int] = frozenset()) -> list[Step]:
    try:
        data = json.loads(flow_json)
    except (ValueError, TypeError, RecursionError):
        return []
    procedures = data.get("procedures") if isinstance(data, dict) else None
    if not isinstance(procedures, list):
        return []
    steps: list[Step] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(procedures):
        item = item if isinstance(item, dict) else {}
        name = item.get("name") if isinstance(item.get("name"), str) and item.get("name") else f"#{index}"
        action = ".".join(str(item.get(k) or "?") for k in ("mod", "method"))
        step = Step(index, name, action, error=index in errors)
        for ref in references(item.get("params")):
            root = ref[1:].split(".", 1)[0]
            if root in seen:
                step.feeds_from.setdefault(seen[root], []).append(ref)
            elif not root.startswith("_"):
                step.unknown.append(ref)
                step.error = True
        seen.setdefault(name, index)
        steps.append(step)
    return steps


def flow_svg(flow_json: str, errors: set[int] = frozenset()) -> SafeString:
    """The SVG picture of a definition, or an empty string when it has no readable steps."""
    steps = steps_of(flow_json, errors)
    if not steps:
        return SafeString("")
    edges = [(src, step.index, refs) for step in steps for src, refs in step.feeds_from.items()]
    lanes = {edge[:2]: lane for lane, edge in enumerate(sorted(edges, key=lambda e: e[1] - e[0]))}
    width = BOX_X + BOX_W + 28 + LANE_GAP * (len(lanes) + 1)
    height = len(steps) * PITCH - (PITCH - BOX_H) + 8
    parts = [_sequence_arrow(i) for i in range(len(steps) - 1)]
    parts += [_data_arrow(src, dst, refs, lanes[(src, dst)]) for src, dst, refs in edges]
    parts += [_box(step) for step in steps]
    return format_html(
        '<svg class="flow-diagram" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}"'
        ' role="img" aria-label="{label}"><defs>'
        '<marker id="wf-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7"'
        ' orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrow-head"/></marker>'
        '<marker id="wf-arrow-data" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7"'
        ' orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrow-head-data"/></marker>'
        "</defs>{parts}</svg>",
        w=width,
        h=height,
        label=f"Flow diagram: {len(steps)} step(s), {len(edges)} data reference(s)",
        parts=mark_safe("".join(parts)),  # each part is built with format_html
    )


def _top(index: int) -> int:
    return 4 + index * PITCH


def _sequence_arrow(index: int) -> str:
    x = BOX_X + BOX_W // 2
    return format_html(
        '<line class="seq" x1="{x}" y1="{y1}" x2="{x}" y2="{y2}" marker-end="url(#wf-arrow)"/>',
        x=x,
        y1=_top(index) + BOX_H,
        y2=_top(index + 1) - 1,
    )


def _data_arrow(src: int, dst: int, refs: list[str], lane: int) -> str:
    right = BOX_X + BOX_W
    y1, y2 = _top(src) + BOX_H * 2 // 3, _top(dst) + BOX_H // 3
    bulge = right + 24 + LANE_GAP * lane
    return format_html(
        '<path class="ref" d="M{r},{y1} C{b},{y1} {b},{y2} {r2},{y2}" marker-end="url(#wf-arrow-data)">'
        "<title>{title}</title></path>",
        r=right,
        r2=right + 2,
        b=bulge,
        y1=y1,
        y2=y2,
        title=", ".join(refs),
    )


def _box(step: Step) -> str:
    top = _top(step.index)
    name = step.name if len(step.name) <= NAME_MAX else step.name[: NAME_MAX - 1] + "…"
    title = f"{step.index}: {step.name} ({step.action})"
    if step.unknown:
        title += "; unknown reference " + ", ".join(step.unknown)
    return format_html(
        '<g class="step{err}" data-step="{full}" data-index="{i}"><title>{title}</title>'
        '<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="5"/>'
        '<text class="step-name" x="{tx}" y="{y1}">{mark}{name}</text>'
        '<text class="step-action" x="{tx}" y="{y2}">{action}</text>{feeds}</g>',
        err=" err" if step.error else "",
        full=step.name,
        i=step.index,
        title=title,
        x=BOX_X,
        y=top,
        w=BOX_W,
        h=BOX_H,
        tx=BOX_X + 10,
        y1=top + 19,
        y2=top + 36,
        mark="⚠ " if step.error else "",
        name=name,
        action=step.action if len(step.action) <= 40 else step.action[:39] + "…",
        feeds=format_html_join(
            "",
            '<text class="step-unknown" x="{}" y="{}" text-anchor="end">? {}</text>',
            ((BOX_X + BOX_W - 8, top + 19, ref[:24]) for ref in step.unknown[:1]),
        ),
    )
