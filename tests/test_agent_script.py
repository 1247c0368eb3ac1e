"""Static checks of the PowerShell agent and its bootstrap (no PowerShell runs here).

The agent is parsed with tree-sitter-powershell: a syntax slip would otherwise surface
only on a real Windows host. The same parse tree then checks what the design promises:
VMs are chosen by Id, never by name; Hyper-V cmdlets are module-qualified; the agent
speaks exactly the wire names of `hvmem.hyperv.protocol`; nothing needs PowerShell 7.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import pytest
import tree_sitter
import tree_sitter_powershell

from hvmem.hyperv import agent_script, protocol
from hvmem.model import HelloInfo

LANGUAGE = tree_sitter.Language(tree_sitter_powershell.language())

# Hyper-V cmdlets the agent may call; each must name its module (PowerCLI has a Get-VM).
HYPERV_CMDLETS = {
    "get-vm", "get-vmhost", "get-vmmemory", "set-vmmemory", "get-vmprocessor",
    "get-vmgpupartitionadapter", "start-vm", "stop-vm", "save-vm",
}
# The cmdlets behind the power operations.
POWER_CMDLETS = ("Hyper-V\\Start-VM", "Hyper-V\\Stop-VM", "Hyper-V\\Save-VM")


def parse(source: str) -> tree_sitter.Node:
    return tree_sitter.Parser(LANGUAGE).parse(source.encode("utf-8")).root_node


def walk(node: tree_sitter.Node) -> Iterator[tree_sitter.Node]:
    yield node
    for child in node.children:
        yield from walk(child)


def text(node: tree_sitter.Node) -> str:
    return (node.text or b"").decode("utf-8")


def syntax_problems(source: str) -> list[str]:
    """Every ERROR or MISSING node as 'line N: kind', with 1-based line numbers."""
    return [
        f"line {node.start_point[0] + 1}: {'MISSING' if node.is_missing else 'ERROR'}"
        f" near {text(node)[:40]!r}"
        for node in walk(parse(source))
        if node.is_error or node.is_missing
    ]


def commands(source: str) -> list[tuple[str, list[str]]]:
    """(command name, its -parameters) for every command in the script."""
    found = []
    for node in walk(parse(source)):
        if node.type != "command":
            continue
        name = node.child_by_field_name("command_name")
        parameters = [text(n) for n in walk(node) if n.type == "command_parameter"]
        found.append((text(name) if name else "", parameters))
    return found


def function_node(source: str, name: str) -> tree_sitter.Node:
    for node in walk(parse(source)):
        if node.type == "function_statement":
            names = [c for c in node.children if c.type == "function_name"]
            if names and text(names[0]) == name:
                return node
    raise AssertionError(f"function {name} not found in the agent")


def hash_keys(node: tree_sitter.Node) -> set[str]:
    return {text(n) for n in walk(node) if n.type == "key_expression"}


def code_without_comments(source: str) -> str:
    """The script with every comment blanked, so rules apply to code only."""
    raw = bytearray(source.encode("utf-8"))
    for node in walk(parse(source)):
        if node.type == "comment":
            raw[node.start_byte:node.end_byte] = b" " * (node.end_byte - node.start_byte)
    return raw.decode("utf-8")


def docstring_fields(label: str) -> set[str]:
    """The field names protocol.py's docstring lists for one wire record."""
    doc = protocol.__doc__ or ""
    match = re.search(rf"\* {label}: ``(.*?)``", doc, re.S)
    assert match, f"protocol docstring lists no {label} record"
    return {name.strip() for name in match.group(1).split(",")}


@pytest.fixture(scope="module")
def agent() -> str:
    return agent_script.agent_source()


def test_agent_parses_without_errors(agent: str) -> None:
    assert syntax_problems(agent) == []


def test_parse_check_catches_a_broken_script() -> None:
    # The check above is only worth something if it sees a real slip.
    problems = syntax_problems("function Broken {\n    $x = @{ a = 1\n}\n")
    assert problems and all(p.startswith("line ") for p in problems)


def test_bootstrap_parses_without_errors() -> None:
    assert syntax_problems(agent_script.BOOTSTRAP) == []


def test_start_command_fits_and_carries_the_bootstrap() -> None:
    command = agent_script.start_command()
    assert len(command) <= agent_script.MAX_COMMAND_LINE

    encoded = command.rsplit(" ", 1)[-1]
    decoded = base64.b64decode(encoded).decode("utf-16-le")
    assert decoded == agent_script.BOOTSTRAP
    assert syntax_problems(decoded) == []


def test_script_line_is_one_line_that_decodes_to_the_agent(agent: str) -> None:
    line = agent_script.script_line()
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert base64.b64decode(line.strip()).decode("utf-8") == agent
    assert agent_script.decode_script_line(line) == agent


def test_agent_is_ascii(agent: str) -> None:
    # Bytes outside ASCII would depend on how the host decodes the script.
    assert agent.isascii()


def test_vms_are_never_selected_by_name(agent: str) -> None:
    for name, parameters in commands(agent):
        lowered = [p.lower() for p in parameters]
        assert "-name" not in lowered and "-vmname" not in lowered, (name, parameters)
    assert not re.search(r"-(VM)?Name\b", code_without_comments(agent), re.I)


def test_vm_lookup_is_by_id(agent: str) -> None:
    lookups = [params for name, params in commands(agent)
               if name.lower().endswith("get-vm") and params[:1] != []]
    assert lookups, "no Get-VM call with parameters"
    assert all("-Id" in params for params in lookups)


def test_hyperv_cmdlets_are_module_qualified(agent: str) -> None:
    used = [name for name, _ in commands(agent)
            if name.lower().split("\\")[-1] in HYPERV_CMDLETS]
    assert {"Hyper-V\\Get-VM", "Hyper-V\\Set-VMMemory"} <= set(used)
    assert all(name.startswith("Hyper-V\\") for name in used), used


def test_memory_change_is_one_splatted_call(agent: str) -> None:
    calls = [params for name, params in commands(agent) if name.endswith("Set-VMMemory")]
    assert len(calls) == 1
    assert "-VM" in calls[0] and "-ErrorVariable" in calls[0]
    assert re.search(r"Set-VMMemory -VM \$vm @splat", agent)


def test_preferences_are_set_first(agent: str) -> None:
    code = code_without_comments(agent)
    assert re.search(r"^\$ProgressPreference = 'SilentlyContinue'$", code, re.M)
    assert re.search(r"^\$ErrorActionPreference = 'Stop'$", code, re.M)


def test_json_output_is_deep_compressed_and_not_piped(agent: str) -> None:
    calls = [params for name, params in commands(agent) if name == "ConvertTo-Json"]
    assert calls
    for params in calls:
        assert {"-InputObject", "-Depth", "-Compress"} <= set(params), params
    assert not re.search(r"\|\s*ConvertTo-Json", agent)


def test_nothing_needs_powershell_7(agent: str) -> None:
    code = code_without_comments(agent)
    for token in ("-AsArray", "-EnumsAsStrings", "-AsHashtable", "??", "?.", "&&", "||"):
        assert token not in code, token
    assert not re.search(r"\?\s.*\s:\s", code), "ternary operator"


def test_agent_speaks_the_protocol_constants(agent: str) -> None:
    assert f"$script:HvmemMarker = '{protocol.MARKER}'" in agent
    assert f"$script:HvmemProtocol = {protocol.PROTOCOL_VERSION}" in agent
    assert agent.startswith(f"# hvmem agent, protocol {protocol.PROTOCOL_VERSION}")


def test_agent_dispatches_exactly_the_protocol_operations(agent: str) -> None:
    dispatch = function_node(agent, "Invoke-Operation")
    cases = {
        text(n).strip("'")
        for n in walk(dispatch)
        if n.type == "switch_clause_condition"
    }
    assert cases == set(protocol.OPERATIONS)


def test_agent_setting_names_match_the_wire(agent: str) -> None:
    keys = set()
    for node in walk(parse(agent)):
        if node.type == "assignment_expression" and "HvmemSettingParameters" in text(
            node.children[0]
        ):
            keys = hash_keys(node)
    assert keys == set(protocol.SETTING_WIRE_NAMES.values())


def test_vm_record_has_exactly_the_wire_fields(agent: str) -> None:
    keys = hash_keys(function_node(agent, "ConvertTo-VmRecord"))
    assert keys == docstring_fields("vm")


def test_host_record_has_the_wire_fields(agent: str) -> None:
    keys = hash_keys(function_node(agent, "Get-HostRecord"))
    assert docstring_fields("host") <= keys


def test_hello_has_every_field_the_client_reads(agent: str) -> None:
    keys = hash_keys(function_node(agent, "Invoke-HelloOp"))
    assert set(HelloInfo.__dataclass_fields__) <= keys


def test_error_kinds_are_the_ones_the_client_maps(agent: str) -> None:
    kinds = set(re.findall(r"New-Failure '([a-z_]+)'", agent))
    assert kinds == {"agent", "bad_request", "not_found", "conflict", "host",
                     "access_denied"}


def power_calls(source: str) -> list[tuple[str, str, list[str]]]:
    """(cmdlet, the call's text, its -parameters) for every power cmdlet call."""
    found = []
    for node in walk(parse(source)):
        if node.type != "command":
            continue
        name = node.child_by_field_name("command_name")
        if name is not None and text(name) in POWER_CMDLETS:
            parameters = [text(n) for n in walk(node) if n.type == "command_parameter"]
            found.append((text(name), " ".join(text(node).split()), parameters))
    return found


def test_each_power_operation_runs_its_own_cmdlet(agent: str) -> None:
    calls = power_calls(agent)
    names = sorted(name for name, _, _ in calls)
    assert names == sorted(["Hyper-V\\Start-VM", "Hyper-V\\Stop-VM",
                            "Hyper-V\\Stop-VM", "Hyper-V\\Save-VM"])

    cmdlet = function_node(agent, "Invoke-PowerCmdlet")
    cases = {text(n).strip("'") for n in walk(cmdlet)
             if n.type == "switch_clause_condition"}
    assert cases == set(protocol.POWER_OPERATIONS)
    # Only a turn-off may cut the power; a shut down goes through the guest.
    turn_offs = [params for _, _, params in calls if "-TurnOff" in params]
    assert len(turn_offs) == 1


def test_power_cmdlets_select_the_vm_object_and_never_prompt(agent: str) -> None:
    # stdin carries the requests: a prompt would read the next request as its answer.
    for name, call, params in power_calls(agent):
        assert call.split()[1:3] == ["-VM", "$Vm"], call
        assert "-Confirm:$false" in call, call
        assert "-ErrorVariable" in params and "-ErrorAction" in params, call
        assert "-AsJob" not in params and "-Passthru" not in params, call
        if name.endswith("Stop-VM"):
            assert "-Force" in params, call


def test_power_op_guards_the_state_and_reads_the_vm_back(agent: str) -> None:
    source = text(function_node(agent, "Invoke-PowerOp"))
    assert "Get-JsonField $Arguments 'expected_state'" in source
    assert "-cne $expectedState" in source
    assert "New-Failure 'conflict'" in source and "current = $current" in source
    # The VM afterwards travels with success and with failure alike.
    assert source.count("Get-VmRecord (Get-VmById $id)") == 1
    assert "Complete-HyperVCall $failures $after" in source


def test_a_hyperv_call_answers_with_the_vm_or_a_host_failure_carrying_it(
        agent: str) -> None:
    source = text(function_node(agent, "Complete-HyperVCall"))
    assert "return [ordered]@{ vm = $After }" in source
    assert "New-Failure 'host'" in source
    assert "records = $records.ToArray()" in source and "vm = $After" in source


def test_unknown_op_message_names_every_operation(agent: str) -> None:
    source = text(function_node(agent, "Invoke-Operation"))
    flat = " ".join(source.split())
    for op in protocol.OPERATIONS:
        assert op in flat, op
