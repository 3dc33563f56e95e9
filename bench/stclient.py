"""A Streamlit client without a browser: it speaks the app's websocket protocol directly.

One `StreamlitClient` is one browser tab. It opens ``ws://HOST:PORT/_stcore/stream`` (with the
``streamlit`` subprotocol the frontend sends), asks for a script run with a ``BackMsg``
(``rerun_script``: a ``ClientState`` with the query string, the page and every widget's value),
and reads the ``ForwardMsg``s the run produces until its ``script_finished``:

- ``new_session`` opens each script run (also the one that ``st.rerun()`` starts on the server);
  its ``metadata.run`` names the run and, for a fragment run, the fragments it redraws;
- ``navigation`` tells which page of ``st.navigation`` ran (its ``page_script_hash`` goes into
  the next ``ClientState``, as the frontend does);
- ``page_info_changed`` carries the query string after ``st.query_params`` changed;
- ``delta``s carry the elements, at a ``delta_path``; widgets have an ``id`` that ends with
  the user's ``key`` (``$$ID-<hash>-<key>``), ``exception`` elements are uncaught errors;
- ``script_finished``: ``FINISHED_EARLY_FOR_RERUN`` when ``st.rerun()`` cut the run short
  (another run follows), otherwise the run chain the client asked for is over.

Widget values are kept the way Streamlit's frontend keeps them (``WidgetStateManager``): every
widget on the page has a value (its default, once drawn), a change is sent with the values of
all the others, buttons are a ``trigger_value`` sent once, a form's widgets are sent when its
submit button is pressed, and widgets that were not drawn by the last full run are forgotten.
In Streamlit 1.67 a radio's or selectbox's value is the *formatted option* as a string
(``string_value``), not its index.

Only what the load test needs is covered: no uploads (those need the XSRF cookie), no
component messages, no cached-message hashes (so the server always sends whole messages).
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field

import websockets
from streamlit.proto.Alert_pb2 import Alert
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

ID_PATTERN = re.compile(r"^\$\$ID-[0-9a-f]+-(.*)$")
FINAL = {ForwardMsg.FINISHED_SUCCESSFULLY, ForwardMsg.FINISHED_WITH_COMPILE_ERROR,
         ForwardMsg.FINISHED_FRAGMENT_RUN_SUCCESSFULLY}
STRING_WIDGETS = {"radio", "selectbox", "text_input", "text_area", "color_picker"}


class ProtocolError(RuntimeError):
    """The server closed the connection, or a run did not finish in time."""


@dataclass
class Element:
    """One element on the page: its type (the ``Element`` oneof name) and its proto."""

    kind: str
    proto: object
    path: tuple[int, ...]
    run_id: str
    fragment_id: str = ""

    @property
    def id(self) -> str:
        return getattr(self.proto, "id", "")

    @property
    def key(self) -> str | None:
        """The user's ``key=`` of a widget (``None`` for other elements)."""
        match = ID_PATTERN.match(self.id)
        return match.group(1) if match else None

    @property
    def text(self) -> str:
        for name in ("label", "body", "message"):
            value = getattr(self.proto, name, None)
            if isinstance(value, str) and value:
                return value
        return ""


@dataclass
class RunResult:
    """What one request produced: the page's elements after the run chain, and its problems."""

    status: int
    seconds: float
    runs: int
    exceptions: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # st.error alerts

    @property
    def ok(self) -> bool:
        return self.status != ForwardMsg.FINISHED_WITH_COMPILE_ERROR and not self.exceptions


class StreamlitClient:
    """One browser tab's worth of protocol. Use as ``async with StreamlitClient(...)``."""

    def __init__(self, host: str, port: int, timeout: float = 120.0):
        if host not in ("127.0.0.1", "localhost", "::1"):
            raise ValueError("this client is for load tests on the loopback interface only")
        self.host, self.port, self.timeout = host, port, timeout
        self.ws = None
        self.query_string = ""
        self.page_script_hash = ""
        self.page_name = ""
        self.session_id = ""
        self.elements: dict[tuple[int, ...], Element] = {}
        self.states: dict[str, WidgetState] = {}  # committed values, by widget id
        self.pending_form: dict[str, dict[str, WidgetState]] = {}  # form id -> values not sent
        self.messages = 0
        self.bytes = 0

    async def __aenter__(self) -> StreamlitClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    async def connect(self) -> None:
        origin = f"http://{self.host}:{self.port}"
        self.ws = await websockets.connect(
            f"ws://{self.host}:{self.port}/_stcore/stream", subprotocols=["streamlit"],
            origin=origin, max_size=None, open_timeout=self.timeout, ping_interval=20,
            ping_timeout=self.timeout, compression=None)

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
            self.ws = None

    # ---------------------------------------------------------------- what is on the page

    def widgets(self) -> list[Element]:
        return [e for e in self.elements.values() if e.key is not None]

    def widget(self, key: str) -> Element:
        """The widget with this user key (or, for keyless buttons, this label)."""
        for element in self.widgets():
            if element.key == key:
                return element
        for element in self.widgets():
            if element.kind == "button" and element.text == key:
                return element
        raise KeyError(f"no widget {key!r} on the page; widgets: "
                       f"{sorted(str(e.key) for e in self.widgets())}")

    def has_widget(self, key: str) -> bool:
        try:
            self.widget(key)
        except KeyError:
            return False
        return True

    def texts(self, kind: str | None = None) -> list[str]:
        return [e.text for _, e in sorted(self.elements.items())
                if kind is None or e.kind == kind]

    @staticmethod
    def radio_index(element: Element) -> int | None:
        """The option a radio or selectbox shows as chosen, as drawn by the server."""
        proto = element.proto
        if proto.HasField("default"):
            return proto.default
        return None

    # ---------------------------------------------------------------- actions

    async def open(self, path: str = "", query: str = "") -> RunResult:
        """What the frontend does when a tab opens ``/path?query``: ask for the first run."""
        self.query_string = query
        self.page_name = path.strip("/")
        self.page_script_hash = ""
        return await self.rerun()

    async def set_value(self, key: str, value) -> RunResult:
        """Change a widget's value (as a user would) and wait for the run it starts."""
        element = self.widget(key)
        state = _state(element, value)
        form_id = getattr(element.proto, "form_id", "")
        if form_id:
            self.pending_form.setdefault(form_id, {})[element.id] = state
            return RunResult(ForwardMsg.FINISHED_SUCCESSFULLY, 0.0, 0)
        self.states[element.id] = state
        return await self.rerun(fragment_id=element.fragment_id)

    async def choose(self, key: str, index: int) -> RunResult:
        """Pick a radio's or selectbox's option by its position."""
        element = self.widget(key)
        return await self.set_value(key, element.proto.options[index])

    async def click(self, key: str) -> RunResult:
        """Press a button (a trigger: true for this one run); a form's submit button sends the
        form's values with it."""
        element = self.widget(key)
        trigger = WidgetState(id=element.id, trigger_value=True)
        if element.proto.is_form_submitter:
            self.states.update(self.pending_form.pop(element.proto.form_id, {}))
        return await self.rerun(extra=[trigger], fragment_id=element.fragment_id)

    async def rerun(self, extra: list[WidgetState] | None = None,
                    fragment_id: str = "") -> RunResult:
        """Send a ``rerun_script`` and read until the run chain it starts has finished."""
        message = BackMsg()
        state = message.rerun_script
        state.query_string = self.query_string
        state.page_script_hash = self.page_script_hash
        state.page_name = self.page_name
        if fragment_id:
            state.fragment_id = fragment_id
        for widget_state in [*self.states.values(), *(extra or [])]:
            state.widget_states.widgets.add().CopyFrom(widget_state)
        started = time.perf_counter()
        try:
            await self.ws.send(message.SerializeToString())
            return await asyncio.wait_for(self._read_until_finished(started), self.timeout)
        except TimeoutError:
            raise ProtocolError(f"no script_finished within {self.timeout:.0f} s") from None
        except websockets.ConnectionClosed as e:
            raise ProtocolError(f"disconnected: {e}") from None

    # ---------------------------------------------------------------- reading

    async def _read_until_finished(self, started: float) -> RunResult:
        result = RunResult(status=-1, seconds=0.0, runs=0)
        run_id, fragments = "", ()
        while True:
            data = await self.ws.recv()
            self.messages += 1
            self.bytes += len(data)
            msg = ForwardMsg()
            msg.ParseFromString(data)
            kind = msg.WhichOneof("type")
            if kind == "new_session":
                result.runs += 1
                run_id = msg.metadata.run.script_run_id
                fragments = tuple(msg.metadata.run.fragment_ids)
                result.exceptions.clear()
                result.errors.clear()
                if msg.new_session.HasField("initialize"):
                    self.session_id = msg.new_session.initialize.session_id
            elif kind == "navigation":
                self.page_script_hash = msg.navigation.page_script_hash
            elif kind == "page_info_changed":
                self.query_string = msg.page_info_changed.query_string
            elif kind == "delta":
                self._delta(msg, run_id, result)
            elif kind == "script_finished":
                status = msg.script_finished
                if status == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    continue  # st.rerun(): the next run follows on its own
                self._forget_stale(run_id, fragments, status)
                result.status = status
                result.seconds = time.perf_counter() - started
                return result
            elif kind == "session_event" and msg.session_event.HasField(
                    "script_compilation_exception"):
                result.exceptions.append(msg.session_event.script_compilation_exception.message)

    def _delta(self, msg: ForwardMsg, run_id: str, result: RunResult) -> None:
        delta = msg.delta
        path = tuple(msg.metadata.delta_path)
        if delta.WhichOneof("type") != "new_element":
            return
        kind = delta.new_element.WhichOneof("type")
        proto = getattr(delta.new_element, kind)
        element = Element(kind, proto, path, run_id, delta.fragment_id)
        self.elements[path] = element
        if kind == "exception":
            result.exceptions.append(f"{proto.type}: {proto.message}".strip(": "))
        elif kind == "alert" and proto.format == Alert.ERROR:
            result.errors.append(proto.body)
        if element.key is None:
            return
        form_id = getattr(proto, "form_id", "")
        current = self.pending_form.get(form_id, {}) if form_id else self.states
        if getattr(proto, "set_value", False) or element.id not in current:
            default = _default_state(element)
            if default is not None:
                current[element.id] = default
            elif getattr(proto, "set_value", False):
                current.pop(element.id, None)

    def _forget_stale(self, run_id: str, fragments: tuple[str, ...], status: int) -> None:
        """Drop what the finished run did not draw (all of it, or that of its fragments), and
        the values of widgets no longer on the page, as the frontend does."""
        if status == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
            return
        self.elements = {p: e for p, e in self.elements.items()
                         if e.run_id == run_id or (fragments and e.fragment_id not in fragments)}
        if not fragments:
            active = {e.id for e in self.elements.values() if e.key is not None}
            self.states = {i: s for i, s in self.states.items() if i in active}
            forms = {getattr(e.proto, "form_id", "") for e in self.elements.values()}
            self.pending_form = {f: v for f, v in self.pending_form.items() if f in forms}


def _state(element: Element, value) -> WidgetState:
    """A widget's value in the shape its ``value_type`` has on the server."""
    state = WidgetState(id=element.id)
    if element.kind in STRING_WIDGETS:
        state.string_value = str(value)
    elif element.kind == "number_input":
        state.double_value = float(value)
    elif element.kind == "checkbox":
        state.bool_value = bool(value)
    elif element.kind == "multiselect":
        state.string_array_value.data.extend(str(v) for v in value)
    else:
        raise TypeError(f"setting a {element.kind} is not supported")
    return state


def _default_state(element: Element) -> WidgetState | None:
    """The value a freshly drawn widget reports (what the frontend sets when it mounts one)."""
    proto, kind = element.proto, element.kind
    if getattr(proto, "set_value", False) and getattr(proto, "raw_value", ""):
        return WidgetState(id=element.id, string_value=proto.raw_value)
    if kind in ("radio", "selectbox"):
        if proto.HasField("default") and 0 <= proto.default < len(proto.options):
            return WidgetState(id=element.id, string_value=proto.options[proto.default])
        return None
    if kind in ("text_input", "text_area"):
        value = proto.value if proto.set_value else proto.default
        return WidgetState(id=element.id, string_value=value)
    if kind == "checkbox":
        return WidgetState(id=element.id, bool_value=proto.default)
    if kind == "number_input" and proto.HasField("default"):
        return WidgetState(id=element.id, double_value=proto.default)
    return None
