"""The opcode -> handler table: complete, explicit, read-only, and used without import side effects."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest
from support.models import REGISTER_UUID, small_model

from xentara_ws.protocol.codec import decode, encode
from xentara_ws.protocol.identifiers import Opcode, Stage
from xentara_ws.server.commands import COMMANDS
from xentara_ws.server.commands.stages import get_stage
from xentara_ws.server.connection_state import ConnectionState
from xentara_ws.server.dispatcher import Dispatcher
from xentara_ws.server.state import ServerState

HELLO = [0, 1, int(Opcode.CLIENT_HELLO), {0: 1, 1: 1}]


def test_every_opcode_of_the_api_and_the_extensions_has_a_handler():
    assert set(COMMANDS) == set(Opcode)
    assert {int(opcode) for opcode in COMMANDS} == set(range(16)) | set(range(256, 261))


@pytest.mark.parametrize("opcode", list(Opcode), ids=lambda opcode: opcode.name.lower())
def test_each_handler_is_named_for_its_opcode_in_a_command_family_module(opcode: Opcode):
    handler = COMMANDS[opcode]
    assert handler.__name__ == opcode.name.lower()
    assert handler.__module__.startswith("xentara_ws.server.commands.")


def test_the_shared_table_cannot_be_changed_by_accident():
    with pytest.raises(TypeError):
        COMMANDS[Opcode.GET_STAGE] = lambda ctx, params: 0  # type: ignore[index]


def test_a_dispatcher_in_a_fresh_interpreter_answers_without_the_commands_imported_first(tmp_path):
    # Before the explicit table, handlers registered on import: this dispatcher answered -32601.
    script = textwrap.dedent(
        """
        import sys
        from xentara_ws.demo import DEMO_DIR
        from xentara_ws.model import load_model
        from xentara_ws.protocol.codec import decode, encode
        from xentara_ws.server.connection_state import ConnectionState
        from xentara_ws.server.dispatcher import Dispatcher
        from xentara_ws.server.state import ServerState

        model = load_model(DEMO_DIR / "model.json")
        level = model.element("Plant.Tank.Level")
        dispatcher = Dispatcher(ServerState(model=model))
        message = [[0, 1, 14, {0: 1, 1: 1}], [0, 2, 4, {0: level.uuid, 1: [0]}]]
        print(repr(decode(dispatcher.handle_bytes(ConnectionState(), encode(message)))))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[[1, 1, {0: 1}], [1, 2, {0: CBORTag(121, 'Plant.Tank.Level')}]]"


def _greeted(dispatcher: Dispatcher) -> ConnectionState:
    connection = ConnectionState()
    assert decode(dispatcher.handle_bytes(connection, encode([HELLO]))) == [[1, 1, {0: 1}]]
    return connection


def test_a_dispatcher_given_its_own_handlers_runs_them_and_leaves_the_table_alone():
    def fixed_stage(ctx: Any, params: Any) -> int:
        return 42

    state = ServerState(model=small_model())
    custom = Dispatcher(state, {**COMMANDS, Opcode.GET_STAGE: fixed_stage})
    standard = Dispatcher(state)
    request = encode([[0, 2, int(Opcode.GET_STAGE)]])
    assert decode(custom.handle_bytes(_greeted(custom), request)) == [[1, 2, 42]]
    assert decode(standard.handle_bytes(_greeted(standard), request)) == [[1, 2, int(Stage.OPERATIONAL)]]
    assert COMMANDS[Opcode.GET_STAGE] is get_stage


def test_a_dispatcher_without_a_handler_for_an_opcode_answers_command_not_found():
    state = ServerState(model=small_model())
    handlers = {opcode: handler for opcode, handler in COMMANDS.items() if opcode != Opcode.READ}
    dispatcher = Dispatcher(state, handlers)
    reply = decode(dispatcher.handle_bytes(_greeted(dispatcher), encode([[0, 3, 4, {0: REGISTER_UUID, 1: [0]}]])))
    assert reply[0][:2] == [2, 3]
    assert reply[0][2][0] == -32601
