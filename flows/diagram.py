"""The flow picture: steps in order, with an arrow for every data reference (who feeds whom).

Drawn from the engine's analysis of the text, valid or not, so the editor can show a
half-written flow while the user types; the references are the ones validation found, never
read again. At most MAX_STEPS steps and MAX_ARROWS arrows are drawn (a 5 MB definition can
hold a million references), and the picture says how many more there are. Server-rendered
SVG; every piece of text is escaped and cut to a bounded length.
"""

from collections import Counter
from dataclasses import dataclass, field
from operator import itemgetter

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from runner.engine import RUN_DATA, FlowAnalysis

BOX_X, BOX_W, BOX_H, PITCH = 12, 250, 46, 76
LANE_GAP, NAME_MAX = 16, 30
MAX_STEPS, MAX_ARROWS = 200, 300
TITLE_REFS, TEXT_MAX = 5, 200  # references named in a tooltip; characters of any text shown
_SOURCE = itemgetter(2)  # Reference.step, at C speed


@dataclass
class Step:
    index: int
    name: str
    action: str
    feeds_from: dict[int, list[str]] = field(default_factory=dict)  # source index -> its first references
    unknown: list[str] = field(default_factory=list)  # the first references to no earlier step
    counts: dict[int | None, int] = field(default_factory=dict)  # references per source (None: unknown)
    error: bool = False


@dataclass(frozen=True)
class Diagram:
    svg: SafeString  # empty when the text has no readable steps
    steps: int
    arrows: int  # producer-consumer pairs of steps in the whole flow
    steps_drawn: int = 0
    arrows_drawn: int = 0

    @property
    def not_drawn(self) -> str:
        """Says what the picture leaves out, or nothing."""
        parts = [
            f"{count:,} more {what}{'s' if count != 1 else ''}"
            for count, what in (
                (self.steps - self.steps_drawn, "step"),
                (self.arrows - self.arrows_drawn, "data reference"),
            )
            if count
        ]
        return f"{' and '.join(parts)} not drawn" if parts else ""


def steps_of(analysis: FlowAnalysis, limit: int = MAX_STEPS) -> list[Step]:
    """The first ``limit`` steps, each with the earlier steps it takes data from: how many
    references to each, and the first TITLE_REFS of them (a step may hold a million)."""
    steps = []
    for outline in analysis.steps[:limit]:
        action = f"{outline.mod or '?'}.{outline.method or '?'}"
        step = Step(outline.index, outline.name or f"#{outline.index}", action, error=outline.error)
        for source, count in Counter(map(_SOURCE, outline.references)).items():
            key = _bucket(source, outline.index)
            if key != RUN_DATA:
                step.counts[key] = step.counts.get(key, 0) + count
        wanted = sum(min(count, TITLE_REFS) for count in step.counts.values())
        for text, _, source in outline.references:
            if not wanted:
                break
            key = _bucket(source, outline.index)
            if key != RUN_DATA:
                texts = step.unknown if key is None else step.feeds_from.setdefault(key, [])
                if len(texts) < TITLE_REFS:
                    texts.append(text)
                    wanted -= 1
        steps.append(step)
    return steps


def arrow_count(analysis: FlowAnalysis) -> int:
    """Producer-consumer pairs in the whole flow, drawn or not."""
    return sum(
        sum(0 <= source < outline.index for source in set(map(_SOURCE, outline.references)))
        for outline in analysis.steps
        if outline.references
    )


def _bucket(source: int, index: int) -> int | None:
    # An earlier step's index, RUN_DATA (no arrow), or None: names no earlier step.
    return source if 0 <= source < index or source == RUN_DATA else None


def flow_diagram(analysis: FlowAnalysis) -> Diagram:
    """The SVG picture of an analysed definition, with what it leaves out."""
    steps = steps_of(analysis)
    arrows = arrow_count(analysis)
    if not steps:
        return Diagram(SafeString(""), 0, 0)
    edges = [
        (src, step.index, refs, step.counts[src])
        for step in steps
        for src, refs in sorted(step.feeds_from.items())
    ][:MAX_ARROWS]
    lanes = {edge[:2]: lane for lane, edge in enumerate(sorted(edges, key=lambda e: e[1] - e[0]))}
    width = BOX_X + BOX_W + 28 + LANE_GAP * (len(lanes) + 1)
    height = len(steps) * PITCH - (PITCH - BOX_H) + 8
    parts = [_sequence_arrow(i) for i in range(len(steps) - 1)]
    parts += [_data_arrow(src, dst, refs, count, lanes[(src, dst)]) for src, dst, refs, count in edges]
    parts += [_box(step) for step in steps]
    svg = format_html(
        '<svg class="flow-diagram" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="{w}"'
        ' role="img" aria-label="{label}"><defs>'
        '<marker id="wf-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7"'
        ' orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrow-head"/></marker>'
        '<marker id="wf-arrow-data" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7"'
        ' orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrow-head-data"/></marker>'
        "</defs>{parts}</svg>",
        w=width,
        h=height,
        label=f"Flow diagram: {len(analysis.steps)} step(s), {arrows} data reference(s)",
        parts=mark_safe("".join(parts)),  # each part is built with format_html
    )
    return Diagram(svg, len(analysis.steps), arrows, len(steps), len(edges))


def _short(text: str, limit: int = TEXT_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _listing(refs: list[str], count: int) -> str:
    shown = ", ".join(_short(ref, 60) for ref in refs)
    return shown + (f" and {count - len(refs):,} more" if count > len(refs) else "")


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


def _data_arrow(src: int, dst: int, refs: list[str], count: int, lane: int) -> str:
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
        title=_listing(refs, count),
    )


def _box(step: Step) -> str:
    top = _top(step.index)
    name = _short(step.name, NAME_MAX)
    title = f"{step.index}: {_short(step.name)} ({_short(step.action)})"
    if step.unknown:
        title += "; unknown reference " + _listing(step.unknown, step.counts[None])
    return format_html(
        '<g class="step{err}" data-step="{full}" data-index="{i}"><title>{title}</title>'
        '<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="5"/>'
        '<text class="step-name" x="{tx}" y="{y1}">{mark}{name}</text>'
        '<text class="step-action" x="{tx}" y="{y2}">{action}</text>{feeds}</g>',
        err=" err" if step.error else "",
        full=_short(step.name),
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
        action=_short(step.action, 40),
        feeds=format_html_join(
            "",
            '<text class="step-unknown" x="{}" y="{}" text-anchor="end">? {}</text>',
            ((BOX_X + BOX_W - 8, top + 19, ref[:24]) for ref in step.unknown[:1]),
        ),
    )
