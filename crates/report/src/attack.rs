//! Names of the ATT&CK techniques taskhunt reports.

pub fn name(id: &str) -> &'static str {
    match id {
        "T1053" => "Scheduled Task/Job",
        "T1053.005" => "Scheduled Task/Job: Scheduled Task",
        "T1059.001" => "Command and Scripting Interpreter: PowerShell",
        "T1059.003" => "Command and Scripting Interpreter: Windows Command Shell",
        "T1218.005" => "System Binary Proxy Execution: Mshta",
        "T1218.010" => "System Binary Proxy Execution: Regsvr32",
        "T1218.011" => "System Binary Proxy Execution: Rundll32",
        "T1027" => "Obfuscated Files or Information",
        "T1071" => "Application Layer Protocol",
        "T1071.004" => "Application Layer Protocol: DNS",
        "T1568" => "Dynamic Resolution",
        "T1564" => "Hide Artifacts",
        "T1021.002" => "Remote Services: SMB/Windows Admin Shares",
        "T1070" => "Indicator Removal",
        "T1112" => "Modify Registry",
        "T1543.003" => "Create or Modify System Process: Windows Service",
        _ => "",
    }
}
