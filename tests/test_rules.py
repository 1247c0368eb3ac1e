"""The client's memory rules, table by table: every rule id, every VM state, F16-F18."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from hvmem.model import (
    SETTING_FIELDS,
    HostSnapshot,
    MemoryChange,
    MemorySettings,
    VmSnapshot,
)
from hvmem.rules import Finding, check, effective_change, field_states, max_bound_mb

STATIC = MemorySettings(4096, False, 512, 1048576, 20, 50)
DYNAMIC = MemorySettings(2048, True, 1024, 4096, 20, 50)


def make_vm(state: str = "Off", memory: MemorySettings = STATIC,
            **extra: Any) -> VmSnapshot:
    running = state == "Running"
    values: dict[str, Any] = dict(
        id="3f1c2a4e-0000-4000-8000-000000000001", name="app01", state=state,
        generation=2, version="10.0", memory=memory,
        assigned_mb=memory.startup_mb if running else 0,
        demand_mb=1500 if running else 0, memory_status="", cpu_percent=0,
        uptime_s=100 if running else 0, status="Operating normally",
    )
    values.update(extra)
    return VmSnapshot(**values)


def errors(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings if f.severity == "error"}


def warnings(findings: list[Finding]) -> set[str]:
    return {f.rule for f in findings if f.severity == "warning"}


# (case, state, memory, extra VM fields, change, expected error ids)
CASES: list[tuple[str, str, MemorySettings, dict[str, Any], MemoryChange, set[str]]] = [
    ("off static startup", "Off", STATIC, {}, MemoryChange(startup_mb=8192), set()),
    ("off odd startup", "Off", STATIC, {}, MemoryChange(startup_mb=4019), {"align-2mb"}),
    ("off odd minimum", "Off", DYNAMIC, {}, MemoryChange(minimum_mb=513), {"align-2mb"}),
    ("off odd maximum", "Off", DYNAMIC, {}, MemoryChange(maximum_mb=8191), {"align-2mb"}),
    ("below 32", "Off", STATIC, {}, MemoryChange(startup_mb=30), {"min-32mb"}),
    ("31 is odd and low", "Off", STATIC, {}, MemoryChange(startup_mb=31),
     {"min-32mb", "align-2mb"}),
    ("32 is fine", "Off", STATIC, {}, MemoryChange(startup_mb=32), set()),
    ("gen1 above 1TB", "Off", DYNAMIC, {"generation": 1},
     MemoryChange(maximum_mb=1048578), {"max-bound"}),
    ("gen1 at 1TB", "Off", DYNAMIC, {"generation": 1},
     MemoryChange(maximum_mb=1048576), set()),
    ("gen2 v7.1 above 1TB", "Off", DYNAMIC, {"version": "7.1"},
     MemoryChange(maximum_mb=1048578), {"max-bound"}),
    ("gen2 v8.0 at 12TB", "Off", DYNAMIC, {"version": "8.0"},
     MemoryChange(maximum_mb=12582912), set()),
    ("gen2 v9.1 above 12TB", "Off", DYNAMIC, {"version": "9.1"},
     MemoryChange(maximum_mb=12582914), {"max-bound"}),
    ("gen2 v9.2 at 240TB", "Off", DYNAMIC, {"version": "9.2"},
     MemoryChange(maximum_mb=251658240), set()),
    ("gen2 v10 above 240TB", "Off", DYNAMIC, {},
     MemoryChange(maximum_mb=251658242), {"max-bound"}),
    ("min above startup", "Off", DYNAMIC, {}, MemoryChange(minimum_mb=3072),
     {"order-min-startup"}),
    ("startup above max", "Off", DYNAMIC, {}, MemoryChange(startup_mb=8192),
     {"order-startup-max"}),
    ("buffer 4", "Off", DYNAMIC, {}, MemoryChange(buffer_percent=4), {"buffer-range"}),
    ("buffer 2001", "Off", DYNAMIC, {}, MemoryChange(buffer_percent=2001),
     {"buffer-range"}),
    ("buffer 2000", "Off", DYNAMIC, {}, MemoryChange(buffer_percent=2000), set()),
    ("weight 101", "Off", STATIC, {}, MemoryChange(weight=101), {"weight-range"}),
    ("weight -1", "Off", STATIC, {}, MemoryChange(weight=-1), {"weight-range"}),
    ("weight 0", "Off", STATIC, {}, MemoryChange(weight=0), set()),
    ("min on static", "Off", STATIC, {}, MemoryChange(minimum_mb=256), {"dm-required"}),
    ("buffer on static", "Off", STATIC, {}, MemoryChange(buffer_percent=30),
     {"dm-required"}),
    ("max with DM on in the same change", "Off", STATIC, {},
     MemoryChange(dynamic=True, maximum_mb=8192), set()),
    ("max with DM off in the same change", "Off", DYNAMIC, {},
     MemoryChange(dynamic=False, maximum_mb=8192), {"dm-required"}),
    ("off toggles DM", "Off", DYNAMIC, {}, MemoryChange(dynamic=False), set()),
    ("gpu: DM with startup != min", "Off", STATIC, {"gpu_partition": True},
     MemoryChange(dynamic=True), {"gpu-startup-min"}),
    ("gpu: DM with startup == min", "Off", STATIC, {"gpu_partition": True},
     MemoryChange(dynamic=True, minimum_mb=4096), set()),
    ("gpu static is fine", "Off", STATIC, {"gpu_partition": True},
     MemoryChange(startup_mb=8192), set()),
    # Running with Dynamic Memory (F18)
    ("running DM min up", "Running", DYNAMIC, {}, MemoryChange(minimum_mb=2048),
     {"running-dm-min-raise"}),
    ("running DM min down", "Running", DYNAMIC, {}, MemoryChange(minimum_mb=512), set()),
    ("running DM max down", "Running", DYNAMIC, {}, MemoryChange(maximum_mb=2048),
     {"running-dm-max-lower"}),
    ("running DM max up", "Running", DYNAMIC, {}, MemoryChange(maximum_mb=8192), set()),
    ("running DM off", "Running", DYNAMIC, {}, MemoryChange(dynamic=False),
     {"running-dm-toggle"}),
    ("running DM startup", "Running", DYNAMIC, {}, MemoryChange(startup_mb=3072),
     {"running-dm-startup"}),
    ("running DM buffer", "Running", DYNAMIC, {}, MemoryChange(buffer_percent=50), set()),
    ("running DM weight", "Running", DYNAMIC, {}, MemoryChange(weight=80), set()),
    # Running with static memory (runtime resize)
    ("running static resize", "Running", STATIC, {}, MemoryChange(startup_mb=8192),
     set()),
    ("running static DM on", "Running", STATIC, {}, MemoryChange(dynamic=True),
     {"running-dm-toggle"}),
    ("running static v5.0", "Running", STATIC, {"version": "5.0"},
     MemoryChange(startup_mb=8192), {"runtime-resize-version"}),
    ("running static v6.2", "Running", STATIC, {"version": "6.2"},
     MemoryChange(startup_mb=8192), set()),
    ("running static v10.0 > 6.2 numerically", "Running", STATIC, {"version": "10.0"},
     MemoryChange(startup_mb=8192), set()),
    ("running static v6.10 > 6.2 numerically", "Running", STATIC, {"version": "6.10"},
     MemoryChange(startup_mb=8192), set()),
    ("running static unknown version", "Running", STATIC, {"version": ""},
     MemoryChange(startup_mb=8192), {"runtime-resize-version"}),
    ("running static nested", "Running", STATIC, {"nested_virtualization": True},
     MemoryChange(startup_mb=8192), {"runtime-resize-nested"}),
    ("running static min", "Running", STATIC, {}, MemoryChange(minimum_mb=256),
     {"dm-required"}),
    # The issue's matrix: a running static VM takes Startup only (weight unverified).
    ("running static weight", "Running", STATIC, {}, MemoryChange(weight=10),
     {"state-readonly"}),
    ("running static weight and startup", "Running", STATIC, {},
     MemoryChange(startup_mb=8192, weight=10), {"state-readonly"}),
    ("running static old and nested", "Running", STATIC,
     {"version": "5.0", "nested_virtualization": True}, MemoryChange(startup_mb=8192),
     {"runtime-resize-version", "runtime-resize-nested"}),
    ("running DM toggle and startup", "Running", DYNAMIC, {},
     MemoryChange(dynamic=False, startup_mb=4096),
     {"running-dm-toggle", "running-dm-startup"}),
    ("static odd minimum held, DM turned on", "Off", replace(STATIC, minimum_mb=513),
     {}, MemoryChange(dynamic=True), {"align-2mb"}),
    ("static buffer held out of range, DM turned on", "Off",
     replace(STATIC, buffer_percent=0), {}, MemoryChange(dynamic=True),
     {"buffer-range"}),
    ("min below 32 on static is only dm-required", "Running", STATIC, {},
     MemoryChange(minimum_mb=0), {"dm-required"}),
]


@pytest.mark.parametrize(("state", "memory", "extra", "change", "expected"),
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_rule_table(state: str, memory: MemorySettings, extra: dict[str, Any],
                    change: MemoryChange, expected: set[str]) -> None:
    findings = check(make_vm(state, memory, **extra), change)

    assert errors(findings) == expected
    assert all(f.message for f in findings)


@pytest.mark.parametrize("state", ["Saved", "Paused", "Starting", "Stopping", "Saving",
                                   "Pausing", "Resuming", "State 32776",
                                   "RunningCritical"])
@pytest.mark.parametrize("memory", [STATIC, DYNAMIC])
def test_every_other_state_is_read_only(state: str, memory: MemorySettings) -> None:
    vm = make_vm(state, memory)

    findings = check(vm, MemoryChange(weight=60))

    assert errors(findings) == {"state-readonly"}
    assert state in findings[0].message
    assert not any(s.enabled for s in field_states(vm).values())


def test_f16_messages_say_what_to_type() -> None:
    vm = make_vm("Off", DYNAMIC)

    odd = check(vm, MemoryChange(startup_mb=4019))
    low = check(vm, MemoryChange(minimum_mb=31))
    buffer = check(vm, MemoryChange(buffer_percent=2001))

    assert "must be a multiple of 2 MB (4018 or 4020)" in odd[0].message
    assert odd[0].field == "startup_mb"
    assert any("at least 32 MB" in f.message for f in low)
    assert buffer[0].message == "Buffer must be between 5 and 2000 %"


def test_odd_value_is_reported_whichever_field_changed_last() -> None:
    vm = make_vm("Off", DYNAMIC)

    findings = check(vm, MemoryChange(startup_mb=2047, maximum_mb=8192))

    assert [(f.rule, f.field) for f in findings] == [("align-2mb", "startup_mb")]


def test_f17_final_combination_counts_not_the_order() -> None:
    vm = make_vm("Off", MemorySettings(1024, True, 512, 2048, 20, 50))

    widened = check(vm, MemoryChange(startup_mb=4096, maximum_mb=8192))
    narrowed = check(vm, MemoryChange(startup_mb=4096, maximum_mb=2048))

    assert widened == []
    assert errors(narrowed) == {"order-startup-max"}
    assert narrowed[0].field == "startup_mb"
    assert "must be at least Startup RAM (4096 MB)" in narrowed[0].message


@pytest.mark.parametrize(
    ("change", "rule", "words"),
    [
        (MemoryChange(minimum_mb=2048), "running-dm-min-raise",
         "Minimum RAM can only be lowered (now 1024 MB)"),
        (MemoryChange(maximum_mb=2048), "running-dm-max-lower",
         "While the VM runs, Maximum RAM can only be raised (now 4096 MB)"),
        (MemoryChange(dynamic=False), "running-dm-toggle",
         "Shut down the VM to turn Dynamic Memory on or off"),
        (MemoryChange(startup_mb=3072), "running-dm-startup",
         "Startup RAM cannot change"),
        (MemoryChange(maximum_mb=8192), None, ""),
    ],
)
def test_f18_running_dm_edits_one_at_a_time(change: MemoryChange, rule: str | None,
                                           words: str) -> None:
    findings = check(make_vm("Running", DYNAMIC), change)

    if rule is None:
        assert findings == []
    else:
        assert [f.rule for f in findings] == [rule]
        assert words in findings[0].message


def test_old_version_message_names_both_versions() -> None:
    vm = make_vm("Running", STATIC, version="5.0")

    findings = check(vm, MemoryChange(startup_mb=8192))

    assert ("Configuration version 5.0 is too old to resize memory while the VM runs "
            "(6.2 or later needed)") in findings[0].message


def test_one_tb_maximum_is_exact_and_allowed() -> None:
    vm = make_vm("Off", MemorySettings(4096, True, 512, 1048576, 20, 50), generation=1)

    assert max_bound_mb(vm) == 1048576
    assert check(vm, MemoryChange(startup_mb=8192)) == []
    assert errors(check(vm, MemoryChange(maximum_mb=1048576 + 2))) == {"max-bound"}


def test_values_equal_to_the_vms_are_ignored() -> None:
    vm = make_vm("Off", STATIC)

    # Minimum unchanged on a static VM would trip dm-required if it were sent.
    assert check(vm, MemoryChange(minimum_mb=512, startup_mb=4096)) == []
    assert effective_change(vm, MemoryChange(minimum_mb=512, weight=70)) == MemoryChange(
        weight=70)


def test_retrying_a_partial_resize_is_a_real_change() -> None:
    vm = make_vm("Running", replace(STATIC, startup_mb=16384), assigned_mb=10240)

    assert effective_change(vm, MemoryChange(startup_mb=16384)) == MemoryChange(
        startup_mb=16384)


HOST = HostSnapshot("HV01", total_mb=32768, available_mb=6144)


def test_f19_increase_beyond_host_free_memory_warns() -> None:
    vm = make_vm("Running", STATIC, version="9.0")

    findings = check(vm, MemoryChange(startup_mb=16384), HOST)

    assert warnings(findings) == {"host-free-memory"}
    assert not errors(findings)
    assert "Hyper-V is likely to add only about 6144 MB" in findings[0].message


def test_decrease_below_guest_use_warns() -> None:
    vm = make_vm("Running", STATIC, demand_mb=3000)

    findings = check(vm, MemoryChange(startup_mb=2048), HOST)

    assert warnings(findings) == {"guest-in-use"}
    assert "The guest is using about 3000 MB" in findings[0].message
    assert "removes only memory the guest does not use" in findings[0].message


def test_when_nothing_can_move_the_warning_says_so() -> None:
    """After a partial result the host has nothing free; "about 0 MB" read as nonsense."""
    full = replace(HOST, available_mb=1)
    vm = make_vm("Running", STATIC, demand_mb=4096)

    grow = check(vm, MemoryChange(startup_mb=8192), full)[0].message
    shrink = check(vm, MemoryChange(startup_mb=2048), full)[0].message

    assert grow.endswith("so Hyper-V is likely to add nothing, and the VM would keep "
                         "its 4096 MB")
    assert shrink.endswith("so it is likely to remove nothing")


def test_warnings_need_the_host_and_no_errors() -> None:
    vm = make_vm("Running", STATIC)

    assert check(vm, MemoryChange(startup_mb=16384)) == []
    assert errors(check(vm, MemoryChange(startup_mb=16385), HOST)) == {"align-2mb"}
    assert not warnings(check(vm, MemoryChange(startup_mb=16385), HOST))
    assert check(vm, MemoryChange(startup_mb=6144), HOST) == []


def test_off_vm_startup_above_host_free_warns() -> None:
    findings = check(make_vm("Off", STATIC), MemoryChange(startup_mb=8192), HOST)

    assert warnings(findings) == {"host-free-memory"}
    assert "may not start" in findings[0].message


def enabled(vm: VmSnapshot, dynamic: bool | None = None) -> set[str]:
    return {name for name, state in field_states(vm, dynamic).items() if state.enabled}


def test_field_states_across_the_state_matrix() -> None:
    assert set(field_states(make_vm())) == set(SETTING_FIELDS)
    assert enabled(make_vm("Off", STATIC)) == {"startup_mb", "dynamic", "weight"}
    assert enabled(make_vm("Off", STATIC), dynamic=True) == set(SETTING_FIELDS)
    assert enabled(make_vm("Off", DYNAMIC)) == set(SETTING_FIELDS)
    assert enabled(make_vm("Running", DYNAMIC)) == {
        "minimum_mb", "maximum_mb", "buffer_percent", "weight"}
    assert enabled(make_vm("Running", STATIC)) == {"startup_mb"}
    assert enabled(make_vm("Running", STATIC, version="5.0")) == set()
    assert enabled(make_vm("Running", STATIC, nested_virtualization=True)) == set()


def test_disabled_fields_say_why() -> None:
    running_dm = field_states(make_vm("Running", DYNAMIC))
    old = field_states(make_vm("Running", STATIC, version="5.0"))

    assert "Shut down the VM" in running_dm["dynamic"].reason
    assert "now 4096 MB" in running_dm["maximum_mb"].reason
    assert "6.2 or later needed" in old["startup_mb"].reason


def test_a_locked_weight_never_claims_startup_can_change() -> None:
    """Beside a Startup locked by nested virtualisation, 'only Startup RAM can change'
    read as a contradiction."""
    vm = make_vm("Running", STATIC, nested_virtualization=True)

    states = field_states(vm)

    assert not states["startup_mb"].enabled and not states["weight"].enabled
    assert "Startup" not in states["weight"].reason
    assert "shut the VM down" in states["weight"].reason
