"""The documentation holds together. Every citation of a section anywhere in the repository (comments, messages,
YAML, the docs themselves), written as a file and a quoted heading, names a file that exists and a heading it has;
every relative link of README.md and docs/*.md reaches a file, and a heading where it names one (GitHub's anchors);
the README links every page of docs/ and stays short, its "Add a dashboard" section shortest of all."""

from __future__ import annotations

import re
from pathlib import Path

from repo import ROOT, project_files

README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
MAX_README_LINES = 200
MAX_ADD_A_DASHBOARD_LINES = 30  # the section, its heading included: fewer than this

# A citation: README or a page of docs/, an optional comma, then the heading in double or single quotes. Before
# matching, a line break and what continues a comment on the next line (#, //) read as one space, so that a citation
# wrapped in a comment or a docstring is still one; an escaped quote (\" in YAML, shell) reads as a quote.
CITATION = re.compile(r"""\b(README(?:\.md)?|docs/[\w.-]+\.md),? +(?:"([^"]{1,100})"|'([^']{1,100})')""")
LINE_BREAK = re.compile(r"[ \t]*\n[ \t]*(?:#+[ \t]?|//[ \t]?)?")
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
# A markdown link (not an image): its target, without a title.
LINK = re.compile(r"(?<!!)\[[^\]\n]*\]\(([^)\s]+)(?:[ \t]+\"[^\"]*\")?\)")
EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.I)  # http:, https:, mailto:


def outside_code_blocks(text: str) -> list[str]:
    """The lines of a markdown text that are not in a fenced code block."""
    lines, fence = [], None
    for line in text.splitlines():
        opened = FENCE.match(line)
        if opened and fence is None:
            fence = opened[1]
        elif opened and line.strip().startswith(fence):
            fence = None
        elif fence is None:
            lines.append(line)
    return lines


def headings(path: Path) -> list[str]:
    """The text of each heading of a markdown file, without its #s."""
    return [m[1] for line in outside_code_blocks(path.read_text()) if (m := HEADING.match(line))]


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: its text (a link's text, no backticks) lower-cased, every character but a
    letter, a digit, a space, - and _ dropped, and spaces as -."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading).replace("`", "").lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The anchors of a markdown file's headings; a repeated one gets -1, -2... as on GitHub."""
    seen: dict[str, int] = {}
    found = set()
    for heading in headings(path):
        anchor = slug(heading)
        found.add(f"{anchor}-{seen[anchor]}" if anchor in seen else anchor)
        seen[anchor] = seen.get(anchor, 0) + 1
    return found


def citations() -> list[tuple[str, str, str]]:
    """(where, cited file, heading) of every citation in the project's files but this one."""
    found = []
    for name in project_files():
        path = ROOT / name
        if path == Path(__file__).resolve() or not path.is_file():
            continue
        try:
            text = path.read_text()
        except UnicodeDecodeError:
            continue
        joined = LINE_BREAK.sub(" ", text.replace('\\"', '"'))
        for match in CITATION.finditer(joined):
            cited = "README.md" if match[1].startswith("README") else match[1]
            found.append((name, cited, match[2] or match[3]))
    return found


def links(path: Path) -> list[str]:
    """The relative link targets of a markdown file, outside its code blocks."""
    targets = [m[1] for line in outside_code_blocks(path.read_text()) for m in LINK.finditer(line)]
    return [target for target in targets if not EXTERNAL.match(target)]


def section(path: Path, title: str) -> list[str]:
    """A level-2 section of a markdown file, from its heading to the next level-2 heading, without trailing blank
    lines; empty when there is none."""
    lines = path.read_text().splitlines()
    if f"## {title}" not in lines:
        return []
    start = lines.index(f"## {title}")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    body = lines[start:end]
    while body and not body[-1].strip():
        body.pop()
    return body


def test_every_cited_section_is_a_heading_of_the_cited_file():
    found = citations()
    assert len(found) >= 40, f"only {len(found)} citations found: is the pattern still right?"
    broken = []
    for where, cited, heading in found:
        target = ROOT / cited
        if not target.is_file():
            broken.append(f"{where}: {cited}, {heading!r}: no such file")
        elif heading not in headings(target):
            broken.append(f"{where}: {cited}, {heading!r}: no such heading in {cited}")
    assert broken == [], "\n".join(broken)


def test_every_relative_link_reaches_a_file_and_its_heading():
    checked, broken = 0, []
    for page in [README, *DOCS]:
        for target in links(page):
            checked += 1
            file_part, _, anchor = target.partition("#")
            file = (page.parent / file_part).resolve() if file_part else page
            where = f"{page.relative_to(ROOT)}: ({target})"
            if not file.is_file():
                broken.append(f"{where}: no such file")
            elif anchor and anchor not in anchors(file):
                broken.append(f"{where}: no heading with that anchor in {file.relative_to(ROOT)}")
    assert checked >= 40, f"only {checked} relative links found: is the pattern still right?"
    assert broken == [], "\n".join(broken)


def test_the_readme_links_every_page_of_the_docs():
    linked = {(ROOT / target.partition("#")[0]).resolve() for target in links(README)}
    assert [page.name for page in DOCS if page.resolve() not in linked] == []


def test_the_readme_is_short_and_adding_a_dashboard_shorter():
    lines = README.read_text().splitlines()
    assert len(lines) <= MAX_README_LINES, f"README.md has {len(lines)} lines, at most {MAX_README_LINES}"
    add_a_dashboard = section(README, "Add a dashboard")
    assert add_a_dashboard, 'README.md has no section "## Add a dashboard"'
    assert len(add_a_dashboard) < MAX_ADD_A_DASHBOARD_LINES, f"{len(add_a_dashboard)} lines"


def test_a_heading_is_found_outside_code_blocks_only_and_anchored_as_on_github(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# Promotion: dev → staging\n\n```yaml\n# not a heading\n```\n\n" + "## Running `scripts/up`\n" * 2)
    assert headings(page) == ["Promotion: dev → staging", "Running `scripts/up`", "Running `scripts/up`"]
    assert anchors(page) == {"promotion-dev--staging", "running-scriptsup", "running-scriptsup-1"}
