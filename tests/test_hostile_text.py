"""User text is text: hostile strings in every field a user types, on every page.

Streamlit renders st.markdown, st.write, captions, titles, alerts, metric labels, radio options,
expander and tab labels as Markdown (react-markdown with remark-gfm and its own extensions). Each
page is driven through AppTest with the same hostile string in every user field; the Markdown
of every element is rendered by a real CommonMark + GFM parser (markdown-it-py with linkify), and
what Streamlit does beyond it (literal autolinks, icons, emoji, colour directives, math, arrows:
all matched after parsing, where backslash escapes are gone) is checked on the parsed text.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import pytest
from conftest import ROOT, give, open_workshop_as, sign_in_as
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from assessment.actions import load_actions
from assessment.questionnaire import load_shipped

TIMEOUT = 60
QUESTIONNAIRES = ["commitment", "tradeoffs"]

HOSTILE = [
    pytest.param("![x](http://evil.example/x.png)", id="image"),
    pytest.param("[click](http://evil.example/phish) [ref][1]\n\n[1]: http://evil.example",
                 id="link"),
    pytest.param("see http://evil.example/x now", id="raw-url"),
    pytest.param("see www.evil.com or a@evil.com", id="www-and-email"),
    pytest.param("<b>bold</b> <img src=http://evil.example/y.png>", id="html"),
    pytest.param("# Heading", id="heading"),
    pytest.param("**strong** _em_ ~~gone~~ *", id="emphasis"),
    pytest.param(":red[red] :blue-background[blue]", id="colour"),
    pytest.param(":material/warning: :smile: :streamlit:", id="icons"),
    pytest.param("$x^2$ costs $$y$$", id="math"),
    pytest.param("`code` and ```fence```", id="backticks"),
    pytest.param("| a | b |\n|---|---|\n| 1 | 2 |", id="table"),
    pytest.param("> quote\n- item\n1. first -> next <= &amp; \\*", id="blocks-arrows-escapes"),
]

# ---------------------------------------------------------------- what the browser would show

MARKDOWN = MarkdownIt("gfm-like", {"linkify": True})  # CommonMark + tables, strikethrough, html
ALLOWED_TAGS = {"p", "strong", "em", "br"}  # all that the app's own Markdown produces
WORD_JOINER = "\u2060"

# What Streamlit's frontend matches on parsed text (see StreamlitMarkdown in its bundle).
AFTER_PARSING = {
    "literal autolink": re.compile(r"(?i)https?://|www\."),
    "email autolink": re.compile(r"[-.\w+]+@[-\w]+(?:\.[-\w]+)+"),
    "icon, emoji or directive": re.compile(r":[\w+-]"),
    "arrow or dash": re.compile(r"(?:^|\s)(?:<->|->|<-|--|>=|<=|~=)(?:\s|$)"),
}
# Streamlit loads KaTeX when the source (code spans and escapes left out) looks like math.
_NOT_MATH = re.compile(r"(?:^|(?<=\n)) {0,3}(`{3,}|~{3,})[\s\S]*?(?:\n[ \t]*\1|$)"
                       r"|(?<!`)(`+)[^`\n]+\2(?!`)|\\[\\$`]")
_DISPLAY_MATH = re.compile(r"(?<!\$)\$\$+(?!\$)[\s\S]*?\$\$")
_INLINE_MATH = re.compile(r"(?<!\$)\$(?![\s$])[^$\n]*?[^\s$]\$(?!\d)")


def looks_like_math(source: str) -> bool:
    rest = _NOT_MATH.sub("_", source)
    return bool(_DISPLAY_MATH.search(rest) or _INLINE_MATH.search(rest))


def parsed(rendered: str) -> str:
    """The text of rendered HTML: what Streamlit's plugins see after parsing."""
    return html.unescape(re.sub(r"<[^>]*>", "", rendered))


def visible(rendered: str) -> str:
    """Text as a reader sees it: invisible word joiners left out, and runs of white space
    (Markdown joins lines; the store collapses names) folded."""
    return re.sub(r"\s+", " ", parsed(rendered).replace(WORD_JOINER, "")).strip()


LABEL_DROPPED = ("table", "thead", "tbody", "tr", "th", "td", "h1", "h2", "h3", "h4", "h5", "h6",
                 "ul", "ol", "li", "input", "hr", "blockquote")


def as_label(source: str) -> str:
    """Streamlit's frontend on a label (isLabel): leading list, heading and quote markers
    escaped first; after rendering, block elements unwrapped."""
    source = re.sub(r"^(\s*)((?:[+\-*]|#+)(?=\s|$)|>)", r"\1\\\2", source, flags=re.M)
    return re.sub(r"^(\s*)(\d+)([.)])(?=\s|$)", r"\1\2\\\3", source, flags=re.M)


@dataclass
class Shown:
    where: str
    source: str
    kind: str = "markdown"  # "markdown", "heading", "label", or "plain" (no Markdown at all)

    @property
    def markdown(self) -> bool:
        return self.kind != "plain"

    @property
    def html(self) -> str:
        """What the frontend makes of the source, within its own wrapper."""
        if self.kind == "heading":  # "### " + the first line, the rest as Markdown below
            first, _, rest = self.source.partition("\n")
            return MARKDOWN.renderInline(first) + (MARKDOWN.render(rest) if rest else "")
        if self.kind == "label":
            dropped = "|".join(LABEL_DROPPED)
            return re.sub(rf"</?(?:{dropped})\b[^>]*>", "", MARKDOWN.render(as_label(self.source)))
        return MARKDOWN.render(self.source) if self.markdown else ""

    @property
    def text(self) -> str:
        return visible(self.html) if self.markdown else re.sub(r"\s+", " ", self.source)


MARKDOWN_BODIES = {"markdown", "caption", "error", "warning", "info", "success", "toast",
                   "exception"}
HEADINGS = {"title", "header", "subheader"}
PLAIN_BODIES = {"text", "code"}
PLAIN_OPTIONS = {"selectbox", "multiselect"}  # their option labels are not Markdown in 1.67


def collect(node, out: list[Shown], where: str = "") -> list[Shown]:
    """Everything an element tree shows: Markdown bodies, headings, labels, help and options;
    plain text; and the cells of tables."""
    kind = getattr(node, "type", "")
    if hasattr(node, "children"):  # a block: main, sidebar, columns, tabs, expanders, forms
        if kind in ("expander", "status", "tab", "popover"):
            out.append(Shown(f"{where}/{kind} label", node.label, "label"))
        for child in node.children.values():
            collect(child, out, f"{where}/{kind}")
        return out
    if kind in MARKDOWN_BODIES:
        out.append(Shown(f"{where}/{kind}", node.value))
    elif kind in HEADINGS:
        out.append(Shown(f"{where}/{kind}", node.value, "heading"))
    elif kind in PLAIN_BODIES:
        out.append(Shown(f"{where}/{kind}", node.value, "plain"))
    elif kind == "dataframe":
        frame = node.value
        cells = [str(c) for c in frame.columns] + [str(v) for v in frame.to_numpy().ravel()]
        out.extend(Shown(f"{where}/dataframe", c, "plain") for c in cells)
    proto = getattr(node, "proto", None)
    for field, how in (("label", "label"), ("help", "markdown")):
        value = getattr(proto, field, "") if proto is not None else ""
        if isinstance(value, str) and value:
            out.append(Shown(f"{where}/{kind} {field}", value, how))
    if kind == "metric":
        out.append(Shown(f"{where}/metric value", node.value, "plain"))
    if kind == "radio":
        out.extend(Shown(f"{where}/radio option", o, "label") for o in node.options)
    elif kind in PLAIN_OPTIONS:
        out.extend(Shown(f"{where}/{kind} option", o, "plain") for o in node.options)
    return out


def shown(at: AppTest) -> list[Shown]:
    assert not at.exception, at.exception
    return collect(at.sidebar, collect(at.main, [], "main"), "sidebar")


def check_text_is_text(page: str, items: list[Shown], user: dict[str, str],
                       problems: list[str]) -> None:
    """Nothing a user typed becomes a link, image, heading, emphasis, icon, emoji or math."""
    def problem(ok: bool, message: str) -> None:
        if not ok:
            problems.append(message)

    for item in (i for i in items if i.markdown):
        rendered = item.html
        context = f"{page} {item.where}: {item.source!r} -> {rendered!r}"
        tags = {t.lower() for t in re.findall(r"<\s*/?\s*([A-Za-z][\w-]*)", rendered)}
        problem(tags <= ALLOWED_TAGS, f"{sorted(tags - ALLOWED_TAGS)} in {context}")
        for tag in ("strong", "em"):
            for inner in re.findall(rf"<{tag}>(.*?)</{tag}>", rendered, re.S):
                inner = visible(inner)
                part_of = [f for f, value in user.items() if inner in value and value not in inner]
                problem(not part_of, f"<{tag}> made of part of the {part_of[:1]} in {context}")
        text = parsed(rendered)
        for what, pattern in AFTER_PARSING.items():
            problem(not pattern.search(text), f"{what} in {context}")
        problem(not looks_like_math(item.source), f"math in {context}")


def check_shown_as_typed(page: str, items: list[Shown], value: str, what: str,
                         problems: list[str], markdown: bool | None = True) -> None:
    value = re.sub(r"\s+", " ", value).strip()
    texts = [i.text for i in items if markdown is None or i.markdown == markdown]
    if not any(value in t for t in texts):
        problems.append(f"{page}: the {what} {value!r} is not shown as typed")


# ---------------------------------------------------------------- the app, driven

def app(**query) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT)
    for key, value in query.items():
        at.query_params[key] = value
    return at


def answers(q, person: int, text: str) -> list[tuple[str, str, str]]:
    """Every question answered: scores that differ per person, the hostile text for text."""
    rows = []
    for i, question in enumerate(q.questions):
        if question.scored:
            rows.append((question.id, "", str(q.scale.min + (i + person) % 3)))
        elif question.type == "allocation":
            share = [question.total // len(question.options)] * len(question.options)
            share[0] += question.total - sum(share)
            rows.extend((question.id, o.id, str(p)) for o, p in zip(question.options, share,
                                                                    strict=True))
        elif question.type == "ranking":
            rows.extend((question.id, o.id, str(r + 1)) for r, o in enumerate(question.options))
        elif question.type == "choice":
            rows.append((question.id, "", question.options[0].id))
        elif question.type == "text":
            rows.append((question.id, "", f"{text} ZQanswer{person}"))
    return rows


class Page:
    """The problems found on the pages visited, all reported at the end."""

    def __init__(self, user: dict[str, str]):
        self.user, self.problems, self.name, self.items = user, [], "", []

    def look(self, name: str, at: AppTest) -> None:
        self.name, self.items = name, shown(at)
        check_text_is_text(name, self.items, self.user, self.problems)

    def shows(self, value: str, what: str, markdown: bool | None = True) -> None:
        check_shown_as_typed(self.name, self.items, value, what, self.problems, markdown)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_user_text_is_shown_as_text_on_every_page(db, hostile):
    shipped = load_shipped()
    client = db.create_client(f"{hostile} ZQclient", sector=f"{hostile} ZQsector",
                              region=f"{hostile} ZQregion")
    workshop = db.create_workshop(client.id, f"{hostile} ZQtitle", QUESTIONNAIRES)
    people = []
    for n in range(3):
        person, token = db.join(workshop.code, f"{hostile} ZQp{n}", "executive")
        for qid in QUESTIONNAIRES:
            db.save_answers(person.id, qid, answers(shipped[qid], n, hostile))
        people.append((person, token))
    db.set_results_revealed(workshop.id, True)
    workshop = db.workshop(workshop.id)
    page = Page({"client name": workshop.client_name, "workshop title": workshop.title,
                 **{f"name of participant {n}": p.name for n, (p, _) in enumerate(people)}})

    # Home: a join code typed in is quoted back in the error.
    at = app()
    at.run()
    at.text_input(key="home_code").input("[x](y)")
    at.button(key="home_join").click().run()
    page.look("home", at)
    page.shows("[X](Y)", "join code")

    # The join form shows the client and the title; a name already taken is quoted back.
    at = app(join=workshop.code)
    at.run()
    page.look("join form", at)
    page.shows(workshop.client_name, "client name")
    page.shows(workshop.title, "workshop title")
    at.text_input(key="join_name").input(people[0][0].name)
    next(b for b in at.button if b.label == "Join").click().run()
    page.look("join form, name taken", at)
    assert any("already joined" in i.text for i in page.items if i.markdown)

    # The participant's own page, team results revealed, on both questionnaires.
    me, token = people[1]
    at = app(p=token)
    at.run()
    for qid in QUESTIONNAIRES:
        at.radio(key="questionnaire_choice").set_value(qid).run()
        page.look(f"participant, {qid}", at)
        page.shows(workshop.title, "workshop title")
        page.shows(workshop.client_name, "client name")
        page.shows(me.name, "participant's name")
        assert any(e.type == "expander" and "Team results" in e.label
                   for e in at.main.children.values())

    # Signed in, before opening a workshop: the consultant's client list and its workshops.
    at = app()
    give(db, sign_in_as(at, db), workshop.client_id)
    at.run()
    at.switch_page("app_pages/facilitator.py").run()
    page.look("facilitator, client list", at)
    page.shows(workshop.client_name, "client name in the client list", markdown=False)
    page.shows(workshop.title, "workshop title in the client's workshops")

    # A workshop opened: its header and the progress board with everyone's names.
    at = app()
    open_workshop_as(at, db, workshop)
    at.run()
    at.switch_page("app_pages/facilitator.py").run()
    page.look("facilitator", at)
    page.shows(workshop.client_name, "client name")
    page.shows(workshop.title, "workshop title")
    page.shows(me.name, "participant's name on the progress board", markdown=False)

    # Results: an agreed score with its rationale and a note, through the page's own forms.
    at.switch_page("app_pages/results.py").run()
    at.number_input(key="agree_value").set_value(2.5)
    at.text_area(key="agree_rationale").input(f"{hostile} ZQrationale")
    next(b for b in at.button if b.label == "Record agreed score").click().run()
    at.text_area(key="note_text").input(f"{hostile} ZQnote")
    next(b for b in at.button if b.label == "Add note").click().run()
    page.user["rationale"] = db.agreed_scores(workshop.id)["rationale"].iloc[0]
    page.user["note"] = db.notes(workshop.id)["text"].iloc[0]
    page.look("results", at)
    page.shows(workshop.client_name, "client name")
    page.shows(workshop.title, "workshop title")
    page.shows(page.user["rationale"], "rationale", markdown=False)
    page.shows(page.user["note"], "note", markdown=False)
    at.radio(key="results_questionnaire").set_value("tradeoffs").run()
    page.look("results, trade-offs", at)
    page.shows(f"{hostile} ZQanswer0", "text answer", markdown=False)

    # The plan: owner and notes kept for every action, and the stop-doing answers.
    db.save_plan_edits(workshop.id, [{"action_id": a.id, "owner": f"{hostile} ZQowner",
                                      "notes": f"{hostile} ZQnotes"}
                                     for a in load_actions().actions])
    edit = next(iter(db.plan_edits(workshop.id).values()))
    page.user |= {"plan owner": edit["owner"], "plan notes": edit["notes"]}
    at.switch_page("app_pages/plan.py").run()
    page.look("plan", at)
    page.shows(workshop.client_name, "client name")
    page.shows(workshop.title, "workshop title")
    page.shows(edit["owner"], "plan owner", markdown=False)
    page.shows(edit["notes"], "plan notes", markdown=False)
    page.shows(f"{hostile} ZQanswer2", "stop-doing answer", markdown=False)

    assert not page.problems, "\n".join(page.problems)


# ---------------------------------------------------------------- the helper itself

@pytest.mark.parametrize("hostile", HOSTILE)
def test_plain_keeps_every_character_and_renders_none_of_them(hostile):
    from app_pages.common import plain

    problems = []
    for source in (plain(hostile), f"**{plain(hostile)}** · {plain(hostile)}"):
        item = Shown("helper", source)
        check_text_is_text("plain()", [item], {"text": hostile}, problems)
        assert re.sub(r"\s+", " ", hostile) in item.text
    assert not problems, "\n".join(problems)
