# hvmem agent, protocol 1: lists Hyper-V VMs, changes their memory, starts and stops them.
#
# Started by hvmem's fixed bootstrap (app/hvmem/hyperv/agent_script.py), which reads
# this script as one base64 line from stdin and dot-sources it. From then on every
# stdin line is a request {"id", "op", "args"} and every request gets exactly one
# stdout line: the marker <<hvmem1>> followed by compact, ASCII-only JSON (the protocol
# is described in app/hvmem/hyperv/protocol.py). Success and failure travel only in
# that line, never in the exit code or on stderr, because WinRM reports neither
# faithfully (field cases F01, F02).
#
# Written for Windows PowerShell 5.1 and PowerShell 7: no PowerShell 7 operators, no
# -AsArray, no -EnumsAsStrings. No value from a request is ever turned into code; VMs
# are chosen by Id only, since names may be wildcard patterns (F23).

$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'

$script:HvmemAgentVersion = '1.0.0'
$script:HvmemProtocol = 1
$script:HvmemMarker = '<<hvmem1>>'
$script:HvmemMiB = 1048576
$script:HvmemHyperVReady = $false

# Wire name of each memory setting -> the Set-VMMemory parameter that changes it.
$script:HvmemSettingParameters = [ordered]@{
    startup_bytes = 'StartupBytes'
    minimum_bytes = 'MinimumBytes'
    maximum_bytes = 'MaximumBytes'
    dynamic_memory = 'DynamicMemoryEnabled'
    buffer_percent = 'Buffer'
    weight = 'Priority'
}


# ---------------------------------------------------------------------------------------
# Failures and answers
# ---------------------------------------------------------------------------------------

function New-Failure {
    # A failure the agent decides on itself; thrown, then turned into an error answer.
    param([string]$Kind, [string]$Message, $Extra)

    $failure = [ordered]@{
        hvmem_failure = $true
        kind = $Kind
        message = $Message
        error_id = ''
        category = ''
        hresult = $null
    }
    if ($null -ne $Extra) {
        foreach ($key in @($Extra.Keys)) { $failure[$key] = $Extra[$key] }
    }
    return $failure
}

function New-ErrorAnswer {
    param($Id, $Failure)

    $errorPart = [ordered]@{}
    foreach ($key in @($Failure.Keys)) {
        if ($key -ne 'hvmem_failure') { $errorPart[$key] = $Failure[$key] }
    }
    return [ordered]@{ id = $Id; ok = $false; error = $errorPart }
}

function ConvertTo-WireRecord {
    # One PowerShell error as the protocol's record: the host's own text and ids.
    param($ErrorItem)

    if ($ErrorItem -is [System.Management.Automation.IContainsErrorRecord]) {
        $ErrorItem = $ErrorItem.ErrorRecord
    }
    if ($ErrorItem -isnot [System.Management.Automation.ErrorRecord]) {
        return [ordered]@{
            message = [string]$ErrorItem
            error_id = ''
            category = 'NotSpecified'
            hresult = $null
        }
    }

    $exception = $ErrorItem.Exception
    $message = [string]$exception.Message
    if ($null -ne $ErrorItem.ErrorDetails) {
        $details = [string]$ErrorItem.ErrorDetails.Message
        if ($details -and $details -ne $message) { $message = $message + "`n" + $details }
    }

    return [ordered]@{
        message = $message
        error_id = [string]$ErrorItem.FullyQualifiedErrorId
        category = $ErrorItem.CategoryInfo.Category.ToString()
        hresult = [int]$exception.HResult
    }
}

function Test-AccessDenied {
    param($ErrorRecord)

    $inner = $ErrorRecord.Exception
    while ($null -ne $inner) {
        if ($inner -is [System.UnauthorizedAccessException]) { return $true }
        $inner = $inner.InnerException
    }
    $errorId = [string]$ErrorRecord.FullyQualifiedErrorId
    if ($errorId -like 'AccessDenied*') { return $true }
    return ($ErrorRecord.CategoryInfo.Category.ToString() -eq 'PermissionDenied')
}

function ConvertTo-Failure {
    # Sorts an exception into the protocol's error kinds.
    param($ErrorRecord)

    $target = $ErrorRecord.TargetObject
    $isOwn = $target -is [System.Collections.IDictionary]
    if ($isOwn -and $target.Contains('hvmem_failure')) { return $target }

    $record = ConvertTo-WireRecord $ErrorRecord
    $extra = [ordered]@{
        error_id = $record.error_id
        category = $record.category
        hresult = $record.hresult
        records = @($record)
    }

    $missing = [System.Management.Automation.CommandNotFoundException]
    if ($ErrorRecord.Exception -is $missing) {
        $text = 'A command the agent needs is missing on ' + $env:COMPUTERNAME +
            ' (is the Hyper-V PowerShell module installed?): ' + $record.message
        return (New-Failure 'agent' $text $extra)
    }
    if (Test-AccessDenied $ErrorRecord) {
        return (New-Failure 'access_denied' $record.message $extra)
    }

    # An error raised by a cmdlet is the host's; anything else is a fault in this script,
    # and where it happened is what a person debugging it needs first.
    $invocation = $ErrorRecord.InvocationInfo
    $command = $null
    if ($null -ne $invocation) { $command = $invocation.MyCommand }
    if ($command -is [System.Management.Automation.CmdletInfo]) {
        return (New-Failure 'host' $record.message $extra)
    }
    if ($null -ne $invocation) { $extra['where'] = [string]$invocation.PositionMessage }
    return (New-Failure 'agent' ('The agent failed: ' + $record.message) $extra)
}

function ConvertTo-AsciiJson {
    # Names may hold any character; escaping them keeps the console code page out of
    # the way (F04). Outside strings JSON is ASCII already, so only strings change.
    param([string]$Json)

    # The explicit delegate type keeps overload resolution off Replace(string, string).
    $evaluator = [System.Text.RegularExpressions.MatchEvaluator]{
        param($found)
        '\u{0:x4}' -f [int][char]$found.Value
    }
    return [regex]::Replace($Json, '[^\x00-\x7E]', $evaluator)
}

function Write-Answer {
    param($Answer)

    try {
        # The default depth of 2 would turn nested records into strings.
        $json = ConvertTo-Json -InputObject $Answer -Depth 12 -Compress
    } catch {
        $text = 'The agent could not serialize its answer: ' + $_.Exception.Message
        $fallback = New-ErrorAnswer $Answer.id (New-Failure 'agent' $text $null)
        $json = ConvertTo-Json -InputObject $fallback -Depth 4 -Compress
    }
    [Console]::Out.WriteLine($script:HvmemMarker + (ConvertTo-AsciiJson $json))
    [Console]::Out.Flush()
}


# ---------------------------------------------------------------------------------------
# Reading requests: JSON data only, checked for type before use
# ---------------------------------------------------------------------------------------

function Get-JsonField {
    param($Object, [string]$Field)

    if ($null -eq $Object) { return $null }
    $property = $Object.PSObject.Properties[$Field]
    if ($null -eq $property) { return $null }
    return $property.Value
}

function Test-JsonObject {
    param($Value)

    return ($Value -is [System.Management.Automation.PSCustomObject])
}

function ConvertTo-WireInt64 {
    # 5.1 parses JSON numbers as Int32, Int64 or Decimal, PowerShell 7 as Int64 or Double.
    param($Value, [string]$Field)

    $whole = $false
    if ($Value -is [int] -or $Value -is [long]) { $whole = $true }
    elseif ($Value -is [decimal] -or $Value -is [double]) {
        $whole = ($Value -eq [math]::Floor($Value))
    }
    if ($whole) {
        try { return [int64]$Value } catch { $whole = $false }
    }
    throw (New-Failure 'bad_request' ($Field + ' must be a whole number') $null)
}

function ConvertTo-WireInt32 {
    param($Value, [string]$Field)

    $number = ConvertTo-WireInt64 $Value $Field
    if ($number -lt [int]::MinValue -or $number -gt [int]::MaxValue) {
        throw (New-Failure 'bad_request' ($Field + ' is out of range') $null)
    }
    return [int]$number
}

function ConvertTo-WireBool {
    # Never [bool] on anything else: [bool]'false' is $true.
    param($Value, [string]$Field)

    if ($Value -is [bool]) { return $Value }
    throw (New-Failure 'bad_request' ($Field + ' must be true or false') $null)
}

function ConvertTo-SettingValue {
    # A memory setting from JSON, typed as the Set-VMMemory parameter wants it.
    param([string]$Field, $Value)

    if ($Field -eq 'dynamic_memory') { return (ConvertTo-WireBool $Value $Field) }
    if ($Field -eq 'buffer_percent' -or $Field -eq 'weight') {
        return (ConvertTo-WireInt32 $Value $Field)
    }
    return (ConvertTo-WireInt64 $Value $Field)
}

function Get-VmIdArgument {
    param($Arguments)

    $text = Get-JsonField $Arguments 'vm_id'
    $guid = [guid]::Empty
    if ($text -isnot [string] -or -not [guid]::TryParse($text, [ref]$guid)) {
        throw (New-Failure 'bad_request' 'vm_id must be a VM id (a GUID)' $null)
    }
    return $guid
}


# ---------------------------------------------------------------------------------------
# Reading the host and its VMs
# ---------------------------------------------------------------------------------------

function Test-HyperVModule {
    $command = Get-Command Get-VM -Module Hyper-V -ErrorAction SilentlyContinue
    return ($null -ne $command)
}

function Assert-HyperVModule {
    if ($script:HvmemHyperVReady) { return }

    if (-not (Test-HyperVModule)) {
        $text = 'The Hyper-V PowerShell module is not available on ' + $env:COMPUTERNAME +
            '. Install it (Windows Server: feature Hyper-V-PowerShell; Windows 10/11: ' +
            'optional feature Microsoft-Hyper-V-Management-PowerShell).'
        throw (New-Failure 'agent' $text $null)
    }
    $script:HvmemHyperVReady = $true
}

function Get-HostAvailable {
    # Hyper-V's own figure for memory it can still hand out, from the Dynamic Memory
    # Balancer. Read through its WMI class, because counter paths are localized.
    $result = [ordered]@{ bytes = $null; source = ''; note = '' }
    try {
        $class = 'Win32_PerfFormattedData_BalancerStats_HyperVDynamicMemoryBalancer'
        $balancers = @(Get-CimInstance -ClassName $class -ErrorAction Stop)
    } catch {
        $balancers = @()
        $result.note = 'balancer counters unreadable: ' + $_.Exception.Message
    }

    if ($balancers.Count -gt 0) {
        # "System Balancer" is the host-wide instance; without it take the largest node
        # rather than a sum that might count the host twice.
        $best = $null
        foreach ($balancer in $balancers) {
            if ([string]$balancer.Name -eq 'System Balancer') { $best = $balancer; break }
            if ($null -eq $best -or
                [int64]$balancer.AvailableMemory -gt [int64]$best.AvailableMemory) {
                $best = $balancer
            }
        }
        $result.bytes = [int64]$best.AvailableMemory * $script:HvmemMiB
        $result.source = 'balancer'
        return $result
    }

    # Over-states what Hyper-V will give (it keeps a host reserve), but always exists.
    $os = Get-CimInstance -ClassName Win32_OperatingSystem -ErrorAction Stop
    $result.bytes = [int64]$os.FreePhysicalMemory * 1024
    $result.source = 'os_free'
    return $result
}

function Get-HostRecord {
    $vmHost = Hyper-V\Get-VMHost
    $available = Get-HostAvailable

    return [ordered]@{
        name = [string]$env:COMPUTERNAME
        total_bytes = [int64]$vmHost.MemoryCapacity
        available_bytes = $available.bytes
        available_source = $available.source
        available_note = $available.note
        locale = [string](Get-Culture).Name
    }
}

function Get-VmExtras {
    # Memory, processor and GPU settings for many VMs in one call each, indexed by VM id.
    param($Vms)

    $extras = @{
        memory = @{}
        processor = @{}
        gpu = $null
        gpu_known = $true
        notes = @()
    }
    if ($Vms.Count -eq 0) { return $extras }

    foreach ($memory in @(Hyper-V\Get-VMMemory -VM $Vms)) {
        $memoryKey = [string]$memory.VMId
        if ($memoryKey) { $extras.memory[$memoryKey] = $memory }
    }

    # Nested virtualization and GPU partitions only inform warnings; an unreadable value
    # becomes null (unknown) with a note, not a failed listing.
    try {
        foreach ($processor in @(Hyper-V\Get-VMProcessor -VM $Vms)) {
            $processorKey = [string]$processor.VMId
            if ($processorKey) { $extras.processor[$processorKey] = $processor }
        }
    } catch {
        $extras.processor = $null
        $extras.notes += ('processor settings unreadable: ' + $_.Exception.Message)
    }

    # Hosts older than GPU partitioning lack the cmdlet; their VMs have no partitions.
    $gpuCommand = Get-Command Get-VMGpuPartitionAdapter -Module Hyper-V `
        -ErrorAction SilentlyContinue
    if ($null -ne $gpuCommand) {
        try {
            $extras.gpu = @{}
            foreach ($adapter in @(Hyper-V\Get-VMGpuPartitionAdapter -VM $Vms)) {
                $adapterKey = [string]$adapter.VMId
                if (-not $adapterKey) { throw 'an adapter does not name its VM' }
                $extras.gpu[$adapterKey] = $true
            }
        } catch {
            $extras.gpu = $null
            $extras.gpu_known = $false
            $extras.notes += ('GPU partitions unreadable: ' + $_.Exception.Message)
        }
    }
    return $extras
}

function Get-StateValue {
    # The state's number, for display only: critical-state numbers differ between builds.
    param($State)

    try { return [int]$State } catch { return $null }
}

function ConvertTo-VmRecord {
    # Plain values only: state by name, uptime in seconds, id as text, memory in bytes
    # (ConvertTo-Json in 5.1 would give numbers for enums and objects for TimeSpans).
    param($Vm, $Extras)

    $key = [string]$Vm.Id
    $memory = $Extras.memory[$key]
    if ($null -eq $memory) { $memory = Hyper-V\Get-VMMemory -VM $Vm }

    $nested = $null
    if ($null -ne $Extras.processor -and $null -ne $Extras.processor[$key]) {
        $nested = [bool]$Extras.processor[$key].ExposeVirtualizationExtensions
    }
    $gpu = $null
    if ($null -ne $Extras.gpu) { $gpu = $Extras.gpu.ContainsKey($key) }
    elseif ($Extras.gpu_known) { $gpu = $false }

    return [ordered]@{
        id = $key
        name = [string]$Vm.Name
        state = $Vm.State.ToString()
        state_value = Get-StateValue $Vm.State
        status = [string]$Vm.Status
        generation = [int]$Vm.Generation
        version = [string]$Vm.Version
        uptime_s = [int64][math]::Floor($Vm.Uptime.TotalSeconds)
        cpu_percent = [int]$Vm.CPUUsage
        dynamic_memory = [bool]$memory.DynamicMemoryEnabled
        startup_bytes = [int64]$memory.Startup
        minimum_bytes = [int64]$memory.Minimum
        maximum_bytes = [int64]$memory.Maximum
        buffer_percent = [int]$memory.Buffer
        weight = [int]$memory.Priority
        assigned_bytes = [int64]$Vm.MemoryAssigned
        demand_bytes = [int64]$Vm.MemoryDemand
        memory_status = [string]$Vm.MemoryStatus
        nested_virtualization = $nested
        gpu_partition = $gpu
    }
}

function Test-NotFoundError {
    param($ErrorRecord)

    $errorId = [string]$ErrorRecord.FullyQualifiedErrorId
    if ($errorId -like 'InvalidParameter*' -or $errorId -like 'ObjectNotFound*') {
        return $true
    }
    $category = $ErrorRecord.CategoryInfo.Category.ToString()
    return ($category -eq 'ObjectNotFound' -or $category -eq 'InvalidArgument')
}

function Get-VmById {
    # Always by Id: a name may be a wildcard pattern or match several VMs (F23).
    param([guid]$Id)

    $lookupErrors = $null
    $found = @(Hyper-V\Get-VM -Id $Id -ErrorAction SilentlyContinue `
        -ErrorVariable lookupErrors)
    if ($found.Count -gt 0) { return $found[0] }

    $first = $null
    if ($null -ne $lookupErrors -and $lookupErrors.Count -gt 0) {
        $first = $lookupErrors[0]
    }
    if ($null -ne $first -and -not (Test-NotFoundError $first)) { throw $first }

    $extra = [ordered]@{ vm_id = $Id.ToString() }
    $text = 'No virtual machine with id ' + $Id.ToString() + ' on ' + $env:COMPUTERNAME
    if ($null -ne $first) {
        $record = ConvertTo-WireRecord $first
        $text = $record.message
        $extra['error_id'] = $record.error_id
        $extra['category'] = $record.category
        $extra['hresult'] = $record.hresult
        $extra['records'] = @($record)
    }
    throw (New-Failure 'not_found' $text $extra)
}

function Get-VmRecord {
    param($Vm)

    return (ConvertTo-VmRecord $Vm (Get-VmExtras @($Vm)))
}

function Add-DistinctError {
    # A terminating error may also sit in -ErrorVariable; report each exception once.
    param($List, $Item)

    $exception = $Item
    if ($Item -is [System.Management.Automation.ErrorRecord]) {
        $exception = $Item.Exception
    }
    foreach ($known in $List) {
        $knownException = $known
        if ($known -is [System.Management.Automation.ErrorRecord]) {
            $knownException = $known.Exception
        }
        if ([object]::ReferenceEquals($knownException, $exception)) { return }
    }
    $List.Add($Item)
}


# ---------------------------------------------------------------------------------------
# Operations
# ---------------------------------------------------------------------------------------

function Invoke-HelloOp {
    $identity = [System.Security.Principal.WindowsIdentity]::GetCurrent()
    $principal = New-Object -TypeName System.Security.Principal.WindowsPrincipal `
        -ArgumentList $identity
    $adminRole = [System.Security.Principal.WindowsBuiltInRole]::Administrator
    $isAdmin = $principal.IsInRole($adminRole)

    # Hyper-V Administrators by its well-known SID: the group's name is localized.
    $hypervAdmin = $isAdmin
    try {
        $sid = New-Object -TypeName System.Security.Principal.SecurityIdentifier `
            -ArgumentList 'S-1-5-32-578'
        $hypervAdmin = $isAdmin -or $principal.IsInRole($sid)
    } catch { $hypervAdmin = $isAdmin }

    return [ordered]@{
        agent_version = $script:HvmemAgentVersion
        protocol = $script:HvmemProtocol
        host_name = [string]$env:COMPUTERNAME
        ps_version = $PSVersionTable.PSVersion.ToString()
        ps_edition = [string]$PSVersionTable.PSEdition
        os_version = [System.Environment]::OSVersion.Version.ToString()
        simulated = $false
        is_admin = [bool]$isAdmin
        hyperv_admin = [bool]$hypervAdmin
        hyperv_module = Test-HyperVModule
        user = [string]$identity.Name
    }
}

function Invoke-ListOp {
    Assert-HyperVModule
    $vms = @(Hyper-V\Get-VM)

    $extras = Get-VmExtras $vms
    $records = New-Object -TypeName 'System.Collections.Generic.List[object]'
    foreach ($vm in $vms) { $records.Add((ConvertTo-VmRecord $vm $extras)) }

    # ToArray() right here: an empty host still gives "vms": [] (F11), and an array made
    # by a method call is never wrapped (5.1 would write a wrapped one as {"value": ...}).
    return [ordered]@{
        host = Get-HostRecord
        vms = $records.ToArray()
        notes = @($extras.notes)
    }
}

function Invoke-GetVmOp {
    param($Arguments)

    $id = Get-VmIdArgument $Arguments
    Assert-HyperVModule
    $vm = Get-VmById $id
    $extras = Get-VmExtras @($vm)

    return [ordered]@{
        host = Get-HostRecord
        vm = ConvertTo-VmRecord $vm $extras
        notes = @($extras.notes)
    }
}

function Get-ConflictFields {
    # Which of the state and six settings differ from what the client last saw.
    param($Expected, $Current)

    # Returned one name at a time; the caller collects them with @().
    foreach ($field in @('state') + @($script:HvmemSettingParameters.Keys)) {
        $property = $Expected.PSObject.Properties[$field]
        if ($null -eq $property) {
            throw (New-Failure 'bad_request' ('expected lacks ' + $field) $null)
        }
        if ($field -eq 'state') {
            if ($property.Value -isnot [string] -or $property.Value -cne $Current.state) {
                $field
            }
            continue
        }
        $value = ConvertTo-SettingValue $field $property.Value
        if ($value -ne $Current[$field]) { $field }
    }
}

function Get-SetMemorySplat {
    # Only the settings that change, typed from JSON data, keyed by parameter name.
    param($Changes)

    $splat = @{}
    foreach ($property in @($Changes.PSObject.Properties)) {
        $parameter = $script:HvmemSettingParameters[$property.Name]
        if ($null -eq $parameter) {
            throw (New-Failure 'bad_request' ('unknown setting ' + $property.Name) $null)
        }
        $splat[$parameter] = ConvertTo-SettingValue $property.Name $property.Value
    }
    if ($splat.Count -eq 0) {
        throw (New-Failure 'bad_request' 'changes is empty' $null)
    }
    return $splat
}

function Complete-HyperVCall {
    # The answer after one Hyper-V call: the VM as it is now or, when the call reported
    # errors (a change may still have landed in part), a 'host' failure that carries
    # every error record and that same VM.
    param($Failures, $After)

    if ($Failures.Count -eq 0) { return [ordered]@{ vm = $After } }

    $records = New-Object -TypeName 'System.Collections.Generic.List[object]'
    foreach ($item in $Failures) { $records.Add((ConvertTo-WireRecord $item)) }
    $first = $records[0]
    $extra = [ordered]@{
        error_id = $first.error_id
        category = $first.category
        hresult = $first.hresult
        records = $records.ToArray()
        vm = $After
    }
    throw (New-Failure 'host' $first.message $extra)
}

function Invoke-SetMemoryOp {
    param($Arguments)

    $id = Get-VmIdArgument $Arguments
    $changes = Get-JsonField $Arguments 'changes'
    $expected = Get-JsonField $Arguments 'expected'
    if (-not (Test-JsonObject $changes) -or -not (Test-JsonObject $expected)) {
        throw (New-Failure 'bad_request' 'changes and expected must be objects' $null)
    }
    $splat = Get-SetMemorySplat $changes
    Assert-HyperVModule

    # Refuse if another admin changed the VM since the client read it; nothing is touched.
    $vm = Get-VmById $id
    $current = Get-VmRecord $vm
    $differ = @(Get-ConflictFields $expected $current)
    if ($differ.Count -gt 0) {
        $text = "The VM '" + $current.name + "' changed since it was read (" +
            ($differ -join ', ') + '); nothing was changed.'
        $extra = [ordered]@{ current = $current; moved = $differ }
        throw (New-Failure 'conflict' $text $extra)
    }

    # One call, so Hyper-V validates the final combination, not each step (reference 1.1).
    $setErrors = $null
    $failures = New-Object -TypeName 'System.Collections.Generic.List[object]'
    try {
        Hyper-V\Set-VMMemory -VM $vm @splat -ErrorAction Continue -ErrorVariable setErrors
    } catch {
        $failures.Add($_)
    }
    # foreach, not @(): @($null) would be one empty "error" when binding failed early.
    foreach ($item in $setErrors) {
        if ($null -ne $item) { Add-DistinctError $failures $item }
    }

    # What the VM has now is the truth either way; a partial change shows there.
    $after = Get-VmRecord (Get-VmById $id)
    return (Complete-HyperVCall $failures $after)
}

function Invoke-PowerCmdlet {
    # The one Hyper-V cmdlet call behind a power op. Its errors land in $Failures; no
    # call may prompt, since stdin carries the requests: Stop-VM takes -Force (it asks
    # otherwise when the guest is locked or has unsaved work), every call -Confirm:$false.
    param([string]$Op, $Vm, $Failures)

    $powerErrors = $null
    try {
        switch -CaseSensitive ($Op) {
            'start_vm' {
                $null = Hyper-V\Start-VM -VM $Vm -Confirm:$false -ErrorAction Continue `
                    -ErrorVariable powerErrors
            }
            'stop_vm' {
                $null = Hyper-V\Stop-VM -VM $Vm -Force -Confirm:$false `
                    -ErrorAction Continue -ErrorVariable powerErrors
            }
            'turn_off_vm' {
                $null = Hyper-V\Stop-VM -VM $Vm -TurnOff -Force -Confirm:$false `
                    -ErrorAction Continue -ErrorVariable powerErrors
            }
            'save_vm' {
                $null = Hyper-V\Save-VM -VM $Vm -Confirm:$false -ErrorAction Continue `
                    -ErrorVariable powerErrors
            }
        }
    } catch {
        $Failures.Add($_)
    }
    foreach ($item in $powerErrors) {
        if ($null -ne $item) { Add-DistinctError $Failures $item }
    }
}

function Invoke-PowerOp {
    # start_vm, stop_vm, turn_off_vm, save_vm: {vm_id, expected_state} -> {vm}.
    param([string]$Op, $Arguments)

    $id = Get-VmIdArgument $Arguments
    $expectedState = Get-JsonField $Arguments 'expected_state'
    if ($expectedState -isnot [string] -or $expectedState.Length -eq 0) {
        throw (New-Failure 'bad_request' 'expected_state must be a state name' $null)
    }
    Assert-HyperVModule

    # Refuse if the VM moved since the client read it (another admin, a crash).
    $vm = Get-VmById $id
    $state = $vm.State.ToString()
    if ($state -cne $expectedState) {
        $current = Get-VmRecord $vm
        $text = "The VM '" + $current.name + "' changed since it was read (state " +
            $expectedState + ' -> ' + $state + '); nothing was done.'
        $extra = [ordered]@{ current = $current; moved = @('state') }
        throw (New-Failure 'conflict' $text $extra)
    }

    $failures = New-Object -TypeName 'System.Collections.Generic.List[object]'
    $null = Invoke-PowerCmdlet $Op $vm $failures

    $after = Get-VmRecord (Get-VmById $id)
    return (Complete-HyperVCall $failures $after)
}

function Invoke-Operation {
    param([string]$Op, $Arguments)

    switch -CaseSensitive ($Op) {
        'hello' { return (Invoke-HelloOp) }
        'list' { return (Invoke-ListOp) }
        'get_vm' { return (Invoke-GetVmOp $Arguments) }
        'set_memory' { return (Invoke-SetMemoryOp $Arguments) }
        'start_vm' { return (Invoke-PowerOp $Op $Arguments) }
        'stop_vm' { return (Invoke-PowerOp $Op $Arguments) }
        'turn_off_vm' { return (Invoke-PowerOp $Op $Arguments) }
        'save_vm' { return (Invoke-PowerOp $Op $Arguments) }
    }
    $text = 'Unknown operation "' + $Op + '"; this agent knows hello, list, get_vm, ' +
        'set_memory, start_vm, stop_vm, turn_off_vm and save_vm.'
    throw (New-Failure 'bad_request' $text $null)
}


# ---------------------------------------------------------------------------------------
# The loop
# ---------------------------------------------------------------------------------------

function Get-RequestId {
    # Echo the id only if it is a plain number or string; anything else cannot be matched.
    param($Request)

    $id = Get-JsonField $Request 'id'
    if ($id -is [int] -or $id -is [long] -or $id -is [decimal] -or $id -is [double] -or
        $id -is [string]) {
        return $id
    }
    return $null
}

function Invoke-Request {
    # One request line -> one answer; no request can escape this function with an error.
    param([string]$Line)

    $id = $null
    try {
        try {
            $request = ConvertFrom-Json -InputObject $Line
        } catch {
            $text = 'Not a JSON request: ' + $_.Exception.Message
            throw (New-Failure 'bad_request' $text $null)
        }
        $id = Get-RequestId $request
        $op = Get-JsonField $request 'op'
        if ($op -isnot [string]) {
            throw (New-Failure 'bad_request' 'The request has no op' $null)
        }

        $result = Invoke-Operation $op (Get-JsonField $request 'args')
        return [ordered]@{ id = $id; ok = $true; result = $result }
    } catch {
        return (New-ErrorAnswer $id (ConvertTo-Failure $_))
    }
}

function Start-Agent {
    while ($true) {
        $line = [Console]::In.ReadLine()
        if ($null -eq $line) { break }
        if ($line.Trim().Length -eq 0) { continue }

        try {
            Write-Answer (Invoke-Request $line)
        } catch {
            # Last resort, so the client is never left waiting for this request.
            $text = 'The agent failed to answer: ' + $_.Exception.Message
            Write-Answer (New-ErrorAnswer $null (New-Failure 'agent' $text $null))
        }
    }
}

Start-Agent
