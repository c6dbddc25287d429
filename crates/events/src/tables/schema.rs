//! The normalized tables: Microsoft Defender Advanced Hunting's table and column names, so that
//! KQL written for Defender runs unchanged. `docs/schema.md` documents every mapping.

/// Column types, as the query engine will type them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Timestamp,
    String,
    Long,
}

#[derive(Debug, PartialEq, Eq)]
pub struct TableSchema {
    pub name: &'static str,
    pub columns: &'static [(&'static str, ColumnType)],
}

use ColumnType::{Long as L, String as S, Timestamp as T};

macro_rules! table {
    ($id:ident, $name:literal, [$($col:literal: $ty:ident),* $(,)?]) => {
        pub const $id: TableSchema = TableSchema { name: $name, columns: &[$(($col, $ty)),*] };
    };
}

table!(DEVICE_PROCESS_EVENTS, "DeviceProcessEvents", [
    "Timestamp": T, "DeviceName": S, "ActionType": S, "FileName": S, "FolderPath": S,
    "SHA1": S, "SHA256": S, "MD5": S, "ProcessId": L, "ProcessCommandLine": S,
    "ProcessIntegrityLevel": S, "ProcessCurrentDirectory": S, "ProcessUniqueId": S,
    "ProcessVersionInfoOriginalFileName": S, "ProcessVersionInfoCompanyName": S,
    "ProcessVersionInfoProductName": S, "ProcessVersionInfoFileDescription": S,
    "AccountDomain": S, "AccountName": S, "AccountSid": S, "LogonId": L,
    "InitiatingProcessFileName": S, "InitiatingProcessFolderPath": S,
    "InitiatingProcessCommandLine": S, "InitiatingProcessId": L, "InitiatingProcessUniqueId": S,
    "InitiatingProcessParentFileName": S, "InitiatingProcessAccountDomain": S,
    "InitiatingProcessAccountName": S, "InitiatingProcessAccountSid": S, "InitiatingProcessLogonId": L,
    "ReportId": S, "SourceEventId": L,
]);

table!(DEVICE_NETWORK_EVENTS, "DeviceNetworkEvents", [
    "Timestamp": T, "DeviceName": S, "ActionType": S, "RemoteIP": S, "RemotePort": L,
    "RemoteUrl": S, "LocalIP": S, "LocalPort": L, "Protocol": S,
    "InitiatingProcessFileName": S, "InitiatingProcessFolderPath": S, "InitiatingProcessId": L,
    "InitiatingProcessUniqueId": S, "InitiatingProcessAccountDomain": S,
    "InitiatingProcessAccountName": S, "ReportId": S, "SourceEventId": L,
]);

table!(DEVICE_FILE_EVENTS, "DeviceFileEvents", [
    "Timestamp": T, "DeviceName": S, "ActionType": S, "FileName": S, "FolderPath": S,
    "SHA1": S, "SHA256": S, "MD5": S, "InitiatingProcessFileName": S,
    "InitiatingProcessFolderPath": S, "InitiatingProcessId": L, "InitiatingProcessUniqueId": S,
    "InitiatingProcessAccountDomain": S, "InitiatingProcessAccountName": S,
    "ReportId": S, "SourceEventId": L,
]);

table!(DEVICE_REGISTRY_EVENTS, "DeviceRegistryEvents", [
    "Timestamp": T, "DeviceName": S, "ActionType": S, "RegistryKey": S, "RegistryValueName": S,
    "RegistryValueData": S, "PreviousRegistryKey": S, "InitiatingProcessFileName": S,
    "InitiatingProcessFolderPath": S, "InitiatingProcessId": L, "InitiatingProcessUniqueId": S,
    "InitiatingProcessAccountDomain": S, "InitiatingProcessAccountName": S,
    "ReportId": S, "SourceEventId": L,
]);

table!(DEVICE_IMAGE_LOAD_EVENTS, "DeviceImageLoadEvents", [
    "Timestamp": T, "DeviceName": S, "ActionType": S, "FileName": S, "FolderPath": S,
    "SHA1": S, "SHA256": S, "MD5": S, "InitiatingProcessFileName": S,
    "InitiatingProcessFolderPath": S, "InitiatingProcessId": L, "InitiatingProcessUniqueId": S,
    "InitiatingProcessAccountDomain": S, "InitiatingProcessAccountName": S,
    "ReportId": S, "SourceEventId": L,
]);

table!(DEVICE_LOGON_EVENTS, "DeviceLogonEvents", [
    "Timestamp": T, "DeviceName": S, "ActionType": S, "LogonType": S, "AccountDomain": S,
    "AccountName": S, "AccountSid": S, "LogonId": L, "Protocol": S, "FailureReason": S,
    "RemoteDeviceName": S, "RemoteIP": S, "RemotePort": L, "InitiatingProcessFileName": S,
    "InitiatingProcessFolderPath": S, "InitiatingProcessId": L, "ReportId": S, "SourceEventId": L,
]);

table!(DEVICE_EVENTS, "DeviceEvents", [
    "Timestamp": T, "DeviceName": S, "ActionType": S, "FileName": S, "FolderPath": S,
    "ProcessId": L, "ProcessCommandLine": S, "AccountDomain": S, "AccountName": S,
    "AccountSid": S, "LogonId": L, "RemoteUrl": S, "InitiatingProcessFileName": S,
    "InitiatingProcessFolderPath": S, "InitiatingProcessId": L, "InitiatingProcessUniqueId": S,
    "InitiatingProcessAccountDomain": S, "InitiatingProcessAccountName": S,
    "AdditionalFields": S, "ReportId": S, "SourceEventId": L,
]);

/// Every normalized table, in documentation order.
pub const TABLES: &[&TableSchema] = &[
    &DEVICE_PROCESS_EVENTS,
    &DEVICE_NETWORK_EVENTS,
    &DEVICE_FILE_EVENTS,
    &DEVICE_REGISTRY_EVENTS,
    &DEVICE_IMAGE_LOAD_EVENTS,
    &DEVICE_LOGON_EVENTS,
    &DEVICE_EVENTS,
];

/// Raw tables keep each source's original field names (for SPL); their columns are the header
/// columns below followed by whatever fields the events carry.
pub const RAW_TABLES: &[&str] = &["sysmon", "security", "taskscheduler", "powershell", "system", "other"];
pub const RAW_HEADER: &[&str] = &["Timestamp", "Computer", "Channel", "Provider", "EventID", "EventRecordID", "SourceFile"];

pub fn table(name: &str) -> Option<&'static TableSchema> {
    TABLES.iter().copied().find(|t| t.name.eq_ignore_ascii_case(name))
}

impl TableSchema {
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|(c, _)| *c == name)
    }
}
